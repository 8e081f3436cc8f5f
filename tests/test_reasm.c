/* TCP reassembly through the engine, observed via the HTTP dissector's records (NTLM over WinRM). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcapgen.h"

#define BODY401 300

struct xchg {
    struct pg_run r;
    struct pg_conn c;
    struct pg_http_ntlm m;
    uint64_t f_neg, f_chal, f_auth, f_verdict;
};

static void x_init(struct xchg *x, const struct hs_limits *lim, size_t body401)
{
    pg_run_init(&x->r, lim);
    pg_conn_init(&x->c, 50123, 5985);
    pg_http_ntlm_build(&x->m, "NTLM", "/wsman", body401, 200);
    x->f_neg = x->f_chal = x->f_auth = x->f_verdict = 0;
}

static void x_free(struct xchg *x)
{
    pg_http_ntlm_free(&x->m);
    pg_run_free(&x->r);
}

/* The full record of HOPLAB\alice's successful NTLM logon over WinRM. */
static void check_alice(json_t *rec)
{
    assert_jstr(rec, "type", "auth");
    assert_jstr(rec, "transport", "http");
    assert_jstr(rec, "service", "winrm");
    assert_jstr(rec, "mechanism", "ntlm");
    assert_jstr(rec, "http.scheme", "NTLM");
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "ntlm.domain", "HOPLAB");
    assert_jstr(rec, "ntlm.workstation", "WS01");
    assert_jstr(rec, "ntlm.response_type", "ntlmv2");
    assert_jbool(rec, "ntlm.mic", true);
    assert_jstr(rec, "ntlm.spn", "HTTP/srv1.hoplab.test");
    assert_jstr(rec, "ntlm.target_name", "HOPLAB");
    assert_jstr(rec, "server.names.nb_computer", "SRV1");
    assert_jstr(rec, "server.names.dns_domain", "hoplab.test");
    assert_jstr(rec, "client.ip", "10.0.0.1");
    assert_jint(rec, "client.port", 50123);
    assert_jstr(rec, "server.ip", "10.0.0.2");
    assert_jint(rec, "server.port", 5985);
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "status.code", 200);
    assert_jstr(rec, "http.requests[0].method", "GET");
    assert_jstr(rec, "http.requests[0].path", "/wsman");
    assert_jint(rec, "http.requests[0].status", 200);
    assert_int_equal(json_array_size(pg_j(rec, "http.requests")), 1);
}

static void check_frames(struct xchg *x, json_t *rec)
{
    assert_jint(rec, "frames.negotiate", (long long)x->f_neg);
    assert_jint(rec, "frames.challenge", (long long)x->f_chal);
    assert_jint(rec, "frames.authenticate", (long long)x->f_auth);
    assert_jint(rec, "frames.verdict", (long long)x->f_verdict);
}

/* The reference run: every message in segments of at most one MSS, in order. Returns the record
 * without frame numbers and timestamps. */
static json_t *baseline(void)
{
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *s = pg_strip_frames(pg_rec(&x.r, 0));
    x_free(&x);
    return s;
}

static void assert_same_as_baseline(json_t *rec)
{
    json_t *base = baseline();
    json_t *mine = pg_strip_frames(rec);
    if (!json_equal(base, mine)) {
        char *a = json_dumps(base, JSON_COMPACT), *b = json_dumps(mine, JSON_COMPACT);
        fail_msg("record differs from the in-order run:\n  in order: %s\n  this run: %s", a, b);
    }
    json_decref(base);
    json_decref(mine);
}

/* ---------------------------------------------------------------------------------------- */

static void test_in_order(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    assert_int_equal(x.f_neg, 4);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    check_frames(&x, rec);
    assert_jint(rec, "http.requests[0].frames[0]", (long long)x.f_auth);
    assert_jint(rec, "http.requests[0].frames[1]", (long long)x.f_verdict);
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 0);
    assert_int_equal(pg_stat(&x.r, "tcp.retransmitted"), 0);
    assert_int_equal(pg_stat(&x.r, "tcp.overlaps"), 0);
    assert_int_equal(pg_stat(&x.r, "tcp.conflicts"), 0);
    assert_int_equal(pg_stat(&x.r, "tcp.out_of_order"), 0);
    assert_int_equal(pg_stat(&x.r, "malformed.http"), 0);
    assert_int_equal(pg_stat(&x.r, "malformed.ntlmssp"), 0);
    assert_int_equal(pg_stat(&x.r, "auth_records"), 1);
    assert_int_equal(pg_stat(&x.r, "flows"), 1);
    x_free(&x);
}

static void test_split_inside_header_name(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    size_t a1 = pg_find(&x.m.req1, "Authorization") + 5;
    x.f_neg = pg_send_cuts(&x.r, &x.c, 0, x.m.req1.p, x.m.req1.len, &a1, 1);
    size_t w[2] = {pg_find(&x.m.resp1, "WWW-Authenticate") + 7, pg_find(&x.m.resp1, "Content-Length") + 9};
    x.f_chal = pg_send_cuts(&x.r, &x.c, 1, x.m.resp1.p, x.m.resp1.len, w, 2);
    size_t a2[3] = {1, pg_find(&x.m.req2, "Authorization") + 1, pg_find(&x.m.req2, "Authorization") + 12};
    x.f_auth = pg_send_cuts(&x.r, &x.c, 0, x.m.req2.p, x.m.req2.len, a2, 3);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    assert_jint(rec, "frames.negotiate", (long long)x.f_neg);
    assert_jint(rec, "frames.authenticate", (long long)x.f_auth);
    assert_jint(rec, "frames.verdict", (long long)x.f_verdict);
    /* The 401 went out in three segments; its header block ends in the third (after the cut
     * inside "Content-Length"). */
    assert_jint(rec, "frames.challenge", (long long)x.f_chal);
    assert_same_as_baseline(rec);
    assert_int_equal(pg_stat(&x.r, "malformed.http"), 0);
    x_free(&x);
}

static void test_split_inside_token(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    size_t t1 = pg_find(&x.m.resp1, "NTLM T") + 5;
    size_t w[3] = {t1 + 3, t1 + 50, t1 + 51};
    x.f_chal = pg_send_cuts(&x.r, &x.c, 1, x.m.resp1.p, x.m.resp1.len, w, 3);
    size_t t2 = pg_find(&x.m.req2, "NTLM T") + 5;
    size_t a[4] = {t2 + 1, t2 + 100, t2 + 101, t2 + 300};
    x.f_auth = pg_send_cuts(&x.r, &x.c, 0, x.m.req2.p, x.m.req2.len, a, 4);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    check_frames(&x, rec);
    assert_same_as_baseline(rec);
    x_free(&x);
}

static void test_one_byte_segments(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_send_mss(&x.r, &x.c, 0, x.m.req1.p, x.m.req1.len, 1);
    /* 401 header block byte by byte; the body in one segment */
    size_t hdr = pg_find(&x.m.resp1, "\r\n\r\n") + 4;
    pg_send_mss(&x.r, &x.c, 1, x.m.resp1.p, hdr, 1);
    /* a message is numbered by the frame completing it, body included (as Wireshark does) */
    x.f_chal = pg_send_mss(&x.r, &x.c, 1, x.m.resp1.p + hdr, x.m.resp1.len - hdr, PG_MSS);
    x.f_auth = pg_send_mss(&x.r, &x.c, 0, x.m.req2.p, x.m.req2.len, 1);
    x.f_verdict = pg_send_mss(&x.r, &x.c, 1, x.m.resp2.p, x.m.resp2.len, 1);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    check_frames(&x, rec);
    assert_same_as_baseline(rec);
    assert_int_equal(pg_stat(&x.r, "dropped.pdu_oversize"), 0);
    x_free(&x);
}

static void test_out_of_order(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    /* 401 in three pieces delivered 3, 2, 1 */
    size_t n1 = x.m.resp1.len;
    size_t c1 = 100, c2 = n1 - 50;
    pg_send_at(&x.r, &x.c, 1, c2, x.m.resp1.p + c2, n1 - c2);
    pg_send_at(&x.r, &x.c, 1, c1, x.m.resp1.p + c1, c2 - c1);
    x.f_chal = pg_send_at(&x.r, &x.c, 1, 0, x.m.resp1.p, c1);
    pg_advance(&x.c, 1, n1);
    /* AUTHENTICATE in four pieces delivered 4, 2, 3, 1: the stream is whole when 1 arrives */
    size_t n = x.m.req2.len, q = n / 4;
    size_t off[5] = {0, q, 2 * q, 3 * q, n};
    const int order[4] = {3, 1, 2, 0};
    for (int i = 0; i < 4; i++) {
        int k = order[i];
        x.f_auth = pg_send_at(&x.r, &x.c, 0, off[k], x.m.req2.p + off[k], off[k + 1] - off[k]);
    }
    pg_advance(&x.c, 0, n);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    /* Messages are credited to the frame that completed them in stream order. */
    check_frames(&x, rec);
    assert_same_as_baseline(rec);
    assert_int_equal(pg_stat(&x.r, "tcp.out_of_order"), 2 + 3);
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 0);
    assert_int_equal(pg_stat(&x.r, "tcp.conflicts"), 0);
    x_free(&x);
}

static void test_retransmissions(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    /* NEGOTIATE sent twice */
    x.f_neg = pg_send_at(&x.r, &x.c, 0, 0, x.m.req1.p, x.m.req1.len);
    pg_send_at(&x.r, &x.c, 0, 0, x.m.req1.p, x.m.req1.len);
    pg_advance(&x.c, 0, x.m.req1.len);
    /* 401: first 200 bytes, then a retransmission of bytes 0..400 (overlapping new data), then
     * the rest twice */
    size_t n1 = x.m.resp1.len, hdr = pg_find(&x.m.resp1, "\r\n\r\n") + 4, h1 = hdr / 3, h2 = 2 * hdr / 3;
    pg_send_at(&x.r, &x.c, 1, 0, x.m.resp1.p, h1);
    pg_send_at(&x.r, &x.c, 1, 0, x.m.resp1.p, h2);
    x.f_chal = pg_send_at(&x.r, &x.c, 1, h2, x.m.resp1.p + h2, n1 - h2);
    pg_send_at(&x.r, &x.c, 1, h2, x.m.resp1.p + h2, n1 - h2);
    pg_advance(&x.c, 1, n1);
    /* AUTHENTICATE: each of three segments twice */
    size_t n = x.m.req2.len, t = n / 3;
    size_t off[4] = {0, t, 2 * t, n};
    for (int k = 0; k < 3; k++) {
        uint64_t f = pg_send_at(&x.r, &x.c, 0, off[k], x.m.req2.p + off[k], off[k + 1] - off[k]);
        pg_send_at(&x.r, &x.c, 0, off[k], x.m.req2.p + off[k], off[k + 1] - off[k]);
        if (k == 2)
            x.f_auth = f;
    }
    pg_advance(&x.c, 0, n);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_ack(&x.r, &x.c, 1);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    check_frames(&x, rec);
    assert_same_as_baseline(rec);
    assert_int_equal(pg_stat(&x.r, "tcp.retransmitted"), 1 + 1 + 3);
    assert_int_equal(pg_stat(&x.r, "tcp.overlaps"), 1);
    assert_int_equal(pg_stat(&x.r, "tcp.conflicts"), 0);
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 0);
    x_free(&x);
}

/* An AUTHENTICATE request for another user of the same length, to make a retransmission whose
 * bytes differ (a forged or corrupted copy). */
static struct pg_buf req2_for(const char *user)
{
    struct pg_buf out = {0};
    struct pg_buf auth = pg_ntlm_authenticate(user, "HOPLAB", "WS01");
    char *t = pg_b64(auth.p, auth.len);
    pg_printf(&out,
              "GET /wsman HTTP/1.1\r\nHost: srv1.hoplab.test:5985\r\nUser-Agent: Microsoft WinRM Client\r\n"
              "Authorization: NTLM %s\r\nContent-Length: 0\r\n\r\n",
              t);
    free(t);
    pg_free(&auth);
    return out;
}

/* Sends the AUTHENTICATE as [A][B][C], B's region being where "alice" and "bobby" differ: B and
 * its differing copy B' in the order given, then C, then A. */
static void conflict_run(bool genuine_first, const char *expect_user)
{
    struct xchg x;
    x_init(&x, NULL, BODY401);
    struct pg_buf bob = req2_for("bobby");
    assert_int_equal(bob.len, x.m.req2.len);
    size_t lo = 0, hi = bob.len;
    while (lo < bob.len && bob.p[lo] == x.m.req2.p[lo])
        lo++;
    while (hi > lo && bob.p[hi - 1] == x.m.req2.p[hi - 1])
        hi--;
    assert_true(lo < hi);
    size_t b0 = lo - 10, b1 = hi + 10; /* B = [b0, b1) */
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    const uint8_t *first = genuine_first ? x.m.req2.p : bob.p, *second = genuine_first ? bob.p : x.m.req2.p;
    pg_send_at(&x.r, &x.c, 0, b0, first + b0, b1 - b0);
    pg_send_at(&x.r, &x.c, 0, b0, second + b0, b1 - b0);
    pg_send_at(&x.r, &x.c, 0, b1, x.m.req2.p + b1, x.m.req2.len - b1);
    x.f_auth = pg_send_at(&x.r, &x.c, 0, 0, x.m.req2.p, b0);
    pg_advance(&x.c, 0, x.m.req2.len);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    assert_jstr(rec, "ntlm.user", expect_user);
    assert_jstr(rec, "ntlm.domain", "HOPLAB");
    assert_jstr(rec, "result", "success");
    check_frames(&x, rec);
    assert_true(pg_stat(&x.r, "tcp.conflicts") >= 1);
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 0);
    pg_free(&bob);
    x_free(&x);
}

static void test_conflicting_retransmission_first_copy_wins(void **state)
{
    (void)state;
    conflict_run(true, "alice");
}

static void test_conflicting_retransmission_forged_first(void **state)
{
    (void)state;
    /* First copy wins regardless of which one is genuine. */
    conflict_run(false, "bobby");
}

static void test_gap_in_401_body(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, 4000);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    size_t n1 = x.m.resp1.len, hdr = pg_find(&x.m.resp1, "\r\n\r\n") + 4;
    assert_true(hdr < 1000);
    /* segments [0,1000) [1000,2460) (lost) [2460,end) */
    pg_send_at(&x.r, &x.c, 1, 0, x.m.resp1.p, 1000);
    /* The body's end arrives here; once the hole before it is declared lost (below), the 401 is
     * numbered by the frame that carried its last byte: no frame ever completed it. */
    x.f_chal = pg_send_at(&x.r, &x.c, 1, 2460, x.m.resp1.p + 2460, n1 - 2460);
    pg_advance(&x.c, 1, n1);
    /* The client's AUTHENTICATE acknowledges the whole 401: the hole is declared lost. */
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 1);
    assert_int_equal(pg_stat(&x.r, "tcp.gap_bytes"), 1460);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    check_frames(&x, rec);
    assert_int_equal(pg_stat(&x.r, "malformed.http"), 0);
    x_free(&x);
}

static void test_gap_in_authenticate(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    size_t n = x.m.req2.len, tok = pg_find(&x.m.req2, "NTLM T") + 5;
    /* [0,tok+40) sent, [tok+40, tok+200) lost, the rest sent */
    pg_send_at(&x.r, &x.c, 0, 0, x.m.req2.p, tok + 40);
    pg_send_at(&x.r, &x.c, 0, tok + 200, x.m.req2.p + tok + 200, n - tok - 200);
    pg_advance(&x.c, 0, n);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    /* a later request on the connection still parses */
    struct pg_buf more = {0};
    pg_str(&more, "GET /wsman?after HTTP/1.1\r\nHost: srv1\r\n\r\n");
    pg_sendb(&x.r, &x.c, 0, &more);
    struct pg_buf resp = {0};
    pg_str(&resp, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    pg_sendb(&x.r, &x.c, 1, &resp);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 1);
    assert_int_equal(pg_stat(&x.r, "tcp.gap_bytes"), 160);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    /* NEGOTIATE and CHALLENGE were seen; the AUTHENTICATE was not, so no user */
    assert_jint(rec, "frames.negotiate", (long long)x.f_neg);
    assert_jint(rec, "frames.challenge", (long long)x.f_chal);
    assert_jabsent(rec, "frames.authenticate");
    assert_jabsent(rec, "ntlm.user");
    assert_jabsent(rec, "ntlm.domain");
    assert_jstr(rec, "ntlm.response_type", "unknown");
    assert_jstr(rec, "mechanism", "ntlm");
    /* resynchronised: the later request is listed */
    json_t *rq = pg_j(rec, "http.requests");
    assert_true(json_array_size(rq) >= 1);
    assert_jstr(rq, "[0].path", "/wsman?after");
    assert_jint(rq, "[0].status", 404);
    pg_free(&more);
    pg_free(&resp);
    x_free(&x);
}

/* Picked up mid-stream: the first client bytes are the tail of a SOAP request body, the first
 * server bytes the tail of a response body; then the NTLM exchange. `newline_before` says
 * whether each tail ends with CRLF. */
static void midstream_run(bool newline_before)
{
    struct xchg x;
    x_init(&x, NULL, BODY401);
    const char *ctail = newline_before ? "<w:Selector Name=\"x\">GET</w:Selector></s:Body></s:Envelope>\r\n"
                                       : "<w:Selector Name=\"x\">GET</w:Selector></s:Body></s:Envelope>";
    const char *stail = newline_before ? "<s:Fault>HTTP/1.1 500</s:Fault></s:Body></s:Envelope>\r\n"
                                       : "<s:Fault>HTTP/1.1 500</s:Fault></s:Body></s:Envelope>";
    /* no SYN: the connection starts with data */
    pg_send(&x.r, &x.c, 0, ctail, strlen(ctail));
    pg_send(&x.r, &x.c, 1, stail, strlen(stail));
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    check_frames(&x, rec);
    x_free(&x);
}

static void test_midstream_pickup_line_aligned(void **state)
{
    (void)state;
    midstream_run(true);
}

static void test_midstream_pickup_body_without_newline(void **state)
{
    (void)state;
    /* HTTP bodies need not end with a newline (WinRM's SOAP envelopes do not): the next message
     * starts right after the body's last byte. */
    midstream_run(false);
}

static void test_midstream_same_segment(void **state)
{
    (void)state;
    /* The body tail and the next request in one segment. */
    struct xchg x;
    x_init(&x, NULL, BODY401);
    struct pg_buf first = {0};
    pg_str(&first, "</s:Body></s:Envelope>\r\n");
    pg_put(&first, x.m.req1.p, x.m.req1.len);
    uint64_t f1 = pg_sendb(&x.r, &x.c, 0, &first);
    x.f_neg = f1;
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    check_frames(&x, rec);
    pg_free(&first);
    x_free(&x);
}

static void test_fin_emits_record(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    assert_int_equal(pg_count_auth_now(&x.r), 0); /* still open */
    /* one FIN is not the end */
    pg_seg(&x.r, &x.c, 0, x.c.seq[0], x.c.seq[1], TH_FIN | TH_ACK, NULL, 0);
    x.c.seq[0]++;
    assert_int_equal(pg_count_auth_now(&x.r), 0);
    pg_seg(&x.r, &x.c, 1, x.c.seq[1], x.c.seq[0], TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(pg_count_auth_now(&x.r), 1);
    assert_non_null(strstr(pg_output_now(&x.r), "\"user\":\"alice\""));
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1); /* not written again at the end */
    check_alice(pg_rec(&x.r, 0));
    x_free(&x);
}

static void test_rst_emits_record(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    assert_int_equal(pg_count_auth_now(&x.r), 0);
    pg_seg(&x.r, &x.c, 0, x.c.seq[0], x.c.seq[1], TH_RST | TH_ACK, NULL, 0);
    assert_int_equal(pg_count_auth_now(&x.r), 1);
    /* packets after the reset change nothing */
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    check_alice(pg_rec(&x.r, 0));
    x_free(&x);
}

static void test_close_delivers_queued_data(void **state)
{
    (void)state;
    /* The last segment before the FINs is out of order (the one before it was lost): closing
     * declares the gap and still delivers what was queued. */
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    /* resp2: its first 3 bytes lost, the rest queued behind the hole */
    pg_send_at(&x.r, &x.c, 1, 3, x.m.resp2.p + 3, x.m.resp2.len - 3);
    pg_advance(&x.c, 1, x.m.resp2.len);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 1);
    assert_int_equal(pg_stat(&x.r, "tcp.gap_bytes"), 3);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jint(rec, "frames.authenticate", (long long)x.f_auth);
    x_free(&x);
}

static void test_sequence_wraparound(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    x.c.seq[0] = 0xFFFFFF00u; /* client sequence numbers wrap inside the AUTHENTICATE */
    x.c.seq[1] = 0xFFFFFFF0u; /* server's wrap inside the 401 */
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    assert_true(x.c.seq[0] > 0xFFFFFF00u);
    pg_send_mss(&x.r, &x.c, 1, x.m.resp1.p, x.m.resp1.len, 100);
    /* AUTHENTICATE out of order across the wrap: second half first */
    size_t n = x.m.req2.len, h = n / 2;
    pg_send_at(&x.r, &x.c, 0, h, x.m.req2.p + h, n - h);
    x.f_auth = pg_send_at(&x.r, &x.c, 0, 0, x.m.req2.p, h);
    pg_advance(&x.c, 0, n);
    assert_true(x.c.seq[0] < 0x1000u);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    assert_jint(rec, "frames.authenticate", (long long)x.f_auth);
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 0);
    assert_int_equal(pg_stat(&x.r, "tcp.out_of_order"), 1);
    x_free(&x);
}

static void test_ooo_cap(void **state)
{
    (void)state;
    /* With a tiny out-of-order budget, queued data beyond it is dropped and counted; the stream
     * moves on instead of waiting for the hole forever. */
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.max_ooo_bytes = 64;
    struct xchg x;
    x_init(&x, &lim, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    size_t n = x.m.req2.len;
    /* hole of 10 bytes at the start, then the rest in 100-byte segments */
    for (size_t off = 10; off < n; off += 100)
        pg_send_at(&x.r, &x.c, 0, off, x.m.req2.p + off, n - off < 100 ? n - off : 100);
    pg_advance(&x.c, 0, n);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_true(pg_stat(&x.r, "dropped.ooo_bytes") > 0);
    assert_true(pg_stat(&x.r, "tcp.gaps") >= 1);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    assert_jabsent(rec, "ntlm.user"); /* the request line was lost */
    assert_jint(rec, "frames.challenge", (long long)x.f_chal);
    x_free(&x);
}

static void test_one_byte_segments_after_first(void **state)
{
    (void)state;
    /* As test_one_byte_segments, but each direction's first segment is a whole message, so this
     * checks reassembly alone (not how many bytes the protocol probe needs). */
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    size_t hdr = pg_find(&x.m.resp1, "\r\n\r\n") + 4;
    pg_send_mss(&x.r, &x.c, 1, x.m.resp1.p, hdr, 1);
    x.f_chal = pg_send_mss(&x.r, &x.c, 1, x.m.resp1.p + hdr, x.m.resp1.len - hdr, 1);
    x.f_auth = pg_send_mss(&x.r, &x.c, 0, x.m.req2.p, x.m.req2.len, 1);
    x.f_verdict = pg_send_mss(&x.r, &x.c, 1, x.m.resp2.p, x.m.resp2.len, 1);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    check_frames(&x, rec);
    assert_same_as_baseline(rec);
    x_free(&x);
}

static void test_request_line_in_own_segment(void **state)
{
    (void)state;
    /* A client that writes "GET " and the rest separately: the first segment has 4 bytes. */
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    size_t cut = 4;
    x.f_neg = pg_send_cuts(&x.r, &x.c, 0, x.m.req1.p, x.m.req1.len, &cut, 1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    check_frames(&x, rec);
    x_free(&x);
}

static void test_data_with_fin(void **state)
{
    (void)state;
    /* The server's last response carries FIN; the client's FIN follows. */
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    x.f_verdict = pg_seg(&x.r, &x.c, 1, x.c.seq[1], x.c.seq[0], TH_FIN | TH_PSH | TH_ACK, x.m.resp2.p, x.m.resp2.len);
    x.c.seq[1] += (uint32_t)x.m.resp2.len + 1;
    assert_int_equal(pg_count_auth_now(&x.r), 0);
    pg_seg(&x.r, &x.c, 0, x.c.seq[0], x.c.seq[1], TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(pg_count_auth_now(&x.r), 1);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    check_alice(pg_rec(&x.r, 0));
    check_frames(&x, pg_rec(&x.r, 0));
    x_free(&x);
}

static void test_port_reuse_new_connection(void **state)
{
    (void)state;
    /* The same 5-tuple used again after a clean close: a second connection with its own record. */
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    x.c.seq[0] += 100000;
    x.c.seq[1] += 200000;
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "flows"), 2);
    assert_int_equal(pg_nrecs(&x.r), 2);
    check_alice(pg_rec(&x.r, 0));
    check_alice(pg_rec(&x.r, 1));
    check_frames(&x, pg_rec(&x.r, 1));
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 0);
    assert_int_equal(pg_stat(&x.r, "tcp.out_of_order"), 0);
    x_free(&x);
}

/* The end of a connection was not captured and the client reuses the 5-tuple (new SYN, new ISN) while the
 * old server side was reading a response until close: the new connection must start from nothing. */
static void test_port_reuse_without_close(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    static const char q[] = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", a[] = "HTTP/1.1 200 OK\r\n\r\nuntil close";
    pg_send(&x.r, &x.c, 0, q, sizeof q - 1);
    pg_send(&x.r, &x.c, 1, a, sizeof a - 1);
    x.r.ts.tv_sec += 10;
    x.c.seq[0] += 7777777;
    x.c.seq[1] += 9999999;
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "flows"), 2);
    assert_int_equal(pg_nrecs(&x.r), 1);
    check_alice(pg_rec(&x.r, 0));
    check_frames(&x, pg_rec(&x.r, 0));
    x_free(&x);
}

/* A retransmitted SYN (same ISN) is the same connection. */
static void test_syn_retransmission_same_connection(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_seg(&x.r, &x.c, 0, x.c.seq[0], 0, TH_SYN, NULL, 0);
    pg_seg(&x.r, &x.c, 0, x.c.seq[0], 0, TH_SYN, NULL, 0);
    x.c.seq[0]++;
    pg_seg(&x.r, &x.c, 1, x.c.seq[1], x.c.seq[0], TH_SYN | TH_ACK, NULL, 0);
    x.c.seq[1]++;
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    /* a late copy of the SYN-ACK must not move the server side back to its start */
    pg_seg(&x.r, &x.c, 1, x.c.seq[1] - (uint32_t)x.m.resp1.len - 1, x.c.seq[0], TH_SYN | TH_ACK, NULL, 0);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "flows"), 1);
    assert_int_equal(pg_nrecs(&x.r), 1);
    check_alice(pg_rec(&x.r, 0));
    check_frames(&x, pg_rec(&x.r, 0));
    x_free(&x);
}

/* A RST or FINs far outside the stream (blind injection; the endpoints ignore them, RFC 5961) must not end
 * the dissection of the connection. */
static void test_rst_and_fin_outside_window_ignored(void **state)
{
    (void)state;
    for (int fin = 0; fin < 2; fin++) {
        struct xchg x;
        x_init(&x, NULL, BODY401);
        pg_handshake(&x.r, &x.c);
        if (fin) {
            pg_seg(&x.r, &x.c, 0, x.c.seq[0] + 0x40000000u, x.c.seq[1], TH_FIN | TH_ACK, NULL, 0);
            pg_seg(&x.r, &x.c, 1, x.c.seq[1] - 0x40000000u, x.c.seq[0], TH_FIN | TH_ACK, NULL, 0);
        } else {
            pg_seg(&x.r, &x.c, 0, x.c.seq[0] + 0x40000000u, 0, TH_RST, NULL, 0);
        }
        x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
        x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
        x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
        x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
        assert_int_equal(pg_count_auth_now(&x.r), 0); /* still open */
        pg_close(&x.r, &x.c, 0);
        pg_run_finish(&x.r);
        assert_int_equal(pg_nrecs(&x.r), 1);
        check_alice(pg_rec(&x.r, 0));
        check_frames(&x, pg_rec(&x.r, 0));
        x_free(&x);
    }
}

/* A RST a little behind the stream (sent for a connection its sender no longer knows, at what the peer last
 * acknowledged) still ends the connection. */
static void test_rst_behind_stream_accepted(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_seg(&x.r, &x.c, 0, x.c.seq[0] - 100, 0, TH_RST, NULL, 0);
    assert_int_equal(pg_count_auth_now(&x.r), 1);
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    check_alice(pg_rec(&x.r, 0));
    x_free(&x);
}

/* The server's FIN overtakes its last data segment in the capture: the connection ends after the data. */
static void test_fin_before_last_data(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    x.f_auth = pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_seg(&x.r, &x.c, 0, x.c.seq[0], x.c.seq[1], TH_FIN | TH_ACK, NULL, 0);
    x.c.seq[0]++;
    pg_seg(&x.r, &x.c, 1, x.c.seq[1] + (uint32_t)x.m.resp2.len, x.c.seq[0], TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(pg_count_auth_now(&x.r), 0);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    assert_int_equal(pg_count_auth_now(&x.r), 1); /* closed once the data before the FIN arrived */
    pg_run_finish(&x.r);
    assert_int_equal(pg_nrecs(&x.r), 1);
    check_alice(pg_rec(&x.r, 0));
    check_frames(&x, pg_rec(&x.r, 0));
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 0);
    x_free(&x);
}

/* The server's last data never reached the capture but its FIN did, and the client acknowledged both: the
 * missing bytes are a gap and the connection ends. */
static void test_fin_after_lost_data_acked(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_advance(&x.c, 1, x.m.resp2.len); /* resp2 lost */
    pg_seg(&x.r, &x.c, 1, x.c.seq[1], x.c.seq[0], TH_FIN | TH_ACK, NULL, 0);
    x.c.seq[1]++;
    pg_seg(&x.r, &x.c, 0, x.c.seq[0], x.c.seq[1], TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(pg_count_auth_now(&x.r), 1);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "tcp.gaps"), 1);
    assert_int_equal(pg_stat(&x.r, "tcp.gap_bytes"), (long long)x.m.resp2.len);
    assert_int_equal(pg_nrecs(&x.r), 1);
    assert_jstr(pg_rec(&x.r, 0), "result", "unknown");
    x_free(&x);
}

static void test_idle_expiry_and_eviction(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.idle_timeout = 60;
    lim.max_flows = 2;
    struct xchg x;
    x_init(&x, &lim, BODY401);
    /* connection A: complete exchange, left open */
    pg_handshake(&x.r, &x.c);
    pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    assert_int_equal(pg_count_auth_now(&x.r), 0);
    /* two minutes later connection B: A expires and its record is written */
    x.r.ts.tv_sec += 120;
    struct pg_conn b;
    pg_conn_init(&b, 50124, 5985);
    pg_handshake(&x.r, &b);
    assert_int_equal(pg_count_auth_now(&x.r), 1);
    pg_sendb(&x.r, &b, 0, &x.m.req1);
    /* C and D: the table holds two, so B (least recently seen) is evicted when D arrives */
    struct pg_conn c2, d2;
    pg_conn_init(&c2, 50125, 5985);
    pg_conn_init(&d2, 50126, 5985);
    pg_handshake(&x.r, &c2);
    pg_handshake(&x.r, &d2);
    assert_int_equal(pg_count_auth_now(&x.r), 2); /* B's record (NEGOTIATE only) */
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "flows"), 4);
    assert_int_equal(pg_stat(&x.r, "flows_expired"), 1);
    assert_int_equal(pg_stat(&x.r, "dropped.flows_evicted"), 1);
    assert_int_equal(pg_nrecs(&x.r), 2);
    check_alice(pg_rec(&x.r, 0));
    assert_jint(pg_rec(&x.r, 1), "client.port", 50124);
    assert_jstr(pg_rec(&x.r, 1), "result", "unknown");
    x_free(&x);
}

/* One connection stamped an hour ahead of the packets that follow must not block the expiry of the others
 * (expiry looked only at the head of the list, stamped in the future): on the engine clock, which stands
 * still when time steps back, 2,000 connections one second apart expire 60 s after they were seen. */
static void test_idle_expiry_survives_time_step_back(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.idle_timeout = 60;
    struct xchg x;
    x_init(&x, &lim, BODY401);
    time_t t0 = x.r.ts.tv_sec;
    x.r.ts.tv_sec = t0 + 3600;
    pg_handshake(&x.r, &x.c);
    for (int i = 0; i < 2000; i++) {
        x.r.ts.tv_sec = t0 + i;
        struct pg_conn b;
        pg_conn_init(&b, (uint16_t)(20000 + i), 5985);
        pg_handshake(&x.r, &b);
    }
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "time.steps_back"), 1);
    assert_int_equal(pg_stat(&x.r, "time.steps_forward"), 0);
    /* the first connection and those seen more than 60 s before the last packet */
    assert_int_equal(pg_stat(&x.r, "flows_expired"), 1 + 2000 - 61);
    x_free(&x);
}

/* A step forward longer than the idle timeout is counted, and expires what was idle across it. */
static void test_time_step_forward_counted_and_expires(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.idle_timeout = 60;
    struct xchg x;
    x_init(&x, &lim, BODY401);
    pg_handshake(&x.r, &x.c);
    x.r.ts.tv_sec += 61;
    struct pg_conn b;
    pg_conn_init(&b, 20000, 5985);
    pg_handshake(&x.r, &b);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "time.steps_forward"), 1);
    assert_int_equal(pg_stat(&x.r, "time.steps_back"), 0);
    assert_int_equal(pg_stat(&x.r, "flows_expired"), 1);
    x_free(&x);
}

/* Connections expired so far (the engine's counter, before the closing stats). */
static uint64_t pg_stat_now_expired(struct pg_run *r)
{
    return r->e.st.flows_expired;
}

static int64_t ts_us(const struct timeval *t)
{
    return (int64_t)t->tv_sec * 1000000 + t->tv_usec;
}

/* A live capture's idle link: with no packet, engine_idle() moves the clock on and the session that never
 * closed expires then, its record written while the run goes on. */
static void test_engine_idle_expires_without_packets(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.idle_timeout = 60;
    struct xchg x;
    x_init(&x, &lim, BODY401);
    pg_handshake(&x.r, &x.c);
    pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    int64_t last = ts_us(&x.r.ts);
    engine_idle(&x.r.e, last + 59 * 1000000LL);
    assert_int_equal(pg_count_auth_now(&x.r), 0);
    engine_idle(&x.r.e, last + 61 * 1000000LL);
    assert_int_equal(pg_count_auth_now(&x.r), 1); /* written at expiry, not at the end of the run */
    int64_t now;
    assert_true(engine_now(&x.r.e, &now));
    assert_true(now == last + 61 * 1000000LL);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "flows_expired"), 1);
    assert_int_equal(pg_stat(&x.r, "time.steps_back"), 0);
    assert_int_equal(pg_stat(&x.r, "time.steps_forward"), 0);
    check_alice(pg_rec(&x.r, 0));
    x_free(&x);
}

/* engine_idle() never moves the clock back, and time it already counted is not counted again by the next
 * packet: 40 s idle then a packet stamped 30 s after the last leaves the clock at +40 s, so a connection
 * expires 60 s after its last packet by the engine clock, not later. */
static void test_engine_idle_time_counted_once(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.idle_timeout = 60;
    struct xchg x;
    x_init(&x, &lim, BODY401);
    pg_handshake(&x.r, &x.c); /* A, idle from now */
    int64_t t0 = ts_us(&x.r.ts);
    engine_idle(&x.r.e, t0 + 40 * 1000000LL);
    engine_idle(&x.r.e, t0 + 10 * 1000000LL); /* back: nothing */
    int64_t now;
    assert_true(engine_now(&x.r.e, &now) && now == t0 + 40 * 1000000LL);
    x.r.ts.tv_sec += 30; /* a packet stamped +30 s (it waited in the kernel buffer): the clock stays at +40 */
    struct pg_conn b;
    pg_conn_init(&b, 20000, 5985);
    pg_handshake(&x.r, &b);
    assert_int_equal(pg_stat_now_expired(&x.r), 0);
    engine_idle(&x.r.e, t0 + 61 * 1000000LL); /* A: 61 s idle; B: 31 s */
    assert_int_equal(pg_stat_now_expired(&x.r), 1);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "time.steps_back"), 0);
    assert_int_equal(pg_stat(&x.r, "flows_expired"), 1);
    x_free(&x);
}

/* Before any packet there is no time to move: engine_idle() does nothing. */
static void test_engine_idle_before_any_packet(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    int64_t now = 7;
    engine_idle(&x.r.e, 1000000);
    assert_false(engine_now(&x.r.e, &now));
    assert_true(now == 7);
    pg_handshake(&x.r, &x.c);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "flows_expired"), 0);
    x_free(&x);
}

/* A closed connection stays ENGINE_CLOSED_LINGER seconds (its last ACK and late retransmissions are its own,
 * not a new flow), then leaves the table though the idle timeout is far off. */
static void test_closed_connection_leaves_after_linger(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim); /* idle timeout 600 s */
    struct xchg x;
    x_init(&x, &lim, BODY401);
    pg_handshake(&x.r, &x.c);
    pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    assert_int_equal(x.r.e.n_closed, 1);
    assert_int_equal(x.r.e.flows.n, 1);
    x.r.ts.tv_sec += 10; /* a late retransmitted FIN: still the same connection */
    pg_seg(&x.r, &x.c, 0, x.c.seq[0] - 1, x.c.seq[1], TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(x.r.e.flows.n, 1);
    x.r.ts.tv_sec += ENGINE_CLOSED_LINGER; /* past the linger: the next packet of anyone lets it go */
    struct pg_conn b;
    pg_conn_init(&b, 50124, 5985);
    pg_handshake(&x.r, &b);
    assert_int_equal(x.r.e.flows.n, 1);
    assert_int_equal(x.r.e.n_closed, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "flows"), 2);
    assert_int_equal(pg_stat(&x.r, "flows_expired"), 0); /* not an idle expiry */
    assert_int_equal(pg_nrecs(&x.r), 1);
    check_alice(pg_rec(&x.r, 0));
    x_free(&x);
}

/* However fast connections close, at most ENGINE_CLOSED_MAX closed ones are held. */
static void test_closed_connections_are_bounded(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    struct xchg x;
    x_init(&x, &lim, BODY401);
    for (uint32_t i = 0; i < ENGINE_CLOSED_MAX + 500; i++) {
        struct pg_conn b;
        pg_conn_init(&b, (uint16_t)(10000 + i), 5985);
        pg_handshake(&x.r, &b);
        pg_close(&x.r, &b, 0);
        assert_true(x.r.e.n_closed <= ENGINE_CLOSED_MAX + 1);
    }
    assert_true(x.r.e.flows.n <= ENGINE_CLOSED_MAX + 1);
    /* all within the linger: each one beyond the cap is forgotten early, and counted (in stats `capped`) */
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "flows"), ENGINE_CLOSED_MAX + 500);
    assert_int_equal(pg_stat(&x.r, "capped.closed_flows_forgotten"), 500);
    x_free(&x);
}

/* The memory budget: connections beyond it evict the least recently seen, counted, and what is held
 * never passes it; a SYN-only connection holds only its hs_conn. */
static void test_memory_budget_evicts_least_recently_seen(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.max_memory = 100 * ENGINE_CONN_COST;
    struct xchg x;
    x_init(&x, &lim, BODY401);
    for (int i = 0; i < 1000; i++) {
        struct pg_conn b;
        pg_conn_init(&b, (uint16_t)(20000 + i), 5985);
        pg_seg(&x.r, &b, 0, b.seq[0], 0, TH_SYN, NULL, 0);
        assert_true(engine_memory(&x.r.e) <= lim.max_memory + ENGINE_CONN_COST);
    }
    assert_int_equal(engine_memory(&x.r.e), x.r.e.flows.n * ENGINE_CONN_COST);
    /* a whole exchange still goes through: its connection is the most recently seen */
    pg_handshake(&x.r, &x.c);
    pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    pg_sendb(&x.r, &x.c, 0, &x.m.req2);
    pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "flows"), 1001);
    assert_true(pg_stat(&x.r, "dropped.flows_evicted_memory") >= 900);
    assert_int_equal(pg_nrecs(&x.r), 1);
    check_alice(pg_rec(&x.r, 0));
    x_free(&x);
}

/* The AUTHENTICATE's first 100 bytes arrive, are delivered and held (the header block is incomplete); a
 * retransmission of them with other content is a conflict, not an overlap, and the first copy stands. An
 * identical retransmission stays a retransmission. */
static void test_retransmission_differing_from_delivered_is_conflict(void **state)
{
    (void)state;
    struct xchg x;
    x_init(&x, NULL, BODY401);
    pg_handshake(&x.r, &x.c);
    x.f_neg = pg_sendb(&x.r, &x.c, 0, &x.m.req1);
    x.f_chal = pg_sendb(&x.r, &x.c, 1, &x.m.resp1);
    size_t n = x.m.req2.len;
    x.f_auth = pg_send_at(&x.r, &x.c, 0, 0, x.m.req2.p, 100);
    pg_send_at(&x.r, &x.c, 0, 0, x.m.req2.p, 100); /* the same again */
    struct pg_buf forged = pg_copy(x.m.req2.p, 120);
    memcpy(forged.p + 5, "/evil", 5);
    pg_send_at(&x.r, &x.c, 0, 0, forged.p, 120); /* 100 delivered bytes differ, 20 new */
    pg_free(&forged);
    x.f_auth = pg_send_at(&x.r, &x.c, 0, 120, x.m.req2.p + 120, n - 120);
    pg_advance(&x.c, 0, n);
    x.f_verdict = pg_sendb(&x.r, &x.c, 1, &x.m.resp2);
    pg_close(&x.r, &x.c, 0);
    pg_run_finish(&x.r);
    assert_int_equal(pg_stat(&x.r, "tcp.retransmitted"), 1);
    assert_int_equal(pg_stat(&x.r, "tcp.conflicts"), 1);
    assert_int_equal(pg_stat(&x.r, "tcp.overlaps"), 0);
    assert_int_equal(pg_nrecs(&x.r), 1);
    json_t *rec = pg_rec(&x.r, 0);
    check_alice(rec);
    x_free(&x);
}

/* ------------------------------------------------------------------------------------------ */
/* The out-of-order queue itself, driven through reasm_segment() with callbacks that record what  */
/* is delivered.                                                                                  */

struct q_run {
    struct hs_limits lim;
    struct hs_stats st;
    uint64_t total;
    bool dissecting;
    struct reasm_io io;
    struct tcp_half h[2];
    uint8_t *out;          /* direction 0's bytes as delivered, gaps as 0xEE */
    size_t out_len, out_cap;
    uint64_t gap_bytes;
};

static void q_data(void *arg, int dir, const uint8_t *p, size_t n, uint64_t frame)
{
    struct q_run *q = arg;
    (void)frame;
    if (dir)
        return;
    if (q->out_len + n > q->out_cap) {
        q->out_cap = (q->out_len + n) * 2;
        q->out = realloc(q->out, q->out_cap);
        assert_non_null(q->out);
    }
    memcpy(q->out + q->out_len, p, n);
    q->out_len += n;
}

static void q_gap(void *arg, int dir, uint64_t n)
{
    struct q_run *q = arg;
    if (dir == 0)
        q->gap_bytes += n;
}

static void q_pickup(void *arg, int dir)
{
    (void)arg;
    (void)dir;
}

/* A connection whose direction 0 starts at sequence number isn (its SYN seen); big caps unless lim. */
static void q_init(struct q_run *q, uint32_t isn, uint32_t max_ooo)
{
    memset(q, 0, sizeof *q);
    hs_limits_default(&q->lim);
    q->lim.max_ooo_bytes = max_ooo;
    q->lim.max_ooo_total = 1ull << 32;
    q->dissecting = true;
    q->io = (struct reasm_io){&q->lim, &q->st, &q->total, 0x5eed, 1, q, &q->dissecting, q_data, q_gap, q_pickup, NULL};
    struct hs_pkt syn = {.seq = isn - 1, .tcp_flags = TH_SYN};
    reasm_segment(q->h, 0, &syn, &q->io);
}

static void q_send(struct q_run *q, uint32_t seq, const uint8_t *p, uint32_t n)
{
    struct hs_pkt pk = {.seq = seq, .tcp_flags = TH_PSH, .payload = p, .paylen = n};
    q->io.frame++;
    reasm_segment(q->h, 0, &pk, &q->io);
}

static void q_free(struct q_run *q)
{
    reasm_flush(q->h, 0, &q->io);
    assert_null(q->h[0].ooo);
    assert_int_equal(q->h[0].ooo_bytes, 0);
    assert_int_equal(q->total, 0); /* every queued segment was given back */
    free(q->out);
}

static uint32_t q_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Segments of 1..40 bytes, each sent two or three times (some overlapping their neighbours), in random
 * order behind a hole that is filled last: the stream comes out whole, across a sequence wrap. */
static void test_ooo_random_order_with_overlaps_delivers_stream(void **state)
{
    (void)state;
    enum { LEN = 60000 };
    uint8_t *data = malloc(LEN);
    assert_non_null(data);
    uint32_t rng = 12345;
    for (size_t i = 0; i < LEN; i++)
        data[i] = (uint8_t)q_rand(&rng);
    struct { uint32_t off, len; } *seg = malloc(3 * LEN * sizeof *seg);
    assert_non_null(seg);
    size_t ns = 0;
    for (uint32_t off = 1; off < LEN;) {
        uint32_t len = 1 + q_rand(&rng) % 40;
        if (off + len > LEN)
            len = LEN - off;
        seg[ns].off = off, seg[ns++].len = len;
        uint32_t o2 = off > 10 ? off - q_rand(&rng) % 10 : off; /* an overlapping copy */
        seg[ns].off = o2, seg[ns++].len = len + (off - o2) < LEN - o2 ? len + (off - o2) : LEN - o2;
        off += len;
    }
    for (size_t i = ns - 1; i > 0; i--) { /* shuffle */
        size_t j = q_rand(&rng) % (i + 1);
        __typeof__(*seg) t = seg[i];
        seg[i] = seg[j];
        seg[j] = t;
    }
    struct q_run q;
    uint32_t isn = 0xFFFFF000u; /* the stream wraps the sequence space */
    q_init(&q, isn, 64u << 20);
    for (size_t i = 0; i < ns; i++)
        q_send(&q, isn + seg[i].off, data + seg[i].off, seg[i].len);
    assert_int_equal(q.out_len, 0);
    assert_int_equal(q.st.tcp_conflicts, 0);
    assert_true(q.st.tcp_overlaps > 0);
    q_send(&q, isn, data, 1); /* the hole */
    assert_int_equal(q.out_len, LEN);
    assert_memory_equal(q.out, data, LEN);
    assert_int_equal(q.gap_bytes, 0);
    assert_null(q.h[0].ooo);
    q_free(&q);
    free(seg);
    free(data);
}

/* 200,000 one-byte segments behind a hole, ascending, descending and alternating ends: the sorted list
 * this replaced took 50 s for the ascending order; the queue must take well under a second or two. */
static void test_ooo_200k_segments_any_order_fast(void **state)
{
    (void)state;
    enum { N = 200000 };
    for (int order = 0; order < 3; order++) {
        struct q_run q;
        q_init(&q, 1000, 1u << 30);
        uint8_t b = 'x';
        double t0 = now_s();
        for (uint32_t i = 0; i < N; i++) {
            uint32_t k = order == 0 ? i : order == 1 ? N - 1 - i : (i & 1 ? N - 1 - i / 2 : i / 2);
            q_send(&q, 1001 + 2 * k, &b, 1); /* every other byte: nothing merges */
        }
        double dt = now_s() - t0;
        assert_int_equal(q.st.tcp_out_of_order, N);
        assert_int_equal(q.st.ooo_dropped_bytes, 0);
        assert_int_equal(q.h[0].ooo_bytes, N * (1 + OOO_SEG_OVERHEAD));
        reasm_flush(q.h, 0, &q.io);
        assert_int_equal(q.out_len, N);
        assert_int_equal(q.gap_bytes, N);
        print_message("order %d: %d segments queued in %.3f s\n", order, N, dt);
        assert_true(dt < 5.0);
        q_free(&q);
    }
}

/* The per-direction cap counts each segment's overhead: one-byte segments cannot hold more memory than the
 * cap, and what does not fit is counted and becomes a gap. */
static void test_ooo_cap_counts_segment_overhead(void **state)
{
    (void)state;
    struct q_run q;
    q_init(&q, 1000, 100 * (1 + OOO_SEG_OVERHEAD));
    uint8_t b = 'y';
    for (uint32_t i = 0; i < 100; i++)
        q_send(&q, 1002 + 2 * i, &b, 1);
    assert_int_equal(q.st.ooo_dropped_bytes, 0);
    assert_int_equal(q.h[0].ooo_bytes, 100 * (1 + OOO_SEG_OVERHEAD));
    q_send(&q, 1002 + 2 * 100, &b, 1); /* one more does not fit: the hole is given up */
    assert_int_equal(q.st.ooo_dropped_bytes, 1);
    assert_true(q.st.tcp_gaps >= 1);
    assert_true(q.h[0].ooo_bytes < 100 * (1 + OOO_SEG_OVERHEAD));
    q_free(&q);
}

/* A segment exactly 2^31 behind the next byte expected is an old retransmission (and, under UBSan, no
 * signed overflow); one whose end would pass 2^31 ahead is clipped
 * (the rest counted as dropped). */
static void test_segment_2pow31_behind_or_ahead(void **state)
{
    (void)state;
    struct q_run q;
    q_init(&q, 0x80000010u, 1u << 20);
    uint8_t d[8] = "abcdefgh";
    q_send(&q, 0x80000010u, d, 4);
    q_send(&q, 0x80000014u - 0x80000000u, d, 4); /* exactly 2^31 behind */
    assert_int_equal(q.st.tcp_retransmitted, 1);
    assert_int_equal(q.out_len, 4);
    q_send(&q, 0x80000014u + 0x7FFFFFFCu, d, 8); /* starts 2^31 - 4 ahead: 3 bytes fit */
    assert_int_equal(q.st.tcp_out_of_order, 1);
    assert_int_equal(q.st.ooo_dropped_bytes, 5);
    /* what was dropped means the hole is given up: the 3 bytes follow a gap */
    assert_int_equal(q.gap_bytes, 0x7FFFFFFCu);
    assert_int_equal(q.out_len, 7);
    assert_memory_equal(q.out + 4, "abc", 3);
    q_free(&q);
}

/* Queued bytes that the in-order packet filling the hole also carries, differently: a conflict (the
 * delivered copy stands); the same bytes: an overlap. */
static void test_queued_bytes_differing_from_delivered_are_conflict(void **state)
{
    (void)state;
    struct q_run q;
    q_init(&q, 100, 1u << 20);
    q_send(&q, 104, (const uint8_t *)"EFGH", 4);
    q_send(&q, 100, (const uint8_t *)"ABCDxx", 6); /* covers two queued bytes, differently */
    assert_int_equal(q.st.tcp_conflicts, 1);
    assert_int_equal(q.st.tcp_overlaps, 0);
    assert_int_equal(q.out_len, 8);
    assert_memory_equal(q.out, "ABCDxxGH", 8);
    q_send(&q, 110, (const uint8_t *)"KL", 2);
    q_send(&q, 108, (const uint8_t *)"IJK", 3); /* same byte as queued */
    assert_int_equal(q.st.tcp_conflicts, 1);
    assert_int_equal(q.st.tcp_overlaps, 1);
    assert_int_equal(q.out_len, 12);
    q_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_split_inside_header_name),
        cmocka_unit_test(test_split_inside_token),
        cmocka_unit_test(test_one_byte_segments),
        cmocka_unit_test(test_one_byte_segments_after_first),
        cmocka_unit_test(test_request_line_in_own_segment),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_retransmissions),
        cmocka_unit_test(test_conflicting_retransmission_first_copy_wins),
        cmocka_unit_test(test_conflicting_retransmission_forged_first),
        cmocka_unit_test(test_gap_in_401_body),
        cmocka_unit_test(test_gap_in_authenticate),
        cmocka_unit_test(test_midstream_pickup_line_aligned),
        cmocka_unit_test(test_midstream_pickup_body_without_newline),
        cmocka_unit_test(test_midstream_same_segment),
        cmocka_unit_test(test_fin_emits_record),
        cmocka_unit_test(test_rst_emits_record),
        cmocka_unit_test(test_data_with_fin),
        cmocka_unit_test(test_port_reuse_new_connection),
        cmocka_unit_test(test_port_reuse_without_close),
        cmocka_unit_test(test_syn_retransmission_same_connection),
        cmocka_unit_test(test_rst_and_fin_outside_window_ignored),
        cmocka_unit_test(test_rst_behind_stream_accepted),
        cmocka_unit_test(test_fin_before_last_data),
        cmocka_unit_test(test_fin_after_lost_data_acked),
        cmocka_unit_test(test_idle_expiry_and_eviction),
        cmocka_unit_test(test_idle_expiry_survives_time_step_back),
        cmocka_unit_test(test_time_step_forward_counted_and_expires),
        cmocka_unit_test(test_engine_idle_expires_without_packets),
        cmocka_unit_test(test_engine_idle_time_counted_once),
        cmocka_unit_test(test_engine_idle_before_any_packet),
        cmocka_unit_test(test_closed_connection_leaves_after_linger),
        cmocka_unit_test(test_closed_connections_are_bounded),
        cmocka_unit_test(test_memory_budget_evicts_least_recently_seen),
        cmocka_unit_test(test_retransmission_differing_from_delivered_is_conflict),
        cmocka_unit_test(test_close_delivers_queued_data),
        cmocka_unit_test(test_sequence_wraparound),
        cmocka_unit_test(test_ooo_cap),
        cmocka_unit_test(test_ooo_random_order_with_overlaps_delivers_stream),
        cmocka_unit_test(test_ooo_200k_segments_any_order_fast),
        cmocka_unit_test(test_ooo_cap_counts_segment_overhead),
        cmocka_unit_test(test_segment_2pow31_behind_or_ahead),
        cmocka_unit_test(test_queued_bytes_differing_from_delivered_are_conflict),
    };
    pg_apply_filters();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
