/* Tests for hugepage_realloc/hugepage_free (src/wire/hugepage.c): contents survive every transition (heap to
 * heap, heap to a mapping, mapping to a larger mapping, mapping back to the heap), and blocks of
 * HUGEPAGE_BLOCK_MIN bytes or more are mappings of their own, advised for huge pages where the kernel has THP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hugepage.h"

/* Fills p[0..n) with a pattern that depends on the position and a seed. */
static void fill(unsigned char *p, size_t from, size_t n, unsigned seed)
{
    for (size_t i = from; i < n; i++)
        p[i] = (unsigned char)((i * 2654435761u) >> 13 ^ seed);
}

static void check(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 4093) /* a prime stride: every page, several places in each */
        assert_int_equal(p[i], (unsigned char)((i * 2654435761u) >> 13 ^ seed));
    assert_int_equal(p[n - 1], (unsigned char)(((n - 1) * 2654435761u) >> 13 ^ seed));
}

#if defined(__linux__) && defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* The line of /proc/self/maps whose range holds p, in line[cap]; false when none does. */
static bool mapping_of(const void *p, char *line, size_t cap, uintptr_t *lo, uintptr_t *hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return false;
    bool found = false;
    while (fgets(line, (int)cap, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && (uintptr_t)p >= a && (uintptr_t)p < b) {
            *lo = a, *hi = b;
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

/* Whether the mapping starting at lo was advised MADV_HUGEPAGE: "hg" in its VmFlags (proc(5)). True on a
 * kernel without THP, which refuses the advice. */
static bool advised_huge(uintptr_t lo)
{
    FILE *t = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!t)
        return true;
    fclose(t);
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return false;
    char line[512];
    bool in = false, hg = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, ' ') < strchr(line, '\n'))
            in = a == lo;
        else if (in && !strncmp(line, "VmFlags:", 8)) {
            hg = strstr(line, " hg") != NULL;
            break;
        }
    }
    fclose(f);
    return hg;
}
#endif

static void test_contents_survive_every_transition(void **state)
{
    (void)state;
    static const size_t sizes[] = {100,      64 << 10, (4 << 20) - 1, 4 << 20, (6 << 20) + 17,
                                   24 << 20, 5 << 20,  3 << 20,       1000};
    unsigned char *p = NULL;
    size_t old = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        unsigned char *q = hugepage_realloc(p, old, n);
        assert_non_null(q);
        size_t kept = old < n ? old : n;
        if (kept)
            check(q, kept, 7);
        fill(q, kept, n, 7);
        check(q, n, 7);
        p = q, old = n;
    }
    hugepage_free(p, old);
    hugepage_free(NULL, 0);
    hugepage_free(NULL, 8 << 20);
}

static void test_large_blocks_are_mappings_of_their_own(void **state)
{
    (void)state;
#if defined(__linux__) && defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    size_t n = HUGEPAGE_BLOCK_MIN + 12345;
    unsigned char *p = hugepage_realloc(NULL, 0, n);
    assert_non_null(p);
    memset(p, 1, n);
    char line[512];
    uintptr_t lo, hi;
    assert_true(mapping_of(p, line, sizeof line, &lo, &hi));
    assert_null(strstr(line, "[heap]"));
    assert_int_equal(lo, (uintptr_t)p);                   /* the block is the mapping... */
    assert_true(hi - lo >= n && hi - lo < n + (2 << 20)); /* ...rounded up to whole 2 MiB pages */
    assert_true(advised_huge(lo));
    /* growing moves or extends the mapping; the heap is not involved */
    unsigned char *q = hugepage_realloc(p, n, 3 * n);
    assert_non_null(q);
    assert_int_equal(q[n - 1], 1);
    assert_true(mapping_of(q, line, sizeof line, &lo, &hi));
    assert_true(hi - lo >= 3 * n);
    assert_true(advised_huge(lo)); /* mremap kept the advice */
    hugepage_free(q, 3 * n);
    /* a small block stays in malloc's memory */
    unsigned char *s = hugepage_realloc(NULL, 0, 4096);
    assert_non_null(s);
    assert_true(mapping_of(s, line, sizeof line, &lo, &hi));
    assert_true(hi - lo < HUGEPAGE_BLOCK_MIN || strstr(line, "[heap]"));
    hugepage_free(s, 4096);
#else
    skip();
#endif
}

/* hugepage_heap() reserves, it does not fill: the heap still works and malloc'd memory reads back. */
static void test_heap_after_hugepage_heap(void **state)
{
    (void)state;
    hugepage_heap(16 << 20);
    hugepage_heap((size_t)1 << 40); /* too large: ignored */
    char *v[64];
    for (int i = 0; i < 64; i++) {
        v[i] = malloc(100000);
        assert_non_null(v[i]);
        memset(v[i], i, 100000);
    }
    for (int i = 0; i < 64; i++) {
        assert_int_equal(v[i][99999], i);
        free(v[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contents_survive_every_transition),
        cmocka_unit_test(test_large_blocks_are_mappings_of_their_own),
        cmocka_unit_test(test_heap_after_hugepage_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
