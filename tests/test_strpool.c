/* Tests for the correlation stage's string pool (src/correlate/strpool.c): one copy per distinct string,
 * cuts at the length asked, pointers that stay valid while the pool grows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strpool.h"

static void test_strpool_same_string_same_pointer(void **state)
{
    (void)state;
    struct strpool p;
    strpool_init(&p);
    char a[] = "HOPLAB\\alice", b[] = "HOPLAB\\alice";
    const char *x = strpool_get(&p, a, 127), *y = strpool_get(&p, b, 127);
    assert_ptr_equal(x, y);
    assert_ptr_not_equal(x, a); /* a copy, not the caller's buffer */
    assert_string_equal(x, "HOPLAB\\alice");
    assert_ptr_not_equal(strpool_get(&p, "HOPLAB\\bob", 127), x);
    assert_int_equal(p.n, 2);
    strpool_free(&p);
}

static void test_strpool_cut_and_empty(void **state)
{
    (void)state;
    struct strpool p;
    strpool_init(&p);
    assert_string_equal(strpool_get(&p, "cifs/dc1.hoplab.test", 4), "cifs");
    assert_ptr_equal(strpool_get(&p, "cifs", 127), strpool_get(&p, "cifs/x", 4)); /* the cut is what is kept */
    assert_string_equal(strpool_get(&p, "", 127), "");
    assert_string_equal(strpool_get(&p, NULL, 127), "");
    char unterminated[3] = {'a', 'b', 'c'}; /* a fixed field without NUL: maxlen bounds the read */
    assert_string_equal(strpool_get(&p, unterminated, sizeof unterminated), "abc");
    assert_int_equal(p.n, 2); /* "cifs" and "abc"; empty strings are not stored */
    strpool_free(&p);
}

/* 100,000 distinct strings: the set grows and chunks are added, earlier pointers stay valid and equal. */
static void test_strpool_many_strings(void **state)
{
    (void)state;
    enum { N = 100000 };
    struct strpool p;
    strpool_init(&p);
    const char **v = malloc(N * sizeof *v);
    assert_non_null(v);
    char buf[64];
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "host%d.hoplab.test", i);
        v[i] = strpool_get(&p, buf, 127);
    }
    assert_true(p.nchunks > 1);
    for (int i = 0; i < N; i += 997) {
        snprintf(buf, sizeof buf, "host%d.hoplab.test", i);
        assert_string_equal(v[i], buf);
        assert_ptr_equal(strpool_get(&p, buf, 127), v[i]);
    }
    assert_int_equal(p.n, N);
    assert_true(strpool_bytes(&p) >= p.nchunks * (size_t)STRPOOL_CHUNK);
    free(v);
    strpool_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strpool_same_string_same_pointer),
        cmocka_unit_test(test_strpool_cut_and_empty),
        cmocka_unit_test(test_strpool_many_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
