/*
 * HTTP header values are not NUL-terminated: parsing them must stay inside the header block.
 * This executable carries its own, instrumented strtoull() (glibc's is not instrumented, so ASan
 * would not see it read past a buffer); being defined in the executable it replaces the C
 * library's for the whole program, as tests/fuzz/fuzz_stream.h does. Kept apart from test_http so
 * that an ASan abort here does not hide that suite's results.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pcapgen.h"

/* strtoull() per C11 7.22.1.4 for bases 0 and 2-36: leading white space, optional sign, optional
 * 0x prefix for base 16, then the longest run of digits. */
unsigned long long strtoull(const char *restrict s, char **restrict endp, int base)
{
    const char *p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        char d = p[2];
        if ((d >= '0' && d <= '9') || (d >= 'a' && d <= 'f') || (d >= 'A' && d <= 'F')) {
            p += 2;
            base = 16;
        }
    }
    if (base == 0)
        base = p[0] == '0' ? 8 : 10;
    unsigned long long v = 0;
    bool any = false, over = false;
    for (;; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'z')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'Z')
            d = *p - 'A' + 10;
        else
            break;
        if (d >= base)
            break;
        any = true;
        if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
            over = true;
        v = v * (unsigned)base + (unsigned)d;
    }
    if (endp)
        *endp = (char *)(any ? p : s);
    if (over) {
        errno = ERANGE;
        return ULLONG_MAX;
    }
    return neg ? -v : v;
}

static void test_strtoull_replacement_sane(void **state)
{
    (void)state;
    char *end;
    assert_int_equal(strtoull(" 123x", &end, 10), 123);
    assert_int_equal(*end, 'x');
    assert_int_equal(strtoull("1B;ext", &end, 16), 27);
    assert_int_equal(strtoull("zz", &end, 10), 0);
}

/* Requests whose Content-Length has no value, the header block ending its segment; then an
 * authentication on the same connection, which must still be seen. */
static void test_empty_content_length_in_requests(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 51000, 80);
    pg_handshake(&r, &c);
    static const char q[] = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n";
    pg_send(&r, &c, 0, q, sizeof q - 1);
    pg_send(&r, &c, 1, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 47);
    /* a value of white space only, followed in the same segment by another request */
    static const char q2[] = "POST /b HTTP/1.1\r\nContent-Length: \t\r\n\r\n"
                             "GET /c HTTP/1.1\r\n\r\n";
    pg_send(&r, &c, 0, q2, sizeof q2 - 1);
    static const char a2[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                             "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    pg_send(&r, &c, 1, a2, sizeof a2 - 1);
    struct pg_http_ntlm m;
    pg_http_ntlm_build(&m, "NTLM", "/wsman", 10, 200);
    pg_sendb(&r, &c, 0, &m.req1);
    pg_sendb(&r, &c, 1, &m.resp1);
    pg_sendb(&r, &c, 0, &m.req2);
    pg_sendb(&r, &c, 1, &m.resp2);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.http"), 2);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "ntlm.target_name", "HOPLAB");
    assert_jstr(rec, "result", "success");
    pg_http_ntlm_free(&m);
    pg_run_free(&r);
}

/* A response whose Content-Length has no value, its header block ending the segment (after it
 * the response's framing is unknown; RFC 9112 6.3 has the client close the connection). */
static void test_empty_content_length_in_response(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 51001, 5985);
    pg_handshake(&r, &c);
    struct pg_http_ntlm m;
    pg_http_ntlm_build(&m, "NTLM", "/wsman", 10, 200);
    pg_sendb(&r, &c, 0, &m.req1);
    pg_sendb(&r, &c, 1, &m.resp1);
    pg_sendb(&r, &c, 0, &m.req2);
    static const char a[] = "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n";
    uint64_t fv = pg_send(&r, &c, 1, a, sizeof a - 1);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.http"), 1);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "frames.verdict", (long long)fv);
    pg_http_ntlm_free(&m);
    pg_run_free(&r);
}

/* Content-Length 2^63 - 1 (and anything over 1 TiB) is a lie: counted as malformed, and instead of the rest
 * of the connection being taken for body, the direction hunts for its next message, so the authentication
 * that follows on the same connection is still seen. */
static void test_huge_content_length_counted_and_bounded(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 51002, 5985);
    pg_handshake(&r, &c);
    static const char q[] = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775807\r\n\r\nxyz";
    pg_send(&r, &c, 0, q, sizeof q - 1);
    static const char a[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 1099511627777\r\n\r\nabc";
    pg_send(&r, &c, 1, a, sizeof a - 1);
    struct pg_http_ntlm m;
    pg_http_ntlm_build(&m, "NTLM", "/wsman", 10, 200);
    pg_sendb(&r, &c, 0, &m.req1);
    pg_sendb(&r, &c, 1, &m.resp1);
    pg_sendb(&r, &c, 0, &m.req2);
    pg_sendb(&r, &c, 1, &m.resp2);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.http"), 2);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    pg_http_ntlm_free(&m);
    pg_run_free(&r);
}

/* A request cut at the connection's close (its header block never ended) is counted. */
static void test_partial_message_at_close_counted(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 51003, 5985);
    pg_handshake(&r, &c);
    static const char q[] = "POST /wsman HTTP/1.1\r\nHost: x\r\nAuthoriz";
    pg_send(&r, &c, 0, q, sizeof q - 1);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "dropped.partial_at_close"), 1);
    pg_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strtoull_replacement_sane),
        cmocka_unit_test(test_empty_content_length_in_requests),
        cmocka_unit_test(test_empty_content_length_in_response),
        cmocka_unit_test(test_huge_content_length_counted_and_bounded),
        cmocka_unit_test(test_partial_message_at_close_counted),
    };
    pg_apply_filters();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
