/* The engine: packets in, connections tracked, streams reassembled, dissectors fed, records out. */
#ifndef HOPSCOPE_ENGINE_H
#define HOPSCOPE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#include "decode.h"
#include "tickets.h"

struct auth_rec;
struct output;
struct smb2_state;
struct http_state;
struct kdc_state;
struct kc_keys;
struct hs_engine;
struct hs_conn;

/* Dissectors, for the per-dissector malformed counters. */
enum hs_dissector {
    DIS_NBSS = 0,
    DIS_SMB1,
    DIS_SMB2,
    DIS_HTTP,
    DIS_SPNEGO,
    DIS_NTLMSSP,
    DIS_KERBEROS,
    DIS_COUNT
};

/* Application protocol of a connection, chosen by content with ports as hints. */
enum app_proto {
    APP_UNKNOWN = 0, /* still probing */
    APP_NBSS,        /* NetBIOS session service / direct TCP: SMB1, SMB2/3 */
    APP_HTTP,
    APP_KERBEROS,    /* Kerberos KDC exchanges over TCP (record marking) */
    APP_IGNORE,      /* nothing hopscope dissects (TLS, bulk, unknown): no reassembly at all */
};

/* Caps on what grows with input; what is dropped at a cap is counted in stats. */
struct hs_limits {
    uint32_t max_flows;          /* live connections (LRU eviction beyond) */
    uint32_t idle_timeout;       /* seconds without packets before a connection expires */
    uint32_t max_ooo_bytes;      /* out-of-order bytes queued per direction */
    uint64_t max_ooo_total;      /* out-of-order bytes queued in all */
    uint32_t max_pdu;            /* bytes a dissector may buffer for one PDU (headers, blobs) */
    uint32_t max_records_per_conn;
    uint32_t max_uses_per_record; /* tree connects / HTTP requests kept per record */
    uint64_t max_pdu_total;      /* bytes buffered for PDUs straddling segments, in all connections */
    uint32_t max_records_total;  /* authentication records held, in all connections */
    uint32_t max_kdc_pending_total; /* KDC requests awaiting a reply, in all connections */
};

struct hs_stats {
    uint64_t packets, bytes;
    uint64_t tcp_packets, udp_packets;
    uint64_t flows;              /* connections created */
    uint64_t flows_expired, flows_evicted;
    uint64_t tcp_gaps, tcp_gap_bytes, tcp_retransmitted, tcp_overlaps, tcp_conflicts, tcp_out_of_order;
    uint64_t ooo_dropped_bytes;  /* out-of-order data discarded at a cap (becomes a gap) */
    uint64_t pdu_oversize;       /* PDUs larger than max_pdu (skipped, stream resynchronised) */
    uint64_t malformed[DIS_COUNT];
    uint64_t records, records_dropped, uses_dropped;
    uint64_t kdc_records;
    uint64_t krb_undecrypted;    /* tickets no loaded key opened (only with -k) */
    uint64_t smb2_encrypted;     /* SMB2 TRANSFORM messages skipped */
};

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

/* Application stream of one direction: what a dissector left unconsumed, and bytes to skip. */
struct app_dir {
    uint8_t *buf;
    uint32_t len, cap;
    uint64_t skip;     /* bytes to pass over before parsing again (message bodies) */
    /* Called (once) in the frame where skip runs out: the body of the message that set it is complete. */
    void (*skip_done)(struct hs_engine *e, struct hs_conn *c, int dir);
    bool resync;       /* after a gap or mid-stream pick-up: hunt for a message boundary */
    bool dead;         /* gave up on this direction */
};

struct hs_endpoint {
    uint8_t ip[16];
    uint16_t port;
};

/* A connection: both directions of one 5-tuple. Direction 0 is client→server. */
struct hs_conn {
    struct hs_conn *hnext;           /* hash chain */
    struct hs_conn *lru_prev, *lru_next;
    uint32_t hash;
    uint8_t af, proto;
    struct hs_endpoint cli, srv;
    uint64_t id;                     /* creation order, for stable output order */
    uint64_t first_frame;
    struct timeval first_ts, last_ts;
    bool saw_syn;
    bool closed;                     /* FIN both ways or RST: records flushed */
    enum app_proto app;
    struct tcp_half tcp[2];
    struct app_dir ad[2];
    struct smb2_state *smb2;
    struct http_state *http;
    struct kdc_state *kdc;
    struct auth_rec *recs;           /* records in progress, oldest first */
    uint32_t nrecs;
    char community_id[40];
};

struct hs_engine {
    struct hs_limits lim;
    struct hs_stats st;
    struct hs_decoder dec;
    struct output *out;
    struct ticket_table tickets;     /* tickets issued in the clear, by digest (tickets.h) */
    struct kc_keys *keys;            /* keytabs given with -k, or NULL (krbcrypt.h) */
    /* flow table */
    struct hs_conn **buckets;
    uint32_t nbuckets;               /* power of two */
    uint32_t nconns;
    struct hs_conn *lru_head, *lru_tail; /* least recently seen first */
    uint64_t next_conn_id;
    uint64_t ooo_total;
    uint64_t pdu_total;              /* bytes allocated for PDU buffers (the app_dir caps) */
    /* Every record held, and every KDC request awaiting its reply, oldest first across connections:
     * at the global caps the oldest is written early (auth.c, kdc.c). */
    struct auth_rec *recs_oldest, *recs_newest;
    uint32_t nrecs_held;
    struct kdc_rec *kdc_oldest, *kdc_newest;
    uint32_t nkdc_held;
    /* the packet being processed */
    uint64_t frame;
    struct timeval now;
    /* scratch for base64-decoded HTTP tokens; one engine is single-threaded */
    uint8_t *scratch;
    size_t scratch_cap;
};

/* Default limits (documented in docs/ARCHITECTURE.md). */
void hs_limits_default(struct hs_limits *l);

/* Sets up an engine writing records to out. Returns 0, or -1 when memory is short. */
int engine_init(struct hs_engine *e, const struct hs_limits *lim, struct output *out);

/*
 * Processes one captured frame (frame number, timestamp, caplen bytes of link type dlt).
 * Malformed input is counted, never fatal.
 */
void engine_packet(struct hs_engine *e, int dlt, uint64_t frame, const struct timeval *ts,
                   const uint8_t *data, uint32_t caplen);

/* Counts a frame of a medium hopscope does not decode (e.g. a Network Monitor event record). */
void engine_frame_undecoded(struct hs_engine *e, uint32_t caplen);

/* Ends every connection still open (records flushed in creation order) and writes stats. */
void engine_finish(struct hs_engine *e);

void engine_free(struct hs_engine *e);

/* --- flow table (flow.c) --- */

/* Finds the connection of pkt, creating it (and choosing client/server) if new. *dir is set to
 * 0 when pkt goes client→server, 1 otherwise. May evict the least recently seen connection. */
struct hs_conn *flow_get(struct hs_engine *e, const struct hs_pkt *pkt, int *dir);

/* Moves c to the most-recently-seen end and expires connections idle past the timeout. */
void flow_touch(struct hs_engine *e, struct hs_conn *c);

/* Ends c: remaining out-of-order data delivered after gaps, dissectors told, records flushed.
 * The connection stays in the table (closed) until it expires. */
void flow_close(struct hs_engine *e, struct hs_conn *c);

/* Removes c from the table and frees it (closing it first if needed). */
void flow_remove(struct hs_engine *e, struct hs_conn *c);

/* --- TCP reassembly (reasm.c) --- */

/* Feeds one TCP segment of connection c in direction dir. In-order bytes go to app_data(). */
void reasm_segment(struct hs_engine *e, struct hs_conn *c, int dir, const struct hs_pkt *pkt);

/* Delivers what is queued in dir after declaring the missing bytes a gap; frees the queue. */
void reasm_flush(struct hs_engine *e, struct hs_conn *c, int dir);

/* --- application layer (engine.c) --- */

/* In-order stream bytes of connection c, direction dir. */
void app_data(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n);

/* n bytes of direction dir were never seen (capture loss): the dissector resynchronises. */
void app_gap(struct hs_engine *e, struct hs_conn *c, int dir, uint64_t n);

/* Frees both directions' PDU buffers (c is closed: nothing more is dissected). */
void app_free(struct hs_engine *e, struct hs_conn *c);

#endif
