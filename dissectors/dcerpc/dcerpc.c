/* Connection-oriented DCE/RPC — C706 12.6 (PDUs), MS-RPCE 2.2.2 (extensions), 3.3.1.5 (security contexts). */
#include "dcerpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcerpc_names.h"
#include "dcom.h"
#include "mech.h"
#include "ntlmproof.h"
#include "reader.h"
#include "util.h"

/*
 * Common header (C706 12.6.3.1), 16 bytes; integers in the byte order packed_drep[0] says (0x10: little):
 *   0 rpc_vers (5)  1 rpc_vers_minor (0/1)  2 PTYPE  3 pfc_flags  4 packed_drep[4]
 *   8 frag_length u16  10 auth_length u16  12 call_id u32
 * An auth verifier (sec_trailer, MS-RPCE 2.2.2.11) closes the PDU when auth_length > 0:
 *   ... auth_pad | auth_type u8  auth_level u8  auth_pad_length u8  auth_reserved u8  auth_context_id u32 |
 *   auth_value (auth_length bytes)
 */
#define RPC_HDR_LEN 16

enum rpc_ptype {
    PT_REQUEST = 0,
    PT_RESPONSE = 2,
    PT_FAULT = 3,
    PT_BIND = 11,
    PT_BIND_ACK = 12,
    PT_BIND_NAK = 13,
    PT_ALTER_CONTEXT = 14,
    PT_ALTER_CONTEXT_RESP = 15,
    PT_AUTH3 = 16,
    PT_SHUTDOWN = 17,
    PT_CO_CANCEL = 18,
    PT_ORPHANED = 19,
    PT_RTS = 20,
};

#define PFC_FIRST_FRAG  0x01
#define PFC_LAST_FRAG   0x02
#define PFC_OBJECT_UUID 0x80

/* auth_type values with their own token handling (MS-RPCE 2.2.1.1.7) */
#define RPC_C_AUTHN_GSS_NEGOTIATE 9
#define RPC_C_AUTHN_WINNT         10
#define RPC_C_AUTHN_GSS_KERBEROS  16
#define RPC_C_AUTHN_NETLOGON      68

#define RPC_C_AUTHN_LEVEL_NONE    1
#define RPC_C_AUTHN_LEVEL_PKT_INTEGRITY 5
#define RPC_C_AUTHN_LEVEL_PKT_PRIVACY   6

#define RPC_CTX_MAX   16 /* presentation contexts remembered per association */
#define RPC_SEC_MAX   8  /* security contexts per association */
#define RPC_CALLS_MAX 16 /* outstanding calls remembered per association */

/* A presentation context (C706 12.6.3.1 p_cont_elem_t): the interface it binds, once accepted. */
struct pres_ctx {
    bool used, accepted;
    uint16_t id;
    uint8_t uuid[16];
    bool le;
    uint16_t vmaj, vmin;
    const struct dcerpc_if *iface;
};

/* A security context (auth_context_id) and its authentication record. */
struct sec_ctx {
    bool used;
    uint32_t id;
    uint64_t rec;         /* record id */
    bool final_sent;      /* the client sent its final token (AUTHENTICATE, AP-REQ) */
    bool await_call;      /* decided by the answer to the next call */
};

/* A call awaiting its response or fault. */
struct rpc_call {
    bool used;
    uint32_t call_id;
    uint64_t rec;         /* the record its use belongs to (0: none) */
    bool decides;         /* the first call after a three-leg exchange: its answer is the verdict */
    uint32_t use;         /* index + 1 of its use in the record, 0 if none */
    /* DCOM (dcom.h): what the request was and said, for its answer and the `dcom` record */
    const struct dcerpc_if *iface;
    uint16_t opnum;
    uint8_t kind;         /* enum dcom_call */
    bool orpc;            /* the stubs start with ORPCTHIS / ORPCTHAT */
    bool sealed_req;      /* the request's stub was encrypted (privacy) */
    uint8_t auth_level;   /* of the call's security context, 0: none */
    uint64_t frame_req;
    struct timeval ts_req;
    bool have_clsid, have_ver;
    uint8_t clsid[16];    /* little-endian GUID wire bytes */
    uint16_t ver_major, ver_minor;
};

struct dcerpc_state {
    char pipe[64];
    uint64_t carrier;
    struct pres_ctx pctx[RPC_CTX_MAX];
    uint32_t pctx_next;            /* the slot to give way next when all are in use */
    uint16_t proposed[RPC_CTX_MAX]; /* the last bind/alter_context's context ids, in order */
    uint8_t nproposed;
    uint32_t bind_call_id;
    uint8_t bind_ptype;
    uint64_t bind_rec;             /* the record the last bind/alter_context carried tokens for */
    struct sec_ctx sec[RPC_SEC_MAX];
    uint32_t sec_next;
    uint32_t last_sec;             /* index + 1 of the security context last authenticated */
    struct rpc_call calls[RPC_CALLS_MAX];
    uint32_t call_next;
    bool greeted;                  /* ncacn_http greeting seen (or the stream began otherwise) */
};

static bool hdr_plausible(const uint8_t *h)
{
    uint8_t drep0 = h[4];
    return h[0] == 5 && h[1] <= 1 && h[2] <= PT_RTS && (drep0 == 0x10 || drep0 == 0x00 || drep0 == 0x11 || drep0 == 0x01);
}

static uint16_t get16(const uint8_t *p, bool le)
{
    return le ? ld_u16le(p) : ld_u16be(p);
}

static uint32_t get32(const uint8_t *p, bool le)
{
    return le ? ld_u32le(p) : ld_u32be(p);
}

int dcerpc_probe(const uint8_t *p, size_t n)
{
    if (n < RPC_HDR_LEN || !hdr_plausible(p))
        return 0;
    uint8_t pt = p[2];
    /* what opens a direction: a bind or alter_context from the client, their answers from the server */
    if (pt != PT_BIND && pt != PT_BIND_ACK && pt != PT_BIND_NAK && pt != PT_ALTER_CONTEXT &&
        pt != PT_ALTER_CONTEXT_RESP)
        return 0;
    bool le = (p[4] & 0x10) != 0;
    uint16_t frag = get16(p + 8, le), alen = get16(p + 10, le);
    if (frag < RPC_HDR_LEN + 8 || (size_t)alen + 8 + RPC_HDR_LEN > frag)
        return 0;
    return 90;
}

/* ---- per-association state ------------------------------------------------------------------------ */

static struct pres_ctx *pctx_get(struct dcerpc_state *st, uint16_t id, bool create)
{
    struct pres_ctx *free_slot = NULL;
    for (int i = 0; i < RPC_CTX_MAX; i++) {
        if (st->pctx[i].used && st->pctx[i].id == id)
            return &st->pctx[i];
        if (!st->pctx[i].used && !free_slot)
            free_slot = &st->pctx[i];
    }
    if (!create)
        return NULL;
    if (!free_slot) {
        /* full: one gives way, in turn, but never the context the bind in progress proposed first (its
         * interface names the authentication) */
        for (int tries = 0; tries < RPC_CTX_MAX && !free_slot; tries++) {
            struct pres_ctx *c = &st->pctx[st->pctx_next++ % RPC_CTX_MAX];
            if (!(st->nproposed && c->id == st->proposed[0]))
                free_slot = c;
        }
        if (!free_slot)
            free_slot = &st->pctx[0];
    }
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->used = true;
    free_slot->id = id;
    return free_slot;
}

static struct sec_ctx *sec_get(struct dcerpc_state *st, uint32_t id, bool create)
{
    for (int i = 0; i < RPC_SEC_MAX; i++)
        if (st->sec[i].used && st->sec[i].id == id)
            return &st->sec[i];
    if (!create)
        return NULL;
    struct sec_ctx *s = &st->sec[st->sec_next++ % RPC_SEC_MAX];
    memset(s, 0, sizeof *s);
    s->used = true;
    s->id = id;
    return s;
}

static struct rpc_call *call_find(struct dcerpc_state *st, uint32_t call_id)
{
    for (int i = 0; i < RPC_CALLS_MAX; i++)
        if (st->calls[i].used && st->calls[i].call_id == call_id)
            return &st->calls[i];
    return NULL;
}

static struct rpc_call *call_add(struct dcerpc_state *st, uint32_t call_id)
{
    struct rpc_call *c = call_find(st, call_id);
    if (!c) {
        for (int i = 0; i < RPC_CALLS_MAX && !c; i++)
            if (!st->calls[i].used)
                c = &st->calls[i];
        if (!c)
            c = &st->calls[st->call_next++ % RPC_CALLS_MAX]; /* unanswered calls beyond the cap: oldest forgotten */
    }
    memset(c, 0, sizeof *c);
    c->used = true;
    c->call_id = call_id;
    return c;
}

/* ---- the auth verifier ------------------------------------------------------------------------------ */

struct verifier {
    bool present;
    uint8_t auth_type, auth_level;
    uint32_t ctx_id;
    const uint8_t *value;
    size_t len;
};

/* Reads the sec_trailer of PDU h[0..frag) whose body starts at body_min; false when it is malformed. */
static bool read_verifier(const uint8_t *h, size_t frag, size_t body_min, bool le, struct verifier *v)
{
    memset(v, 0, sizeof *v);
    uint16_t alen = get16(h + 10, le);
    if (alen == 0)
        return true;
    if ((size_t)alen + 8 > frag || frag - alen - 8 < body_min)
        return false;
    size_t off = frag - alen - 8;
    v->present = true;
    v->auth_type = h[off];
    v->auth_level = h[off + 1];
    v->ctx_id = get32(h + off + 4, le);
    v->value = h + off + 8;
    v->len = alen;
    return true;
}

/* The stub of PDU h[0..frag): from `body` to the auth verifier's padding (MS-RPCE 2.2.2.11 auth_pad_length).
 * False when the padding runs into the header. */
static bool stub_of(const uint8_t *h, size_t frag, size_t body, const struct verifier *v, const uint8_t **stub,
                    size_t *n)
{
    size_t end = frag;
    if (v->present) {
        end = frag - v->len - 8;
        uint8_t pad = h[end + 2];
        if (end < body || pad > end - body)
            return false;
        end -= pad;
    }
    if (end < body)
        return false;
    *stub = h + body;
    *n = end - body;
    return true;
}

/*
 * The verifier's token as a GSS token. NTLMSSP (10) and SPNEGO (9) tokens are what gss_token_parse reads;
 * Kerberos (16) in DCE style (MS-RPCE 3.3.1.5.2.2, RFC 4121 4.4) may send the AP-REQ, AP-REP and errors
 * bare, without the GSS framing: those are wrapped here by hand. False when it is none of these.
 */
static bool verifier_token(struct hs_ctx *ctx, const struct verifier *v, struct gss_token *t)
{
    uint8_t tag = v->len ? v->value[0] : 0;
    if (v->auth_type == RPC_C_AUTHN_GSS_KERBEROS && (tag == 0x6e || tag == 0x6f || tag == 0x7e)) {
        memset(t, 0, sizeof *t);
        t->kind = GSS_KRB5;
        t->neg_state = NEG_STATE_ABSENT;
        t->inner_mech = MECH_KRB5;
        t->krb5_tok_id = tag == 0x6e ? KRB5_TOK_AP_REQ : tag == 0x6f ? KRB5_TOK_AP_REP : KRB5_TOK_ERROR;
        t->krb5_msg = v->value;
        t->krb5_msg_len = v->len;
        return true;
    }
    return gss_blob_parse(ctx, v->value, v->len, t) == 0;
}

/* NL_AUTH_MESSAGE (MS-NRPC 2.2.1.3.1): MessageType u32, Flags u32, then the names the flags announce;
 * the first two are NUL-terminated OEM strings. Returns the MessageType, or -1 when malformed. */
static long netlogon_message(const uint8_t *p, size_t n, char *domain, size_t dcap, char *computer, size_t ccap)
{
    if (n < 8)
        return -1;
    uint32_t type = ld_u32le(p), flags = ld_u32le(p + 4);
    size_t off = 8;
    char *outs[2] = {domain, computer};
    size_t caps[2] = {dcap, ccap};
    for (int i = 0; i < 2; i++) {
        if (!(flags & (1u << i)))
            continue;
        const uint8_t *z = off < n ? memchr(p + off, 0, n - off) : NULL;
        if (!z)
            return -1;
        oem_to_utf8(p + off, (size_t)(z - (p + off)), outs[i], caps[i]);
        off = (size_t)(z - p) + 1;
    }
    return (long)type;
}

/* ---- security context legs -------------------------------------------------------------------------- */

/* The interface the association's last bind proposed first (what an authentication is for). */
static void set_iface(struct dcerpc_state *st, struct auth_rec *r)
{
    if (!st->nproposed)
        return;
    struct pres_ctx *pc = pctx_get(st, st->proposed[0], false);
    if (!pc)
        return;
    r->dcerpc.have_iface = true;
    memcpy(r->dcerpc.iface_uuid, pc->uuid, 16);
    r->dcerpc.iface_le = pc->le;
    r->dcerpc.iface_vmaj = pc->vmaj;
    r->dcerpc.iface_vmin = pc->vmin;
    r->dcerpc.iface_name = pc->iface ? pc->iface->name : NULL;
}

/*
 * Does a client token start over on a security context whose record r is still open? Only when it repeats
 * a first leg r already has (a second NTLM NEGOTIATE, AP-REQ, SPNEGO NegTokenInit or NETLOGON request): a
 * NegTokenInit whose optimistic token the server declined is followed by the chosen mechanism's first
 * token in an alter_context, and that continues the same negotiation (RFC 4178 3.2).
 */
static bool restarts(const struct auth_rec *r, const struct gss_token *t, uint8_t auth_type)
{
    if (auth_type == RPC_C_AUTHN_NETLOGON)
        return r->frames.negotiate != 0;
    if (!t || !gss_token_starts(t))
        return false;
    if (t->kind == GSS_SPNEGO_INIT)
        return r->gss.spnego.mech_types != 0;
    if (t->inner_mech == MECH_NTLMSSP)
        return r->frames.negotiate != 0;
    return r->frames.ap_req != 0;
}

/* A token from the client in a bind, alter_context or auth3 (ptype pt, call call_id). */
static void client_leg(struct hs_ctx *ctx, struct dcerpc_state *st, const struct verifier *v, uint8_t pt,
                       uint32_t call_id)
{
    if (!v->present || v->auth_level == RPC_C_AUTHN_LEVEL_NONE)
        return;
    struct gss_token t;
    bool have = v->auth_type != RPC_C_AUTHN_NETLOGON && verifier_token(ctx, v, &t);
    struct sec_ctx *sc = sec_get(st, v->ctx_id, true);
    struct auth_rec *r = ctx_auth_get(ctx, sc->rec);
    if (pt == PT_AUTH3 && r && !r->h.open) {
        /* A late leg of a decided exchange (DCE-style Kerberos: the client's own AP-REP in an AUTH3): it
         * changes nothing, and must not take the server's AP-REP frame. */
        r->dcerpc.legs++;
        return;
    }
    if (!r || !r->h.open || (pt != PT_AUTH3 && restarts(r, have ? &t : NULL, v->auth_type))) {
        r = ctx_auth_new(ctx, TRANSPORT_DCERPC);
        if (!r)
            return;
        sc->rec = r->h.id;
        sc->final_sent = false;
        sc->await_call = false;
        r->context_id = v->ctx_id;
        r->carrier = st->carrier;
        r->dcerpc.auth_type = v->auth_type;
        r->dcerpc.auth_level = v->auth_level;
        r->dcerpc.bind_call_id = call_id;
        strlcpy_n(r->dcerpc.pipe, sizeof r->dcerpc.pipe, st->pipe, sizeof st->pipe);
        set_iface(st, r);
    }
    r->dcerpc.legs++;
    if (v->auth_type == RPC_C_AUTHN_NETLOGON) {
        r->gss.mech = AMECH_NETLOGON;
        if (netlogon_message(v->value, v->len, r->dcerpc.netlogon_domain, sizeof r->dcerpc.netlogon_domain,
                             r->dcerpc.netlogon_computer, sizeof r->dcerpc.netlogon_computer) < 0)
            ctx->st->malformed[DIS_DCERPC]++;
        else if (!r->frames.negotiate)
            r->frames.negotiate = ctx->frame;
        sc->final_sent = true;
    } else if (have) {
        gss_apply(ctx, r, &t, 0, false);
        if (gss_token_is_final(&t))
            sc->final_sent = true;
    }
    if (pt != PT_AUTH3)
        st->bind_rec = r->h.id;
    if (pt == PT_AUTH3 && r->h.open) {
        /* Nothing answers an AUTH3: the server's verdict is what it does with the next call. */
        r->dcerpc.auth3 = true;
        r->state = AUTH_UNCONFIRMED;
        sc->await_call = true;
    }
    st->last_sec = (uint32_t)(sc - st->sec) + 1;
}

/* A token (or none) from the server in a bind_ack or alter_context_resp. */
static void server_leg(struct hs_ctx *ctx, struct dcerpc_state *st, const struct verifier *v)
{
    struct sec_ctx *sc = v->present ? sec_get(st, v->ctx_id, false) : NULL;
    struct auth_rec *r = sc ? ctx_auth_get(ctx, sc->rec) : ctx_auth_get(ctx, st->bind_rec);
    if (!r || !r->h.open)
        return;
    if (!sc) {
        for (int i = 0; i < RPC_SEC_MAX && !sc; i++)
            if (st->sec[i].used && st->sec[i].rec == r->h.id)
                sc = &st->sec[i];
        if (!sc)
            return;
    }
    bool completes = false, continues = false;
    if (v->present && v->auth_type == RPC_C_AUTHN_NETLOGON) {
        char d[2], c[2];
        long type = netlogon_message(v->value, v->len, d, sizeof d, c, sizeof c);
        if (type < 0)
            ctx->st->malformed[DIS_DCERPC]++;
        completes = type == 1; /* NL_NEGOTIATE_RESPONSE */
    } else if (v->present) {
        struct gss_token t;
        if (verifier_token(ctx, v, &t)) {
            gss_apply(ctx, r, &t, 1, false);
            if (t.kind == GSS_KRB5 && t.krb5_tok_id == KRB5_TOK_AP_REP)
                completes = true;
            else if (t.kind == GSS_KRB5 && t.krb5_tok_id == KRB5_TOK_ERROR) {
                rec_auth_verdict(r, ctx->frame, RESULT_FAILURE,
                                 hs_status_of(STATUS_KERBEROS, (uint32_t)r->gss.krb.error_code), VERDICT_BIND_ACK);
                return;
            } else if (t.kind == GSS_SPNEGO_RESP && t.neg_state == NEG_STATE_ACCEPT_COMPLETED)
                completes = true;
            else if (t.kind == GSS_SPNEGO_RESP && t.neg_state == NEG_STATE_REJECT) {
                rec_auth_verdict(r, ctx->frame, RESULT_FAILURE, hs_status_of(STATUS_NONE, 0), VERDICT_BIND_ACK);
                return;
            } else
                continues = true; /* NTLM CHALLENGE, SPNEGO accept-incomplete */
        }
    }
    if (completes || (sc->final_sent && !continues))
        rec_auth_verdict(r, ctx->frame, RESULT_SUCCESS, hs_status_of(STATUS_NONE, 0), VERDICT_BIND_ACK);
}

/* ---- PDUs ------------------------------------------------------------------------------------------- */

static void on_bind(struct hs_ctx *ctx, struct dcerpc_state *st, const uint8_t *h, size_t frag, bool le,
                    uint8_t pt, uint32_t call_id)
{
    /* 12.6.4.3: max_xmit_frag u16, max_recv_frag u16, assoc_group_id u32, p_context_elem */
    struct rd r = rd_make(h + RPC_HDR_LEN, frag - RPC_HDR_LEN);
    rd_skip(&r, 8);
    uint8_t n = rd_u8(&r);
    rd_skip(&r, 3);
    st->nproposed = 0;
    st->bind_call_id = call_id;
    st->bind_ptype = pt;
    st->bind_rec = 0;
    for (unsigned i = 0; i < n && !r.err; i++) {
        const uint8_t *e = rd_bytes(&r, 24); /* p_cont_id u16, n_transfer_syn u8, reserved, abstract_syntax */
        if (!e)
            break;
        uint8_t nts = e[2];
        rd_skip(&r, (size_t)nts * 20); /* transfer syntaxes: uuid + version */
        if (r.err)
            break;
        uint16_t id = get16(e, le);
        struct pres_ctx *pc = pctx_get(st, id, true);
        memcpy(pc->uuid, e + 4, 16);
        pc->le = le;
        uint32_t ver = get32(e + 20, le);
        pc->vmaj = (uint16_t)(ver & 0xffff);
        pc->vmin = (uint16_t)(ver >> 16);
        pc->iface = dcerpc_if_find(pc->uuid, le, pc->vmaj);
        pc->accepted = false;
        if (st->nproposed < RPC_CTX_MAX)
            st->proposed[st->nproposed++] = id;
    }
    size_t body_min = RPC_HDR_LEN + (r.err ? 0 : r.pos);
    struct verifier v;
    if (r.err || !read_verifier(h, frag, body_min, le, &v)) {
        ctx->st->malformed[DIS_DCERPC]++;
        return;
    }
    client_leg(ctx, st, &v, pt, call_id);
}

static void on_bind_ack(struct hs_ctx *ctx, struct dcerpc_state *st, const uint8_t *h, size_t frag, bool le)
{
    /* 12.6.4.4: max_xmit u16, max_recv u16, assoc_group u32, sec_addr (port_spec: len u16 + bytes), align 4,
     * p_result_list: n_results u8, reserved u8 u16, results (result u16, reason u16, transfer syntax 20) */
    struct rd r = rd_make(h, frag);
    rd_skip(&r, RPC_HDR_LEN + 8);
    uint16_t alen = rd_u16le(&r);
    if (!le)
        alen = (uint16_t)(alen >> 8 | alen << 8);
    rd_skip(&r, alen);
    if (r.pos % 4)
        rd_skip(&r, 4 - r.pos % 4);
    uint8_t n = rd_u8(&r);
    rd_skip(&r, 3);
    unsigned accepted = 0;
    uint16_t reason = 0;
    for (unsigned i = 0; i < n && !r.err; i++) {
        const uint8_t *e = rd_bytes(&r, 24);
        if (!e)
            break;
        bool ok = get16(e, le) == 0;
        accepted += ok;
        if (!ok && !reason)
            reason = get16(e + 2, le);
        if (i < st->nproposed) {
            struct pres_ctx *pc = pctx_get(st, st->proposed[i], false);
            if (pc)
                pc->accepted = ok;
        }
    }
    struct verifier v;
    if (r.err || !read_verifier(h, frag, r.pos, le, &v)) {
        ctx->st->malformed[DIS_DCERPC]++;
        return;
    }
    server_leg(ctx, st, &v);
    /* Every context rejected (the interface is not served there): whatever the tokens say, the attempt ends. */
    struct auth_rec *ar = ctx_auth_get(ctx, st->bind_rec);
    if (n && !accepted && ar && ar->h.open)
        rec_auth_verdict(ar, ctx->frame, RESULT_FAILURE, hs_status_of(STATUS_RPC_CONTEXT, reason), VERDICT_BIND_ACK);
}

static void on_bind_nak(struct hs_ctx *ctx, struct dcerpc_state *st, const uint8_t *h, size_t frag, bool le)
{
    if (frag < RPC_HDR_LEN + 2) {
        ctx->st->malformed[DIS_DCERPC]++;
        return;
    }
    uint16_t reason = get16(h + RPC_HDR_LEN, le);
    struct auth_rec *r = ctx_auth_get(ctx, st->bind_rec);
    if (r && r->h.open)
        rec_auth_verdict(r, ctx->frame, RESULT_FAILURE, hs_status_of(STATUS_RPC_REJECT, reason), VERDICT_BIND_NAK);
}

static void on_auth3(struct hs_ctx *ctx, struct dcerpc_state *st, const uint8_t *h, size_t frag, bool le,
                     uint32_t call_id)
{
    struct verifier v;
    if (!read_verifier(h, frag, RPC_HDR_LEN, le, &v)) {
        ctx->st->malformed[DIS_DCERPC]++;
        return;
    }
    client_leg(ctx, st, &v, PT_AUTH3, call_id);
}

/* With --creds: an NTLMSSP verifier of a call or its answer at level integrity or privacy is checked against
 * the keys the logon could have made (ntlmproof.h); body is where the PDU's stub starts. */
static void check_signature(struct hs_ctx *ctx, struct auth_rec *r, const struct verifier *v, const uint8_t *h,
                            size_t frag, size_t body, bool from_server)
{
    if (!ctx->creds || !r->gss.ntlm.proof || !v->present || v->len != 16 || v->auth_level < RPC_C_AUTHN_LEVEL_PKT_INTEGRITY ||
        (v->auth_type != RPC_C_AUTHN_WINNT && v->auth_type != RPC_C_AUTHN_GSS_NEGOTIATE))
        return;
    ntlm_proof_dcerpc(ctx->creds, r->gss.ntlm.proof, ctx->frame, from_server, h, frag, body, v->value,
                      v->auth_level == RPC_C_AUTHN_LEVEL_PKT_PRIVACY, ctx->scratch, ctx->scratch_cap);
}

/* The server's answer to a call: its verifier's signature (with --creds). */
static void on_response_verifier(struct hs_ctx *ctx, struct dcerpc_state *st, const uint8_t *h, size_t frag, bool le,
                                 uint32_t call_id)
{
    if (!ctx->creds)
        return;
    struct rpc_call *c = call_find(st, call_id);
    struct auth_rec *r = c ? ctx_auth_get(ctx, c->rec) : NULL;
    struct verifier v;
    if (!r || !read_verifier(h, frag, RPC_HDR_LEN + 8, le, &v))
        return;
    check_signature(ctx, r, &v, h, frag, RPC_HDR_LEN + 8, true);
}

/*
 * DCOM inside a request (MS-DCOM 2.2.13, 3.1.2.5): a request with an object UUID (an IPID) or to an
 * activator starts its stub with ORPCTHIS; activations, OXID resolutions and WMI calls say more (dcom.h).
 * Only a whole request (one fragment) whose stub is not sealed is read. Fills c and *dq; true when dq holds
 * what the stub said.
 */
static bool dcom_on_request(struct hs_ctx *ctx, struct rpc_call *c, const uint8_t *h, size_t frag, size_t body,
                            bool le, const struct verifier *v, struct dcom_req *dq)
{
    enum dcom_call k = dcom_call_of(c->iface ? c->iface->name : NULL, c->opnum);
    c->kind = (uint8_t)k;
    /* An object UUID on an interface hopscope knows as plain RPC (samr, svcctl ...) is no IPID; on a COM
     * interface (named I...) or an unknown one (a class's own interface on a dynamic port) it is. */
    bool com_iface = !c->iface || c->iface->name[0] == 'I';
    c->orpc = ((h[3] & PFC_OBJECT_UUID) && com_iface && k != DCOM_RESOLVE_OXID && k != DCOM_RESOLVE_OXID2 &&
               k != DCOM_SERVER_ALIVE2) ||
              dcom_call_has_orpc(k);
    c->sealed_req = v->present && v->auth_level >= RPC_C_AUTHN_LEVEL_PKT_PRIVACY;
    if ((!c->orpc && k == DCOM_CALL_NONE) || c->sealed_req || !(h[3] & PFC_LAST_FRAG))
        return false;
    const uint8_t *stub;
    size_t n;
    if (!stub_of(h, frag, body, v, &stub, &n) || dcom_request(k, c->orpc, stub, n, le, dq) < 0) {
        ctx->st->malformed[DIS_DCERPC]++;
        return false;
    }
    if (dq->have_clsid) {
        c->have_clsid = true;
        memcpy(c->clsid, dq->clsid, 16);
    }
    if (dq->have_orpcthis) {
        c->have_ver = true;
        c->ver_major = dq->orpcthis.ver_major;
        c->ver_minor = dq->orpcthis.ver_minor;
    }
    return true;
}

static void on_request(struct hs_ctx *ctx, struct dcerpc_state *st, const uint8_t *h, size_t frag, bool le,
                       uint32_t call_id)
{
    /* 12.6.4.9: alloc_hint u32, p_cont_id u16, opnum u16, [object uuid] */
    if (frag < RPC_HDR_LEN + 8) {
        ctx->st->malformed[DIS_DCERPC]++;
        return;
    }
    if (!(h[3] & PFC_FIRST_FRAG))
        return;
    uint16_t cont = get16(h + RPC_HDR_LEN + 4, le), opnum = get16(h + RPC_HDR_LEN + 6, le);
    struct verifier v;
    size_t body = RPC_HDR_LEN + 8 + ((h[3] & PFC_OBJECT_UUID) ? 16 : 0);
    if (!read_verifier(h, frag, body > frag ? frag : body, le, &v)) {
        ctx->st->malformed[DIS_DCERPC]++;
        return;
    }
    /* The security context: the verifier's; at level connect requests carry none, so the association's. */
    struct sec_ctx *sc = v.present ? sec_get(st, v.ctx_id, false) : NULL;
    if (!sc && st->last_sec)
        sc = &st->sec[st->last_sec - 1];
    struct auth_rec *r = sc ? ctx_auth_get(ctx, sc->rec) : NULL;
    struct rpc_call *c = call_add(st, call_id);
    struct pres_ctx *pc = pctx_get(st, cont, false);
    c->iface = pc ? pc->iface : NULL;
    c->opnum = opnum;
    c->frame_req = ctx->frame;
    c->ts_req = ctx->now;
    c->auth_level = v.present ? v.auth_level : r ? r->dcerpc.auth_level : 0;
    struct dcom_req dq;
    bool have_dq = dcom_on_request(ctx, c, h, frag, body, le, &v, &dq);
    if (!r)
        return;
    check_signature(ctx, r, &v, h, frag, body, false);
    c->rec = r->h.id;
    if (sc->await_call && r->h.open) {
        c->decides = true;
        sc->await_call = false;
    }
    struct auth_use *u = rec_use_add(ctx->recs, r, ctx->frame);
    if (!u)
        return;
    const char *op = dcerpc_op_name(c->iface, opnum);
    u->iface = c->iface ? c->iface->name : NULL;
    u->opnum = opnum;
    if (op)
        snprintf(u->name, sizeof u->name, "%s", op);
    else
        snprintf(u->name, sizeof u->name, "opnum %u", (unsigned)opnum);
    if (have_dq && dq.detail_kind) {
        u->detail_kind = dq.detail_kind;
        snprintf(u->detail, sizeof u->detail, "%s", dq.detail);
    }
    c->use = r->nuses;
}

/* Is a DCOM call's status a refusal: E_ACCESSDENIED and its kin, or the OXID resolver's ERROR_ACCESS_DENIED? */
static bool dcom_denied(struct hs_status s)
{
    return (s.space == STATUS_HRESULT && dcom_hresult_denied(s.code)) || (s.space == STATUS_WIN32 && s.code == 5);
}

/* The `dcom` record of an activation or OXID resolution c, answered now (dr: what the response stub said,
 * NULL when it was not read). */
static void emit_dcom(struct hs_ctx *ctx, const struct rpc_call *c, bool fault, struct hs_status status,
                      const struct dcom_resp *dr, bool sealed_resp)
{
    struct dcom_rec d;
    memset(&d, 0, sizeof d);
    d.iface = c->iface ? c->iface->name : NULL;
    d.op = dcerpc_op_name(c->iface, c->opnum);
    d.opnum = c->opnum;
    d.frame_req = c->frame_req;
    d.frame_resp = ctx->frame;
    d.auth_level = c->auth_level;
    d.sealed_req = c->sealed_req;
    d.sealed_resp = sealed_resp;
    d.have_com_version = c->have_ver;
    d.com_major = c->ver_major;
    d.com_minor = c->ver_minor;
    d.have_clsid = c->have_clsid;
    memcpy(d.clsid, c->clsid, 16);
    d.class_name = c->have_clsid ? dcom_clsid_name(c->clsid, 1) : NULL;
    d.answered = true;
    d.fault = fault;
    d.status = status;
    d.auth = c->rec;
    struct auth_rec *r = ctx_auth_get(ctx, c->rec);
    if (r)
        auth_who(r, d.user, sizeof d.user);
    if (dr) {
        memcpy(d.bindings, dr->bindings, sizeof d.bindings);
        d.n_bindings = dr->n_bindings;
        d.bindings_cut = dr->bindings_cut;
    }
    rec_dcom_emit(ctx->recs, ctx->rc, ctx->flow, &c->ts_req, &d);
}

/*
 * A response (fault false) or fault (with its status) to call call_id. For a DCOM call answered in one
 * fragment whose stub is not sealed, stub[0..n) (data representation le) is read (dcom_response): its HRESULT is the call's status,
 * and E_ACCESSDENIED (or kin) in it refuses the authentication the call decides, as a fault would.
 */
static void on_answer(struct hs_ctx *ctx, struct dcerpc_state *st, uint32_t call_id, bool fault, uint32_t status,
                      const uint8_t *stub, size_t n, bool le, bool sealed)
{
    struct rpc_call *c = call_find(st, call_id);
    if (!c) {
        /* A fault answering an alter_context refuses its security context. */
        if (fault && call_id == st->bind_call_id && st->bind_ptype == PT_ALTER_CONTEXT) {
            struct auth_rec *r = ctx_auth_get(ctx, st->bind_rec);
            if (r && r->h.open)
                rec_auth_verdict(r, ctx->frame, RESULT_FAILURE, hs_status_of(STATUS_NCA, status), VERDICT_BIND_NAK);
        }
        return;
    }
    struct hs_status st_call = fault ? hs_status_of(STATUS_NCA, status) : hs_status_of(STATUS_NONE, 0);
    struct dcom_resp dr;
    bool have_dr = false;
    if (!fault && stub && !sealed && (c->orpc || c->kind != DCOM_CALL_NONE)) {
        if (dcom_response((enum dcom_call)c->kind, c->orpc, stub, n, le, &dr) < 0)
            ctx->st->malformed[DIS_DCERPC]++;
        have_dr = true; /* what was read before a fault in the stub still counts */
        if (dr.have_status)
            st_call = dr.status;
    }
    struct auth_rec *r = ctx_auth_get(ctx, c->rec);
    if (r) {
        if (c->use && c->use <= r->nuses) {
            struct auth_use *u = &r->uses[c->use - 1];
            u->answered = true;
            u->frame_resp = ctx->frame;
            u->status = st_call;
        }
        if (c->decides && r->h.open) {
            bool refused = fault || dcom_denied(st_call);
            rec_auth_verdict(r, ctx->frame, refused ? RESULT_FAILURE : RESULT_SUCCESS,
                             refused ? st_call : hs_status_of(STATUS_NONE, 0), VERDICT_FIRST_CALL);
        }
    }
    if (dcom_call_is_activation((enum dcom_call)c->kind))
        emit_dcom(ctx, c, fault, st_call, have_dr ? &dr : NULL, sealed);
    c->used = false;
}

/* A response PDU: its stub (when it is the only fragment) goes to on_answer. */
static void on_response(struct hs_ctx *ctx, struct dcerpc_state *st, const uint8_t *h, size_t frag, bool le,
                        uint32_t call_id)
{
    /* 12.6.4.10: alloc_hint u32, p_cont_id u16, cancel_count u8, reserved u8, stub */
    if (frag < RPC_HDR_LEN + 8) {
        ctx->st->malformed[DIS_DCERPC]++;
        return;
    }
    if (!(h[3] & PFC_FIRST_FRAG))
        return;
    on_response_verifier(ctx, st, h, frag, le, call_id);
    struct verifier v;
    if (!read_verifier(h, frag, RPC_HDR_LEN + 8, le, &v)) {
        ctx->st->malformed[DIS_DCERPC]++;
        return;
    }
    const uint8_t *stub = NULL;
    size_t n = 0;
    bool sealed = v.present && v.auth_level >= RPC_C_AUTHN_LEVEL_PKT_PRIVACY;
    if ((h[3] & PFC_LAST_FRAG) && !stub_of(h, frag, RPC_HDR_LEN + 8, &v, &stub, &n)) {
        ctx->st->malformed[DIS_DCERPC]++;
        stub = NULL;
    }
    on_answer(ctx, st, call_id, false, 0, stub, n, le, sealed);
}

/* One whole PDU h[0..frag) in direction dir. */
static void pdu(struct hs_ctx *ctx, struct dcerpc_state *st, int dir, const uint8_t *h, size_t frag)
{
    (void)dir;
    bool le = (h[4] & 0x10) != 0;
    uint32_t call_id = get32(h + 12, le);
    switch (h[2]) {
    case PT_BIND:
    case PT_ALTER_CONTEXT:
        on_bind(ctx, st, h, frag, le, h[2], call_id);
        break;
    case PT_BIND_ACK:
    case PT_ALTER_CONTEXT_RESP:
        on_bind_ack(ctx, st, h, frag, le);
        break;
    case PT_BIND_NAK:
        on_bind_nak(ctx, st, h, frag, le);
        break;
    case PT_AUTH3:
        on_auth3(ctx, st, h, frag, le, call_id);
        break;
    case PT_REQUEST:
        on_request(ctx, st, h, frag, le, call_id);
        break;
    case PT_RESPONSE:
        on_response(ctx, st, h, frag, le, call_id);
        break;
    case PT_FAULT:
        /* 12.6.4.7: alloc_hint u32, p_cont_id u16, cancel_count u8, reserved u8, status u32 */
        if (frag < RPC_HDR_LEN + 12)
            ctx->st->malformed[DIS_DCERPC]++;
        else
            on_answer(ctx, st, call_id, true, get32(h + RPC_HDR_LEN + 8, le), NULL, 0, le, false);
        break;
    default: /* shutdown, co_cancel, orphaned, RTS (RPC over HTTP), connectionless types */
        break;
    }
}

/* Offset of the first plausible PDU start in p[0..n), or -1. */
static long find_pdu(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + RPC_HDR_LEN <= n; i++) {
        if (!hdr_plausible(p + i))
            continue;
        bool le = (p[i + 4] & 0x10) != 0;
        uint16_t frag = get16(p + i + 8, le), alen = get16(p + i + 10, le);
        if (frag >= RPC_HDR_LEN && (size_t)alen + RPC_HDR_LEN <= frag)
            return (long)i;
    }
    return -1;
}

/*
 * Parses DCE/RPC PDUs from n in-order bytes at p: each is its 16-byte header and frag_length bytes in all,
 * handled whole once complete (a PDU is at most 65,535 bytes; beyond lim.max_pdu it is skipped and
 * counted). Returns the bytes consumed, 0 when a PDU is incomplete. A header that is not DCE/RPC v5, or a
 * frag_length shorter than the header or the auth verifier it announces, is counted (DIS_DCERPC) and the
 * stream resynchronised.
 */
static size_t dcerpc_parse(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n, struct hs_stream *s)
{
    struct dcerpc_state *st = state;
    size_t used = 0;
    /* RPC over HTTP v1 (ncacn_http, port 593): the server greets with "ncacn_http/1.0" (MS-RPCH 2.1.2.2.1)
     * before the first PDU; not a malformed PDU. */
    static const char greeting[] = "ncacn_http/1.0";
    if (!st->greeted && n >= sizeof greeting - 1 && memcmp(p, greeting, sizeof greeting - 1) == 0) {
        st->greeted = true;
        used = sizeof greeting - 1;
    }
    if (s->resync) {
        long at = find_pdu(p + used, n - used);
        if (at < 0)
            return n - used > RPC_HDR_LEN - 1 ? n - (RPC_HDR_LEN - 1) : used;
        s->resync = false;
        used += (size_t)at;
    }
    while (n - used >= RPC_HDR_LEN) {
        const uint8_t *h = p + used;
        bool le = (h[4] & 0x10) != 0;
        uint16_t frag = get16(h + 8, le), alen = get16(h + 10, le);
        if (!hdr_plausible(h) || frag < RPC_HDR_LEN || (size_t)alen + RPC_HDR_LEN > frag) {
            ctx->st->malformed[DIS_DCERPC]++;
            s->resync = true;
            return used + 1;
        }
        if (frag > ctx->lim->max_pdu) {
            ctx->st->pdu_oversize++;
            if (n - used >= frag) {
                used += frag;
                continue;
            }
            s->skip = frag - (n - used);
            return n;
        }
        if (n - used < frag)
            return used;
        pdu(ctx, st, dir, h, frag);
        used += frag;
    }
    return used;
}

static void *dcerpc_state_new(struct hs_ctx *ctx)
{
    (void)ctx;
    return calloc(1, sizeof(struct dcerpc_state));
}

void *dcerpc_state_new_pipe(struct hs_ctx *ctx, const char *pipe, uint64_t carrier)
{
    struct dcerpc_state *st = dcerpc_state_new(ctx);
    if (!st)
        return NULL;
    strlcpy_n(st->pipe, sizeof st->pipe, pipe, strlen(pipe));
    st->carrier = carrier;
    return st;
}

static const uint16_t dcerpc_ports[] = {135, 593, 0};

const struct hs_dissector dis_dcerpc = {
    .name = "dcerpc",
    .transport = 6,
    .ports = dcerpc_ports,
    .probe = dcerpc_probe,
    .threshold = 90,
    .state_new = dcerpc_state_new,
    .state_free = free,
    .parse = dcerpc_parse,
};
