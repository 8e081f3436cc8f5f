/*
 * Unit tests for src/keys/ntlmcrypto.c with the values of MS-NLMP 4.2 (User "User", UserDom "Domain",
 * Passwd "Password", RandomSessionKey 55..55, ClientChallenge aa..aa, ServerChallenge 0123456789abcdef,
 * Time 0): 4.2.2 NTLMv1, 4.2.3 NTLMv1 with extended session security, 4.2.4 NTLMv2; RFC 4493 for
 * AES-CMAC; OpenSSL's own KBKDF for the SP800-108 KDF of MS-SMB2 3.1.4.2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "ntlmcrypto.h"

static struct ntlmc *C;

static const uint8_t server_challenge[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
static const uint8_t client_challenge[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
static const uint8_t random_session_key[16] = {0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                               0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};
/* "Plaintext" in UTF-16LE, the message of the 4.2.x.4 GSS_WrapEx examples. */
static const uint8_t plaintext[18] = {0x50, 0x00, 0x6c, 0x00, 0x61, 0x00, 0x69, 0x00, 0x6e,
                                      0x00, 0x74, 0x00, 0x65, 0x00, 0x78, 0x00, 0x74, 0x00};

/* Parses a hex string with optional spaces into out; returns the byte count. */
static size_t hx(const char *s, uint8_t *out)
{
    size_t n = 0;
    unsigned v;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

#define assert_hex(buf, len, str)                                                                                     \
    do {                                                                                                              \
        uint8_t want_[256];                                                                                           \
        size_t wn_ = hx(str, want_);                                                                                  \
        assert_int_equal(wn_, (len));                                                                                 \
        assert_memory_equal((buf), want_, wn_);                                                                       \
    } while (0)

static int setup(void **state)
{
    (void)state;
    char err[256];
    C = ntlmc_new(err, sizeof err);
    if (!C)
        fprintf(stderr, "%s\n", err);
    return C ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ntlmc_free(C);
    return 0;
}

/* 4.2.2.1.1 LMOWFv1, 4.2.2.1.2 NTOWFv1 */
static void test_ntlmcrypto_hashes_of_password(void **state)
{
    (void)state;
    uint8_t lm[16], nt[16];
    assert_int_equal(ntlmc_lm_hash(C, "Password", lm), 0);
    assert_hex(lm, 16, "e52cac67419a9a224a3b108f3fa6cb6d");
    assert_int_equal(ntlmc_nt_hash(C, "Password", nt), 0);
    assert_hex(nt, 16, "a4f49c406510bdcab6824ee7c30fd852");
    /* case does not matter to the LM hash, but does to the NT hash */
    uint8_t lm2[16], nt2[16];
    assert_int_equal(ntlmc_lm_hash(C, "PASSWORD", lm2), 0);
    assert_memory_equal(lm, lm2, 16);
    assert_int_equal(ntlmc_nt_hash(C, "PASSWORD", nt2), 0);
    assert_memory_not_equal(nt, nt2, 16);
}

static void test_ntlmcrypto_no_lm_hash_over_14_chars(void **state)
{
    (void)state;
    uint8_t lm[16];
    assert_int_equal(ntlmc_lm_hash(C, "12345678901234", lm), 0);
    assert_int_equal(ntlmc_lm_hash(C, "123456789012345", lm), 1);
    assert_int_equal(ntlmc_lm_hash(C, "Passw\xc3\xb6rd", lm), 1); /* non-ASCII: OEM code page unknown */
}

static void test_ntlmcrypto_lab_hashes(void **state)
{
    (void)state;
    /* credentials.txt of the lab: alice, and bob whose password is too long for an LM hash */
    uint8_t h[16];
    assert_int_equal(ntlmc_nt_hash(C, "Alic3pw!", h), 0);
    assert_hex(h, 16, "5e1c00dfb0f18ef96c39c1d1417a45fa");
    assert_int_equal(ntlmc_lm_hash(C, "Alic3pw!", h), 0);
    assert_hex(h, 16, "3c6e6d2c908f15a4695109ab020e401c");
    assert_int_equal(ntlmc_nt_hash(C, "CorrectHorseBattery9!", h), 0);
    assert_hex(h, 16, "82106a7dd10aba3da475891cce8e9708");
}

static void test_ntlmcrypto_nt_hash_rejects_bad_utf8(void **state)
{
    (void)state;
    uint8_t h[16];
    assert_int_equal(ntlmc_nt_hash(C, "\xff\xfe", h), -1);
    assert_int_equal(ntlmc_nt_hash(C, "a\xc3", h), -1);
}

/* 4.2.2.1.3 session base key and key exchange keys, 4.2.2.2 responses, encrypted session keys */
static void test_ntlmcrypto_ntlmv1_4_2_2(void **state)
{
    (void)state;
    uint8_t lm[16], nt[16], sbk[16], kx[16], r[24], enc[16];
    ntlmc_lm_hash(C, "Password", lm);
    ntlmc_nt_hash(C, "Password", nt);
    assert_int_equal(ntlmc_v1_session_base_key(C, nt, sbk), 0);
    assert_hex(sbk, 16, "d87262b0cde4b1cb7499becccdf10784");
    assert_int_equal(ntlmc_desl(C, nt, server_challenge, r), 0);
    assert_hex(r, 24, "67c43011f30298a2ad35ece64f16331c44bdbed927841f94");
    uint8_t lmr[24];
    assert_int_equal(ntlmc_desl(C, lm, server_challenge, lmr), 0);
    assert_hex(lmr, 24, "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13");

    /* KXKEY: plain, LM_KEY, NON_NT_SESSION_KEY; and RandomSessionKey encrypted under each */
    assert_int_equal(ntlmc_kxkey(C, NTLMC_KX_SESSION_BASE, sbk, lm, lmr, server_challenge, kx), 0);
    assert_hex(kx, 16, "d87262b0cde4b1cb7499becccdf10784");
    ntlmc_rc4(C, kx, 16, random_session_key, enc, 16);
    assert_hex(enc, 16, "518822b1b3f350c8958682ecbb3e3cb7");

    assert_int_equal(ntlmc_kxkey(C, NTLMC_KX_LM_KEY, sbk, lm, lmr, server_challenge, kx), 0);
    assert_hex(kx, 16, "b09e379f7fbecb1eaf0afdcb0383c8a0");
    ntlmc_rc4(C, kx, 16, random_session_key, enc, 16);
    assert_hex(enc, 16, "4cd7bb57d697ef9b549f02b8f9b37864");

    assert_int_equal(ntlmc_kxkey(C, NTLMC_KX_NON_NT, sbk, lm, lmr, server_challenge, kx), 0);
    assert_hex(kx, 16, "e52cac67419a9a220000000000000000");
    ntlmc_rc4(C, kx, 16, random_session_key, enc, 16);
    assert_hex(enc, 16, "7452ca55c225a1ca04b48fae32cf56fc");

    /* decrypting gives the RandomSessionKey back (KEY_EXCH) */
    uint8_t back[16];
    ntlmc_rc4(C, kx, 16, enc, back, 16);
    assert_memory_equal(back, random_session_key, 16);
}

static void test_ntlmcrypto_kx_rule_ess_wins_over_lm_key(void **state)
{
    (void)state;
    assert_int_equal(ntlmc_kx_rule(0x00000080u, false), NTLMC_KX_LM_KEY);
    assert_int_equal(ntlmc_kx_rule(0x00080080u, false), NTLMC_KX_ESS);
    assert_int_equal(ntlmc_kx_rule(0x00400000u, false), NTLMC_KX_NON_NT);
    assert_int_equal(ntlmc_kx_rule(0x00400080u, false), NTLMC_KX_LM_KEY);
    assert_int_equal(ntlmc_kx_rule(0x00000000u, false), NTLMC_KX_SESSION_BASE);
    assert_int_equal(ntlmc_kx_rule(0x00080080u, true), NTLMC_KX_SESSION_BASE);
}

/* 4.2.2.4 GSS_WrapEx without ESS: flags 56|SIGN|SEAL, key 55..55; seal then MAC on one RC4 handle */
static void test_ntlmcrypto_signature_without_ess_4_2_2_4(void **state)
{
    (void)state;
    const uint32_t flags = 0x80000030u;
    uint8_t seal[16], sealed[18], sig[16];
    size_t seal_len;
    assert_int_equal(ntlmc_sealkey(C, flags, random_session_key, true, seal, &seal_len), 0);
    assert_int_equal(seal_len, 16); /* no LM_KEY: the key is used whole */
    ntlmc_rc4(C, seal, seal_len, plaintext, sealed, sizeof plaintext);
    assert_hex(sealed, 18, "56fe04d861f9319af0d7238a2e3b4d457fb8");
    assert_int_equal(ntlmc_mac(C, flags, NULL, seal, seal_len, sizeof plaintext, 0, plaintext, sizeof plaintext, sig), 0);
    assert_hex(sig, 16, "010000000000000009dcd1df2e459d36");
    /* any other sequence number gives another signature */
    uint8_t sig1[16];
    ntlmc_mac(C, flags, NULL, seal, seal_len, sizeof plaintext, 1, plaintext, sizeof plaintext, sig1);
    assert_memory_not_equal(sig, sig1, 16);
}

static void test_ntlmcrypto_sealkey_weakening_with_lm_key(void **state)
{
    (void)state;
    uint8_t k[16];
    size_t n;
    ntlmc_sealkey(C, 0x80000080u, random_session_key, true, k, &n); /* LM_KEY | 56 */
    assert_int_equal(n, 8);
    assert_hex(k, 8, "55555555555555a0");
    ntlmc_sealkey(C, 0x00000080u, random_session_key, true, k, &n); /* LM_KEY, 40-bit */
    assert_int_equal(n, 8);
    assert_hex(k, 8, "5555555555e538b0");
    uint8_t s[16];
    assert_int_equal(ntlmc_signkey(C, 0x00000080u, random_session_key, true, s), 1); /* no SIGNKEY without ESS */
}

/* 4.2.3 NTLMv1 with ESS */
static void test_ntlmcrypto_ntlmv1_ess_4_2_3(void **state)
{
    (void)state;
    uint8_t nt[16], sbk[16], kx[16], r[24];
    ntlmc_nt_hash(C, "Password", nt);
    assert_int_equal(ntlmc_ntlmv1_ess_response(C, nt, server_challenge, client_challenge, r), 0);
    assert_hex(r, 24, "7537f803ae367128ca458204bde7caf81e97ed2683267232");
    ntlmc_v1_session_base_key(C, nt, sbk);
    uint8_t lmr[24] = {0};
    memcpy(lmr, client_challenge, 8); /* 4.2.3.2.1 LMv1 response: ClientChallenge || Z(16) */
    assert_int_equal(ntlmc_kxkey(C, NTLMC_KX_ESS, sbk, NULL, lmr, server_challenge, kx), 0);
    assert_hex(kx, 16, "eb93429a8bd952f8b89c55b87f475edc");

    /* 4.2.3.4: flags ESS|56|SIGN|SEAL, no KEY_EXCH so the KXKEY is the exported key */
    const uint32_t flags = 0x80080030u;
    uint8_t seal[16], sign[16], sealed[18], sig[16];
    size_t seal_len;
    ntlmc_sealkey(C, flags, kx, true, seal, &seal_len);
    assert_hex(seal, 16, "04dd7f014d8504d265a25cc86a3a7c06");
    assert_int_equal(ntlmc_signkey(C, flags, kx, true, sign), 0);
    assert_hex(sign, 16, "60e799be5c72fc92922ae8ebe961fb8d");
    ntlmc_rc4(C, seal, seal_len, plaintext, sealed, sizeof plaintext);
    assert_hex(sealed, 18, "a02372f6530273f3aa1eb90190ce5200c99d");
    assert_int_equal(ntlmc_mac(C, flags, sign, seal, seal_len, sizeof plaintext, 0, plaintext, sizeof plaintext, sig), 0);
    assert_hex(sig, 16, "01000000ff2aeb52f681793a00000000");
}

/* 4.2.4 NTLMv2 */
static void test_ntlmcrypto_ntlmv2_4_2_4(void **state)
{
    (void)state;
    uint8_t nt[16], v2[16], proof[16], sbk[16], enc[16];
    ntlmc_nt_hash(C, "Password", nt);
    assert_int_equal(ntlmc_ntowfv2(C, nt, "User", "Domain", v2), 0);
    assert_hex(v2, 16, "0c868a403bfd7a93a3001ef22ef02e3f");
    /* only the user name is uppercased */
    uint8_t v2b[16];
    ntlmc_ntowfv2(C, nt, "user", "Domain", v2b);
    assert_memory_equal(v2, v2b, 16);
    ntlmc_ntowfv2(C, nt, "User", "DOMAIN", v2b);
    assert_memory_not_equal(v2, v2b, 16);

    assert_int_equal(ntlmc_lmv2_proof(C, v2, server_challenge, client_challenge, proof), 0);
    assert_hex(proof, 16, "86c35097ac9cec102554764a57cccc19");

    /* temp (4.2.4.1.3): 0101 0000 00000000 Time(8)=0 ClientChallenge 00000000 AvPairs 00000000 */
    uint8_t temp[80];
    size_t tn = hx("0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000"
                   "02000c0044006f006d00610069006e00 01000c005300650072007600650072000000000000000000",
                   temp);
    assert_int_equal(tn, 68);
    assert_int_equal(ntlmc_ntproofstr(C, v2, server_challenge, temp, tn, proof), 0);
    assert_hex(proof, 16, "68cd0ab851e51c96aabc927bebef6a1c");
    assert_int_equal(ntlmc_v2_session_base_key(C, v2, proof, sbk), 0);
    assert_hex(sbk, 16, "8de40ccadbc14a82f15cb0ad0de95ca3");
    ntlmc_rc4(C, sbk, 16, random_session_key, enc, 16);
    assert_hex(enc, 16, "c5dad2544fc9799094ce1ce90bc9d03e");

    /* 4.2.4.4: flags with ESS, 128, KEY_EXCH; exported key = RandomSessionKey */
    const uint32_t flags = 0xe28a8233u;
    uint8_t seal[16], sign[16], sealed[18], sig[16];
    size_t seal_len;
    ntlmc_sealkey(C, flags, random_session_key, true, seal, &seal_len);
    assert_hex(seal, 16, "59f600973cc4960a25480a7c196e4c58");
    ntlmc_signkey(C, flags, random_session_key, true, sign);
    assert_hex(sign, 16, "4788dc861b4782f35d43fd98fe1a2d39");
    ntlmc_rc4(C, seal, seal_len, plaintext, sealed, sizeof plaintext);
    assert_hex(sealed, 18, "54e50165bf1936dc996020c1811b0f06fb5f");
    ntlmc_mac(C, flags, sign, seal, seal_len, sizeof plaintext, 0, plaintext, sizeof plaintext, sig);
    assert_hex(sig, 16, "010000007fb38ec5c55d497600000000");
}

static void test_ntlmcrypto_mic_covers_the_three_messages(void **state)
{
    (void)state;
    uint8_t neg[8] = {1, 2, 3, 4, 5, 6, 7, 8}, chal[8] = {9, 9, 9, 9, 9, 9, 9, 9}, auth[100], m1[16], m2[16];
    memset(auth, 0x33, sizeof auth);
    assert_int_equal(ntlmc_mic(C, random_session_key, neg, 8, chal, 8, auth, sizeof auth, 72, m1), 0);
    /* the MIC field's own bytes do not count */
    memset(auth + 72, 0xee, 16);
    ntlmc_mic(C, random_session_key, neg, 8, chal, 8, auth, sizeof auth, 72, m2);
    assert_memory_equal(m1, m2, 16);
    /* a change in the NEGOTIATE does */
    neg[0] ^= 1;
    ntlmc_mic(C, random_session_key, neg, 8, chal, 8, auth, sizeof auth, 72, m2);
    assert_memory_not_equal(m1, m2, 16);
    /* a MIC field past the message is refused */
    assert_int_equal(ntlmc_mic(C, random_session_key, neg, 8, chal, 8, auth, 80, 72, m2), -1);
}

static void test_ntlmcrypto_crc32(void **state)
{
    (void)state;
    assert_int_equal(ntlmc_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
    assert_int_equal(ntlmc_crc32(NULL, 0), 0);
}

/* RFC 4493 4: AES-CMAC examples 1 and 2 */
static void test_ntlmcrypto_aes_cmac_rfc4493(void **state)
{
    (void)state;
    uint8_t key[16], m[16], out[16];
    hx("2b7e151628aed2a6abf7158809cf4f3c", key);
    assert_int_equal(ntlmc_aes_cmac(C, key, NULL, 0, out), 0);
    assert_hex(out, 16, "bb1d6929e95937287fa37d129b756746");
    hx("6bc1bee22e409f96e93d7e117393172a", m);
    ntlmc_aes_cmac(C, key, m, 16, out);
    assert_hex(out, 16, "070a16b46b4d4144f79bdd9dd04a287c");
}

/* The SP800-108 KDF against OpenSSL's KBKDF (counter mode, HMAC-SHA256, 128 bits). */
static void test_ntlmcrypto_kdf_agrees_with_openssl_kbkdf(void **state)
{
    (void)state;
    uint8_t ki[16], mine[16], theirs[16];
    memcpy(ki, random_session_key, 16);
    static const uint8_t label[] = "SMB2AESCMAC", context[] = "SmbSign";
    assert_int_equal(ntlmc_smb3_kdf(C, ki, label, sizeof label, context, sizeof context, mine), 0);

    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "KBKDF", NULL);
    assert_non_null(kdf);
    EVP_KDF_CTX *x = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)"counter", 0),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, (char *)"HMAC", 0),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ki, 16),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)label, sizeof label),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)context, sizeof context),
        OSSL_PARAM_construct_end(),
    };
    assert_int_equal(EVP_KDF_derive(x, theirs, 16, p), 1);
    EVP_KDF_CTX_free(x);
    EVP_KDF_free(kdf);
    assert_memory_equal(mine, theirs, 16);
}

static void test_ntlmcrypto_smb1_mac_uses_sequence_number(void **state)
{
    (void)state;
    uint8_t msg[40] = {0xff, 'S', 'M', 'B', 0x73}, key[40], a[8], b[8], c2[8];
    memset(key, 7, sizeof key);
    memset(msg + 14, 0x42, 8); /* whatever the signature field held is replaced by the sequence number */
    assert_int_equal(ntlmc_smb1_mac(C, key, 40, 1, msg, sizeof msg, a), 0);
    memset(msg + 14, 0x00, 8);
    ntlmc_smb1_mac(C, key, 40, 1, msg, sizeof msg, b);
    assert_memory_equal(a, b, 8);
    ntlmc_smb1_mac(C, key, 40, 2, msg, sizeof msg, c2);
    assert_memory_not_equal(a, c2, 8);
    assert_int_equal(ntlmc_smb1_mac(C, key, 40, 1, msg, 31, a), -1);
}

static void test_ntlmcrypto_smb2_signatures_ignore_signature_field(void **state)
{
    (void)state;
    uint8_t msg[80] = {0xfe, 'S', 'M', 'B'}, a[16], b[16];
    memset(msg + 48, 0x99, 16);
    assert_int_equal(ntlmc_smb2_hmac(C, random_session_key, msg, sizeof msg, a), 0);
    memset(msg + 48, 0, 16);
    ntlmc_smb2_hmac(C, random_session_key, msg, sizeof msg, b);
    assert_memory_equal(a, b, 16);
    assert_int_equal(ntlmc_smb3_cmac(C, random_session_key, msg, sizeof msg, a), 0);
    uint8_t whole[16];
    ntlmc_aes_cmac(C, random_session_key, msg, sizeof msg, whole);
    assert_memory_equal(a, whole, 16);
    assert_int_equal(ntlmc_smb2_hmac(C, random_session_key, msg, 63, a), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntlmcrypto_hashes_of_password),
        cmocka_unit_test(test_ntlmcrypto_no_lm_hash_over_14_chars),
        cmocka_unit_test(test_ntlmcrypto_lab_hashes),
        cmocka_unit_test(test_ntlmcrypto_nt_hash_rejects_bad_utf8),
        cmocka_unit_test(test_ntlmcrypto_ntlmv1_4_2_2),
        cmocka_unit_test(test_ntlmcrypto_kx_rule_ess_wins_over_lm_key),
        cmocka_unit_test(test_ntlmcrypto_signature_without_ess_4_2_2_4),
        cmocka_unit_test(test_ntlmcrypto_sealkey_weakening_with_lm_key),
        cmocka_unit_test(test_ntlmcrypto_ntlmv1_ess_4_2_3),
        cmocka_unit_test(test_ntlmcrypto_ntlmv2_4_2_4),
        cmocka_unit_test(test_ntlmcrypto_mic_covers_the_three_messages),
        cmocka_unit_test(test_ntlmcrypto_crc32),
        cmocka_unit_test(test_ntlmcrypto_aes_cmac_rfc4493),
        cmocka_unit_test(test_ntlmcrypto_kdf_agrees_with_openssl_kbkdf),
        cmocka_unit_test(test_ntlmcrypto_smb1_mac_uses_sequence_number),
        cmocka_unit_test(test_ntlmcrypto_smb2_signatures_ignore_signature_field),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
