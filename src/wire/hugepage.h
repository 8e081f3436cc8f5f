/*
 * Transparent huge pages for the memory hopscope fills as it reads: the start of the heap and the arrays that
 * grow large (the correlation summaries, the findings held).
 *
 * The first touch of each 4 KiB page is a page fault. On a virtual machine a fault costs several microseconds
 * (~7 µs on the 2-core benchmark machine), and a 1 GiB capture touches ~20 MB: ~4,900 faults, ~10% of the
 * run. Memory advised MADV_HUGEPAGE faults in 2 MiB at a time (glibc's tunable glibc.malloc.hugetlb=1 does
 * the same for the whole heap, but a program cannot set it for itself). The price is resident memory: a 2 MiB
 * page is resident as a whole once touched, so only the dense start of the heap and arrays filled in order
 * get huge pages. Linux with glibc only; where THP is "never" the advice does nothing, and sanitizer builds
 * (whose allocator is not glibc's) give none and use plain realloc/free.
 */
#ifndef HOPSCOPE_HUGEPAGE_H
#define HOPSCOPE_HUGEPAGE_H

#include <stddef.h>

/* Blocks of hugepage_realloc() this large or larger are mappings of their own. */
#define HUGEPAGE_BLOCK_MIN ((size_t)4 << 20)

/*
 * Grows glibc's heap now by `size` bytes of address space (M_TOP_PAD, which stays the heap's growth step and
 * the free room glibc keeps at its top instead of giving it back) and advises MADV_HUGEPAGE over the
 * 2 MiB-aligned part of what it grew by. Only address space is reserved; resident memory follows what is
 * touched. Call it once, first thing in main(), before threads start, after raising M_MMAP_THRESHOLD to
 * 4 MiB (the block that makes the heap grow is just under 4 MiB, which glibc would otherwise map apart).
 * size at most INT_MAX. Errors are ignored: the heap then uses 4 KiB pages.
 */
void hugepage_heap(size_t size);

/*
 * realloc() for arrays that may grow large: p holds `old` bytes (0 when p is NULL) and is resized to n > 0
 * bytes, the first min(old, n) kept. Blocks of HUGEPAGE_BLOCK_MIN bytes or more are mappings of their own,
 * advised MADV_HUGEPAGE and grown by mremap (no copy, no hole left in the heap); smaller ones come from
 * malloc. `old` must be the size p was last given. Returns the block, or NULL without memory (p is then left
 * as it was).
 */
void *hugepage_realloc(void *p, size_t old, size_t n);

/* Frees a block of hugepage_realloc() that was last given `size` bytes. p may be NULL. */
void hugepage_free(void *p, size_t size);

#endif
