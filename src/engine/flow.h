/* Flow table: connections keyed by 5-tuple (both directions), least recently seen first, a cap on count.
 * Times are on the engine's clock (engine.h: microseconds that only move forward), so the least recently
 * seen connection is also the one idle longest, whatever the capture's timestamps do. */
#ifndef HOPSCOPE_FLOW_H
#define HOPSCOPE_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "decode.h"
#include "dissector.h"
#include "reasm.h"
#include "records.h"
#include "stream.h"

/* Where a connection stands with the dissectors. */
enum conn_app {
    CONN_PROBING = 0, /* no dissector chosen yet */
    CONN_DISSECTED,   /* `dis` parses it */
    CONN_IGNORED,     /* nothing hopscope dissects (TLS, bulk, unknown): no reassembly at all */
};

/* What only a connection that carried data needs: its streams and its records in progress. Allocated at its
 * first bytes (a SYN flood costs no more than the hs_conn), freed when it closes. */
struct conn_part {
    struct hs_stream st[2];
    struct rec_conn rc;              /* records in progress (the record layer's) */
};

/* A connection: both directions of one 5-tuple. Direction 0 is client→server. */
struct hs_conn {
    struct hs_conn *hnext;           /* hash chain */
    struct hs_conn *lru_prev, *lru_next;
    uint32_t hash;
    struct hs_flow flow;             /* identity: id (the engine sets it to the creation frame), af, proto, client, server */
    uint64_t last_seen;              /* engine clock (µs) when last seen */
    enum conn_app app;
    bool saw_syn;
    bool closed;                     /* FIN both ways or RST (UDP: every exchange answered): records written,
                                        dissection over */
    bool carried_auth;               /* a record was ever started on it (kept when its part is freed: -w) */
    bool dissect;                    /* bytes are wanted: not closed and not ignored (reasm_io.dissecting) */
    const struct hs_dissector *dis;
    void *dstate;                    /* the dissector's per-connection state */
    union {
        struct tcp_half tcp[2];      /* TCP */
        uint64_t udp_copies[2];      /* UDP, once closed: digests of the datagrams whose copies are not new
                                        messages (hs_dissector.copies; engine.c, udp_packet) */
    };
    struct conn_part *part;          /* NULL until the first bytes (and after the close) */
    struct hs_conn *closed_prev, *closed_next; /* while closed: the engine's list of closed connections */
    uint64_t closed_at;              /* engine clock (µs) at the close */
    uint64_t touch_frame;            /* the frame that last touched it (the order of the LRU list: --threads
                                        merges the expiries of several engines at one frame by it) */
};

struct flow_table {
    struct hs_conn **buckets;
    uint32_t nbuckets;               /* power of two; doubles while n > nbuckets, up to max_buckets */
    uint32_t max_buckets;            /* power of two: max_flows / 4 (at least 64, at most 2^22) */
    uint32_t n;                      /* connections in the table */
    struct hs_conn *lru_head, *lru_tail; /* least recently seen first */
    uint64_t next_id;
};

#define FLOW_BUCKETS_START 1024u /* the hash's first size (8 KiB) */

/* Sizes the hash for max_flows connections: it starts at FLOW_BUCKETS_START buckets and grows with the
 * connections held, up to max_flows / 4 buckets. Returns 0, or -1 when memory is short. */
int flow_table_init(struct flow_table *t, uint32_t max_flows);

/* Frees the hash (the connections must have been taken out and freed). */
void flow_table_free(struct flow_table *t);

/* Symmetric hash of pkt's 5-tuple: both directions of a connection get the same value. */
uint32_t flow_hash(const struct hs_pkt *pkt);

/* The connection of pkt (whose flow_hash is h), or NULL; *dir is 0 when pkt goes client→server, 1 otherwise. */
struct hs_conn *flow_find(struct flow_table *t, const struct hs_pkt *pkt, uint32_t h, int *dir);

/*
 * Creates the connection of pkt (hash h; zeroed, seen at engine clock `now`, µs) and chooses its client: the SYN
 * sender (or the SYN-ACK's receiver); without a SYN, the side not on a well-known server port
 * (dissectors/registry.c); else, when exactly one port is privileged (< 1024), the other side; else the sender
 * of the first packet. Sets *dir as flow_find. NULL when memory is short.
 */
struct hs_conn *flow_insert(struct flow_table *t, const struct hs_pkt *pkt, uint32_t h, int *dir, uint64_t now);

/* Moves c to the most recently seen end of the LRU list. */
void flow_lru_move(struct flow_table *t, struct hs_conn *c);

/* Marks c seen at engine clock now (µs, never less than any earlier now): it moves to the most recently
 * seen end. (Every packet: inline.) */
static inline void flow_touch(struct flow_table *t, struct hs_conn *c, uint64_t now)
{
    c->last_seen = now;
    if (t->lru_tail != c)
        flow_lru_move(t, c);
}

/* The least recently seen connection if it is other than `except` and idle more than timeout_us
 * microseconds at engine clock now; else NULL. The list is in last_seen order, so when the head is not
 * idle, no connection is. */
static inline struct hs_conn *flow_idle(const struct flow_table *t, uint64_t now, uint64_t timeout_us,
                                        const struct hs_conn *except)
{
    struct hs_conn *h = t->lru_head;
    if (h && h != except && now - h->last_seen > timeout_us)
        return h;
    return NULL;
}

/* Takes c out of the table (the caller frees it). */
void flow_unlink(struct flow_table *t, struct hs_conn *c);

/* Puts the LRU list in flow.id order (creation order) instead of last-seen order, O(n log n): through an array of
 * n (id, connection) pairs (16 bytes each), or, without memory for it, by a merge sort of the list in place. For
 * the end of a run (engine_close_all()): flow_idle() reads the list as last-seen order. */
void flow_lru_sort_by_id(struct flow_table *t);

/* The same by a merge sort of the list in place, allocating nothing: what flow_lru_sort_by_id() falls back to. */
void flow_lru_sort_by_id_in_place(struct flow_table *t);

#endif
