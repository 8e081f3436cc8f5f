/* A byte stream of one direction: PDU buffering within caps, skipping, resynchronisation after gaps. */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

#include "ctx.h"

bool stream_append(struct hs_stream *s, struct hs_ctx *ctx, const uint8_t *p, size_t n)
{
    uint32_t max = ctx->lim->max_pdu;
    if ((size_t)s->len + n > max)
        return false;
    if (s->len + n > s->cap) {
        uint32_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n)
            cap *= 2;
        if (cap > max)
            cap = max;
        if (ctx->budget->held - s->cap + cap > ctx->lim->max_pdu_total)
            return false; /* all streams' buffers together are at their cap */
        uint8_t *nb = realloc(s->buf, cap);
        if (!nb)
            return false;
        ctx->budget->held += cap - s->cap;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += (uint32_t)n;
    return true;
}

/* A PDU straddles deliveries only for a moment, and a buffer kept for the stream's life would hold up to
 * the PDU cap per direction for nothing: it is given back as soon as it is empty. */
void stream_release_budget(struct hs_stream *s, struct stream_budget *b)
{
    s->len = 0;
    b->held -= s->cap;
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

void stream_release(struct hs_stream *s, struct hs_ctx *ctx)
{
    stream_release_budget(s, ctx->budget);
}

/* A PDU larger than the cap: drop what is buffered and hunt for the next message. */
static void oversize(struct hs_stream *s, struct hs_ctx *ctx)
{
    ctx->st->pdu_oversize++;
    stream_release(s, ctx);
    s->resync = true;
}

static void skip_check(struct hs_stream *s, struct hs_ctx *ctx, void *state, int dir)
{
    if (s->skip == 0 && s->skip_done) {
        stream_skip_done_fn f = s->skip_done;
        s->skip_done = NULL;
        f(ctx, state, dir);
    }
}

void stream_feed(struct hs_stream *s, struct hs_ctx *ctx, stream_parse_fn parse, void *state, int dir,
                 const uint8_t *p, size_t n)
{
    if (s->dead) {
        stream_release(s, ctx);
        return;
    }
    uint32_t max = ctx->lim->max_pdu;
    while (n > 0) {
        if (s->skip) {
            size_t k = s->skip < n ? (size_t)s->skip : n;
            s->skip -= k;
            p += k;
            n -= k;
            skip_check(s, ctx, state, dir);
            continue;
        }
        if (s->len == 0) {
            /* Fast path: parse straight from the delivery, buffer only an incomplete tail. */
            size_t used = parse(ctx, state, dir, p, n, s);
            if (used > n)
                used = n;
            p += used;
            n -= used;
            if (s->dead) {
                stream_release(s, ctx); /* the parser gave up on this direction */
                return;
            }
            if (used == 0) {
                if (!stream_append(s, ctx, p, n))
                    oversize(s, ctx);
                return;
            }
            continue;
        }
        /* Slow path: a PDU started in an earlier delivery. Top the buffer up and parse it. */
        size_t room = max - s->len;
        size_t k = n < room ? n : room;
        if (!stream_append(s, ctx, p, k)) {
            oversize(s, ctx); /* no memory, or all buffers together at their cap: hunt from here */
            continue;
        }
        p += k;
        n -= k;
        size_t off = 0;
        for (;;) {
            if (s->skip) {
                size_t sk = s->skip < s->len - off ? (size_t)s->skip : s->len - off;
                s->skip -= sk;
                off += sk;
                skip_check(s, ctx, state, dir);
            }
            if (off == s->len)
                break;
            size_t used = parse(ctx, state, dir, s->buf + off, s->len - off, s);
            if (s->dead) {
                stream_release(s, ctx);
                return;
            }
            if (used == 0)
                break;
            off += used > s->len - off ? s->len - off : used;
        }
        memmove(s->buf, s->buf + off, s->len - off);
        s->len -= (uint32_t)off;
        if (s->len == 0)
            stream_release(s, ctx);
        else if (s->len == max)
            oversize(s, ctx);
        else if (s->len && n)
            continue; /* still incomplete: take more of this delivery */
    }
}

void stream_gap(struct hs_stream *s, struct hs_ctx *ctx, void *state, int dir, uint64_t n)
{
    if (s->skip >= n) {
        s->skip -= n; /* the gap fell inside a body being skipped anyway: no harm done */
        skip_check(s, ctx, state, dir);
        return;
    }
    s->skip = 0;
    s->skip_done = NULL;
    stream_release(s, ctx);
    s->resync = true;
}
