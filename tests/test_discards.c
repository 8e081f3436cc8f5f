/* What hostile or cut-short streams make hopscope discard is counted in stats, never silently dropped. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kdc.h"
#include "pcapgen.h"

/* Runs one TCP connection to port dport whose client sends `first` (n bytes) after the handshake, then
 * closes; returns the value of stats field `stat`. */
static long long one_stream(uint16_t dport, const uint8_t *first, size_t n, const char *stat)
{
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 52000, dport);
    pg_handshake(&r, &c);
    pg_send(&r, &c, 0, first, n);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    long long v = pg_stat(&r, stat);
    pg_run_free(&r);
    return v;
}

/* A record mark with the reserved bit, one shorter than 2, and DER lengths that cannot fit the record
 * (0xffffffff, five length octets, indefinite): a KDC message tag follows each, so on port 88 they are
 * malformed Kerberos, not a connection silently left undissected. */
static void test_kdc_absurd_record_mark_or_der_header_is_malformed_kerberos(void **state)
{
    (void)state;
    static const uint8_t cases[][24] = {
        {0x80, 0x00, 0x00, 0x00, 0x6a, 0x81, 0x20},
        {0x00, 0x00, 0x00, 0x01, 0x6a, 0x81, 0x20},
        {0x00, 0x00, 0x00, 0x14, 0x6a, 0x84, 0xff, 0xff, 0xff, 0xff},
        {0x00, 0x00, 0x00, 0x14, 0x6a, 0x85, 0x01, 0x02, 0x03, 0x04, 0x05},
        {0x00, 0x00, 0x00, 0x14, 0x6c, 0x80, 0x30, 0x80},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(kdc_probe_tcp(cases[i], sizeof cases[i]), KDC_PROBE_ABSURD);
        assert_true(one_stream(88, cases[i], sizeof cases[i], "malformed.kerberos") >= 1);
    }
    /* the same bytes on another port are nothing hopscope dissects, and not counted */
    assert_int_equal(one_stream(8888, cases[0], sizeof cases[0], "malformed.kerberos"), 0);
}

/* A DER header that fits its record still probes as Kerberos, and one whose length octets are not all
 * there yet is not judged. */
static void test_kdc_probe_plausible_headers(void **state)
{
    (void)state;
    static const uint8_t ok[] = {0x00, 0x00, 0x00, 0x08, 0x6a, 0x82, 0x00, 0x04, 0x30, 0x02, 0x05, 0x00};
    assert_int_equal(kdc_probe_tcp(ok, sizeof ok), KDC_PROBE_OK);
    static const uint8_t cut[] = {0x00, 0x00, 0x01, 0x00, 0x6a, 0x84, 0x00};
    assert_int_equal(kdc_probe_tcp(cut, sizeof cut), KDC_PROBE_OK); /* 1 of 4 length octets seen */
    static const uint8_t not_kdc[] = {0x00, 0x00, 0x00, 0x08, 0x6f, 0x06, 0x30, 0x04, 0x05, 0x00, 0x05, 0x00};
    assert_int_equal(kdc_probe_tcp(not_kdc, sizeof not_kdc), 0);
}

/* An NBSS message announced 1000 bytes longer than what came before the close: counted. */
static void test_partial_nbss_message_at_close_counted(void **state)
{
    (void)state;
    struct pg_buf m = {0};
    pg_u32be(&m, 64 + 36 + 1000);
    pg_put(&m, "\xfeSMB", 4);
    pg_u16le(&m, 64);
    pg_zero(&m, 64 - 6 + 36);
    assert_int_equal(one_stream(445, m.p, m.len, "dropped.partial_at_close"), 1);
    pg_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kdc_absurd_record_mark_or_der_header_is_malformed_kerberos),
        cmocka_unit_test(test_kdc_probe_plausible_headers),
        cmocka_unit_test(test_partial_nbss_message_at_close_counted),
    };
    pg_apply_filters();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
