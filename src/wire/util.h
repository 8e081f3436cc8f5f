/* Small helpers: text conversion of wire strings, bounded string copy, base64, value tables. */
#ifndef HOPSCOPE_UTIL_H
#define HOPSCOPE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A value→name table entry; tables end with {0, NULL} (as tcpdump's struct tok). */
struct tok {
    uint32_t v;
    const char *s;
};

/* Name of v in t, or NULL when t has none. */
const char *tok_name(const struct tok *t, uint32_t v);

/*
 * Converts n bytes of UTF-16LE (as MS-NLMP and MS-SMB2 carry names) to NUL-terminated UTF-8 in
 * out[cap]. Unpaired surrogates and an odd trailing byte become U+FFFD; control characters are
 * kept (the JSON writer escapes them). Output that does not fit is cut at a character boundary.
 * Returns true if the whole input fit, false if it was cut. cap must be >= 1.
 */
bool utf16le_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap);

/*
 * Converts n bytes of an OEM (8-bit) string to UTF-8 in out[cap]: ASCII is kept, bytes >= 0x80 are
 * read as Latin-1 (the OEM code page is not on the wire). NUL bytes end the string.
 * Returns true if the whole input fit.
 */
bool oem_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap);

/* Copies at most n bytes of s (stopping at NUL) into out[cap], always NUL-terminating. */
void strlcpy_n(char *out, size_t cap, const char *s, size_t n);

/*
 * Decodes standard base64 (RFC 4648 section 4, padding optional, no whitespace inside) from
 * in[n] into out[cap]. Returns the decoded length, or -1 on an invalid character or when the
 * output would not fit.
 */
long base64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* Case-insensitive prefix match of the n-byte buffer p against NUL-terminated pfx. */
bool has_prefix_ci(const char *p, size_t n, const char *pfx);

#endif
