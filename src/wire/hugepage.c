/* Transparent huge pages for the start of the heap and for large arrays (hugepage.h). */
#include "hugepage.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) && defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define HUGEPAGE_ON 1
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

/* madvise(MADV_HUGEPAGE) over [lo, hi) rounded inwards to whole huge pages; refusals are ignored. */
static void advise(uintptr_t lo, uintptr_t hi)
{
    uintptr_t a = (lo + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), b = hi & ~(HUGE_PAGE - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
}

/* A mapping's length for a block of n bytes: whole huge pages. */
static size_t mapped_size(size_t n)
{
    return (n + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
}
#endif

void hugepage_heap(size_t size)
{
#ifdef HUGEPAGE_ON
    if (size > INT_MAX)
        return;
    void *lo = sbrk(0);
    mallopt(M_TOP_PAD, (int)size);
    void *p = malloc(HUGEPAGE_BLOCK_MIN - (64 << 10)); /* the heap grows by it and by `size` */
    __asm__ volatile("" : : "r"(p) : "memory");        /* the compiler may not drop the pair */
    void *hi = sbrk(0);
    free(p);
    if (lo != (void *)-1 && hi != (void *)-1)
        advise((uintptr_t)lo, (uintptr_t)hi);
#else
    (void)size;
#endif
}

void *hugepage_realloc(void *p, size_t old, size_t n)
{
#ifdef HUGEPAGE_ON
    if (!p)
        old = 0;
    if (n < HUGEPAGE_BLOCK_MIN && old < HUGEPAGE_BLOCK_MIN)
        return realloc(p, n);
    void *q;
    if (old >= HUGEPAGE_BLOCK_MIN && n >= HUGEPAGE_BLOCK_MIN) { /* the mapping keeps its advice */
        q = mremap(p, mapped_size(old), mapped_size(n), MREMAP_MAYMOVE);
        return q == MAP_FAILED ? NULL : q;
    }
    if (n >= HUGEPAGE_BLOCK_MIN) { /* from the heap to a mapping */
        q = mmap(NULL, mapped_size(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (q == MAP_FAILED)
            return NULL;
        advise((uintptr_t)q, (uintptr_t)q + mapped_size(n));
        if (old)
            memcpy(q, p, old);
        free(p);
        return q;
    }
    q = malloc(n); /* from a mapping back to the heap */
    if (!q)
        return NULL;
    memcpy(q, p, n);
    munmap(p, mapped_size(old));
    return q;
#else
    (void)old;
    return realloc(p, n);
#endif
}

void hugepage_free(void *p, size_t size)
{
#ifdef HUGEPAGE_ON
    if (p && size >= HUGEPAGE_BLOCK_MIN) {
        munmap(p, mapped_size(size));
        return;
    }
#else
    (void)size;
#endif
    free(p);
}
