/* TCP stream reassembly — RFC 9293 3.4 sequence space; in-order delivery, gaps made explicit. */
#ifndef HOPSCOPE_REASM_H
#define HOPSCOPE_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "stats.h"

/* One out-of-order TCP segment, kept in a sequence-sorted list. */
struct ooo_seg {
    struct ooo_seg *next;
    uint64_t frame;      /* the frame that carried it */
    uint32_t seq, len;
    uint8_t data[];
};

/* TCP state of one direction. */
struct tcp_half {
    uint32_t next_seq;   /* next byte expected in order */
    bool seq_known;
    bool fin, rst;       /* a FIN reached in sequence; a RST in the window */
    bool syn;            /* a SYN was seen, with sequence number isn */
    uint32_t isn;
    bool fin_pending;    /* a FIN ahead of the data delivered so far, at fin_seq */
    uint32_t fin_seq;
    struct ooo_seg *ooo;
    uint32_t ooo_bytes;
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
    uint64_t *ooo_total;         /* out-of-order bytes queued in all connections */
    uint64_t frame;              /* the frame of the segment being fed */
    void *arg;
    const bool *dissecting;
    void (*data)(void *arg, int dir, const uint8_t *p, size_t n, uint64_t frame);
    void (*gap)(void *arg, int dir, uint64_t n);
    void (*pickup)(void *arg, int dir);
};

/*
 * Feeds one TCP segment (pkt: seq, ack, flags, payload) of direction dir into the two halves h[2] of a
 * connection. Returns true when the connection has ended (a plausible RST, or a FIN each way with every
 * byte before it delivered or declared lost).
 */
bool reasm_segment(struct tcp_half h[2], int dir, const struct hs_pkt *pkt, struct reasm_io *io);

/* Delivers what is queued in h[dir] after declaring the missing bytes gaps; frees the queue. */
void reasm_flush(struct tcp_half h[2], int dir, struct reasm_io *io);

#endif
