/* Interned strings in chunks that never move; see strpool.h. */
#include "strpool.h"

#include <stdlib.h>
#include <string.h>

static const char empty[1] = "";

void strpool_init(struct strpool *p)
{
    memset(p, 0, sizeof *p);
}

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h ^ (h >> 32);
}

/* Doubles the set (16 slots at first). False without memory. */
static bool grow_set(struct strpool *p)
{
    size_t ns = p->nslots ? 2 * p->nslots : 16;
    const char **nv = calloc(ns, sizeof *nv);
    if (!nv)
        return false;
    for (size_t i = 0; i < p->nslots; i++) {
        const char *s = p->slots[i];
        if (!s)
            continue;
        size_t j = (size_t)hash(s, strlen(s)) & (ns - 1);
        while (nv[j])
            j = (j + 1) & (ns - 1);
        nv[j] = s;
    }
    free(p->slots);
    p->slots = nv;
    p->nslots = ns;
    return true;
}

/* Room for n bytes in the last chunk (a new chunk if needed); NULL without memory. */
static char *room(struct strpool *p, size_t n)
{
    if (!p->nchunks || p->used + n > STRPOOL_CHUNK) {
        if (p->nchunks == p->capchunks) {
            size_t nc = p->capchunks ? 2 * p->capchunks : 8;
            char **v = realloc(p->chunks, nc * sizeof *v);
            if (!v)
                return NULL;
            p->chunks = v;
            p->capchunks = nc;
        }
        char *c = malloc(STRPOOL_CHUNK);
        if (!c)
            return NULL;
        p->chunks[p->nchunks++] = c;
        p->used = 0;
    }
    char *r = p->chunks[p->nchunks - 1] + p->used;
    p->used += n;
    return r;
}

const char *strpool_get(struct strpool *p, const char *s, size_t maxlen)
{
    if (!s)
        return empty;
    size_t n = strnlen(s, maxlen);
    if (n > STRPOOL_CHUNK - 1)
        n = STRPOOL_CHUNK - 1;
    if (n == 0)
        return empty;
    if (2 * (p->n + 1) > p->nslots && !grow_set(p)) {
        p->failed++;
        return empty;
    }
    size_t j = (size_t)hash(s, n) & (p->nslots - 1);
    for (; p->slots[j]; j = (j + 1) & (p->nslots - 1))
        if (!strncmp(p->slots[j], s, n) && p->slots[j][n] == '\0')
            return p->slots[j];
    char *c = room(p, n + 1);
    if (!c) {
        p->failed++;
        return empty;
    }
    memcpy(c, s, n);
    c[n] = '\0';
    p->slots[j] = c;
    p->n++;
    return c;
}

size_t strpool_bytes(const struct strpool *p)
{
    return p->nchunks * (size_t)STRPOOL_CHUNK + p->nslots * sizeof *p->slots;
}

void strpool_free(struct strpool *p)
{
    for (size_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    free(p->slots);
    memset(p, 0, sizeof *p);
}
