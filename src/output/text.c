/* Text writer: a readable table, a row per authentication (with its uses) and per KDC exchange. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dcerpc_names.h"
#include "format.h"
#include "writer.h"

#define TEXT_HOLD_MAX (32u << 20) /* bytes of table held back for the findings to go first */

/* Where table rows go now: the held-back buffer, or the output once it is past its cap (or unavailable). */
static FILE *rows(struct hs_writer *w)
{
    if (w->hold_off)
        return w->f;
    if (!w->hold && !(w->hold = open_memstream(&w->hold_buf, &w->hold_len))) {
        w->hold_off = true;
        return w->f;
    }
    if (w->hold_len > TEXT_HOLD_MAX) {
        fflush(w->hold);
        if (fwrite(w->hold_buf, 1, w->hold_len, w->f) != w->hold_len)
            w->failed = true;
        fclose(w->hold);
        w->hold = NULL;
        free(w->hold_buf);
        w->hold_buf = NULL;
        w->hold_len = 0;
        w->hold_off = true;
        return w->f;
    }
    return w->hold;
}

/* The held-back table, after the findings. */
static void release_rows(struct hs_writer *w)
{
    if (!w->hold)
        return;
    fflush(w->hold);
    if (w->hold_len && fwrite(w->hold_buf, 1, w->hold_len, w->f) != w->hold_len)
        w->failed = true;
    fclose(w->hold);
    w->hold = NULL;
    free(w->hold_buf);
    w->hold_buf = NULL;
    w->hold_len = 0;
    w->hold_off = true;
}

/* Prints s wrapped at 80 columns, each line indented by ind spaces. */
static void wrapped(FILE *f, const char *s, int ind)
{
    const int width = 80 - ind;
    while (*s) {
        int n = (int)strlen(s);
        if (n > width) {
            n = width;
            while (n > 0 && s[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        fprintf(f, "%*s%.*s\n", ind, "", n, s);
        s += n;
        while (*s == ' ')
            s++;
    }
}

static void text_finding(struct hs_writer *w, const struct hs_finding *f)
{
    FILE *o = w->f;
    if (!w->findings_done) {
        fprintf(o, "FINDINGS\n\n");
        w->findings_done = true;
    }
    fprintf(o, "[%s] %s  (%s, %s)\n", f->severity, f->title, f->id, f->confidence);
    if (f->client[0]) {
        fprintf(o, "    hosts: %s", f->client);
        if (f->first_hop[0])
            fprintf(o, " -> %s", f->first_hop);
        if (f->second_hop[0])
            fprintf(o, " -> %s", f->second_hop);
        fputc('\n', o);
    }
    fprintf(o, "    evidence: frames");
    for (uint32_t i = 0; i < f->nframes; i++)
        fprintf(o, " %llu", (unsigned long long)f->frames[i]);
    fprintf(o, "; records");
    for (uint32_t i = 0; i < f->nrecords; i++)
        fprintf(o, " %llu", (unsigned long long)f->records[i]);
    fprintf(o, "\n    why:\n");
    wrapped(o, f->explanation, 6);
    fprintf(o, "    fix:\n");
    wrapped(o, f->remediation, 6);
    fputc('\n', o);
    if (ferror(o))
        w->failed = true;
}

static void text_auth(struct hs_writer *w, const struct auth_rec *r)
{
    FILE *o = rows(w);
    if (!w->header_done) {
        fprintf(o, "%-27s %-46s %-11s %-18s %-10s %-30s %s\n", "TIME", "CLIENT -> SERVER", "TRANSPORT",
                "MECHANISM", "NTLM", "USER", "RESULT");
        w->header_done = true;
    }
    const struct hs_flow *fl = &r->h.flow;
    char ts[32], ci[INET6_ADDRSTRLEN], si[INET6_ADDRSTRLEN], ends[128], tr[24], user[2 * NTLM_NAME_MAX + 2], res[96];
    format_ts(&r->h.ts, ts);
    format_ip(fl->af, fl->cli.ip, ci);
    format_ip(fl->af, fl->srv.ip, si);
    snprintf(ends, sizeof ends, "%s:%u -> %s:%u", ci, fl->cli.port, si, fl->srv.port);
    snprintf(tr, sizeof tr, "%s/%s", auth_transport_name(r->transport), auth_service_name(r));
    auth_who(r, user, sizeof user);
    const struct ntlm_msg *a = r->gss.ntlm.auth;
    bool have = r->status.space != STATUS_NONE;
    const char *sn = NULL;
    char hex[16];
    if (have) {
        sn = r->status.space == STATUS_HTTP ? NULL : hs_status_name(r->status);
        snprintf(hex, sizeof hex, r->status.space == STATUS_HTTP ? "%" PRIu32 : "0x%08" PRIx32, r->status.code);
    }
    snprintf(res, sizeof res, "%s%s%s", auth_result_name(r->result), have ? " " : "", have ? (sn ? sn : hex) : "");
    fprintf(o, "%-27s %-46s %-11s %-18s %-10s %-30s %s\n", ts, ends, tr, auth_mech_name(r->gss.mech),
            a ? ntlm_version_name(a->ntlm_version) : "-", user[0] || a || r->gss.mech == AMECH_BASIC ? user : "-", res);
    for (uint32_t i = 0; i < r->nuses; i++) {
        const struct auth_use *u = &r->uses[i];
        if (r->transport == TRANSPORT_SMB2 || r->transport == TRANSPORT_SMB1) {
            const char *n = hs_status_name(u->status);
            fprintf(o, "%27s   tree connect %s -> %s\n", "", u->name, n ? n : "?");
        } else if (r->transport == TRANSPORT_DCERPC) {
            const char *n = hs_status_name(u->status);
            char uhex[16];
            snprintf(uhex, sizeof uhex, "0x%08" PRIx32, u->status.code);
            fprintf(o, "%27s   call %s%s%s%s%s%s%s%s -> %s\n", "", u->iface ? u->iface : "", u->iface ? "." : "", u->name,
                    u->detail_kind ? " [" : "", u->detail_kind ? u->detail_kind : "", u->detail_kind ? " " : "",
                    u->detail_kind ? u->detail : "", u->detail_kind ? "]" : "",
                    !u->answered                      ? "?"
                    : u->status.space == STATUS_NONE ? "response"
                    : n                              ? n
                    : u->status.space == STATUS_NCA  ? "fault"
                                                     : uhex);
        } else {
            fprintf(o, "%27s   %s %s -> %" PRIu32 "\n", "", u->method, u->name, u->status.code);
        }
    }
}

static void text_kdc(struct hs_writer *w, const struct kdc_rec *r)
{
    FILE *o = rows(w);
    char ts[32], ci[INET6_ADDRSTRLEN], si[INET6_ADDRSTRLEN];
    char client[2 * KRB_NAME_MAX + 2], sname[2 * KRB_NAME_MAX + 2];
    format_ts(&r->h.ts, ts);
    format_ip(r->h.flow.af, r->h.flow.cli.ip, ci);
    format_ip(r->h.flow.af, r->h.flow.srv.ip, si);
    const char *cfrom = kdc_rec_client(r, client, sizeof client);
    kdc_principal_join(sname, sizeof sname, r->sname, r->realm);
    const char *outcome = r->rep_type == KRB_ERROR ? "failure" : r->rep_type ? "success" : "unknown";
    if (r->rep_type == KRB_ERROR) {
        const char *en = krb_error_name(r->error_code);
        outcome = en ? en : "";
    }
    fprintf(o, "%-27s %s -> %s kerberos %-9s %s -> %s: %s\n", ts, ci, si, kdc_kind_name(r->kind),
            cfrom ? client : "?", sname[0] ? sname : "?", outcome);
}

/* A DCOM activation: who asked whom for which class, what came back, and where it led. */
static void text_dcom(struct hs_writer *w, const struct dcom_rec *d)
{
    FILE *o = rows(w);
    char ts[32], ci[INET6_ADDRSTRLEN], si[INET6_ADDRSTRLEN], cls[40];
    format_ts(&d->h.ts, ts);
    format_ip(d->h.flow.af, d->h.flow.cli.ip, ci);
    format_ip(d->h.flow.af, d->h.flow.srv.ip, si);
    cls[0] = '\0';
    if (d->have_clsid && !d->class_name)
        dcerpc_uuid_str(d->clsid, 1, cls);
    const char *sn = d->status.space != STATUS_NONE ? hs_status_name(d->status) : NULL;
    fprintf(o, "%-27s %s -> %s dcom %s %s%s -> %s%s\n", ts, ci, si, d->op ? d->op : "?",
            d->class_name ? d->class_name : cls, d->sealed_req || d->sealed_resp ? " (sealed)" : "",
            d->fault ? "fault " : "", sn ? sn : d->status.space != STATUS_NONE ? "?" : "unknown");
    for (uint8_t i = 0; i < d->n_bindings && i < DCOM_BINDINGS_MAX; i++) {
        const char *t = dcom_tower_name(d->bindings[i].tower_id);
        fprintf(o, "%27s   binding %s:%s\n", "", t ? t : "?", d->bindings[i].addr);
    }
    if (d->linked) {
        char li[INET6_ADDRSTRLEN];
        format_ip(d->conn.af, d->conn.srv.ip, li);
        fprintf(o, "%27s   led to %s:%u (%u auth record%s)\n", "", li, d->conn.srv.port, d->n_conn_records,
                d->n_conn_records == 1 ? "" : "s");
    }
}

static void text_record(struct hs_writer *w, const struct rec_hdr *r)
{
    if (r->type == REC_DCOM)
        text_dcom(w, (const struct dcom_rec *)r);
    else if (r->type == REC_AUTH)
        text_auth(w, (const struct auth_rec *)r);
    else
        text_kdc(w, (const struct kdc_rec *)r);
    if (ferror(w->f) || (w->hold && ferror(w->hold)))
        w->failed = true;
}

static void text_stats(struct hs_writer *w, const struct hs_stats_view *v)
{
    if (w->findings_done)
        fprintf(w->f, "SESSIONS\n\n");
    release_rows(w);
    char *s = stats_json_line(v);
    if (s)
        fprintf(w->f, "# stats %s\n", s);
    free(s);
    if (ferror(w->f))
        w->failed = true;
}

const struct hs_writer_ops text_writer_ops = {
    .record = text_record,
    .finding = text_finding,
    .stats = text_stats,
};
