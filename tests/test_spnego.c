/*
 * Unit tests for dissectors/spnego.c: GSS-API InitialContextToken framing (RFC 2743 3.1), SPNEGO
 * NegTokenInit / NegTokenResp (RFC 4178 4.2), MS-SPNG NegTokenInit2 (negHints), and GSS krb5
 * tokens (RFC 4121 4.1). Tokens are built here with a small DER writer; real security blobs from
 * /work/shared/captures/lab are embedded and checked against tshark's decode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"
#include "spnego.h"

/* ---- a small DER writer ------------------------------------------------------------------- */

#define TOK_CAP 4096

struct tb {
    uint8_t b[TOK_CAP];
    size_t n;
};

/* Identifier octets used below. */
#define ID_APP0       0x60 /* [APPLICATION 0] constructed */
#define ID_SEQ        0x30
#define ID_OID        0x06
#define ID_OCTETS     0x04
#define ID_ENUM       0x0a
#define ID_GENSTR     0x1b
#define ID_CTX(n)     (0xa0 | (n)) /* [n] constructed */

static void tb_add(struct tb *t, const void *v, size_t n)
{
    assert_true(t->n + n <= TOK_CAP);
    if (n)
        memcpy(t->b + t->n, v, n);
    t->n += n;
}

/* Length octets in DER's shortest form. */
static size_t der_len(uint8_t *out, size_t n)
{
    if (n < 0x80) {
        out[0] = (uint8_t)n;
        return 1;
    }
    if (n < 0x100) {
        out[0] = 0x81;
        out[1] = (uint8_t)n;
        return 2;
    }
    out[0] = 0x82;
    out[1] = (uint8_t)(n >> 8);
    out[2] = (uint8_t)n;
    return 3;
}

/* Appends the TLV id { v[n] }. */
static void tb_tlv(struct tb *t, uint8_t id, const void *v, size_t n)
{
    uint8_t h[4];
    h[0] = id;
    size_t hl = 1 + der_len(h + 1, n);
    tb_add(t, h, hl);
    tb_add(t, v, n);
}

/* Wraps everything in t as the value of one TLV with identifier id. */
static void tb_wrap(struct tb *t, uint8_t id)
{
    uint8_t h[4];
    h[0] = id;
    size_t hl = 1 + der_len(h + 1, t->n);
    assert_true(t->n + hl <= TOK_CAP);
    memmove(t->b + hl, t->b, t->n);
    memcpy(t->b, h, hl);
    t->n += hl;
}

/* Appends another builder's bytes. */
static void tb_cat(struct tb *t, const struct tb *u)
{
    tb_add(t, u->b, u->n);
}

/* OID values (contents octets only). */
static const uint8_t OID_SPNEGO[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
static const uint8_t OID_NTLMSSP[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t OID_KRB5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t OID_MS_KRB5[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t OID_KRB5_U2U[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03};
static const uint8_t OID_NEGOEX[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e};

/* An NTLMSSP NEGOTIATE as Windows 7 sends it (40 bytes). */
static const uint8_t ntlm_negotiate[40] = {
    'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 0x01, 0x00, 0x00, 0x00, 0x15, 0x82, 0x08, 0x62,
    0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00,
    0x00, 0x00, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f,
};

/* A stand-in CHALLENGE: the SPNEGO layer looks only at the signature. */
static const uint8_t ntlm_challenge[32] = {
    'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0c, 0x00,
    0x38, 0x00, 0x00, 0x00, 0x15, 0x82, 0x89, 0x62, 0x60, 0xf0, 0xdf, 0xc7, 0x52, 0x53, 0x11, 0x6d,
};

static const char HINT[] = "not_defined_in_RFC4178@please_ignore";

/* mechTypes [0] { SEQUENCE { OID... } } */
static void add_mech_types(struct tb *t, const uint8_t *const *oids, const size_t *lens, size_t k)
{
    struct tb m = {.n = 0};
    for (size_t i = 0; i < k; i++)
        tb_tlv(&m, ID_OID, oids[i], lens[i]);
    tb_wrap(&m, ID_SEQ);
    tb_wrap(&m, ID_CTX(0));
    tb_cat(t, &m);
}

/* [n] { OCTET STRING v } */
static void add_octets_field(struct tb *t, unsigned n, const uint8_t *v, size_t len)
{
    struct tb m = {.n = 0};
    tb_tlv(&m, ID_OCTETS, v, len);
    tb_wrap(&m, ID_CTX(n));
    tb_cat(t, &m);
}

/* GSS InitialContextToken: [APPLICATION 0] { OID spnego, body } */
static void gss_wrap_spnego(struct tb *t)
{
    struct tb g = {.n = 0};
    tb_tlv(&g, ID_OID, OID_SPNEGO, sizeof OID_SPNEGO);
    tb_cat(&g, t);
    tb_wrap(&g, ID_APP0);
    *t = g;
}

/* GSS-wrapped NegTokenInit { mechTypes [NTLMSSP, krb5], mechToken NTLMSSP NEGOTIATE }.
 * Returns the offset of the mechToken's value in t. */
static size_t build_init_ntlm(struct tb *t)
{
    static const uint8_t *const oids[] = {OID_NTLMSSP, OID_KRB5};
    static const size_t lens[] = {sizeof OID_NTLMSSP, sizeof OID_KRB5};
    t->n = 0;
    add_mech_types(t, oids, lens, 2);
    add_octets_field(t, 2, ntlm_negotiate, sizeof ntlm_negotiate);
    tb_wrap(t, ID_SEQ);
    tb_wrap(t, ID_CTX(0));
    gss_wrap_spnego(t);
    /* Locate the mechToken: it is the last 40 bytes. */
    return t->n - sizeof ntlm_negotiate;
}

/* GSS-wrapped NegTokenInit2 as a server's SMB2 NEGOTIATE response carries it:
 * mechTypes [MS-krb5, krb5, NEGOEX, NTLMSSP], negHints [3] { hintName [0] GeneralString }. */
static void build_init2_hints(struct tb *t)
{
    static const uint8_t *const oids[] = {OID_MS_KRB5, OID_KRB5, OID_NEGOEX, OID_NTLMSSP};
    static const size_t lens[] = {sizeof OID_MS_KRB5, sizeof OID_KRB5, sizeof OID_NEGOEX,
                                  sizeof OID_NTLMSSP};
    t->n = 0;
    add_mech_types(t, oids, lens, 4);
    struct tb h = {.n = 0};
    tb_tlv(&h, ID_GENSTR, HINT, strlen(HINT));
    tb_wrap(&h, ID_CTX(0));
    tb_wrap(&h, ID_SEQ);
    tb_wrap(&h, ID_CTX(3));
    tb_cat(t, &h);
    tb_wrap(t, ID_SEQ);
    tb_wrap(t, ID_CTX(0));
    gss_wrap_spnego(t);
}

/* Bare NegTokenResp [1] { SEQUENCE { negState [0], supportedMech [1], responseToken [2] } }. */
static void build_resp(struct tb *t, int neg_state, const uint8_t *mech, size_t mech_len,
                       const uint8_t *tok, size_t tok_len, bool mic)
{
    t->n = 0;
    if (neg_state >= 0) {
        struct tb f = {.n = 0};
        uint8_t e = (uint8_t)neg_state;
        tb_tlv(&f, ID_ENUM, &e, 1);
        tb_wrap(&f, ID_CTX(0));
        tb_cat(t, &f);
    }
    if (mech) {
        struct tb f = {.n = 0};
        tb_tlv(&f, ID_OID, mech, mech_len);
        tb_wrap(&f, ID_CTX(1));
        tb_cat(t, &f);
    }
    if (tok)
        add_octets_field(t, 2, tok, tok_len);
    if (mic) {
        static const uint8_t m[16] = {0x01, 0, 0, 0, 0x8c, 0xb6, 0xd2, 0x25, 0x45, 0x6a, 0xcf, 0x9d};
        add_octets_field(t, 3, m, sizeof m);
    }
    tb_wrap(t, ID_SEQ);
    tb_wrap(t, ID_CTX(1));
}

/* A stand-in KRB AP-REQ: [APPLICATION 14] { SEQUENCE { [0] INTEGER 5, [1] INTEGER 14 } } */
static const uint8_t krb_ap_req[] = {0x6e, 0x0e, 0x30, 0x0c, 0xa0, 0x03, 0x02, 0x01, 0x05,
                                     0xa1, 0x03, 0x02, 0x01, 0x0e, 0x00, 0x00};
/* A stand-in KRB AP-REP: [APPLICATION 15] { SEQUENCE { [0] INTEGER 5, [1] INTEGER 15 } } */
static const uint8_t krb_ap_rep[] = {0x6f, 0x0c, 0x30, 0x0a, 0xa0, 0x03, 0x02, 0x01, 0x05,
                                     0xa1, 0x03, 0x02, 0x01, 0x0f};
/* A stand-in KRB-ERROR: [APPLICATION 30] { SEQUENCE { [0] INTEGER 5, [1] INTEGER 30 } } */
static const uint8_t krb_error[] = {0x7e, 0x0c, 0x30, 0x0a, 0xa0, 0x03, 0x02, 0x01, 0x05,
                                    0xa1, 0x03, 0x02, 0x01, 0x1e};

/* GSS krb5 token: [APPLICATION 0] { OID, TOK_ID (2 bytes), KRB message } */
static void build_gss_krb5(struct tb *t, const uint8_t *oid, size_t oid_len, uint8_t tok0,
                           const uint8_t *msg, size_t msg_len)
{
    t->n = 0;
    tb_tlv(t, ID_OID, oid, oid_len);
    uint8_t tok_id[2] = {tok0, 0x00};
    tb_add(t, tok_id, 2);
    tb_add(t, msg, msg_len);
    tb_wrap(t, ID_APP0);
}

/* Parses a heap copy of exactly n bytes so ASan sees any over-read; pointers in *t are rebased
 * onto base (the caller's buffer) so they can be compared. */
static int parse_exact(const uint8_t *base, size_t n, struct gss_token *t)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, base, n);
    int rc = gss_token_parse(copy, n, t);
    if (t->inner)
        t->inner = base + (t->inner - copy);
    if (t->krb5_msg)
        t->krb5_msg = base + (t->krb5_msg - copy);
    free(copy);
    return rc;
}

/* The state gss_token_parse leaves on failure. */
static void assert_rejected(const struct gss_token *t)
{
    assert_int_equal(t->kind, GSS_UNKNOWN);
    assert_null(t->inner);
    assert_int_equal(t->neg_state, NEG_STATE_ABSENT);
}

/* Every proper prefix of a valid token is rejected, without reading past it. */
static void check_every_prefix_rejected(const uint8_t *p, size_t n)
{
    struct gss_token t;
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(parse_exact(p, k, &t), -1);
        assert_rejected(&t);
    }
    assert_int_equal(parse_exact(p, n, &t), 0);
}

/* ---- NegTokenInit / NegTokenInit2 --------------------------------------------------------- */

static void test_spnego_gss_negtokeninit_ntlmssp_mechtoken(void **state)
{
    (void)state;
    struct tb t;
    size_t tok_at = build_init_ntlm(&t);
    struct gss_token g;
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_INIT);
    assert_int_equal(g.mech_types, MECH_NTLMSSP | MECH_KRB5);
    assert_int_equal(g.first_mech, MECH_NTLMSSP);
    assert_int_equal(g.inner_mech, MECH_NTLMSSP);
    assert_ptr_equal(g.inner, t.b + tok_at);
    assert_int_equal(g.inner_len, sizeof ntlm_negotiate);
    assert_memory_equal(g.inner, ntlm_negotiate, sizeof ntlm_negotiate);
    assert_int_equal(g.neg_state, NEG_STATE_ABSENT);
    assert_false(g.mech_list_mic);
    assert_string_equal(g.hint_name, "");
    assert_int_equal(g.krb5_tok_id, 0);
}

static void test_spnego_negtokeninit2_neghints_hint_name(void **state)
{
    (void)state;
    struct tb t;
    build_init2_hints(&t);
    struct gss_token g;
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_INIT);
    assert_string_equal(g.hint_name, HINT);
    assert_int_equal(g.mech_types, MECH_MS_KRB5 | MECH_KRB5 | MECH_NEGOEX | MECH_NTLMSSP);
    assert_int_equal(g.first_mech, MECH_MS_KRB5);
    /* negHints [3] is a SEQUENCE: not to be mistaken for RFC 4178's mechListMIC [3]. */
    assert_false(g.mech_list_mic);
    assert_null(g.inner);
    assert_int_equal(g.inner_mech, MECH_NONE);
}

static void test_spnego_negtokeninit_mechlistmic(void **state)
{
    (void)state;
    static const uint8_t mic[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t *const oids[] = {OID_NTLMSSP};
    static const size_t lens[] = {sizeof OID_NTLMSSP};
    struct gss_token g;

    /* RFC 4178: mechListMIC is [3] OCTET STRING. */
    struct tb t = {.n = 0};
    add_mech_types(&t, oids, lens, 1);
    add_octets_field(&t, 3, mic, sizeof mic);
    tb_wrap(&t, ID_SEQ);
    tb_wrap(&t, ID_CTX(0));
    gss_wrap_spnego(&t);
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_INIT);
    assert_true(g.mech_list_mic);
    assert_string_equal(g.hint_name, "");

    /* MS-SPNG NegTokenInit2: mechListMIC is [4]. */
    t.n = 0;
    add_mech_types(&t, oids, lens, 1);
    add_octets_field(&t, 4, mic, sizeof mic);
    tb_wrap(&t, ID_SEQ);
    tb_wrap(&t, ID_CTX(0));
    gss_wrap_spnego(&t);
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_true(g.mech_list_mic);
    assert_int_equal(g.first_mech, MECH_NTLMSSP);
}

static void test_spnego_bare_negtokeninit_and_reqflags_skipped(void **state)
{
    (void)state;
    /* NegTokenInit without the GSS framing, with reqFlags [1] BIT STRING and an unknown [7]. */
    static const uint8_t *const oids[] = {OID_KRB5, OID_NTLMSSP};
    static const size_t lens[] = {sizeof OID_KRB5, sizeof OID_NTLMSSP};
    struct tb t = {.n = 0};
    add_mech_types(&t, oids, lens, 2);
    static const uint8_t req_flags[] = {0xa1, 0x04, 0x03, 0x02, 0x01, 0x76};
    tb_add(&t, req_flags, sizeof req_flags);
    static const uint8_t ext[] = {0xa7, 0x03, 0x02, 0x01, 0x00};
    tb_add(&t, ext, sizeof ext);
    add_octets_field(&t, 2, ntlm_negotiate, sizeof ntlm_negotiate);
    tb_wrap(&t, ID_SEQ);
    tb_wrap(&t, ID_CTX(0));
    struct gss_token g;
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_INIT);
    assert_int_equal(g.first_mech, MECH_KRB5);
    assert_int_equal(g.mech_types, MECH_KRB5 | MECH_NTLMSSP);
    assert_int_equal(g.inner_mech, MECH_NTLMSSP);
}

static void test_spnego_negtokeninit_krb5_mechtoken(void **state)
{
    (void)state;
    /* Kerberos SESSION_SETUP: mechToken is itself a GSS krb5 token carrying the AP-REQ. */
    struct tb k;
    build_gss_krb5(&k, OID_KRB5, sizeof OID_KRB5, 0x01, krb_ap_req, sizeof krb_ap_req);
    static const uint8_t *const oids[] = {OID_MS_KRB5, OID_KRB5};
    static const size_t lens[] = {sizeof OID_MS_KRB5, sizeof OID_KRB5};
    struct tb t = {.n = 0};
    add_mech_types(&t, oids, lens, 2);
    add_octets_field(&t, 2, k.b, k.n);
    tb_wrap(&t, ID_SEQ);
    tb_wrap(&t, ID_CTX(0));
    gss_wrap_spnego(&t);
    struct gss_token g;
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_INIT);
    assert_int_equal(g.first_mech, MECH_MS_KRB5);
    assert_int_equal(g.inner_mech, MECH_KRB5);
    assert_int_equal(g.inner_len, k.n);
    assert_int_equal(g.krb5_tok_id, KRB5_TOK_AP_REQ);
    assert_int_equal(g.krb5_msg_len, sizeof krb_ap_req);
    assert_memory_equal(g.krb5_msg, krb_ap_req, sizeof krb_ap_req);
}

/* ---- NegTokenResp ------------------------------------------------------------------------- */

static void test_spnego_negtokenresp_accept_incomplete_ntlmssp(void **state)
{
    (void)state;
    struct tb t;
    build_resp(&t, NEG_STATE_ACCEPT_INCOMPLETE, OID_NTLMSSP, sizeof OID_NTLMSSP, ntlm_challenge,
               sizeof ntlm_challenge, false);
    struct gss_token g;
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_RESP);
    assert_int_equal(g.neg_state, NEG_STATE_ACCEPT_INCOMPLETE);
    assert_string_equal(spnego_neg_state_name(g.neg_state), "accept-incomplete");
    assert_int_equal(g.supported_mech, MECH_NTLMSSP);
    assert_int_equal(g.inner_mech, MECH_NTLMSSP);
    assert_int_equal(g.inner_len, sizeof ntlm_challenge);
    assert_memory_equal(g.inner, ntlm_challenge, sizeof ntlm_challenge);
    assert_ptr_equal(g.inner, t.b + t.n - sizeof ntlm_challenge);
    assert_false(g.mech_list_mic);
    assert_int_equal(g.mech_types, 0);
}

static void test_spnego_negtokenresp_accept_completed_with_mic(void **state)
{
    (void)state;
    struct tb t;
    build_resp(&t, NEG_STATE_ACCEPT_COMPLETED, NULL, 0, NULL, 0, true);
    struct gss_token g;
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_RESP);
    assert_int_equal(g.neg_state, NEG_STATE_ACCEPT_COMPLETED);
    assert_string_equal(spnego_neg_state_name(g.neg_state), "accept-completed");
    assert_true(g.mech_list_mic);
    assert_null(g.inner);
    assert_int_equal(g.inner_mech, MECH_NONE);
    assert_int_equal(g.supported_mech, MECH_NONE);
}

static void test_spnego_negtokenresp_reject_and_request_mic(void **state)
{
    (void)state;
    struct tb t;
    struct gss_token g;
    build_resp(&t, NEG_STATE_REJECT, NULL, 0, NULL, 0, false);
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.neg_state, NEG_STATE_REJECT);
    assert_string_equal(spnego_neg_state_name(g.neg_state), "reject");
    build_resp(&t, NEG_STATE_REQUEST_MIC, NULL, 0, NULL, 0, false);
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.neg_state, NEG_STATE_REQUEST_MIC);
    /* Without negState (later legs of NTLM in SPNEGO) the state is absent. */
    build_resp(&t, -1, NULL, 0, ntlm_challenge, sizeof ntlm_challenge, false);
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.neg_state, NEG_STATE_ABSENT);
    assert_null(spnego_neg_state_name(g.neg_state));
    /* negState 4 is not in RFC 4178's ENUMERATED. */
    build_resp(&t, 4, NULL, 0, NULL, 0, false);
    assert_int_equal(parse_exact(t.b, t.n, &g), -1);
    assert_rejected(&g);
}

static void test_spnego_negtokenresp_krb5_ap_rep_and_error(void **state)
{
    (void)state;
    struct gss_token g;
    struct tb t;
    /* responseToken a GSS krb5 AP-REP with TOK_ID 02 00. */
    struct tb k;
    build_gss_krb5(&k, OID_KRB5, sizeof OID_KRB5, 0x02, krb_ap_rep, sizeof krb_ap_rep);
    build_resp(&t, NEG_STATE_ACCEPT_COMPLETED, OID_MS_KRB5, sizeof OID_MS_KRB5, k.b, k.n, false);
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_RESP);
    assert_int_equal(g.supported_mech, MECH_MS_KRB5);
    assert_int_equal(g.inner_mech, MECH_KRB5);
    assert_int_equal(g.krb5_tok_id, KRB5_TOK_AP_REP);
    assert_memory_equal(g.krb5_msg, krb_ap_rep, sizeof krb_ap_rep);

    /* A bare (un-framed) KRB-ERROR as responseToken. */
    build_resp(&t, NEG_STATE_REJECT, OID_KRB5, sizeof OID_KRB5, krb_error, sizeof krb_error, false);
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.supported_mech, MECH_KRB5);
    assert_int_equal(g.inner_mech, MECH_KRB5);
    assert_int_equal(g.krb5_tok_id, KRB5_TOK_ERROR);
    assert_int_equal(g.krb5_msg_len, sizeof krb_error);

    /* A bare AP-REP. */
    build_resp(&t, NEG_STATE_ACCEPT_COMPLETED, OID_KRB5, sizeof OID_KRB5, krb_ap_rep,
               sizeof krb_ap_rep, false);
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.krb5_tok_id, KRB5_TOK_AP_REP);
}

/* ---- bare tokens -------------------------------------------------------------------------- */

static void test_spnego_bare_ntlmssp(void **state)
{
    (void)state;
    struct gss_token g;
    assert_int_equal(parse_exact(ntlm_negotiate, sizeof ntlm_negotiate, &g), 0);
    assert_int_equal(g.kind, GSS_NTLMSSP);
    assert_int_equal(g.inner_mech, MECH_NTLMSSP);
    assert_ptr_equal(g.inner, ntlm_negotiate);
    assert_int_equal(g.inner_len, sizeof ntlm_negotiate);
    assert_int_equal(g.neg_state, NEG_STATE_ABSENT);
    /* Fewer than the 8 signature bytes is not NTLMSSP (and not anything else). */
    assert_int_equal(parse_exact(ntlm_negotiate, 7, &g), -1);
    assert_rejected(&g);
}

static void test_spnego_gss_krb5_ap_req(void **state)
{
    (void)state;
    struct tb t;
    build_gss_krb5(&t, OID_KRB5, sizeof OID_KRB5, 0x01, krb_ap_req, sizeof krb_ap_req);
    struct gss_token g;
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_KRB5);
    assert_int_equal(g.inner_mech, MECH_KRB5);
    assert_int_equal(g.krb5_tok_id, KRB5_TOK_AP_REQ);
    assert_ptr_equal(g.inner, t.b);
    assert_int_equal(g.inner_len, t.n);
    assert_ptr_equal(g.krb5_msg, t.b + t.n - sizeof krb_ap_req);
    assert_int_equal(g.krb5_msg_len, sizeof krb_ap_req);
    assert_int_equal(g.krb5_msg[0], 0x6e); /* [APPLICATION 14] */
}

static void test_spnego_ms_krb5_oid_recognised(void **state)
{
    (void)state;
    assert_int_equal(gss_mech_from_oid(OID_MS_KRB5, sizeof OID_MS_KRB5), MECH_MS_KRB5);
    assert_string_equal(gss_mech_name(MECH_MS_KRB5), "kerberos");

    /* A GSS krb5 token framed with Microsoft's OID is a krb5 token too. */
    struct tb t;
    build_gss_krb5(&t, OID_MS_KRB5, sizeof OID_MS_KRB5, 0x01, krb_ap_req, sizeof krb_ap_req);
    struct gss_token g;
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.kind, GSS_KRB5);
    assert_int_equal(g.inner_mech, MECH_KRB5);
    assert_int_equal(g.krb5_tok_id, KRB5_TOK_AP_REQ);

    /* In mechTypes it keeps its own bit. */
    static const uint8_t *const oids[] = {OID_MS_KRB5};
    static const size_t lens[] = {sizeof OID_MS_KRB5};
    t.n = 0;
    add_mech_types(&t, oids, lens, 1);
    tb_wrap(&t, ID_SEQ);
    tb_wrap(&t, ID_CTX(0));
    gss_wrap_spnego(&t);
    assert_int_equal(parse_exact(t.b, t.n, &g), 0);
    assert_int_equal(g.mech_types, MECH_MS_KRB5);
    assert_int_equal(g.first_mech, MECH_MS_KRB5);
}

static void test_spnego_mech_from_oid_and_names(void **state)
{
    (void)state;
    static const uint8_t other[] = {0x2a, 0x03}; /* 1.2.3 */
    assert_int_equal(gss_mech_from_oid(OID_NTLMSSP, sizeof OID_NTLMSSP), MECH_NTLMSSP);
    assert_int_equal(gss_mech_from_oid(OID_KRB5, sizeof OID_KRB5), MECH_KRB5);
    assert_int_equal(gss_mech_from_oid(OID_KRB5_U2U, sizeof OID_KRB5_U2U), MECH_KRB5_U2U);
    assert_int_equal(gss_mech_from_oid(OID_NEGOEX, sizeof OID_NEGOEX), MECH_NEGOEX);
    assert_int_equal(gss_mech_from_oid(OID_SPNEGO, sizeof OID_SPNEGO), MECH_SPNEGO);
    assert_int_equal(gss_mech_from_oid(other, sizeof other), MECH_OTHER);
    /* A prefix of a known OID is not that OID. */
    assert_int_equal(gss_mech_from_oid(OID_KRB5, sizeof OID_KRB5 - 1), MECH_OTHER);
    assert_string_equal(gss_mech_name(MECH_NTLMSSP), "ntlmssp");
    assert_string_equal(gss_mech_name(MECH_KRB5), "kerberos");
    assert_string_equal(gss_mech_name(MECH_KRB5_U2U), "kerberos-u2u");
    assert_string_equal(gss_mech_name(MECH_NEGOEX), "negoex");
    assert_string_equal(gss_mech_name(MECH_SPNEGO), "spnego");
    assert_string_equal(gss_mech_name(MECH_OTHER), "other");
}

/* ---- real tokens -------------------------------------------------------------------------- */

/* smb2_ntlmv2_ok.pcap frame 6: SMB2 NEGOTIATE response security blob (NegTokenInit2). Identical
 * to smb2_kerberos_ok.pcap frame 20's. */
static const uint8_t ntlm_f6[96] = {
    0x60, 0x5e, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x54,
    0x30, 0x52, 0xa0, 0x24, 0x30, 0x22, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x82,
    0xf7, 0x12, 0x01, 0x02, 0x02, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
    0x12, 0x01, 0x02, 0x02, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82,
    0x37, 0x02, 0x02, 0x0a, 0xa3, 0x2a, 0x30, 0x28, 0xa0, 0x26, 0x1b, 0x24,
    0x6e, 0x6f, 0x74, 0x5f, 0x64, 0x65, 0x66, 0x69, 0x6e, 0x65, 0x64, 0x5f,
    0x69, 0x6e, 0x5f, 0x52, 0x46, 0x43, 0x34, 0x31, 0x37, 0x38, 0x40, 0x70,
    0x6c, 0x65, 0x61, 0x73, 0x65, 0x5f, 0x69, 0x67, 0x6e, 0x6f, 0x72, 0x65,
};
/* smb2_ntlmv2_ok.pcap frame 8: SESSION_SETUP request, NegTokenInit with the NTLMSSP NEGOTIATE. */
static const uint8_t ntlm_f8[74] = {
    0x60, 0x48, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x3e,
    0x30, 0x3c, 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
    0x01, 0x82, 0x37, 0x02, 0x02, 0x0a, 0xa2, 0x2a, 0x04, 0x28, 0x4e, 0x54,
    0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00, 0x15, 0x82,
    0x08, 0x62, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x0f,
};
/* smb2_ntlmv2_ok.pcap frame 9: SESSION_SETUP response, NegTokenResp with the CHALLENGE. */
static const uint8_t ntlm_f9[201] = {
    0xa1, 0x81, 0xc6, 0x30, 0x81, 0xc3, 0xa0, 0x03, 0x0a, 0x01, 0x01, 0xa1,
    0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02,
    0x0a, 0xa2, 0x81, 0xad, 0x04, 0x81, 0xaa, 0x4e, 0x54, 0x4c, 0x4d, 0x53,
    0x53, 0x50, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0c, 0x00, 0x38,
    0x00, 0x00, 0x00, 0x15, 0x82, 0x89, 0x62, 0x60, 0xf0, 0xdf, 0xc7, 0x52,
    0x53, 0x11, 0x6d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66,
    0x00, 0x66, 0x00, 0x44, 0x00, 0x00, 0x00, 0x06, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0f, 0x48, 0x00, 0x4f, 0x00, 0x50, 0x00, 0x4c, 0x00, 0x41,
    0x00, 0x42, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x48, 0x00, 0x4f, 0x00, 0x50,
    0x00, 0x4c, 0x00, 0x41, 0x00, 0x42, 0x00, 0x01, 0x00, 0x06, 0x00, 0x44,
    0x00, 0x43, 0x00, 0x31, 0x00, 0x04, 0x00, 0x16, 0x00, 0x68, 0x00, 0x6f,
    0x00, 0x70, 0x00, 0x6c, 0x00, 0x61, 0x00, 0x62, 0x00, 0x2e, 0x00, 0x74,
    0x00, 0x65, 0x00, 0x73, 0x00, 0x74, 0x00, 0x03, 0x00, 0x1e, 0x00, 0x64,
    0x00, 0x63, 0x00, 0x31, 0x00, 0x2e, 0x00, 0x68, 0x00, 0x6f, 0x00, 0x70,
    0x00, 0x6c, 0x00, 0x61, 0x00, 0x62, 0x00, 0x2e, 0x00, 0x74, 0x00, 0x65,
    0x00, 0x73, 0x00, 0x74, 0x00, 0x07, 0x00, 0x08, 0x00, 0x82, 0xe3, 0xcf,
    0xca, 0x0a, 0x7a, 0xdd, 0x01, 0x00, 0x00, 0x00, 0x00,
};
/* smb2_ntlmv2_ok.pcap frame 11: SESSION_SETUP response, NegTokenResp accept-completed + MIC. */
static const uint8_t ntlm_f11[29] = {
    0xa1, 0x1b, 0x30, 0x19, 0xa0, 0x03, 0x0a, 0x01, 0x00, 0xa3, 0x12, 0x04,
    0x10, 0x01, 0x00, 0x00, 0x00, 0x8c, 0xb6, 0xd2, 0x25, 0x45, 0x6a, 0xcf,
    0x9d, 0x00, 0x00, 0x00, 0x00,
};
/* smb2_kerberos_ok.pcap frame 44: SESSION_SETUP response, NegTokenResp accept-completed with
 * supportedMech 1.2.840.48018.1.2.2 and a GSS krb5 AP-REP (TOK_ID 02 00) responseToken. */
static const uint8_t krb_f44[186] = {
    0xa1, 0x81, 0xb7, 0x30, 0x81, 0xb4, 0xa0, 0x03, 0x0a, 0x01, 0x00, 0xa1,
    0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
    0xa2, 0x81, 0x9f, 0x04, 0x81, 0x9c, 0x60, 0x81, 0x99, 0x06, 0x09, 0x2a,
    0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x02, 0x00, 0x6f, 0x81,
    0x89, 0x30, 0x81, 0x86, 0xa0, 0x03, 0x02, 0x01, 0x05, 0xa1, 0x03, 0x02,
    0x01, 0x0f, 0xa2, 0x7a, 0x30, 0x78, 0xa0, 0x03, 0x02, 0x01, 0x12, 0xa2,
    0x71, 0x04, 0x6f, 0x41, 0x1a, 0xbe, 0x82, 0xc6, 0x6d, 0xcf, 0xe4, 0x65,
    0x11, 0xd1, 0x36, 0x1c, 0xd4, 0x81, 0x74, 0x7f, 0x41, 0xf4, 0xd3, 0x42,
    0xc5, 0xd0, 0x65, 0x5c, 0x5f, 0xfa, 0xfb, 0xc5, 0xfd, 0x1a, 0x58, 0xce,
    0x8c, 0x06, 0x39, 0x21, 0x5b, 0xbd, 0x9a, 0x72, 0x60, 0x85, 0x9b, 0xfe,
    0x82, 0xd4, 0x93, 0xcf, 0x99, 0x47, 0x23, 0x67, 0xfa, 0xcf, 0x4f, 0x6f,
    0xd9, 0xbc, 0x5c, 0x35, 0xac, 0xe2, 0x26, 0x25, 0xf7, 0xaf, 0xdf, 0x6b,
    0x11, 0x95, 0x2c, 0x20, 0x02, 0xd2, 0x8d, 0x7b, 0xcd, 0xf9, 0x13, 0x16,
    0xda, 0x60, 0x4f, 0xce, 0xe5, 0x3a, 0x42, 0xdb, 0xcb, 0x1a, 0x08, 0xd8,
    0x93, 0x96, 0xc2, 0xdd, 0x6c, 0xb2, 0xe5, 0x76, 0xd4, 0xf7, 0x8f, 0xef,
    0x56, 0x33, 0x23, 0xa5, 0x64, 0xa2,
};

static void test_spnego_real_negotiate_response_init2_matches_tshark(void **state)
{
    (void)state;
    struct gss_token g;
    assert_int_equal(parse_exact(ntlm_f6, sizeof ntlm_f6, &g), 0);
    /* tshark: spnego.MechType 1.2.840.48018.1.2.2, 1.2.840.113554.1.2.2, 1.3.6.1.4.1.311.2.2.10;
     * spnego.hintName "not_defined_in_RFC4178@please_ignore". */
    assert_int_equal(g.kind, GSS_SPNEGO_INIT);
    assert_int_equal(g.mech_types, MECH_MS_KRB5 | MECH_KRB5 | MECH_NTLMSSP);
    assert_int_equal(g.first_mech, MECH_MS_KRB5);
    assert_string_equal(g.hint_name, "not_defined_in_RFC4178@please_ignore");
    assert_false(g.mech_list_mic);
    assert_null(g.inner);
}

static void test_spnego_real_ntlm_session_setup_matches_tshark(void **state)
{
    (void)state;
    struct gss_token g;
    /* Frame 8: negTokenInit, mechTypes 1 item (NTLMSSP), mechToken NTLMSSP_NEGOTIATE (40 bytes). */
    assert_int_equal(parse_exact(ntlm_f8, sizeof ntlm_f8, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_INIT);
    assert_int_equal(g.mech_types, MECH_NTLMSSP);
    assert_int_equal(g.first_mech, MECH_NTLMSSP);
    assert_int_equal(g.inner_mech, MECH_NTLMSSP);
    assert_int_equal(g.inner_len, 40);
    assert_ptr_equal(g.inner, ntlm_f8 + 34);
    assert_int_equal(g.inner[8], 1); /* MessageType NEGOTIATE */

    /* Frame 9: negTokenTarg, negResult accept-incomplete (1), supportedMech NTLMSSP,
     * responseToken NTLMSSP_CHALLENGE (170 bytes). */
    assert_int_equal(parse_exact(ntlm_f9, sizeof ntlm_f9, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_RESP);
    assert_int_equal(g.neg_state, NEG_STATE_ACCEPT_INCOMPLETE);
    assert_int_equal(g.supported_mech, MECH_NTLMSSP);
    assert_int_equal(g.inner_mech, MECH_NTLMSSP);
    assert_int_equal(g.inner_len, 170);
    assert_int_equal(g.inner[8], 2); /* MessageType CHALLENGE */
    assert_false(g.mech_list_mic);

    /* Frame 11: negResult accept-completed (0), mechListMIC. */
    assert_int_equal(parse_exact(ntlm_f11, sizeof ntlm_f11, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_RESP);
    assert_int_equal(g.neg_state, NEG_STATE_ACCEPT_COMPLETED);
    assert_true(g.mech_list_mic);
    assert_null(g.inner);
}

static void test_spnego_real_krb5_ap_rep_with_ms_oid_matches_tshark(void **state)
{
    (void)state;
    struct gss_token g;
    /* tshark: negResult accept-completed, supportedMech 1.2.840.48018.1.2.2, krb5 tok_id bytes
     * 02 00 (KRB5_AP_REP), kerberos.msg_type 15. */
    assert_int_equal(parse_exact(krb_f44, sizeof krb_f44, &g), 0);
    assert_int_equal(g.kind, GSS_SPNEGO_RESP);
    assert_int_equal(g.neg_state, NEG_STATE_ACCEPT_COMPLETED);
    assert_int_equal(g.supported_mech, MECH_MS_KRB5);
    assert_int_equal(g.inner_mech, MECH_KRB5);
    assert_int_equal(g.krb5_tok_id, KRB5_TOK_AP_REP);
    assert_int_equal(g.krb5_msg[0], 0x6f); /* [APPLICATION 15] AP-REP */
    assert_ptr_equal(g.krb5_msg + g.krb5_msg_len, krb_f44 + sizeof krb_f44);
}

/* ---- malformed ---------------------------------------------------------------------------- */

static void test_spnego_every_truncation_rejected(void **state)
{
    (void)state;
    struct tb t;
    build_init_ntlm(&t);
    check_every_prefix_rejected(t.b, t.n);
    build_init2_hints(&t);
    check_every_prefix_rejected(t.b, t.n);
    build_resp(&t, NEG_STATE_ACCEPT_INCOMPLETE, OID_NTLMSSP, sizeof OID_NTLMSSP, ntlm_challenge,
               sizeof ntlm_challenge, true);
    check_every_prefix_rejected(t.b, t.n);
    build_gss_krb5(&t, OID_KRB5, sizeof OID_KRB5, 0x01, krb_ap_req, sizeof krb_ap_req);
    check_every_prefix_rejected(t.b, t.n);
    check_every_prefix_rejected(ntlm_f6, sizeof ntlm_f6);
    check_every_prefix_rejected(ntlm_f8, sizeof ntlm_f8);
    check_every_prefix_rejected(ntlm_f9, sizeof ntlm_f9);
    check_every_prefix_rejected(ntlm_f11, sizeof ntlm_f11);
    check_every_prefix_rejected(krb_f44, sizeof krb_f44);
}

static void test_spnego_empty_input_rejected(void **state)
{
    (void)state;
    struct gss_token g;
    assert_int_equal(gss_token_parse(NULL, 0, &g), -1);
    assert_rejected(&g);
    static const uint8_t one[1] = {0x60};
    assert_int_equal(gss_token_parse(one, 0, &g), -1);
    assert_rejected(&g);
}

static void test_spnego_length_past_end_rejected(void **state)
{
    (void)state;
    struct gss_token g;
    struct tb t;
    /* Outer [APPLICATION 0] one byte longer than the buffer. */
    build_init_ntlm(&t);
    assert_int_equal(t.b[1], t.n - 2);
    t.b[1]++;
    assert_int_equal(parse_exact(t.b, t.n, &g), -1);
    assert_rejected(&g);

    /* mechToken OCTET STRING longer than its [2] container (all outer lengths intact). */
    build_init_ntlm(&t);
    size_t os_len_at = t.n - sizeof ntlm_negotiate - 1;
    assert_int_equal(t.b[os_len_at], sizeof ntlm_negotiate);
    assert_int_equal(t.b[os_len_at - 1], ID_OCTETS);
    t.b[os_len_at] = sizeof ntlm_negotiate + 1;
    assert_int_equal(parse_exact(t.b, t.n, &g), -1);
    assert_rejected(&g);

    /* Long-form length 0x84 ffffffff. */
    static const uint8_t huge[] = {0xa1, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30, 0x00};
    assert_int_equal(parse_exact(huge, sizeof huge, &g), -1);
    assert_rejected(&g);
}

static void test_spnego_indefinite_length_rejected(void **state)
{
    (void)state;
    struct gss_token g;
    /* BER indefinite form on the outer token ... */
    static const uint8_t outer[] = {0x60, 0x80, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
                                    0xa0, 0x02, 0x30, 0x00, 0x00, 0x00};
    assert_int_equal(parse_exact(outer, sizeof outer, &g), -1);
    assert_rejected(&g);
    /* ... and on the NegTokenResp SEQUENCE inside. */
    static const uint8_t inner[] = {0xa1, 0x09, 0x30, 0x80, 0xa0, 0x03, 0x0a, 0x01, 0x00, 0x00, 0x00};
    assert_int_equal(parse_exact(inner, sizeof inner, &g), -1);
    assert_rejected(&g);
}

static void test_spnego_five_byte_length_rejected(void **state)
{
    (void)state;
    struct gss_token g;
    static const uint8_t five[] = {0xa1, 0x85, 0x00, 0x00, 0x00, 0x00, 0x07, 0x30, 0x05,
                                   0xa0, 0x03, 0x0a, 0x01, 0x00};
    assert_int_equal(parse_exact(five, sizeof five, &g), -1);
    assert_rejected(&g);
    /* The same token with a 1-octet length is fine. */
    static const uint8_t ok[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00};
    assert_int_equal(parse_exact(ok, sizeof ok, &g), 0);
    assert_int_equal(g.neg_state, NEG_STATE_ACCEPT_COMPLETED);
}

static void test_spnego_deep_nesting_rejected(void **state)
{
    (void)state;
    struct gss_token g;
    struct tb t = {.n = 0};
    /* 200 nested [0] constructed TLVs around an empty SEQUENCE. */
    tb_tlv(&t, ID_SEQ, NULL, 0);
    for (int i = 0; i < 200; i++)
        tb_wrap(&t, ID_CTX(0));
    assert_int_equal(parse_exact(t.b, t.n, &g), -1);
    assert_rejected(&g);
    /* The same behind the GSS SPNEGO framing. */
    gss_wrap_spnego(&t);
    assert_int_equal(parse_exact(t.b, t.n, &g), -1);
    assert_rejected(&g);
    /* 200 nested SEQUENCEs as the mechTypes list. */
    t.n = 0;
    tb_tlv(&t, ID_OID, OID_NTLMSSP, sizeof OID_NTLMSSP);
    for (int i = 0; i < 200; i++)
        tb_wrap(&t, ID_SEQ);
    tb_wrap(&t, ID_CTX(0));
    tb_wrap(&t, ID_SEQ);
    tb_wrap(&t, ID_CTX(0));
    assert_int_equal(parse_exact(t.b, t.n, &g), -1);
    assert_rejected(&g);
}

static void test_spnego_wrong_tags_rejected(void **state)
{
    (void)state;
    struct gss_token g;
    struct tb t;

    /* NegotiationToken CHOICE [2]. */
    static const uint8_t choice2[] = {0xa2, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00};
    assert_int_equal(parse_exact(choice2, sizeof choice2, &g), -1);
    assert_rejected(&g);

    /* NegTokenResp body a SET instead of a SEQUENCE. */
    static const uint8_t set[] = {0xa1, 0x07, 0x31, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00};
    assert_int_equal(parse_exact(set, sizeof set, &g), -1);
    assert_rejected(&g);

    /* negState as INTEGER instead of ENUMERATED. */
    static const uint8_t integer[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x00};
    assert_int_equal(parse_exact(integer, sizeof integer, &g), -1);
    assert_rejected(&g);

    /* A primitive [0] field. */
    static const uint8_t prim[] = {0xa1, 0x07, 0x30, 0x05, 0x80, 0x03, 0x0a, 0x01, 0x00};
    assert_int_equal(parse_exact(prim, sizeof prim, &g), -1);
    assert_rejected(&g);

    /* supportedMech an OCTET STRING instead of an OID. */
    static const uint8_t bad_mech[] = {0xa1, 0x0c, 0x30, 0x0a, 0xa1, 0x08, 0x04, 0x06,
                                       0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
    assert_int_equal(parse_exact(bad_mech, sizeof bad_mech, &g), -1);
    assert_rejected(&g);

    /* mechTypes holding an INTEGER. */
    static const uint8_t bad_list[] = {0xa0, 0x09, 0x30, 0x07, 0xa0, 0x05, 0x30, 0x03, 0x02, 0x01, 0x05};
    assert_int_equal(parse_exact(bad_list, sizeof bad_list, &g), -1);
    assert_rejected(&g);

    /* mechToken an INTEGER instead of an OCTET STRING. */
    static const uint8_t bad_tok[] = {0xa0, 0x07, 0x30, 0x05, 0xa2, 0x03, 0x02, 0x01, 0x05};
    assert_int_equal(parse_exact(bad_tok, sizeof bad_tok, &g), -1);
    assert_rejected(&g);

    /* GSS framing with an unknown mechanism OID (1.2.3). */
    static const uint8_t unk[] = {0x60, 0x08, 0x06, 0x02, 0x2a, 0x03, 0xa0, 0x02, 0x30, 0x00};
    assert_int_equal(parse_exact(unk, sizeof unk, &g), -1);
    assert_rejected(&g);

    /* GSS framing whose first element is not an OID. */
    static const uint8_t no_oid[] = {0x60, 0x04, 0x04, 0x02, 0x2a, 0x03};
    assert_int_equal(parse_exact(no_oid, sizeof no_oid, &g), -1);
    assert_rejected(&g);

    /* Something that is neither GSS, SPNEGO nor NTLMSSP. */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    assert_int_equal(parse_exact(junk, sizeof junk, &g), -1);
    assert_rejected(&g);

    /* The SPNEGO OID in front of a krb5 body (TOK_ID + AP-REQ): not a NegotiationToken. */
    build_gss_krb5(&t, OID_SPNEGO, sizeof OID_SPNEGO, 0x01, krb_ap_req, sizeof krb_ap_req);
    assert_int_equal(parse_exact(t.b, t.n, &g), -1);
    assert_rejected(&g);
}

/*
 * The explicitly tagged fields of RFC 4178 hold UNIVERSAL types; the same tag number in another
 * class is a different type and must not be accepted in their place.
 */
static void test_spnego_negstate_of_context_class_rejected(void **state)
{
    (void)state;
    struct gss_token g;
    /* negState [0] { [CONTEXT 10] 00 } instead of ENUMERATED. */
    static const uint8_t ctx_enum[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x8a, 0x01, 0x00};
    assert_int_equal(parse_exact(ctx_enum, sizeof ctx_enum, &g), -1);
    assert_rejected(&g);
}

static void test_spnego_mechtoken_of_application_class_rejected(void **state)
{
    (void)state;
    struct gss_token g;
    /* mechToken [2] { [APPLICATION 4] "NTLMSSP\0..." } instead of OCTET STRING. */
    struct tb t = {.n = 0};
    tb_tlv(&t, 0x44, ntlm_negotiate, sizeof ntlm_negotiate);
    tb_wrap(&t, ID_CTX(2));
    tb_wrap(&t, ID_SEQ);
    tb_wrap(&t, ID_CTX(0));
    assert_int_equal(parse_exact(t.b, t.n, &g), -1);
    assert_rejected(&g);
}

static void test_spnego_mechtypes_of_context_class_rejected(void **state)
{
    (void)state;
    struct gss_token g;
    /* mechTypes [0] { [CONTEXT 16] constructed { OID } } instead of SEQUENCE. */
    struct tb t = {.n = 0};
    tb_tlv(&t, ID_OID, OID_NTLMSSP, sizeof OID_NTLMSSP);
    tb_wrap(&t, 0xb0);
    tb_wrap(&t, ID_CTX(0));
    tb_wrap(&t, ID_SEQ);
    tb_wrap(&t, ID_CTX(0));
    assert_int_equal(parse_exact(t.b, t.n, &g), -1);
    assert_rejected(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spnego_gss_negtokeninit_ntlmssp_mechtoken),
        cmocka_unit_test(test_spnego_negtokeninit2_neghints_hint_name),
        cmocka_unit_test(test_spnego_negtokeninit_mechlistmic),
        cmocka_unit_test(test_spnego_bare_negtokeninit_and_reqflags_skipped),
        cmocka_unit_test(test_spnego_negtokeninit_krb5_mechtoken),
        cmocka_unit_test(test_spnego_negtokenresp_accept_incomplete_ntlmssp),
        cmocka_unit_test(test_spnego_negtokenresp_accept_completed_with_mic),
        cmocka_unit_test(test_spnego_negtokenresp_reject_and_request_mic),
        cmocka_unit_test(test_spnego_negtokenresp_krb5_ap_rep_and_error),
        cmocka_unit_test(test_spnego_bare_ntlmssp),
        cmocka_unit_test(test_spnego_gss_krb5_ap_req),
        cmocka_unit_test(test_spnego_ms_krb5_oid_recognised),
        cmocka_unit_test(test_spnego_mech_from_oid_and_names),
        cmocka_unit_test(test_spnego_real_negotiate_response_init2_matches_tshark),
        cmocka_unit_test(test_spnego_real_ntlm_session_setup_matches_tshark),
        cmocka_unit_test(test_spnego_real_krb5_ap_rep_with_ms_oid_matches_tshark),
        cmocka_unit_test(test_spnego_every_truncation_rejected),
        cmocka_unit_test(test_spnego_empty_input_rejected),
        cmocka_unit_test(test_spnego_length_past_end_rejected),
        cmocka_unit_test(test_spnego_indefinite_length_rejected),
        cmocka_unit_test(test_spnego_five_byte_length_rejected),
        cmocka_unit_test(test_spnego_deep_nesting_rejected),
        cmocka_unit_test(test_spnego_wrong_tags_rejected),
        cmocka_unit_test(test_spnego_negstate_of_context_class_rejected),
        cmocka_unit_test(test_spnego_mechtoken_of_application_class_rejected),
        cmocka_unit_test(test_spnego_mechtypes_of_context_class_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
