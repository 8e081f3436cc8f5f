/* Shared declarations for the fuzz targets (libFuzzer entry point, invariant checks). */
#ifndef HOPSCOPE_FUZZ_H
#define HOPSCOPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer's entry point; every fuzz_<target>.c defines it, replay.c calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant the API promises was broken: report and abort, so libFuzzer (and the replay test)
 * count it as a crash just like a sanitizer report.
 */
#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* True when [p, p+n) lies inside [base, base+size) (n == 0: p anywhere inside or one past). */
static inline int fuzz_inside(const uint8_t *base, size_t size, const uint8_t *p, size_t n)
{
    if (n == 0)
        return p == NULL || (p >= base && p <= base + size);
    return p >= base && p <= base + size && n <= (size_t)(base + size - p);
}

/* Reads every byte of [p, p+n), so ASan checks a pointer the code under test handed out. */
static inline void fuzz_touch(const uint8_t *p, size_t n)
{
    volatile uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc ^= p[i];
    (void)acc;
}

/* A NUL-terminated string inside a cap-byte buffer. */
static inline int fuzz_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

#endif
