/*
 * JSON text written straight into a reused buffer (RFC 8259), strings escaped as jansson 2.14 escapes them.
 *
 * Why our own writer rather than a library that writes without a tree (the rule is that a well-kept library beats
 * our own code outside the core): Debian's, yajl's yajl_gen (libyajl-dev 2.1.0), was measured with
 * bench/json_writers.c on the 1,156 lines (records, findings, stats) of the 64 MiB bench mix, every writer writing
 * the same events (callgrind, instructions a line): jansson's tree and json_dumps, as before, 189,000 (~23 us);
 * yajl_gen 53,600 (~6 us), 62,300 with the UTF-8 check hopscope must still make itself (yajl can only refuse
 * invalid UTF-8, not repair it as records need); this writer 16,400 (~2 us). yajl upstream has had no release
 * since 2014; Debian patches it alone (2.1.0-3+deb12u2: CVE-2022-24795, an overflow in the very buffer yajl_gen
 * writes into). A new dependency 3.8 times slower, with the UTF-8 code it still needs, does not pay for the ~350
 * lines here, which the tests hold byte for byte to jansson's output (tests/test_jw.c). docs/ARCHITECTURE.md,
 * "JSON output".
 */
#include "jw.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void jw_init(struct jw *w, size_t max)
{
    memset(w, 0, sizeof *w);
    w->max = max;
}

void jw_reset(struct jw *w)
{
    w->len = 0;
    w->comma = false;
    w->failed = false;
}

void jw_free(struct jw *w)
{
    size_t max = w->max;
    free(w->buf);
    jw_init(w, max);
}

/* Room for n more bytes, growing the buffer by doubling up to max; false (and failed set) when there is none. */
static bool grow(struct jw *w, size_t n)
{
    size_t max = w->max ? w->max : JW_MAX_DEFAULT;
    if (w->failed || n > max || w->len > max - n) {
        w->failed = true;
        return false;
    }
    size_t cap = w->cap ? w->cap : 4096;
    if (cap > max)
        cap = max;
    while (cap < w->len + n)
        cap = cap > max / 2 ? max : cap * 2;
    char *b = realloc(w->buf, cap);
    if (!b) {
        w->failed = true;
        return false;
    }
    w->buf = b;
    w->cap = cap;
    return true;
}

static inline bool room(struct jw *w, size_t n)
{
    if (!w->failed && w->cap - w->len >= n)
        return true;
    return grow(w, n);
}

char *jw_release(struct jw *w)
{
    char *s = NULL;
    if (room(w, 1)) {
        w->buf[w->len] = '\0';
        s = w->buf;
        w->buf = NULL;
    }
    jw_free(w);
    return s;
}

/* An opening bracket, after the ',' a previous sibling calls for; comma_after: whether the next item needs one. */
static inline void put_token(struct jw *w, char c, bool comma_after)
{
    if (!room(w, 2))
        return;
    if (w->comma)
        w->buf[w->len++] = ',';
    w->buf[w->len++] = c;
    w->comma = comma_after;
}

void jw_object_begin(struct jw *w)
{
    put_token(w, '{', false);
}

void jw_array_begin(struct jw *w)
{
    put_token(w, '[', false);
}

static inline void put_close(struct jw *w, char c)
{
    if (!room(w, 1))
        return;
    w->buf[w->len++] = c;
    w->comma = true;
}

void jw_object_end(struct jw *w)
{
    put_close(w, '}');
}

void jw_array_end(struct jw *w)
{
    put_close(w, ']');
}

static bool end_or_drop(struct jw *w, struct jw_mark m, char open, char close)
{
    if (!w->failed && w->len > m.len && w->buf[w->len - 1] == open) {
        jw_rewind(w, m);
        return false;
    }
    put_close(w, close);
    return true;
}

bool jw_object_end_or_drop(struct jw *w, struct jw_mark m)
{
    return end_or_drop(w, m, '{', '}');
}

bool jw_array_end_or_drop(struct jw *w, struct jw_mark m)
{
    return end_or_drop(w, m, '[', ']');
}

/* Length of the valid UTF-8 sequence (RFC 3629 4) at p with n >= 1 bytes left, or 0: the test jansson's
 * utf8_check_first/utf8_check_full make (json_string() refuses a string that fails it). */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t k;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2, cp = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        k = 3, cp = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3Fu);
    }
    return cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : k;
}

/*
 * What each byte becomes inside a string: 0 as it is, 'u' a \u00XX escape, 'U' a look at the UTF-8 sequence it
 * starts, else the letter after '\' (jansson's dump_string: '"', '\' and the control characters; never '/'
 * without JSON_ESCAPE_SLASH, never DEL).
 */
/* clang-format off */
static const char escape[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u', /* 0x00 */
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', /* 0x10 */
    [0x22] = '"', [0x5C] = '\\',
    [0x80] = 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', /* 0x80 */
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', /* 0x90 */
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', /* 0xA0 */
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', /* 0xB0 */
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', /* 0xC0 */
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', /* 0xD0 */
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', /* 0xE0 */
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', /* 0xF0 */
};
/* clang-format on */

/* Whether none of the 8 bytes in x needs a look: no control character, '"', '\' or byte from 0x80 on. A false
 * "needs a look" only sends the bytes the slow way; a byte that needs one is never missed (the borrow-based test
 * for a zero byte finds at least the lowest). */
static inline bool plain8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t look = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x;
    return !(look & high);
}

/* The character at *p (before end), escaped, at *o; both move past it. */
static inline void put_char(char **o, const uint8_t **p, const uint8_t *end)
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t c = **p;
    char e = escape[c];
    if (!e) {
        *(*o)++ = (char)c;
        (*p)++;
    } else if (e == 'u') {
        memcpy(*o, "\\u00", 4);
        (*o)[4] = hex[c >> 4];
        (*o)[5] = hex[c & 0xF];
        *o += 6;
        (*p)++;
    } else if (e != 'U') {
        (*o)[0] = '\\';
        (*o)[1] = e;
        *o += 2;
        (*p)++;
    } else {
        size_t k = utf8_len(*p, (size_t)(end - *p));
        if (k) {
            memcpy(*o, *p, k);
            *o += k;
            *p += k;
        } else { /* U+FFFD for the byte, then on from the next one (what json.c did before jw) */
            memcpy(*o, "\xEF\xBF\xBD", 3);
            *o += 3;
            (*p)++;
        }
    }
}

/* The bytes [p, end) one at a time, escaped; returns the end of what was written. */
static char *put_bytes(char *o, const uint8_t *p, const uint8_t *end)
{
    while (p < end) {
        if (!escape[*p])
            *o++ = (char)*p++;
        else
            put_char(&o, &p, end);
    }
    return o;
}

#if defined(__SSE2__)
/* The bytes of the 16 in x that need a look, a bit each (bit i: byte i): below 0x20 or from 0x80 on (one signed
 * comparison finds both), '"' and '\\'. */
static inline unsigned look16(__m128i x)
{
    __m128i ctl = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, _mm_or_si128(q, b)));
}

/* The string between its quotes; room for 6 bytes per input byte (the longest escape) was made. 16 bytes at a
 * time: a plain run is copied as it is up to the first byte that needs a look, which put_char() writes (a 16-byte
 * store is made only while 16 or more bytes are left, within the room made for them). The last 4 to 15 bytes are
 * looked at through two overlapping loads of 8 (or 4) and, when plain, stored the same way; fewer, or any that
 * need a look, go byte by byte. Nothing is read outside [p, p + n). */
static char *put_chars(char *o, const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = look16(x);
        _mm_storeu_si128((__m128i *)(void *)o, x);
        if (!m) {
            o += 16;
            p += 16;
            continue;
        }
        unsigned k = (unsigned)__builtin_ctz(m);
        o += k;
        p += k;
        put_char(&o, &p, end);
    }
    size_t left = (size_t)(end - p);
    if (left >= 4) {
        uint64_t x, y;
        if (left >= 8) {
            memcpy(&x, p, 8);
            memcpy(&y, end - 8, 8);
        } else {
            uint32_t a, b;
            memcpy(&a, p, 4);
            memcpy(&b, end - 4, 4);
            x = (uint64_t)a | (uint64_t)b << 32;
            y = x;
        }
        if (plain8(x) && plain8(y)) {
            if (left >= 8) {
                memcpy(o, &x, 8);
                memcpy(o + left - 8, &y, 8);
            } else {
                uint32_t a = (uint32_t)x, b = (uint32_t)(x >> 32);
                memcpy(o, &a, 4);
                memcpy(o + left - 4, &b, 4);
            }
            return o + left;
        }
    }
    return put_bytes(o, p, end);
}
#else
/* The string between its quotes; room for 6 bytes per input byte (the longest escape) was made. */
static char *put_chars(char *o, const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    while (end - p >= 8) { /* most strings are plain ASCII: 8 bytes at a time */
        uint64_t x;
        memcpy(&x, p, 8);
        if (plain8(x)) {
            memcpy(o, &x, 8);
            o += 8;
            p += 8;
        } else {
            put_char(&o, &p, end);
        }
    }
    return put_bytes(o, p, end);
}
#endif

/* '"', the escaped n bytes at s, '"', after a ',' if due; key says whether a ':' follows (then no ',' is due). */
static void put_string(struct jw *w, const char *s, size_t n, bool key)
{
    if (n > (SIZE_MAX - 4) / 6) {
        w->failed = true;
        return;
    }
    if (!room(w, 6 * n + 4))
        return;
    char *o = w->buf + w->len;
    if (w->comma)
        *o++ = ',';
    *o++ = '"';
    o = put_chars(o, (const uint8_t *)s, n);
    *o++ = '"';
    if (key)
        *o++ = ':';
    w->len = (size_t)(o - w->buf);
    w->comma = !key;
}

void jw_keyn(struct jw *w, const char *k, size_t n)
{
    put_string(w, k, n, true);
}

void jw_stringn(struct jw *w, const char *s, size_t n)
{
    put_string(w, s, n, false);
}

/* v in decimal after an optional '-' (and a ',' if due). */
static void put_decimal(struct jw *w, bool neg, uint64_t v)
{
    char d[20];
    size_t n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (!room(w, n + 2))
        return;
    char *o = w->buf + w->len;
    if (w->comma)
        *o++ = ',';
    if (neg)
        *o++ = '-';
    while (n)
        *o++ = d[--n];
    w->len = (size_t)(o - w->buf);
    w->comma = true;
}

void jw_int(struct jw *w, int64_t v)
{
    /* -(v + 1) + 1 in unsigned arithmetic: INT64_MIN has no positive int64 */
    put_decimal(w, v < 0, v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v);
}

void jw_uint(struct jw *w, uint64_t v)
{
    put_decimal(w, false, v);
}

static void put_word(struct jw *w, const char *s, size_t n)
{
    if (!room(w, n + 1))
        return;
    if (w->comma)
        w->buf[w->len++] = ',';
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->comma = true;
}

void jw_bool(struct jw *w, bool v)
{
    if (v)
        put_word(w, "true", 4);
    else
        put_word(w, "false", 5);
}

void jw_null(struct jw *w)
{
    put_word(w, "null", 4);
}

void jw_raw(struct jw *w, const char *s, size_t n)
{
    if (!room(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}
