/* HTTP dissector through the engine: authentication schemes, message framing, request tracking. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pcapgen.h"

static uint64_t send_str(struct pg_run *r, struct pg_conn *c, int dir, const char *s)
{
    return pg_send(r, c, dir, s, strlen(s));
}

static void open_conn(struct pg_run *r, struct pg_conn *c, uint16_t port)
{
    pg_conn_init(c, 51000, port);
    pg_handshake(r, c);
}

struct frames4 {
    uint64_t neg, chal, auth, verdict;
};

/* The four-message NTLM exchange of pg_http_ntlm_build on connection c. */
static struct frames4 ntlm_exchange(struct pg_run *r, struct pg_conn *c, const char *scheme, const char *path,
                                    int final_status)
{
    struct pg_http_ntlm m;
    pg_http_ntlm_build(&m, scheme, path, 120, final_status);
    struct frames4 f;
    f.neg = pg_sendb(r, c, 0, &m.req1);
    f.chal = pg_sendb(r, c, 1, &m.resp1);
    f.auth = pg_sendb(r, c, 0, &m.req2);
    f.verdict = pg_sendb(r, c, 1, &m.resp2);
    pg_http_ntlm_free(&m);
    return f;
}

static char *basic_header(const char *userpass)
{
    char *b = pg_b64((const uint8_t *)userpass, strlen(userpass));
    return b;
}

/* ---------------------------------------------------------------------------------------- */

static void test_basic_auth_password_never_output(void **state)
{
    (void)state;
    static const char pw1[] = "Wr0ngHorse!", pw2[] = "S3cr3t-P@ssw0rd";
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 80);
    char *b1 = basic_header("bob:Wr0ngHorse!"), *b2 = basic_header("bob:S3cr3t-P@ssw0rd");
    struct pg_buf q = {0};
    pg_printf(&q, "GET /private/report HTTP/1.1\r\nHost: intranet\r\nAuthorization: Basic %s\r\n\r\n", b1);
    uint64_t f1 = pg_sendb(&r, &c, 0, &q);
    uint64_t v1 = send_str(&r, &c, 1,
                           "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"intranet\"\r\n"
                           "Content-Length: 12\r\n\r\nUnauthorized");
    pg_free(&q);
    pg_printf(&q, "GET /private/report HTTP/1.1\r\nHost: intranet\r\nAuthorization: basic   %s\r\n\r\n", b2);
    uint64_t f2 = pg_sendb(&r, &c, 0, &q);
    uint64_t v2 = send_str(&r, &c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    pg_close(&r, &c, 0);
    pg_run_finish(&r);

    assert_int_equal(pg_nrecs(&r), 2);
    json_t *a = pg_rec(&r, 0), *b = pg_rec(&r, 1);
    assert_jstr(a, "mechanism", "basic");
    assert_jstr(a, "basic.user", "bob");
    assert_jstr(a, "http.scheme", "Basic");
    assert_jstr(a, "service", "http");
    assert_jstr(a, "result", "failure");
    assert_jint(a, "status.code", 401);
    assert_jstr(a, "status.name", "Unauthorized");
    assert_jint(a, "frames.verdict", (long long)v1);
    assert_jabsent(a, "ntlm");
    assert_jstr(b, "mechanism", "basic");
    assert_jstr(b, "basic.user", "bob");
    assert_jstr(b, "result", "success");
    assert_jint(b, "status.code", 200);
    assert_jint(b, "frames.verdict", (long long)v2);
    assert_jstr(b, "http.requests[0].path", "/private/report");
    assert_jint(b, "http.requests[0].frames[0]", (long long)f2);
    (void)f1;

    /* The password, in clear or encoded, appears nowhere in the output. */
    assert_null(strstr(r.text, pw1));
    assert_null(strstr(r.text, pw2));
    assert_null(strstr(r.text, "Wr0ng"));
    assert_null(strstr(r.text, "P@ss"));
    assert_null(strstr(r.text, b1));
    assert_null(strstr(r.text, b2));
    /* ... nor in the engine's decode scratch buffer once the header was handled. */
    assert_null(memmem(r.e.scratch, r.e.scratch_cap, pw2, strlen(pw2)));
    assert_null(memmem(r.e.scratch, r.e.scratch_cap, pw1, strlen(pw1)));
    free(b1);
    free(b2);
    pg_free(&q);
    pg_run_free(&r);
}

static void test_basic_auth_text_output(void **state)
{
    (void)state;
    /* The text format shows the user, never the password. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    r.w->ops = &text_writer_ops;
    struct pg_conn c;
    open_conn(&r, &c, 8080);
    char *b = basic_header("carol:Tr0ub4dor&3");
    struct pg_buf q = {0};
    pg_printf(&q, "POST /api HTTP/1.1\r\nAuthorization: Basic %s\r\nContent-Length: 4\r\n\r\nabcd", b);
    pg_sendb(&r, &c, 0, &q);
    send_str(&r, &c, 1, "HTTP/1.1 204 No Content\r\n\r\n");
    pg_close(&r, &c, 0);
    engine_finish(&r.e);
    const char *out = pg_output_now(&r);
    assert_non_null(strstr(out, "carol"));
    assert_non_null(strstr(out, "basic"));
    assert_non_null(strstr(out, "success"));
    assert_null(strstr(out, "Tr0ub4dor"));
    assert_null(strstr(out, b));
    free(b);
    pg_free(&q);
    engine_free(&r.e);
    correlate_free(r.corr);
    writer_free(r.w);
    fclose(r.f);
    free(r.obuf);
}

static void test_chunked_bodies_keep_alive(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    struct pg_http_ntlm m;
    pg_http_ntlm_build(&m, "NTLM", "/wsman", 50, 200);
    pg_sendb(&r, &c, 0, &m.req1);
    /* the 401 itself chunked, with a trailer */
    struct pg_buf r401 = {0};
    size_t hdr_end = pg_find(&m.resp1, "Content-Type");
    pg_put(&r401, m.resp1.p, hdr_end);
    pg_str(&r401, "Transfer-Encoding: chunked\r\n\r\n"
                  "7\r\n<html>\n\r\n"
                  "1B;ext=1\r\nHTTP/1.1 200 OK\r\n\r\nGET / HT\r\n"
                  "0\r\nX-Trailer: one\r\nX-Other: two\r\n\r\n");
    uint64_t fchal = pg_send_mss(&r, &c, 1, r401.p, r401.len, 7);
    (void)fchal;
    uint64_t fauth = pg_sendb(&r, &c, 0, &m.req2);
    /* the 200 chunked, cut into 5-byte segments so chunk-size lines and CRLFs straddle them */
    const char *ok = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/soap+xml\r\n\r\n"
                     "a\r\n0123456789\r\n"
                     "10\r\nHTTP/1.1 500 xx\n\r\n"
                     "3\r\n\r\n\r\r\n"
                     "0\r\n\r\n";
    pg_send_mss(&r, &c, 1, ok, strlen(ok), 5);
    /* the next exchange on the keep-alive connection */
    uint64_t fq = send_str(&r, &c, 0, "GET /wsman/next HTTP/1.1\r\nHost: srv1\r\n\r\n");
    uint64_t fr = send_str(&r, &c, 1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    pg_close(&r, &c, 0);
    pg_run_finish(&r);

    assert_int_equal(pg_stat(&r, "malformed.http"), 0);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "ntlm.target_name", "HOPLAB");
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "frames.authenticate", (long long)fauth);
    json_t *rq = pg_j(rec, "http.requests");
    assert_int_equal(json_array_size(rq), 2);
    assert_jstr(rq, "[0].path", "/wsman");
    assert_jint(rq, "[0].status", 200);
    assert_jstr(rq, "[1].path", "/wsman/next");
    assert_jint(rq, "[1].status", 404);
    assert_jint(rq, "[1].frames[0]", (long long)fq);
    assert_jint(rq, "[1].frames[1]", (long long)fr);
    pg_free(&r401);
    pg_http_ntlm_free(&m);
    pg_run_free(&r);
}

/* RFC 9112 7.1: chunk-size is 1*HEXDIG. "-1" (which strtoull would take as 2^64-1 and skip the rest of the
 * direction) and "0x10" are malformed: counted, and the stream resynchronises on the next response. */
static void test_chunk_size_strict(void **state)
{
    (void)state;
    static const char *const bad[] = {"-1", "0x10", " 5", "+5", "g"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        open_conn(&r, &c, 5985);
        struct pg_http_ntlm m;
        pg_http_ntlm_build(&m, "NTLM", "/wsman", 50, 200);
        pg_sendb(&r, &c, 0, &m.req1);
        pg_sendb(&r, &c, 1, &m.resp1);
        pg_sendb(&r, &c, 0, &m.req2);
        pg_sendb(&r, &c, 1, &m.resp2);
        send_str(&r, &c, 0, "GET /a HTTP/1.1\r\n\r\n");
        struct pg_buf b = {0};
        pg_printf(&b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\nxxxxx\r\n0\r\n\r\n", bad[i]);
        pg_sendb(&r, &c, 1, &b);
        send_str(&r, &c, 0, "GET /b HTTP/1.1\r\n\r\n");
        send_str(&r, &c, 1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        pg_close(&r, &c, 0);
        pg_run_finish(&r);
        assert_true(pg_stat(&r, "malformed.http") >= 1);
        json_t *rq = pg_j(pg_rec(&r, 0), "http.requests");
        /* /b after the bad chunk is still paired with its own 404 */
        size_t n = json_array_size(rq);
        assert_true(n >= 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(rq, n - 1), "path")), "/b");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(rq, n - 1), "status")), 404);
        pg_free(&b);
        pg_http_ntlm_free(&m);
        pg_run_free(&r);
    }
}

static void test_content_length_request_body(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    struct pg_http_ntlm m;
    pg_http_ntlm_build(&m, "NTLM", "/wsman", 20, 200);
    pg_sendb(&r, &c, 0, &m.req1);
    pg_sendb(&r, &c, 1, &m.resp1);
    /* the AUTHENTICATE as a POST with a body that looks like requests */
    static const char body[] = "GET /evil HTTP/1.1\r\nAuthorization: Basic ZXZlOnB3\r\n\r\n<s:Envelope/>";
    struct pg_buf post = {0};
    size_t cl = pg_find(&m.req2, "Content-Length: 0");
    pg_str(&post, "POST");
    pg_put(&post, m.req2.p + 3, cl - 3);
    pg_printf(&post, "Content-Length: %zu\r\n\r\n%s", sizeof body - 1, body);
    uint64_t fauth = pg_send_mss(&r, &c, 0, post.p, post.len, 200);
    (void)fauth;
    pg_sendb(&r, &c, 1, &m.resp2);
    /* another POST with a body split over segments, then a GET */
    struct pg_buf p2 = {0};
    pg_printf(&p2, "POST /wsman HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", sizeof body - 1, body);
    pg_send_mss(&r, &c, 0, p2.p, p2.len, 9);
    send_str(&r, &c, 1, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nerr");
    send_str(&r, &c, 0, "GET /x HTTP/1.1\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    pg_close(&r, &c, 0);
    pg_run_finish(&r);

    assert_int_equal(pg_nrecs(&r), 1); /* the Basic header inside the body started nothing */
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "mechanism", "ntlm");
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    json_t *rq = pg_j(rec, "http.requests");
    assert_int_equal(json_array_size(rq), 3);
    assert_jstr(rq, "[0].method", "POST");
    assert_jstr(rq, "[0].path", "/wsman");
    assert_jint(rq, "[0].status", 200);
    assert_jstr(rq, "[1].method", "POST");
    assert_jint(rq, "[1].status", 500);
    assert_jstr(rq, "[2].method", "GET");
    assert_jstr(rq, "[2].path", "/x");
    assert_jint(rq, "[2].status", 404);
    assert_null(strstr(r.text, "/evil"));
    assert_int_equal(pg_stat(&r, "malformed.http"), 0);
    pg_free(&post);
    pg_free(&p2);
    pg_http_ntlm_free(&m);
    pg_run_free(&r);
}

static void test_pipelined_requests(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 80);
    ntlm_exchange(&r, &c, "NTLM", "/ews/exchange.asmx", 200);
    uint64_t fq = send_str(&r, &c, 0,
                           "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                           "HEAD /c HTTP/1.1\r\nHost: x\r\n\r\n"
                           "DELETE /d HTTP/1.1\r\nHost: x\r\n\r\n");
    uint64_t fr = send_str(&r, &c, 1,
                           "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                           "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                           "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
                           "HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope");
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "service", "http");
    assert_jstr(rec, "mechanism", "ntlm");
    json_t *rq = pg_j(rec, "http.requests");
    assert_int_equal(json_array_size(rq), 5);
    assert_jstr(rq, "[0].path", "/ews/exchange.asmx");
    const char *paths[4] = {"/a", "/b", "/c", "/d"};
    const char *methods[4] = {"GET", "GET", "HEAD", "DELETE"};
    const int statuses[4] = {200, 404, 200, 403};
    for (int i = 0; i < 4; i++) {
        char p[32];
        snprintf(p, sizeof p, "[%d].path", i + 1);
        assert_jstr(rq, p, paths[i]);
        snprintf(p, sizeof p, "[%d].method", i + 1);
        assert_jstr(rq, p, methods[i]);
        snprintf(p, sizeof p, "[%d].status", i + 1);
        assert_jint(rq, p, statuses[i]);
        snprintf(p, sizeof p, "[%d].frames[0]", i + 1);
        assert_jint(rq, p, (long long)fq);
        snprintf(p, sizeof p, "[%d].frames[1]", i + 1);
        assert_jint(rq, p, (long long)fr);
    }
    assert_int_equal(pg_stat(&r, "malformed.http"), 0);
    pg_run_free(&r);
}

static void test_head_response_without_body(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    ntlm_exchange(&r, &c, "NTLM", "/wsman", 200);
    send_str(&r, &c, 0, "HEAD /wsman/file HTTP/1.1\r\n\r\n");
    /* Content-Length of the entity, but a HEAD response carries no body */
    send_str(&r, &c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 123456\r\n\r\n");
    send_str(&r, &c, 0, "GET /wsman/next HTTP/1.1\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n");
    /* 204 and 304 have no body either */
    send_str(&r, &c, 0, "GET /wsman/204 HTTP/1.1\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 204 No Content\r\n\r\n");
    send_str(&r, &c, 0, "GET /wsman/304 HTTP/1.1\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 304 Not Modified\r\n\r\n");
    send_str(&r, &c, 0, "GET /wsman/last HTTP/1.1\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rq = pg_j(pg_rec(&r, 0), "http.requests");
    assert_int_equal(json_array_size(rq), 6);
    assert_jstr(rq, "[1].method", "HEAD");
    assert_jint(rq, "[1].status", 200);
    assert_jstr(rq, "[2].path", "/wsman/next");
    assert_jint(rq, "[2].status", 302);
    assert_jint(rq, "[3].status", 204);
    assert_jint(rq, "[4].status", 304);
    assert_jstr(rq, "[5].path", "/wsman/last");
    assert_jint(rq, "[5].status", 200);
    assert_int_equal(pg_stat(&r, "malformed.http"), 0);
    pg_run_free(&r);
}

static void test_100_continue(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 80);
    char *b = basic_header("dave:pw");
    struct pg_buf q = {0};
    pg_printf(&q,
              "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nExpect: 100-continue\r\n"
              "Content-Length: 10\r\n\r\n",
              b);
    pg_sendb(&r, &c, 0, &q);
    uint64_t f100 = send_str(&r, &c, 1, "HTTP/1.1 100 Continue\r\n\r\n");
    /* The POST is complete, and numbered (as by Wireshark), when its body has arrived. */
    uint64_t fq = send_str(&r, &c, 0, "0123456789");
    uint64_t fok = send_str(&r, &c, 1, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "mechanism", "basic");
    assert_jstr(rec, "basic.user", "dave");
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "status.code", 201);
    assert_jint(rec, "frames.verdict", (long long)fok);
    assert_true(fok != f100);
    assert_jstr(rec, "http.requests[0].method", "POST");
    assert_jint(rec, "http.requests[0].status", 201);
    assert_jint(rec, "http.requests[0].frames[0]", (long long)fq);
    assert_int_equal(json_array_size(pg_j(rec, "http.requests")), 1);
    free(b);
    pg_free(&q);
    pg_run_free(&r);
}

static void test_negotiate_spnego_ntlm(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    struct frames4 f = ntlm_exchange(&r, &c, "Negotiate", "/wsman", 200);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "mechanism", "negotiate/ntlm");
    assert_jstr(rec, "http.scheme", "Negotiate");
    assert_jstr(rec, "service", "winrm");
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "ntlm.domain", "HOPLAB");
    /* the client offered krb5 and NTLMSSP (the record lists them as a set) */
    json_t *mt = pg_j(rec, "spnego.mech_types");
    assert_int_equal(json_array_size(mt), 2);
    bool krb = false, ntlm = false;
    for (size_t i = 0; i < 2; i++) {
        const char *n = json_string_value(json_array_get(mt, i));
        assert_non_null(n);
        krb |= strcmp(n, "kerberos") == 0;
        ntlm |= strcmp(n, "ntlmssp") == 0;
    }
    assert_true(krb && ntlm);
    assert_jstr(rec, "spnego.neg_state", "accept-completed");
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "status.code", 200);
    assert_jint(rec, "frames.negotiate", (long long)f.neg);
    assert_jint(rec, "frames.challenge", (long long)f.chal);
    assert_jint(rec, "frames.authenticate", (long long)f.auth);
    assert_jint(rec, "frames.verdict", (long long)f.verdict);
    assert_int_equal(pg_stat(&r, "malformed.spnego"), 0);
    pg_run_free(&r);
}

static void test_ntlm_scheme(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 80);
    struct frames4 f = ntlm_exchange(&r, &c, "NTLM", "/ews/exchange.asmx", 200);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "mechanism", "ntlm");
    assert_jstr(rec, "http.scheme", "NTLM");
    assert_jstr(rec, "service", "http");
    assert_jabsent(rec, "spnego");
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "frames.authenticate", (long long)f.auth);
    pg_run_free(&r);
}

static void test_401_after_authenticate(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    struct frames4 f = ntlm_exchange(&r, &c, "NTLM", "/wsman", 401);
    /* the client retries on the same connection and succeeds */
    struct frames4 g = ntlm_exchange(&r, &c, "NTLM", "/wsman", 200);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 2);
    json_t *a = pg_rec(&r, 0), *b = pg_rec(&r, 1);
    assert_jstr(a, "ntlm.user", "alice");
    assert_jstr(a, "result", "failure");
    assert_jint(a, "status.code", 401);
    assert_jstr(a, "status.name", "Unauthorized");
    assert_jint(a, "frames.verdict", (long long)f.verdict);
    assert_jint(a, "http.requests[0].status", 401);
    assert_jstr(b, "result", "success");
    assert_jint(b, "status.code", 200);
    assert_jint(b, "frames.negotiate", (long long)g.neg);
    assert_jint(b, "frames.verdict", (long long)g.verdict);
    pg_run_free(&r);
}

static void test_requests_after_auth_listed(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    struct frames4 f = ntlm_exchange(&r, &c, "NTLM", "/wsman", 200);
    const char *reqs[3] = {"POST /wsman?PSVersion=5.1 HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
                           "PUT /wsman/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
                           "OPTIONS * HTTP/1.1\r\n\r\n"};
    const char *resps[3] = {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                            "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
                            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"};
    uint64_t fq[3], fr[3];
    for (int i = 0; i < 3; i++) {
        fq[i] = send_str(&r, &c, 0, reqs[i]);
        fr[i] = send_str(&r, &c, 1, resps[i]);
    }
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    json_t *rq = pg_j(rec, "http.requests");
    assert_int_equal(json_array_size(rq), 4);
    assert_jint(rq, "[0].frames[0]", (long long)f.auth);
    assert_jstr(rq, "[1].method", "POST");
    assert_jstr(rq, "[1].path", "/wsman?PSVersion=5.1");
    assert_jint(rq, "[1].status", 200);
    assert_jstr(rq, "[2].method", "PUT");
    assert_jint(rq, "[2].status", 403);
    assert_jstr(rq, "[3].method", "OPTIONS");
    assert_jstr(rq, "[3].path", "*");
    assert_jint(rq, "[3].status", 500);
    for (int i = 0; i < 3; i++) {
        char p[32];
        snprintf(p, sizeof p, "[%d].frames[0]", i + 1);
        assert_jint(rq, p, (long long)fq[i]);
        snprintf(p, sizeof p, "[%d].frames[1]", i + 1);
        assert_jint(rq, p, (long long)fr[i]);
    }
    pg_run_free(&r);
}

static void test_uses_cap(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.max_uses_per_record = 3;
    struct pg_run r;
    pg_run_init(&r, &lim);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    ntlm_exchange(&r, &c, "NTLM", "/wsman", 200);
    for (int i = 0; i < 5; i++) {
        send_str(&r, &c, 0, "GET /wsman HTTP/1.1\r\n\r\n");
        send_str(&r, &c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    json_t *rec = pg_rec(&r, 0);
    assert_int_equal(json_array_size(pg_j(rec, "http.requests")), 3);
    assert_jint(rec, "http.requests_dropped", 3);
    assert_int_equal(pg_stat(&r, "dropped.uses"), 3);
    pg_run_free(&r);
}

static void test_winrm_by_path_on_port_80(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 80);
    ntlm_exchange(&r, &c, "Negotiate", "/wsman", 200);
    pg_close(&r, &c, 0);
    struct pg_conn d;
    pg_conn_init(&d, 51001, 80);
    pg_handshake(&r, &d);
    ntlm_exchange(&r, &d, "Negotiate", "/owa/", 200);
    pg_close(&r, &d, 0);
    struct pg_conn e;
    pg_conn_init(&e, 51002, 80);
    pg_handshake(&r, &e);
    ntlm_exchange(&r, &e, "NTLM", "/WSMAN?x=1", 200);
    pg_close(&r, &e, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 3);
    assert_jstr(pg_rec(&r, 0), "service", "winrm");
    assert_jint(pg_rec(&r, 0), "server.port", 80);
    assert_jstr(pg_rec(&r, 1), "service", "http");
    assert_jstr(pg_rec(&r, 2), "service", "winrm");
    pg_run_free(&r);
}

static void test_header_block_over_cap(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.max_pdu = 8192;
    struct pg_run r;
    pg_run_init(&r, &lim);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    struct pg_buf big = {0};
    pg_str(&big, "GET /big HTTP/1.1\r\nHost: x\r\nCookie: ");
    pg_fill(&big, 'a', 20000);
    pg_str(&big, "\r\nX-After: 1\r\n\r\n");
    pg_sendb(&r, &c, 0, &big);
    send_str(&r, &c, 1, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n");
    /* then the authentication, which is still seen */
    struct frames4 f = ntlm_exchange(&r, &c, "NTLM", "/wsman", 200);
    /* a response header block over the cap too; then a request the server answers */
    send_str(&r, &c, 0, "GET /wsman/small HTTP/1.1\r\n\r\n");
    struct pg_buf bigr = {0};
    pg_str(&bigr, "HTTP/1.1 200 OK\r\nX-Pad: ");
    pg_fill(&bigr, 'b', 9000);
    pg_str(&bigr, "\r\nContent-Length: 0\r\n\r\n");
    pg_sendb(&r, &c, 1, &bigr);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "dropped.pdu_oversize"), 2);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "frames.negotiate", (long long)f.neg);
    assert_jint(rec, "frames.challenge", (long long)f.chal);
    assert_jint(rec, "frames.authenticate", (long long)f.auth);
    assert_jint(rec, "frames.verdict", (long long)f.verdict);
    /* the buffer never grew past the cap */
    struct hs_conn *hc = r.e.flows.lru_head;
    assert_non_null(hc);
    assert_true(!hc->part || (hc->part->st[0].cap <= lim.max_pdu && hc->part->st[1].cap <= lim.max_pdu));
    pg_free(&big);
    pg_free(&bigr);
    pg_run_free(&r);
}

static void test_malformed_and_unknown_schemes(void **state)
{
    (void)state;
    /* Bad base64, a token that is no GSS token, Bearer/Digest: counted or ignored, no record
     * invented, and a later real exchange still works. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    send_str(&r, &c, 0, "GET /wsman HTTP/1.1\r\nAuthorization: NTLM !!!notbase64!!!\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 401 \r\nContent-Length: 0\r\n\r\n");
    send_str(&r, &c, 0, "GET /wsman HTTP/1.1\r\nAuthorization: Negotiate aGVsbG8gd29ybGQ=\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 401 \r\nContent-Length: 0\r\n\r\n");
    send_str(&r, &c, 0, "GET /wsman HTTP/1.1\r\nAuthorization: Bearer eyJhbGciOi.x.y\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 401 \r\nContent-Length: 0\r\n\r\n");
    send_str(&r, &c, 0, "GET /wsman HTTP/1.1\r\nAuthorization: NTLM\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 401 \r\nContent-Length: 0\r\n\r\n");
    struct frames4 f = ntlm_exchange(&r, &c, "NTLM", "/wsman", 200);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.http"), 1);
    assert_int_equal(pg_stat(&r, "malformed.spnego"), 1);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "frames.negotiate", (long long)f.neg);
    assert_jint(rec, "frames.challenge", (long long)f.chal);
    assert_jint(rec, "frames.verdict", (long long)f.verdict);
    pg_run_free(&r);
}

static void test_bad_status_line_keeps_pairing(void **state)
{
    (void)state;
    /* A response whose status code is not three digits is counted as malformed, but it still
     * answered its request: the exchange after it must pair responses with the right requests
     * (challenge applied to the record, verdict from the AUTHENTICATE's response). */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 5985);
    send_str(&r, &c, 0, "GET /wsman HTTP/1.1\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 2x0 Odd\r\nContent-Length: 0\r\n\r\n");
    struct frames4 f = ntlm_exchange(&r, &c, "NTLM", "/wsman", 200);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.http"), 1);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jint(rec, "frames.challenge", (long long)f.chal);
    assert_jstr(rec, "ntlm.target_name", "HOPLAB");
    assert_jint(rec, "frames.verdict", (long long)f.verdict);
    assert_jint(rec, "http.requests[0].frames[0]", (long long)f.auth);
    assert_jint(rec, "http.requests[0].frames[1]", (long long)f.verdict);
    pg_run_free(&r);
}

static void test_connection_upgrade_ignored_after(void **state)
{
    (void)state;
    /* After 101 Switching Protocols nothing more is parsed as HTTP, whatever it looks like. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 80);
    ntlm_exchange(&r, &c, "NTLM", "/rpc", 200);
    send_str(&r, &c, 0, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    send_str(&r, &c, 1, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
    char *tok = basic_header("mallory9:x");
    struct pg_buf q = {0};
    pg_printf(&q, "GET /inner HTTP/1.1\r\nAuthorization: Basic %s\r\n\r\n", tok);
    pg_sendb(&r, &c, 0, &q);
    send_str(&r, &c, 1, "HTTP/1.1 200 OK\r\n\r\n");
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    json_t *rq = pg_j(rec, "http.requests");
    assert_int_equal(json_array_size(rq), 2);
    assert_jint(rq, "[1].status", 101);
    assert_null(strstr(r.text, "mallory9"));
    free(tok);
    pg_free(&q);
    pg_run_free(&r);
}

/* Memory held is bounded across connections: PDU buffers are given back once a PDU is complete, a closed
 * connection keeps no dissector state, and at the global record cap the oldest record anywhere is written. */
static void test_memory_given_back_and_global_record_cap(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.max_records_total = 2;
    struct pg_run r;
    pg_run_init(&r, &lim);
    struct pg_http_ntlm m;
    pg_http_ntlm_build(&m, "NTLM", "/wsman", 120, 200);
    struct pg_conn a, b, c;
    open_conn(&r, &a, 5985);
    pg_send_mss(&r, &a, 0, m.req1.p, m.req1.len, 7); /* every header block straddles segments */
    pg_send_mss(&r, &a, 1, m.resp1.p, m.resp1.len, 7);
    pg_send_mss(&r, &a, 0, m.req2.p, m.req2.len, 7);
    pg_send_mss(&r, &a, 1, m.resp2.p, m.resp2.len, 7);
    assert_int_equal(r.e.budget.held, 0);
    assert_int_equal(r.e.recs.auth.n, 1);
    /* two more connections start an attempt each: the first connection's record is written early */
    pg_conn_init(&b, 51001, 5985);
    pg_handshake(&r, &b);
    pg_sendb(&r, &b, 0, &m.req1);
    assert_int_equal(pg_count_auth_now(&r), 0);
    pg_conn_init(&c, 51002, 5985);
    pg_handshake(&r, &c);
    pg_sendb(&r, &c, 0, &m.req1);
    assert_int_equal(pg_count_auth_now(&r), 1);
    assert_int_equal(r.e.recs.auth.n, 2);
    assert_non_null(strstr(pg_output_now(&r), "\"port\":51000"));
    /* the first connection closes: nothing of its dissection is kept while it waits to expire */
    pg_close(&r, &a, 0);
    struct hs_conn *first = NULL;
    for (struct hs_conn *k = r.e.flows.lru_head; k; k = k->lru_next)
        if (k->flow.cli.port == 51000)
            first = k;
    assert_non_null(first);
    assert_true(first->closed);
    assert_null(first->dstate);
    assert_null(first->part); /* streams and records in progress are gone */
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 3);
    assert_jstr(pg_rec(&r, 0), "ntlm.user", "alice");
    assert_jstr(pg_rec(&r, 0), "result", "success");
    assert_int_equal(r.e.recs.auth.n, 0);
    pg_http_ntlm_free(&m);
    pg_run_free(&r);
}

static void test_long_method_alone_in_first_segment(void **state)
{
    (void)state;
    /* A WebDAV client whose first segment is just the method "PROPFIND" (8 bytes): too few to
     * tell it from a prefix of anything else, so the protocol must not be judged on it. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_conn(&r, &c, 80);
    struct pg_http_ntlm m;
    pg_http_ntlm_build(&m, "NTLM", "/dav/", 40, 200);
    struct pg_buf req1 = {0};
    pg_str(&req1, "PROPFIND");
    pg_put(&req1, m.req1.p + 3, m.req1.len - 3); /* " /dav/ HTTP/1.1\r\n..." */
    size_t cut = 8;
    uint64_t fneg = pg_send_cuts(&r, &c, 0, req1.p, req1.len, &cut, 1);
    pg_sendb(&r, &c, 1, &m.resp1);
    pg_sendb(&r, &c, 0, &m.req2);
    pg_sendb(&r, &c, 1, &m.resp2);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jint(rec, "frames.negotiate", (long long)fneg);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    pg_free(&req1);
    pg_http_ntlm_free(&m);
    pg_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_auth_password_never_output),
        cmocka_unit_test(test_basic_auth_text_output),
        cmocka_unit_test(test_chunked_bodies_keep_alive),
        cmocka_unit_test(test_chunk_size_strict),
        cmocka_unit_test(test_content_length_request_body),
        cmocka_unit_test(test_pipelined_requests),
        cmocka_unit_test(test_head_response_without_body),
        cmocka_unit_test(test_100_continue),
        cmocka_unit_test(test_negotiate_spnego_ntlm),
        cmocka_unit_test(test_ntlm_scheme),
        cmocka_unit_test(test_401_after_authenticate),
        cmocka_unit_test(test_requests_after_auth_listed),
        cmocka_unit_test(test_uses_cap),
        cmocka_unit_test(test_winrm_by_path_on_port_80),
        cmocka_unit_test(test_header_block_over_cap),
        cmocka_unit_test(test_malformed_and_unknown_schemes),
        cmocka_unit_test(test_bad_status_line_keeps_pairing),
        cmocka_unit_test(test_connection_upgrade_ignored_after),
        cmocka_unit_test(test_long_method_alone_in_first_segment),
        cmocka_unit_test(test_memory_given_back_and_global_record_cap),
    };
    pg_apply_filters();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
