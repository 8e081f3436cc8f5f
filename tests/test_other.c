/* The fallback dissector (dissectors/other): NTLMSSP found raw or base64 in TCP streams of protocols hopscope
 * does not dissect (TDS, IMAP/POP3/SMTP AUTH NTLM), split across segments, malformed, and past the scan limit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "other.h"
#include "pcapgen.h"

/* A TDS-like exchange on port 1433: each NTLM message raw after an 8-byte header of its own. */
static void tds_like(struct pg_run *r, struct pg_conn *c, size_t mss)
{
    struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                  auth = pg_ntlm_authenticate("mona", "TDSDOM", "TDSHOST");
    const struct pg_buf *m[3] = {&neg, &chal, &auth};
    for (int i = 0; i < 3; i++) {
        struct pg_buf b = {0};
        pg_u8(&b, 0x11);
        pg_u8(&b, 0x01);
        pg_u16be(&b, (uint16_t)(8 + m[i]->len));
        pg_u32be(&b, 0);
        pg_put(&b, m[i]->p, m[i]->len);
        pg_send_mss(r, c, i == 1, b.p, b.len, mss);
        pg_free(&b);
    }
    pg_free(&neg);
    pg_free(&chal);
    pg_free(&auth);
}

static void test_raw_ntlmssp_in_undissected_protocol(void **state)
{
    (void)state;
    static const size_t mss[] = {PG_MSS, 7, 1};
    for (size_t k = 0; k < sizeof mss / sizeof *mss; k++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        pg_conn_init(&c, 50000, 1433);
        pg_handshake(&r, &c);
        tds_like(&r, &c, mss[k]);
        pg_close(&r, &c, 0);
        pg_run_finish(&r);
        assert_int_equal(pg_nrecs(&r), 1);
        json_t *a = pg_rec(&r, 0);
        assert_jstr(a, "transport", "other");
        assert_jstr(a, "service", "mssql");
        assert_jstr(a, "mechanism", "ntlm");
        assert_jstr(a, "user", "TDSDOM\\mona");
        assert_jstr(a, "ntlm.workstation", "TDSHOST");
        assert_jstr(a, "result", "unknown"); /* the protocol around the tokens is unknown: no verdict */
        assert_true(json_integer_value(pg_j(a, "frames.negotiate")) > 0);
        assert_true(json_integer_value(pg_j(a, "frames.challenge")) > 0);
        assert_true(json_integer_value(pg_j(a, "frames.authenticate")) > 0);
        pg_run_free(&r);
    }
}

static void test_base64_auth_ntlm_lines(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 50001, 143);
    pg_handshake(&r, &c);
    struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                  auth = pg_ntlm_authenticate("kate", "IMAPDOM", "IMAPHOST");
    char *t1 = pg_b64(neg.p, neg.len), *t2 = pg_b64(chal.p, chal.len), *t3 = pg_b64(auth.p, auth.len);
    struct pg_buf l = {0};
    pg_printf(&l, "* OK IMAP4rev1 ready\r\n");
    pg_sendb(&r, &c, 1, &l);
    pg_free(&l);
    pg_printf(&l, "a1 AUTHENTICATE NTLM\r\n");
    pg_sendb(&r, &c, 0, &l);
    pg_free(&l);
    pg_printf(&l, "+\r\n");
    pg_sendb(&r, &c, 1, &l);
    pg_free(&l);
    pg_printf(&l, "%s\r\n", t1);
    pg_sendb(&r, &c, 0, &l);
    pg_free(&l);
    pg_printf(&l, "+ %s\r\n", t2);
    pg_sendb(&r, &c, 1, &l);
    pg_free(&l);
    pg_printf(&l, "%s\r\n", t3);
    pg_send_mss(&r, &c, 0, l.p, l.len, 13); /* the token cut into pieces */
    pg_free(&l);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *a = pg_rec(&r, 0);
    assert_jstr(a, "service", "imap");
    assert_jstr(a, "user", "IMAPDOM\\kate");
    free(t1), free(t2), free(t3);
    pg_free(&neg), pg_free(&chal), pg_free(&auth);
    pg_run_free(&r);
}

static void test_signature_without_message_is_no_record(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 50002, 1433);
    pg_handshake(&r, &c);
    /* a type-4 message, a type-3 whose fields point 4 GiB away, a base64 signature that decodes to garbage */
    struct pg_buf b = {0};
    pg_str(&b, "xxNTLMSSP");
    pg_u8(&b, 0);
    pg_u32le(&b, 4);
    pg_fill(&b, 0, 40);
    pg_str(&b, "NTLMSSP");
    pg_u8(&b, 0);
    pg_u32le(&b, 3);
    for (int i = 0; i < 6; i++) {
        pg_u16le(&b, 16);
        pg_u16le(&b, 16);
        pg_u32le(&b, 0xFFFFFFF0u);
    }
    pg_fill(&b, 0, 16);
    pg_str(&b, " TlRMTVNTUA$$ TlRMTVNTUAAB\r\n");
    pg_sendb(&r, &c, 0, &b);
    pg_free(&b);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 0);
    pg_run_free(&r);
}

static void test_scan_stops_after_login_phase(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 50003, 1433);
    pg_handshake(&r, &c);
    struct pg_buf bulk = {0};
    pg_fill(&bulk, 'x', OTHER_SCAN_MAX + 4096);
    pg_send(&r, &c, 0, bulk.p, bulk.len);
    pg_free(&bulk);
    tds_like(&r, &c, PG_MSS); /* too late: the client's direction is no longer searched */
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    /* the server's CHALLENGE alone may still be seen, but no client NEGOTIATE/AUTHENTICATE */
    for (size_t i = 0; i < pg_nrecs(&r); i++)
        assert_jabsent(pg_rec(&r, i), "frames.authenticate");
    pg_run_free(&r);
}

static void test_find_and_extent(void **state)
{
    (void)state;
    int b64 = -1;
    const uint8_t raw[] = "abcNTLMSSP";
    assert_int_equal(other_find_ntlmssp(raw, sizeof raw, &b64), 3);
    assert_int_equal(b64, 0);
    const uint8_t enc[] = "+ TlRMTVNTUAACAAAA";
    assert_int_equal(other_find_ntlmssp(enc, sizeof enc - 1, &b64), 2);
    assert_int_equal(b64, 1);
    assert_int_equal(other_find_ntlmssp((const uint8_t *)"none", 4, &b64), 4);
    struct pg_buf auth = pg_ntlm_authenticate("u", "d", "w");
    assert_int_equal(other_ntlmssp_extent(auth.p, auth.len), auth.len);
    assert_int_equal(other_ntlmssp_extent(auth.p, 40), 0); /* header incomplete */
    pg_free(&auth);
}

/* A length-prefixed protocol on an unknown port carrying SPNEGO (RFC 4178): the initial token is found by
 * its GSS-API header, the NTLM messages inside the responses by their signature; one record. */
static void test_raw_spnego_in_undissected_protocol(void **state)
{
    (void)state;
    static const size_t mss[] = {PG_MSS, 5};
    for (size_t k = 0; k < sizeof mss / sizeof *mss; k++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        pg_conn_init(&c, 50010, 7777);
        pg_handshake(&r, &c);
        struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                      auth = pg_ntlm_authenticate("lena", "GSSDOM", "GSSHOST");
        struct pg_buf t[3] = {pg_spnego_init(&neg, true), pg_spnego_resp(1, true, &chal),
                              pg_spnego_resp(-1, false, &auth)};
        for (int i = 0; i < 3; i++) {
            struct pg_buf b = {0};
            pg_u32be(&b, (uint32_t)t[i].len);
            pg_put(&b, t[i].p, t[i].len);
            pg_send_mss(&r, &c, i == 1, b.p, b.len, mss[k]);
            pg_free(&b);
            pg_free(&t[i]);
        }
        pg_free(&neg), pg_free(&chal), pg_free(&auth);
        pg_close(&r, &c, 0);
        pg_run_finish(&r);
        assert_int_equal(pg_nrecs(&r), 1);
        json_t *a = pg_rec(&r, 0);
        assert_jstr(a, "transport", "other");
        assert_jstr(a, "user", "GSSDOM\\lena");
        assert_jstr(a, "ntlm.workstation", "GSSHOST");
        assert_true(json_integer_value(pg_j(a, "frames.negotiate")) > 0);
        assert_true(json_integer_value(pg_j(a, "frames.authenticate")) > 0);
        pg_run_free(&r);
    }
}

/* SMTP AUTH GSSAPI-like lines: a base64 initial token is decoded and checked before it makes a record, and a
 * base64 run that only looks like one ("YES", random text) makes none. */
static void test_base64_gss_token_lines(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 50011, 25);
    pg_handshake(&r, &c);
    struct pg_buf neg = pg_ntlm_negotiate();
    struct pg_buf init = pg_spnego_init(&neg, false);
    char *t1 = pg_b64(init.p, init.len);
    struct pg_buf l = {0};
    pg_printf(&l, "220 mail ready\r\n");
    pg_sendb(&r, &c, 1, &l);
    pg_free(&l);
    pg_printf(&l, "EHLO YES YIIyes Yazoo\r\n");
    pg_sendb(&r, &c, 0, &l);
    pg_free(&l);
    pg_printf(&l, "AUTH GSSAPI %s\r\n", t1);
    pg_send_mss(&r, &c, 0, l.p, l.len, 11);
    pg_free(&l);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *a = pg_rec(&r, 0);
    assert_jstr(a, "transport", "other");
    assert_true(json_integer_value(pg_j(a, "frames.negotiate")) > 0);
    free(t1);
    pg_free(&neg), pg_free(&init);
    pg_run_free(&r);
}

/* What looks like a GSS header cut off just before an NTLMSSP signature, but is none once the bytes after it are
 * seen: parsing must move on (it looped forever: found by fuzz_stream_* in a 10-minute run). */
static void test_gss_false_start_before_ntlmssp_signature(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 50012, 7777);
    pg_handshake(&r, &c);
    static const uint8_t bytes[] = "x\x60\x5e\x06\x06\x2b\x06\x01\x05TlRMTVNTUA\x06\x09*\x86H\x82\xf7\x12\x01\x02\x02 tail";
    pg_send_mss(&r, &c, 0, bytes, sizeof bytes - 1, PG_MSS);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 0);
    pg_run_free(&r);
}

static void test_gss_find_and_extent(void **state)
{
    (void)state;
    struct pg_buf neg = pg_ntlm_negotiate();
    struct pg_buf init = pg_spnego_init(&neg, true);
    uint8_t buf[600];
    assert_true(init.len + 3 <= sizeof buf);
    memcpy(buf, "ab\x60", 3); /* a stray 0x60 that is no token */
    memcpy(buf + 3, init.p, init.len);
    int b64 = -1;
    assert_int_equal(other_find_gss(buf, init.len + 3, &b64), 3);
    assert_int_equal(b64, 0);
    assert_int_equal(other_gss_extent(buf + 3, init.len), init.len);
    assert_int_equal(other_gss_extent(buf + 3, 5), SIZE_MAX); /* the OID is cut off: more bytes needed */
    assert_int_equal(other_gss_extent((const uint8_t *)"\x60\x05\x06\x06\x2b\x06\x01", 7), 0); /* too short for the OID */
    assert_int_equal(other_gss_extent((const uint8_t *)"\x60\x81\x10", 3), 0); /* a long form for a short length */
    assert_int_equal(other_find_gss((const uint8_t *)"xYES", 4, &b64), 4);
    pg_free(&neg), pg_free(&init);
}

int main(void)
{
    pg_apply_filters();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_ntlmssp_in_undissected_protocol),
        cmocka_unit_test(test_base64_auth_ntlm_lines),
        cmocka_unit_test(test_signature_without_message_is_no_record),
        cmocka_unit_test(test_scan_stops_after_login_phase),
        cmocka_unit_test(test_find_and_extent),
        cmocka_unit_test(test_raw_spnego_in_undissected_protocol),
        cmocka_unit_test(test_base64_gss_token_lines),
        cmocka_unit_test(test_gss_find_and_extent),
        cmocka_unit_test(test_gss_false_start_before_ntlmssp_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
