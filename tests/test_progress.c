/* Tests for the progress line's text (src/output/progress.c): sizes, counts, rate, ETA, live drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "progress.h"

static void test_progress_file_shows_share_rate_and_eta(void **state)
{
    (void)state;
    char b[160];
    struct progress_sample s = {.elapsed = 10, .bytes = 100ull << 20, .total = 400ull << 20, .packets = 1234567};
    progress_format(b, sizeof b, &s);
    assert_string_equal(b, "100.0 MiB of 400.0 MiB (25%), 1,234,567 packets, 10.0 MiB/s, ETA 0:30");
}

static void test_progress_eta_in_hours(void **state)
{
    (void)state;
    char b[160];
    struct progress_sample s = {.elapsed = 1, .bytes = 1024, .total = 1024ull * 7200, .packets = 1};
    progress_format(b, sizeof b, &s);
    assert_string_equal(b, "1.0 KiB of 7.0 MiB (0%), 1 packets, 1.0 KiB/s, ETA 1:59:59");
}

static void test_progress_without_size_or_time(void **state)
{
    (void)state;
    char b[160];
    struct progress_sample s = {.elapsed = 0.01, .bytes = 500, .packets = 3};
    progress_format(b, sizeof b, &s);
    assert_string_equal(b, "500 B, 3 packets"); /* standard input: no share, no ETA; too early for a rate */
}

static void test_progress_live_shows_drops(void **state)
{
    (void)state;
    char b[160];
    struct progress_sample s = {.elapsed = 2, .bytes = 2048, .packets = 1000, .live = true, .drops = 12};
    progress_format(b, sizeof b, &s);
    assert_string_equal(b, "1,000 packets, 12 dropped, 1.0 KiB/s");
}

static void test_progress_cut_to_buffer(void **state)
{
    (void)state;
    char b[8];
    struct progress_sample s = {.elapsed = 10, .bytes = 100ull << 20, .total = 400ull << 20, .packets = 1234567};
    assert_int_equal(progress_format(b, sizeof b, &s), 7);
    assert_string_equal(b, "100.0 M");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_file_shows_share_rate_and_eta),
        cmocka_unit_test(test_progress_eta_in_hours),
        cmocka_unit_test(test_progress_without_size_or_time),
        cmocka_unit_test(test_progress_live_shows_drops),
        cmocka_unit_test(test_progress_cut_to_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
