/* Text writer: a report a person reads top-down. Findings first (what went wrong, who, the chain of hosts,
 * evidence, the fix), then the sessions in time order, one layout for every record kind, then a short
 * summary of the run. Findings stay within 80 columns, session rows within 100, except where a single
 * name is longer. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "dcerpc_names.h"
#include "format.h"
#include "writer.h"

#define TEXT_WIDTH 80              /* findings and the summary */
#define ROW_WIDTH 100              /* session rows: one line for most, at most 100 columns as tcpdump's */
#define TEXT_HOLD_MAX (32u << 20) /* bytes of session rows held back to sort them and print findings first */
#define COL_DETAIL 16             /* where a row's second line starts */

static int by_time(const void *a, const void *b)
{
    const struct text_row *x = a, *y = b;
    if (x->ts.tv_sec != y->ts.tv_sec)
        return x->ts.tv_sec < y->ts.tv_sec ? -1 : 1;
    if (x->ts.tv_usec != y->ts.tv_usec)
        return x->ts.tv_usec < y->ts.tv_usec ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "2026-11-21" of tv into out[11]. */
static void day_of(const struct timeval *tv, char out[11])
{
    char ts[32];
    format_ts(tv, ts);
    memcpy(out, ts, 10);
    out[10] = '\0';
}

static void put_row(struct hs_writer *w, const struct text_row *r)
{
    char day[11];
    day_of(&r->ts, day);
    if (strcmp(day, w->text_day) != 0) {
        fprintf(w->f, "%s-- %s (UTC) --\n", w->text_day[0] ? "\n" : "", day);
        memcpy(w->text_day, day, sizeof day);
    }
    if (fwrite(r->s, 1, r->len, w->f) != r->len)
        w->failed = true;
}

/* Prints the held rows in time order and forgets them. */
static void release_rows(struct hs_writer *w)
{
    if (w->nrows)
        qsort(w->rows, w->nrows, sizeof *w->rows, by_time);
    for (size_t i = 0; i < w->nrows; i++) {
        put_row(w, &w->rows[i]);
        free(w->rows[i].s);
    }
    free(w->rows);
    w->rows = NULL;
    w->nrows = w->cap_rows = 0;
    w->hold_len = 0;
}

/* Takes a row (its text malloc'd): held for sorting, or printed at once when the hold is over its cap or
 * memory is short (then the order is that of completion, from there on). */
static void add_row(struct hs_writer *w, const struct timeval *ts, char *s, size_t len)
{
    struct text_row r = {*ts, w->row_seq++, s, len};
    if (!w->hold_off && w->hold_len + len > TEXT_HOLD_MAX) {
        release_rows(w);
        w->hold_off = true;
    }
    if (!w->hold_off && w->nrows == w->cap_rows) {
        size_t nc = w->cap_rows ? 2 * w->cap_rows : 256;
        struct text_row *nr = realloc(w->rows, nc * sizeof *nr);
        if (!nr) {
            release_rows(w);
            w->hold_off = true;
        } else {
            w->rows = nr;
            w->cap_rows = nc;
        }
    }
    if (w->hold_off) {
        put_row(w, &r);
        free(s);
        return;
    }
    w->rows[w->nrows++] = r;
    w->hold_len += len;
}

/* A row being written: its lines go to a memory stream, then to add_row(). */
struct row_buf {
    FILE *f;
    char *buf;
    size_t len;
};

static FILE *row_open(struct hs_writer *w, struct row_buf *rb)
{
    rb->buf = NULL;
    rb->len = 0;
    rb->f = open_memstream(&rb->buf, &rb->len);
    if (!rb->f)
        w->failed = true;
    return rb->f;
}

static void row_close(struct hs_writer *w, struct row_buf *rb, const struct timeval *ts)
{
    if (fclose(rb->f) != 0) {
        free(rb->buf);
        w->failed = true;
        return;
    }
    add_row(w, ts, rb->buf, rb->len);
}

/* Prints s wrapped at cols columns, the first line after `first` (already ind columns wide), the others
 * indented by ind spaces. */
static void wrapped_at(FILE *f, int cols, const char *first, const char *s, int ind)
{
    const int width = cols - ind;
    fputs(first, f);
    bool lead = true;
    while (*s) {
        int n = (int)strlen(s);
        if (n > width) {
            n = width;
            while (n > 0 && s[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        fprintf(f, "%*s%.*s\n", lead ? 0 : ind, "", n, s);
        lead = false;
        s += n;
        while (*s == ' ')
            s++;
    }
    if (lead)
        fputc('\n', f);
}

static void wrapped(FILE *f, const char *first, const char *s, int ind)
{
    wrapped_at(f, TEXT_WIDTH, first, s, ind);
}

/* "name (address)", or the address. */
static void host(char *out, size_t cap, const char *addr, const char *name)
{
    if (name[0] && strcmp(name, addr) != 0)
        snprintf(out, cap, "%s (%s)", name, addr);
    else
        snprintf(out, cap, "%s", addr);
}

static void text_finding(struct hs_writer *w, const struct hs_finding *f)
{
    FILE *o = w->f;
    if (!w->findings_done && !w->stream) { /* streaming: findings come among the rows, each as decided */
        fprintf(o, "FINDINGS\n\n");
        w->findings_done = true;
    }
    char head[64], buf[1200];
    snprintf(head, sizeof head, "[%s] ", f->severity);
    wrapped(o, head, f->title, (int)strlen(head));
    fprintf(o, "    %s, %s\n", f->id, f->confidence);
    if (f->user[0])
        fprintf(o, "    user:     %s\n", f->user);
    if (f->client[0]) {
        char c[128], a[128], b[128];
        host(c, sizeof c, f->client, f->client_name);
        host(a, sizeof a, f->first_hop, f->first_hop_name);
        host(b, sizeof b, f->second_hop, f->second_hop_name);
        if (f->second_hop[0])
            snprintf(buf, sizeof buf, "%s -> %s -> %s", c, a, b);
        else if (f->first_hop[0])
            snprintf(buf, sizeof buf, "%s -> %s", c, a);
        else
            snprintf(buf, sizeof buf, "%s", c);
        wrapped(o, "    hosts:    ", buf, 14);
    }
    size_t n = 0;
    buf[0] = '\0';
    const struct finding_sensors *sn = f->sensors; /* hopscope --records: "sensor:frame", "sensor:id" */
    uint32_t nfr = sn ? sn->nframes : f->nframes, nrec = sn ? sn->nrecords : f->nrecords;
    for (uint32_t i = 0; i < nfr && n < sizeof buf - 96; i++)
        n += sn ? (size_t)snprintf(buf + n, sizeof buf - n, "%s%.64s:%llu", i ? " " : "", sn->frames[i].sensor,
                                   (unsigned long long)sn->frames[i].n)
                : (size_t)snprintf(buf + n, sizeof buf - n, "%s%llu", i ? " " : "", (unsigned long long)f->frames[i]);
    wrapped(o, "    frames:   ", buf, 14);
    n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < nrec && n < sizeof buf - 96; i++)
        n += sn ? (size_t)snprintf(buf + n, sizeof buf - n, "%s%.64s:%llu", i ? " " : "", sn->records[i].sensor,
                                   (unsigned long long)sn->records[i].n)
                : (size_t)snprintf(buf + n, sizeof buf - n, "%s%llu", i ? " " : "", (unsigned long long)f->records[i]);
    wrapped(o, "    records:  ", buf, 14);
    fprintf(o, "    why:\n");
    wrapped(o, "      ", f->explanation, 6);
    fprintf(o, "    fix:\n");
    wrapped(o, "      ", f->remediation, 6);
    fputc('\n', o);
    if (ferror(o))
        w->failed = true;
}

/* The status as people write it: a name, else the number (decimal for HTTP and LDAP, hex otherwise). */
static void status_str(struct hs_status s, char *out, size_t cap)
{
    if (s.space == STATUS_NONE) {
        out[0] = '\0';
        return;
    }
    const char *n = s.space == STATUS_HTTP ? NULL : hs_status_name(s);
    if (n && n[0])
        snprintf(out, cap, "%s", n);
    else if (s.space == STATUS_HTTP || s.space == STATUS_LDAP)
        snprintf(out, cap, "%" PRIu32, s.code);
    else
        snprintf(out, cap, "0x%08" PRIx32, s.code);
}

/* A row's second line: at COL_DETAIL, wrapped at ROW_WIDTH with continuation lines further in. */
static void detail(FILE *o, const char *s)
{
    char ind[COL_DETAIL + 1];
    memset(ind, ' ', COL_DETAIL);
    ind[COL_DETAIL] = '\0';
    wrapped_at(o, ROW_WIDTH, ind, s, COL_DETAIL + 4);
}

/* "22:52:06.767" of tv into out[16]. */
static void clock_of(const struct timeval *tv, char out[16])
{
    char ts[32];
    format_ts(tv, ts);
    snprintf(out, 16, "%.12s", ts + 11);
}

/* The first line of a row: time, client -> server:port, what. */
static void row_head(FILE *o, const struct rec_hdr *h, const char *what)
{
    char t[16], ci[INET6_ADDRSTRLEN], si[INET6_ADDRSTRLEN];
    clock_of(&h->ts, t);
    format_ip(h->flow.af, h->flow.cli.ip, ci);
    format_ip(h->flow.af, h->flow.srv.ip, si);
    fprintf(o, "%s  %s -> %s%s%s:%u  %s\n", t, ci, h->flow.af == 6 ? "[" : "", si, h->flow.af == 6 ? "]" : "",
            h->flow.srv.port, what);
}

/* Who authenticated, as people write it: DOMAIN\user, user@REALM, (anonymous), or "-" when nobody is named. */
static void who(const struct auth_rec *r, char *out, size_t cap)
{
    const struct ntlm_msg *a = r->gss.ntlm.auth;
    if (a && (a->ntlm_version == NTLM_VER_ANONYMOUS || !a->user[0])) {
        snprintf(out, cap, "(anonymous)");
        return;
    }
    auth_who(r, out, cap);
    const struct kdc_decrypted *d = r->gss.krb.dec_ticket;
    if (!out[0] && d && d->t.decrypted && d->t.cname[0])
        snprintf(out, cap, "%s@%s", d->t.cname, d->t.crealm);
    if (!out[0])
        snprintf(out, cap, "-");
}

/* One use's line, indented under its record. */
static void use_line(FILE *o, const struct auth_rec *r, const struct auth_use *u)
{
    char us[96];
    status_str(u->status, us, sizeof us);
    if (r->transport == TRANSPORT_SMB2 || r->transport == TRANSPORT_SMB1)
        fprintf(o, "%*stree connect %s => %s\n", COL_DETAIL + 2, "", u->name, us[0] ? us : "?");
    else if (r->transport == TRANSPORT_DCERPC)
        fprintf(o, "%*scall %s%s%s%s%s%s%s%s => %s\n", COL_DETAIL + 2, "", u->iface ? u->iface : "",
                u->iface ? "." : "", u->name, u->detail_kind ? " [" : "", u->detail_kind ? u->detail_kind : "",
                u->detail_kind ? " " : "", u->detail_kind ? u->detail : "", u->detail_kind ? "]" : "",
                !u->answered ? "?" : u->status.space == STATUS_NONE ? "response" : us[0] ? us : "fault");
    else
        fprintf(o, "%*s%s %s => %" PRIu32 "\n", COL_DETAIL + 2, "", u->method, u->name, u->status.code);
}

/* Streaming: the uses a REC_USES / REC_END hand-over carries, under a line naming their record by id. */
static void text_uses(struct hs_writer *w, const struct auth_rec *r)
{
    bool any = false;
    for (uint32_t i = r->h.use_from; i < r->h.use_to && i < r->nuses; i++)
        any = any || rec_use_carried(&r->h, &r->uses[i]);
    if (!any)
        return;
    FILE *o = w->f;
    char t[16];
    clock_of(&r->h.at, t);
    fprintf(o, "%s  #%" PRIu64 " %s/%s, then:\n", t, r->h.id, auth_transport_name(r->transport),
            auth_service_name(r));
    for (uint32_t i = r->h.use_from; i < r->h.use_to && i < r->nuses; i++)
        if (rec_use_carried(&r->h, &r->uses[i]))
            use_line(o, r, &r->uses[i]);
}

static void text_auth(struct hs_writer *w, const struct auth_rec *r)
{
    if (r->h.phase == REC_USES || r->h.phase == REC_END) {
        text_uses(w, r);
        return;
    }
    struct row_buf rb;
    FILE *o = row_open(w, &rb);
    if (!o)
        return;
    char what[96], user[2 * NTLM_NAME_MAX + 2], st[96], mech[64];
    if (r->h.phase == REC_AT_VERDICT) /* its uses follow under its id */
        snprintf(what, sizeof what, "%s/%s #%" PRIu64, auth_transport_name(r->transport), auth_service_name(r),
                 r->h.id);
    else
        snprintf(what, sizeof what, "%s/%s", auth_transport_name(r->transport), auth_service_name(r));
    row_head(o, &r->h, what);
    who(r, user, sizeof user);
    const struct ntlm_msg *a = r->gss.ntlm.auth;
    snprintf(mech, sizeof mech, "%s%s%s%s", auth_mech_name(r->gss.mech), a ? " (" : "",
             a ? ntlm_version_name(a->ntlm_version) : "", a ? ")" : "");
    status_str(r->status, st, sizeof st);
    char line[1200];
    snprintf(line, sizeof line, "%s  %s  => %s%s%s", user, mech, auth_result_name(r->result), st[0] ? " " : "", st);
    detail(o, line);
    /* what keys showed about delegation (-k) */
    const struct kdc_decrypted_auth *da = r->gss.krb.dec_auth;
    if (da && da->a.decrypted) {
        bool deleg = da->a.has_gss_flags && (da->a.gss_flags & 0x1);
        fprintf(o, "%*sdelegation: %s\n", COL_DETAIL, "",
                da->a.has_deleg ? "forwarded TGT in the authenticator"
                : deleg         ? "GSS_C_DELEG_FLAG, no forwarded ticket"
                                : "none (no GSS_C_DELEG_FLAG, no forwarded TGT)");
    }
    if (r->transport == TRANSPORT_DCERPC && r->dcerpc.iface_name)
        fprintf(o, "%*sinterface %s, auth_level %s\n", COL_DETAIL, "", r->dcerpc.iface_name,
                dcerpc_auth_level_name(r->dcerpc.auth_level) ? dcerpc_auth_level_name(r->dcerpc.auth_level) : "?");
    for (uint32_t i = 0; r->h.phase == REC_WHOLE && i < r->nuses; i++)
        use_line(o, r, &r->uses[i]);
    row_close(w, &rb, &r->h.ts);
}

static void text_kdc(struct hs_writer *w, const struct kdc_rec *r)
{
    struct row_buf rb;
    FILE *o = row_open(w, &rb);
    if (!o)
        return;
    char what[48], client[2 * KRB_NAME_MAX + 2], sname[2 * KRB_NAME_MAX + 2], st[64];
    snprintf(what, sizeof what, "kerberos/%s", kdc_kind_name(r->kind));
    row_head(o, &r->h, what);
    const char *cfrom = kdc_rec_client(r, client, sizeof client);
    kdc_principal_join(sname, sizeof sname, r->sname, r->realm);
    const char *res = r->rep_type == KRB_ERROR ? "failure" : r->rep_type ? "success" : "unknown";
    st[0] = '\0';
    if (r->rep_type == KRB_ERROR) {
        const char *en = krb_error_name(r->error_code);
        if (en)
            snprintf(st, sizeof st, " %s", en);
        else
            snprintf(st, sizeof st, " %" PRId32, r->error_code);
    }
    char line[1200];
    snprintf(line, sizeof line, "%s for %s  => %s%s", cfrom ? client : "?", sname[0] ? sname : "?", res, st);
    detail(o, line);
    if (r->for_user[0]) {
        char u[2 * KRB_NAME_MAX + 2];
        kdc_principal_join(u, sizeof u, r->for_user, r->for_user_realm);
        fprintf(o, "%*son behalf of %s (S4U2Self)\n", COL_DETAIL, "", u);
    } else if (r->kind == KDC_KIND_S4U2PROXY && r->n_addl && r->addl[0].client[0]) {
        fprintf(o, "%*son behalf of %s (S4U2Proxy evidence ticket)\n", COL_DETAIL, "", r->addl[0].client);
    }
    row_close(w, &rb, &r->h.ts);
}

/* A DCOM activation: who asked whom for which class, what came back, and where it led. */
static void text_dcom(struct hs_writer *w, const struct dcom_rec *d)
{
    struct row_buf rb;
    FILE *o = row_open(w, &rb);
    if (!o)
        return;
    char what[64], cls[40], st[96], line[400];
    snprintf(what, sizeof what, "dcom/%s", d->op ? d->op : "?");
    row_head(o, &d->h, what);
    cls[0] = '\0';
    if (d->have_clsid && !d->class_name)
        dcerpc_uuid_str(d->clsid, 1, cls);
    status_str(d->status, st, sizeof st);
    snprintf(line, sizeof line, "class %s%s  => %s%s", d->class_name ? d->class_name : cls[0] ? cls : "?",
             d->sealed_req || d->sealed_resp ? " (sealed)" : "", d->fault ? "fault " : "", st[0] ? st : "unknown");
    detail(o, line);
    for (uint8_t i = 0; i < d->n_bindings && i < DCOM_BINDINGS_MAX; i++) {
        const char *t = dcom_tower_name(d->bindings[i].tower_id);
        fprintf(o, "%*sbinding %s:%s\n", COL_DETAIL + 2, "", t ? t : "?", d->bindings[i].addr);
    }
    if (d->linked) {
        char li[INET6_ADDRSTRLEN];
        format_ip(d->conn.af, d->conn.srv.ip, li);
        fprintf(o, "%*sled to %s:%u (%u auth record%s)\n", COL_DETAIL + 2, "", li, d->conn.srv.port,
                d->n_conn_records, d->n_conn_records == 1 ? "" : "s");
    }
    row_close(w, &rb, &d->h.ts);
}

static void text_record(struct hs_writer *w, const struct rec_hdr *r)
{
    if (r->type == REC_DCOM)
        text_dcom(w, (const struct dcom_rec *)r);
    else if (r->type == REC_AUTH)
        text_auth(w, (const struct auth_rec *)r);
    else
        text_kdc(w, (const struct kdc_rec *)r);
    if (ferror(w->f))
        w->failed = true;
}

/* The non-zero counters of the stats sub-object key ("malformed", "dropped", ...) as "name N, name N". */
static void nonzero(json_t *st, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    size_t n = 0;
    const char *k;
    json_t *x;
    json_object_foreach(json_object_get(st, key), k, x) {
        json_int_t v = json_integer_value(x);
        if (v > 0 && n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s%s %lld", n ? ", " : "", k, (long long)v);
    }
}

static long long stat_of(json_t *st, const char *key)
{
    return (long long)json_integer_value(json_object_get(st, key));
}

static void text_stats(struct hs_writer *w, const struct hs_stats_view *v)
{
    FILE *o = w->f;
    if (v->periodic) /* a report read at the end: only the closing figures (main refuses --stats-interval) */
        return;
    if (!w->stream && (w->nrows || w->hold_off))
        fprintf(o, "SESSIONS\n\n");
    release_rows(w);
    char *js = stats_json_line(v);
    json_t *st = js ? json_loads(js, 0, NULL) : NULL;
    free(js);
    char line[512], part[600];
    long long np = stat_of(st, "packets"), nf = stat_of(st, "flows"), na = stat_of(st, "auth_records"),
              nk = stat_of(st, "kerberos_records");
    snprintf(line, sizeof line, "%lld packet%s, %lld connection%s, %lld authentication%s, %lld Kerberos exchange%s", np,
             np == 1 ? "" : "s", nf, nf == 1 ? "" : "s", na, na == 1 ? "" : "s", nk, nk == 1 ? "" : "s");
    json_t *in = json_object_get(st, "records_input"); /* hopscope --records: records, not packets */
    if (in) {
        long long nl = stat_of(in, "lines"), ns = stat_of(in, "sensors"), nm = stat_of(in, "malformed");
        snprintf(line, sizeof line, "%lld records read (%lld auth, %lld kerberos, %lld dcom) from %lld line%s of %lld "
                 "sensor%s; %lld malformed line%s skipped", stat_of(in, "auth") + stat_of(in, "kerberos") +
                 stat_of(in, "dcom"), stat_of(in, "auth"), stat_of(in, "kerberos"), stat_of(in, "dcom"), nl,
                 nl == 1 ? "" : "s", ns, ns == 1 ? "" : "s", nm, nm == 1 ? "" : "s");
    }
    fprintf(o, "%sSUMMARY\n\n", w->text_day[0] ? "\n" : "");
    wrapped(o, "  ", line, 2);
    static const char *const groups[] = {"capture", "malformed", "dropped", "capped", "tcp", "decode"};
    static const char *const labels[] = {"capture:   ", "malformed: ", "dropped:   ", "capped:    ", "tcp:       ",
                                         "decode:    "};
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) {
        nonzero(st, groups[i], part, sizeof part);
        if (part[0]) {
            snprintf(line, sizeof line, "  %s", labels[i]);
            wrapped(o, line, part, 2 + (int)strlen(labels[i]));
        }
    }
    if (stat_of(st, "tickets_not_decrypted"))
        fprintf(o, "  %lld tickets not decrypted (no key of their enctype or kvno)\n", stat_of(st, "tickets_not_decrypted"));
    if (stat_of(st, "smb2_encrypted"))
        fprintf(o, "  %lld encrypted SMB2 messages skipped\n", stat_of(st, "smb2_encrypted"));
    fprintf(o, "  (-F json writes every counter)\n");
    json_decref(st);
    if (ferror(o))
        w->failed = true;
}

const struct hs_writer_ops text_writer_ops = {
    .record = text_record,
    .finding = text_finding,
    .stats = text_stats,
};
