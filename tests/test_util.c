/*
 * Unit tests for src/util.c (UTF-16LE / OEM to UTF-8, base64, value tables and flag words,
 * small string helpers), src/community_id.c (Community ID v1 flow hash) and src/names.c (NTSTATUS
 * and other value names).
 *
 * Community ID expectations come from the spec's own example (corelight/community-id-spec) and
 * from tshark 4.0's communityid dissector (tshark --enable-protocol communityid -T fields
 * -e communityid) run over /work/shared/captures/lab/smb2_ntlmv2_ok.pcap (IPv4) and
 * /work/shared/captures/public/arkime/ntlm_synthetic.pcap (IPv6).
 */
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "community_id.h"
#include "digest.h"
#include "names.h"
#include "util.h"

/* ---- utf16le_to_utf8 ---------------------------------------------------------------------- */

static void test_utf16le_ascii_and_bmp(void **state)
{
    (void)state;
    char out[64];
    static const uint8_t alice[] = {'a', 0, 'l', 0, 'i', 0, 'c', 0, 'e', 0};
    assert_true(utf16le_to_utf8(alice, sizeof alice, out, sizeof out));
    assert_string_equal(out, "alice");
    /* "Jürgen": U+00FC → C3 BC. */
    static const uint8_t juergen[] = {'J', 0, 0xfc, 0, 'r', 0, 'g', 0, 'e', 0, 'n', 0};
    assert_true(utf16le_to_utf8(juergen, sizeof juergen, out, sizeof out));
    assert_string_equal(out, "J\xc3\xbcrgen");
    /* U+20AC EURO SIGN → E2 82 AC; U+FFFF stays a 3-byte sequence. */
    static const uint8_t euro[] = {0xac, 0x20, 0xff, 0xff};
    assert_true(utf16le_to_utf8(euro, sizeof euro, out, sizeof out));
    assert_string_equal(out, "\xe2\x82\xac\xef\xbf\xbf");
    /* Empty input gives an empty string. */
    assert_true(utf16le_to_utf8(alice, 0, out, sizeof out));
    assert_string_equal(out, "");
}

static void test_utf16le_surrogate_pairs(void **state)
{
    (void)state;
    char out[64];
    /* U+1F600 = D83D DE00 → F0 9F 98 80. */
    static const uint8_t smile[] = {'x', 0, 0x3d, 0xd8, 0x00, 0xde, 'y', 0};
    assert_true(utf16le_to_utf8(smile, sizeof smile, out, sizeof out));
    assert_string_equal(out, "x\xf0\x9f\x98\x80y");
    /* U+10000 (D800 DC00) and U+10FFFF (DBFF DFFF), the ends of the supplementary range. */
    static const uint8_t ends[] = {0x00, 0xd8, 0x00, 0xdc, 0xff, 0xdb, 0xff, 0xdf};
    assert_true(utf16le_to_utf8(ends, sizeof ends, out, sizeof out));
    assert_string_equal(out, "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
}

static void test_utf16le_unpaired_surrogates_become_replacement(void **state)
{
    (void)state;
    char out[64];
    /* A lone high surrogate followed by an ordinary character: U+FFFD then the character. */
    static const uint8_t hi_then_a[] = {0x3d, 0xd8, 'a', 0};
    assert_true(utf16le_to_utf8(hi_then_a, sizeof hi_then_a, out, sizeof out));
    assert_string_equal(out, "\xef\xbf\xbd" "a");
    /* A lone low surrogate. */
    static const uint8_t lo[] = {'a', 0, 0x00, 0xde, 'b', 0};
    assert_true(utf16le_to_utf8(lo, sizeof lo, out, sizeof out));
    assert_string_equal(out, "a\xef\xbf\xbd" "b");
    /* A high surrogate at the very end. */
    static const uint8_t hi_end[] = {'a', 0, 0x3d, 0xd8};
    assert_true(utf16le_to_utf8(hi_end, sizeof hi_end, out, sizeof out));
    assert_string_equal(out, "a\xef\xbf\xbd");
    /* Two high surrogates in a row: each is unpaired. */
    static const uint8_t hihi[] = {0x3d, 0xd8, 0x3d, 0xd8, 0x00, 0xde};
    assert_true(utf16le_to_utf8(hihi, sizeof hihi, out, sizeof out));
    assert_string_equal(out, "\xef\xbf\xbd\xf0\x9f\x98\x80");
    /* Reversed pair (low then high). */
    static const uint8_t rev[] = {0x00, 0xde, 0x3d, 0xd8};
    assert_true(utf16le_to_utf8(rev, sizeof rev, out, sizeof out));
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_utf16le_odd_length(void **state)
{
    (void)state;
    char out[64];
    /* An odd trailing byte becomes U+FFFD. */
    static const uint8_t odd[] = {'a', 0, 'b', 0, 'c'};
    assert_true(utf16le_to_utf8(odd, sizeof odd, out, sizeof out));
    assert_string_equal(out, "ab\xef\xbf\xbd");
    static const uint8_t one[] = {'z'};
    assert_true(utf16le_to_utf8(one, 1, out, sizeof out));
    assert_string_equal(out, "\xef\xbf\xbd");
}

static void test_utf16le_nul_ends_string(void **state)
{
    (void)state;
    char out[64];
    static const uint8_t nul[] = {'a', 0, 'b', 0, 0, 0, 'c', 0};
    assert_true(utf16le_to_utf8(nul, sizeof nul, out, sizeof out));
    assert_string_equal(out, "ab");
}

static void test_utf16le_nul_ends_string_before_odd_trailing_byte(void **state)
{
    (void)state;
    char out[64];
    /* Nothing after the U+0000 that ends the string may appear in the output, not even the
     * U+FFFD that stands for an odd trailing byte. */
    static const uint8_t nul_odd[] = {'a', 0, 0, 0, 'c'};
    assert_true(utf16le_to_utf8(nul_odd, sizeof nul_odd, out, sizeof out));
    assert_string_equal(out, "a");
}

static void test_utf16le_output_cut_at_cap_on_character_boundary(void **state)
{
    (void)state;
    char out[16];
    static const uint8_t abcdef[] = {'a', 0, 'b', 0, 'c', 0, 'd', 0, 'e', 0, 'f', 0};
    /* cap 4: three characters and the NUL. */
    memset(out, 'X', sizeof out);
    assert_false(utf16le_to_utf8(abcdef, sizeof abcdef, out, 4));
    assert_string_equal(out, "abc");
    assert_int_equal(out[4], 'X'); /* nothing written past cap */
    /* Exactly fitting: six characters in cap 7. */
    assert_true(utf16le_to_utf8(abcdef, sizeof abcdef, out, 7));
    assert_string_equal(out, "abcdef");
    assert_false(utf16le_to_utf8(abcdef, sizeof abcdef, out, 6));
    assert_string_equal(out, "abcde");
    /* A 2-byte character that does not fit is left out whole. */
    static const uint8_t a_ue[] = {'a', 0, 0xfc, 0};
    memset(out, 'X', sizeof out);
    assert_false(utf16le_to_utf8(a_ue, sizeof a_ue, out, 3));
    assert_string_equal(out, "a");
    /* A 4-byte character (surrogate pair) needs 5 bytes with the NUL. */
    static const uint8_t smile[] = {'a', 0, 0x3d, 0xd8, 0x00, 0xde};
    assert_false(utf16le_to_utf8(smile, sizeof smile, out, 5));
    assert_string_equal(out, "a");
    assert_true(utf16le_to_utf8(smile, sizeof smile, out, 6));
    assert_string_equal(out, "a\xf0\x9f\x98\x80");
    /* cap 1: only the NUL. */
    assert_false(utf16le_to_utf8(abcdef, sizeof abcdef, out, 1));
    assert_string_equal(out, "");
    /* An odd trailing byte whose U+FFFD does not fit. */
    static const uint8_t odd[] = {'a', 0, 'b'};
    assert_false(utf16le_to_utf8(odd, sizeof odd, out, 3));
    assert_string_equal(out, "a");
}

/* ---- oem_to_utf8 -------------------------------------------------------------------------- */

static void test_oem_to_utf8(void **state)
{
    (void)state;
    char out[32];
    static const uint8_t ascii[] = {'H', 'O', 'P', 'L', 'A', 'B'};
    assert_true(oem_to_utf8(ascii, sizeof ascii, out, sizeof out));
    assert_string_equal(out, "HOPLAB");
    /* Bytes >= 0x80 are read as Latin-1. */
    static const uint8_t latin[] = {'J', 0xfc, 'r', 'g', 'e', 'n', 0xff};
    assert_true(oem_to_utf8(latin, sizeof latin, out, sizeof out));
    assert_string_equal(out, "J\xc3\xbcrgen\xc3\xbf");
    /* A NUL ends the string. */
    static const uint8_t nul[] = {'a', 'b', 0, 'c'};
    assert_true(oem_to_utf8(nul, sizeof nul, out, sizeof out));
    assert_string_equal(out, "ab");
    /* Cut at cap on a character boundary. */
    memset(out, 'X', sizeof out);
    assert_false(oem_to_utf8(ascii, sizeof ascii, out, 4));
    assert_string_equal(out, "HOP");
    static const uint8_t a_ue[] = {'a', 0xfc};
    assert_false(oem_to_utf8(a_ue, sizeof a_ue, out, 3));
    assert_string_equal(out, "a");
    assert_true(oem_to_utf8(a_ue, sizeof a_ue, out, 4));
    assert_string_equal(out, "a\xc3\xbc");
    assert_true(oem_to_utf8(ascii, 0, out, sizeof out));
    assert_string_equal(out, "");
}

/* ---- base64_decode ------------------------------------------------------------------------ */

static void check_b64(const char *in, const char *want)
{
    uint8_t out[64];
    memset(out, 0xee, sizeof out);
    long n = base64_decode(in, strlen(in), out, sizeof out);
    assert_int_equal(n, (long)strlen(want));
    assert_memory_equal(out, want, strlen(want));
}

static void test_base64_rfc4648_vectors_padded(void **state)
{
    (void)state;
    /* RFC 4648 section 10. */
    check_b64("", "");
    check_b64("Zg==", "f");
    check_b64("Zm8=", "fo");
    check_b64("Zm9v", "foo");
    check_b64("Zm9vYg==", "foob");
    check_b64("Zm9vYmE=", "fooba");
    check_b64("Zm9vYmFy", "foobar");
}

static void test_base64_rfc4648_vectors_unpadded(void **state)
{
    (void)state;
    check_b64("Zg", "f");
    check_b64("Zm8", "fo");
    check_b64("Zm9vYg", "foob");
    check_b64("Zm9vYmE", "fooba");
}

static void test_base64_binary_and_alphabet(void **state)
{
    (void)state;
    uint8_t out[8];
    /* "+/" are 62 and 63: "+/+/" = FB FF BF. */
    assert_int_equal(base64_decode("+/+/", 4, out, sizeof out), 3);
    static const uint8_t want[] = {0xfb, 0xff, 0xbf};
    assert_memory_equal(out, want, 3);
    /* "TlRMTVNTUAAB" is "NTLMSSP\0\x01". */
    uint8_t ntlm[9];
    assert_int_equal(base64_decode("TlRMTVNTUAAB", 12, ntlm, sizeof ntlm), 9);
    assert_memory_equal(ntlm, "NTLMSSP\0\x01", 9);
}

static void test_base64_invalid_characters(void **state)
{
    (void)state;
    uint8_t out[64];
    assert_int_equal(base64_decode("Zm9v!mFy", 8, out, sizeof out), -1);
    assert_int_equal(base64_decode("Zm9v YmFy", 9, out, sizeof out), -1);   /* whitespace */
    assert_int_equal(base64_decode("Zm9vYmFy\n", 9, out, sizeof out), -1);  /* trailing newline */
    assert_int_equal(base64_decode("Zm9v-_Fy", 8, out, sizeof out), -1);   /* base64url alphabet */
    assert_int_equal(base64_decode("Zg==Zg==", 8, out, sizeof out), -1);   /* padding inside */
    assert_int_equal(base64_decode("Z", 1, out, sizeof out), -1);          /* 1 char: 6 bits */
    assert_int_equal(base64_decode("Zm9vY", 5, out, sizeof out), -1);
    assert_int_equal(base64_decode("Zg===", 5, out, sizeof out), -1);      /* 3 pad characters */
    static const char nul_inside[] = {'Z', 'm', 0, 'v'};
    assert_int_equal(base64_decode(nul_inside, 4, out, sizeof out), -1);
}

static void test_base64_output_too_small(void **state)
{
    (void)state;
    uint8_t out[8];
    memset(out, 0xee, sizeof out);
    assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5), -1);
    assert_int_equal(base64_decode("Zm9vYmE=", 8, out, 4), -1);
    assert_int_equal(base64_decode("Zg==", 4, out, 0), -1);
    /* Exactly enough is fine. */
    assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 6), 6);
    assert_memory_equal(out, "foobar", 6);
    assert_int_equal(base64_decode("Zm9vYmE", 7, out, 5), 5);
    assert_memory_equal(out, "fooba", 5);
}

/* ---- tok_name and string helpers ---------------------------------------------------------- */

static void test_tok_name(void **state)
{
    (void)state;
    static const struct tok t[] = {{0, "zero"}, {1, "one"}, {0xffffffffu, "max"}, {1, "dup"}, {0, NULL}};
    assert_string_equal(tok_name(t, 0), "zero");
    assert_string_equal(tok_name(t, 1), "one"); /* first match wins */
    assert_string_equal(tok_name(t, 0xffffffffu), "max");
    assert_null(tok_name(t, 2));
    static const struct tok empty[] = {{0, NULL}};
    assert_null(tok_name(empty, 0));
}

/* ---- bittok_each / bittok_each_msb0 ------------------------------------------------------- */

/* What a JSON writer would build: the names of the set bits, unnamed ones spelled by the writer. */
struct name_list {
    char out[400]; /* 32 unnamed bits at 11 bytes each fit */
    size_t len;
    bool msb0; /* spell unnamed keys as "bitN" (bit numbers) rather than "0x%08x" (masks) */
};

static void collect_name(void *arg, const char *name, uint32_t key)
{
    struct name_list *l = arg;
    char buf[24];
    if (!name) {
        if (l->msb0)
            snprintf(buf, sizeof buf, "bit%u", (unsigned)key);
        else
            snprintf(buf, sizeof buf, "0x%08x", (unsigned)key);
        name = buf;
    }
    int k = snprintf(l->out + l->len, sizeof l->out - l->len, "%s%s", l->len ? "," : "", name);
    assert_true(k > 0 && (size_t)k < sizeof l->out - l->len);
    l->len += (size_t)k;
}

static void test_bittok_each_names_set_bits_lsb_first_with_mask_keys(void **state)
{
    (void)state;
    static const struct tok t[] = {
        {0x1, "UNICODE"}, {0x4, "REQUEST_TARGET"}, {0x80000000u, "NEG_56"}, {0, NULL},
    };
    struct name_list l = {{0}, 0, false};
    /* 0x100 has no name: the writer gets NULL and the mask, and spells it itself. */
    assert_int_equal(bittok_each(t, 0x80000105u, collect_name, &l), 4);
    assert_string_equal(l.out, "UNICODE,REQUEST_TARGET,0x00000100,NEG_56");
}

static void test_bittok_each_zero_word_makes_no_calls(void **state)
{
    (void)state;
    static const struct tok t[] = {{0x1, "one"}, {0, NULL}};
    struct name_list l = {{0}, 0, false};
    assert_int_equal(bittok_each(t, 0, collect_name, &l), 0);
    assert_int_equal(bittok_each_msb0(t, 0, collect_name, &l), 0);
    assert_int_equal(l.len, 0);
}

static void test_bittok_each_all_bits_unnamed_with_empty_table(void **state)
{
    (void)state;
    static const struct tok empty[] = {{0, NULL}};
    struct name_list l = {{0}, 0, false};
    assert_int_equal(bittok_each(empty, 0xffffffffu, collect_name, &l), 32);
    assert_memory_equal(l.out, "0x00000001,0x00000002,", 22);
    assert_string_equal(l.out + l.len - 10, "0x80000000");
}

static void test_bittok_each_msb0_numbers_bits_from_the_high_bit(void **state)
{
    (void)state;
    /* KerberosFlags (RFC 4120 5.2.8): bit 0 = 0x80000000, keyed by bit number. */
    static const struct tok t[] = {
        {0, "reserved"}, {1, "forwardable"}, {15, "canonicalize"}, {31, "validate"}, {0, NULL},
    };
    struct name_list l = {{0}, 0, true};
    /* forwardable (bit 1), bit 7 unnamed, canonicalize (bit 15), validate (bit 31) */
    uint32_t v = (0x80000000u >> 1) | (0x80000000u >> 7) | (0x80000000u >> 15) | 1u;
    assert_int_equal(bittok_each_msb0(t, v, collect_name, &l), 4);
    assert_string_equal(l.out, "forwardable,bit7,canonicalize,validate");

    l = (struct name_list){{0}, 0, true};
    assert_int_equal(bittok_each_msb0(t, 0x80000000u, collect_name, &l), 1);
    assert_string_equal(l.out, "reserved");
}

static void test_strlcpy_n_and_has_prefix_ci(void **state)
{
    (void)state;
    char out[6];
    strlcpy_n(out, sizeof out, "Negotiate", 9);
    assert_string_equal(out, "Negot");
    strlcpy_n(out, sizeof out, "NTLM TlRM", 4);
    assert_string_equal(out, "NTLM");
    strlcpy_n(out, sizeof out, "ab\0cd", 5);
    assert_string_equal(out, "ab");
    assert_true(has_prefix_ci("negotiate YIIH", 14, "Negotiate "));
    assert_true(has_prefix_ci("NTLM", 4, "ntlm"));
    assert_false(has_prefix_ci("NTL", 3, "ntlm"));
    assert_false(has_prefix_ci("Basic xyz", 9, "NTLM"));
}

/* ---- community_id_v1 ---------------------------------------------------------------------- */

static void ip4(const char *s, uint8_t a[4])
{
    assert_int_equal(inet_pton(AF_INET, s, a), 1);
}

static void ip6(const char *s, uint8_t a[16])
{
    assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static void test_community_id_spec_example(void **state)
{
    (void)state;
    /* community-id-spec README: TCP 128.232.110.120:34855 -> 66.35.250.204:80, seed 0. */
    uint8_t a[4], b[4];
    char out[COMMUNITY_ID_LEN];
    ip4("128.232.110.120", a);
    ip4("66.35.250.204", b);
    assert_int_equal(community_id_v1(0, 4, 6, a, b, 34855, 80, out), 0);
    assert_string_equal(out, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    assert_int_equal(strlen(out), 30);
    /* The reverse direction is the same flow. */
    assert_int_equal(community_id_v1(0, 4, 6, b, a, 80, 34855, out), 0);
    assert_string_equal(out, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}

static void test_community_id_ipv4_tcp_matches_tshark(void **state)
{
    (void)state;
    /* smb2_ntlmv2_ok.pcap: 10.201.1.30:49778 -> 10.201.1.10:445 TCP;
     * tshark communityid 1:8sXp2xAIvE7M5jd02PC7mwT4Ck0= (seed 0), and with
     * -o communityid.seed:1, 1:vUL1RiDH1h8TE/11HqDVEqh6G3Q=. */
    uint8_t c[4], s[4];
    char out[COMMUNITY_ID_LEN];
    ip4("10.201.1.30", c);
    ip4("10.201.1.10", s);
    assert_int_equal(community_id_v1(0, 4, 6, c, s, 49778, 445, out), 0);
    assert_string_equal(out, "1:8sXp2xAIvE7M5jd02PC7mwT4Ck0=");
    assert_int_equal(community_id_v1(0, 4, 6, s, c, 445, 49778, out), 0);
    assert_string_equal(out, "1:8sXp2xAIvE7M5jd02PC7mwT4Ck0=");
    assert_int_equal(community_id_v1(1, 4, 6, c, s, 49778, 445, out), 0);
    assert_string_equal(out, "1:vUL1RiDH1h8TE/11HqDVEqh6G3Q=");
}

static void test_community_id_ipv6_tcp_matches_tshark(void **state)
{
    (void)state;
    /* ntlm_synthetic.pcap frame 27: [2001:db8:10::100]:50003 -> [2001:db8:10::1]:445 TCP;
     * tshark communityid 1:ckVWb0boF9GdO7w3Pr85fN0Xqxg=. */
    uint8_t c[16], s[16];
    char out[COMMUNITY_ID_LEN];
    ip6("2001:db8:10::100", c);
    ip6("2001:db8:10::1", s);
    assert_int_equal(community_id_v1(0, 6, 6, c, s, 50003, 445, out), 0);
    assert_string_equal(out, "1:ckVWb0boF9GdO7w3Pr85fN0Xqxg=");
    assert_int_equal(community_id_v1(0, 6, 6, s, c, 445, 50003, out), 0);
    assert_string_equal(out, "1:ckVWb0boF9GdO7w3Pr85fN0Xqxg=");
}

static void test_community_id_same_address_orders_by_port(void **state)
{
    (void)state;
    /* Equal addresses: the endpoint with the smaller port comes first, so both directions
     * agree; the protocol number is part of the hash. */
    uint8_t a[4];
    char x[COMMUNITY_ID_LEN], y[COMMUNITY_ID_LEN], z[COMMUNITY_ID_LEN];
    ip4("10.1.1.1", a);
    assert_int_equal(community_id_v1(0, 4, 17, a, a, 1000, 2000, x), 0);
    assert_int_equal(community_id_v1(0, 4, 17, a, a, 2000, 1000, y), 0);
    assert_string_equal(x, y);
    assert_int_equal(community_id_v1(0, 4, 6, a, a, 1000, 2000, z), 0);
    assert_string_not_equal(x, z);
    assert_memory_equal(x, "1:", 2);
}

/* ---- names -------------------------------------------------------------------------------- */

/* ntstatus_name(code) is want; a macro so a failure names the caller's line, and a NULL from
 * the table fails cleanly instead of crashing strcmp. */
#define check_status(code, want)                                                                   \
    do {                                                                                           \
        const char *got_ = ntstatus_name(code);                                                    \
        assert_non_null(got_);                                                                     \
        assert_string_equal(got_, (want));                                                         \
    } while (0)

static void test_ntstatus_names_common(void **state)
{
    (void)state;
    check_status(0xC000006D, "STATUS_LOGON_FAILURE");
    check_status(0x00000000, "STATUS_SUCCESS");
    check_status(0xC0000016, "STATUS_MORE_PROCESSING_REQUIRED");
    check_status(0xC0000022, "STATUS_ACCESS_DENIED");
    check_status(0xC0000064, "STATUS_NO_SUCH_USER");
    check_status(0xC000006A, "STATUS_WRONG_PASSWORD");
    check_status(0xC0000072, "STATUS_ACCOUNT_DISABLED");
    check_status(0xC0000071, "STATUS_PASSWORD_EXPIRED");
    check_status(0xC0000234, "STATUS_ACCOUNT_LOCKED_OUT");
    check_status(0xC0000193, "STATUS_ACCOUNT_EXPIRED");
    check_status(0xC0000224, "STATUS_PASSWORD_MUST_CHANGE");
    check_status(0xC000015B, "STATUS_LOGON_TYPE_NOT_GRANTED");
    check_status(0xC00000CC, "STATUS_BAD_NETWORK_NAME");
    check_status(0xC0000388, "STATUS_DOWNGRADE_DETECTED");
    check_status(0xC0000413, "STATUS_AUTHENTICATION_FIREWALL_FAILED");
    assert_null(ntstatus_name(0xDEADBEEF));
    assert_null(ntstatus_name(0xC0000000));
}

static void test_ntstatus_invalid_signature_is_c000a000(void **state)
{
    (void)state;
    /* MS-ERREF 2.3.1 / ntstatus.h: STATUS_INVALID_SIGNATURE 0xC000A000 (what SMB2 returns for a
     * bad signature); 0xC000A100 is STATUS_HASH_NOT_SUPPORTED. */
    check_status(0xC000A000, "STATUS_INVALID_SIGNATURE");
    const char *a100 = ntstatus_name(0xC000A100);
    assert_true(a100 == NULL || strcmp(a100, "STATUS_INVALID_SIGNATURE") != 0);
}

static void test_ntstatus_no_such_logon_session_is_c000005f(void **state)
{
    (void)state;
    /* MS-ERREF 2.3.1 (and Wireshark's table): STATUS_NO_SUCH_LOGON_SESSION is 0xC000005F;
     * 0xC000040B is STATUS_CROSSREALM_DELEGATION_FAILURE. */
    check_status(0xC000005F, "STATUS_NO_SUCH_LOGON_SESSION");
    const char *x40b = ntstatus_name(0xC000040B);
    assert_true(x40b == NULL || strcmp(x40b, "STATUS_NO_SUCH_LOGON_SESSION") != 0);
}

static void test_ntstatus_kdc_unknown_etype_is_c00002fd(void **state)
{
    (void)state;
    /* MS-ERREF 2.3.1: STATUS_KDC_UNKNOWN_ETYPE is 0xC00002FD. */
    check_status(0xC00002FD, "STATUS_KDC_UNKNOWN_ETYPE");
    const char *a145 = ntstatus_name(0xC000A145);
    assert_true(a145 == NULL || strcmp(a145, "STATUS_KDC_UNKNOWN_ETYPE") != 0);
}

static void test_smb2_and_http_names(void **state)
{
    (void)state;
    assert_string_equal(smb2_dialect_name(0x0311), "3.1.1");
    assert_string_equal(smb2_dialect_name(0x0202), "2.0.2");
    assert_string_equal(smb2_dialect_name(0x02FF), "2.???");
    assert_null(smb2_dialect_name(0x0301));
    assert_string_equal(smb2_command_name(0x01), "SESSION_SETUP");
    assert_string_equal(smb2_command_name(0x00), "NEGOTIATE");
    assert_string_equal(smb2_command_name(0x12), "OPLOCK_BREAK");
    assert_null(smb2_command_name(0x13));
    assert_string_equal(http_reason(401), "Unauthorized");
    assert_string_equal(http_reason(200), "OK");
    assert_null(http_reason(299));
}

/* hex_put / hex_0x against printf's "%0*" PRIx64 at every width, on values wider than the width (cut to its low
 * digits, as a fixed-width field is) and narrower (zero-padded); nothing written past the digits. */
static void test_hex_put_matches_printf(void **state)
{
    (void)state;
    const uint64_t vals[] = {0, 1, 0xf, 0x10, 0xc000006d, 0x8003, 0xffffffffull, 0x0123456789abcdefull, UINT64_MAX};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        for (unsigned d = 1; d <= 16; d++) {
            uint64_t v = d == 16 ? vals[k] : vals[k] & ((1ull << (4 * d)) - 1);
            char want[24], got[24];
            snprintf(want, sizeof want, "0x%0*" PRIx64, (int)d, v);
            memset(got, '#', sizeof got);
            assert_ptr_equal(hex_0x(got, vals[k], d), got);
            assert_string_equal(got, want);
            memset(got, '#', sizeof got);
            char *end = hex_put(got, vals[k], d);
            assert_ptr_equal(end, got + d);
            assert_int_equal(got[d], '#');
            assert_memory_equal(got, want + 2, d);
        }
    }
}

/* dec_str and strjoin against snprintf: the extremes of int64, and every cut of a join. */
static void test_dec_str_and_strjoin_match_snprintf(void **state)
{
    (void)state;
    const int64_t vals[] = {0, 1, -1, 9, 10, -128, 2147483647, -2147483647 - 1, INT64_MAX, INT64_MIN};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        char want[32], got[21];
        snprintf(want, sizeof want, "%" PRId64, vals[k]);
        assert_ptr_equal(dec_str(got, vals[k]), got);
        assert_string_equal(got, want);
    }
    const char *dom = "HOPLAB", *user = "alice";
    for (size_t cap = 1; cap <= 16; cap++) {
        char want[16], got[17];
        memset(got, '#', sizeof got);
        snprintf(want, cap, "%s\\%s", dom, user);
        strjoin(got, cap, dom, "\\", user);
        assert_string_equal(got, want);
        assert_int_equal(got[cap], '#'); /* nothing past cap */
        snprintf(want, cap, "%s", user);
        strjoin(got, cap, user, NULL, NULL);
        assert_string_equal(got, want);
    }
    char z = '#';
    strjoin(&z, 0, dom, NULL, NULL);
    assert_int_equal(z, '#');
}

/* copy_digest: the same bytes give the same digest, never 0; a message that differs from another by one bit at any
 * place (in every lane and in the tail), or by its length alone (trailing zero bytes), gives another. */
static void test_copy_digest_tells_copies(void **state)
{
    (void)state;
    uint8_t a[131], b[131];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof a; n++) {
        uint64_t d = copy_digest(a, n);
        assert_true(d != 0);
        memcpy(b, a, n);
        assert_true(copy_digest(b, n) == d);
        for (size_t i = 0; i < n; i++)
            for (int bit = 0; bit < 8; bit += 3) {
                b[i] ^= (uint8_t)(1u << bit);
                assert_true(copy_digest(b, n) != d);
                b[i] ^= (uint8_t)(1u << bit);
            }
    }
    uint8_t z[64] = {0};
    for (size_t n = 0; n < sizeof z; n++)
        assert_true(copy_digest(z, n) != copy_digest(z, n + 1));
}

/* ---- digests (src/wire/digest.c): FIPS 180-4's "abc" and two-block examples, the algorithms alternating on the
 * per-thread contexts, and two threads at once ------------------------------------------------------------ */

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

static void check_digests(void)
{
    uint8_t md[32];
    char h[65];
    for (int round = 0; round < 3; round++) { /* a context initialised again, for the other algorithm between */
        assert_true(hs_sha1("abc", 3, md));
        hex(md, 20, h);
        assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_true(hs_sha256("abc", 3, md));
        hex(md, 32, h);
        assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_true(hs_sha1(two_blocks, strlen(two_blocks), md));
        hex(md, 20, h);
        assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
        assert_true(hs_sha256(two_blocks, strlen(two_blocks), md));
        hex(md, 32, h);
        assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        assert_true(hs_sha256("", 0, md));
        hex(md, 32, h);
        assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}

static void *digest_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++)
        check_digests();
    return NULL;
}

static void test_digests_fips_vectors_and_threads(void **state)
{
    (void)state;
    check_digests();
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, digest_thread, NULL), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    check_digests();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digests_fips_vectors_and_threads),
        cmocka_unit_test(test_hex_put_matches_printf),
        cmocka_unit_test(test_copy_digest_tells_copies),
        cmocka_unit_test(test_dec_str_and_strjoin_match_snprintf),
        cmocka_unit_test(test_utf16le_ascii_and_bmp),
        cmocka_unit_test(test_utf16le_surrogate_pairs),
        cmocka_unit_test(test_utf16le_unpaired_surrogates_become_replacement),
        cmocka_unit_test(test_utf16le_odd_length),
        cmocka_unit_test(test_utf16le_nul_ends_string),
        cmocka_unit_test(test_utf16le_nul_ends_string_before_odd_trailing_byte),
        cmocka_unit_test(test_utf16le_output_cut_at_cap_on_character_boundary),
        cmocka_unit_test(test_oem_to_utf8),
        cmocka_unit_test(test_base64_rfc4648_vectors_padded),
        cmocka_unit_test(test_base64_rfc4648_vectors_unpadded),
        cmocka_unit_test(test_base64_binary_and_alphabet),
        cmocka_unit_test(test_base64_invalid_characters),
        cmocka_unit_test(test_base64_output_too_small),
        cmocka_unit_test(test_tok_name),
        cmocka_unit_test(test_bittok_each_names_set_bits_lsb_first_with_mask_keys),
        cmocka_unit_test(test_bittok_each_zero_word_makes_no_calls),
        cmocka_unit_test(test_bittok_each_all_bits_unnamed_with_empty_table),
        cmocka_unit_test(test_bittok_each_msb0_numbers_bits_from_the_high_bit),
        cmocka_unit_test(test_strlcpy_n_and_has_prefix_ci),
        cmocka_unit_test(test_community_id_spec_example),
        cmocka_unit_test(test_community_id_ipv4_tcp_matches_tshark),
        cmocka_unit_test(test_community_id_ipv6_tcp_matches_tshark),
        cmocka_unit_test(test_community_id_same_address_orders_by_port),
        cmocka_unit_test(test_ntstatus_names_common),
        cmocka_unit_test(test_ntstatus_invalid_signature_is_c000a000),
        cmocka_unit_test(test_ntstatus_no_such_logon_session_is_c000005f),
        cmocka_unit_test(test_ntstatus_kdc_unknown_etype_is_c00002fd),
        cmocka_unit_test(test_smb2_and_http_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
