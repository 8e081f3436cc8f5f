/*
 * Unit tests for the record layer (src/records/records.c): ids, look-up by id, verdicts, the caps on
 * records held (per connection, in all, uses per record, pending KDC requests), writing a connection's
 * records with its Community ID, and the sink chain. Records are observed through a recording sink, never
 * through a writer's output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "community_id.h"
#include "records.h"

/* ---- a recording sink ---------------------------------------------------------------------------- */

#define SEEN_MAX 64

/* What the sink was handed: copies, since a record is valid for the call only. */
struct seen {
    uint64_t id;
    enum rec_type type;
    uint64_t flow_id;
    char community_id[40];
    bool open;
    enum auth_state state;
    enum auth_result result;
    enum rec_phase phase;
    uint32_t carried[8];   /* the indexes of the uses the hand-over carries (rec_use_carried) */
    uint32_t ncarried;
};

struct recorder {
    struct hs_sink sink; /* first: the chain calls back with this pointer */
    struct seen seen[SEEN_MAX];
    size_t n;
    int stats_calls, end_calls;
    const struct hs_stats_view *last_view;
};

static void rec_on_record(struct hs_sink *self, struct rec_hdr *r)
{
    struct recorder *o = (struct recorder *)self;
    assert_true(o->n < SEEN_MAX);
    struct seen *s = &o->seen[o->n++];
    s->id = r->id;
    s->type = r->type;
    s->flow_id = r->flow.id;
    memcpy(s->community_id, r->community_id, sizeof s->community_id);
    s->open = r->open;
    if (r->type == REC_AUTH) {
        const struct auth_rec *a = (const struct auth_rec *)r;
        s->state = a->state;
        s->result = a->result;
        for (uint32_t i = r->use_from; (r->phase == REC_USES || r->phase == REC_END) && i < r->use_to; i++)
            if (rec_use_carried(r, &a->uses[i]) && s->ncarried < 8)
                s->carried[s->ncarried++] = i;
    }
    s->phase = (enum rec_phase)r->phase;
}

static void rec_on_stats(struct hs_sink *self, const struct hs_stats_view *v)
{
    struct recorder *o = (struct recorder *)self;
    o->stats_calls++;
    o->last_view = v;
}

static void rec_on_end(struct hs_sink *self)
{
    ((struct recorder *)self)->end_calls++;
}

static void recorder_init(struct recorder *o)
{
    memset(o, 0, sizeof *o);
    o->sink.record = rec_on_record;
    o->sink.stats = rec_on_stats;
    o->sink.end = rec_on_end;
}

/* ---- fixture: a store, two connections ------------------------------------------------------------ */

struct fx {
    struct hs_limits lim;
    struct hs_stats st;
    struct recorder out;
    struct rec_store s;
    struct rec_conn a, b;
    struct hs_flow fa, fb;
    struct timeval ts;
};

static void make_flow(struct hs_flow *f, uint64_t id, uint8_t proto, uint8_t cli_last, uint16_t cport,
                      uint8_t srv_last, uint16_t sport)
{
    memset(f, 0, sizeof *f);
    f->id = id;
    f->af = 4;
    f->proto = proto;
    f->cli.ip[0] = 10, f->cli.ip[1] = 201, f->cli.ip[2] = 1, f->cli.ip[3] = cli_last;
    f->srv.ip[0] = 10, f->srv.ip[1] = 201, f->srv.ip[2] = 1, f->srv.ip[3] = srv_last;
    f->cli.port = cport;
    f->srv.port = sport;
}

static int fx_setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    hs_limits_default(&x->lim);
    recorder_init(&x->out);
    rec_store_init(&x->s, &x->lim, &x->st, &x->out.sink);
    make_flow(&x->fa, 7, 6, 30, 49778, 10, 445);
    make_flow(&x->fb, 8, 17, 31, 55000, 10, 88);
    x->ts.tv_sec = 1700000000;
    x->ts.tv_usec = 250;
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *x = *state;
    rec_conn_discard(&x->s, &x->a);
    rec_conn_discard(&x->s, &x->b);
    rec_store_free(&x->s); /* the KDC records kept for reuse */
    free(x);
    return 0;
}

static struct auth_rec *new_auth(struct fx *x, struct rec_conn *rc, const struct hs_flow *f)
{
    return rec_auth_new(&x->s, rc, f, &x->ts, TRANSPORT_SMB2);
}

static void decide(struct auth_rec *r)
{
    rec_auth_verdict(r, 99, RESULT_SUCCESS, hs_status_of(STATUS_NTSTATUS, 0), VERDICT_SESSION_SETUP);
}

/* ---- ids and look-up ---------------------------------------------------------------------------- */

static void test_record_ids_count_up_from_one_across_types(void **state)
{
    struct fx *x = *state;
    struct auth_rec *r1 = new_auth(x, &x->a, &x->fa);
    struct kdc_rec *k2 = rec_kdc_new(&x->s, &x->b, &x->fb, &x->ts, true);
    struct auth_rec *r3 = rec_auth_new(&x->s, &x->a, &x->fa, &x->ts, TRANSPORT_HTTP);
    assert_non_null(r1);
    assert_non_null(k2);
    assert_non_null(r3);
    assert_int_equal(r1->h.id, 1);
    assert_int_equal(k2->h.id, 2);
    assert_int_equal(r3->h.id, 3);
    assert_int_equal(r1->h.type, REC_AUTH);
    assert_int_equal(k2->h.type, REC_KERBEROS);
    assert_true(r1->h.open);
    assert_int_equal(r3->transport, TRANSPORT_HTTP);
    /* The record carries its connection's identity and the time it started. */
    assert_int_equal(r1->h.flow.id, 7);
    assert_int_equal(r1->h.flow.srv.port, 445);
    assert_int_equal(r1->h.ts.tv_sec, 1700000000);
    assert_int_equal(r1->h.ts.tv_usec, 250);
    assert_int_equal(k2->h.flow.id, 8);
    assert_true(k2->udp); /* its flow is UDP */
    assert_int_equal(x->a.n_auth, 2);
    assert_int_equal(x->b.n_kdc, 1);
    assert_int_equal(x->s.auth.n, 2);
    assert_int_equal(x->s.kdc.n, 1);
}

static void test_record_get_finds_open_record_by_id_on_its_connection(void **state)
{
    struct fx *x = *state;
    struct auth_rec *r1 = new_auth(x, &x->a, &x->fa);
    struct kdc_rec *k2 = rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true);
    struct auth_rec *r3 = new_auth(x, &x->b, &x->fb);
    assert_ptr_equal(rec_auth_get(&x->a, r1->h.id), r1);
    assert_ptr_equal(rec_auth_get(&x->b, r3->h.id), r3);
    assert_null(rec_auth_get(&x->a, r3->h.id)); /* another connection's */
    assert_null(rec_auth_get(&x->a, k2->h.id)); /* a KDC record is not an authentication record */
    assert_null(rec_auth_get(&x->a, 0));        /* 0 means "none" */
    assert_null(rec_auth_get(&x->a, 1000));     /* never existed */
}

static void test_record_id_stale_after_write(void **state)
{
    struct fx *x = *state;
    struct auth_rec *r1 = new_auth(x, &x->a, &x->fa);
    struct auth_rec *r2 = new_auth(x, &x->a, &x->fa);
    uint64_t id1 = r1->h.id;
    rec_write(&x->s, &r1->h);
    /* Whoever kept the id finds the record gone instead of a dangling pointer. */
    assert_null(rec_auth_get(&x->a, id1));
    assert_ptr_equal(rec_auth_get(&x->a, r2->h.id), r2);
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].id, id1);
    assert_true(x->out.seen[0].open); /* written as it stood */
    assert_int_equal(x->st.records, 1);
    assert_int_equal(x->a.n_auth, 1);
    assert_int_equal(x->s.auth.n, 1);
    /* Ids are never reused. */
    assert_int_equal(new_auth(x, &x->a, &x->fa)->h.id, 3);
}

static bool is_http(const struct auth_rec *r, const void *arg)
{
    (void)arg;
    return r->transport == TRANSPORT_HTTP;
}

static bool has_context(const struct auth_rec *r, const void *arg)
{
    return r->context_id == *(const uint32_t *)arg;
}

static void test_record_newest_returns_newest_match(void **state)
{
    struct fx *x = *state;
    struct auth_rec *h1 = rec_auth_new(&x->s, &x->a, &x->fa, &x->ts, TRANSPORT_HTTP);
    struct auth_rec *s2 = new_auth(x, &x->a, &x->fa);
    struct auth_rec *h3 = rec_auth_new(&x->s, &x->a, &x->fa, &x->ts, TRANSPORT_HTTP);
    struct auth_rec *s4 = new_auth(x, &x->a, &x->fa);
    (void)rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true); /* skipped: not an authentication record */
    h1->context_id = 5;
    s2->context_id = 6;
    h3->context_id = 5;
    s4->context_id = 7;
    assert_ptr_equal(rec_auth_newest(&x->a, is_http, NULL), h3);
    uint32_t want = 5;
    assert_ptr_equal(rec_auth_newest(&x->a, has_context, &want), h3);
    want = 6;
    assert_ptr_equal(rec_auth_newest(&x->a, has_context, &want), s2);
    want = 9;
    assert_null(rec_auth_newest(&x->a, has_context, &want));
    assert_null(rec_auth_newest(&x->b, is_http, NULL)); /* nothing on that connection */
    rec_write(&x->s, &h3->h);
    assert_ptr_equal(rec_auth_newest(&x->a, is_http, NULL), h1);
}

static void test_record_verdict_sets_result_and_closes(void **state)
{
    struct fx *x = *state;
    struct auth_rec *r = new_auth(x, &x->a, &x->fa);
    assert_int_equal(r->state, AUTH_NEGOTIATING);
    assert_int_equal(r->result, RESULT_UNKNOWN);
    rec_auth_verdict(r, 42, RESULT_FAILURE, hs_status_of(STATUS_NTSTATUS, 0xC000006Du), VERDICT_SESSION_SETUP);
    assert_int_equal(r->state, AUTH_DECIDED);
    assert_int_equal(r->result, RESULT_FAILURE);
    assert_int_equal(r->status.space, STATUS_NTSTATUS);
    assert_int_equal(r->status.code, 0xC000006Du);
    assert_int_equal(r->verdict_source, VERDICT_SESSION_SETUP);
    assert_int_equal(r->frames.verdict, 42);
    assert_false(r->h.open);
    /* A verdict alone does not write the record: it stays held until its connection says so. */
    assert_ptr_equal(rec_auth_get(&x->a, r->h.id), r);
    assert_int_equal(x->out.n, 0);
}

/* ---- caps on authentication records -------------------------------------------------------------- */

static void test_record_conn_cap_writes_oldest_finished(void **state)
{
    struct fx *x = *state;
    x->lim.max_records_per_conn = 3;
    struct auth_rec *r1 = new_auth(x, &x->a, &x->fa);
    struct auth_rec *r2 = new_auth(x, &x->a, &x->fa);
    struct auth_rec *r3 = new_auth(x, &x->a, &x->fa);
    decide(r3);
    decide(r2); /* finished later, but older: r2 goes first */
    struct auth_rec *r4 = new_auth(x, &x->a, &x->fa);
    assert_non_null(r4);
    assert_int_equal(r4->h.id, 4);
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].id, 2);
    assert_false(x->out.seen[0].open);
    assert_int_equal(x->out.seen[0].result, RESULT_SUCCESS);
    assert_null(rec_auth_get(&x->a, 2));
    assert_ptr_equal(rec_auth_get(&x->a, r1->h.id), r1); /* open, so kept although oldest */
    assert_int_equal(x->a.n_auth, 3);
    assert_int_equal(x->st.records_dropped, 0);
    assert_int_equal(x->st.records_written_early, 1); /* r2's later uses, if any, are not in it */
    /* The next one makes room with r3, the only finished one left. */
    assert_non_null(new_auth(x, &x->a, &x->fa));
    assert_int_equal(x->out.n, 2);
    assert_int_equal(x->out.seen[1].id, 3);
}

static void test_record_conn_cap_refuses_new_when_none_finished(void **state)
{
    struct fx *x = *state;
    x->lim.max_records_per_conn = 2;
    struct auth_rec *r1 = new_auth(x, &x->a, &x->fa);
    assert_non_null(new_auth(x, &x->a, &x->fa));
    assert_null(new_auth(x, &x->a, &x->fa));
    assert_null(new_auth(x, &x->a, &x->fa));
    assert_int_equal(x->st.records_dropped, 2);
    assert_int_equal(x->st.records_written_early, 0);
    assert_int_equal(x->out.n, 0); /* nothing open is written to make room */
    assert_int_equal(x->a.n_auth, 2);
    /* KDC records do not count against the authentication cap, and other connections are unaffected. */
    assert_non_null(rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true));
    assert_non_null(new_auth(x, &x->b, &x->fb));
    /* A refused record used no id; once one is finished there is room again. */
    decide(r1);
    struct auth_rec *r = new_auth(x, &x->a, &x->fa);
    assert_non_null(r);
    assert_int_equal(r->h.id, 5);
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].id, 1);
}

static void test_record_total_cap_writes_oldest_of_any_connection(void **state)
{
    struct fx *x = *state;
    x->lim.max_records_total = 3;
    struct auth_rec *a1 = new_auth(x, &x->a, &x->fa);
    struct auth_rec *b2 = new_auth(x, &x->b, &x->fb);
    struct auth_rec *b3 = new_auth(x, &x->b, &x->fb);
    (void)rec_kdc_new(&x->s, &x->b, &x->fb, &x->ts, true); /* KDC records have their own cap */
    uint64_t id1 = a1->h.id, id2 = b2->h.id;
    struct auth_rec *b5 = new_auth(x, &x->b, &x->fb);
    assert_non_null(b5);
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].id, id1); /* connection a's, open, written as it stands */
    assert_int_equal(x->out.seen[0].flow_id, 7);
    assert_true(x->out.seen[0].open);
    assert_null(rec_auth_get(&x->a, id1));
    assert_null(x->a.head);
    assert_int_equal(x->a.n_auth, 0);
    assert_ptr_equal(rec_auth_get(&x->b, b2->h.id), b2);
    assert_ptr_equal(rec_auth_get(&x->b, b3->h.id), b3);
    assert_int_equal(x->s.auth.n, 3);
    assert_int_equal(x->st.records, 1);
    assert_int_equal(x->st.records_dropped, 0);
    assert_int_equal(x->st.records_written_early, 1);
    /* Then the next oldest: b2. */
    assert_non_null(new_auth(x, &x->a, &x->fa));
    assert_int_equal(x->out.n, 2);
    assert_int_equal(x->out.seen[1].id, id2);
    assert_null(rec_auth_get(&x->b, id2));
}

static void test_record_uses_grow_and_stop_at_cap(void **state)
{
    struct fx *x = *state;
    x->lim.max_uses_per_record = 9; /* more than the first allocation, not a power of two */
    struct auth_rec *r = new_auth(x, &x->a, &x->fa);
    for (uint64_t i = 0; i < 9; i++) {
        struct auth_use *u = rec_use_add(&x->s, r, 100 + i);
        assert_non_null(u);
        assert_int_equal(u->frame_req, 100 + i);
        assert_string_equal(u->name, "");
        assert_false(u->answered);
        u->name[0] = (char)('a' + i);
        u->name[1] = '\0';
    }
    assert_int_equal(r->nuses, 9);
    assert_int_equal(r->uses_cap, 9); /* grown no further than the cap */
    /* What was written into earlier uses survived the array growing. */
    for (uint32_t i = 0; i < 9; i++) {
        char want[2] = {(char)('a' + i), '\0'};
        assert_string_equal(r->uses[i].name, want);
        assert_int_equal(r->uses[i].frame_req, 100 + i);
    }
    assert_null(rec_use_add(&x->s, r, 200));
    assert_null(rec_use_add(&x->s, r, 201));
    assert_int_equal(r->nuses, 9);
    assert_int_equal(r->uses_dropped, 2);
    assert_int_equal(x->st.uses_dropped, 2);
}

/* ---- KDC records ---------------------------------------------------------------------------------- */

static void test_kdc_pending_cap_per_connection_writes_oldest(void **state)
{
    struct fx *x = *state;
    struct kdc_rec *k[17];
    for (int i = 0; i < 16; i++) {
        k[i] = rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true);
        assert_non_null(k[i]);
    }
    assert_int_equal(x->out.n, 0);
    k[16] = rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true);
    assert_non_null(k[16]);
    assert_int_equal(k[16]->h.id, 17);
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].id, 1);
    assert_int_equal(x->out.seen[0].type, REC_KERBEROS);
    assert_int_equal(x->a.n_kdc, 16);
    assert_int_equal(x->st.kdc_records, 1);
    assert_int_equal(rec_kdc_oldest(&x->a)->h.id, 2);
    /* Another connection has its own 16. */
    assert_non_null(rec_kdc_new(&x->s, &x->b, &x->fb, &x->ts, true));
    assert_int_equal(x->out.n, 1);
}

static void test_kdc_pending_total_cap_writes_oldest_anywhere(void **state)
{
    struct fx *x = *state;
    x->lim.max_kdc_pending_total = 3;
    assert_non_null(rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true));
    assert_non_null(rec_kdc_new(&x->s, &x->b, &x->fb, &x->ts, true));
    assert_non_null(rec_kdc_new(&x->s, &x->b, &x->fb, &x->ts, true));
    assert_int_equal(x->out.n, 0);
    struct kdc_rec *k4 = rec_kdc_new(&x->s, &x->b, &x->fb, &x->ts, true);
    assert_non_null(k4);
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].id, 1); /* connection a's */
    assert_int_equal(x->out.seen[0].flow_id, 7);
    assert_null(rec_kdc_oldest(&x->a));
    assert_int_equal(x->s.kdc.n, 3);
    assert_int_equal(rec_kdc_oldest(&x->b)->h.id, 2);
    assert_int_equal(x->st.kdc_written_early, 1);
}

static void test_kdc_not_pending_ignores_caps(void **state)
{
    struct fx *x = *state;
    x->lim.max_kdc_pending_total = 1;
    assert_non_null(rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true));
    /* A reply whose request was not seen is written at once by its dissector: nothing older must go. */
    struct kdc_rec *lone = rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, false);
    assert_non_null(lone);
    assert_int_equal(x->out.n, 0);
    assert_int_equal(x->s.kdc.n, 2);
    uint64_t lone_id = lone->h.id;
    rec_write(&x->s, &lone->h);
    for (int i = 0; i < 16; i++)
        assert_non_null(rec_kdc_new(&x->s, &x->b, &x->fb, &x->ts, false));
    assert_int_equal(x->b.n_kdc, 16);
    assert_non_null(rec_kdc_new(&x->s, &x->b, &x->fb, &x->ts, false));
    assert_int_equal(x->b.n_kdc, 17); /* beyond the per-connection 16: not pending, not capped */
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].id, lone_id);
    assert_int_equal(x->st.kdc_records, 1);
    assert_int_equal(x->st.kdc_written_early, 0); /* nothing was written early */
}

static void test_kdc_oldest_is_first_kdc_record_held(void **state)
{
    struct fx *x = *state;
    assert_null(rec_kdc_oldest(&x->a));
    (void)new_auth(x, &x->a, &x->fa);
    struct kdc_rec *k2 = rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true);
    struct kdc_rec *k3 = rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true);
    assert_ptr_equal(rec_kdc_oldest(&x->a), k2); /* the authentication record before it is passed over */
    rec_write(&x->s, &k2->h);
    assert_ptr_equal(rec_kdc_oldest(&x->a), k3);
    rec_write(&x->s, &k3->h);
    assert_null(rec_kdc_oldest(&x->a));
    assert_int_equal(x->st.kdc_records, 2);
    assert_int_equal(x->st.records, 0);
}

/* ---- writing and discarding a connection's records ---------------------------------------------- */

static void test_conn_flush_writes_oldest_first_with_community_id(void **state)
{
    struct fx *x = *state;
    struct auth_rec *r1 = new_auth(x, &x->a, &x->fa);
    (void)rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true);
    (void)new_auth(x, &x->b, &x->fb);
    (void)new_auth(x, &x->a, &x->fa);
    decide(r1);
    rec_conn_flush(&x->s, &x->a);
    assert_int_equal(x->out.n, 3);
    assert_int_equal(x->out.seen[0].id, 1);
    assert_int_equal(x->out.seen[0].type, REC_AUTH);
    assert_int_equal(x->out.seen[1].id, 2);
    assert_int_equal(x->out.seen[1].type, REC_KERBEROS);
    assert_int_equal(x->out.seen[2].id, 4);
    char want[COMMUNITY_ID_LEN];
    assert_int_equal(community_id_v1(0, 4, 6, x->fa.cli.ip, x->fa.srv.ip, x->fa.cli.port, x->fa.srv.port, want), 0);
    /* 10.201.1.30:49778 -> 10.201.1.10:445, as tshark's communityid dissector gives it. */
    assert_string_equal(want, "1:8sXp2xAIvE7M5jd02PC7mwT4Ck0=");
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(x->out.seen[i].community_id, want);
    assert_string_equal(x->a.community_id, want);
    assert_null(x->a.head);
    assert_int_equal(x->a.n_auth, 0);
    assert_int_equal(x->a.n_kdc, 0);
    assert_null(rec_auth_get(&x->a, 1));
    assert_int_equal(x->st.records, 2);
    assert_int_equal(x->st.kdc_records, 1);
    /* The other connection's record is still held, and gets its own flow's id when written. */
    assert_int_equal(x->s.auth.n, 1);
    rec_conn_flush(&x->s, &x->b);
    assert_int_equal(x->out.n, 4);
    char want_b[COMMUNITY_ID_LEN];
    assert_int_equal(community_id_v1(0, 4, 17, x->fb.cli.ip, x->fb.srv.ip, x->fb.cli.port, x->fb.srv.port, want_b), 0);
    assert_string_equal(x->out.seen[3].community_id, want_b);
    assert_string_not_equal(want_b, want);
}

static void test_conn_flush_ipv6_community_id(void **state)
{
    struct fx *x = *state;
    struct hs_flow f6;
    memset(&f6, 0, sizeof f6);
    f6.id = 3;
    f6.af = 6;
    f6.proto = 6;
    static const uint8_t c6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1e};
    static const uint8_t s6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};
    memcpy(f6.cli.ip, c6, 16);
    memcpy(f6.srv.ip, s6, 16);
    f6.cli.port = 50000;
    f6.srv.port = 5985;
    assert_non_null(rec_auth_new(&x->s, &x->a, &f6, &x->ts, TRANSPORT_HTTP));
    rec_conn_flush(&x->s, &x->a);
    char want[COMMUNITY_ID_LEN];
    assert_int_equal(community_id_v1(0, 6, 6, c6, s6, 50000, 5985, want), 0);
    assert_int_equal(x->out.n, 1);
    assert_string_equal(x->out.seen[0].community_id, want);
}

static void test_conn_discard_frees_without_writing(void **state)
{
    struct fx *x = *state;
    struct auth_rec *r1 = new_auth(x, &x->a, &x->fa);
    assert_non_null(rec_use_add(&x->s, r1, 5)); /* a record owning memory of its own */
    (void)rec_kdc_new(&x->s, &x->a, &x->fa, &x->ts, true);
    (void)new_auth(x, &x->b, &x->fb);
    rec_conn_discard(&x->s, &x->a);
    assert_int_equal(x->out.n, 0);
    assert_int_equal(x->st.records, 0);
    assert_int_equal(x->st.kdc_records, 0);
    assert_null(x->a.head);
    assert_int_equal(x->a.n_auth, 0);
    assert_int_equal(x->a.n_kdc, 0);
    assert_int_equal(x->s.auth.n, 1); /* connection b's is still held */
    assert_int_equal(x->s.kdc.n, 0);
    assert_null(x->s.kdc.oldest);
    assert_int_equal(x->s.auth.oldest->id, 3);
    assert_int_equal(new_auth(x, &x->a, &x->fa)->h.id, 4);
}

/* ---- the sink chain ------------------------------------------------------------------------------ */

static void test_sink_stage_without_callbacks_passes_calls_on(void **state)
{
    (void)state;
    struct recorder out;
    recorder_init(&out);
    struct hs_sink pass2 = {.next = &out.sink};
    struct hs_sink pass1 = {.next = &pass2};
    struct auth_rec r;
    memset(&r, 0, sizeof r);
    r.h.id = 77;
    r.h.type = REC_AUTH;
    sink_record(&pass1, &r.h);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.seen[0].id, 77);
    struct hs_stats st;
    memset(&st, 0, sizeof st);
    struct hs_stats_view v = {.st = &st};
    sink_stats(&pass1, &v);
    assert_int_equal(out.stats_calls, 1);
    assert_ptr_equal(out.last_view, &v);
    sink_end(&pass1);
    assert_int_equal(out.end_calls, 1);
    /* A stage that takes a call keeps it: passing it further is that stage's business. */
    struct recorder first;
    recorder_init(&first);
    first.sink.next = &out.sink;
    sink_record(&first.sink, &r.h);
    assert_int_equal(first.n, 1);
    assert_int_equal(out.n, 1);
}

static void test_sink_null_drops_records(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    struct hs_stats st;
    memset(&st, 0, sizeof st);
    struct rec_store s;
    rec_store_init(&s, &lim, &st, NULL);
    struct rec_conn rc;
    memset(&rc, 0, sizeof rc);
    struct hs_flow f;
    make_flow(&f, 1, 6, 1, 50000, 2, 445);
    struct timeval ts = {1, 0};
    struct auth_rec *r = rec_auth_new(&s, &rc, &f, &ts, TRANSPORT_SMB2);
    assert_non_null(r);
    uint64_t id = r->h.id;
    (void)rec_kdc_new(&s, &rc, &f, &ts, true);
    rec_conn_flush(&s, &rc);
    assert_null(rec_auth_get(&rc, id));
    assert_null(rc.head);
    assert_int_equal(st.records, 1); /* counted as written, though nobody listened */
    assert_int_equal(st.kdc_records, 1);
    assert_int_equal(s.auth.n, 0);
    assert_int_equal(s.kdc.n, 0);
    /* A chain that ends without a taker drops calls quietly too. */
    struct hs_sink empty = {.next = NULL};
    struct rec_hdr h;
    memset(&h, 0, sizeof h);
    h.id = 9;
    h.type = REC_AUTH;
    sink_record(&empty, &h);
    sink_record(NULL, &h);
    sink_stats(NULL, NULL);
    sink_stats(&empty, NULL);
    sink_end(NULL);
    rec_store_free(&s);
    sink_end(&empty);
    assert_int_equal(h.id, 9);
}

/* ---- streaming ----------------------------------------------------------------------------------- */

static struct auth_use *use(struct fx *x, struct auth_rec *r, uint64_t frame, bool answered)
{
    struct auth_use *u = rec_use_add(&x->s, r, frame);
    assert_non_null(u);
    if (answered) {
        u->answered = true;
        u->frame_resp = frame + 1;
    }
    return u;
}

static void test_stream_verdict_then_answered_uses_then_end(void **state)
{
    struct fx *x = *state;
    x->s.stream = true;
    struct auth_rec *r = new_auth(x, &x->a, &x->fa);
    rec_conn_stream(&x->s, &x->a);
    assert_int_equal(x->out.n, 0); /* no verdict yet */
    decide(r);
    rec_conn_stream(&x->s, &x->a);
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].phase, REC_AT_VERDICT);
    assert_int_equal(x->out.seen[0].id, r->h.id);
    assert_string_not_equal(x->out.seen[0].community_id, ""); /* set for the first hand-over */
    rec_conn_stream(&x->s, &x->a);
    assert_int_equal(x->out.n, 1); /* once */
    use(x, r, 10, true);
    use(x, r, 12, false);
    use(x, r, 14, true);
    rec_conn_stream(&x->s, &x->a);
    assert_int_equal(x->out.n, 2);
    assert_int_equal(x->out.seen[1].phase, REC_USES);
    assert_int_equal(x->out.seen[1].ncarried, 2); /* answered ones, the unanswered one skipped, not blocking */
    assert_int_equal(x->out.seen[1].carried[0], 0);
    assert_int_equal(x->out.seen[1].carried[1], 2);
    rec_conn_stream(&x->s, &x->a);
    assert_int_equal(x->out.n, 2); /* nothing new */
    r->uses[1].answered = true;
    r->uses[1].frame_resp = 16;
    use(x, r, 18, false);
    rec_conn_stream(&x->s, &x->a);
    assert_int_equal(x->out.n, 3);
    assert_int_equal(x->out.seen[2].ncarried, 1);
    assert_int_equal(x->out.seen[2].carried[0], 1);
    rec_conn_flush(&x->s, &x->a);
    assert_int_equal(x->out.n, 4);
    assert_int_equal(x->out.seen[3].phase, REC_END);
    assert_int_equal(x->out.seen[3].ncarried, 1); /* the one never answered */
    assert_int_equal(x->out.seen[3].carried[0], 3);
    assert_int_equal(x->st.records, 1); /* counted once, when complete */
}

static void test_stream_hold_defers_hand_over(void **state)
{
    struct fx *x = *state;
    x->s.stream = true;
    struct auth_rec *r = new_auth(x, &x->a, &x->fa);
    decide(r);
    r->h.hold = 0x2;
    use(x, r, 10, true);
    rec_conn_stream(&x->s, &x->a);
    assert_int_equal(x->out.n, 0);
    r->h.hold = 0;
    rec_conn_stream(&x->s, &x->a);
    assert_int_equal(x->out.n, 2);
    assert_int_equal(x->out.seen[0].phase, REC_AT_VERDICT);
    assert_int_equal(x->out.seen[1].phase, REC_USES);
    assert_int_equal(x->out.seen[1].ncarried, 1);
}

static void test_stream_record_ending_undecided_is_whole(void **state)
{
    struct fx *x = *state;
    x->s.stream = true;
    struct auth_rec *r = new_auth(x, &x->a, &x->fa);
    use(x, r, 10, true);
    rec_conn_stream(&x->s, &x->a);
    assert_int_equal(x->out.n, 0);
    rec_conn_flush(&x->s, &x->a);
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].phase, REC_WHOLE);
    assert_int_equal(x->out.seen[0].ncarried, 0);
}

static void test_no_stream_is_whole(void **state)
{
    struct fx *x = *state;
    struct auth_rec *r = new_auth(x, &x->a, &x->fa);
    decide(r);
    use(x, r, 10, true);
    rec_conn_flush(&x->s, &x->a);
    assert_int_equal(x->out.n, 1);
    assert_int_equal(x->out.seen[0].phase, REC_WHOLE);
}

/* --threads: a record handed over at its verdict goes to another thread while its worker goes on filling it, so
 * the hand-over is a copy that owns everything the record points to. */
static void test_snapshot_is_a_deep_copy(void **state)
{
    struct fx *x = *state;
    struct auth_rec *r = new_auth(x, &x->a, &x->fa);
    decide(r);
    for (uint64_t i = 0; i < 3; i++) {
        struct auth_use *u = rec_use_add(&x->s, r, 20 + i);
        assert_non_null(u);
        u->name[0] = (char)('a' + i);
        u->name[1] = '\0';
    }
    r->gss.ntlm.proof = malloc(48);
    assert_non_null(r->gss.ntlm.proof);
    memset(r->gss.ntlm.proof, 0x5a, 48);
    r->gss.ntlm.proof_size = 48;

    struct rec_hdr *h = rec_snapshot(&r->h);
    assert_non_null(h);
    struct auth_rec *c = (struct auth_rec *)h;
    assert_ptr_not_equal(c, r);
    assert_int_equal(c->h.id, r->h.id);
    assert_null(c->h.owner);
    assert_null(c->h.next);
    assert_int_equal(c->nuses, 3);
    assert_ptr_not_equal(c->uses, r->uses);
    assert_ptr_not_equal(c->gss.ntlm.proof, r->gss.ntlm.proof);
    assert_int_equal(c->gss.ntlm.proof_size, 48);
    assert_null(c->gss.ntlm.auth);
    assert_null(c->gss.krb.dec_ticket);

    /* the worker goes on: uses answered, the array grown; the copy keeps what it had */
    r->uses[0].name[0] = 'z';
    memset(r->gss.ntlm.proof, 0, 48);
    for (uint64_t i = 3; i < 9; i++)
        assert_non_null(rec_use_add(&x->s, r, 20 + i));
    assert_string_equal(c->uses[0].name, "a");
    assert_string_equal(c->uses[2].name, "c");
    assert_int_equal(c->uses[1].frame_req, 21);
    assert_int_equal(((const uint8_t *)c->gss.ntlm.proof)[47], 0x5a);
    rec_detached_free(h); /* frees the copy's own pieces (ASan: no double free with the record's) */

    assert_null(rec_snapshot(NULL));
    struct kdc_rec *k = rec_kdc_new(&x->s, &x->b, &x->fb, &x->ts, true);
    assert_non_null(k);
    assert_null(rec_snapshot(&k->h)); /* only auth records are streamed in phases */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_record_ids_count_up_from_one_across_types),
        T(test_record_get_finds_open_record_by_id_on_its_connection),
        T(test_record_id_stale_after_write),
        T(test_record_newest_returns_newest_match),
        T(test_record_verdict_sets_result_and_closes),
        T(test_record_conn_cap_writes_oldest_finished),
        T(test_record_conn_cap_refuses_new_when_none_finished),
        T(test_record_total_cap_writes_oldest_of_any_connection),
        T(test_record_uses_grow_and_stop_at_cap),
        T(test_kdc_pending_cap_per_connection_writes_oldest),
        T(test_kdc_pending_total_cap_writes_oldest_anywhere),
        T(test_kdc_not_pending_ignores_caps),
        T(test_kdc_oldest_is_first_kdc_record_held),
        T(test_conn_flush_writes_oldest_first_with_community_id),
        T(test_conn_flush_ipv6_community_id),
        T(test_conn_discard_frees_without_writing),
        T(test_stream_verdict_then_answered_uses_then_end),
        T(test_stream_hold_defers_hand_over),
        T(test_stream_record_ending_undecided_is_whole),
        T(test_no_stream_is_whole),
        T(test_snapshot_is_a_deep_copy),
        cmocka_unit_test(test_sink_stage_without_callbacks_passes_calls_on),
        cmocka_unit_test(test_sink_null_drops_records),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
