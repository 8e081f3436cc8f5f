/* DER/BER TLV reader — ITU-T X.690 8.1 (identifier and length octets), 8.19 (OIDs). */
#include "der.h"

#include <stdio.h>
#include <string.h>

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
    if (n == 0 || cap == 0)
        return false;
    out[0] = '\0';
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
