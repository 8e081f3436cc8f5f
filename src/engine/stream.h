/* A byte stream of one direction, as a dissector sees it: PDU buffering, skipping, resynchronisation. */
#ifndef HOPSCOPE_STREAM_H
#define HOPSCOPE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hs_ctx;
struct hs_stream;

/*
 * A stream parser: consumes what it can of the n in-order bytes at p (direction dir: 0 client→server)
 * and returns how many; 0 means a PDU is incomplete (the stream keeps the bytes and calls again with
 * more from the same start). It never reads past p[n). It may set s->skip (bytes to pass over unread,
 * e.g. a message body) with s->skip_done, s->resync (hunt for a message start next time) or s->dead
 * (nothing more of this direction is worth parsing).
 */
typedef size_t (*stream_parse_fn)(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n,
                                  struct hs_stream *s);

/* Called once, in the frame where s->skip runs out: the body of the message that set it is complete. */
typedef void (*stream_skip_done_fn)(struct hs_ctx *ctx, void *state, int dir);

struct hs_stream {
    uint8_t *buf;      /* what the parser left unconsumed, while a PDU straddles deliveries */
    uint32_t len, cap;
    uint64_t skip;     /* bytes to pass over before parsing again */
    stream_skip_done_fn skip_done;
    bool resync;       /* after a gap or a mid-stream pick-up: hunt for a message boundary */
    bool dead;         /* gave up on this direction */
};

/* The budget all streams share: bytes held in PDU buffers, against lim.max_pdu_total. */
struct stream_budget {
    uint64_t held;
};

/*
 * Feeds n in-order bytes at p to parse(ctx, state, dir, ...). Bytes a PDU needs beyond this delivery are
 * buffered up to ctx->lim->max_pdu (and the shared budget's lim.max_pdu_total); a PDU larger than that
 * is counted (pdu_oversize) and the stream resynchronises after it. Runs skips, calling skip_done when
 * one ends. Nothing is allocated while PDUs fit in one delivery.
 */
void stream_feed(struct hs_stream *s, struct hs_ctx *ctx, stream_parse_fn parse, void *state, int dir,
                 const uint8_t *p, size_t n);

/* n bytes of the stream were never seen (capture loss): a skip absorbs them, else the buffer is dropped
 * and the parser resynchronises. */
void stream_gap(struct hs_stream *s, struct hs_ctx *ctx, void *state, int dir, uint64_t n);

/* Appends n bytes to s's buffer within the caps; false (nothing appended) at a cap or without memory. */
bool stream_append(struct hs_stream *s, struct hs_ctx *ctx, const uint8_t *p, size_t n);

/* Gives back s's buffer (and its share of the budget). */
void stream_release(struct hs_stream *s, struct hs_ctx *ctx);

/* The same, for a stream whose budget is known without a context (freed outside any packet). */
void stream_release_budget(struct hs_stream *s, struct stream_budget *b);

#endif
