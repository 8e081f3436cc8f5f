/* DER/BER TLV reader for GSS-API, SPNEGO and (later) Kerberos — ITU-T X.690 section 8. */
#ifndef HOPSCOPE_DER_H
#define HOPSCOPE_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* Deepest nesting a caller may descend into; deeper input is malformed. */
#define DER_MAX_DEPTH 32

/* Tag classes (X.690 8.1.2.2), already shifted into bits 7-6 of the identifier octet. */
#define DER_UNIVERSAL   0x00
#define DER_APPLICATION 0x40
#define DER_CONTEXT     0x80
#define DER_PRIVATE     0xC0

/* Universal tags used here. */
#define DER_TAG_INTEGER      2
#define DER_TAG_BIT_STRING   3
#define DER_TAG_OCTET_STRING 4
#define DER_TAG_OID          6
#define DER_TAG_ENUMERATED   10
#define DER_TAG_SEQUENCE     16
#define DER_TAG_GENERAL_STRING 27

/* One decoded TLV: class, constructed bit, tag number and the value's bytes. */
struct der_tlv {
    uint8_t cls;         /* DER_UNIVERSAL .. DER_PRIVATE */
    bool constructed;
    uint32_t tag;        /* tag number (high-tag-number form decoded, < 2^28) */
    const uint8_t *val;  /* value bytes, inside the reader's buffer */
    size_t len;          /* value length */
};

/*
 * Reads the next TLV from r (definite lengths only; the indefinite form 0x80 and lengths needing
 * more than 4 octets are errors). On success fills t and advances r past the value.
 * Returns false on truncation, a length past the end of r, or a malformed identifier/length;
 * r's error flag is then set.
 */
bool der_next(struct rd *r, struct der_tlv *t);

/* A reader over t's value. */
static inline struct rd der_inner(const struct der_tlv *t)
{
    return rd_make(t->val, t->len);
}

/*
 * Reads the next TLV from r and checks it is of class cls and tag number tag; false (and r's
 * error set only on malformed input) if it is not. On a mismatch r is not advanced.
 */
bool der_expect(struct rd *r, uint8_t cls, uint32_t tag, struct der_tlv *t);

/*
 * Formats an OBJECT IDENTIFIER value (X.690 8.19) as dotted decimal into out[cap].
 * Returns false on malformed content (empty, a sub-identifier over 64 bits, unterminated); out is then a
 * terminated string (possibly the OID cut where it went wrong), "" when nothing was written.
 */
bool der_oid_str(const uint8_t *v, size_t n, char *out, size_t cap);

/* Decodes a non-negative INTEGER or ENUMERATED value of at most 8 octets; false otherwise. */
bool der_uint(const uint8_t *v, size_t n, uint64_t *out);

/*
 * Readers for an explicitly tagged field `[n] T` (as RFC 4120 and RFC 4178 use throughout): f is the
 * [n] TLV, the value is the single TLV inside it. Each returns false when the inner TLV is missing,
 * malformed, or not of the universal type named (and primitive or constructed as that type is).
 */
bool der_explicit(const struct der_tlv *f, struct der_tlv *v);
/* INTEGER of 1-8 octets, two's complement. */
bool der_get_int(const struct der_tlv *f, int64_t *out);
/* Any primitive universal string (GeneralString, KerberosString, ...) copied into out[cap], cut to fit. */
bool der_get_string(const struct der_tlv *f, char *out, size_t cap);
/* GeneralizedTime (tag 24) as its text, e.g. KerberosTime "20261121225111Z". */
bool der_get_time(const struct der_tlv *f, char *out, size_t cap);
/* BIT STRING of up to 32 bits as a word with bit 0 at 0x80000000 (RFC 4120 flag words). */
bool der_get_bits32(const struct der_tlv *f, uint32_t *out);
/* OCTET STRING: points *val into f's buffer. */
bool der_get_octets(const struct der_tlv *f, const uint8_t **val, size_t *len);
/* SEQUENCE: a reader over its contents. */
bool der_get_seq(const struct der_tlv *f, struct rd *r);
/* Kerberos PrincipalName (RFC 4120 5.2.2) ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF
 * KerberosString }: the components joined with '/' into out[cap] (cut to fit, NUL bytes end a component),
 * name-type into *name_type when not NULL. */
bool der_get_principal(const struct der_tlv *f, char *out, size_t cap, int32_t *name_type);

#endif
