/* TCP stream reassembly — RFC 9293 3.4 sequence space; in-order delivery, gaps made explicit. */
#ifndef HOPSCOPE_REASM_H
#define HOPSCOPE_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "stats.h"

/*
 * One out-of-order TCP segment, a node of its direction's queue: a treap (binary search tree by sequence
 * number, heap by a keyed hash of it), so insert, lookup and taking the first segment cost O(log n)
 * expected whatever order a sender chooses, and the hash key (reasm_io.salt) is not known to the sender.
 * Queued segments never overlap and all lie less than 2^31 ahead of tcp_half.next_seq, so comparing
 * sequence numbers modulo 2^32 (RFC 9293 3.4) orders them consistently.
 */
struct ooo_seg {
    struct ooo_seg *left, *right;
    uint64_t frame;      /* the frame that carried it */
    uint32_t seq, len;
    uint32_t prio;       /* heap priority: each node's is >= its children's */
    uint8_t data[];
};

/* What a queued segment costs against the out-of-order caps besides its data: its node and the
 * allocator's overhead, so that a flood of one-byte segments is bounded in memory as well as in bytes. */
#define OOO_SEG_OVERHEAD 64u

/* TCP state of one direction. */
struct tcp_half {
    struct ooo_seg *ooo; /* root of the out-of-order queue, or NULL */
    uint32_t ooo_bytes;  /* what the queue costs: data + OOO_SEG_OVERHEAD per segment */
    uint32_t next_seq;   /* next byte expected in order */
    uint32_t isn;
    uint32_t fin_seq;
    bool seq_known;
    bool fin, rst;       /* a FIN reached in sequence; a RST in the window */
    bool syn;            /* a SYN was seen, with sequence number isn */
    bool fin_pending;    /* a FIN ahead of the data delivered so far, at fin_seq */
};

/*
 * Where reassembly sends what it finds, and what it may hold. `data` gets in-order bytes of direction dir
 * with the frame that completed them (the current packet's, or, after a hole declared lost, the frame
 * that carried the queued segment); `gap` gets n bytes never seen; `pickup` says a direction's first
 * bytes were seen without its SYN. *dissecting says whether the connection's bytes are wanted at all
 * (read afresh before each delivery: a delivery may change it): when not, nothing is delivered or queued
 * and only sequence numbers are followed.
 */
struct reasm_io {
    const struct hs_limits *lim;
    struct hs_stats *st;
    uint64_t *ooo_total;         /* out-of-order queue cost in all connections (as tcp_half.ooo_bytes) */
    uint32_t salt;               /* secret key of the queues' heap priorities (chosen at random per run) */
    uint64_t frame;              /* the frame of the segment being fed */
    void *arg;
    const bool *dissecting;
    void (*data)(void *arg, int dir, const uint8_t *p, size_t n, uint64_t frame);
    void (*gap)(void *arg, int dir, uint64_t n);
    void (*pickup)(void *arg, int dir);
    /* Optional (NULL: none): the last bytes delivered in direction dir that are still held (a message's start
     * its dissector buffered), ending at next_seq: sets *p and returns their count, 0 when none. A
     * retransmission of those bytes with other content is then a conflict. */
    size_t (*tail)(void *arg, int dir, const uint8_t **p);
};

/*
 * Feeds one TCP segment (pkt: seq, ack, flags, payload) of direction dir into the two halves h[2] of a
 * connection. Returns true when the connection has ended (a plausible RST, or a FIN each way with every
 * byte before it delivered or declared lost).
 */
bool reasm_segment(struct tcp_half h[2], int dir, const struct hs_pkt *pkt, struct reasm_io *io);

/* Delivers what is queued in h[dir] after declaring the missing bytes gaps; frees the queue. O(n log n)
 * for n queued segments. */
void reasm_flush(struct tcp_half h[2], int dir, struct reasm_io *io);

#endif
