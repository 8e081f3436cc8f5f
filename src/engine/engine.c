/* The engine: decode → flow → TCP reassembly → the registry's dissectors, each fed through a stream. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void hs_limits_default(struct hs_limits *l)
{
    l->max_flows = 1u << 20;
    l->idle_timeout = 600;
    l->max_ooo_bytes = 1u << 20;
    l->max_ooo_total = 256ull << 20;
    l->max_pdu = 256u << 10;
    l->max_records_per_conn = 64;
    l->max_uses_per_record = 32;
    l->max_pdu_total = 256ull << 20;
    l->max_records_total = 1u << 16;
    l->max_kdc_pending_total = 1u << 14;
    l->max_memory = 512ull << 20;
}

static void conn_data(void *arg, int dir, const uint8_t *p, size_t n, uint64_t frame);
static void conn_gap(void *arg, int dir, uint64_t n);
static size_t conn_tail(void *arg, int dir, const uint8_t **p)
{
    struct hs_conn *c = ((struct hs_engine *)arg)->cur;
    if (!c->part)
        return 0;
    *p = c->part->st[dir].buf;
    return c->part->st[dir].len;
}

static void conn_pickup(void *arg, int dir);
static size_t conn_tail(void *arg, int dir, const uint8_t **p);

int engine_init(struct hs_engine *e, const struct hs_limits *lim, struct hs_sink *sink)
{
    memset(e, 0, sizeof *e);
    e->lim = *lim;
    e->sink = sink;
    rec_store_init(&e->recs, &e->lim, &e->st, sink);
    e->recs.now = &e->now;
    e->scratch_cap = lim->max_pdu;
    e->scratch = malloc(e->scratch_cap);
    if (!e->scratch || flow_table_init(&e->flows, lim->max_flows) != 0) {
        free(e->scratch);
        e->scratch = NULL; /* engine_free() may still be called */
        flow_table_free(&e->flows);
        return -1;
    }
    e->ctx.lim = &e->lim;
    e->ctx.st = &e->st;
    e->ctx.recs = &e->recs;
    e->ctx.budget = &e->budget;
    e->ctx.scratch = e->scratch;
    e->ctx.scratch_cap = e->scratch_cap;
    e->io.lim = &e->lim;
    e->io.st = &e->st;
    e->io.ooo_total = &e->ooo_total;
    /* The out-of-order queues' heap key: unknown to senders, so they cannot unbalance the queues. Only
     * speed depends on it, never output. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    e->io.salt = (uint32_t)now.tv_nsec ^ (uint32_t)now.tv_sec * 0x9E3779B1u ^ (uint32_t)getpid() << 16 ^
                 (uint32_t)(uintptr_t)e;
    e->io.arg = e;
    e->io.data = conn_data;
    e->io.gap = conn_gap;
    e->io.pickup = conn_pickup;
    e->io.tail = conn_tail;
    return 0;
}

/* The dissector's view of connection c, for bytes completed by `frame`. */
static struct hs_ctx *ctx_for(struct hs_engine *e, struct hs_conn *c, uint64_t frame)
{
    struct hs_ctx *x = &e->ctx;
    x->frame = frame;
    x->now = e->now;
    x->rc = c->part ? &c->part->rc : NULL;
    x->flow = &c->flow;
    x->saw_syn = c->saw_syn;
    x->keys = e->keys;
    x->creds = e->creds;
    return x;
}

/* c's streams and records, allocated at its first bytes; NULL when memory is short (c is then ignored). */
static struct conn_part *part_of(struct hs_engine *e, struct hs_conn *c)
{
    if (!c->part && !c->closed) {
        c->part = calloc(1, sizeof *c->part);
        if (!c->part) {
            c->app = CONN_IGNORED;
            c->dissect = false;
        } else {
            e->conn_mem += ENGINE_PART_COST;
        }
        e->ctx.rc = c->part ? &c->part->rc : NULL;
    }
    return c->part;
}

/* Gives c a dissector; false when its state could not be had (the connection is then ignored). */
static bool attach(struct hs_engine *e, struct hs_conn *c, const struct hs_dissector *d)
{
    if (!d || (!d->parse && !d->datagram)) {
        c->app = CONN_IGNORED;
        c->dissect = false;
        return false;
    }
    c->dstate = d->state_new ? d->state_new(ctx_for(e, c, e->frame)) : NULL;
    if (d->state_new && !c->dstate) {
        c->app = CONN_IGNORED;
        c->dissect = false;
        return false;
    }
    c->dis = d;
    c->app = CONN_DISSECTED;
    if (c->dstate)
        e->conn_mem += ENGINE_DSTATE_COST;
    return true;
}

/* Chooses the dissector from the first bytes of direction dir; ports only for connections picked up
 * mid-stream, whose first bytes may be inside a message. */
static void probe(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n)
{
    const struct hs_dissector *d = registry_probe(6, p, n);
    if (!d) {
        const struct hs_dissector *hint = registry_by_port(6, c->flow.srv.port);
        if (c->saw_syn || !hint) {
            /* From the start: a dissector's own port whose probe recognises the bytes in part (a KDC message
             * behind an absurd record mark) dissects them, so what is wrong is counted as malformed; anything
             * else is a protocol hopscope does not dissect, searched for NTLMSSP (dissectors/other). */
            attach(e, c, c->saw_syn && hint && hint->probe && hint->probe(p, n) > 0 ? hint : registry_fallback(6));
            return;
        }
        if (attach(e, c, hint)) {
            c->part->st[dir].resync = true;
            c->part->st[!dir].resync = true;
        }
        return;
    }
    attach(e, c, d);
    /* A stream picked up mid-stream whose probe matched only from here: the other direction may still
     * start mid-message. */
    if (!c->saw_syn)
        c->part->st[!dir].resync = true;
}

/* reasm_io callbacks: the engine is the argument, e->cur the connection being fed. */
static void conn_data(void *arg, int dir, const uint8_t *p, size_t n, uint64_t frame)
{
    struct hs_engine *e = arg;
    struct hs_conn *c = e->cur;
    if (!part_of(e, c))
        return;
    struct hs_ctx *x = &e->ctx; /* set for c by io_for() */
    x->frame = frame;
    struct hs_stream *s = &c->part->st[dir];
    if (c->app == CONN_PROBING) {
        uint8_t head[2 * PROBE_MIN];
        size_t k = 0;
        if (s->len) { /* what was kept, then the start of this segment */
            memcpy(head, s->buf, s->len);
            k = n < sizeof head - s->len ? n : sizeof head - s->len;
            memcpy(head + s->len, p, k);
        }
        const uint8_t *h = s->len ? head : p;
        size_t hn = s->len ? s->len + k : n;
        /* Too few bytes for any probe to tell (a Kerberos record mark sent in a segment of its own,
         * RFC 4120 7.2.2): keep them, and probe when more arrive — unless a probe is sure of them already (a
         * whole LDAP anonymous bind is 14 bytes): held, they would be parsed after the reply to them. */
        const struct hs_dissector *sure = (size_t)s->len + n < PROBE_MIN ? registry_probe(6, h, hn) : NULL;
        if ((size_t)s->len + n < PROBE_MIN && !(sure && sure->probe(h, hn) >= 100)) {
            if (!stream_append(s, x, p, n)) {
                e->st.pdu_oversize++;
                stream_release(s, x);
                s->resync = true;
            }
            return;
        }
        probe(e, c, dir, h, hn);
    }
    if (c->app != CONN_DISSECTED || !c->dis->parse) {
        stream_release(s, x); /* bytes kept for the probe, of a stream not dissected */
        return;
    }
    stream_feed(s, x, c->dis->parse, c->dstate, dir, p, n);
}

static void conn_gap(void *arg, int dir, uint64_t n)
{
    struct hs_engine *e = arg;
    struct hs_conn *c = e->cur;
    if (!part_of(e, c))
        return;
    stream_gap(&c->part->st[dir], ctx_for(e, c, e->frame), c->dstate, dir, n);
}

static void conn_pickup(void *arg, int dir)
{
    struct hs_engine *e = arg;
    struct hs_conn *c = e->cur;
    if (!c->saw_syn && part_of(e, c))
        c->part->st[dir].resync = true;
}

/* Points reassembly's callbacks (and the dissector context) at connection c for the current packet. */
static struct reasm_io *io_for(struct hs_engine *e, struct hs_conn *c)
{
    e->cur = c;
    e->io.frame = e->frame;
    e->io.dissecting = &c->dissect;
    ctx_for(e, c, e->frame);
    return &e->io;
}

/* The closed list c belongs on (TCP's or UDP's): its ends into *head and *tail, its length returned. */
static uint32_t *closed_list(struct hs_engine *e, const struct hs_conn *c, struct hs_conn ***head,
                             struct hs_conn ***tail)
{
    if (c->flow.proto == 17) {
        *head = &e->uclosed_head;
        *tail = &e->uclosed_tail;
        return &e->n_uclosed;
    }
    *head = &e->closed_head;
    *tail = &e->closed_tail;
    return &e->n_closed;
}

/*
 * Ends c: what is queued is delivered after gaps, the dissector is told, its records are written, and what
 * only dissection needed is freed. The connection stays in the table (closed) until it expires, so that
 * its late packets are recognised.
 */
static void conn_close(struct hs_engine *e, struct hs_conn *c)
{
    if (c->closed)
        return;
    struct reasm_io *io = io_for(e, c);
    for (int d = 0; d < 2 && c->flow.proto == 6; d++)
        reasm_flush(c->tcp, d, io);
    struct conn_part *pt = c->part;
    /* A message begun and never finished (buffered, or a body being skipped with a known length). */
    for (int d = 0; pt && d < 2; d++)
        if (c->app == CONN_DISSECTED && !pt->st[d].dead &&
            (pt->st[d].len || (pt->st[d].skip && pt->st[d].skip != UINT64_MAX)))
            e->st.partial_at_close++;
    c->closed = true;
    c->dissect = false;
    struct hs_ctx *x = ctx_for(e, c, e->frame);
    if (pt && c->dis && c->dis->eof)
        c->dis->eof(x, c->dstate);
    if (pt) {
        if (pt->rc.n_started)
            c->carried_auth = true;
        rec_conn_flush(&e->recs, &pt->rc);
        for (int d = 0; d < 2; d++)
            stream_release(&pt->st[d], x);
    }
    if (c->dis && c->dis->state_free)
        c->dis->state_free(c->dstate);
    if (c->dstate)
        e->conn_mem -= ENGINE_DSTATE_COST;
    c->dstate = NULL;
    if (pt)
        e->conn_mem -= ENGINE_PART_COST;
    free(pt);
    c->part = NULL;
    /* onto its closed list, newest last */
    struct hs_conn **head, **tail;
    uint32_t *n = closed_list(e, c, &head, &tail);
    c->closed_at = e->clock;
    c->closed_next = NULL;
    c->closed_prev = *tail;
    if (*tail)
        (*tail)->closed_next = c;
    else
        *head = c;
    *tail = c;
    (*n)++;
}

static void closed_unlink(struct hs_engine *e, struct hs_conn *c)
{
    struct hs_conn **head, **tail;
    uint32_t *n = closed_list(e, c, &head, &tail);
    if (c->closed_prev)
        c->closed_prev->closed_next = c->closed_next;
    else if (*head == c)
        *head = c->closed_next;
    else
        return; /* not on the list */
    if (c->closed_next)
        c->closed_next->closed_prev = c->closed_prev;
    else
        *tail = c->closed_prev;
    c->closed_prev = c->closed_next = NULL;
    (*n)--;
}

/* Closes c, takes it out of the table and frees it. */
static void conn_remove(struct hs_engine *e, struct hs_conn *c)
{
    conn_close(e, c);
    closed_unlink(e, c);
    flow_unlink(&e->flows, c);
    e->conn_mem -= ENGINE_CONN_COST;
    free(c);
}

/* The connection of pkt, created if new (the least recently seen one gives way at the cap); c is marked
 * seen, and connections idle past the timeout expire. */
static inline struct hs_conn *conn_get(struct hs_engine *e, const struct hs_pkt *pkt, int *dir)
{
    uint32_t h = flow_hash(pkt);
    struct hs_conn *c = flow_find(&e->flows, pkt, h, dir);
    if (!c) {
        if (e->flows.n >= e->lim.max_flows && e->flows.lru_head) {
            e->st.flows_evicted++;
            conn_remove(e, e->flows.lru_head);
        }
        c = flow_insert(&e->flows, pkt, h, dir, e->clock);
        if (!c)
            return NULL;
        /* The creation frame: unique (a frame creates at most one connection) and in creation order, and the
         * same whichever engine of a --threads run holds the connection. */
        c->flow.id = e->frame;
        e->conn_mem += ENGINE_CONN_COST;
        e->st.flows++;
    }
    return c;
}

uint64_t engine_memory(const struct hs_engine *e)
{
    return e->conn_mem + e->ooo_total + e->budget.held + e->recs.held_bytes;
}

/* Marks c seen; connections idle past the timeout expire, and while connections hold more than
 * lim.max_memory the least recently seen (other than c) are evicted. */
/* Closed connections leave after their linger (linger_s seconds), or the oldest closes when more than
 * ENGINE_CLOSED_MAX are closed;
 * keep (a late packet's closed connection, or NULL) stays for this packet, and those closed after it are not held
 * up by it. One function for conn_touch() and engine_replay(), so that one engine and the workers of --threads
 * forget the same connections at the same frame. */
static void closed_expire_list(struct hs_engine *e, struct hs_conn *old, const uint32_t *n, const struct hs_conn *keep,
                               uint32_t linger_s)
{
    uint64_t linger = (uint64_t)linger_s * 1000000u;
    while (old && (*n > ENGINE_CLOSED_MAX || e->clock - old->closed_at > linger)) {
        struct hs_conn *next = old->closed_next;
        if (old != keep) {
            if (e->clock - old->closed_at <= linger)
                e->st.closed_forgotten++; /* before its linger: a late retransmission (or a UDP exchange's late
                                             copy) would open a connection */
            conn_remove(e, old);
        }
        old = next;
    }
}

static void closed_expire(struct hs_engine *e, const struct hs_conn *keep)
{
    closed_expire_list(e, e->closed_head, &e->n_closed, keep, ENGINE_CLOSED_LINGER);
    /* a KDC's exchanges do not push TCP's out */
    closed_expire_list(e, e->uclosed_head, &e->n_uclosed, keep, ENGINE_UDP_CLOSED_LINGER);
}

static void conn_touch(struct hs_engine *e, struct hs_conn *c)
{
    flow_touch(&e->flows, c, e->clock);
    c->touch_frame = e->frame;
    struct hs_conn *old;
    while ((old = flow_idle(&e->flows, e->clock, (uint64_t)e->lim.idle_timeout * 1000000u, c)) != NULL) {
        e->st.flows_expired++;
        e->key = (struct engine_key){e->frame, ENGINE_KEY_EXPIRY, old->touch_frame};
        conn_remove(e, old);
    }
    e->key = (struct engine_key){e->frame, ENGINE_KEY_PACKET, 0};
    while (engine_memory(e) > e->lim.max_memory && (old = e->flows.lru_head) != NULL && old != c) {
        e->st.memory_evicted++;
        conn_remove(e, old);
    }
    closed_expire(e, c);
}

/*
 * Does a SYN (without ACK) with sequence number seq from direction dir start a new connection on c's
 * 5-tuple? After a close, always. Otherwise when its ISN differs from the SYN seen before (a retransmitted
 * SYN carries the same one), or when that side already sent data without a SYN: the end of the old
 * connection was not captured, and its state (a body being skipped, a message half read, a record in
 * progress) must not swallow the new connection's bytes.
 */
static bool syn_starts_new(const struct hs_conn *c, int dir, uint32_t seq)
{
    const struct tcp_half *h = &c->tcp[dir];
    return c->closed || (h->syn ? h->isn != seq : h->seq_known);
}

/*
 * A datagram of a protocol a dissector claims by port (Kerberos, RFC 4120 7.2.1). Its "connection" is the
 * 4-tuple. Once a datagram leaves it with records started and none in progress (every request answered: a KDC
 * client takes a new port for each exchange, RFC 4120 7.2.1), it closes as a TCP connection does: its records are
 * written, its buffers freed, and it lingers on UDP's closed list (ENGINE_UDP_CLOSED_LINGER, at most
 * ENGINE_CLOSED_MAX) instead of holding its state until the idle timeout. A byte-identical copy of its last request
 * or reply on the closed connection (the span port's second copy, a retransmission) is dropped, as the dissector
 * drops copies while it is open; any other datagram on it starts the 4-tuple afresh (a new exchange on a reused
 * port).
 */
static void udp_packet(struct hs_engine *e, const struct hs_pkt *pkt)
{
    const struct hs_dissector *d = registry_by_port(17, pkt->sport);
    if (!d)
        d = registry_by_port(17, pkt->dport);
    if (!d || !d->datagram)
        return; /* of UDP, only what a dissector claims by port (Kerberos, RFC 4120 7.2.1) */
    int dir;
    struct hs_conn *c = conn_get(e, pkt, &dir);
    if (!c)
        return;
    if (c->closed) {
        uint64_t dg = copy_digest(pkt->payload, pkt->paylen);
        /* a copy only within the linger (the expiry runs after this packet): the same request minutes later,
         * a replayed trace's, is a new exchange */
        bool lingering = e->clock - c->closed_at <= (uint64_t)ENGINE_UDP_CLOSED_LINGER * 1000000u;
        if (lingering && (dg == c->udp_copies[0] || dg == c->udp_copies[1])) {
            conn_touch(e, c);
            e->last = (struct hs_pkt_conn){c->flow.id + 1, c->carried_auth, true};
            return;
        }
        conn_remove(e, c);
        c = conn_get(e, pkt, &dir);
        if (!c)
            return;
    }
    conn_touch(e, c);
    if (!part_of(e, c))
        return;
    if (c->app == CONN_PROBING)
        attach(e, c, d);
    if (c->app != CONN_DISSECTED)
        return;
    c->dis->datagram(ctx_for(e, c, e->frame), c->dstate, dir, pkt->payload, pkt->paylen);
    e->last = (struct hs_pkt_conn){c->flow.id + 1, (c->carried_auth || (c->part && c->part->rc.n_started > 0)), false};
    if (c->part && c->part->rc.n_started && !c->part->rc.head) {
        uint64_t copies[2] = {0, 0};
        if (c->dis->copies)
            c->dis->copies(c->dstate, copies);
        else
            copies[0] = copy_digest(pkt->payload, pkt->paylen);
        conn_close(e, c);
        c->udp_copies[0] = copies[0];
        c->udp_copies[1] = copies[1];
    }
}

/* Advances the engine clock by the step from the previous packet's timestamp to ts; a step back leaves it
 * where it is and is counted, as is a step forward longer than the idle timeout (all idle connections
 * expire at once). Time engine_idle() already moved the clock by is not counted twice. */
static void clock_step(struct hs_engine *e, const struct timeval *ts)
{
    int64_t t = (int64_t)ts->tv_sec * 1000000 + (int64_t)ts->tv_usec;
    if (e->have_ts && t < e->last_ts_us) {
        e->st.time_steps_back++;
        e->idle_ahead_us = 0;
    } else if (e->have_ts) {
        uint64_t d = (uint64_t)(t - e->last_ts_us);
        if (d > e->idle_ahead_us) {
            d -= e->idle_ahead_us;
            e->idle_ahead_us = 0;
            if (d > (uint64_t)e->lim.idle_timeout * 1000000u)
                e->st.time_steps_forward++;
            e->clock += d;
        } else {
            e->idle_ahead_us -= d;
        }
    }
    e->have_ts = true;
    e->last_ts_us = t;
}

bool engine_now(const struct hs_engine *e, int64_t *now_us)
{
    if (!e->have_ts)
        return false;
    *now_us = e->last_ts_us + (int64_t)e->idle_ahead_us;
    return true;
}

void engine_idle_expire(struct hs_engine *e, uint64_t clock)
{
    e->clock = clock;
    struct hs_conn *old;
    while ((old = flow_idle(&e->flows, e->clock, (uint64_t)e->lim.idle_timeout * 1000000u, NULL)) != NULL) {
        e->st.flows_expired++;
        e->key = (struct engine_key){e->frame, ENGINE_KEY_IDLE, old->touch_frame};
        conn_remove(e, old);
    }
}

bool engine_idle_clock(struct hs_engine *e, int64_t now_us)
{
    if (!e->have_ts || now_us <= e->last_ts_us)
        return false;
    uint64_t ahead = (uint64_t)(now_us - e->last_ts_us);
    if (ahead <= e->idle_ahead_us)
        return false;
    e->clock += ahead - e->idle_ahead_us;
    e->idle_ahead_us = ahead;
    return true;
}

void engine_idle(struct hs_engine *e, int64_t now_us)
{
    if (!engine_idle_clock(e, now_us))
        return;
    engine_idle_expire(e, e->clock);
    struct timeval now = {(time_t)(now_us / 1000000), (suseconds_t)(now_us % 1000000)};
    sink_tick(e->sink, &now);
}

bool engine_dispatch(struct hs_engine *e, int dlt, uint64_t frame, const struct timeval *ts, const uint8_t *data,
                     uint32_t caplen, struct hs_pkt *pkt)
{
    e->st.packets++;
    e->st.bytes += caplen;
    e->frame = frame;
    e->now = *ts;
    e->last = (struct hs_pkt_conn){0, false, false};
    clock_step(e, ts);
    if (decode_packet(&e->dec, dlt, data, caplen, ts, pkt) != DEC_OK)
        return false;
    if (pkt->proto != 6)
        e->st.udp_packets++;
    else
        e->st.tcp_packets++;
    return true;
}

bool engine_touches(const struct hs_pkt *pkt)
{
    if (pkt->proto == 6)
        return true;
    const struct hs_dissector *d = registry_by_port(17, pkt->sport);
    if (!d)
        d = registry_by_port(17, pkt->dport);
    return d && d->datagram;
}

void engine_conn_packet(struct hs_engine *e, const struct hs_pkt *pkt)
{
    e->key = (struct engine_key){e->frame, ENGINE_KEY_BEFORE, 0};
    if (pkt->proto != 6) {
        udp_packet(e, pkt);
        return;
    }
    int dir;
    struct hs_conn *c = conn_get(e, pkt, &dir);
    if (!c)
        return;
    if ((pkt->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN && syn_starts_new(c, dir, pkt->seq)) {
        /* The 5-tuple is reused by a new connection. */
        conn_remove(e, c);
        c = conn_get(e, pkt, &dir);
        if (!c)
            return;
    }
    conn_touch(e, c);
    if (reasm_segment(c->tcp, dir, pkt, io_for(e, c)) && !c->closed)
        conn_close(e, c);
    if (c->part && c->part->rc.head) {
        if (e->recs.stream)
            rec_conn_stream(&e->recs, &c->part->rc);
        else
            rec_conn_peek(&e->recs, &c->part->rc);
    }
    e->last = (struct hs_pkt_conn){c->flow.id + 1, (c->carried_auth || (c->part && c->part->rc.n_started > 0)), c->app == CONN_IGNORED || c->closed};
}

void engine_packet(struct hs_engine *e, int dlt, uint64_t frame, const struct timeval *ts, const uint8_t *data,
                   uint32_t caplen)
{
    struct hs_pkt pkt;
    if (engine_dispatch(e, dlt, frame, ts, data, caplen, &pkt))
        engine_conn_packet(e, &pkt);
}

void engine_replay(struct hs_engine *e, uint64_t frame, const struct timeval *ts, uint64_t clock)
{
    e->frame = frame;
    e->now = *ts;
    e->clock = clock;
    struct hs_conn *old;
    while ((old = flow_idle(&e->flows, e->clock, (uint64_t)e->lim.idle_timeout * 1000000u, NULL)) != NULL) {
        e->st.flows_expired++;
        e->key = (struct engine_key){frame, ENGINE_KEY_EXPIRY, old->touch_frame};
        conn_remove(e, old);
    }
    closed_expire(e, NULL);
}

void engine_frame_undecoded(struct hs_engine *e, uint32_t caplen)
{
    e->st.packets++;
    e->st.bytes += caplen;
    e->dec.st.non_ip++;
}

void engine_stats_view(const struct hs_engine *e, struct hs_stats_view *v)
{
    memset(v, 0, sizeof *v);
    v->st = &e->st;
    v->dec = &e->dec.st;
    int64_t now;
    if (engine_now(e, &now)) {
        v->has_ts = true;
        v->ts.tv_sec = (time_t)(now / 1000000);
        v->ts.tv_usec = (suseconds_t)(now % 1000000);
    }
    v->flows_tracked = e->flows.n;
    v->memory = engine_memory(e);
    v->memory_limit = e->lim.max_memory;
    v->ooo_bytes = e->ooo_total;
    v->pdu_bytes = e->budget.held;
    v->cap = e->cap;
}

void engine_stats(struct hs_engine *e, int64_t now_us)
{
    struct hs_stats_view view;
    engine_stats_view(e, &view);
    view.periodic = true;
    view.has_ts = true;
    view.ts.tv_sec = (time_t)(now_us / 1000000);
    view.ts.tv_usec = (suseconds_t)(now_us % 1000000);
    sink_stats(e->sink, &view);
}

void engine_close_all(struct hs_engine *e)
{
    /* Close in creation order so output order does not depend on when flows were last seen (and so that the run
     * key of each close goes up: --threads merges by it). */
    flow_lru_sort_by_id(&e->flows);
    for (struct hs_conn *c = e->flows.lru_head; c; c = c->lru_next) {
        e->key = (struct engine_key){UINT64_MAX, ENGINE_KEY_BEFORE, c->flow.id};
        conn_close(e, c);
    }
}

void engine_finish(struct hs_engine *e)
{
    engine_close_all(e);
    struct hs_stats_view view;
    engine_stats_view(e, &view);
    sink_stats(e->sink, &view);
    sink_end(e->sink);
}

void engine_free(struct hs_engine *e)
{
    e->recs.sink = NULL; /* nothing more is written */
    while (e->flows.lru_head)
        conn_remove(e, e->flows.lru_head);
    rec_store_free(&e->recs);
    flow_table_free(&e->flows);
    free(e->scratch);
    decode_free(&e->dec);
    memset(e, 0, sizeof *e);
}
