/* The engine: packets in, connections tracked, streams reassembled, dissectors fed, records out. */
#ifndef HOPSCOPE_ENGINE_H
#define HOPSCOPE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "decode.h"
#include "dissector.h"
#include "flow.h"
#include "reasm.h"
#include "records.h"
#include "stats.h"
#include "stream.h"

struct kc_keys;
struct hs_creds;

/* The connection a packet belonged to, as engine_packet() leaves it in hs_engine.last (for -w, which keeps
 * the packets of connections that carried authentication). */
struct hs_pkt_conn {
    uint64_t conn_id;                /* the connection's flow id + 1, or 0: no connection (not TCP/UDP, dropped) */
    bool auth;                       /* the connection has started a record (auth or KDC exchange), now or before */
    bool ignored;                    /* nothing hopscope dissects, or closed: no record will start any more */
};

#define ENGINE_CONN_COST (sizeof(struct hs_conn) + 16u)   /* with the allocator's overhead */
#define ENGINE_PART_COST (sizeof(struct conn_part) + 16u)
#define ENGINE_CLOSED_LINGER 60u   /* seconds a closed connection stays in the table (TCP's 2 MSL, RFC 9293 3.4.2) */
/* ... a closed UDP exchange: a span port's second copy comes within milliseconds, a client's retransmission of a
 * request whose reply it missed within its KDC timeout (Windows' KdcWaitTime, 10 s by default; MIT's 1 s, doubled
 * per try). At ENGINE_CLOSED_MAX, the cap is reached at 273 exchanges a second, not 68 as with 60 s. */
#define ENGINE_UDP_CLOSED_LINGER 15u
#define ENGINE_CLOSED_MAX 4096u    /* closed connections kept at most; beyond, the oldest close leaves */
#define ENGINE_DSTATE_COST 512u                            /* a dissector's state before authentication */

/*
 * Where the engine stands in the run, as the order of what it hands to the sink chain: a frame, then the class of
 * work at that frame (a packet's own connection before it is touched: flow-cap eviction, a SYN reusing a 5-tuple;
 * idle expiry, in the order the expired connections were last touched; the packet itself: memory eviction, its
 * bytes, the stream hand-over; a live capture's idle expiry between packets), then `sub` (the expired
 * connection's last touching frame; at the end of the run, frame UINT64_MAX, each connection's creation frame).
 * A run hands records over in non-decreasing key order, so a --threads run rebuilds the one-engine order by
 * merging its engines' records by key (src/engine/pipeline.c).
 */
enum engine_key_class {
    ENGINE_KEY_BEFORE = 0,
    ENGINE_KEY_EXPIRY = 1,
    ENGINE_KEY_PACKET = 2,
    ENGINE_KEY_IDLE = 4,
};
struct engine_key {
    uint64_t frame;
    uint8_t cls;                     /* enum engine_key_class */
    uint64_t sub;
};

struct hs_engine {
    struct hs_limits lim;
    struct hs_stats st;
    struct hs_decoder dec;
    struct rec_store recs;           /* records in progress, and the sink chain they go to */
    struct hs_sink *sink;
    struct kc_keys *keys;            /* keytabs given with -k, or NULL (krbcrypt.h) */
    const struct hs_creds *creds;    /* accounts given with --creds, or NULL (creds.h) */
    struct flow_table flows;
    uint64_t ooo_total;              /* out-of-order bytes queued in all connections */
    uint64_t conn_mem;               /* what connections hold besides out-of-order and PDU buffers (estimate) */
    struct stream_budget budget;     /* PDU buffers of all streams */
    /* the packet being processed */
    uint64_t frame;
    struct timeval now;
    /* The engine clock (µs) idle expiry runs on: it moves forward by each step forward of the capture's
     * timestamps and stands still when they step back, so it never decreases. */
    uint64_t clock;
    int64_t last_ts_us;              /* the previous packet's timestamp, µs */
    bool have_ts;
    /* How far engine_idle() moved the clock past the previous packet's timestamp (µs): a packet stamped
     * within that much of its predecessor finds the clock there already and does not move it again. */
    uint64_t idle_ahead_us;
    /* scratch for decoding (base64 HTTP tokens), lim.max_pdu bytes; one engine is single-threaded */
    uint8_t *scratch;
    size_t scratch_cap;
    struct hs_ctx ctx;               /* what a dissector sees, refilled per call */
    struct hs_conn *cur;             /* the connection reassembly is feeding (the reasm_io argument) */
    struct reasm_io io;              /* set up once; frame set per packet */
    struct hs_pkt_conn last;         /* what engine_packet() made of the packet it was last given */
    /* Closed connections, oldest close first: each stays ENGINE_CLOSED_LINGER seconds, a UDP exchange
     * ENGINE_UDP_CLOSED_LINGER (late retransmissions and the last ACKs are recognised as its own), at most ENGINE_CLOSED_MAX of them, then leaves the table.
     * TCP's and UDP's apart, so that a DC's many UDP exchanges do not push TCP's out early. */
    struct hs_conn *closed_head, *closed_tail;
    uint32_t n_closed;
    struct hs_conn *uclosed_head, *uclosed_tail;
    uint32_t n_uclosed;
    const struct hs_capture_stats *cap; /* a live capture's counters for the stats records (main refreshes
                                         * them before each), or NULL */
    struct engine_key key;           /* where the run stands (enum engine_key_class) */
};

/*
 * Sets up an engine whose completed records go to sink (the head of a chain: correlation, writers; NULL
 * drops them). The engine must not move in memory afterwards. Returns 0, or -1 when memory is short.
 */
int engine_init(struct hs_engine *e, const struct hs_limits *lim, struct hs_sink *sink);

/*
 * Processes one captured frame (frame number, timestamp, caplen bytes of link type dlt).
 * Malformed input is counted, never fatal.
 */
void engine_packet(struct hs_engine *e, int dlt, uint64_t frame, const struct timeval *ts,
                   const uint8_t *data, uint32_t caplen);

/*
 * engine_packet() in two halves, for a --threads run (src/engine/pipeline.c) that decodes in one thread and
 * follows connections in several engines. engine_dispatch() counts the frame, sets the engine's frame and time,
 * steps its clock and decodes the frame into *pkt (whose payload may point into data or into the decoder's
 * reassembly buffer, valid until the next call); false when the frame is not TCP or UDP that decodes. Then
 * engine_conn_packet() runs the connection half on an engine whose frame, now and clock the caller set (the
 * dispatching engine's, for the same frame): the flow, its expiry checks, reassembly, dissectors and records.
 * engine_touches() says whether the connection half touches a connection for pkt (TCP, or UDP a dissector
 * claims by port) and so runs the expiry checks of every connection of the engine.
 */
bool engine_dispatch(struct hs_engine *e, int dlt, uint64_t frame, const struct timeval *ts, const uint8_t *data,
                     uint32_t caplen, struct hs_pkt *pkt);
bool engine_touches(const struct hs_pkt *pkt);
void engine_conn_packet(struct hs_engine *e, const struct hs_pkt *pkt);

/*
 * What a frame handled by another engine of a --threads run does to this one: at `frame` (time ts, engine clock
 * `clock`, µs) the connections idle past the timeout expire and closed ones past their linger leave, as
 * engine_conn_packet() would have made them in one engine.
 */
void engine_replay(struct hs_engine *e, uint64_t frame, const struct timeval *ts, uint64_t clock);

/* engine_idle()'s clock alone: moves the clock as engine_idle() does; true when it moved. */
bool engine_idle_clock(struct hs_engine *e, int64_t now_us);

/* engine_idle()'s expiry alone, on an engine whose clock a --threads run moves: the clock is set to `clock` and
 * the connections idle past the timeout expire. */
void engine_idle_expire(struct hs_engine *e, uint64_t clock);

/* engine_finish() without the stats and the end: every connection still open is closed, in creation order (the
 * LRU list is left in that order: for the end of a run). */
void engine_close_all(struct hs_engine *e);

/*
 * Time passes with no packet (a live capture on an idle link): now_us is the time, in µs since the epoch on
 * the capture's clock, a packet arriving now would be stamped with — the caller measures it on a monotonic
 * clock from the last packet's timestamp, so a step of the wall clock cannot move it. The engine clock moves
 * forward to it, never back (a now_us before the last packet, or before an earlier call, changes nothing);
 * connections idle past the timeout expire (their records written, as at expiry by packet time), and the sink
 * chain is told the time (sink_tick) so that correlation windows close. Before the first packet it does
 * nothing. Offline runs never call it, so their output depends on the capture alone.
 */
void engine_idle(struct hs_engine *e, int64_t now_us);

/* The engine's time, µs since the epoch: the last packet's timestamp moved on by engine_idle(); false (and
 * *now_us untouched) before the first packet. */
bool engine_now(const struct hs_engine *e, int64_t *now_us);

/* Counts a frame of a medium hopscope does not decode (e.g. a Network Monitor event record). */
void engine_frame_undecoded(struct hs_engine *e, uint32_t caplen);

/* Fills v with the counters and what the engine holds now, at the engine's time (engine_now()). */
void engine_stats_view(const struct hs_engine *e, struct hs_stats_view *v);

/* Writes a periodic `stats` record (--stats-interval) through the sink chain: the view of
 * engine_stats_view(), marked periodic (no findings are made for it), at time now_us (µs since the epoch: a
 * live capture's clock may have a time before its first packet). */
void engine_stats(struct hs_engine *e, int64_t now_us);

/* Ends every connection still open (records written in connection creation order), then hands the
 * stats and the end of the run to the sink chain. */
void engine_finish(struct hs_engine *e);

/*
 * What connections hold, in bytes, as held against lim.max_memory: each connection (ENGINE_CONN_COST), the
 * streams and records list of those that carried data (ENGINE_PART_COST), an estimate of each dissector
 * state (ENGINE_DSTATE_COST), their out-of-order queues and their PDU buffers, and the records in progress
 * (rec_store.held_bytes: an authentication record with the NTLM messages it keeps is ~10 KB). Records are
 * also capped by count (lim.max_records_total).
 */
uint64_t engine_memory(const struct hs_engine *e);

/* Frees everything (records still held are dropped unwritten). */
void engine_free(struct hs_engine *e);

#endif
