/* Bounded byte reader — the only way hopscope code reads bytes that came from the network. */
#ifndef HOPSCOPE_READER_H
#define HOPSCOPE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A reader over [p, p+len). Every get_* checks the remaining length first; on a short read it
 * sets `err`, returns 0 (or NULL) and leaves `pos` at the end, so later reads fail too. A parser
 * reads a whole message and checks `err` once, as tcpdump's GET_ macros let it do.
 */
struct rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool err;
};

/* A reader over len bytes at p. p may be NULL only when len is 0. */
static inline struct rd rd_make(const uint8_t *p, size_t len)
{
    struct rd r = {p, len, 0, false};
    return r;
}

/* Bytes left to read; 0 once an error is set. */
static inline size_t rd_left(const struct rd *r)
{
    return r->err ? 0 : r->len - r->pos;
}

static inline bool rd_need(struct rd *r, size_t n)
{
    if (r->err || r->len - r->pos < n) {
        r->err = true;
        r->pos = r->len;
        return false;
    }
    return true;
}

static inline uint8_t rd_u8(struct rd *r)
{
    if (!rd_need(r, 1))
        return 0;
    return r->p[r->pos++];
}

static inline uint16_t rd_u16le(struct rd *r)
{
    if (!rd_need(r, 2))
        return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 2;
    return (uint16_t)(b[0] | (b[1] << 8));
}

static inline uint16_t rd_u16be(struct rd *r)
{
    if (!rd_need(r, 2))
        return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 2;
    return (uint16_t)((b[0] << 8) | b[1]);
}

static inline uint32_t rd_u32le(struct rd *r)
{
    if (!rd_need(r, 4))
        return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static inline uint32_t rd_u32be(struct rd *r)
{
    if (!rd_need(r, 4))
        return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 4;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}

static inline uint64_t rd_u64le(struct rd *r)
{
    uint64_t lo = rd_u32le(r);
    uint64_t hi = rd_u32le(r);
    return lo | (hi << 32);
}

/* Returns a pointer to the next n bytes and advances past them, or NULL (error set). */
static inline const uint8_t *rd_bytes(struct rd *r, size_t n)
{
    if (!rd_need(r, n))
        return NULL;
    const uint8_t *b = r->p + r->pos;
    r->pos += n;
    return b;
}

static inline void rd_skip(struct rd *r, size_t n)
{
    (void)rd_bytes(r, n);
}

/* A sub-reader over the next n bytes (error set on both when fewer remain). */
static inline struct rd rd_sub(struct rd *r, size_t n)
{
    const uint8_t *b = rd_bytes(r, n);
    struct rd s = {b, b ? n : 0, 0, b == NULL};
    return s;
}

/*
 * Checks that [off, off+n) lies inside a message of msg_len bytes without overflow; the way every
 * offset/length pair from the wire is validated before use.
 */
static inline bool range_ok(size_t msg_len, uint64_t off, uint64_t n)
{
    return off <= msg_len && n <= msg_len - off;
}

/* Little- and big-endian loads from a buffer the caller has already bounds-checked. */
static inline uint16_t ld_u16le(const uint8_t *b) { return (uint16_t)(b[0] | (b[1] << 8)); }
static inline uint16_t ld_u16be(const uint8_t *b) { return (uint16_t)((b[0] << 8) | b[1]); }
static inline uint32_t ld_u32le(const uint8_t *b)
{
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static inline uint32_t ld_u32be(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}

#endif
