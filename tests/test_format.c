/* Tests for the writers' formatting (src/output/format.c): the hand-written digits agree with gmtime_r +
 * strftime + snprintf and with inet_ntop, across the range of pcap timestamps and at the edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "format.h"

static void reference_ts(const struct timeval *tv, char out[64])
{
    struct tm tm;
    time_t t = tv->tv_sec;
    gmtime_r(&t, &tm);
    size_t k = strftime(out, 64, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, 64 - k, ".%06ldZ", (long)tv->tv_usec);
}

static void check_ts(time_t s, long us)
{
    struct timeval tv = {s, us};
    char a[32], b[64];
    format_ts(&tv, a);
    reference_ts(&tv, b);
    assert_string_equal(a, b);
}

static void test_format_ts_agrees_with_gmtime(void **state)
{
    (void)state;
    static const time_t edges[] = {0, 1, 59, 60, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800,
                                   1700000000, 2147483647, 4107542400 /* 2100-03-01 */, 4294967295};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        check_ts(edges[i], 0);
        check_ts(edges[i], 999999);
    }
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) { /* every day of 1970-2106 is hit many times */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        check_ts((time_t)(x % 4294967296ull), (long)(x >> 40) % 1000000);
    }
}

/* Values the fast path leaves to the C library: still what it writes. */
static void test_format_ts_odd_values(void **state)
{
    (void)state;
    check_ts(-1, 0);
    check_ts(1700000000, 1234567); /* a corrupt pcap's microseconds */
    check_ts(253402300799, 5);     /* 9999-12-31T23:59:59 */
}

static void test_format_ip(void **state)
{
    (void)state;
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    uint8_t ip[16] = {0};
    for (unsigned v = 0; v < 256; v++) {
        ip[0] = (uint8_t)v, ip[1] = (uint8_t)(255 - v), ip[2] = (uint8_t)(v * 7), ip[3] = (uint8_t)(v / 3);
        format_ip(4, ip, a);
        inet_ntop(AF_INET, ip, b, sizeof b);
        assert_string_equal(a, b);
    }
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    format_ip(6, v6, a);
    assert_string_equal(a, "2001:db8::1");
}

static void test_format_krb_time(void **state)
{
    (void)state;
    char out[24] = "untouched";
    assert_true(format_krb_time("20261202113000Z", out));
    assert_string_equal(out, "2026-12-02T11:30:00Z");
    assert_false(format_krb_time("2026120211300Z", out));
    assert_false(format_krb_time("20261202113000X", out));
    assert_string_equal(out, "2026-12-02T11:30:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_ts_agrees_with_gmtime),
        cmocka_unit_test(test_format_ts_odd_values),
        cmocka_unit_test(test_format_ip),
        cmocka_unit_test(test_format_krb_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
