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
 * Called by bittok_each / bittok_each_msb0 once per set bit of a flag word: `name` is the bit's
 * name from the table, or NULL when the table has none (the writer then spells the bit itself,
 * e.g. "0x00000100" or "bit7"); `key` is the value that was looked up in the table (see below).
 */
typedef void (*bittok_fn)(void *arg, const char *name, uint32_t key);

/*
 * Visits the set bits of the flag word v, least significant first, calling fn(arg, name, key) for
 * each. t is keyed by one-bit masks (as NegotiateFlags, MS-NLMP 2.2.2.5: {0x00000001, "..."}), so
 * key is the mask (1u << i). This is tcpdump's bittok2str as a callback, so a JSON writer can
 * append each name to a list and format the unnamed ones as it likes. Returns the number of calls
 * made (the number of bits set in v; 0 when v is 0).
 */
size_t bittok_each(const struct tok *t, uint32_t v, bittok_fn fn, void *arg);

/*
 * The same for flag words whose bits are numbered from the most significant bit, as Kerberos
 * KerberosFlags (RFC 4120 5.2.8: bit 0 is the high bit of the first octet, held here as
 * 0x80000000). t is keyed by bit number (0-31), bits are visited from bit 0 (0x80000000) to bit 31
 * (0x00000001), and key is the bit number. Returns the number of calls made.
 */
size_t bittok_each_msb0(const struct tok *t, uint32_t v, bittok_fn fn, void *arg);

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

/* An anonymous temporary file, open for reading and writing: made in $TMPDIR (else /tmp) with mode 0600 and
 * close-on-exec, and unlinked at once, so that it goes with its descriptor. Returns the descriptor, or -1 with
 * errno (mkostemp(3)'s, or ENAMETOOLONG for a $TMPDIR too long). */
int tmpfd(void);

/*
 * A 64-bit digest of the n bytes at p (FNV-1a's multiply eight bytes a step, a shift carrying high bits down, the
 * length folded in), never 0: tells a byte-identical copy of a message (a span port's second copy, a UDP
 * retransmission). Not a defence against crafted collisions, only a cheap equality test.
 */
uint64_t copy_digest(const uint8_t *p, size_t n);

/*
 * v's low `digits` hex digits (1..16), lower case and zero-padded, most significant first, at o (no NUL; the caller
 * makes room for `digits` bytes); returns the end. printf's "%0*" PRIx64 without printf: records format status
 * codes, flags and UUIDs by the thousand.
 */
char *hex_put(char *o, uint64_t v, unsigned digits);

/* "0x" and hex_put(v, digits), NUL-terminated, into out (room for digits + 3 bytes); returns out. */
char *hex_0x(char *out, uint64_t v, unsigned digits);

/*
 * a, b and c (NUL-terminated; NULL for none) one after the other into out[cap], cut at cap - 1 bytes and
 * NUL-terminated as snprintf(out, cap, "%s%s%s", ...) would (cap 0: nothing written). The names records are
 * made of ("DOMAIN\\user", "name@REALM") are joined for every record.
 */
void strjoin(char *out, size_t cap, const char *a, const char *b, const char *c);

/* v in decimal ("-" first when negative), NUL-terminated, into out (room for 21 bytes); returns out. printf's "%d"
 * without printf. */
char *dec_str(char out[21], int64_t v);

#endif
