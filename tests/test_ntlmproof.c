/*
 * Unit tests for dissectors/gss/ntlmproof.c: the AUTHENTICATE messages of MS-NLMP 4.2.2 (NTLMv1) and 4.2.4
 * (NTLMv2) — user "User", domain "Domain", password "Password", ServerChallenge 0123456789abcdef,
 * RandomSessionKey 55..55 sent under KEY_EXCH — parsed by ntlmssp.c and proven with the account: responses
 * verified, the client's ExportedSessionKey recovered; a wrong password gives verified false; an unknown
 * user finds no account.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "ntlmproof.h"
#include "ntlmssp.h"

static const uint8_t server_challenge[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

/* 4.2.2.3 AUTHENTICATE_MESSAGE (NTLMv1, KEY_EXCH, no LM_KEY) */
static const char *auth_v1_hex =
    "4e544c4d5353500003000000180018006c00000018001800840000000c000c00480000000800080054000000100010005c000000"
    "100010009c000000358280e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d00500055005400"
    "45005200"
    "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13"
    "67c43011f30298a2ad35ece64f16331c44bdbed927841f94"
    "518822b1b3f350c8958682ecbb3e3cb7";

/* 4.2.4.3 AUTHENTICATE_MESSAGE (NTLMv2, KEY_EXCH) */
static const char *auth_v2_hex =
    "4e544c4d5353500003000000180018006c00000054005400840000000c000c00480000000800080054000000100010005c000000"
    "10001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d00500055005400"
    "45005200"
    "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"
    "68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000"
    "02000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000"
    "c5dad2544fc9799094ce1ce90bc9d03e";

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    unsigned v;
    for (; s[0] && s[1]; s += 2) {
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* A credentials set of one account, built in memory. */
static void make_creds(struct hs_creds *c, const char *user, const char *password)
{
    char err[256];
    memset(c, 0, sizeof *c);
    c->crypto = ntlmc_new(err, sizeof err);
    assert_non_null(c->crypto);
    c->v = calloc(1, sizeof *c->v);
    c->n = c->cap = 1;
    snprintf(c->v[0].user, sizeof c->v[0].user, "%s", user);
    snprintf(c->v[0].domain, sizeof c->v[0].domain, "Domain");
    assert_int_equal(ntlmc_nt_hash(c->crypto, password, c->v[0].nt), 0);
    c->v[0].has_nt = true;
    c->v[0].has_lm = ntlmc_lm_hash(c->crypto, password, c->v[0].lm) == 0;
    c->v[0].lm_stored = c->v[0].has_lm;
}

static void prove(const char *hex, const char *user, const char *password, struct ntlm_proof *pf)
{
    uint8_t msg[512];
    size_t n = unhex(hex, msg);
    struct ntlm_msg m;
    assert_int_equal(ntlmssp_parse(msg, n, &m), NTLM_OK);
    assert_int_equal(m.bad_fields, 0);
    struct hs_creds c;
    make_creds(&c, user, password);
    memset(pf, 0, sizeof *pf);
    pf->nt_verified = pf->lm_verified = pf->mic_verified = NTLM_UNCHECKED;
    ntlm_proof_authenticate(&c, pf, &m, msg, n, server_challenge);
    creds_free(&c);
}

static const uint8_t random_session_key[16] = {0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                               0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};

static void test_ntlmproof_ntlmv1_4_2_2_verifies_and_recovers_session_key(void **state)
{
    (void)state;
    struct ntlm_proof pf;
    prove(auth_v1_hex, "User", "Password", &pf);
    assert_true(pf.done && pf.account);
    assert_int_equal(pf.nt_verified, NTLM_TRUE);
    assert_int_equal(pf.lm_verified, NTLM_TRUE);
    assert_string_equal(pf.lm_hash_used, "lm");
    assert_int_equal(pf.nkeys, 1);
    assert_string_equal(pf.keys[0].name, "ntlmv1");
    assert_memory_equal(pf.keys[0].exported, random_session_key, 16);
}

static void test_ntlmproof_ntlmv2_4_2_4_verifies_and_recovers_session_key(void **state)
{
    (void)state;
    struct ntlm_proof pf;
    prove(auth_v2_hex, "User", "Password", &pf);
    assert_true(pf.account);
    assert_int_equal(pf.nt_verified, NTLM_TRUE);
    assert_int_equal(pf.lm_verified, NTLM_TRUE); /* LMv2 */
    assert_int_equal(pf.nkeys, 1);
    assert_string_equal(pf.keys[0].name, "ntlmv2");
    assert_memory_equal(pf.keys[0].exported, random_session_key, 16);
    /* 4.2.4.4 keys from it */
    static const uint8_t sign[16] = {0x47, 0x88, 0xdc, 0x86, 0x1b, 0x47, 0x82, 0xf3,
                                     0x5d, 0x43, 0xfd, 0x98, 0xfe, 0x1a, 0x2d, 0x39};
    assert_memory_equal(pf.keys[0].sign[0], sign, 16);
}

static void test_ntlmproof_wrong_password_is_false_not_error(void **state)
{
    (void)state;
    struct ntlm_proof pf;
    prove(auth_v2_hex, "User", "Passw0rd", &pf);
    assert_true(pf.done && pf.account);
    assert_int_equal(pf.nt_verified, NTLM_FALSE);
    assert_int_equal(pf.lm_verified, NTLM_FALSE);
    prove(auth_v1_hex, "User", "Passw0rd", &pf);
    assert_int_equal(pf.nt_verified, NTLM_FALSE);
    assert_int_equal(pf.lm_verified, NTLM_FALSE);
}

static void test_ntlmproof_unknown_user_finds_no_account(void **state)
{
    (void)state;
    struct ntlm_proof pf;
    prove(auth_v2_hex, "Someone", "Password", &pf);
    assert_true(pf.done);
    assert_false(pf.account);
    assert_int_equal(pf.nt_verified, NTLM_UNCHECKED);
    assert_int_equal(pf.nkeys, 0);
}

/* The kept NEGOTIATE/CHALLENGE are wiped once the AUTHENTICATE is examined. */
static void test_ntlmproof_kept_messages_wiped_after_authenticate(void **state)
{
    (void)state;
    uint8_t msg[512];
    size_t n = unhex(auth_v2_hex, msg);
    struct ntlm_msg m;
    assert_int_equal(ntlmssp_parse(msg, n, &m), NTLM_OK);
    struct hs_creds c;
    make_creds(&c, "User", "Password");
    struct ntlm_proof *pf = calloc(1, sizeof *pf);
    uint8_t junk[64];
    memset(junk, 0x77, sizeof junk);
    ntlm_proof_keep(pf, NTLMSSP_NEGOTIATE_MESSAGE, junk, sizeof junk);
    ntlm_proof_keep(pf, NTLMSSP_CHALLENGE_MESSAGE, junk, sizeof junk);
    assert_int_equal(pf->neg_len, 64);
    ntlm_proof_authenticate(&c, pf, &m, msg, n, server_challenge);
    static const uint8_t zero[64];
    assert_memory_equal(pf->neg, zero, 64);
    assert_memory_equal(pf->chal, zero, 64);
    /* a message over the cap is not kept */
    uint8_t big[NTLM_KEEP_MAX + 1];
    memset(big, 1, sizeof big);
    ntlm_proof_keep(pf, NTLMSSP_NEGOTIATE_MESSAGE, big, sizeof big);
    assert_false(pf->neg_kept);
    assert_int_equal(pf->neg_len, 0);
    free(pf);
    creds_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntlmproof_ntlmv1_4_2_2_verifies_and_recovers_session_key),
        cmocka_unit_test(test_ntlmproof_ntlmv2_4_2_4_verifies_and_recovers_session_key),
        cmocka_unit_test(test_ntlmproof_wrong_password_is_false_not_error),
        cmocka_unit_test(test_ntlmproof_unknown_user_finds_no_account),
        cmocka_unit_test(test_ntlmproof_kept_messages_wiped_after_authenticate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
