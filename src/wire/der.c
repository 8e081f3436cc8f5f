/* DER/BER TLV reader — ITU-T X.690 8.1 (identifier and length octets), 8.19 (OIDs). */
#include "der.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

bool der_next(struct rd *r, struct der_tlv *t)
{
    uint8_t id = rd_u8(r);
    if (r->err)
        return false;
    t->cls = id & 0xC0;
    t->constructed = (id & 0x20) != 0;
    uint32_t tag = id & 0x1F;
    if (tag == 0x1F) {
        /* High-tag-number form (8.1.2.4): base-128, at most 4 octets. */
        tag = 0;
        for (int i = 0;; i++) {
            uint8_t b = rd_u8(r);
            if (r->err || i == 4 || (i == 0 && b == 0x80)) {
                r->err = true;
                return false;
            }
            tag = (tag << 7) | (b & 0x7F);
            if (!(b & 0x80))
                break;
        }
        if (tag < 0x1F) { /* 8.1.2.2: tag numbers 0..30 only have the single-octet form */
            r->err = true;
            return false;
        }
    }
    t->tag = tag;
    uint8_t l0 = rd_u8(r);
    size_t len;
    if (r->err)
        return false;
    if (l0 < 0x80) {
        len = l0;
    } else {
        unsigned k = l0 & 0x7F;
        if (k == 0 || k > 4) { /* indefinite or absurd */
            r->err = true;
            return false;
        }
        len = 0;
        for (unsigned i = 0; i < k; i++)
            len = (len << 8) | rd_u8(r);
        if (r->err)
            return false;
    }
    t->val = rd_bytes(r, len);
    t->len = len;
    return t->val != NULL || len == 0 ? !r->err : false;
}

bool der_expect(struct rd *r, uint8_t cls, uint32_t tag, struct der_tlv *t)
{
    struct rd save = *r;
    if (!der_next(r, t))
        return false;
    if (t->cls != cls || t->tag != tag) {
        *r = save;
        return false;
    }
    return true;
}

bool der_oid_str(const uint8_t *v, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    uint64_t acc = 0;
    bool first = true;
    if (cap == 0)
        return false;
    out[0] = '\0'; /* "" on every failure, an empty OID included */
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (acc == 0 && v[i] == 0x80) /* 8.19.2: a sub-identifier never starts with 0x80 */
            return false;
        if (acc > (UINT64_MAX >> 7))
            return false;
        acc = (acc << 7) | (v[i] & 0x7F);
        if (v[i] & 0x80)
            continue;
        int w;
        if (first) {
            unsigned a = acc < 40 ? 0 : acc < 80 ? 1 : 2;
            w = snprintf(out + o, cap - o, "%u.%llu", a, (unsigned long long)(acc - 40ULL * a));
            first = false;
        } else {
            w = snprintf(out + o, cap - o, ".%llu", (unsigned long long)acc);
        }
        if (w < 0 || (size_t)w >= cap - o)
            return false;
        o += (size_t)w;
        acc = 0;
    }
    return (v[n - 1] & 0x80) == 0;
}

bool der_uint(const uint8_t *v, size_t n, uint64_t *out)
{
    if (n == 0 || n > 9 || (n == 9 && v[0] != 0) || (v[0] & 0x80))
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | v[i];
    *out = x;
    return true;
}

/* ---- explicitly tagged fields ---- */

/* The single TLV inside an explicitly tagged field. */
bool der_explicit(const struct der_tlv *f, struct der_tlv *v)
{
    struct rd r = der_inner(f);
    return der_next(&r, v);
}

bool der_get_int(const struct der_tlv *f, int64_t *out)
{
    struct der_tlv v;
    if (!der_explicit(f, &v) || v.cls != DER_UNIVERSAL || v.tag != DER_TAG_INTEGER || v.constructed || v.len == 0 ||
        v.len > 8)
        return false;
    int64_t x = (v.val[0] & 0x80) ? -1 : 0;
    for (size_t i = 0; i < v.len; i++)
        x = (int64_t)((uint64_t)x << 8) | v.val[i];
    *out = x;
    return true;
}

/* A KerberosString / Realm (GeneralString) as text. */
bool der_get_string(const struct der_tlv *f, char *out, size_t cap)
{
    struct der_tlv v;
    if (!der_explicit(f, &v) || v.cls != DER_UNIVERSAL || v.constructed)
        return false;
    strlcpy_n(out, cap, (const char *)v.val, v.len);
    return true;
}

/* KerberosTime (GeneralizedTime, "20261121225111Z") as on the wire. */
bool der_get_time(const struct der_tlv *f, char *out, size_t cap)
{
    struct der_tlv v;
    if (!der_explicit(f, &v) || v.cls != DER_UNIVERSAL || v.constructed || v.tag != 24)
        return false;
    strlcpy_n(out, cap, (const char *)v.val, v.len);
    return true;
}

/* BIT STRING of up to 32 bits → value with bit 0 at 0x80000000. */
bool der_get_bits32(const struct der_tlv *f, uint32_t *out)
{
    struct der_tlv v;
    if (!der_explicit(f, &v) || v.cls != DER_UNIVERSAL || v.tag != DER_TAG_BIT_STRING || v.constructed || v.len < 1)
        return false;
    uint32_t x = 0;
    for (size_t i = 1; i < v.len && i <= 4; i++)
        x |= (uint32_t)v.val[i] << (8 * (4 - i));
    *out = x;
    return true;
}

bool der_get_octets(const struct der_tlv *f, const uint8_t **val, size_t *len)
{
    struct der_tlv v;
    if (!der_explicit(f, &v) || v.cls != DER_UNIVERSAL || v.tag != DER_TAG_OCTET_STRING || v.constructed)
        return false;
    *val = v.val;
    *len = v.len;
    return true;
}

/* The SEQUENCE inside an explicitly tagged field, as a reader. */
bool der_get_seq(const struct der_tlv *f, struct rd *r)
{
    struct der_tlv v;
    if (!der_explicit(f, &v) || v.cls != DER_UNIVERSAL || v.tag != DER_TAG_SEQUENCE || !v.constructed)
        return false;
    *r = der_inner(&v);
    return true;
}

/* PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString },
 * as the components joined with '/'. */
bool der_get_principal(const struct der_tlv *f, char *out, size_t cap, int32_t *name_type)
{
    struct rd r;
    struct der_tlv g, s;
    if (!der_get_seq(f, &r))
        return false;
    out[0] = '\0';
    while (rd_left(&r)) {
        if (!der_next(&r, &g) || g.cls != DER_CONTEXT)
            return false;
        if (g.tag == 0) {
            int64_t t;
            if (!der_get_int(&g, &t))
                return false;
            if (name_type)
                *name_type = (int32_t)t;
            continue;
        }
        if (g.tag != 1)
            continue;
        struct rd l;
        if (!der_get_seq(&g, &l))
            return false;
        size_t o = 0;
        while (rd_left(&l)) {
            if (!der_next(&l, &s) || s.cls != DER_UNIVERSAL || s.constructed)
                return false;
            if (o && o + 1 < cap)
                out[o++] = '/';
            for (size_t i = 0; i < s.len && s.val[i] && o + 1 < cap; i++)
                out[o++] = (char)s.val[i];
            out[o] = '\0';
        }
    }
    return true;
}

