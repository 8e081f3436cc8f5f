/* Interned strings for the correlation stage's record summaries: each distinct string is stored once (users,
 * hosts and SPNs repeat across thousands of records), in chunks that never move, so a summary holds 8-byte
 * pointers instead of fixed arrays (a summary went from ~1 KB to ~0.3 KB). */
#ifndef HOPSCOPE_STRPOOL_H
#define HOPSCOPE_STRPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STRPOOL_CHUNK (64u * 1024u)    /* bytes per chunk; a longer string is not interned (see strpool_get) */

struct strpool {
    char **chunks;                     /* the chunks, each STRPOOL_CHUNK bytes */
    size_t nchunks, capchunks;
    size_t used;                       /* bytes used in the last chunk */
    const char **slots;                /* open-addressing set of the strings stored (NULL: free) */
    size_t nslots, n;                  /* nslots a power of two, kept at most half full */
    uint64_t failed;                   /* strings not interned for want of memory (given as "") */
};

/* An empty pool (no allocation until the first string). */
void strpool_init(struct strpool *p);

/*
 * The interned copy of the first min(strnlen(s, maxlen), STRPOOL_CHUNK - 1) bytes of s, NUL-terminated:
 * the same pointer for equal strings. "" (a static empty string) for an empty or NULL s, and when memory is
 * short (counted in failed). Valid until strpool_free(). O(length) expected time.
 */
const char *strpool_get(struct strpool *p, const char *s, size_t maxlen);

/* Bytes the pool holds (chunks and set), for memory accounting. */
size_t strpool_bytes(const struct strpool *p);

/* Frees every string; pointers handed out become invalid. */
void strpool_free(struct strpool *p);

#endif
