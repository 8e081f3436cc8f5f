/*
 * Unit tests for src/output/jw.c, the JSON text writer: separators and nesting, string escaping and invalid UTF-8
 * (checked byte for byte against jansson 2.14's json_dumps, which wrote hopscope's output before jw), integers,
 * taking back empty objects, buffer growth and its cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jw.h"

/* The writer's text as a C string (a copy in a static buffer, for assert_string_equal). */
static const char *text(const struct jw *w)
{
    static char out[1 << 16];
    assert_false(w->failed);
    assert_true(w->len < sizeof out);
    memcpy(out, w->buf, w->len);
    out[w->len] = '\0';
    return out;
}

/* s (n bytes) as jw writes it, alone. */
static const char *jw_of(const char *s, size_t n)
{
    static struct jw w;
    jw_reset(&w);
    jw_stringn(&w, s, n);
    return text(&w);
}

/* The n bytes at s as hopscope wrote them before jw: U+FFFD for each byte that does not start a valid
 * UTF-8 sequence, then json_dumps with JSON_COMPACT | JSON_PRESERVE_ORDER. The reference the escaping must equal.
 * Returns a malloc'd string. */
static char *jansson_of(const char *s, size_t n)
{
    char *fixed = malloc(3 * n + 1);
    assert_non_null(fixed);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        /* the same test as jansson's utf8_check_full, spelt out independently of jw.c */
        const uint8_t *p = (const uint8_t *)s + i;
        size_t k = 0;
        uint32_t cp = 0;
        if (p[0] < 0x80)
            k = 1, cp = p[0];
        else if (p[0] >= 0xC2 && p[0] <= 0xDF)
            k = 2, cp = p[0] & 0x1F;
        else if (p[0] >= 0xE0 && p[0] <= 0xEF)
            k = 3, cp = p[0] & 0x0F;
        else if (p[0] >= 0xF0 && p[0] <= 0xF4)
            k = 4, cp = p[0] & 0x07;
        bool ok = k && k <= n - i;
        for (size_t j = 1; ok && j < k; j++) {
            ok = (p[j] & 0xC0) == 0x80;
            cp = cp << 6 | (p[j] & 0x3F);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        ok = ok && cp >= min[k] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (ok) {
            memcpy(fixed + o, p, k);
            o += k;
            i += k;
        } else {
            memcpy(fixed + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn(fixed, o);
    free(fixed);
    assert_non_null(j); /* jansson takes it: the repair left valid UTF-8 */
    char *d = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(j);
    assert_non_null(d);
    return d;
}

static void assert_like_jansson(const char *s, size_t n)
{
    char *want = jansson_of(s, n);
    const char *got = jw_of(s, n);
    if (strcmp(want, got) != 0) {
        char hex[200] = "";
        for (size_t i = 0; i < n && i < 60; i++)
            snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02x", (uint8_t)s[i]);
        fail_msg("input %s: jw wrote %s, jansson %s", hex, got, want);
    }
    free(want);
}

/* ---- grammar ---------------------------------------------------------------------------------------- */

static void test_jw_nesting_and_separators(void **state)
{
    (void)state;
    struct jw w;
    jw_init(&w, 0);
    jw_object_begin(&w);
    jw_key(&w, "a");
    jw_array_begin(&w);
    jw_int(&w, 1);
    jw_object_begin(&w);
    jw_key(&w, "b");
    jw_null(&w);
    jw_object_end(&w);
    jw_array_begin(&w);
    jw_array_end(&w);
    jw_string(&w, "");
    jw_array_end(&w);
    jw_key(&w, "c");
    jw_object_begin(&w);
    jw_object_end(&w);
    jw_key(&w, "d");
    jw_bool(&w, true);
    jw_key(&w, "e");
    jw_bool(&w, false);
    jw_object_end(&w);
    assert_string_equal(text(&w), "{\"a\":[1,{\"b\":null},[],\"\"],\"c\":{},\"d\":true,\"e\":false}");
    /* a second text after jw_reset starts without a ',' */
    jw_reset(&w);
    jw_array_begin(&w);
    jw_uint(&w, 7);
    jw_array_end(&w);
    assert_string_equal(text(&w), "[7]");
    jw_free(&w);
}

static void test_jw_raw_newline_is_outside_the_grammar(void **state)
{
    (void)state;
    struct jw w;
    jw_init(&w, 0);
    jw_object_begin(&w);
    jw_object_end(&w);
    jw_raw(&w, "\n", 1);
    assert_string_equal(text(&w), "{}\n");
    jw_free(&w);
}

/* ---- objects added only when not empty -------------------------------------------------------------- */

static void test_jw_empty_object_is_taken_back_with_its_key(void **state)
{
    (void)state;
    struct jw w;
    jw_init(&w, 0);
    jw_object_begin(&w);
    jw_key(&w, "x");
    jw_int(&w, 1);
    struct jw_mark m = jw_mark(&w);
    jw_key(&w, "empty");
    jw_object_begin(&w);
    assert_false(jw_object_end_or_drop(&w, m));
    jw_key(&w, "y"); /* the ',' after "x":1 is still due */
    jw_int(&w, 2);
    m = jw_mark(&w);
    jw_key(&w, "full");
    jw_object_begin(&w);
    jw_key(&w, "z");
    jw_int(&w, 3);
    assert_true(jw_object_end_or_drop(&w, m));
    jw_object_end(&w);
    assert_string_equal(text(&w), "{\"x\":1,\"y\":2,\"full\":{\"z\":3}}");
    jw_free(&w);
}

static void test_jw_empty_first_member_leaves_no_comma(void **state)
{
    (void)state;
    struct jw w;
    jw_init(&w, 0);
    jw_object_begin(&w);
    struct jw_mark m = jw_mark(&w);
    jw_key(&w, "a");
    jw_array_begin(&w);
    assert_false(jw_array_end_or_drop(&w, m));
    jw_key(&w, "b");
    jw_int(&w, 1);
    m = jw_mark(&w);
    jw_key(&w, "c");
    jw_array_begin(&w);
    jw_string(&w, "x");
    assert_true(jw_array_end_or_drop(&w, m));
    jw_object_end(&w);
    assert_string_equal(text(&w), "{\"b\":1,\"c\":[\"x\"]}");
    jw_free(&w);
}

/* ---- strings ---------------------------------------------------------------------------------------- */

static void test_jw_escapes_quote_backslash_and_control_characters(void **state)
{
    (void)state;
    char all[32];
    for (int i = 0; i < 31; i++)
        all[i] = (char)(i + 1);
    all[31] = '\0';
    assert_string_equal(jw_of(all, 31), "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000B\\f\\r"
                                        "\\u000E\\u000F\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
                                        "\\u0019\\u001A\\u001B\\u001C\\u001D\\u001E\\u001F\"");
    /* '"' and '\' escaped; '/' and DEL as they are (no JSON_ESCAPE_SLASH; DEL is not a control character in JSON) */
    assert_string_equal(jw_of("a\"b\\c/d\x7f", 8), "\"a\\\"b\\\\c/d\x7f\"");
    /* keys are escaped the same way */
    struct jw w;
    jw_init(&w, 0);
    jw_object_begin(&w);
    jw_key(&w, "k\"\n");
    jw_int(&w, 0);
    jw_object_end(&w);
    assert_string_equal(text(&w), "{\"k\\\"\\n\":0}");
    jw_free(&w);
}

static void test_jw_every_byte_alone_like_jansson(void **state)
{
    (void)state;
    for (int c = 1; c < 256; c++) {
        char s[1] = {(char)c};
        assert_like_jansson(s, 1);
    }
}

static void test_jw_u2028_u2029_and_non_ascii_as_they_are(void **state)
{
    (void)state;
    /* jansson escapes nothing above U+001F without JSON_ENSURE_ASCII: U+2028/U+2029 go out as UTF-8 */
    assert_string_equal(jw_of("\xE2\x80\xA8|\xE2\x80\xA9", 7), "\"\xE2\x80\xA8|\xE2\x80\xA9\"");
    /* U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF: the ends of each length */
    static const char ends[] = "\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF";
    assert_like_jansson(ends, sizeof ends - 1);
    assert_string_equal(jw_of("J\xC3\xBCrgen", 7), "\"J\xC3\xBCrgen\"");
}

static void test_jw_invalid_utf8_becomes_fffd_per_byte(void **state)
{
    (void)state;
#define FFFD "\xEF\xBF\xBD"
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"\x80", "\"" FFFD "\""},                            /* a lone continuation byte */
        {"a\xC3", "\"a" FFFD "\""},                          /* a sequence cut by the end */
        {"\xE2\x82z", "\"" FFFD FFFD "z\""},                 /* cut by an ASCII byte: one U+FFFD a byte */
        {"\xC0\xAF", "\"" FFFD FFFD "\""},                   /* overlong '/' */
        {"\xE0\x80\xAF", "\"" FFFD FFFD FFFD "\""},          /* overlong, 3 bytes */
        {"\xED\xA0\x80", "\"" FFFD FFFD FFFD "\""},          /* a surrogate (U+D800) */
        {"\xF4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""}, /* past U+10FFFF */
        {"\xF5\x80", "\"" FFFD FFFD "\""},                   /* no such lead byte */
        {"\xFF\xC3\xA9", "\"" FFFD "\xC3\xA9\""},            /* a valid sequence right after a bad byte */
        {"\xC3\"", "\"" FFFD "\\\"\""},                      /* the byte after a bad lead is looked at again */
    };
#undef FFFD
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_string_equal(jw_of(cases[i].in, strlen(cases[i].in)), cases[i].want);
        assert_like_jansson(cases[i].in, strlen(cases[i].in));
    }
}

static void test_jw_embedded_nul_by_length(void **state)
{
    (void)state;
    /* jw_stringn writes what it is given, NUL included; jw_string stops at the first NUL */
    assert_string_equal(jw_of("a\0b", 3), "\"a\\u0000b\"");
    assert_string_equal(jw_of("", 0), "\"\"");
    struct jw w;
    jw_init(&w, 0);
    jw_string(&w, "a\0b");
    assert_string_equal(text(&w), "\"a\"");
    jw_free(&w);
}

/* Each special byte at each position of strings of 1 to 40 bytes: the 16-bytes-at-a-time path (8 without SSE2),
 * the padded tail and the byte path must agree with jansson wherever the byte falls. */
static void test_jw_special_byte_at_every_position(void **state)
{
    (void)state;
    static const char special[] = {'"', '\\', '\n', 0x01, 0x1F, 0x20, 0x7F, (char)0x80, (char)0xC3, (char)0xFF, '/'};
    char s[40];
    for (size_t n = 1; n <= sizeof s; n++)
        for (size_t at = 0; at < n; at++)
            for (size_t k = 0; k < sizeof special; k++) {
                memset(s, 'x', n);
                s[at] = special[k];
                assert_like_jansson(s, n);
            }
}

/* Valid, cut-short and invalid UTF-8 sequences at every offset of plain strings of 1 to 48 bytes, each in a buffer of
 * its exact size (ASan sees a read past it): a sequence straddling a 16-byte block or the tail's overlapping loads
 * is read whole (the end of the string, not of the block, bounds it). */
static void test_jw_utf8_sequence_at_every_offset(void **state)
{
    (void)state;
    static const char *const seq[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
                                      "\xE2\x82",   "\xF0\x9F\x98",   "\xED\xA0\x80"};
    for (size_t n = 1; n <= 48; n++)
        for (size_t k = 0; k < sizeof seq / sizeof *seq; k++)
            for (size_t at = 0; at + strlen(seq[k]) <= n; at++) {
                char *s = malloc(n);
                assert_non_null(s);
                memset(s, 'x', n);
                memcpy(s + at, seq[k], strlen(seq[k]));
                assert_like_jansson(s, n);
                free(s);
            }
}

/* Random byte strings, biased towards the bytes that need care, against jansson. */
static void test_jw_random_strings_like_jansson(void **state)
{
    (void)state;
    static const uint8_t pool[] = {'a',  'Z',  ' ',  '"',  '\\', '/',  0x00, 0x01, 0x1F, 0x7F, 0x80, 0xBF, 0xC2,
                                   0xC3, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F};
    uint32_t seed = 12345;
    char s[64];
    for (int iter = 0; iter < 20000; iter++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % sizeof s;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = (char)pool[(seed >> 16) % sizeof pool];
        }
        assert_like_jansson(s, n);
    }
}

/* ---- integers --------------------------------------------------------------------------------------- */

static void test_jw_integers_as_jansson_prints_them(void **state)
{
    (void)state;
    static const int64_t v[] = {0, 1, -1, 9, 10, -10, 4294967295, -2147483648, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        struct jw w;
        jw_init(&w, 0);
        jw_int(&w, v[i]);
        json_t *j = json_integer(v[i]);
        char *want = json_dumps(j, JSON_ENCODE_ANY);
        assert_string_equal(text(&w), want);
        free(want);
        json_decref(j);
        jw_free(&w);
    }
    struct jw w;
    jw_init(&w, 0);
    jw_array_begin(&w);
    jw_uint(&w, 0);
    jw_uint(&w, (uint64_t)INT64_MAX + 1);
    jw_uint(&w, UINT64_MAX);
    jw_array_end(&w);
    assert_string_equal(text(&w), "[0,9223372036854775808,18446744073709551615]");
    jw_free(&w);
}

/* ---- the buffer ------------------------------------------------------------------------------------- */

static void test_jw_buffer_grows_by_doubling_and_is_reused(void **state)
{
    (void)state;
    struct jw w;
    jw_init(&w, 0);
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'q', n);
    big[n] = '\0';
    big[n / 2] = '\n';
    jw_string(&w, big);
    assert_false(w.failed);
    assert_int_equal(w.len, n + 3); /* the quotes, and the '\n' escaped in two bytes */
    assert_int_equal(w.buf[0], '"');
    assert_memory_equal(w.buf + 1 + n / 2, "\\n", 2);
    assert_int_equal(w.buf[w.len - 1], '"');
    assert_true(w.cap >= 6 * n + 4);
    assert_int_equal(w.cap & (w.cap - 1), 0); /* 4096 doubled: a power of two */
    /* reset keeps the buffer: the next texts are written into it without a new allocation */
    char *buf = w.buf;
    size_t cap = w.cap;
    for (int i = 0; i < 100; i++) {
        jw_reset(&w);
        jw_object_begin(&w);
        jw_key(&w, "k");
        jw_string(&w, "v");
        jw_object_end(&w);
    }
    assert_ptr_equal(w.buf, buf);
    assert_int_equal(w.cap, cap);
    assert_string_equal(text(&w), "{\"k\":\"v\"}");
    free(big);
    jw_free(&w);
    assert_null(w.buf);
    assert_int_equal(w.len, 0);
}

static void test_jw_cap_fails_the_text_not_the_program(void **state)
{
    (void)state;
    struct jw w;
    jw_init(&w, 64);
    jw_array_begin(&w);
    jw_string(&w, "short"); /* 6 * 5 + 4 bytes asked: fits */
    assert_false(w.failed);
    jw_string(&w, "a string whose worst case does not fit in 64 bytes");
    assert_true(w.failed);
    assert_true(w.cap <= 64);
    size_t len = w.len;
    jw_int(&w, 1); /* nothing more is written */
    jw_array_end(&w);
    assert_int_equal(w.len, len);
    assert_null(jw_release(&w));
    assert_null(w.buf);
    /* the writer is usable again */
    jw_array_begin(&w);
    jw_array_end(&w);
    assert_string_equal(text(&w), "[]");
    jw_free(&w);
}

static void test_jw_release_hands_over_a_c_string(void **state)
{
    (void)state;
    struct jw w;
    jw_init(&w, 0);
    jw_object_begin(&w);
    jw_key(&w, "type");
    jw_string(&w, "stats");
    jw_object_end(&w);
    char *s = jw_release(&w);
    assert_non_null(s);
    assert_string_equal(s, "{\"type\":\"stats\"}");
    assert_null(w.buf);
    assert_int_equal(w.len, 0);
    free(s);
    /* an empty writer releases an empty string */
    s = jw_release(&w);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jw_nesting_and_separators),
        cmocka_unit_test(test_jw_raw_newline_is_outside_the_grammar),
        cmocka_unit_test(test_jw_empty_object_is_taken_back_with_its_key),
        cmocka_unit_test(test_jw_empty_first_member_leaves_no_comma),
        cmocka_unit_test(test_jw_escapes_quote_backslash_and_control_characters),
        cmocka_unit_test(test_jw_every_byte_alone_like_jansson),
        cmocka_unit_test(test_jw_u2028_u2029_and_non_ascii_as_they_are),
        cmocka_unit_test(test_jw_invalid_utf8_becomes_fffd_per_byte),
        cmocka_unit_test(test_jw_embedded_nul_by_length),
        cmocka_unit_test(test_jw_special_byte_at_every_position),
        cmocka_unit_test(test_jw_utf8_sequence_at_every_offset),
        cmocka_unit_test(test_jw_random_strings_like_jansson),
        cmocka_unit_test(test_jw_integers_as_jansson_prints_them),
        cmocka_unit_test(test_jw_buffer_grows_by_doubling_and_is_reused),
        cmocka_unit_test(test_jw_cap_fails_the_text_not_the_program),
        cmocka_unit_test(test_jw_release_hands_over_a_c_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
