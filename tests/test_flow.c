/*
 * Unit tests for the flow table (src/engine/flow.c): finding a connection from either direction, choosing
 * its client (SYN, SYN-ACK, well-known server ports, port ranges), creation-order ids, least-recently-seen
 * order, idle expiry, unlinking, IPv6 keys. Packets are struct hs_pkt built by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

static struct hs_pkt pkt4(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t proto,
                          uint8_t flags)
{
    struct hs_pkt p;
    memset(&p, 0, sizeof p);
    p.af = 4;
    p.proto = proto;
    assert_int_equal(inet_pton(AF_INET, src, p.src), 1);
    assert_int_equal(inet_pton(AF_INET, dst, p.dst), 1);
    p.sport = sport;
    p.dport = dport;
    p.tcp_flags = flags;
    return p;
}

static struct hs_pkt pkt6(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags)
{
    struct hs_pkt p;
    memset(&p, 0, sizeof p);
    p.af = 6;
    p.proto = 6;
    assert_int_equal(inet_pton(AF_INET6, src, p.src), 1);
    assert_int_equal(inet_pton(AF_INET6, dst, p.dst), 1);
    p.sport = sport;
    p.dport = dport;
    p.tcp_flags = flags;
    return p;
}

/* The same packet going the other way. */
static struct hs_pkt rev(const struct hs_pkt *p)
{
    struct hs_pkt r = *p;
    memcpy(r.src, p->dst, 16);
    memcpy(r.dst, p->src, 16);
    r.sport = p->dport;
    r.dport = p->sport;
    return r;
}

/* sec seconds on the engine clock (µs) */
static uint64_t at(uint64_t sec)
{
    return sec * 1000000u;
}

static int tbl_setup(void **state)
{
    struct flow_table *t = malloc(sizeof *t);
    assert_non_null(t);
    assert_int_equal(flow_table_init(t, 1024), 0);
    *state = t;
    return 0;
}

/* Takes every connection out (least recently seen first) and frees it, then the table. */
static int tbl_teardown(void **state)
{
    struct flow_table *t = *state;
    while (t->lru_head) {
        struct hs_conn *c = t->lru_head;
        flow_unlink(t, c);
        free(c);
    }
    assert_int_equal(t->n, 0);
    flow_table_free(t);
    free(t);
    return 0;
}

/* flow_find and flow_insert with the packet's own hash, as the engine calls them. */
static struct hs_conn *find(struct flow_table *t, const struct hs_pkt *p, int *dir)
{
    return flow_find(t, p, flow_hash(p), dir);
}

static struct hs_conn *insert(struct flow_table *t, const struct hs_pkt *p, int *dir, uint64_t sec)
{
    struct hs_conn *c = flow_insert(t, p, flow_hash(p), dir, at(sec));
    assert_non_null(c);
    assert_int_equal(c->hash, flow_hash(p));
    return c;
}

static uint16_t port_of_ip(const struct hs_endpoint *e, const char *ip)
{
    uint8_t a[16] = {0};
    assert_int_equal(inet_pton(AF_INET, ip, a), 1);
    return memcmp(e->ip, a, 16) == 0 ? e->port : 0;
}

/* ---- finding ---------------------------------------------------------------------------------- */

static void test_flow_find_gives_direction_from_either_side(void **state)
{
    struct flow_table *t = *state;
    struct hs_pkt syn = pkt4("10.0.0.1", 50000, "10.0.0.2", 445, 6, TH_SYN);
    int dir = -1;
    struct hs_conn *c = insert(t, &syn, &dir, 100);
    assert_int_equal(dir, 0);
    assert_int_equal(t->n, 1);
    assert_int_equal(c->last_seen, at(100));
    assert_int_equal(c->flow.af, 4);
    assert_int_equal(c->flow.proto, 6);
    dir = -1;
    assert_ptr_equal(find(t, &syn, &dir), c);
    assert_int_equal(dir, 0);
    struct hs_pkt back = rev(&syn);
    back.tcp_flags = TH_SYN | TH_ACK;
    assert_ptr_equal(find(t, &back, &dir), c);
    assert_int_equal(dir, 1);
    /* Any other 5-tuple is another connection. */
    struct hs_pkt other_port = pkt4("10.0.0.1", 50001, "10.0.0.2", 445, 6, TH_ACK);
    struct hs_pkt other_ip = pkt4("10.0.0.3", 50000, "10.0.0.2", 445, 6, TH_ACK);
    struct hs_pkt udp = pkt4("10.0.0.1", 50000, "10.0.0.2", 445, 17, 0);
    struct hs_pkt crossed = pkt4("10.0.0.1", 445, "10.0.0.2", 50000, 6, TH_ACK);
    assert_null(find(t, &other_port, &dir));
    assert_null(find(t, &other_ip, &dir));
    assert_null(find(t, &udp, &dir));
    assert_null(find(t, &crossed, &dir));
}

static void test_flow_hash_same_both_directions(void **state)
{
    (void)state;
    struct hs_pkt p4 = pkt4("10.0.0.1", 50000, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_pkt p6 = pkt6("fd00::1e", 50000, "fd00::a", 445, TH_SYN);
    struct hs_pkt b4 = rev(&p4), b6 = rev(&p6);
    assert_int_equal(flow_hash(&p4), flow_hash(&b4));
    assert_int_equal(flow_hash(&p6), flow_hash(&b6));
    /* Flags, sequence numbers and payload are not part of the key. */
    b4.tcp_flags = TH_ACK | TH_PSH;
    b4.seq = 12345;
    b4.paylen = 10;
    assert_int_equal(flow_hash(&p4), flow_hash(&b4));
}

/* ---- choosing the client ------------------------------------------------------------------------ */

static void test_flow_client_is_syn_sender(void **state)
{
    struct flow_table *t = *state;
    /* A SYN decides even against the ports: here it comes from the well-known port. */
    struct hs_pkt syn = pkt4("10.0.0.2", 445, "10.0.0.1", 50000, 6, TH_SYN);
    int dir = -1;
    struct hs_conn *c = insert(t, &syn, &dir, 1);
    assert_int_equal(dir, 0);
    assert_int_equal(port_of_ip(&c->flow.cli, "10.0.0.2"), 445);
    assert_int_equal(port_of_ip(&c->flow.srv, "10.0.0.1"), 50000);
    assert_true(c->saw_syn);
}

static void test_flow_client_is_synack_receiver(void **state)
{
    struct flow_table *t = *state;
    /* The SYN was not captured: its answer, here from a port no dissector knows, names the client. */
    struct hs_pkt synack = pkt4("10.0.0.2", 40000, "10.0.0.1", 60000, 6, TH_SYN | TH_ACK);
    int dir = -1;
    struct hs_conn *c = insert(t, &synack, &dir, 1);
    assert_int_equal(dir, 1);
    assert_int_equal(port_of_ip(&c->flow.cli, "10.0.0.1"), 60000);
    assert_int_equal(port_of_ip(&c->flow.srv, "10.0.0.2"), 40000);
    assert_true(c->saw_syn);
    struct hs_pkt ack = rev(&synack);
    ack.tcp_flags = TH_ACK;
    assert_ptr_equal(find(t, &ack, &dir), c);
    assert_int_equal(dir, 0);
}

static void test_flow_client_not_on_server_port_without_syn(void **state)
{
    struct flow_table *t = *state;
    static const uint16_t server_ports[] = {445, 139, 88, 135, 80, 5985, 389, 3268, 593, 443};
    for (size_t i = 0; i < sizeof server_ports / sizeof *server_ports; i++) {
        char srv[16];
        snprintf(srv, sizeof srv, "10.0.1.%zu", i + 1);
        /* Picked up mid-stream from the server's side: the server sends first. */
        struct hs_pkt p = pkt4(srv, server_ports[i], "10.0.0.1", 1000, 6, TH_ACK | TH_PSH);
        int dir = -1;
        struct hs_conn *c = insert(t, &p, &dir, 1);
        assert_int_equal(dir, 1);
        assert_int_equal(c->flow.srv.port, server_ports[i]);
        assert_int_equal(c->flow.cli.port, 1000);
        assert_false(c->saw_syn);
    }
    /* UDP too: a Kerberos reply seen without its request. */
    struct hs_pkt rep = pkt4("10.0.0.10", 88, "10.0.0.1", 53000, 17, 0);
    int dir = -1;
    struct hs_conn *c = insert(t, &rep, &dir, 1);
    assert_int_equal(dir, 1);
    assert_int_equal(c->flow.srv.port, 88);
    assert_int_equal(c->flow.proto, 17);
    /* The client's own first packet keeps direction 0. */
    struct hs_pkt req = pkt4("10.0.0.1", 53001, "10.0.0.10", 88, 17, 0);
    c = insert(t, &req, &dir, 1);
    assert_int_equal(dir, 0);
    assert_int_equal(c->flow.cli.port, 53001);
}

static void test_flow_client_is_unprivileged_side_without_syn_or_known_port(void **state)
{
    struct flow_table *t = *state;
    /* Neither port is a dissector's (22 is SSH): the side on the higher, unprivileged port is the client. */
    struct hs_pkt p = pkt4("10.0.0.2", 22, "10.0.0.1", 40000, 6, TH_ACK);
    int dir = -1;
    struct hs_conn *c = insert(t, &p, &dir, 1);
    assert_int_equal(dir, 1);
    assert_int_equal(c->flow.cli.port, 40000);
    assert_int_equal(c->flow.srv.port, 22);
    struct hs_pkt q = pkt4("10.0.0.3", 40001, "10.0.0.4", 22, 6, TH_ACK);
    c = insert(t, &q, &dir, 1);
    assert_int_equal(dir, 0);
    assert_int_equal(c->flow.cli.port, 40001);
}

static void test_flow_client_by_privileged_port_else_first_sender(void **state)
{
    struct flow_table *t = *state;
    /* Without a SYN and without a well-known server port, ports decide only when exactly one is privileged
     * (< 1024, the server's); two unprivileged ports, or two privileged ones, leave the first sender as the
     * client. */
    struct hs_pkt p = pkt4("10.0.0.2", 50000, "10.0.0.1", 60000, 6, TH_ACK);
    int dir = -1;
    struct hs_conn *c = insert(t, &p, &dir, 1);
    assert_int_equal(dir, 0);
    assert_int_equal(c->flow.cli.port, 50000);
    struct hs_pkt q = pkt4("10.0.0.3", 22, "10.0.0.4", 700, 6, TH_ACK);
    c = insert(t, &q, &dir, 1);
    assert_int_equal(dir, 0);
    assert_int_equal(c->flow.cli.port, 22);
    struct hs_pkt r = pkt4("10.0.0.5", 50001, "10.0.0.6", 700, 6, TH_ACK);
    c = insert(t, &r, &dir, 1);
    assert_int_equal(dir, 0);
    assert_int_equal(c->flow.srv.port, 700);
    struct hs_pkt u = pkt4("10.0.0.6", 700, "10.0.0.5", 50002, 6, TH_ACK);
    c = insert(t, &u, &dir, 1);
    assert_int_equal(dir, 1);
    assert_int_equal(c->flow.cli.port, 50002);
}

static void test_flow_client_is_first_sender_when_ports_equal(void **state)
{
    struct flow_table *t = *state;
    struct hs_pkt p = pkt4("10.0.0.2", 5000, "10.0.0.1", 5000, 17, 0);
    int dir = -1;
    struct hs_conn *c = insert(t, &p, &dir, 1);
    assert_int_equal(dir, 0);
    assert_int_equal(port_of_ip(&c->flow.cli, "10.0.0.2"), 5000);
    assert_int_equal(port_of_ip(&c->flow.srv, "10.0.0.1"), 5000);
    /* Same ports both ways: the addresses still tell the directions apart. */
    struct hs_pkt back = rev(&p);
    assert_ptr_equal(find(t, &back, &dir), c);
    assert_int_equal(dir, 1);
}

/* ---- ids and LRU order --------------------------------------------------------------------------- */

static void test_flow_ids_in_creation_order(void **state)
{
    struct flow_table *t = *state;
    int dir;
    struct hs_pkt pa = pkt4("10.0.0.1", 50000, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_pkt pb = pkt4("10.0.0.1", 50001, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_pkt pc = pkt4("10.0.0.1", 50002, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_conn *a = insert(t, &pa, &dir, 1);
    struct hs_conn *b = insert(t, &pb, &dir, 1);
    flow_unlink(t, b);
    uint64_t bid = b->flow.id;
    free(b);
    struct hs_conn *c = insert(t, &pc, &dir, 1);
    assert_int_equal(bid, a->flow.id + 1);
    assert_int_equal(c->flow.id, bid + 1); /* an id is not reused after its connection is gone */
}

static void test_flow_touch_moves_to_most_recent_end(void **state)
{
    struct flow_table *t = *state;
    int dir;
    struct hs_pkt pa = pkt4("10.0.0.1", 50000, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_pkt pb = pkt4("10.0.0.1", 50001, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_pkt pc = pkt4("10.0.0.1", 50002, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_conn *a = insert(t, &pa, &dir, 10);
    struct hs_conn *b = insert(t, &pb, &dir, 11);
    struct hs_conn *c = insert(t, &pc, &dir, 12);
    assert_ptr_equal(t->lru_head, a);
    assert_ptr_equal(t->lru_tail, c);
    uint64_t now = at(20);
    flow_touch(t, a, now);
    assert_int_equal(a->last_seen, at(20));
    assert_ptr_equal(t->lru_head, b);
    assert_ptr_equal(t->lru_tail, a);
    assert_ptr_equal(b->lru_next, c);
    assert_ptr_equal(c->lru_next, a);
    assert_null(a->lru_next);
    assert_ptr_equal(a->lru_prev, c);
    assert_null(b->lru_prev);
    /* Touching the most recent one keeps the order and updates its time. */
    now = at(21);
    flow_touch(t, a, now);
    assert_ptr_equal(t->lru_tail, a);
    assert_ptr_equal(t->lru_head, b);
    assert_int_equal(a->last_seen, at(21));
    now = at(22);
    flow_touch(t, c, now);
    assert_ptr_equal(t->lru_head, b);
    assert_ptr_equal(b->lru_next, a);
    assert_ptr_equal(a->lru_next, c);
    assert_ptr_equal(t->lru_tail, c);
}

static void test_flow_idle_only_when_idle_longer_than_timeout(void **state)
{
    struct flow_table *t = *state;
    uint64_t now = at(1000);
    assert_null(flow_idle(t, now, at(60), NULL)); /* empty table */
    int dir;
    struct hs_pkt pa = pkt4("10.0.0.1", 50000, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_pkt pb = pkt4("10.0.0.1", 50001, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_conn *a = insert(t, &pa, &dir, 100);
    struct hs_conn *b = insert(t, &pb, &dir, 150);
    now = at(160);
    assert_null(flow_idle(t, now, at(60), NULL)); /* idle exactly the timeout: not yet */
    now = at(161);
    assert_ptr_equal(flow_idle(t, now, at(60), NULL), a);
    assert_null(flow_idle(t, now, at(60), a)); /* the connection of the packet being processed is spared */
    assert_ptr_equal(flow_idle(t, now, at(60), b), a);
    /* Only the least recently seen is considered: once a is seen again, b (idle 11 s) is not idle. */
    flow_touch(t, a, now);
    assert_null(flow_idle(t, now, at(60), NULL));
    now = at(211);
    assert_ptr_equal(flow_idle(t, now, at(60), NULL), b);
    flow_unlink(t, b);
    free(b);
    assert_null(flow_idle(t, now, at(60), NULL)); /* a: idle 50 s */
}

static void test_flow_unlink_removes_connection(void **state)
{
    struct flow_table *t = *state;
    int dir;
    struct hs_pkt pa = pkt4("10.0.0.1", 50000, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_pkt pb = pkt4("10.0.0.1", 50001, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_pkt pc = pkt4("10.0.0.1", 50002, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_conn *a = insert(t, &pa, &dir, 1);
    struct hs_conn *b = insert(t, &pb, &dir, 2);
    struct hs_conn *c = insert(t, &pc, &dir, 3);
    flow_unlink(t, b); /* from the middle */
    free(b);
    assert_int_equal(t->n, 2);
    assert_null(find(t, &pb, &dir));
    struct hs_pkt pb_back = rev(&pb);
    assert_null(find(t, &pb_back, &dir));
    assert_ptr_equal(find(t, &pa, &dir), a);
    assert_ptr_equal(find(t, &pc, &dir), c);
    assert_ptr_equal(a->lru_next, c);
    assert_ptr_equal(c->lru_prev, a);
    flow_unlink(t, a); /* the head */
    free(a);
    assert_ptr_equal(t->lru_head, c);
    assert_null(c->lru_prev);
    flow_unlink(t, c); /* the last */
    free(c);
    assert_null(t->lru_head);
    assert_null(t->lru_tail);
    assert_int_equal(t->n, 0);
    assert_null(find(t, &pc, &dir));
    /* The same 5-tuple may come back as a new connection (picked up mid-stream, from the server). */
    pb_back.tcp_flags = TH_ACK;
    struct hs_conn *again = insert(t, &pb_back, &dir, 4);
    assert_int_equal(dir, 1); /* from the server's port 445 */
    assert_ptr_equal(find(t, &pb, &dir), again);
    assert_int_equal(dir, 0);
}

/* flow_lru_sort_by_id (the end of a run closes connections in creation order): every connection stays on the
 * list, in id order, with its back links and the table's ends right; for 0, 1, 2 and a number that is not a power
 * of two, touched in a scrambled order. */
static void test_flow_lru_sort_by_id_orders_every_connection(void **state)
{
    struct flow_table *t = *state;
    flow_lru_sort_by_id(t); /* empty */
    assert_null(t->lru_head);
    assert_null(t->lru_tail);
    enum { N = 1000 };
    int dir;
    uint32_t added = 0;
    for (uint32_t n = 1; n <= N; n = n < 3 ? n + 1 : n * 7 + 3) {
        for (; added < n; added++) {
            char cli[24];
            snprintf(cli, sizeof cli, "10.2.%u.%u", added / 250, added % 250 + 1);
            struct hs_pkt p = pkt4(cli, 50000, "10.0.0.2", 445, 6, TH_SYN);
            insert(t, &p, &dir, added)->flow.id = 1 + added; /* as the engine sets it: creation order */
        }
        for (uint32_t k = 0; k < added; k++) { /* scramble the last-seen order: touch every 7th from the head */
            struct hs_conn *c = t->lru_head;
            for (uint32_t j = 0; j < (k * 7) % added; j++)
                c = c->lru_next;
            flow_touch(t, c, at(10000 + k));
        }
        if (n % 2) /* both ways: through the array, and in place (what it does without memory) */
            flow_lru_sort_by_id(t);
        else
            flow_lru_sort_by_id_in_place(t);
        uint32_t seen = 0;
        const struct hs_conn *prev = NULL;
        for (const struct hs_conn *c = t->lru_head; c; c = c->lru_next) {
            assert_ptr_equal(c->lru_prev, prev);
            if (prev)
                assert_true(prev->flow.id < c->flow.id);
            prev = c;
            seen++;
        }
        assert_ptr_equal(t->lru_tail, prev);
        assert_int_equal(seen, added);
    }
}

static void test_flow_many_connections_found_and_unlinked(void **state)
{
    struct flow_table *t = *state;
    /* Enough connections for hash chains to form (64K buckets): unlinking half leaves the rest findable. */
    enum { N = 6000 };
    struct hs_conn **cs = calloc(N, sizeof *cs);
    assert_non_null(cs);
    int dir;
    for (int i = 0; i < N; i++) {
        char cli[16];
        snprintf(cli, sizeof cli, "10.1.%d.%d", i / 250, i % 250 + 1);
        struct hs_pkt p = pkt4(cli, (uint16_t)(49152 + i % 7), "10.0.0.2", 445, 6, TH_SYN);
        cs[i] = insert(t, &p, &dir, i);
    }
    assert_int_equal(t->n, N);
    for (int i = 0; i < N; i += 2) {
        flow_unlink(t, cs[i]);
        free(cs[i]);
    }
    assert_int_equal(t->n, N / 2);
    for (int i = 0; i < N; i++) {
        char cli[16];
        snprintf(cli, sizeof cli, "10.1.%d.%d", i / 250, i % 250 + 1);
        struct hs_pkt p = pkt4("10.0.0.2", 445, cli, (uint16_t)(49152 + i % 7), 6, TH_ACK);
        struct hs_conn *c = find(t, &p, &dir);
        if (i % 2) {
            assert_ptr_equal(c, cs[i]);
            assert_int_equal(dir, 1);
        } else {
            assert_null(c);
        }
    }
    free(cs);
}

/* The hash starts small and doubles with the connections it holds, up to a quarter of max_flows; every
 * connection is still found, from either side, after each growth. */
static void test_flow_hash_grows_with_connections_up_to_its_cap(void **state)
{
    struct flow_table *small = *state; /* max_flows 1024: 256 buckets, never more */
    struct flow_table big;
    assert_int_equal(flow_table_init(&big, 1u << 20), 0);
    assert_int_equal(big.nbuckets, FLOW_BUCKETS_START);
    assert_int_equal(small->nbuckets, 256);
    enum { N = 6000 };
    int dir;
    for (int i = 0; i < N; i++) {
        char cli[16];
        snprintf(cli, sizeof cli, "10.2.%d.%d", i / 250, i % 250 + 1);
        struct hs_pkt p = pkt4(cli, (uint16_t)(49152 + i % 7), "10.0.0.2", 445, 6, TH_SYN);
        insert(&big, &p, &dir, i);
        insert(small, &p, &dir, i);
        assert_true(big.nbuckets >= big.n || big.nbuckets == big.max_buckets);
    }
    assert_int_equal(big.nbuckets, 8192); /* 1024 -> 2048 -> 4096 -> 8192 as n passed each */
    assert_int_equal(small->nbuckets, 256);
    for (int i = 0; i < N; i++) {
        char cli[16];
        snprintf(cli, sizeof cli, "10.2.%d.%d", i / 250, i % 250 + 1);
        struct hs_pkt p = pkt4("10.0.0.2", 445, cli, (uint16_t)(49152 + i % 7), 6, TH_ACK);
        struct hs_conn *c = find(&big, &p, &dir);
        assert_non_null(c);
        assert_int_equal(dir, 1);
        assert_int_equal(c->flow.id, (uint64_t)i);
        assert_non_null(find(small, &p, &dir));
    }
    while (big.lru_head) {
        struct hs_conn *c = big.lru_head;
        flow_unlink(&big, c);
        free(c);
    }
    flow_table_free(&big);
}

/* ---- IPv6 ----------------------------------------------------------------------------------------- */

static void test_flow_ipv6_keys(void **state)
{
    struct flow_table *t = *state;
    int dir;
    struct hs_pkt p1 = pkt6("fd00::1e", 50000, "fd00::a", 445, TH_SYN);
    struct hs_pkt p2 = pkt6("fd00::1f", 50000, "fd00::a", 445, TH_SYN); /* differs in the last byte */
    struct hs_pkt p3 = pkt6("fd01::1e", 50000, "fd00::a", 445, TH_SYN); /* differs in the first bytes */
    struct hs_conn *c1 = insert(t, &p1, &dir, 1);
    assert_int_equal(dir, 0);
    assert_null(find(t, &p2, &dir));
    struct hs_conn *c2 = insert(t, &p2, &dir, 1);
    struct hs_conn *c3 = insert(t, &p3, &dir, 1);
    assert_ptr_not_equal(c1, c2);
    assert_int_equal(c1->flow.af, 6);
    assert_memory_equal(c1->flow.cli.ip, p1.src, 16);
    assert_memory_equal(c1->flow.srv.ip, p1.dst, 16);
    struct hs_pkt b1 = rev(&p1), b2 = rev(&p2), b3 = rev(&p3);
    assert_ptr_equal(find(t, &b1, &dir), c1);
    assert_int_equal(dir, 1);
    assert_ptr_equal(find(t, &b2, &dir), c2);
    assert_int_equal(dir, 1);
    assert_ptr_equal(find(t, &b3, &dir), c3);
    /* An IPv4 packet whose addresses fill the same first bytes is not an IPv6 connection. */
    struct hs_pkt v4 = pkt4("10.0.0.1", 50000, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_conn *c4 = insert(t, &v4, &dir, 1);
    struct hs_pkt v6 = v4;
    v6.af = 6;
    assert_null(find(t, &v6, &dir));
    assert_ptr_equal(find(t, &v4, &dir), c4);
    assert_int_equal(t->n, 4);
}

static void test_flow_colliding_hashes_told_apart_by_full_key(void **state)
{
    struct flow_table *t = *state;
    /* Hashes collide (forced here: all get hash 7); the key compare must still tell them apart, by the
     * whole 16-byte address and by the address family (10.0.0.1 and a00:1:: are the same 16 bytes). */
    struct hs_pkt p1 = pkt6("fd00::1e", 50000, "fd00::a", 445, TH_SYN);
    struct hs_pkt p2 = pkt6("fd00::1f", 50000, "fd00::a", 445, TH_SYN);
    struct hs_pkt v4 = pkt4("10.0.0.1", 50000, "10.0.0.2", 445, 6, TH_SYN);
    struct hs_pkt v6 = pkt6("a00:1::", 50000, "a00:2::", 445, TH_SYN);
    assert_memory_equal(v4.src, v6.src, 16);
    uint64_t now = at(1);
    int dir;
    struct hs_conn *c1 = flow_insert(t, &p1, 7, &dir, now);
    assert_non_null(c1);
    assert_null(flow_find(t, &p2, 7, &dir));
    struct hs_conn *c2 = flow_insert(t, &p2, 7, &dir, now);
    assert_non_null(c2);
    assert_null(flow_find(t, &v4, 7, &dir));
    struct hs_conn *c4 = flow_insert(t, &v4, 7, &dir, now);
    assert_non_null(c4);
    assert_null(flow_find(t, &v6, 7, &dir));
    assert_ptr_equal(flow_find(t, &p1, 7, &dir), c1);
    assert_ptr_equal(flow_find(t, &p2, 7, &dir), c2);
    assert_ptr_equal(flow_find(t, &v4, 7, &dir), c4);
    struct hs_pkt b2 = rev(&p2);
    assert_ptr_equal(flow_find(t, &b2, 7, &dir), c2);
    assert_int_equal(dir, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tbl_setup, tbl_teardown)
    const struct CMUnitTest tests[] = {
        T(test_flow_find_gives_direction_from_either_side),
        T(test_flow_hash_same_both_directions),
        T(test_flow_client_is_syn_sender),
        T(test_flow_client_is_synack_receiver),
        T(test_flow_client_not_on_server_port_without_syn),
        T(test_flow_client_is_unprivileged_side_without_syn_or_known_port),
        T(test_flow_client_by_privileged_port_else_first_sender),
        T(test_flow_client_is_first_sender_when_ports_equal),
        T(test_flow_ids_in_creation_order),
        T(test_flow_touch_moves_to_most_recent_end),
        T(test_flow_idle_only_when_idle_longer_than_timeout),
        T(test_flow_unlink_removes_connection),
        T(test_flow_lru_sort_by_id_orders_every_connection),
        T(test_flow_many_connections_found_and_unlinked),
        T(test_flow_hash_grows_with_connections_up_to_its_cap),
        T(test_flow_ipv6_keys),
        T(test_flow_colliding_hashes_told_apart_by_full_key),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
