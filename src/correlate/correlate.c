/* The correlation stage: ticket linking across connections (RFC 4120 3.1.3/3.3.3, MS-SFU 3.2.5), from records. */
#include "correlate.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"
#include "hugepage.h"
#include "ntlmproof.h"
#include "ntlmssp.h"
#include "util.h"

/* Names a referenced ticket from the reply that issued it, if one was seen. */
static void resolve(struct ticket_table *t, struct kdc_ticket_ref *ref)
{
    if (!ref->digest[0])
        return;
    const struct ticket_info *ti = tickets_get(t, ref->digest);
    if (ti) {
        strlcpy_n(ref->client, sizeof ref->client, ti->client, sizeof ti->client);
        ref->issued_frame = ti->frame;
    }
}

/* RFC 8062 anonymous principal: what a FAST-armored reply (RFC 6113 5.4.3) shows outside. */
static bool is_anonymous(const char *name, const char *realm)
{
    return !strcmp(name, "WELLKNOWN/ANONYMOUS") && !strcmp(realm, "WELLKNOWN:ANONYMOUS");
}

/*
 * Whom the issued ticket is for. The reply's cname says so, unless FAST hid it behind the anonymous
 * principal; then the request tells: the TGT's holder (plain TGS), the PA-FOR-USER user (S4U2Self), or
 * the evidence ticket's holder (S4U2Proxy).
 */
static void effective_client(const struct kdc_rec *r, char *out, size_t cap)
{
    if (!is_anonymous(r->rep_cname, r->rep_crealm)) {
        kdc_principal_join(out, cap, r->rep_cname, r->rep_crealm);
        return;
    }
    out[0] = '\0';
    if (r->kind == KDC_KIND_S4U2SELF)
        kdc_principal_join(out, cap, r->for_user, r->for_user_realm);
    else if (r->kind == KDC_KIND_S4U2PROXY && r->n_addl)
        strlcpy_n(out, cap, r->addl[0].client, sizeof r->addl[0].client);
    else if (r->has_tgt)
        strlcpy_n(out, cap, r->tgt.client, sizeof r->tgt.client);
}

static void on_kdc(struct hs_correlate *c, struct kdc_rec *r)
{
    if (r->has_tgt)
        resolve(&c->tickets, &r->tgt);
    for (int i = 0; i < r->n_addl; i++)
        resolve(&c->tickets, &r->addl[i]);
    if (!r->has_ticket)
        return;
    /* Remember who this ticket is for: an AP-REQ or S4U2Proxy carrying it later names its client. */
    struct ticket_info ti;
    memset(&ti, 0, sizeof ti);
    memcpy(ti.digest, r->ticket.digest, sizeof ti.digest);
    effective_client(r, ti.client, sizeof ti.client);
    strlcpy_n(ti.sname, sizeof ti.sname, r->ticket.sname, sizeof r->ticket.sname);
    ti.frame = r->ticket.issued_frame;
    strlcpy_n(ti.kind, sizeof ti.kind, kdc_kind_name(r->kind), 16);
    tickets_put(&c->tickets, &ti);
    strlcpy_n(r->ticket.client, sizeof r->ticket.client, ti.client, sizeof ti.client);
}

static size_t min_len(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Grows a summary array by one; NULL at the cap or without memory (counted). */
static void *grow(void **arr, size_t *n, size_t *cap, size_t size, uint64_t *dropped)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        void *na = nc > CORRELATE_SUMMARIES_MAX ? NULL : hugepage_realloc(*arr, *cap * size, nc * size);
        if (!na) {
            (*dropped)++;
            return NULL;
        }
        *arr = na;
        *cap = nc;
    }
    return (char *)*arr + (*n)++ * size; /* the caller initialises it */
}

struct fsum_auth *correlate_add_auth(struct hs_correlate *c)
{
    void *arr = c->auth;
    struct fsum_auth *s = grow(&arr, &c->n_auth, &c->cap_auth, sizeof *s, &c->summaries_dropped);
    c->auth = arr;
    if (s)
        fsum_auth_init(s);
    return s;
}

struct fsum_kdc *correlate_add_kdc(struct hs_correlate *c)
{
    void *arr = c->kdc;
    struct fsum_kdc *s = grow(&arr, &c->n_kdc, &c->cap_kdc, sizeof *s, &c->summaries_dropped);
    c->kdc = arr;
    if (s)
        fsum_kdc_init(s);
    return s;
}

/* Is a use's status a refusal: an NTSTATUS error, a DCE/RPC fault, HTTP 401/403, a DCOM method's access
 * denied (E_ACCESSDENIED 0x80070005, WBEM_E_ACCESS_DENIED 0x80041003, RPC_E_ACCESS_DENIED 0x8001011b,
 * CO_E_LAUNCH_PERMSSION_DENIED 0x8000401b; MS-ERREF 2.1), Win32 ERROR_ACCESS_DENIED (an OXID resolver's)? */
static bool refused(const struct auth_use *u)
{
    uint32_t c = u->status.code;
    switch (u->status.space) {
    case STATUS_NTSTATUS: return (c & 0xC0000000u) == 0xC0000000u;
    case STATUS_NCA: return true;
    case STATUS_HTTP: return c == 401 || c == 403;
    case STATUS_HRESULT: return c == 0x80070005u || c == 0x80041003u || c == 0x8001011bu || c == 0x8000401bu;
    case STATUS_WIN32: return c == 5;
    default: return false;
    }
}

/* ---- streaming: the summaries of records still being handed over, by id ----------------------------------- */

/* An open-addressing table (linear probing, deletion by backward shift) of {record id, index into c->auth}: the
 * summary a record's later hand-overs refine. Only records handed over at their verdict and not yet complete are
 * in it (a live connection's), so it stays the size of what is open. */
static size_t open_slot(uint64_t id, size_t cap)
{
    uint64_t h = id * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

static bool open_get(const struct hs_correlate *c, uint64_t id, size_t *ix)
{
    if (!c->cap_open)
        return false;
    for (size_t j = open_slot(id, c->cap_open); c->open_ix[j].id; j = (j + 1) & (c->cap_open - 1))
        if (c->open_ix[j].id == id) {
            *ix = c->open_ix[j].ix;
            return *ix < c->n_auth && c->auth[*ix].id == id;
        }
    return false;
}

/* Empties the table and gives it room for n entries (kept at most half full). False without memory. */
static bool open_reset(struct hs_correlate *c, size_t n)
{
    size_t cap = 64;
    while (cap < 2 * (n + 1))
        cap *= 2;
    if (cap != c->cap_open) {
        struct open_entry *nv = calloc(cap, sizeof *nv);
        if (!nv)
            return false;
        free(c->open_ix);
        c->open_ix = nv;
        c->cap_open = cap;
    } else {
        memset(c->open_ix, 0, cap * sizeof *c->open_ix);
    }
    c->n_open = 0;
    return true;
}

static void open_insert(struct hs_correlate *c, uint64_t id, size_t ix)
{
    size_t j = open_slot(id, c->cap_open);
    while (c->open_ix[j].id && c->open_ix[j].id != id)
        j = (j + 1) & (c->cap_open - 1);
    if (!c->open_ix[j].id)
        c->n_open++;
    c->open_ix[j] = (struct open_entry){id, ix};
}

/* Puts id -> ix in the table (growing it); without memory the record is summarized anew at its next hand-over. */
static void open_put(struct hs_correlate *c, uint64_t id, size_t ix)
{
    if (2 * (c->n_open + 1) > c->cap_open) {
        struct open_entry *old = c->open_ix;
        size_t oldcap = c->cap_open;
        c->open_ix = NULL;
        c->cap_open = 0;
        if (!open_reset(c, c->n_open + 1)) {
            c->open_ix = old;
            c->cap_open = oldcap;
            return;
        }
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].id)
                open_insert(c, old[i].id, old[i].ix);
        free(old);
    }
    open_insert(c, id, ix);
}

static void open_del(struct hs_correlate *c, uint64_t id)
{
    if (!c->cap_open)
        return;
    size_t m = c->cap_open - 1, j = open_slot(id, c->cap_open);
    while (c->open_ix[j].id && c->open_ix[j].id != id)
        j = (j + 1) & m;
    if (!c->open_ix[j].id)
        return;
    c->n_open--;
    /* backward shift: entries after the hole that hash at or before it move into it */
    for (size_t k = (j + 1) & m; c->open_ix[k].id; k = (k + 1) & m) {
        size_t home = open_slot(c->open_ix[k].id, c->cap_open);
        if (((k - home) & m) >= ((k - j) & m)) {
            c->open_ix[j] = c->open_ix[k];
            j = k;
        }
    }
    c->open_ix[j] = (struct open_entry){0, 0};
}

/* Summarizes r: into a new summary, or, streaming, into the one made when it was handed over at its verdict
 * (its uses and what else came since change it). */
static void summarize_auth(struct hs_correlate *c, struct auth_rec *r)
{
    struct fsum_auth *s;
    size_t ix;
    /* streaming, a record whole never had a summary; without, one shown early (REC_PEEK) has */
    bool was_open = (r->h.phase != REC_WHOLE || !c->stream) && open_get(c, r->h.id, &ix);
    uint64_t born = 0;
    if (was_open) {
        s = &c->auth[ix];
        born = s->born;
        fsum_auth_init(s);
    } else if ((s = correlate_add_auth(c)) != NULL) {
        ix = c->n_auth - 1;
    } else {
        return;
    }
    s->open = r->h.phase == REC_AT_VERDICT || r->h.phase == REC_USES || r->h.phase == REC_PEEK; /* more will come */
    if (s->open && !was_open)
        open_put(c, r->h.id, ix);
    else if (!s->open && was_open)
        open_del(c, r->h.id);
    s->made = ++c->gen; /* made or changed now: the next run of the rules judges it (findings_cfg.judged_before) */
    s->born = was_open ? born : s->made;
    c->dirty = true;
    struct strpool *sp = &c->strings;
    char buf[128];
    s->id = r->h.id;
    s->ts = r->h.ts;
    s->af = r->h.flow.af;
    memcpy(s->cli, r->h.flow.cli.ip, 16);
    memcpy(s->srv, r->h.flow.srv.ip, 16);
    s->cport = r->h.flow.cli.port;
    s->sport = r->h.flow.srv.port;
    s->transport = r->transport;
    s->service = strpool_get(sp, auth_service_name(r), 31);
    s->mech = r->gss.mech;
    s->result = r->result;
    s->status = r->status;
    s->verdict_source = r->verdict_source;
    auth_who(r, buf, sizeof buf);
    s->user = strpool_get(sp, buf, 127);
    const struct ntlm_msg *a = r->gss.ntlm.auth;
    const struct ntlm_msg *ch = r->gss.ntlm.chal;
    if (ch) {
        s->srv_dns = strpool_get(sp, ch->dns_computer, min_len(63, sizeof ch->dns_computer));
        s->srv_nb = strpool_get(sp, ch->nb_computer, min_len(31, sizeof ch->nb_computer));
    }
    if (a) {
        s->cli_workstation = strpool_get(sp, a->workstation, min_len(31, sizeof a->workstation));
        s->srv_target = strpool_get(sp, a->spn, min_len(95, sizeof a->spn));
    }
    if (r->transport == TRANSPORT_DCERPC)
        s->cli_netlogon = strpool_get(sp, r->dcerpc.netlogon_computer, min_len(31, sizeof r->dcerpc.netlogon_computer));
    if ((r->transport == TRANSPORT_SMB2 || r->transport == TRANSPORT_SMB1) && r->nuses)
        s->tree = strpool_get(sp, r->uses[0].name, min_len(95, sizeof r->uses[0].name));
    if (a) {
        s->ntlm = true;
        s->ntlm_version = a->ntlm_version;
        s->lm_kind = a->lm_kind;
        s->anonymous = a->ntlm_version == NTLM_VER_ANONYMOUS || !a->user[0];
    }
    const struct ntlm_proof *pf = r->gss.ntlm.proof;
    if (pf && pf->done && pf->account) {
        s->creds_verified = pf->nt_verified == NTLM_TRUE || pf->lm_verified == NTLM_TRUE;
        s->creds_dc_lm = pf->lm_stored;
        if (pf->client_sig.frame) {
            s->f_sig = pf->client_sig.frame;
            s->sig_matched = strpool_get(sp, pf->client_sig.matched ? pf->client_sig.matched : "none", 31);
        }
    }
    const uint32_t *fl = r->gss.ntlm.flags;
    s->ntlm_flags = fl[2] ? fl[2] : fl[1] ? fl[1] : fl[0];
    const struct gss_krb *k = &r->gss.krb;
    if (k->ap_req || k->error) {
        s->krb = true;
        s->krb_spn = strpool_get(sp, k->spn, min_len(127, sizeof k->spn));
        s->ticket_issued_frame = k->ticket.issued_frame;
        s->krb_error = k->error;
        s->krb_error_code = k->error_code;
        s->dec_ticket_failed = k->dec_ticket && !k->dec_ticket->t.decrypted && !strncmp(k->dec_ticket->why, "none of", 7);
        if (k->dec_auth && k->dec_auth->a.decrypted) {
            s->dec_auth = true;
            s->deleg_flag = k->dec_auth->a.has_gss_flags && (k->dec_auth->a.gss_flags & 0x1); /* GSS_C_DELEG_FLAG */
            s->deleg_tgt = k->dec_auth->a.has_deleg;
        }
    }
    s->dcerpc_auth_level = r->transport == TRANSPORT_DCERPC ? r->dcerpc.auth_level : 0;
    if (r->transport == TRANSPORT_SMB1 && r->smb1.client_signing && !r->smb1.signed_after && r->nuses == 0)
        for (uint8_t i = 0; i < r->smb1.n_sigs; i++)
            if (r->smb1.sigs[i].from_server && r->smb1.sigs[i].kind != SMB1_SIG_MAC) {
                s->smb1_unsigned_reply = true;
                s->f_smb1_unsigned = r->smb1.sigs[i].frame;
                break;
            }
    s->f_auth = r->frames.authenticate ? r->frames.authenticate : r->frames.ap_req;
    uint64_t fr[] = {r->frames.negotiate, r->frames.challenge, r->frames.authenticate, r->frames.ap_req,
                     r->frames.ap_rep, r->frames.verdict};
    for (size_t i = 0; i < sizeof fr / sizeof *fr; i++)
        if (fr[i] && (!s->f_first || fr[i] < s->f_first))
            s->f_first = fr[i];
    s->f_verdict = r->frames.verdict;
    for (uint32_t i = 0; i < r->nuses; i++)
        if (refused(&r->uses[i])) {
            s->use_denied = true;
            s->f_use_req = r->uses[i].frame_req;
            s->f_use_resp = r->uses[i].frame_resp;
            s->use_name = strpool_get(sp, r->uses[i].name, min_len(95, sizeof r->uses[i].name));
            s->use_status = r->uses[i].status;
            break;
        }
}

/*
 * Whether the rules (findings.c) or the host names (hosts.c) can use a KDC exchange's summary: a failed exchange
 * other than AS (spn_unknown, s4u2proxy_denied, a double hop's refused S4U2Proxy, kerberos_fell_back_to_ntlm), an
 * S4U2Self (s4u2self_not_forwardable), or any exchange of a machine account (its name names the host it came
 * from). The rest — AS exchanges (most fail once with KDC_ERR_PREAUTH_REQUIRED), TGS and S4U2Proxy tickets
 * issued — is two thirds of a busy KDC's exchanges, which no rule looks at; only the hop graph draws them
 * (want_graph: all are kept). cname is the exchange's client (kdc_rec_client).
 */
static bool kdc_summary_wanted(const struct hs_correlate *c, const struct kdc_rec *r, const char *cname)
{
    if (c->want_graph || (r->rep_type == KRB_ERROR && r->kind != KDC_KIND_AS) || r->kind == KDC_KIND_S4U2SELF)
        return true;
    char m[HOST_NAME_MAX_LEN]; /* as hosts_build() reads it */
    hosts_machine_name(cname, m, sizeof m);
    return m[0] != '\0';
}

static void summarize_kdc(struct hs_correlate *c, const struct kdc_rec *r)
{
    char buf[128];
    kdc_rec_client(r, buf, sizeof buf);
    if (!kdc_summary_wanted(c, r, buf))
        return;
    struct fsum_kdc *s = correlate_add_kdc(c);
    if (!s)
        return;
    c->dirty = true;
    s->made = ++c->gen;
    struct strpool *sp = &c->strings;
    s->id = r->h.id;
    s->ts = r->h.ts;
    s->af = r->h.flow.af;
    memcpy(s->cli, r->h.flow.cli.ip, 16);
    memcpy(s->srv, r->h.flow.srv.ip, 16);
    s->cport = r->h.flow.cli.port;
    s->sport = r->h.flow.srv.port;
    s->udp = r->udp;
    s->kind = r->kind;
    s->cname = strpool_get(sp, buf, 127);
    kdc_principal_join(buf, sizeof buf, r->sname, r->realm);
    s->sname = strpool_get(sp, buf, 127);
    if (r->for_user_via) {
        kdc_principal_join(buf, sizeof buf, r->for_user, r->for_user_realm);
        s->impersonated = strpool_get(sp, buf, 127);
    } else if (r->kind == KDC_KIND_S4U2PROXY && r->n_addl) {
        s->impersonated = strpool_get(sp, r->addl[0].client, min_len(127, sizeof r->addl[0].client));
    }
    s->failed = r->rep_type == KRB_ERROR;
    s->error_code = r->error_code;
    s->f_req = r->frame_req;
    s->f_rep = r->frame_rep;
    if (r->dec_reply && r->dec_reply->t.decrypted) {
        s->reply_decrypted = true;
        s->reply_flags = r->dec_reply->t.flags;
    }
}

/* ---- DCOM: activations and the connections their string bindings lead to ---------------------------- */

static struct dcom_rec *dcom_at(struct hs_correlate *c, size_t i)
{
    return &c->dcom[(c->dcom_head + i) % CORRELATE_DCOM_MAX];
}

/* Writes the oldest held activation. */
static void dcom_release(struct hs_correlate *c)
{
    struct dcom_rec *d = dcom_at(c, 0);
    c->dcom_head = (c->dcom_head + 1) % CORRELATE_DCOM_MAX;
    c->n_dcom--;
    sink_record(c->sink.next, &d->h);
}

/* Does a binding of d name the server of flow f (same client, the binding's address or d's server)? */
static bool dcom_leads_to(const struct dcom_rec *d, const struct hs_flow *f)
{
    if (f->af != d->h.flow.af || memcmp(f->cli.ip, d->h.flow.cli.ip, 16) != 0)
        return false;
    for (uint8_t i = 0; i < d->n_bindings && i < DCOM_BINDINGS_MAX; i++) {
        const struct dcom_binding *b = &d->bindings[i];
        if (b->tower_id != 0x07 || b->port != f->srv.port)
            continue;
        const uint8_t *ip = b->af ? b->ip : d->h.flow.srv.ip;
        if ((!b->af || b->af == f->af) && memcmp(ip, f->srv.ip, 16) == 0)
            return true;
    }
    return false;
}

static bool timeval_le(const struct timeval *a, const struct timeval *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_usec <= b->tv_usec);
}

/* Holds an activation whose bindings name a TCP port; else passes it on at once. */
static void dcom_hold(struct hs_correlate *c, struct dcom_rec *d)
{
    bool expect = false;
    for (uint8_t i = 0; i < d->n_bindings && i < DCOM_BINDINGS_MAX; i++)
        expect |= d->bindings[i].tower_id == 0x07 && d->bindings[i].port != 0;
    if (!expect) {
        sink_record(c->sink.next, &d->h);
        return;
    }
    if (!c->dcom && !(c->dcom = calloc(CORRELATE_DCOM_MAX, sizeof *c->dcom))) {
        sink_record(c->sink.next, &d->h);
        return;
    }
    if (c->n_dcom == CORRELATE_DCOM_MAX)
        dcom_release(c);
    struct dcom_rec *slot = dcom_at(c, c->n_dcom++);
    *slot = *d;
}

/* An auth record: the activation it follows, if any, and the user of an activation it authenticated. */
static void dcom_on_auth(struct hs_correlate *c, struct auth_rec *r)
{
    struct dcom_rec *best = NULL;
    for (size_t i = 0; i < c->n_dcom; i++) {
        struct dcom_rec *d = dcom_at(c, i);
        if (d->auth == r->h.id && !d->user[0])
            auth_who(r, d->user, sizeof d->user);
        if (r->transport == TRANSPORT_DCERPC && timeval_le(&d->h.ts, &r->h.ts) && dcom_leads_to(d, &r->h.flow) &&
            (!best || timeval_le(&best->h.ts, &d->h.ts)))
            best = d;
    }
    if (!best)
        return;
    r->dcerpc.dcom_activation = best->h.id;
    r->dcerpc.dcom_have_clsid = best->have_clsid;
    memcpy(r->dcerpc.dcom_clsid, best->clsid, 16);
    r->dcerpc.dcom_class = best->class_name;
    if (!best->linked) {
        best->linked = true;
        best->conn = r->h.flow;
        memcpy(best->conn_community_id, r->h.community_id, sizeof best->conn_community_id);
    }
    if (best->conn.id == r->h.flow.id && best->n_conn_records < DCOM_LINKED_MAX)
        best->conn_records[best->n_conn_records++] = r->h.id;
}

/* Writes the held activations older than the hop window before `now`. */
static void dcom_expire(struct hs_correlate *c, const struct timeval *now)
{
    while (c->n_dcom && dcom_at(c, 0)->h.ts.tv_sec + (time_t)c->cfg.hop_window < now->tv_sec)
        dcom_release(c);
}

/* With a graph wanted, findings pass through here on their way on: the graph is drawn with them. */
struct finding_tee {
    struct hs_sink sink; /* must stay first */
    struct hs_correlate *c;
};

static void tee_finding(struct hs_sink *self, const struct hs_finding *f);

/* ---- streaming: findings written as they are decided ------------------------------------------------ */

/* The record a finding rests on first: the one its rule judged (hs_finding.anchor), else its earliest. */
static uint64_t finding_anchor(const struct hs_finding *f)
{
    return f->anchor ? f->anchor : f->nrecords ? f->records[0] : 0; /* records[] is sorted */
}

/* What makes a finding the same one at a later run of the rules: its kind, user, hosts' addresses and anchor
 * (FNV-1a, 64 bits). Not the rest of its evidence, which may grow (a second hop refused later), nor its title,
 * which names hosts by what the records kept say of them and so may change from run to run. Never 0. */
static uint64_t finding_key(const struct hs_finding *f)
{
    uint64_t h = 0xcbf29ce484222325ull;
    uint64_t first = finding_anchor(f);
    for (int i = 0; i < 8; i++)
        h = (h ^ ((first >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    const char *parts[] = {f->id, f->user, f->client, f->first_hop, f->second_hop};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++)
            h = (h ^ *p) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull; /* a separator no string holds */
    }
    return h ? h : 1;
}

/* The written set rebuilt with nc slots, without the keys whose first record started before `gone` and has no
 * summary left (then the rules cannot make the finding again). False without memory. */
static bool written_rebuild(struct hs_correlate *c, size_t nc, time_t gone)
{
    struct written_key *nv = calloc(nc, sizeof *nv);
    if (!nv)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < c->cap_written; i++) {
        struct written_key w = c->written[i];
        size_t ix;
        if (!w.key || (w.first_ts < gone && !open_get(c, w.first_id, &ix)))
            continue;
        size_t j = w.key & (nc - 1);
        while (nv[j].key)
            j = (j + 1) & (nc - 1);
        nv[j] = w;
        n++;
    }
    free(c->written);
    c->written = nv;
    c->cap_written = nc;
    c->n_written = n;
    return true;
}

/* Is key in the set of findings written? With add, puts it there with its first record (id, start) (false when
 * memory is short: then it is not). */
static bool written_has(struct hs_correlate *c, uint64_t key, bool add, uint64_t first_id, time_t first_ts)
{
    if (add && 2 * (c->n_written + 1) > c->cap_written &&
        !written_rebuild(c, c->cap_written ? 2 * c->cap_written : 64, 0))
        return false;
    if (!c->cap_written)
        return false;
    for (size_t j = key & (c->cap_written - 1);; j = (j + 1) & (c->cap_written - 1)) {
        if (c->written[j].key == key)
            return true;
        if (!c->written[j].key) {
            if (add) {
                c->written[j] = (struct written_key){key, first_id, first_ts};
                c->n_written++;
            }
            return add;
        }
    }
}

struct idts {
    uint64_t id;
    time_t sec;
};

static int by_idts(const void *a, const void *b)
{
    uint64_t x = ((const struct idts *)a)->id, y = ((const struct idts *)b)->id;
    return x < y ? -1 : x > y;
}

/* The rules' findings pass through here while streaming: one already written is dropped; one not yet decided
 * (before the end of the run, a record it rests on started less than the hop window ago) waits for a later
 * run of the rules; the rest are written, and remembered. */
struct finding_gate {
    struct hs_sink sink; /* must stay first */
    struct hs_correlate *c;
    const struct idts *ts;  /* the start of every record summarized, by id (NULL at the end of the run) */
    size_t n_ts;
    time_t now;
    struct hs_sink *out;    /* the tee (graph wanted) or the next stage */
};

static void gate_finding(struct hs_sink *self, const struct hs_finding *f)
{
    struct finding_gate *g = (struct finding_gate *)self;
    struct hs_correlate *c = g->c;
    uint64_t key = finding_key(f);
    if (written_has(c, key, false, 0, 0))
        return;
    time_t first_ts = 0;
    uint64_t first = finding_anchor(f);
    if (g->ts) {
        time_t last = 0;
        for (uint32_t i = 0; i < f->nrecords && i < FINDING_EVIDENCE_MAX; i++) {
            struct idts q = {f->records[i], 0};
            const struct idts *e = bsearch(&q, g->ts, g->n_ts, sizeof *g->ts, by_idts);
            if (e && e->sec > last)
                last = e->sec;
        }
        /* the anchor's start by itself: a first hop with many failed onward connections is not always among the
         * evidence records kept (FINDING_EVIDENCE_MAX), and a key without it would leave the written set early
         * (written_rebuild) and let the finding be written again */
        struct idts q = {first, 0};
        const struct idts *e = bsearch(&q, g->ts, g->n_ts, sizeof *g->ts, by_idts);
        if (e) {
            first_ts = e->sec;
            if (e->sec > last)
                last = e->sec;
        }
        if (g->now - last <= (time_t)c->cfg.hop_window) {
            c->undecided++;
            return;
        }
    }
    written_has(c, key, true, first, first_ts);
    c->findings_streamed++;
    sink_finding(g->out, f);
}

/* Runs the rules over every summary (at the end of the run: gate_ts false) through the gate. False when they could
 * not run for want of memory: then nothing may be pruned, the findings resting on it being still to make. */
/* From when on a record an earlier run saw may be judged again (findings_forgotten.from; 0: all): what a record rests
 * on reaches FINDINGS_FALLBACK_WINDOW back from it, and a summary started before pruned_before may be gone; and no
 * later than two hop windows before the last decision (a first hop's onward connections reach a hop window after
 * it, and its finding is decided a hop window after those), so that a record not yet decided is never spared —
 * with a hop window under 120 s, what is kept reaches less far back than that. */
static time_t forgotten_from(const struct hs_correlate *c)
{
    if (!c->pruned_before)
        return 0;
    time_t from = c->pruned_before + FINDINGS_FALLBACK_WINDOW, decided = c->last_decide - 2 * (time_t)c->cfg.hop_window;
    return decided < from ? decided : from;
}

static bool run_gated(struct hs_correlate *c, bool gate_ts, time_t now, struct hs_sink *next)
{
    struct finding_tee tee = {{NULL, tee_finding, NULL, NULL, next, NULL}, c};
    struct finding_gate g = {{NULL, gate_finding, NULL, NULL, NULL, NULL}, c, NULL, 0, now,
                             c->want_graph && c->stream ? &tee.sink : next};
    struct idts *ts = NULL;
    if (gate_ts) {
        ts = malloc((c->n_auth + c->n_kdc + 1) * sizeof *ts);
        if (!ts)
            return false; /* without memory: decided at a later run, or at the end */
        size_t n = 0;
        for (size_t i = 0; i < c->n_auth; i++)
            ts[n++] = (struct idts){c->auth[i].id, c->auth[i].ts.tv_sec};
        for (size_t i = 0; i < c->n_kdc; i++)
            ts[n++] = (struct idts){c->kdc[i].id, c->kdc[i].ts.tv_sec};
        qsort(ts, n, sizeof *ts, by_idts);
        g.ts = ts;
        g.n_ts = n;
    }
    c->undecided = 0;
    /* what the previous run decided is not made again (findings_cfg.decided_before): a finding resting on one
     * record was decided then if the record started a hop window before it */
    struct findings_cfg cfg = c->cfg;
    if (gate_ts && c->last_decide) {
        cfg.decided_before = c->last_decide - (time_t)c->cfg.hop_window;
        cfg.judged_before = c->last_decide_gen;
        /* a first hop is judged again while a record new to this run could be an onward connection of it */
        time_t first_new = cfg.decided_before;
        for (size_t i = 0; i < c->n_auth; i++)
            if (c->auth[i].made >= cfg.judged_before && c->auth[i].ts.tv_sec < first_new)
                first_new = c->auth[i].ts.tv_sec;
        for (size_t i = 0; i < c->n_kdc; i++)
            if (c->kdc[i].made >= cfg.judged_before && c->kdc[i].ts.tv_sec < first_new)
                first_new = c->kdc[i].ts.tv_sec;
        cfg.hop_decided_before = first_new - (time_t)c->cfg.hop_window - 1;
    }
    cfg.forgotten = (struct findings_forgotten){forgotten_from(c), c->old_forgotten_from, c->last_decide_gen,
                                                c->epoch_gen}; /* the final run too: what early runs saw */
    uint64_t gen = c->gen;
    findings_run(&cfg, c->auth, c->n_auth, c->kdc, c->n_kdc, &g.sink);
    if (gate_ts) {
        c->last_decide = now;
        c->last_decide_gen = gen + 1; /* summaries made (or changed) up to here were seen by this run */
    }
    free(ts);
    return true;
}

/* The strings of summary s re-interned from the old pool into c->strings. */
static void reintern_auth(struct hs_correlate *c, struct fsum_auth *s)
{
    const char **f[] = {&s->service, &s->user, &s->krb_spn, &s->sig_matched, &s->use_name, &s->cli_workstation,
                        &s->cli_netlogon, &s->srv_dns, &s->srv_nb, &s->tree, &s->srv_target};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        *f[i] = strpool_get(&c->strings, *f[i], STRPOOL_CHUNK);
}

static void reintern_kdc(struct hs_correlate *c, struct fsum_kdc *s)
{
    s->cname = strpool_get(&c->strings, s->cname, STRPOOL_CHUNK);
    s->sname = strpool_get(&c->strings, s->sname, STRPOOL_CHUNK);
    s->impersonated = strpool_get(&c->strings, s->impersonated, STRPOOL_CHUNK);
}

/* Appends n summaries of size sz at src to the archive *arr (grown by doubling); false without memory. */
static bool archive(void **arr, size_t *n, size_t *cap, const void *src, size_t k, size_t sz)
{
    if (!k)
        return true;
    if (*n + k > *cap) {
        size_t nc = *cap ? *cap : 1024;
        while (nc < *n + k)
            nc *= 2;
        void *nv = hugepage_realloc(*arr, *cap * sz, nc * sz);
        if (!nv)
            return false;
        *arr = nv;
        *cap = nc;
    }
    memcpy((char *)*arr + *n * sz, src, k * sz);
    *n += k;
    return true;
}

/* Summaries of records started before this leave: every finding they could be part of was decided, with two
 * periods of the rules to spare. A finding is decided a hop window after the latest record it rests on; a first
 * hop's rests on onward connections up to a hop window after it, so it is decided up to two hop windows after
 * the first hop, and may rest on a refused S4U2Proxy up to min(FINDINGS_FALLBACK_WINDOW, hop window) before it;
 * kerberos_fell_back_to_ntlm, decided a hop window after its NTLM authentication, on a refused TGS-REQ up to
 * FINDINGS_FALLBACK_WINDOW before that. */
static time_t prune_cutoff(const struct hs_correlate *c, time_t decide_now)
{
    time_t hw = (time_t)c->cfg.hop_window, back = hw < FINDINGS_FALLBACK_WINDOW ? hw : FINDINGS_FALLBACK_WINDOW;
    time_t keep = 2 * hw + back;
    if (hw + FINDINGS_FALLBACK_WINDOW > keep)
        keep = hw + FINDINGS_FALLBACK_WINDOW;
    return decide_now - keep - 2 * correlate_decide_every(c->cfg.hop_window);
}

/* The summaries that may leave at cutoff (into *pa, *pk), and whether enough may to be worth it. */
static bool prunable(const struct hs_correlate *c, time_t cutoff, size_t *pa, size_t *pk)
{
    *pa = *pk = 0;
    for (size_t i = 0; i < c->n_auth; i++)
        *pa += c->auth[i].ts.tv_sec < cutoff && !c->auth[i].open;
    for (size_t i = 0; i < c->n_kdc; i++)
        *pk += c->kdc[i].ts.tv_sec < cutoff;
    return (*pa || *pk) && (*pa + *pk >= 4096 || 4 * (*pa + *pk) >= c->n_auth + c->n_kdc);
}

/*
 * Once the rules have run (streaming, or early without it), the summaries of records started before
 * prune_cutoff() of the decision time leave — every finding they could be part of was decided — unless their record is still open (handed over at its verdict, not yet complete: its later
 * hand-overs refine the summary, and its findings must not be made twice). With a hop graph to draw (--dot,
 * --html, --evidence need every summary at the end) they move to an archive the rules never look at; else they
 * are gone, so that memory stays flat on a capture that runs for weeks. Amortised: done when a quarter of what is
 * kept, or 4,096, can leave. The keys of findings whose first record left leave the written set; when the
 * interned strings are many times what the summaries left need (and no archive points into them), the pool is
 * rebuilt. Names hosts were given by records that left are forgotten with them.
 */
static void stream_prune(struct hs_correlate *c, time_t decide_now)
{
    time_t cutoff = prune_cutoff(c, decide_now);
    size_t pa, pk;
    if (!prunable(c, cutoff, &pa, &pk))
        return;
    size_t j = 0;
    for (size_t i = 0; i < c->n_auth; i++) {
        if (c->auth[i].ts.tv_sec < cutoff && !c->auth[i].open) {
            if (c->want_graph && !archive((void **)&c->arch_auth, &c->n_arch_auth, &c->cap_arch_auth, &c->auth[i], 1,
                                          sizeof *c->auth))
                c->archive_lost++;
            continue;
        }
        c->auth[j++] = c->auth[i];
    }
    c->n_auth = j;
    j = 0;
    for (size_t i = 0; i < c->n_kdc; i++) {
        if (c->kdc[i].ts.tv_sec < cutoff) {
            if (c->want_graph &&
                !archive((void **)&c->arch_kdc, &c->n_arch_kdc, &c->cap_arch_kdc, &c->kdc[i], 1, sizeof *c->kdc))
                c->archive_lost++;
            continue;
        }
        c->kdc[j++] = c->kdc[i];
    }
    c->n_kdc = j;
    c->summaries_pruned += pa + pk;
    if (cutoff > c->pruned_before)
        c->pruned_before = cutoff;
    /* the open records' summaries moved: index them again */
    size_t nopen = 0;
    for (size_t i = 0; i < c->n_auth; i++)
        nopen += c->auth[i].open;
    if (open_reset(c, nopen)) {
        for (size_t i = 0; i < c->n_auth; i++)
            if (c->auth[i].open)
                open_insert(c, c->auth[i].id, i);
    } else { /* without memory: their next hand-over summarizes them anew */
        for (size_t i = 0; i < c->n_auth; i++)
            c->auth[i].open = false;
        c->n_open = 0;
        if (c->cap_open)
            memset(c->open_ix, 0, c->cap_open * sizeof *c->open_ix);
    }
    if (c->n_written)
        written_rebuild(c, c->cap_written, cutoff); /* without memory the set stays as it is */
    /* 8 MiB of strings, and more than 4 KiB per summary kept (a summary's strings are at most ~1 KiB) */
    size_t kept = c->n_auth + c->n_kdc;
    if (!c->want_graph && strpool_bytes(&c->strings) > ((size_t)8 << 20) && strpool_bytes(&c->strings) > kept * 4096) {
        struct strpool old = c->strings;
        strpool_init(&c->strings);
        for (size_t i = 0; i < c->n_auth; i++)
            reintern_auth(c, &c->auth[i]);
        for (size_t i = 0; i < c->n_kdc; i++)
            reintern_kdc(c, &c->kdc[i]);
        strpool_free(&old);
        c->strpool_rebuilds++;
    }
}

/* The time findings are decided at: record time reached, held back to before the oldest record the record layer
 * holds and has not handed over (an auth record before its verdict or while `hold` is set, a KDC request awaiting
 * its reply) and before `coming` (the start of the record being handed over, not summarized yet; 0: none): their
 * summaries, made later, may still join a window that has passed by record time. */
static time_t decide_time(const struct hs_correlate *c, time_t coming)
{
    time_t t = coming && coming - 1 < c->now ? coming - 1 : c->now;
    struct timeval held;
    if ((c->held_fn ? c->held_fn(c->held_arg, &held) : c->held && rec_store_oldest_unsent(c->held, &held)) &&
        held.tv_sec - 1 < t)
        t = held.tv_sec - 1;
    return t;
}

/* Record time follows the hand-overs' packet times; one that steps back more than a hop window (a clock set back,
 * a capture of another day appended) restarts it there, so that a timestamp in the future cannot stop the
 * decisions. */
static void clock_to(struct hs_correlate *c, const struct timeval *now)
{
    if (now->tv_sec > c->now) {
        c->now = now->tv_sec;
    } else if (now->tv_sec + (time_t)c->cfg.hop_window < c->now) {
        c->now = now->tv_sec;
        c->next_decide = c->batch_time = 0;
        /* the records of the new time are judged; those of the old, as far as it had forgotten */
        time_t from = forgotten_from(c);
        if (from > c->old_forgotten_from)
            c->old_forgotten_from = from;
        c->last_decide = 0; /* what the earlier runs decided is kept out by the written set */
        c->epoch_gen = c->gen + 1;
        c->pruned_before = 0;
        c->clock_resets++;
    }
}

/*
 * Not streaming, the findings come out at the end of the run, most severe first; but a capture of many hours
 * would keep every summary till then (CORRELATE_SUMMARIES_MAX of each kind; beyond, records would go unjudged).
 * So once the summaries kept take c->batch_bytes (CORRELATE_BATCH_BYTES), at most once a period of the rules
 * (correlate_decide_every) of record time and once they have grown by a quarter since the last look, it looks
 * whether half of them started before prune_cutoff() of the decision time. If so, the rules run as they do
 * streaming — what they decided goes to the sorter c->collect, not out — and those summaries leave
 * (stream_prune). At the end of the run the rules run once more over what is left, and the sorter hands
 * everything on in the usual order. Half, so that each record is judged about twice at most; a quarter more, so
 * that the looks cost O(1) per record even when the decision time stands still (a session open for hours holds
 * it back, and nothing can leave): they are geometric in what is kept. A capture whose summaries fit, or whose
 * record time spans less than two hop windows, never gets further than a look: it is judged once, at the end,
 * as before.
 */
/* Bytes of the summaries kept. */
static size_t summary_bytes(const struct hs_correlate *c)
{
    return c->n_auth * sizeof *c->auth + c->n_kdc * sizeof *c->kdc;
}

static void batch_decide(struct hs_correlate *c, time_t coming)
{
    size_t kept = c->n_auth + c->n_kdc;
    size_t bytes = summary_bytes(c);
    if (bytes < c->batch_bytes || bytes < c->batch_next || c->now < c->batch_time)
        return;
    c->batch_time = c->now + correlate_decide_every(c->cfg.hop_window);
    c->batch_next = bytes + bytes / 4;
    time_t t = decide_time(c, coming);
    size_t pa, pk;
    if (!prunable(c, prune_cutoff(c, t), &pa, &pk) || 2 * (pa + pk) < kept)
        return;
    if (!run_gated(c, true, t, &c->collect_sink))
        return;
    stream_prune(c, t);
    c->batch_pruned = true;
    c->batch_next = summary_bytes(c) + summary_bytes(c) / 4; /* from what is left */
}

/* As record time (or, idle, the clock) reaches `now`. Streaming: every correlate_decide_every() seconds, when
 * summaries changed or findings wait, the rules run and what they decided is written. Else batch_decide(). */
static void stream_decide(struct hs_correlate *c, const struct timeval *now, time_t coming)
{
    clock_to(c, now);
    if (!c->stream) {
        batch_decide(c, coming);
        return;
    }
    if (!c->next_decide)
        c->next_decide = c->now + correlate_decide_every(c->cfg.hop_window);
    if (c->now < c->next_decide || (!c->dirty && !c->undecided))
        return;
    c->next_decide = c->now + correlate_decide_every(c->cfg.hop_window);
    c->dirty = false;
    time_t t = decide_time(c, coming);
    if (run_gated(c, true, t, c->sink.next))
        stream_prune(c, t);
}

/* No record for a while (a live capture's idle link): the activations whose window closed by now go out,
 * and, streaming, the findings decided by now. */
static void on_tick(struct hs_sink *self, const struct timeval *now)
{
    struct hs_correlate *c = (struct hs_correlate *)self;
    dcom_expire(c, now);
    stream_decide(c, now, 0);
    sink_tick(self->next, now);
}

static void on_record(struct hs_sink *self, struct rec_hdr *r)
{
    struct hs_correlate *c = (struct hs_correlate *)self;
    dcom_expire(c, &r->ts);
    /* what was decided by the time this record came goes out before it (the hand-over's packet time; a DCOM
     * record, emitted at once, has its own) */
    stream_decide(c, r->at.tv_sec ? &r->at : &r->ts,
                  r->type != REC_DCOM && (r->phase == REC_WHOLE || r->phase == REC_AT_VERDICT || r->phase == REC_PEEK)
                      ? r->ts.tv_sec
                      : 0);
    if (r->type == REC_DCOM) {
        dcom_hold(c, (struct dcom_rec *)r);
        return;
    }
    if (r->type == REC_KERBEROS) {
        on_kdc(c, (struct kdc_rec *)r);
        summarize_kdc(c, (struct kdc_rec *)r);
    } else if (r->type == REC_AUTH) {
        struct auth_rec *a = (struct auth_rec *)r;
        /* once per record: whole, or when handed over at its verdict (streaming) */
        if (r->phase == REC_WHOLE || r->phase == REC_AT_VERDICT) {
            if (c->n_dcom)
                dcom_on_auth(c, a);
            if (a->gss.krb.ap_req)
                resolve(&c->tickets, &a->gss.krb.ticket);
        }
        if (r->phase == REC_PEEK) { /* shown early, written whole when it completes (and resolved then) */
            struct kdc_ticket_ref was = a->gss.krb.ticket;
            if (a->gss.krb.ap_req)
                resolve(&c->tickets, &a->gss.krb.ticket); /* who the ticket names, for the summary's user */
            summarize_auth(c, a);
            a->gss.krb.ticket = was;
            return;
        }
        summarize_auth(c, a);
    }
    sink_record(self->next, r);
}

/* Batch runs that decide early (batch_decide): findings into the sorter, or, should it refuse one (memory), out
 * at once the way the end of the run hands them on. */
static void collect_finding(struct hs_sink *self, const struct hs_finding *f)
{
    struct hs_correlate *c = (struct hs_correlate *)((char *)self - offsetof(struct hs_correlate, collect_sink));
    if (findings_sort_add(&c->collect, f))
        return;
    if (c->want_graph) {
        struct finding_tee tee = {{NULL, tee_finding, NULL, NULL, c->sink.next, NULL}, c};
        tee_finding(&tee.sink, f);
    } else {
        sink_finding(c->sink.next, f);
    }
}

static void tee_finding(struct hs_sink *self, const struct hs_finding *f)
{
    struct hs_correlate *c = ((struct finding_tee *)self)->c;
    if (c->n_findings < GRAPH_FINDINGS_MAX) {
        if (c->n_findings == c->cap_findings) {
            size_t nc = c->cap_findings ? 2 * c->cap_findings : 16;
            void *nv = hugepage_realloc(c->findings, c->cap_findings * sizeof *c->findings, nc * sizeof *c->findings);
            if (nv) {
                c->findings = nv;
                c->cap_findings = nc;
            }
        }
        if (c->n_findings < c->cap_findings)
            c->findings[c->n_findings++] = *f;
    }
    sink_finding(self->next, f);
}

/* The run ends: findings first, then the stats they came with. A periodic stats record only passes. */
/* The stats view passed on, with what the stage holds when streaming, or when a run without streaming let
 * summaries go (stats.correlation). */
static void pass_stats(struct hs_correlate *c, const struct hs_stats_view *v)
{
    if (!c->stream && !c->batch_pruned) {
        sink_stats(c->sink.next, v);
        return;
    }
    struct correlate_stats cs = {c->n_auth + c->n_kdc,
                                 c->summaries_pruned,
                                 c->findings_streamed,
                                 c->cap_auth * sizeof *c->auth + c->cap_kdc * sizeof *c->kdc +
                                     strpool_bytes(&c->strings) + c->cap_written * sizeof *c->written +
                                     c->work.sort.cap + c->collect.cap,
                                 c->clock_resets,
                                 c->strpool_rebuilds,
                                 c->archive_lost};
    struct hs_stats_view w = *v;
    w.corr = &cs;
    sink_stats(c->sink.next, &w);
}

static void on_stats(struct hs_sink *self, const struct hs_stats_view *v)
{
    struct hs_correlate *c = (struct hs_correlate *)self;
    if (v->periodic) {
        pass_stats(c, v);
        return;
    }
    while (c->n_dcom)
        dcom_release(c);
    struct finding_tee tee = {{NULL, tee_finding, NULL, NULL, self->next, NULL}, c};
    struct hs_sink *out = c->want_graph ? &tee.sink : self->next;
    if (c->stream || c->batch_pruned) {
        /* what was not decided during the run, now: streaming, written at once; else into the sorter, which
         * then hands on everything decided during the run and now, most severe first */
        run_gated(c, false, 0, c->stream ? self->next : &c->collect_sink);
        if (!c->stream)
            findings_sort_flush(&c->collect, out);
        if (c->want_graph && (c->n_arch_auth || c->n_arch_kdc)) {
            /* every summary, for the graph and the evidence pcaps: the archive, then what was kept */
            if (archive((void **)&c->arch_auth, &c->n_arch_auth, &c->cap_arch_auth, c->auth, c->n_auth,
                        sizeof *c->auth) &&
                archive((void **)&c->arch_kdc, &c->n_arch_kdc, &c->cap_arch_kdc, c->kdc, c->n_kdc, sizeof *c->kdc)) {
                hugepage_free(c->auth, c->cap_auth * sizeof *c->auth);
                hugepage_free(c->kdc, c->cap_kdc * sizeof *c->kdc);
                c->auth = c->arch_auth, c->n_auth = c->n_arch_auth, c->cap_auth = c->cap_arch_auth;
                c->kdc = c->arch_kdc, c->n_kdc = c->n_arch_kdc, c->cap_kdc = c->cap_arch_kdc;
                c->arch_auth = NULL, c->arch_kdc = NULL;
                c->n_arch_auth = c->n_arch_kdc = c->cap_arch_auth = c->cap_arch_kdc = 0;
            }
        }
    } else {
        findings_run(&c->cfg, c->auth, c->n_auth, c->kdc, c->n_kdc, out);
    }
    if (c->want_graph) {
        graph_free(c->graph);
        c->graph = graph_build(&c->cfg, c->auth, c->n_auth, c->kdc, c->n_kdc, c->findings, c->n_findings);
    }
    pass_stats(c, v);
}

struct hs_correlate *correlate_new(struct hs_sink *next)
{
    struct hs_correlate *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (tickets_init(&c->tickets) != 0) {
        free(c);
        return NULL;
    }
    c->sink.record = on_record;
    c->sink.stats = on_stats;
    c->sink.tick = on_tick;
    c->sink.next = next;
    c->cfg.hop_window = 600;
    c->cfg.work = &c->work;
    c->collect_sink.finding = collect_finding;
    /* HOPSCOPE_BATCH_BYTES=N (tests; at least 1): bytes of summaries kept before the rules may run early, not
     * streaming */
    const char *bk = getenv("HOPSCOPE_BATCH_BYTES");
    c->batch_bytes = bk && atol(bk) > 0 ? (size_t)atol(bk) : CORRELATE_BATCH_BYTES;
    return c;
}

void correlate_free(struct hs_correlate *c)
{
    if (!c)
        return;
    tickets_free(&c->tickets);
    findings_work_free(&c->work);
    findings_sorter_free(&c->collect);
    free(c->dcom);
    graph_free(c->graph);
    hugepage_free(c->findings, c->cap_findings * sizeof *c->findings);
    free(c->written);
    free(c->open_ix);
    hugepage_free(c->arch_auth, c->cap_arch_auth * sizeof *c->arch_auth);
    hugepage_free(c->arch_kdc, c->cap_arch_kdc * sizeof *c->arch_kdc);
    hugepage_free(c->auth, c->cap_auth * sizeof *c->auth);
    hugepage_free(c->kdc, c->cap_kdc * sizeof *c->kdc);
    strpool_free(&c->strings);
    free(c);
}
