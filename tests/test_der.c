/*
 * Unit tests for src/der.c: the DER TLV reader (ITU-T X.690 8.1: identifier octets incl. the
 * high-tag-number form, short and long definite lengths), OBJECT IDENTIFIER formatting (8.19)
 * and non-negative INTEGER / ENUMERATED decoding (8.3).
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

/* der_next over a heap copy of exactly n bytes (so ASan sees over-reads). Returns the result;
 * *consumed is how far the reader advanced, t->val is rebased onto p. */
static bool next_exact(const uint8_t *p, size_t n, struct der_tlv *t, size_t *consumed, bool *err)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, p, n);
    struct rd r = rd_make(copy, n);
    memset(t, 0, sizeof *t);
    bool ok = der_next(&r, t);
    if (ok && t->val)
        t->val = p + (t->val - copy);
    *consumed = r.pos;
    *err = r.err;
    free(copy);
    return ok;
}

/* ---- der_next ----------------------------------------------------------------------------- */

static void test_der_next_short_form_length(void **state)
{
    (void)state;
    static const uint8_t v[] = {0x04, 0x03, 'a', 'b', 'c', 0xff};
    struct der_tlv t;
    size_t used;
    bool err;
    assert_true(next_exact(v, sizeof v, &t, &used, &err));
    assert_false(err);
    assert_int_equal(t.cls, DER_UNIVERSAL);
    assert_false(t.constructed);
    assert_int_equal(t.tag, DER_TAG_OCTET_STRING);
    assert_int_equal(t.len, 3);
    assert_ptr_equal(t.val, v + 2);
    assert_int_equal(used, 5); /* the trailing byte is left for the next read */

    /* Zero length, and the largest short form (127). */
    static const uint8_t z[] = {0x05, 0x00};
    assert_true(next_exact(z, sizeof z, &t, &used, &err));
    assert_int_equal(t.tag, 5);
    assert_int_equal(t.len, 0);
    assert_int_equal(used, 2);
    uint8_t m[2 + 127] = {0x04, 0x7f};
    assert_true(next_exact(m, sizeof m, &t, &used, &err));
    assert_int_equal(t.len, 127);
    assert_int_equal(used, sizeof m);
}

static void test_der_next_long_form_lengths(void **state)
{
    (void)state;
    struct der_tlv t;
    size_t used;
    bool err;
    static uint8_t buf[3 + 70000];

    /* 0x81: one length octet. */
    memset(buf, 0, sizeof buf);
    buf[0] = 0x04;
    buf[1] = 0x81;
    buf[2] = 0x80;
    assert_true(next_exact(buf, 3 + 0x80, &t, &used, &err));
    assert_int_equal(t.len, 0x80);
    assert_ptr_equal(t.val, buf + 3);
    assert_int_equal(used, 3 + 0x80);

    /* 0x82: two octets, 0x0100. */
    buf[1] = 0x82;
    buf[2] = 0x01;
    buf[3] = 0x00;
    assert_true(next_exact(buf, 4 + 0x100, &t, &used, &err));
    assert_int_equal(t.len, 0x100);
    assert_ptr_equal(t.val, buf + 4);

    /* 0x83: three octets, 0x010170 (65904). */
    buf[0] = 0x30;
    buf[1] = 0x83;
    buf[2] = 0x01;
    buf[3] = 0x01;
    buf[4] = 0x70;
    assert_true(next_exact(buf, 5 + 0x010170, &t, &used, &err));
    assert_true(t.constructed);
    assert_int_equal(t.tag, DER_TAG_SEQUENCE);
    assert_int_equal(t.len, 0x010170);
    assert_int_equal(used, 5 + 0x010170);

    /* 0x84: four octets (here 5). */
    static const uint8_t four[] = {0x02, 0x84, 0x00, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5};
    assert_true(next_exact(four, sizeof four, &t, &used, &err));
    assert_int_equal(t.len, 5);
    assert_int_equal(t.val[4], 5);
}

static void test_der_next_indefinite_and_oversized_lengths_rejected(void **state)
{
    (void)state;
    struct der_tlv t;
    size_t used;
    bool err;
    static const uint8_t indef[] = {0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00};
    assert_false(next_exact(indef, sizeof indef, &t, &used, &err));
    assert_true(err);
    static const uint8_t five[] = {0x04, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0xaa};
    assert_false(next_exact(five, sizeof five, &t, &used, &err));
    assert_true(err);
    static const uint8_t reserved[] = {0x04, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_false(next_exact(reserved, sizeof reserved, &t, &used, &err));
    assert_true(err);
}

static void test_der_next_length_past_end_rejected(void **state)
{
    (void)state;
    struct der_tlv t;
    size_t used;
    bool err;
    static const uint8_t v[] = {0x04, 0x05, 'a', 'b', 'c', 'd'};
    assert_false(next_exact(v, sizeof v, &t, &used, &err));
    assert_true(err);
    static const uint8_t big[] = {0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 'a'};
    assert_false(next_exact(big, sizeof big, &t, &used, &err));
    assert_true(err);
}

static void test_der_next_every_truncation_rejected(void **state)
{
    (void)state;
    /* [APPLICATION 128] constructed, long-form length, 130-byte value. */
    static uint8_t v[5 + 130];
    v[0] = 0x7f;
    v[1] = 0x81;
    v[2] = 0x00;
    v[3] = 0x81;
    v[4] = 130;
    for (size_t i = 5; i < sizeof v; i++)
        v[i] = (uint8_t)i;
    struct der_tlv t;
    size_t used;
    bool err;
    for (size_t k = 0; k < sizeof v; k++) {
        assert_false(next_exact(v, k, &t, &used, &err));
        assert_true(err);
    }
    assert_true(next_exact(v, sizeof v, &t, &used, &err));
    assert_int_equal(t.cls, DER_APPLICATION);
    assert_true(t.constructed);
    assert_int_equal(t.tag, 128);
    assert_int_equal(t.len, 130);
}

static void test_der_next_high_tag_numbers(void **state)
{
    (void)state;
    struct der_tlv t;
    size_t used;
    bool err;

    /* [APPLICATION 31]: the smallest tag needing the high-tag-number form. */
    static const uint8_t a31[] = {0x7f, 0x1f, 0x00};
    assert_true(next_exact(a31, sizeof a31, &t, &used, &err));
    assert_int_equal(t.cls, DER_APPLICATION);
    assert_true(t.constructed);
    assert_int_equal(t.tag, 31);
    assert_int_equal(t.len, 0);
    assert_int_equal(used, 3);

    /* [CONTEXT 201] primitive: 0x81 0x49 = 1*128 + 73. */
    static const uint8_t c201[] = {0x9f, 0x81, 0x49, 0x01, 0xaa};
    assert_true(next_exact(c201, sizeof c201, &t, &used, &err));
    assert_int_equal(t.cls, DER_CONTEXT);
    assert_false(t.constructed);
    assert_int_equal(t.tag, 201);
    assert_int_equal(t.len, 1);
    assert_int_equal(t.val[0], 0xaa);

    /* [PRIVATE 2^28 - 1]: four tag octets, the most allowed. */
    static const uint8_t p4[] = {0xdf, 0xff, 0xff, 0xff, 0x7f, 0x00};
    assert_true(next_exact(p4, sizeof p4, &t, &used, &err));
    assert_int_equal(t.cls, DER_PRIVATE);
    assert_int_equal(t.tag, (1u << 28) - 1);

    /* Five tag octets: too many. */
    static const uint8_t p5[] = {0xdf, 0x81, 0x80, 0x80, 0x80, 0x00, 0x00};
    assert_false(next_exact(p5, sizeof p5, &t, &used, &err));
    assert_true(err);

    /* A leading 0x80 tag octet is not minimal (8.1.2.4.2 c). */
    static const uint8_t lead[] = {0x5f, 0x80, 0x01, 0x00};
    assert_false(next_exact(lead, sizeof lead, &t, &used, &err));
    assert_true(err);

    /* Tag octets running off the end. */
    static const uint8_t cut[] = {0x5f, 0x81};
    assert_false(next_exact(cut, sizeof cut, &t, &used, &err));
    assert_true(err);
}

static void test_der_next_high_tag_form_for_low_tag_number_rejected(void **state)
{
    (void)state;
    /* X.690 8.1.2.2: tag numbers 0..30 are encoded in the single identifier octet; the
     * high-tag-number form is only for 31 and up (8.1.2.3). */
    struct der_tlv t;
    size_t used;
    bool err;
    static const uint8_t app0[] = {0x7f, 0x00, 0x00}; /* "[APPLICATION 0]" in the long form */
    assert_false(next_exact(app0, sizeof app0, &t, &used, &err));
    static const uint8_t ctx5[] = {0x9f, 0x05, 0x01, 0xaa};
    assert_false(next_exact(ctx5, sizeof ctx5, &t, &used, &err));
    static const uint8_t u30[] = {0x1f, 0x1e, 0x00};
    assert_false(next_exact(u30, sizeof u30, &t, &used, &err));
}

static void test_der_next_empty_reader(void **state)
{
    (void)state;
    struct der_tlv t;
    struct rd r = rd_make(NULL, 0);
    assert_false(der_next(&r, &t));
    assert_true(r.err);
}

static void test_der_sequence_walk_and_expect(void **state)
{
    (void)state;
    /* SEQUENCE { INTEGER 5, [1] { OID 1.2.840.113554.1.2.2 } } */
    static const uint8_t v[] = {0x30, 0x10, 0x02, 0x01, 0x05, 0xa1, 0x0b, 0x06, 0x09, 0x2a,
                                0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    struct rd r = rd_make(v, sizeof v);
    struct der_tlv seq, t;
    assert_true(der_expect(&r, DER_UNIVERSAL, DER_TAG_SEQUENCE, &seq));
    assert_int_equal(rd_left(&r), 0);
    struct rd in = der_inner(&seq);
    assert_int_equal(rd_left(&in), 16);

    /* A mismatch leaves the reader where it was, without an error. */
    assert_false(der_expect(&in, DER_CONTEXT, 1, &t));
    assert_false(in.err);
    assert_int_equal(in.pos, 0);

    assert_true(der_expect(&in, DER_UNIVERSAL, DER_TAG_INTEGER, &t));
    uint64_t x = 0;
    assert_true(der_uint(t.val, t.len, &x));
    assert_int_equal(x, 5);
    assert_true(der_expect(&in, DER_CONTEXT, 1, &t));
    assert_true(t.constructed);
    struct rd in2 = der_inner(&t);
    assert_true(der_expect(&in2, DER_UNIVERSAL, DER_TAG_OID, &t));
    char s[64];
    assert_true(der_oid_str(t.val, t.len, s, sizeof s));
    assert_string_equal(s, "1.2.840.113554.1.2.2");
    assert_int_equal(rd_left(&in), 0);
    assert_false(der_next(&in, &t)); /* nothing left */

    /* der_expect on malformed input fails and sets the error. */
    static const uint8_t bad[] = {0x30, 0x05, 0x00};
    struct rd rb = rd_make(bad, sizeof bad);
    assert_false(der_expect(&rb, DER_UNIVERSAL, DER_TAG_SEQUENCE, &t));
    assert_true(rb.err);
}

/* ---- der_oid_str -------------------------------------------------------------------------- */

static void test_der_oid_str_known_oids(void **state)
{
    (void)state;
    char s[128];
    static const uint8_t krb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    assert_true(der_oid_str(krb5, sizeof krb5, s, sizeof s));
    assert_string_equal(s, "1.2.840.113554.1.2.2");
    static const uint8_t ms_krb5[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
    assert_true(der_oid_str(ms_krb5, sizeof ms_krb5, s, sizeof s));
    assert_string_equal(s, "1.2.840.48018.1.2.2");
    static const uint8_t ntlmssp[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
    assert_true(der_oid_str(ntlmssp, sizeof ntlmssp, s, sizeof s));
    assert_string_equal(s, "1.3.6.1.4.1.311.2.2.10");
    static const uint8_t spnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
    assert_true(der_oid_str(spnego, sizeof spnego, s, sizeof s));
    assert_string_equal(s, "1.3.6.1.5.5.2");
    static const uint8_t cn[] = {0x55, 0x04, 0x03};
    assert_true(der_oid_str(cn, sizeof cn, s, sizeof s));
    assert_string_equal(s, "2.5.4.3");
}

static void test_der_oid_str_first_arcs(void **state)
{
    (void)state;
    char s[64];
    static const uint8_t zero[] = {0x00};
    assert_true(der_oid_str(zero, 1, s, sizeof s));
    assert_string_equal(s, "0.0");
    static const uint8_t x39[] = {0x27}; /* 39 */
    assert_true(der_oid_str(x39, 1, s, sizeof s));
    assert_string_equal(s, "0.39");
    static const uint8_t x40[] = {0x28}; /* 40 */
    assert_true(der_oid_str(x40, 1, s, sizeof s));
    assert_string_equal(s, "1.0");
    static const uint8_t x80[] = {0x50}; /* 80 */
    assert_true(der_oid_str(x80, 1, s, sizeof s));
    assert_string_equal(s, "2.0");
    /* Joint-iso arc above 39: 2.999 is 1079 = 0x88 0x37 (X.690 8.19.5 example). */
    static const uint8_t x999[] = {0x88, 0x37, 0x03};
    assert_true(der_oid_str(x999, sizeof x999, s, sizeof s));
    assert_string_equal(s, "2.999.3");
    /* A 64-bit sub-identifier: 2^64 - 1 in ten octets. */
    static const uint8_t max64[] = {0x2a, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    assert_true(der_oid_str(max64, sizeof max64, s, sizeof s));
    assert_string_equal(s, "1.2.18446744073709551615");
}

static void test_der_oid_str_malformed(void **state)
{
    (void)state;
    char s[64];
    /* Empty. */
    assert_false(der_oid_str((const uint8_t *)"", 0, s, sizeof s));
    /* Unterminated: the last octet has the continuation bit. */
    static const uint8_t unterm[] = {0x2a, 0x86, 0x48, 0x86};
    assert_false(der_oid_str(unterm, sizeof unterm, s, sizeof s));
    static const uint8_t unterm1[] = {0x86};
    assert_false(der_oid_str(unterm1, sizeof unterm1, s, sizeof s));
    /* A sub-identifier over 64 bits. */
    static const uint8_t over[] = {0x2a, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    assert_false(der_oid_str(over, sizeof over, s, sizeof s));
    /* Output that does not fit. */
    static const uint8_t krb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    char small[10];
    assert_false(der_oid_str(krb5, sizeof krb5, small, sizeof small));
    assert_true(strlen(small) < sizeof small); /* still NUL-terminated */
    assert_false(der_oid_str(krb5, sizeof krb5, small, 0));
    /* Exactly fitting: "1.2.840.113554.1.2.2" is 20 characters + NUL. */
    char exact[21];
    assert_true(der_oid_str(krb5, sizeof krb5, exact, sizeof exact));
    assert_string_equal(exact, "1.2.840.113554.1.2.2");
    char one_short[20];
    assert_false(der_oid_str(krb5, sizeof krb5, one_short, sizeof one_short));
}

static void test_der_oid_str_non_minimal_subidentifier_rejected(void **state)
{
    (void)state;
    /* X.690 8.19.2: a sub-identifier is encoded in the fewest octets, so its leading octet is
     * never 0x80. */
    char s[64];
    static const uint8_t pad840[] = {0x2a, 0x80, 0x86, 0x48}; /* 1.2.(0x80 0x86 0x48 = 840) */
    assert_false(der_oid_str(pad840, sizeof pad840, s, sizeof s));
    static const uint8_t pad_first[] = {0x80, 0x2a, 0x03}; /* first sub-identifier 0x80 0x2a */
    assert_false(der_oid_str(pad_first, sizeof pad_first, s, sizeof s));
}

/* ---- der_uint ----------------------------------------------------------------------------- */

static void test_der_uint_values(void **state)
{
    (void)state;
    uint64_t x = 99;
    static const uint8_t zero[] = {0x00};
    assert_true(der_uint(zero, 1, &x));
    assert_int_equal(x, 0);
    static const uint8_t v256[] = {0x01, 0x00};
    assert_true(der_uint(v256, 2, &x));
    assert_int_equal(x, 256);
    static const uint8_t v128[] = {0x00, 0x80}; /* leading zero keeps it positive */
    assert_true(der_uint(v128, 2, &x));
    assert_int_equal(x, 128);
    static const uint8_t i64max[] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_true(der_uint(i64max, 8, &x));
    assert_int_equal(x, INT64_MAX);
    static const uint8_t u64max[] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_true(der_uint(u64max, 9, &x));
    assert_true(x == UINT64_MAX);
}

static void test_der_uint_rejects_negative_empty_and_too_long(void **state)
{
    (void)state;
    uint64_t x = 42;
    static const uint8_t neg[] = {0x80};
    assert_false(der_uint(neg, 1, &x));
    static const uint8_t neg2[] = {0xff, 0xff};
    assert_false(der_uint(neg2, 2, &x));
    assert_false(der_uint(neg, 0, &x));
    static const uint8_t nine[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_false(der_uint(nine, 9, &x));
    static const uint8_t ten[10] = {0};
    assert_false(der_uint(ten, 10, &x));
    assert_int_equal(x, 42); /* untouched on failure */
}

/* [1] INTEGER -5 (explicit tag), as RFC 4120 fields are encoded. */
static void test_der_get_int_explicit_negative(void **state)
{
    (void)state;
    static const uint8_t b[] = {0xa1, 0x03, 0x02, 0x01, 0xfb};
    struct rd r = rd_make(b, sizeof b);
    struct der_tlv f;
    int64_t v = 0;
    assert_true(der_next(&r, &f));
    assert_true(der_get_int(&f, &v));
    assert_int_equal(v, -5);
    /* a constructed INTEGER is not an INTEGER */
    static const uint8_t c[] = {0xa1, 0x03, 0x22, 0x01, 0x05};
    r = rd_make(c, sizeof c);
    assert_true(der_next(&r, &f));
    assert_false(der_get_int(&f, &v));
}

/* KDCOptions 0x40810010 (forwardable, renewable, canonicalize, renewable-ok) as a BIT STRING. */
static void test_der_get_bits32_flag_word(void **state)
{
    (void)state;
    static const uint8_t b[] = {0xa0, 0x07, 0x03, 0x05, 0x00, 0x40, 0x81, 0x00, 0x10};
    struct rd r = rd_make(b, sizeof b);
    struct der_tlv f;
    uint32_t v = 0;
    assert_true(der_next(&r, &f));
    assert_true(der_get_bits32(&f, &v));
    assert_int_equal(v, 0x40810010u);
}

/* [2] PrincipalName { [0] 2 (NT-SRV-INST), [1] { "cifs", "dc1.hoplab.test" } } */
static void test_der_get_principal_joins_components(void **state)
{
    (void)state;
    static const uint8_t b[] = {0xa2, 0x22, 0x30, 0x20, 0xa0, 0x03, 0x02, 0x01, 0x02, 0xa1, 0x19, 0x30, 0x17,
                                0x1b, 0x04, 'c', 'i', 'f', 's', 0x1b, 0x0f, 'd', 'c', '1', '.', 'h', 'o', 'p',
                                'l', 'a', 'b', '.', 't', 'e', 's', 't'};
    struct rd r = rd_make(b, sizeof b);
    struct der_tlv f;
    char name[64];
    int32_t type = -1;
    assert_true(der_next(&r, &f));
    assert_true(der_get_principal(&f, name, sizeof name, &type));
    assert_string_equal(name, "cifs/dc1.hoplab.test");
    assert_int_equal(type, 2);
    /* cut to fit, never overflowing */
    char small[8];
    assert_true(der_get_principal(&f, small, sizeof small, NULL));
    assert_string_equal(small, "cifs/dc");
    /* every truncation is rejected without reading past the end */
    for (size_t n = 0; n < sizeof b; n++) {
        struct rd t = rd_make(b, n);
        struct der_tlv g;
        if (der_next(&t, &g))
            assert_false(der_get_principal(&g, name, sizeof name, NULL));
    }
}

/* Every failure leaves a terminated "" (the fuzzer found an empty OID that left out[] as it was). */
static void test_der_oid_str_empty_leaves_empty_string(void **state)
{
    (void)state;
    char out[12];
    memset(out, 'x', sizeof out);
    assert_false(der_oid_str((const uint8_t *)"", 0, out, sizeof out));
    assert_string_equal(out, "");
    static const uint8_t unterminated[] = {0x2a, 0x86};
    memset(out, 'x', sizeof out);
    assert_false(der_oid_str(unterminated, sizeof unterminated, out, sizeof out));
    assert_int_equal(strnlen(out, sizeof out) < sizeof out, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_der_next_short_form_length),
        cmocka_unit_test(test_der_next_long_form_lengths),
        cmocka_unit_test(test_der_next_indefinite_and_oversized_lengths_rejected),
        cmocka_unit_test(test_der_next_length_past_end_rejected),
        cmocka_unit_test(test_der_next_every_truncation_rejected),
        cmocka_unit_test(test_der_next_high_tag_numbers),
        cmocka_unit_test(test_der_next_high_tag_form_for_low_tag_number_rejected),
        cmocka_unit_test(test_der_next_empty_reader),
        cmocka_unit_test(test_der_sequence_walk_and_expect),
        cmocka_unit_test(test_der_oid_str_known_oids),
        cmocka_unit_test(test_der_oid_str_empty_leaves_empty_string),
        cmocka_unit_test(test_der_oid_str_first_arcs),
        cmocka_unit_test(test_der_oid_str_malformed),
        cmocka_unit_test(test_der_oid_str_non_minimal_subidentifier_rejected),
        cmocka_unit_test(test_der_uint_values),
        cmocka_unit_test(test_der_uint_rejects_negative_empty_and_too_long),
        cmocka_unit_test(test_der_get_int_explicit_negative),
        cmocka_unit_test(test_der_get_bits32_flag_word),
        cmocka_unit_test(test_der_get_principal_joins_components),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
