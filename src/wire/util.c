/* Small helpers: text conversion of wire strings, bounded string copy, base64, value tables, temporary files. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

const char *tok_name(const struct tok *t, uint32_t v)
{
    for (; t->s; t++)
        if (t->v == v)
            return t->s;
    return NULL;
}

size_t bittok_each(const struct tok *t, uint32_t v, bittok_fn fn, void *arg)
{
    size_t k = 0;
    for (int i = 0; i < 32; i++) {
        uint32_t bit = 1u << i;
        if (!(v & bit))
            continue;
        fn(arg, tok_name(t, bit), bit);
        k++;
    }
    return k;
}

size_t bittok_each_msb0(const struct tok *t, uint32_t v, bittok_fn fn, void *arg)
{
    size_t k = 0;
    for (uint32_t b = 0; b < 32; b++) {
        if (!(v & (0x80000000u >> b)))
            continue;
        fn(arg, tok_name(t, b), b);
        k++;
    }
    return k;
}

/* Appends code point cp as UTF-8 if it fits (leaving room for the NUL); false if not. */
static bool put_utf8(char *out, size_t cap, size_t *o, uint32_t cp)
{
    uint8_t b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (uint8_t)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (*o + k + 1 > cap)
        return false;
    memcpy(out + *o, b, k);
    *o += k;
    return true;
}

bool utf16le_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    bool whole = true;
    while (i + 1 < n) {
        uint32_t cp = (uint32_t)(in[i] | (in[i + 1] << 8));
        i += 2;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = (i + 1 < n) ? (uint32_t)(in[i] | (in[i + 1] << 8)) : 0;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            } else {
                cp = 0xFFFD;
            }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        if (cp == 0) {
            out[o] = '\0'; /* U+0000 ends the string: nothing after it, not even a U+FFFD */
            return true;
        }
        if (!put_utf8(out, cap, &o, cp)) {
            whole = false;
            break;
        }
    }
    if (whole && i < n && (n & 1) && in[n - 1] != 0 && i == n - 1) {
        if (!put_utf8(out, cap, &o, 0xFFFD))
            whole = false;
    }
    out[o] = '\0';
    return whole;
}

bool oem_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == 0)
            break;
        if (!put_utf8(out, cap, &o, in[i])) {
            out[o] = '\0';
            return false;
        }
    }
    out[o] = '\0';
    return true;
}

void strlcpy_n(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    if (cap == 0)
        return;
    while (k < n && k + 1 < cap && s[k])
        k++;
    memcpy(out, s, k);
    out[k] = '\0';
}

long base64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    /* OpenSSL's EVP_DecodeBlock wants a multiple of 4 characters and reports padding as
     * output bytes; pad and trim here. */
    size_t pad = 0;
    while (n > 0 && in[n - 1] == '=') {
        n--;
        pad++;
    }
    if (pad > 2 || n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
              c == '/'))
            return -1;
    }
    size_t full = n / 4 * 4, rest = n - full;
    size_t outlen = full / 4 * 3 + (rest ? rest - 1 : 0);
    if (outlen > cap || n > (size_t)INT32_MAX)
        return -1;
    if (full && EVP_DecodeBlock(out, (const unsigned char *)in, (int)full) < 0)
        return -1;
    if (rest) {
        unsigned char q[4] = {'A', 'A', 'A', 'A'}, t[3];
        memcpy(q, in + full, rest);
        for (size_t i = rest; i < 4; i++)
            q[i] = '=';
        if (EVP_DecodeBlock(t, q, 4) < 0)
            return -1;
        memcpy(out + full / 4 * 3, t, rest - 1);
    }
    return (long)outlen;
}

bool has_prefix_ci(const char *p, size_t n, const char *pfx)
{
    size_t k = strlen(pfx);
    return n >= k && strncasecmp(p, pfx, k) == 0;
}

int tmpfd(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0])
        dir = "/tmp";
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/hopscope-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

uint64_t copy_digest(const uint8_t *p, size_t n)
{
    /* four lanes, 32 bytes a step: the multiplies of one lane do not wait for another's (every KDC message passes
     * through here) */
    const uint64_t prime = 0x100000001b3ull;
    uint64_t h[4] = {0xcbf29ce484222325ull ^ n, 0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull};
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * k, 8);
            h[k] = (h[k] ^ w) * prime;
            h[k] ^= h[k] >> 29;
        }
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h[0] = (h[0] ^ w) * prime;
        h[0] ^= h[0] >> 29;
    }
    for (; i < n; i++)
        h[0] = (h[0] ^ p[i]) * prime;
    uint64_t r = h[0];
    for (int k = 1; k < 4; k++) {
        r = (r ^ h[k]) * 0x9e3779b97f4a7c15ull;
        r ^= r >> 32;
    }
    return r | 1; /* never 0, the "nothing seen" value */
}

char *hex_put(char *o, uint64_t v, unsigned digits)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < digits; i++)
        o[i] = hex[(v >> (4 * (digits - 1 - i))) & 0xf];
    return o + digits;
}

char *hex_0x(char *out, uint64_t v, unsigned digits)
{
    out[0] = '0';
    out[1] = 'x';
    *hex_put(out + 2, v, digits) = '\0';
    return out;
}

void strjoin(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    if (cap == 0)
        return;
    const char *part[3] = {a, b, c};
    size_t o = 0;
    for (int i = 0; i < 3; i++) {
        if (!part[i])
            continue;
        size_t n = strlen(part[i]);
        if (n > cap - 1 - o)
            n = cap - 1 - o;
        memcpy(out + o, part[i], n);
        o += n;
    }
    out[o] = '\0';
}

char *dec_str(char out[21], int64_t v)
{
    char d[20];
    size_t n = 0, o = 0;
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v; /* INT64_MIN has no positive int64 */
    do {
        d[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[o++] = '-';
    while (n)
        out[o++] = d[--n];
    out[o] = '\0';
    return out;
}
