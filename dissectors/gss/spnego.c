/* GSS-API tokens and SPNEGO — RFC 2743 3.1, RFC 4178 4.2, MS-SPNG 2.2.1 (NegTokenInit2). */
#include "spnego.h"

#include <string.h>

#include "der.h"
#include "ntlmssp.h"
#include "util.h"

static const uint8_t oid_ntlmssp[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t oid_negoex[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e};
static const uint8_t oid_krb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_krb5_u2u[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03};
static const uint8_t oid_ms_krb5[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_spnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
static const uint8_t oid_iakerb[] = {0x2b, 0x06, 0x01, 0x05, 0x02, 0x05};

#define OID_IS(v, n, o) ((n) == sizeof(o) && memcmp((v), (o), sizeof(o)) == 0)

enum gss_mech gss_mech_from_oid(const uint8_t *v, size_t n)
{
    if (OID_IS(v, n, oid_ntlmssp)) return MECH_NTLMSSP;
    if (OID_IS(v, n, oid_krb5)) return MECH_KRB5;
    if (OID_IS(v, n, oid_ms_krb5)) return MECH_MS_KRB5;
    if (OID_IS(v, n, oid_krb5_u2u)) return MECH_KRB5_U2U;
    if (OID_IS(v, n, oid_negoex)) return MECH_NEGOEX;
    if (OID_IS(v, n, oid_spnego)) return MECH_SPNEGO;
    if (OID_IS(v, n, oid_iakerb)) return MECH_IAKERB;
    return MECH_OTHER;
}

/* One mechanism bit at a time; MECH_OTHER, and anything not listed (several bits), is "other". */
static const struct tok gss_mech_names[] = {
    {MECH_NONE, "none"}, {MECH_NTLMSSP, "ntlmssp"}, {MECH_KRB5, "kerberos"},
    {MECH_MS_KRB5, "kerberos"}, {MECH_KRB5_U2U, "kerberos-u2u"}, {MECH_NEGOEX, "negoex"},
    {MECH_SPNEGO, "spnego"}, {MECH_IAKERB, "iakerb"}, {0, NULL},
};

const char *gss_mech_name(enum gss_mech m)
{
    const char *s = tok_name(gss_mech_names, (uint32_t)m);
    return s ? s : "other";
}

/* negState (RFC 4178 4.2.2); NEG_STATE_ABSENT (-1) is not listed, so it gives NULL. */
static const struct tok spnego_neg_state_names[] = {
    {NEG_STATE_ACCEPT_COMPLETED, "accept-completed"},
    {NEG_STATE_ACCEPT_INCOMPLETE, "accept-incomplete"},
    {NEG_STATE_REJECT, "reject"},
    {NEG_STATE_REQUEST_MIC, "request-mic"},
    {0, NULL},
};

const char *spnego_neg_state_name(int s)
{
    return tok_name(spnego_neg_state_names, (uint32_t)s);
}

/* Identifies what a mechToken/responseToken is by its first bytes. */
static void classify_inner(struct gss_token *t, const uint8_t *p, size_t n);

/* GSS krb5 token body after the OID: TOK_ID (2 bytes, big-endian) then the KRB message. */
static void krb5_body(struct gss_token *t, const uint8_t *p, size_t n)
{
    if (n >= 2) {
        t->krb5_tok_id = ld_u16be(p);
        t->krb5_msg = p + 2;
        t->krb5_msg_len = n - 2;
    }
}

static void classify_inner(struct gss_token *t, const uint8_t *p, size_t n)
{
    t->inner = p;
    t->inner_len = n;
    t->inner_mech = MECH_NONE;
    if (ntlmssp_is(p, n)) {
        t->inner_mech = MECH_NTLMSSP;
        return;
    }
    /* A krb5 mech token inside SPNEGO is itself GSS-framed: [APPLICATION 0] { OID, TOK_ID, msg }.
     * Bare AP-REP / KRB-ERROR ([APPLICATION 15] / [APPLICATION 30]) also occur in responses. */
    struct rd r = rd_make(p, n);
    struct der_tlv app, oid;
    if (der_next(&r, &app) && app.cls == DER_APPLICATION && app.constructed) {
        if (app.tag == 0) {
            struct rd in = der_inner(&app);
            if (der_expect(&in, DER_UNIVERSAL, DER_TAG_OID, &oid)) {
                enum gss_mech m = gss_mech_from_oid(oid.val, oid.len);
                if (m == MECH_KRB5 || m == MECH_MS_KRB5 || m == MECH_KRB5_U2U || m == MECH_IAKERB) {
                    t->inner_mech = m == MECH_KRB5_U2U ? MECH_KRB5_U2U : MECH_KRB5;
                    krb5_body(t, in.p + in.pos, rd_left(&in));
                }
            }
        } else if (app.tag == 15 || app.tag == 30 || app.tag == 14) {
            t->inner_mech = MECH_KRB5;
            t->krb5_tok_id = app.tag == 14 ? KRB5_TOK_AP_REQ : app.tag == 15 ? KRB5_TOK_AP_REP : KRB5_TOK_ERROR;
            t->krb5_msg = p;
            t->krb5_msg_len = n;
        }
    }
}

/* MechTypeList ::= SEQUENCE OF MechType */
static bool parse_mech_types(struct rd *r, struct gss_token *t)
{
    struct der_tlv oid;
    bool first = true;
    while (rd_left(r) > 0) {
        if (!der_next(r, &oid) || oid.cls != DER_UNIVERSAL || oid.tag != DER_TAG_OID)
            return false;
        enum gss_mech m = gss_mech_from_oid(oid.val, oid.len);
        t->mech_types |= (uint32_t)m;
        if (first) {
            t->first_mech = m;
            first = false;
        }
    }
    return true;
}

/*
 * NegTokenInit ::= SEQUENCE { mechTypes [0], reqFlags [1], mechToken [2], mechListMIC [3] }
 * NegTokenInit2 (MS-SPNG 2.2.1) ::= SEQUENCE { mechTypes [0], reqFlags [1], mechToken [2],
 *                                   negHints [3] { hintName [0], hintAddress [1] }, mechListMIC [4] }
 * The two differ at [3]: a SEQUENCE (negHints) vs an OCTET STRING (mechListMIC).
 */
static int parse_init(struct rd *seq, struct gss_token *t)
{
    struct der_tlv f, v;
    t->kind = GSS_SPNEGO_INIT;
    while (rd_left(seq) > 0) {
        if (!der_next(seq, &f) || f.cls != DER_CONTEXT || !f.constructed)
            return -1;
        struct rd in = der_inner(&f);
        if (!der_next(&in, &v))
            return -1;
        switch (f.tag) {
        case 0: {
            if (v.cls != DER_UNIVERSAL || v.tag != DER_TAG_SEQUENCE)
                return -1;
            struct rd l = der_inner(&v);
            if (!parse_mech_types(&l, t))
                return -1;
            break;
        }
        case 1: /* reqFlags: not used by Windows */
            break;
        case 2:
            if (v.cls != DER_UNIVERSAL || v.tag != DER_TAG_OCTET_STRING)
                return -1;
            classify_inner(t, v.val, v.len);
            break;
        case 3:
            if (v.cls == DER_UNIVERSAL && v.tag == DER_TAG_SEQUENCE) {
                struct rd h = der_inner(&v);
                struct der_tlv hf, hv;
                while (rd_left(&h) > 0) {
                    if (!der_next(&h, &hf))
                        return -1;
                    struct rd hi = der_inner(&hf);
                    if (hf.cls == DER_CONTEXT && hf.tag == 0 && der_next(&hi, &hv))
                        strlcpy_n(t->hint_name, sizeof t->hint_name, (const char *)hv.val, hv.len);
                }
            } else {
                t->mech_list_mic = true;
            }
            break;
        case 4:
            t->mech_list_mic = true;
            break;
        default:
            break; /* extensions are skipped, as RFC 4178 allows */
        }
    }
    return 0;
}

/* NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED, supportedMech [1], responseToken [2],
 *                             mechListMIC [3] } */
static int parse_resp(struct rd *seq, struct gss_token *t)
{
    struct der_tlv f, v;
    t->kind = GSS_SPNEGO_RESP;
    while (rd_left(seq) > 0) {
        if (!der_next(seq, &f) || f.cls != DER_CONTEXT || !f.constructed)
            return -1;
        struct rd in = der_inner(&f);
        if (!der_next(&in, &v))
            return -1;
        switch (f.tag) {
        case 0: {
            uint64_t s;
            if (v.cls != DER_UNIVERSAL || v.tag != DER_TAG_ENUMERATED || !der_uint(v.val, v.len, &s) ||
                s > 3)
                return -1;
            t->neg_state = (int)s;
            break;
        }
        case 1:
            if (v.cls != DER_UNIVERSAL || v.tag != DER_TAG_OID)
                return -1;
            t->supported_mech = gss_mech_from_oid(v.val, v.len);
            break;
        case 2:
            if (v.cls != DER_UNIVERSAL || v.tag != DER_TAG_OCTET_STRING)
                return -1;
            classify_inner(t, v.val, v.len);
            break;
        case 3:
            t->mech_list_mic = true;
            break;
        default:
            break;
        }
    }
    return 0;
}

/* NegotiationToken ::= CHOICE { negTokenInit [0], negTokenResp [1] } */
static int parse_negotiation_token(struct rd *r, struct gss_token *t)
{
    struct der_tlv choice, seq;
    if (!der_next(r, &choice) || choice.cls != DER_CONTEXT || (choice.tag != 0 && choice.tag != 1))
        return -1;
    struct rd c = der_inner(&choice);
    if (!der_expect(&c, DER_UNIVERSAL, DER_TAG_SEQUENCE, &seq))
        return -1;
    struct rd s = der_inner(&seq);
    return choice.tag == 0 ? parse_init(&s, t) : parse_resp(&s, t);
}

int gss_token_parse(const uint8_t *p, size_t n, struct gss_token *t)
{
    memset(t, 0, sizeof *t);
    t->neg_state = NEG_STATE_ABSENT;
    if (n == 0)
        return -1;
    if (ntlmssp_is(p, n)) {
        t->kind = GSS_NTLMSSP;
        classify_inner(t, p, n);
        return 0;
    }
    struct rd r = rd_make(p, n);
    if (p[0] == 0x60) {
        /* InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE { thisMech, innerToken } */
        struct der_tlv app, oid;
        if (!der_next(&r, &app) || app.cls != DER_APPLICATION || app.tag != 0)
            goto bad;
        struct rd in = der_inner(&app);
        if (!der_expect(&in, DER_UNIVERSAL, DER_TAG_OID, &oid))
            goto bad;
        enum gss_mech m = gss_mech_from_oid(oid.val, oid.len);
        if (m == MECH_SPNEGO) {
            if (parse_negotiation_token(&in, t) != 0)
                goto bad;
            return 0;
        }
        if (m == MECH_KRB5 || m == MECH_MS_KRB5 || m == MECH_KRB5_U2U || m == MECH_IAKERB) {
            t->kind = GSS_KRB5;
            classify_inner(t, p, n);
            return t->inner_mech != MECH_NONE ? 0 : -1;
        }
        goto bad;
    }
    if (p[0] == 0xa0 || p[0] == 0xa1) {
        if (parse_negotiation_token(&r, t) != 0)
            goto bad;
        return 0;
    }
bad:
    memset(t, 0, sizeof *t);
    t->neg_state = NEG_STATE_ABSENT;
    t->kind = GSS_UNKNOWN;
    return -1;
}
