/* Kerberos KDC exchanges — RFC 4120 7.2.1/7.2.2 transport, 3.1/3.3 exchanges, MS-SFU 3.2.5 S4U kinds. */
#include "kdc.h"

#include <stdlib.h>
#include <string.h>

#include "krbdec.h"
#include "reader.h"
#include "util.h"

/* Per connection: what tells a copy of the previous message (requests awaiting a reply are records,
 * held by the record layer). */
struct kdc_state {
    uint64_t last_req, last_rep; /* digests of the last request and reply seen (copy_digest, util.h) */
};

int kdc_probe_tcp(const uint8_t *p, size_t n)
{
    if (n < 6 || !krb_is_kdc_msg(p + 4, n - 4))
        return 0;
    uint32_t len = ld_u32be(p);
    if (len & 0x80000000u || len < 2)
        return KDC_PROBE_ABSURD;
    /* The DER length of the message (X.690 8.1.3): definite, at most 4 octets, and fitting the record. */
    uint8_t l0 = p[5];
    if (l0 == 0x80 || l0 > 0x84)
        return KDC_PROBE_ABSURD;
    uint64_t dlen = l0, hdr = 2;
    if (l0 > 0x80) {
        size_t k = l0 & 0x7f;
        if (n < 6 + k)
            return KDC_PROBE_OK; /* cannot tell yet */
        dlen = 0;
        for (size_t i = 0; i < k; i++)
            dlen = dlen << 8 | p[6 + i];
        hdr += k;
    }
    if (hdr + dlen > len)
        return KDC_PROBE_ABSURD;
    /* Inside the [APPLICATION n] tag every KDC message is a SEQUENCE (RFC 4120 5.4.1, 5.4.2, 5.9.1). Without
     * this an SMTP greeting is a TGS-REP: "220 mail.example.com" is a length of 0x32323020, then 0x6d 'm'. */
    if (n > 4 + hdr && p[4 + hdr] != 0x30)
        return 0;
    return KDC_PROBE_OK;
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

static void on_request(struct hs_ctx *ctx, const struct krb_msg *m)
{
    struct kdc_rec *r = rec_kdc_new(ctx->recs, ctx->rc, ctx->flow, &ctx->now, true);
    if (!r)
        return;
    const struct krb_kdc_req *q = &m->u.req;
    r->frame_req = ctx->frame;
    r->req_type = m->msg_type;
    r->kind = classify(m);
    r->kdc_options = q->kdc_options;
    strlcpy_n(r->cname, sizeof r->cname, q->cname.name, sizeof q->cname.name);
    r->has_cname_type = q->cname.present;
    r->cname_type = q->cname.name_type;
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
        krb_ticket_ref_fill(&r->tgt, &q->tgs_ap_req.ticket);
        r->dec_tgt = krb_decrypt_ticket(ctx->keys, ctx->st, &q->tgs_ap_req.ticket);
        r->dec_tgs_auth = krb_decrypt_authenticator(ctx->keys, r->dec_tgt, &q->tgs_ap_req.authenticator,
                                                    KU_TGS_REQ_AUTH);
    }
    for (int i = 0; i < q->n_addl; i++) {
        r->dec_addl[r->n_addl] = krb_decrypt_ticket(ctx->keys, ctx->st, &q->addl[i]);
        krb_ticket_ref_fill(&r->addl[r->n_addl++], &q->addl[i]);
    }
}

/* A reply or error answers the oldest request awaiting one; the exchange is written at once. Whom an issued
 * ticket is for is the correlation stage's to decide (it may need the TGT's or the evidence ticket's
 * holder, known from other exchanges). */
static void on_reply(struct hs_ctx *ctx, const struct krb_msg *m)
{
    struct kdc_rec *r = rec_kdc_oldest(ctx->rc);
    if (!r) {
        r = rec_kdc_new(ctx->recs, ctx->rc, ctx->flow, &ctx->now, false); /* its request was not captured */
        if (!r)
            return;
        r->kind = KDC_KIND_UNKNOWN;
        r->include_pac = -1;
    }
    r->frame_rep = ctx->frame;
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
            r->has_cname_type = true;
            r->cname_type = er->cname.name_type;
        }
        /* The error's own realm and sname (RFC 4120 5.9.1: the server's) are kept apart: `realm` stays what
         * the client asked for. Only an error whose request was not seen tells the exchange's names. */
        if (er->sname.present)
            strlcpy_n(r->err_sname, sizeof r->err_sname, er->sname.name, sizeof er->sname.name);
        strlcpy_n(r->err_realm, sizeof r->err_realm, er->realm, sizeof er->realm);
        if (!r->req_type && !r->sname[0] && er->sname.present) {
            strlcpy_n(r->sname, sizeof r->sname, er->sname.name, sizeof er->sname.name);
            strlcpy_n(r->realm, sizeof r->realm, er->realm, sizeof er->realm);
        }
    } else {
        const struct krb_kdc_rep *p = &m->u.rep;
        strlcpy_n(r->rep_cname, sizeof r->rep_cname, p->cname.name, sizeof p->cname.name);
        strlcpy_n(r->rep_crealm, sizeof r->rep_crealm, p->crealm, sizeof p->crealm);
        r->has_ticket = true;
        krb_ticket_ref_fill(&r->ticket, &p->ticket);
        r->ticket.issued_frame = ctx->frame;
        r->dec_reply = krb_decrypt_ticket(ctx->keys, ctx->st, &p->ticket);
        r->ticket_etype = p->ticket.enc.etype;
        r->ticket_has_kvno = p->ticket.enc.has_kvno;
        r->ticket_kvno = p->ticket.enc.kvno;
        r->enc_part_etype = p->enc_part.etype;
    }
    rec_write(ctx->recs, &r->h);
}

static void kdc_message(struct hs_ctx *ctx, struct kdc_state *s, const uint8_t *p, size_t n)
{
    /* A copy of the message just seen is not a new exchange: a UDP request the client sent again
     * (RFC 4120 7.2.1), or the second copy of every datagram a span port delivers (ingress and egress).
     * Paired in order, each copy would make a record of its own. */
    if (n) {
        uint64_t d = copy_digest(p, n);
        uint64_t *last = (p[0] == 0x6a || p[0] == 0x6c) ? &s->last_req : &s->last_rep;
        if (*last == d)
            return;
        *last = d;
    }
    /* One message struct per thread, reused (krb_parse sets it whole): a 3.6 KB malloc per message otherwise. */
    static _Thread_local struct krb_msg msg;
    struct krb_msg *m = &msg;
    if (krb_parse(p, n, m) != 0) {
        ctx->st->malformed[DIS_KERBEROS]++;
    } else if (m->msg_type == KRB_AS_REQ || m->msg_type == KRB_TGS_REQ) {
        on_request(ctx, m);
    } else if (m->msg_type == KRB_AS_REP || m->msg_type == KRB_TGS_REP || m->msg_type == KRB_ERROR) {
        on_reply(ctx, m);
    }
}

static void kdc_datagram(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n)
{
    (void)dir;
    if (!krb_is_kdc_msg(p, n))
        return;
    kdc_message(ctx, state, p, n);
}

/*
 * Parses TCP record-marked Kerberos (RFC 4120 7.2.2: a 4-byte big-endian length, high bit reserved, then the
 * message) from n in-order bytes at p in direction dir. Returns bytes consumed; 0 when a record is incomplete.
 * Records larger than lim.max_pdu are skipped and counted.
 */
static size_t kdc_parse_tcp(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n,
                            struct hs_stream *ad)
{
    (void)dir;
    size_t used = 0;
    if (ad->resync) {
        /* Hunt for a record mark followed by a KDC message. */
        for (; used + 6 <= n; used++)
            if (kdc_probe_tcp(p + used, n - used) >= KDC_PROBE_OK)
                break;
        if (used + 6 > n)
            return n > 5 ? n - 5 : 0;
        ad->resync = false;
    }
    while (n - used >= 4) {
        uint32_t len = ld_u32be(p + used);
        if (len & 0x80000000u) { /* reserved bit (RFC 5021 extensions): not dissected */
            ctx->st->malformed[DIS_KERBEROS]++;
            ad->resync = true;
            return used + 1;
        }
        if (4 + (size_t)len > ctx->lim->max_pdu) { /* it is buffered with its record mark */
            ctx->st->pdu_oversize++;
            if (n - used - 4 >= len) {
                used += 4 + (size_t)len;
                continue;
            }
            ad->skip = len - (n - used - 4);
            return n;
        }
        if (n - used - 4 < len)
            return used;
        kdc_message(ctx, state, p + used + 4, len);
        used += 4 + (size_t)len;
    }
    return used;
}

/* UDP: the digests of the last request and reply, for the engine to keep when the exchange closes. */
static void kdc_copies(const void *state, uint64_t digest[2])
{
    const struct kdc_state *s = state;
    digest[0] = s->last_req;
    digest[1] = s->last_rep;
}

static void *kdc_state_new(struct hs_ctx *ctx)
{
    (void)ctx;
    return calloc(1, sizeof(struct kdc_state));
}

static const uint16_t kdc_ports[] = {88, 0};

const struct hs_dissector dis_kerberos_tcp = {
    .name = "kerberos",
    .transport = 6,
    .ports = kdc_ports,
    .probe = kdc_probe_tcp,
    .threshold = KDC_PROBE_OK,
    .state_new = kdc_state_new,
    .state_free = free,
    .parse = kdc_parse_tcp,
};

const struct hs_dissector dis_kerberos_udp = {
    .name = "kerberos-udp",
    .transport = 17,
    .ports = kdc_ports,
    .state_new = kdc_state_new,
    .state_free = free,
    .datagram = kdc_datagram,
    .copies = kdc_copies,
};
