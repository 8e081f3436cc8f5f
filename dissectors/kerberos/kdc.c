/* Kerberos KDC exchanges — RFC 4120 7.2.1/7.2.2 transport, 3.1/3.3 exchanges, MS-SFU 3.2.5 S4U kinds. */
#include "kdc.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "output.h"
#include "reader.h"
#include "util.h"

#define KDC_PENDING_MAX 16

struct kdc_state {
    struct kdc_rec *pending; /* requests awaiting a reply, oldest first */
    int npending;
    uint64_t last_req, last_rep; /* digests of the last request and reply seen (msg_digest) */
};

/* FNV-1a over a message and its length: tells a byte-identical copy of the previous message. */
static uint64_t msg_digest(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h | 1; /* never 0, the "nothing seen" value */
}

const char *kdc_kind_name(enum kdc_kind k)
{
    static const char *const names[] = {"as", "tgs", "s4u2self", "s4u2proxy", "u2u", "renew", "validate", "unknown"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "unknown";
}

int kdc_probe_tcp(const uint8_t *p, size_t n)
{
    if (n < 6)
        return 0;
    uint32_t len = ld_u32be(p);
    if (len & 0x80000000u || len < 2)
        return 0;
    return krb_is_kdc_msg(p + 4, n - 4) ? 90 : 0;
}

static struct kdc_state *state(struct hs_conn *c)
{
    if (!c->kdc)
        c->kdc = calloc(1, sizeof *c->kdc);
    return c->kdc;
}

/* Appends r to c's requests awaiting a reply, and to the engine's list of all of them. */
static void pending_add(struct hs_engine *e, struct hs_conn *c, struct kdc_state *s, struct kdc_rec *r)
{
    struct kdc_rec **pp = &s->pending;
    while (*pp)
        pp = &(*pp)->next;
    *pp = r;
    s->npending++;
    r->conn = c;
    r->gprev = e->kdc_newest;
    if (e->kdc_newest)
        e->kdc_newest->gnext = r;
    else
        e->kdc_oldest = r;
    e->kdc_newest = r;
    e->nkdc_held++;
}

/* Takes r, awaiting a reply, off its connection's list and the engine's. */
static void pending_del(struct hs_engine *e, struct kdc_rec *r)
{
    struct kdc_state *s = r->conn->kdc;
    struct kdc_rec **pp = &s->pending;
    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = r->next;
        s->npending--;
    }
    if (r->gprev)
        r->gprev->gnext = r->gnext;
    else
        e->kdc_oldest = r->gnext;
    if (r->gnext)
        r->gnext->gprev = r->gprev;
    else
        e->kdc_newest = r->gprev;
    e->nkdc_held--;
    r->next = r->gprev = r->gnext = NULL;
    r->conn = NULL;
}

void kdc_free(struct hs_engine *e, struct hs_conn *c)
{
    if (!c->kdc)
        return;
    while (c->kdc->pending) {
        struct kdc_rec *r = c->kdc->pending;
        pending_del(e, r);
        kdc_rec_free(r);
    }
    free(c->kdc);
    c->kdc = NULL;
}

/* "name@realm" into out[cap], cut to fit (principal names are bounded, not checked for length). */
void kdc_principal_join(char *out, size_t cap, const char *name, const char *realm)
{
    size_t o = 0;
    out[0] = '\0';
    if (!name[0])
        return;
    for (const char *p = name; *p && o + 1 < cap; p++)
        out[o++] = *p;
    if (strchr(name, '@')) { /* an enterprise name (NT-ENTERPRISE) already carries its realm */
        out[o] = '\0';
        return;
    }
    if (realm[0] && o + 1 < cap)
        out[o++] = '@';
    for (const char *p = realm; *p && o + 1 < cap; p++)
        out[o++] = *p;
    out[o] = '\0';
}

void kdc_ticket_ref(struct hs_engine *e, const struct krb_ticket *t, struct kdc_ticket_ref *ref)
{
    memset(ref, 0, sizeof *ref);
    memcpy(ref->digest, t->digest, sizeof ref->digest);
    kdc_principal_join(ref->sname, sizeof ref->sname, t->sname.name, t->realm);
    const struct ticket_info *ti = tickets_get(&e->tickets, t->digest);
    if (ti) {
        strlcpy_n(ref->client, sizeof ref->client, ti->client, sizeof ti->client);
        ref->issued_frame = ti->frame;
    }
}

/* MS-SFU 3.2.5.1 (S4U2Self), 3.2.5.2 (S4U2Proxy), RFC 4120 3.7 (user-to-user), 3.3 (renew, validate). */
static enum kdc_kind classify(const struct krb_msg *m)
{
    const struct krb_kdc_req *q = &m->u.req;
    uint32_t o = q->kdc_options;
#define OPT(bit) (o & (0x80000000u >> (bit)))
    if (m->msg_type == KRB_AS_REQ)
        return KDC_KIND_AS;
    if (OPT(KDC_OPT_VALIDATE))
        return KDC_KIND_VALIDATE;
    if (OPT(KDC_OPT_RENEW))
        return KDC_KIND_RENEW;
    if (q->for_user_via)
        return KDC_KIND_S4U2SELF;
    /* PA-PAC-OPTIONS' resource-based-constrained-delegation bit is set by Windows and MIT clients on
     * every S4U2Proxy: it lets the KDC use RBCD, it does not say the KDC did (classic constrained
     * delegation is tried first). So the kind stays s4u2proxy; the bit is reported as rbcd_requested. */
    if (OPT(KDC_OPT_CNAME_IN_ADDL_TKT) && q->n_addl > 0)
        return KDC_KIND_S4U2PROXY;
    if (OPT(KDC_OPT_ENC_TKT_IN_SKEY))
        return KDC_KIND_U2U;
    return KDC_KIND_TGS;
#undef OPT
}

void kdc_rec_free(struct kdc_rec *r)
{
    free(r->dec_tgt);
    for (int i = 0; i < KRB_MAX_ADDL_TICKETS; i++)
        free(r->dec_addl[i]);
    free(r->dec_reply);
    free(r->dec_tgs_auth);
    free(r);
}

struct kdc_decrypted *kdc_decrypt_ticket(struct hs_engine *e, const struct krb_ticket *t)
{
    if (!e->keys || !t->present)
        return NULL;
    struct kdc_decrypted *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (kc_decrypt_ticket(e->keys, t->enc.etype, t->enc.has_kvno ? (int64_t)t->enc.kvno : -1, t->enc.cipher,
                          t->enc.cipher_len, &d->t) == 0)
        return d;
    size_t same = 0;
    for (size_t i = 0; i < e->keys->n; i++)
        if (e->keys->keys[i].enctype == t->enc.etype)
            same++;
    const char *en = krb_etype_name(t->enc.etype);
    if (same == 0)
        snprintf(d->why, sizeof d->why, "no key of enctype %s", en ? en : "?");
    else
        snprintf(d->why, sizeof d->why, "none of %zu keys of enctype %s opened it", same, en ? en : "?");
    e->st.krb_undecrypted++;
    return d;
}

struct kdc_decrypted_auth *kdc_decrypt_authenticator(struct hs_engine *e, const struct kdc_decrypted *dec,
                                                     const struct krb_enc *enc, int usage)
{
    if (!e->keys || !dec || !dec->t.decrypted || !enc->present)
        return NULL;
    struct kdc_decrypted_auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (kc_decrypt_authenticator(e->keys, &dec->t.session_key, usage, enc->etype, enc->cipher, enc->cipher_len,
                                 &a->a) != 0)
        snprintf(a->why, sizeof a->why, "the ticket's session key did not open it");
    return a;
}

static void emit(struct hs_engine *e, struct hs_conn *c, struct kdc_rec *r)
{
    e->st.kdc_records++;
    output_kdc(e->out, e, c, r);
    kdc_rec_free(r);
}

static void on_request(struct hs_engine *e, struct hs_conn *c, const struct krb_msg *m)
{
    struct kdc_state *s = state(c);
    if (!s)
        return;
    if (s->npending >= KDC_PENDING_MAX) { /* a flood of unanswered requests: the oldest is written */
        struct kdc_rec *old = s->pending;
        pending_del(e, old);
        emit(e, c, old);
    } else if (e->nkdc_held >= e->lim.max_kdc_pending_total && e->kdc_oldest) {
        /* the same across connections (UDP requests from port after port): the oldest anywhere */
        struct kdc_rec *old = e->kdc_oldest;
        struct hs_conn *oc = old->conn;
        pending_del(e, old);
        emit(e, oc, old);
    }
    struct kdc_rec *r = calloc(1, sizeof *r);
    if (!r)
        return;
    const struct krb_kdc_req *q = &m->u.req;
    r->udp = c->proto == 17;
    r->ts = e->now;
    r->frame_req = e->frame;
    r->req_type = m->msg_type;
    r->kind = classify(m);
    r->kdc_options = q->kdc_options;
    strlcpy_n(r->cname, sizeof r->cname, q->cname.name, sizeof q->cname.name);
    if (q->cname.present)
        strlcpy_n(r->crealm, sizeof r->crealm, q->realm, sizeof q->realm); /* AS-REQ: realm is the client's */
    strlcpy_n(r->sname, sizeof r->sname, q->sname.name, sizeof q->sname.name);
    strlcpy_n(r->realm, sizeof r->realm, q->realm, sizeof q->realm);
    memcpy(r->etypes, q->etypes, sizeof r->etypes);
    r->n_etypes = q->n_etypes;
    memcpy(r->padata, q->padata, sizeof r->padata);
    r->n_padata = q->n_padata;
    memcpy(r->till, q->till, sizeof r->till);
    r->nonce = q->nonce;
    memcpy(r->addresses, q->addresses, sizeof r->addresses);
    r->n_addresses = q->n_addresses;
    strlcpy_n(r->for_user, sizeof r->for_user, q->for_user.name, sizeof q->for_user.name);
    strlcpy_n(r->for_user_realm, sizeof r->for_user_realm, q->for_user_realm, sizeof q->for_user_realm);
    r->for_user_via = q->for_user_via;
    r->has_pac_options = q->has_pac_options;
    r->pac_options = q->pac_options;
    r->include_pac = q->include_pac;
    if (q->has_tgs_ap_req) {
        r->has_tgt = true;
        kdc_ticket_ref(e, &q->tgs_ap_req.ticket, &r->tgt);
        r->dec_tgt = kdc_decrypt_ticket(e, &q->tgs_ap_req.ticket);
        r->dec_tgs_auth = kdc_decrypt_authenticator(e, r->dec_tgt, &q->tgs_ap_req.authenticator, KU_TGS_REQ_AUTH);
    }
    for (int i = 0; i < q->n_addl; i++) {
        r->dec_addl[r->n_addl] = kdc_decrypt_ticket(e, &q->addl[i]);
        kdc_ticket_ref(e, &q->addl[i], &r->addl[r->n_addl++]);
    }
    pending_add(e, c, s, r);
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
static void effective_client(const struct kdc_rec *r, const struct krb_kdc_rep *p, char *out, size_t cap)
{
    if (!is_anonymous(p->cname.name, p->crealm)) {
        kdc_principal_join(out, cap, p->cname.name, p->crealm);
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

static void on_reply(struct hs_engine *e, struct hs_conn *c, const struct krb_msg *m)
{
    struct kdc_state *s = state(c);
    if (!s)
        return;
    struct kdc_rec *r = s->pending;
    if (r) {
        pending_del(e, r);
    } else {
        r = calloc(1, sizeof *r); /* a reply whose request was not captured */
        if (!r)
            return;
        r->udp = c->proto == 17;
        r->ts = e->now;
        r->kind = KDC_KIND_UNKNOWN;
        r->include_pac = -1;
    }
    r->frame_rep = e->frame;
    r->rep_type = m->msg_type;
    if (m->msg_type == KRB_ERROR) {
        const struct krb_error *er = &m->u.err;
        r->error_code = er->error_code;
        strlcpy_n(r->e_text, sizeof r->e_text, er->e_text, sizeof er->e_text);
        r->has_ntstatus = er->has_ntstatus;
        r->ntstatus = er->ntstatus;
        memcpy(r->e_padata, er->e_padata, sizeof r->e_padata);
        r->n_e_padata = er->n_e_padata;
        memcpy(r->etype_info2, er->etype_info2, sizeof r->etype_info2);
        r->n_etype_info2 = er->n_etype_info2;
        if (!r->cname[0] && er->cname.present) {
            strlcpy_n(r->cname, sizeof r->cname, er->cname.name, sizeof er->cname.name);
            strlcpy_n(r->crealm, sizeof r->crealm, er->crealm, sizeof er->crealm);
        }
        if (!r->sname[0] && er->sname.present) {
            strlcpy_n(r->sname, sizeof r->sname, er->sname.name, sizeof er->sname.name);
            strlcpy_n(r->realm, sizeof r->realm, er->realm, sizeof er->realm);
        }
    } else {
        const struct krb_kdc_rep *p = &m->u.rep;
        strlcpy_n(r->rep_cname, sizeof r->rep_cname, p->cname.name, sizeof p->cname.name);
        strlcpy_n(r->rep_crealm, sizeof r->rep_crealm, p->crealm, sizeof p->crealm);
        r->has_ticket = true;
        kdc_ticket_ref(e, &p->ticket, &r->ticket);
        r->dec_reply = kdc_decrypt_ticket(e, &p->ticket);
        r->ticket_etype = p->ticket.enc.etype;
        r->ticket_has_kvno = p->ticket.enc.has_kvno;
        r->ticket_kvno = p->ticket.enc.kvno;
        r->enc_part_etype = p->enc_part.etype;
        /* Remember who this ticket is for: an AP-REQ or S4U2Proxy carrying it later names its client. */
        struct ticket_info ti;
        memset(&ti, 0, sizeof ti);
        memcpy(ti.digest, p->ticket.digest, sizeof ti.digest);
        effective_client(r, p, ti.client, sizeof ti.client);
        kdc_principal_join(ti.sname, sizeof ti.sname, p->ticket.sname.name, p->ticket.realm);
        ti.frame = e->frame;
        strlcpy_n(ti.kind, sizeof ti.kind, kdc_kind_name(r->kind), 16);
        tickets_put(&e->tickets, &ti);
        strlcpy_n(r->ticket.client, sizeof r->ticket.client, ti.client, sizeof ti.client);
        r->ticket.issued_frame = e->frame;
    }
    emit(e, c, r);
}

static void kdc_message(struct hs_engine *e, struct hs_conn *c, const uint8_t *p, size_t n)
{
    /* A copy of the message just seen is not a new exchange: a UDP request the client sent again
     * (RFC 4120 7.2.1), or the second copy of every datagram a span port delivers (ingress and egress).
     * Paired in order, each copy would make a record of its own. */
    struct kdc_state *s = state(c);
    if (s && n) {
        uint64_t d = msg_digest(p, n);
        uint64_t *last = (p[0] == 0x6a || p[0] == 0x6c) ? &s->last_req : &s->last_rep;
        if (*last == d)
            return;
        *last = d;
    }
    struct krb_msg *m = malloc(sizeof *m);
    if (!m)
        return;
    if (krb_parse(p, n, m) != 0) {
        e->st.malformed[DIS_KERBEROS]++;
    } else if (m->msg_type == KRB_AS_REQ || m->msg_type == KRB_TGS_REQ) {
        on_request(e, c, m);
    } else if (m->msg_type == KRB_AS_REP || m->msg_type == KRB_TGS_REP || m->msg_type == KRB_ERROR) {
        on_reply(e, c, m);
    }
    free(m);
}

void kdc_datagram(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n)
{
    (void)dir;
    if (!krb_is_kdc_msg(p, n))
        return;
    kdc_message(e, c, p, n);
}

size_t kdc_parse_tcp(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n,
                     struct app_dir *ad)
{
    (void)dir;
    size_t used = 0;
    if (ad->resync) {
        /* Hunt for a record mark followed by a KDC message. */
        for (; used + 6 <= n; used++)
            if (kdc_probe_tcp(p + used, n - used))
                break;
        if (used + 6 > n)
            return n > 5 ? n - 5 : 0;
        ad->resync = false;
    }
    while (n - used >= 4) {
        uint32_t len = ld_u32be(p + used);
        if (len & 0x80000000u) { /* reserved bit (RFC 5021 extensions): not dissected */
            e->st.malformed[DIS_KERBEROS]++;
            ad->resync = true;
            return used + 1;
        }
        if (4 + (size_t)len > e->lim.max_pdu) { /* it is buffered with its record mark */
            e->st.pdu_oversize++;
            if (n - used - 4 >= len) {
                used += 4 + (size_t)len;
                continue;
            }
            ad->skip = len - (n - used - 4);
            return n;
        }
        if (n - used - 4 < len)
            return used;
        kdc_message(e, c, p + used + 4, len);
        used += 4 + (size_t)len;
    }
    return used;
}

void kdc_flush(struct hs_engine *e, struct hs_conn *c)
{
    struct kdc_state *s = c->kdc;
    if (!s)
        return;
    while (s->pending) {
        struct kdc_rec *r = s->pending;
        pending_del(e, r);
        emit(e, c, r);
    }
}
