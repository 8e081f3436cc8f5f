/* The dissector context: what a dissector (and a stream) sees of the run while it parses. */
#ifndef HOPSCOPE_CTX_H
#define HOPSCOPE_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "records.h"
#include "stats.h"

struct kc_keys;
struct hs_creds;
struct stream_budget;

/*
 * What a dissector sees of the run while it parses: the frame and time of the packet being dissected,
 * the connection's identity and records, limits, counters, keys and a scratch buffer. Never the engine,
 * never another connection.
 */
struct hs_ctx {
    uint64_t frame;                 /* 1-based, as Wireshark numbers frames */
    struct timeval now;
    const struct hs_limits *lim;
    struct hs_stats *st;
    struct rec_store *recs;         /* the record API: records.h */
    struct rec_conn *rc;            /* this connection's records */
    const struct hs_flow *flow;     /* this connection's identity */
    bool saw_syn;                   /* the connection was seen from its start */
    struct kc_keys *keys;           /* keytabs given with -k, or NULL (read-only use; libkrb5 wants it mutable) */
    const struct hs_creds *creds;   /* accounts given with --creds, or NULL (creds.h) */
    struct stream_budget *budget;   /* PDU buffers of all streams */
    uint8_t *scratch;               /* lim.max_pdu bytes for decoding (base64 tokens), valid during a call */
    size_t scratch_cap;
};

/* Starts an authentication record on the context's connection at the current packet. */
static inline struct auth_rec *ctx_auth_new(struct hs_ctx *ctx, enum auth_transport t)
{
    return rec_auth_new(ctx->recs, ctx->rc, ctx->flow, &ctx->now, t);
}

/* The context connection's authentication record `id`, or NULL once written. */
static inline struct auth_rec *ctx_auth_get(struct hs_ctx *ctx, uint64_t id)
{
    return rec_auth_get(ctx->rc, id);
}

#endif
