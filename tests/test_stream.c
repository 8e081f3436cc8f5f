/*
 * Unit tests for the stream object (src/engine/stream.c): PDU buffering across deliveries, the per-PDU
 * and shared caps, skips and their completion callback, gaps and resynchronisation, dead streams.
 *
 * A toy protocol drives it, a message being
 *
 *   +------+--------+--------+----------------+
 *   | kind | len_hi | len_lo | body (len)     |
 *   +------+--------+--------+----------------+
 *
 * with kind 0xA5 (the parser needs the whole message and records it) or 0xA6 (the parser takes the header
 * and asks the stream to skip the body, with a skip_done callback). A kind byte is what a resynchronising
 * parser hunts for; test bodies never contain one. Any other byte where a message should start makes the
 * parser resynchronise, except 0xDD, which makes it give up on the direction (s->dead).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dissector.h"
#include "stream.h"

#define K_MSG 0xA5
#define K_SKIP 0xA6
#define K_DEAD 0xDD

#define MSGS_MAX 32
#define BODY_MAX 128

struct toy_msg {
    uint8_t kind;
    uint16_t len;
    uint8_t body[BODY_MAX]; /* K_MSG only */
    uint64_t frame;
};

struct toy {
    struct toy_msg msgs[MSGS_MAX];
    int nmsgs;
    int calls;           /* parse calls */
    int resync_calls;    /* parse calls made with s->resync set */
    int skip_done_calls;
    uint64_t skip_done_frame;
    int skip_done_dir;
};

static void toy_skip_done(struct hs_ctx *ctx, void *state, int dir)
{
    struct toy *t = state;
    t->skip_done_calls++;
    t->skip_done_frame = ctx->frame;
    t->skip_done_dir = dir;
}

static bool is_kind(uint8_t b)
{
    return b == K_MSG || b == K_SKIP;
}

static size_t toy_parse(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n, struct hs_stream *s)
{
    (void)dir;
    struct toy *t = state;
    size_t used = 0;
    t->calls++;
    if (s->resync) {
        t->resync_calls++;
        while (used < n && !is_kind(p[used]))
            used++;
        if (used == n)
            return n; /* nothing to hunt for here */
        s->resync = false;
    }
    while (n - used >= 3) {
        const uint8_t *m = p + used;
        if (m[0] == K_DEAD) {
            s->dead = true;
            return used + 1;
        }
        if (!is_kind(m[0])) {
            s->resync = true;
            return used + 1;
        }
        uint16_t len = (uint16_t)(m[1] << 8 | m[2]);
        assert_true(t->nmsgs < MSGS_MAX);
        if (m[0] == K_SKIP) {
            struct toy_msg *r = &t->msgs[t->nmsgs++];
            r->kind = K_SKIP;
            r->len = len;
            r->frame = ctx->frame;
            s->skip = len;
            s->skip_done = toy_skip_done;
            return used + 3; /* the stream runs the skip */
        }
        if (n - used - 3 < len)
            break; /* incomplete: called again with more from here */
        struct toy_msg *r = &t->msgs[t->nmsgs++];
        r->kind = K_MSG;
        r->len = len;
        memcpy(r->body, m + 3, len < BODY_MAX ? len : BODY_MAX);
        r->frame = ctx->frame;
        used += 3 + (size_t)len;
    }
    return used;
}

/* ---- fixture ----------------------------------------------------------------------------------- */

struct fx {
    struct hs_limits lim;
    struct hs_stats st;
    struct stream_budget budget;
    struct hs_ctx ctx;
    struct hs_stream s;
    struct toy toy;
};

static int fx_setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    hs_limits_default(&x->lim);
    x->lim.max_pdu = 64;
    x->lim.max_pdu_total = 1 << 20;
    x->ctx.lim = &x->lim;
    x->ctx.st = &x->st;
    x->ctx.budget = &x->budget;
    x->ctx.frame = 1;
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *x = *state;
    stream_release(&x->s, &x->ctx);
    assert_int_equal(x->budget.held, 0);
    free(x);
    return 0;
}

/* Delivers n bytes of direction 0 in frame `frame`. */
static void feed(struct fx *x, uint64_t frame, const uint8_t *p, size_t n)
{
    x->ctx.frame = frame;
    stream_feed(&x->s, &x->ctx, toy_parse, &x->toy, 0, p, n);
}

/* A K_MSG message with body "abc..." of len bytes into out; returns its size. */
static size_t mk_msg(uint8_t *out, uint16_t len)
{
    out[0] = K_MSG;
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)len;
    for (uint16_t i = 0; i < len; i++)
        out[3 + i] = (uint8_t)('a' + i % 26);
    return 3 + (size_t)len;
}

static void assert_msg(const struct toy_msg *m, uint16_t len, uint64_t frame)
{
    assert_int_equal(m->kind, K_MSG);
    assert_int_equal(m->len, len);
    assert_int_equal(m->frame, frame);
    for (uint16_t i = 0; i < len && i < BODY_MAX; i++)
        assert_int_equal(m->body[i], 'a' + i % 26);
}

/* ---- buffering --------------------------------------------------------------------------------- */

static void test_stream_message_split_2_3_1_seen_once_whole(void **state)
{
    struct fx *x = *state;
    uint8_t m[16];
    size_t n = mk_msg(m, 3); /* 6 bytes */
    assert_int_equal(n, 6);
    feed(x, 1, m, 2);
    assert_int_equal(x->toy.nmsgs, 0);
    assert_int_equal(x->s.len, 2);
    feed(x, 2, m + 2, 3);
    assert_int_equal(x->toy.nmsgs, 0);
    assert_int_equal(x->s.len, 5);
    feed(x, 3, m + 5, 1);
    assert_int_equal(x->toy.nmsgs, 1);
    assert_msg(&x->toy.msgs[0], 3, 3); /* numbered by the frame that completed it */
    assert_int_equal(x->s.len, 0);
    assert_false(x->s.resync);
}

static void test_stream_several_messages_in_one_delivery(void **state)
{
    struct fx *x = *state;
    uint8_t buf[64];
    size_t n = mk_msg(buf, 4);
    n += mk_msg(buf + n, 0);
    n += mk_msg(buf + n, 10);
    feed(x, 5, buf, n);
    assert_int_equal(x->toy.nmsgs, 3);
    assert_msg(&x->toy.msgs[0], 4, 5);
    assert_msg(&x->toy.msgs[1], 0, 5);
    assert_msg(&x->toy.msgs[2], 10, 5);
    /* Parsed straight from the delivery: nothing was buffered. */
    assert_null(x->s.buf);
    assert_int_equal(x->budget.held, 0);
}

static void test_stream_complete_then_partial_in_one_delivery(void **state)
{
    struct fx *x = *state;
    uint8_t buf[64];
    size_t a = mk_msg(buf, 5);
    size_t b = mk_msg(buf + a, 7);
    feed(x, 1, buf, a + 4); /* the first message and 4 bytes of the second */
    assert_int_equal(x->toy.nmsgs, 1);
    assert_int_equal(x->s.len, 4);
    feed(x, 2, buf + a + 4, b - 4);
    assert_int_equal(x->toy.nmsgs, 2);
    assert_msg(&x->toy.msgs[0], 5, 1);
    assert_msg(&x->toy.msgs[1], 7, 2);
}

static void test_stream_buffer_released_once_pdu_completes(void **state)
{
    struct fx *x = *state;
    uint8_t buf[64];
    size_t n = mk_msg(buf, 20);
    size_t m = mk_msg(buf + n, 2);
    feed(x, 1, buf, 10);
    assert_non_null(x->s.buf);
    assert_int_equal(x->s.len, 10);
    assert_int_equal(x->budget.held, x->s.cap);
    assert_true(x->s.cap >= 10 && x->s.cap <= x->lim.max_pdu);
    /* The rest of the first message and a whole second one: both parsed, the buffer given back. */
    feed(x, 2, buf + 10, n - 10 + m);
    assert_int_equal(x->toy.nmsgs, 2);
    assert_msg(&x->toy.msgs[0], 20, 2);
    assert_msg(&x->toy.msgs[1], 2, 2);
    assert_null(x->s.buf);
    assert_int_equal(x->s.len, 0);
    assert_int_equal(x->s.cap, 0);
    assert_int_equal(x->budget.held, 0);
}

static void test_stream_pdu_over_max_counted_and_resynchronised(void **state)
{
    struct fx *x = *state;
    uint8_t big[3 + 100];
    size_t bn = mk_msg(big, 100); /* 103 bytes; max_pdu is 64 */
    for (size_t i = 3; i < bn; i++)
        big[i] = 'x'; /* no kind byte in it, so the hunt passes over it */
    feed(x, 1, big, 40);
    assert_int_equal(x->st.pdu_oversize, 0);
    feed(x, 2, big + 40, 30); /* 70 bytes of one PDU: over the cap */
    assert_int_equal(x->st.pdu_oversize, 1);
    assert_true(x->s.resync);
    assert_null(x->s.buf);
    assert_int_equal(x->budget.held, 0);
    assert_int_equal(x->toy.nmsgs, 0);
    /* The rest of the oversized PDU, then a good message: found again by the hunt. */
    uint8_t tail[64];
    memcpy(tail, big + 70, bn - 70);
    size_t tn = bn - 70 + mk_msg(tail + bn - 70, 3);
    feed(x, 3, tail, tn);
    assert_int_equal(x->toy.nmsgs, 1);
    assert_msg(&x->toy.msgs[0], 3, 3);
    assert_false(x->s.resync);
    assert_true(x->toy.resync_calls >= 1);
    assert_int_equal(x->st.pdu_oversize, 1);
}

static void test_stream_incomplete_pdu_over_max_in_one_delivery_counted(void **state)
{
    struct fx *x = *state;
    uint8_t big[3 + 200];
    size_t bn = mk_msg(big, 200);
    for (size_t i = 3; i < bn; i++)
        big[i] = 'x';
    feed(x, 1, big, 100); /* incomplete, and more than max_pdu to keep */
    assert_int_equal(x->st.pdu_oversize, 1);
    assert_true(x->s.resync);
    assert_null(x->s.buf);
    assert_int_equal(x->budget.held, 0);
    /* A PDU over the cap that arrives whole in one delivery needs no buffer: it is parsed. */
    feed(x, 2, big, bn);
    assert_int_equal(x->toy.nmsgs, 1);
    assert_int_equal(x->toy.msgs[0].len, 200);
    assert_int_equal(x->st.pdu_oversize, 1);
}

static void test_stream_shared_budget_refuses_growth(void **state)
{
    struct fx *x = *state;
    x->lim.max_pdu_total = 100; /* room for one 64-byte buffer, not two */
    struct hs_stream other;
    memset(&other, 0, sizeof other);
    struct toy t2;
    memset(&t2, 0, sizeof t2);
    uint8_t a[16], b[16];
    size_t an = mk_msg(a, 6), bn = mk_msg(b, 6);
    feed(x, 1, a, 4);
    assert_non_null(x->s.buf);
    assert_int_equal(x->budget.held, 64);
    stream_feed(&other, &x->ctx, toy_parse, &t2, 1, b, 4);
    assert_null(other.buf); /* refused: the two together would pass max_pdu_total */
    assert_int_equal(x->budget.held, 64);
    assert_int_equal(x->st.pdu_oversize, 1);
    assert_true(other.resync);
    assert_false(stream_append(&other, &x->ctx, b, 4));
    /* Once the first stream's PDU completes its buffer is given back, and the other may buffer. */
    feed(x, 2, a + 4, an - 4);
    assert_int_equal(x->toy.nmsgs, 1);
    assert_int_equal(x->budget.held, 0);
    stream_feed(&other, &x->ctx, toy_parse, &t2, 1, b, 4);
    assert_non_null(other.buf);
    assert_int_equal(other.len, 4);
    assert_int_equal(x->budget.held, 64);
    stream_feed(&other, &x->ctx, toy_parse, &t2, 1, b + 4, bn - 4);
    assert_int_equal(t2.nmsgs, 1);
    assert_msg(&t2.msgs[0], 6, 2);
    assert_int_equal(x->budget.held, 0);
}

static void test_stream_append_respects_max_pdu(void **state)
{
    struct fx *x = *state;
    uint8_t junk[65];
    memset(junk, 'x', sizeof junk);
    assert_false(stream_append(&x->s, &x->ctx, junk, 65));
    assert_int_equal(x->s.len, 0);
    assert_true(stream_append(&x->s, &x->ctx, junk, 60));
    assert_true(stream_append(&x->s, &x->ctx, junk, 4));
    assert_int_equal(x->s.len, 64);
    assert_false(stream_append(&x->s, &x->ctx, junk, 1)); /* nothing appended at the cap */
    assert_int_equal(x->s.len, 64);
    assert_int_equal(x->budget.held, 64);
    stream_release(&x->s, &x->ctx);
    assert_int_equal(x->budget.held, 0);
    assert_null(x->s.buf);
}

/* ---- skips ----------------------------------------------------------------------------------------- */

static void test_stream_skip_across_deliveries_done_once_where_it_ends(void **state)
{
    struct fx *x = *state;
    uint8_t buf[64];
    size_t n = 0;
    buf[n++] = K_SKIP, buf[n++] = 0, buf[n++] = 10;
    memset(buf + n, K_MSG, 10); /* a body that would parse as messages, were it not skipped */
    n += 10;
    n += mk_msg(buf + n, 2);
    feed(x, 1, buf, 3 + 3); /* header and 3 bytes of body */
    assert_int_equal(x->toy.nmsgs, 1);
    assert_int_equal(x->s.skip, 7);
    assert_int_equal(x->toy.skip_done_calls, 0);
    feed(x, 2, buf + 6, 4);
    assert_int_equal(x->s.skip, 3);
    assert_int_equal(x->toy.skip_done_calls, 0);
    feed(x, 3, buf + 10, n - 10); /* the last 3 body bytes and a message */
    assert_int_equal(x->s.skip, 0);
    assert_int_equal(x->toy.skip_done_calls, 1);
    assert_int_equal(x->toy.skip_done_frame, 3);
    assert_int_equal(x->toy.skip_done_dir, 0);
    assert_null(x->s.skip_done);
    assert_int_equal(x->toy.nmsgs, 2);
    assert_int_equal(x->toy.msgs[0].kind, K_SKIP);
    assert_msg(&x->toy.msgs[1], 2, 3);
    feed(x, 4, buf + 13, 5); /* another message: skip_done is not called again */
    assert_int_equal(x->toy.skip_done_calls, 1);
    assert_int_equal(x->toy.nmsgs, 3);
}

static void test_stream_skip_ending_with_delivery_done_in_that_delivery(void **state)
{
    struct fx *x = *state;
    uint8_t buf[16] = {K_SKIP, 0, 5, 'x', 'x', 'x', 'x', 'x'};
    feed(x, 1, buf, 8);
    assert_int_equal(x->toy.skip_done_calls, 1);
    assert_int_equal(x->toy.skip_done_frame, 1);
    assert_int_equal(x->s.skip, 0);
}

static void test_stream_skip_set_from_buffered_header(void **state)
{
    struct fx *x = *state;
    uint8_t buf[32] = {K_SKIP, 0, 6, 'x', 'x', 'x', 'x', 'x', 'x'};
    size_t n = 9 + mk_msg(buf + 9, 1);
    feed(x, 1, buf, 1); /* the header straddles deliveries: buffered */
    assert_int_equal(x->s.len, 1);
    feed(x, 2, buf + 1, 4); /* rest of the header, 2 body bytes: skipped out of the buffer */
    assert_int_equal(x->s.skip, 4);
    assert_int_equal(x->s.len, 0);
    assert_null(x->s.buf);
    assert_int_equal(x->toy.skip_done_calls, 0);
    feed(x, 3, buf + 5, n - 5);
    assert_int_equal(x->toy.skip_done_calls, 1);
    assert_int_equal(x->toy.skip_done_frame, 3);
    assert_int_equal(x->toy.nmsgs, 2);
    assert_msg(&x->toy.msgs[1], 1, 3);
}

/* ---- gaps ------------------------------------------------------------------------------------------ */

static void test_stream_gap_inside_skip_absorbed(void **state)
{
    struct fx *x = *state;
    uint8_t buf[32] = {K_SKIP, 0, 10, 'x', 'x'};
    feed(x, 1, buf, 5);
    assert_int_equal(x->s.skip, 8);
    x->ctx.frame = 2;
    stream_gap(&x->s, &x->ctx, &x->toy, 0, 5);
    assert_int_equal(x->s.skip, 3);
    assert_false(x->s.resync);
    assert_int_equal(x->toy.skip_done_calls, 0);
    /* A gap that ends exactly where the skip does completes it. */
    x->ctx.frame = 3;
    stream_gap(&x->s, &x->ctx, &x->toy, 0, 3);
    assert_int_equal(x->s.skip, 0);
    assert_false(x->s.resync);
    assert_int_equal(x->toy.skip_done_calls, 1);
    assert_int_equal(x->toy.skip_done_frame, 3);
    /* And parsing goes on from the next message without a hunt. */
    size_t n = mk_msg(buf, 2);
    feed(x, 4, buf, n);
    assert_int_equal(x->toy.nmsgs, 2);
    assert_int_equal(x->toy.resync_calls, 0);
}

static void test_stream_gap_elsewhere_drops_buffer_and_resyncs(void **state)
{
    struct fx *x = *state;
    uint8_t buf[32];
    (void)mk_msg(buf, 10);
    feed(x, 1, buf, 6);
    assert_non_null(x->s.buf);
    stream_gap(&x->s, &x->ctx, &x->toy, 0, 100);
    assert_null(x->s.buf);
    assert_int_equal(x->s.len, 0);
    assert_int_equal(x->budget.held, 0);
    assert_true(x->s.resync);
    /* What follows the gap is hunted through: the torn message's tail is passed over. */
    uint8_t after[32];
    memset(after, 'x', 4);
    size_t an = 4 + mk_msg(after + 4, 1);
    feed(x, 2, after, an);
    assert_int_equal(x->toy.nmsgs, 1);
    assert_msg(&x->toy.msgs[0], 1, 2);
}

static void test_stream_gap_past_skip_end_resyncs_without_skip_done(void **state)
{
    struct fx *x = *state;
    uint8_t buf[8] = {K_SKIP, 0, 10, 'x'};
    feed(x, 1, buf, 4);
    assert_int_equal(x->s.skip, 9);
    stream_gap(&x->s, &x->ctx, &x->toy, 0, 20); /* the skip's end and 11 bytes after it were lost */
    assert_int_equal(x->s.skip, 0);
    assert_null(x->s.skip_done);
    assert_true(x->s.resync);
    assert_int_equal(x->toy.skip_done_calls, 0);
}

/* ---- dead streams ---------------------------------------------------------------------------------- */

static void test_stream_dead_releases_and_parses_nothing(void **state)
{
    struct fx *x = *state;
    uint8_t buf[32];
    size_t n = mk_msg(buf, 10);
    feed(x, 1, buf, 5);
    assert_int_equal(x->budget.held, 64);
    int calls = x->toy.calls;
    x->s.dead = true;
    feed(x, 2, buf + 5, n - 5);
    assert_int_equal(x->toy.calls, calls);
    assert_int_equal(x->toy.nmsgs, 0);
    assert_null(x->s.buf);
    assert_int_equal(x->budget.held, 0);
    feed(x, 3, buf, n);
    assert_int_equal(x->toy.calls, calls);
    assert_int_equal(x->toy.nmsgs, 0);
}

static void test_stream_parser_giving_up_mid_delivery_stops_parsing(void **state)
{
    struct fx *x = *state;
    uint8_t buf[32];
    size_t n = mk_msg(buf, 1);
    buf[n++] = K_DEAD;
    n += mk_msg(buf + n, 2);
    /* A parser that sets s->dead and returns the bytes it took (here 1, the 0xDD) is not called again on
     * the rest of the same delivery, and nothing is buffered. */
    feed(x, 1, buf, n);
    assert_true(x->s.dead);
    assert_int_equal(x->toy.nmsgs, 1);
    assert_msg(&x->toy.msgs[0], 1, 1);
    assert_int_equal(x->toy.calls, 1);
    assert_null(x->s.buf);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_stream_message_split_2_3_1_seen_once_whole),
        T(test_stream_several_messages_in_one_delivery),
        T(test_stream_complete_then_partial_in_one_delivery),
        T(test_stream_buffer_released_once_pdu_completes),
        T(test_stream_pdu_over_max_counted_and_resynchronised),
        T(test_stream_incomplete_pdu_over_max_in_one_delivery_counted),
        T(test_stream_shared_budget_refuses_growth),
        T(test_stream_append_respects_max_pdu),
        T(test_stream_skip_across_deliveries_done_once_where_it_ends),
        T(test_stream_skip_ending_with_delivery_done_in_that_delivery),
        T(test_stream_skip_set_from_buffered_header),
        T(test_stream_gap_inside_skip_absorbed),
        T(test_stream_gap_elsewhere_drops_buffer_and_resyncs),
        T(test_stream_gap_past_skip_end_resyncs_without_skip_done),
        T(test_stream_dead_releases_and_parses_nothing),
        T(test_stream_parser_giving_up_mid_delivery_stops_parsing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
