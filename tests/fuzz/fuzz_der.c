/* Fuzz target: the DER reader — der_next() walked recursively through constructed TLVs up to
 * DER_MAX_DEPTH, der_oid_str() on every OBJECT IDENTIFIER, der_uint() on INTEGER/ENUMERATED. */
#include "der.h"
#include "fuzz.h"

static const uint8_t *g_base;
static size_t g_size;

static void check_oid(const struct der_tlv *t)
{
    char big[512], small[12];
    bool ok = der_oid_str(t->val, t->len, big, sizeof big);
    FUZZ_CHECK(fuzz_terminated(big, sizeof big));
    if (ok)
        FUZZ_CHECK(big[0] != '\0');
    /* A buffer too small for most OIDs: must fail cleanly, never overrun. */
    bool ok_small = der_oid_str(t->val, t->len, small, sizeof small);
    FUZZ_CHECK(fuzz_terminated(small, sizeof small));
    if (ok_small)
        FUZZ_CHECK(ok && strcmp(small, big) == 0);
    char one[1];
    (void)der_oid_str(t->val, t->len, one, sizeof one);
}

static void walk(struct rd *r, int depth)
{
    struct der_tlv t;
    while (rd_left(r) > 0) {
        if (!der_next(r, &t)) {
            FUZZ_CHECK(r->err && rd_left(r) == 0);
            return;
        }
        FUZZ_CHECK(fuzz_inside(g_base, g_size, t.val, t.len));
        FUZZ_CHECK(t.cls == DER_UNIVERSAL || t.cls == DER_APPLICATION || t.cls == DER_CONTEXT ||
                   t.cls == DER_PRIVATE);
        FUZZ_CHECK(t.tag < (1u << 28));
        if (t.len && !t.constructed)
            fuzz_touch(t.val, t.len); /* a constructed value's bytes are its children's */
        if (t.cls == DER_UNIVERSAL && !t.constructed) {
            uint64_t v;
            if (t.tag == DER_TAG_OID)
                check_oid(&t);
            else if (t.tag == DER_TAG_INTEGER || t.tag == DER_TAG_ENUMERATED)
                (void)der_uint(t.val, t.len, &v);
        }
        if (t.constructed && depth + 1 < DER_MAX_DEPTH) {
            struct rd in = der_inner(&t);
            walk(&in, depth + 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_base = data;
    g_size = size;
    struct rd r = rd_make(data, size);
    walk(&r, 0);

    /* der_expect: a mismatch must leave the reader where it was. */
    struct rd e = rd_make(data, size);
    struct der_tlv t;
    if (size > 0) {
        uint8_t cls = data[0] & 0xC0;
        uint32_t tag = (data[0] & 0x1F) == 0x1F ? 0 : (data[0] & 0x1Fu) ^ 1u;
        if (!der_expect(&e, cls, tag, &t) && !e.err)
            FUZZ_CHECK(e.pos == 0);
    }
    return 0;
}
