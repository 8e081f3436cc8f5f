/*
 * DCOM inside DCE/RPC stubs (dissectors/dcerpc/dcom.c; MS-DCOM 2.2.13 ORPCTHIS/ORPCTHAT, 2.2.18 OBJREF,
 * 2.2.19 DUALSTRINGARRAY, 2.2.22 activation properties; MS-WMI 3.1.4): stubs built here as NDR, valid and
 * malformed; and the correlation stage linking an activation to the connection its bindings led to.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "dcerpc_names.h"
#include "dcom.h"
#include "pcapgen.h"
#include "reader.h"

#define CLSID_WBEM "8bc3f05e-d86b-11d0-a075-00c04fb68820"
#define CLSID_SHELLWINDOWS "9ba05972-f6a8-11cf-a442-00a0c90a8f39"
#define PROP_SPECIAL "000001b9-0000-0000-c000-000000000046"
#define PROP_INSTANTIATION "000001ab-0000-0000-c000-000000000046"
#define PROP_PROPSOUT "00000339-0000-0000-c000-000000000046"
#define PROP_SCMREPLY "000001b6-0000-0000-c000-000000000046"
#define E_ACCESSDENIED 0x80070005u

/* ---- NDR builders (little-endian; alignment relative to the buffer's start) ------------------------- */

static void align(struct pg_buf *b, size_t a)
{
    while (b->len % a)
        pg_u8(b, 0);
}

static void u32(struct pg_buf *b, uint32_t v)
{
    align(b, 4);
    pg_u32le(b, v);
}

static void uuid_le(struct pg_buf *b, const char *s)
{
    unsigned d1, d2, d3, x[8];
    assert_int_equal(sscanf(s, "%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &d1, &d2, &d3, &x[0], &x[1], &x[2], &x[3],
                            &x[4], &x[5], &x[6], &x[7]),
                     11);
    align(b, 4);
    pg_u32le(b, d1);
    pg_u16le(b, (uint16_t)d2);
    pg_u16le(b, (uint16_t)d3);
    for (int i = 0; i < 8; i++)
        pg_u8(b, (uint8_t)x[i]);
}

/* ORPCTHIS 5.7 without extents (32 bytes). */
static void orpcthis(struct pg_buf *b)
{
    pg_u16le(b, 5);
    pg_u16le(b, 7);
    u32(b, 1); /* ORPCF_LOCAL */
    u32(b, 0);
    uuid_le(b, "7f17321a-9da8-4f15-b3b8-9bc1909da2a5");
    u32(b, 0); /* extensions: NULL */
}

/* The 16 bytes of type serialization headers (MS-RPCE 2.2.6) before an object buffer of len bytes. */
static void ser_hdr(struct pg_buf *b, uint32_t len)
{
    pg_u8(b, 1);
    pg_u8(b, 0x10);
    pg_u16le(b, 8);
    pg_u32le(b, 0xcccccccc);
    pg_u32le(b, len);
    pg_u32le(b, 0);
}

/* A property: serialization headers and its NDR data padded to 8. */
static struct pg_buf property(const struct pg_buf *data)
{
    struct pg_buf p = {0}, d = pg_copy(data->p, data->len);
    align(&d, 8);
    ser_hdr(&p, (uint32_t)d.len);
    pg_put(&p, d.p, d.len);
    pg_free(&d);
    return p;
}

/*
 * An MInterfacePointer holding an OBJREF_CUSTOM whose pObjectData is an activation properties blob of n
 * properties (GUIDs guids[i], serialized props[i]); n_claimed is what the CustomHeader's cIfs says.
 */
static void actprops(struct pg_buf *out, unsigned n, const char *const *guids, const struct pg_buf *props,
                     uint32_t n_claimed)
{
    struct pg_buf ch = {0};
    uint32_t sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += (uint32_t)props[i].len;
    u32(&ch, 0); /* totalSize, patched below */
    u32(&ch, 0); /* headerSize, patched below */
    u32(&ch, 0);
    u32(&ch, 2); /* destCtx */
    u32(&ch, n_claimed);
    uuid_le(&ch, "00000000-0000-0000-0000-000000000000");
    u32(&ch, 0x20000);
    u32(&ch, 0x20004);
    u32(&ch, 0);
    u32(&ch, n_claimed);
    for (unsigned i = 0; i < n; i++)
        uuid_le(&ch, guids[i]);
    u32(&ch, n_claimed);
    for (unsigned i = 0; i < n; i++)
        u32(&ch, (uint32_t)props[i].len);
    align(&ch, 8);
    uint32_t header_size = 16 + (uint32_t)ch.len, total = header_size + sum;
    pg_set_u32le(&ch, 0, total);
    pg_set_u32le(&ch, 4, header_size);
    struct pg_buf obj = {0};
    pg_u32le(&obj, 0x574f454d); /* MEOW */
    pg_u32le(&obj, 4);          /* OBJREF_CUSTOM */
    uuid_le(&obj, "000001a2-0000-0000-c000-000000000046");
    uuid_le(&obj, "00000338-0000-0000-c000-000000000046");
    pg_u32le(&obj, 0);
    pg_u32le(&obj, total + 16); /* reserved: any value */
    pg_u32le(&obj, total);      /* dwSize */
    pg_u32le(&obj, 0);
    ser_hdr(&obj, (uint32_t)ch.len);
    pg_put(&obj, ch.p, ch.len);
    for (unsigned i = 0; i < n; i++)
        pg_put(&obj, props[i].p, props[i].len);
    u32(out, (uint32_t)obj.len); /* ulCntData */
    u32(out, (uint32_t)obj.len); /* conformance */
    pg_put(out, obj.p, obj.len);
    pg_free(&ch);
    pg_free(&obj);
}

/* RemoteCreateInstance's request stub asking for clsid (n_claimed: the header's property count). */
static struct pg_buf create_instance_request(const char *clsid, uint32_t n_claimed)
{
    struct pg_buf special = {0}, inst = {0};
    pg_fill(&special, 0, 56);
    uuid_le(&inst, clsid);
    u32(&inst, 0x14);
    u32(&inst, 0);
    u32(&inst, 0);
    u32(&inst, 1);
    u32(&inst, 0);
    u32(&inst, 0x20000);
    u32(&inst, 72);
    pg_u16le(&inst, 5);
    pg_u16le(&inst, 7);
    u32(&inst, 1);
    uuid_le(&inst, "f309ad18-d86a-11d0-a075-00c04fb68820");
    struct pg_buf props[2] = {property(&special), property(&inst)};
    const char *guids[2] = {PROP_SPECIAL, PROP_INSTANTIATION};
    struct pg_buf s = {0};
    orpcthis(&s);
    u32(&s, 0);       /* pUnkOuter */
    u32(&s, 0x20000); /* pActProperties */
    actprops(&s, 2, guids, props, n_claimed);
    pg_free(&special);
    pg_free(&inst);
    pg_free(&props[0]);
    pg_free(&props[1]);
    return s;
}

/* A DUALSTRINGARRAY (conformance first) of n string bindings (tower 7 unless the string starts "\\\\":
 * then 0x0f) and one security binding; `secoff_extra` is added to wSecurityOffset. */
static void dualstringarray(struct pg_buf *b, unsigned n, const char *const *addrs, int secoff_extra)
{
    struct pg_buf w = {0};
    for (unsigned i = 0; i < n; i++) {
        pg_u16le(&w, addrs[i][0] == '\\' ? 0x0f : 0x07);
        for (const char *c = addrs[i]; *c; c++)
            pg_u16le(&w, (uint8_t)*c);
        pg_u16le(&w, 0);
    }
    pg_u16le(&w, 0);
    uint16_t sec = (uint16_t)(w.len / 2);
    pg_u16le(&w, 0x0a);
    pg_u16le(&w, 0xffff);
    pg_u16le(&w, 0);
    pg_u16le(&w, 0);
    uint16_t num = (uint16_t)(w.len / 2);
    u32(b, num);
    pg_u16le(b, num);
    pg_u16le(b, (uint16_t)(sec + secoff_extra));
    pg_put(b, w.p, w.len);
    pg_free(&w);
}

/* RemoteCreateInstance's response stub: ORPCTHAT, the ActivationPropertiesOut with ScmReplyInfoData whose
 * OXID bindings are addrs[0..n), then hr. */
static struct pg_buf create_instance_response(unsigned n, const char *const *addrs, uint32_t hr)
{
    struct pg_buf out = {0}, scm = {0};
    pg_fill(&out, 0, 24);
    u32(&scm, 0);       /* pvReserved */
    u32(&scm, 0x20000); /* remoteReply */
    align(&scm, 8);
    pg_u64le(&scm, 0xc73d9df2ad17aa43ull);
    u32(&scm, 0x20004); /* pdsaOxidBindings */
    uuid_le(&scm, "0002c410-0a80-0000-ca84-a9226eec8843");
    u32(&scm, 0x0a);
    pg_u16le(&scm, 5);
    pg_u16le(&scm, 7);
    dualstringarray(&scm, n, addrs, 0);
    struct pg_buf props[2] = {property(&out), property(&scm)};
    const char *guids[2] = {PROP_PROPSOUT, PROP_SCMREPLY};
    struct pg_buf s = {0};
    u32(&s, 0); /* ORPCTHAT flags */
    u32(&s, 0); /* extensions */
    u32(&s, 0x20000);
    actprops(&s, 2, guids, props, 2);
    u32(&s, hr);
    pg_free(&out);
    pg_free(&scm);
    pg_free(&props[0]);
    pg_free(&props[1]);
    return s;
}

static void assert_uuid(const uint8_t u[16], const char *want)
{
    char s[37];
    dcerpc_uuid_str(u, 1, s);
    assert_string_equal(s, want);
}

/* The UUID's text in both data representations (C706 appendix A: the first three fields in the sender's byte
 * order): the IRemoteSCMActivator UUID, 000001a0-0000-0000-c000-000000000046, and a value with every nibble. */
static void test_uuid_str_byte_orders(void **state)
{
    (void)state;
    const uint8_t le[16] = {0xa0, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
    const uint8_t be[16] = {0x00, 0x00, 0x01, 0xa0, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
    const uint8_t all[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    char s[37];
    memset(s, 'x', sizeof s);
    dcerpc_uuid_str(le, 1, s);
    assert_string_equal(s, "000001a0-0000-0000-c000-000000000046");
    dcerpc_uuid_str(be, 0, s);
    assert_string_equal(s, "000001a0-0000-0000-c000-000000000046");
    dcerpc_uuid_str(all, 0, s);
    assert_string_equal(s, "01234567-89ab-cdef-fedc-ba9876543210");
    dcerpc_uuid_str(all, 1, s);
    assert_string_equal(s, "67452301-ab89-efcd-fedc-ba9876543210");
}

/* ---- ORPCTHIS / ORPCTHAT ----------------------------------------------------------------------------- */

static void test_dcom_orpcthis_without_extents(void **state)
{
    (void)state;
    struct pg_buf b = {0};
    orpcthis(&b);
    pg_u32le(&b, 0xdeadbeef); /* what follows */
    struct dcom_orpcthis o;
    assert_int_equal(dcom_orpcthis_parse(b.p, b.len, true, &o), 32);
    assert_int_equal(o.ver_major, 5);
    assert_int_equal(o.ver_minor, 7);
    assert_int_equal(o.flags, 1);
    assert_int_equal(o.extents, 0);
    assert_uuid(o.cid, "7f17321a-9da8-4f15-b3b8-9bc1909da2a5");
    pg_free(&b);
}

/* One extent (ORPC_EXTENT_ARRAY size 1: an array of 2 pointers, the second NULL) of 12 bytes, padded to 16. */
static struct pg_buf orpcthis_with_extent(uint32_t size, uint32_t conformance, uint32_t ext_size, uint32_t ext_conf)
{
    struct pg_buf b = {0};
    pg_u16le(&b, 5);
    pg_u16le(&b, 7);
    u32(&b, 0);
    u32(&b, 0);
    uuid_le(&b, "7f17321a-9da8-4f15-b3b8-9bc1909da2a5");
    u32(&b, 0x20000); /* extensions */
    u32(&b, size);
    u32(&b, 0);
    u32(&b, 0x20004); /* extent */
    u32(&b, conformance);
    u32(&b, 0x20008);
    u32(&b, 0);
    u32(&b, ext_conf);
    uuid_le(&b, "f1f19680-4d2a-11ce-a66a-0020af6e72f4");
    u32(&b, ext_size);
    pg_fill(&b, 0x77, 16);
    return b;
}

static void test_dcom_orpcthis_one_extent(void **state)
{
    (void)state;
    struct pg_buf b = orpcthis_with_extent(1, 2, 12, 16);
    struct dcom_orpcthis o;
    assert_int_equal(dcom_orpcthis_parse(b.p, b.len, true, &o), (long)b.len);
    assert_int_equal(o.extents, 1);
    pg_free(&b);
}

static void test_dcom_orpcthis_huge_extent_count_rejected(void **state)
{
    (void)state;
    struct pg_buf b = orpcthis_with_extent(0x40000000, 0x40000000, 12, 16);
    struct dcom_orpcthis o;
    assert_int_equal(dcom_orpcthis_parse(b.p, b.len, true, &o), -1);
    pg_free(&b);
}

static void test_dcom_orpcthis_extent_conformance_mismatch_rejected(void **state)
{
    (void)state;
    struct pg_buf b = orpcthis_with_extent(1, 4, 12, 16); /* 1 extent: the array must hold 2 */
    struct dcom_orpcthis o;
    assert_int_equal(dcom_orpcthis_parse(b.p, b.len, true, &o), -1);
    pg_free(&b);
    b = orpcthis_with_extent(1, 2, 12, 24); /* 12 bytes pad to 16, not 24 */
    assert_int_equal(dcom_orpcthis_parse(b.p, b.len, true, &o), -1);
    pg_free(&b);
}

static void test_dcom_orpcthis_extent_data_past_stub_rejected(void **state)
{
    (void)state;
    struct pg_buf b = orpcthis_with_extent(1, 2, 0xfffffff0u, 0xfffffff0u);
    struct dcom_orpcthis o;
    assert_int_equal(dcom_orpcthis_parse(b.p, b.len, true, &o), -1);
    pg_free(&b);
}

static void test_dcom_orpcthat_truncated_rejected(void **state)
{
    (void)state;
    uint8_t that[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    struct dcom_orpcthat o;
    assert_int_equal(dcom_orpcthat_parse(that, 8, true, &o), 8);
    for (size_t n = 0; n < 8; n++)
        assert_int_equal(dcom_orpcthat_parse(that, n, true, &o), -1);
    uint8_t with_ext[12] = {0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0}; /* extensions present, array cut short */
    assert_int_equal(dcom_orpcthat_parse(with_ext, sizeof with_ext, true, &o), -1);
}

/* ---- activation --------------------------------------------------------------------------------------- */

static void test_dcom_create_instance_request_names_the_class(void **state)
{
    (void)state;
    struct pg_buf s = create_instance_request(CLSID_WBEM, 2);
    struct dcom_req q;
    assert_int_equal(dcom_request(DCOM_CREATE_INSTANCE, true, s.p, s.len, true, &q), 0);
    assert_true(q.have_orpcthis);
    assert_int_equal(q.orpcthis.ver_minor, 7);
    assert_true(q.have_clsid);
    assert_uuid(q.clsid, CLSID_WBEM);
    assert_string_equal(q.detail_kind, "class");
    assert_string_equal(q.detail, "WbemLevel1Login");
    pg_free(&s);
}

static void test_dcom_unknown_class_is_its_clsid(void **state)
{
    (void)state;
    struct pg_buf s = create_instance_request("01234567-89ab-cdef-0123-456789abcdef", 2);
    struct dcom_req q;
    assert_int_equal(dcom_request(DCOM_CREATE_INSTANCE, true, s.p, s.len, true, &q), 0);
    assert_string_equal(q.detail, "01234567-89ab-cdef-0123-456789abcdef");
    pg_free(&s);
}

static void test_dcom_activation_huge_property_count_rejected(void **state)
{
    (void)state;
    struct pg_buf s = create_instance_request(CLSID_WBEM, 100000);
    struct dcom_req q;
    assert_int_equal(dcom_request(DCOM_CREATE_INSTANCE, true, s.p, s.len, true, &q), -1);
    assert_false(q.have_clsid);
    pg_free(&s);
}

/* Every prefix of a valid request fails cleanly (or, when it ends before the properties pointer, reads nothing). */
static void test_dcom_activation_every_truncation_is_clean(void **state)
{
    (void)state;
    struct pg_buf s = create_instance_request(CLSID_WBEM, 2);
    for (size_t n = 0; n < s.len; n++) {
        struct dcom_req q;
        int rc = dcom_request(DCOM_CREATE_INSTANCE, true, s.p, n, true, &q);
        assert_true(rc == -1 || (rc == 0 && !q.have_clsid) || (rc == 0 && q.have_clsid));
        if (n < s.len - 100)
            assert_false(q.have_clsid);
    }
    pg_free(&s);
}

static void test_dcom_activation_property_size_past_blob_rejected(void **state)
{
    (void)state;
    struct pg_buf s = create_instance_request(CLSID_WBEM, 2);
    /* the second property's size (the last u32 of the sizes array) made huge: find it by value */
    size_t hits = 0;
    for (size_t i = 0; i + 8 <= s.len; i += 4)
        if (ld_u32le(s.p + i) == 2 && ld_u32le(s.p + i + 4) == 72) { /* sizes conformance, first size */
            pg_set_u32le(&s, i + 8, 0x7fffffff);
            hits++;
            break;
        }
    assert_int_equal(hits, 1);
    struct dcom_req q;
    assert_int_equal(dcom_request(DCOM_CREATE_INSTANCE, true, s.p, s.len, true, &q), -1);
    pg_free(&s);
}

static void test_dcom_objref_not_custom_rejected(void **state)
{
    (void)state;
    struct pg_buf s = create_instance_request(CLSID_WBEM, 2);
    for (size_t i = 0; i + 8 <= s.len; i++)
        if (ld_u32le(s.p + i) == 0x574f454d) {
            pg_set_u32le(&s, i + 4, 1); /* OBJREF_STANDARD */
            break;
        }
    struct dcom_req q;
    assert_int_equal(dcom_request(DCOM_CREATE_INSTANCE, true, s.p, s.len, true, &q), -1);
    pg_free(&s);
}

static void test_dcom_create_instance_response_bindings_and_hresult(void **state)
{
    (void)state;
    const char *addrs[] = {"WORKSTATION6[52419]", "172.18.39.6[52419]", "\\\\HOST[\\PIPE\\atsvc]", "fe80::1[49670]"};
    struct pg_buf s = create_instance_response(4, addrs, 0);
    struct dcom_resp r;
    assert_int_equal(dcom_response(DCOM_CREATE_INSTANCE, true, s.p, s.len, true, &r), 0);
    assert_true(r.have_orpcthat);
    assert_true(r.have_status);
    assert_int_equal(r.status.space, STATUS_HRESULT);
    assert_int_equal(r.status.code, 0);
    assert_int_equal(r.n_bindings, 4);
    assert_false(r.bindings_cut);
    assert_int_equal(r.bindings[0].tower_id, 7);
    assert_string_equal(r.bindings[0].addr, "WORKSTATION6[52419]");
    assert_int_equal(r.bindings[0].port, 52419);
    assert_int_equal(r.bindings[0].af, 0);
    assert_string_equal(r.bindings[1].addr, "172.18.39.6[52419]");
    assert_int_equal(r.bindings[1].af, 4);
    assert_memory_equal(r.bindings[1].ip, ((uint8_t[]){172, 18, 39, 6}), 4);
    assert_int_equal(r.bindings[2].tower_id, 0x0f);
    assert_int_equal(r.bindings[2].port, 0); /* a pipe name is no port */
    assert_int_equal(r.bindings[3].af, 6);
    assert_int_equal(r.bindings[3].port, 49670);
    pg_free(&s);
}

static void test_dcom_response_status_is_the_last_four_bytes(void **state)
{
    (void)state;
    const char *addrs[] = {"10.0.0.1[1025]"};
    struct pg_buf s = create_instance_response(1, addrs, E_ACCESSDENIED);
    struct dcom_resp r;
    assert_int_equal(dcom_response(DCOM_CREATE_INSTANCE, true, s.p, s.len, true, &r), 0);
    assert_int_equal(r.status.space, STATUS_HRESULT);
    assert_int_equal(r.status.code, E_ACCESSDENIED);
    assert_true(dcom_hresult_denied(r.status.code));
    assert_string_equal(hs_status_name(r.status), "E_ACCESSDENIED");
    /* a bare ORPCTHAT + HRESULT (a method with no out parameters) */
    uint8_t bare[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x10, 0x04, 0x80};
    assert_int_equal(dcom_response(DCOM_CALL_NONE, true, bare, sizeof bare, true, &r), 0);
    assert_int_equal(r.status.code, 0x80041003u);
    assert_string_equal(hs_status_name(r.status), "WBEM_E_ACCESS_DENIED");
    pg_free(&s);
}

static void test_dcom_more_bindings_than_kept_are_cut(void **state)
{
    (void)state;
    const char *addrs[12];
    char buf[12][24];
    for (int i = 0; i < 12; i++) {
        snprintf(buf[i], sizeof buf[i], "10.0.0.%d[%d]", i + 1, 1000 + i);
        addrs[i] = buf[i];
    }
    struct pg_buf s = {0};
    dualstringarray(&s, 12, addrs, 0);
    struct dcom_binding b[DCOM_BINDINGS_MAX];
    uint8_t n;
    bool cut;
    assert_int_equal(dcom_dualstringarray(s.p, s.len, true, b, DCOM_BINDINGS_MAX, &n, &cut), (long)s.len);
    assert_int_equal(n, DCOM_BINDINGS_MAX);
    assert_true(cut);
    assert_int_equal(b[7].port, 1007);
    pg_free(&s);
}

static void test_dcom_dualstringarray_malformed_rejected(void **state)
{
    (void)state;
    const char *addrs[] = {"10.0.0.1[135]"};
    struct dcom_binding b[DCOM_BINDINGS_MAX];
    uint8_t n;
    bool cut;
    /* wSecurityOffset past wNumEntries */
    struct pg_buf s = {0};
    dualstringarray(&s, 1, addrs, 100);
    assert_int_equal(dcom_dualstringarray(s.p, s.len, true, b, DCOM_BINDINGS_MAX, &n, &cut), -1);
    pg_free(&s);
    /* the string binding not terminated before the security bindings */
    s = (struct pg_buf){0};
    dualstringarray(&s, 1, addrs, 0);
    pg_set_u16le(&s, 6, 3); /* wSecurityOffset 3: inside the address */
    assert_int_equal(dcom_dualstringarray(s.p, s.len, true, b, DCOM_BINDINGS_MAX, &n, &cut), -1);
    /* conformance disagreeing with wNumEntries */
    pg_set_u16le(&s, 6, 16);
    assert_true(dcom_dualstringarray(s.p, s.len, true, b, DCOM_BINDINGS_MAX, &n, &cut) > 0);
    pg_set_u32le(&s, 0, 0xffff);
    assert_int_equal(dcom_dualstringarray(s.p, s.len, true, b, DCOM_BINDINGS_MAX, &n, &cut), -1);
    /* wNumEntries past the data */
    pg_set_u32le(&s, 0, 0xffff);
    pg_set_u16le(&s, 4, 0xffff);
    assert_int_equal(dcom_dualstringarray(s.p, s.len, true, b, DCOM_BINDINGS_MAX, &n, &cut), -1);
    pg_free(&s);
}

static void test_dcom_remote_activation_big_endian_clsid(void **state)
{
    (void)state;
    struct pg_buf s = {0};
    /* ORPCTHIS big-endian: version, flags, reserved, cid, extensions NULL; then the CLSID */
    pg_u16be(&s, 5);
    pg_u16be(&s, 6);
    pg_u32be(&s, 0);
    pg_u32be(&s, 0);
    pg_fill(&s, 0x11, 16);
    pg_u32be(&s, 0);
    pg_u32be(&s, 0x9ba05972);
    pg_u16be(&s, 0xf6a8);
    pg_u16be(&s, 0x11cf);
    static const uint8_t d4[8] = {0xa4, 0x42, 0x00, 0xa0, 0xc9, 0x0a, 0x8f, 0x39};
    pg_put(&s, d4, 8);
    struct dcom_req q;
    assert_int_equal(dcom_request(DCOM_REMOTE_ACTIVATION, true, s.p, s.len, false, &q), 0);
    assert_int_equal(q.orpcthis.ver_minor, 6);
    assert_uuid(q.clsid, CLSID_SHELLWINDOWS); /* kept little-endian */
    assert_string_equal(q.detail, "ShellWindows");
    pg_free(&s);
}

/* ---- WMI ---------------------------------------------------------------------------------------------- */

static void put_lpwstr(struct pg_buf *b, const char *s)
{
    u32(b, 0x20000);
    u32(b, (uint32_t)strlen(s) + 1);
    u32(b, 0);
    u32(b, (uint32_t)strlen(s) + 1);
    for (const char *c = s; *c; c++)
        pg_u16le(b, (uint8_t)*c);
    pg_u16le(b, 0);
}

static void put_bstr(struct pg_buf *b, const char *s, uint32_t claimed)
{
    u32(b, 0x20000);
    u32(b, claimed);
    u32(b, 2 * (uint32_t)strlen(s));
    u32(b, (uint32_t)strlen(s));
    for (const char *c = s; *c; c++)
        pg_u16le(b, (uint8_t)*c);
}

static void test_dcom_wmi_ntlmlogin_namespace(void **state)
{
    (void)state;
    struct pg_buf s = {0};
    orpcthis(&s);
    put_lpwstr(&s, "\\\\172.16.66.36\\ROOT\\CIMV2");
    put_lpwstr(&s, "ms_409,en-US,en");
    struct dcom_req q;
    assert_int_equal(dcom_call_of("IWbemLevel1Login", 6), DCOM_WMI_NTLM_LOGIN);
    assert_int_equal(dcom_request(DCOM_WMI_NTLM_LOGIN, true, s.p, s.len, true, &q), 0);
    assert_string_equal(q.detail_kind, "namespace");
    assert_string_equal(q.detail, "\\\\172.16.66.36\\ROOT\\CIMV2");
    pg_free(&s);
}

static void test_dcom_wmi_exec_method_is_class_dot_method(void **state)
{
    (void)state;
    struct pg_buf s = {0};
    orpcthis(&s);
    put_bstr(&s, "MSCluster_Cluster", 17);
    put_bstr(&s, "EvictNode", 9);
    struct dcom_req q;
    assert_int_equal(dcom_call_of("IWbemServices", 24), DCOM_WMI_EXEC_METHOD);
    assert_int_equal(dcom_request(DCOM_WMI_EXEC_METHOD, true, s.p, s.len, true, &q), 0);
    assert_string_equal(q.detail_kind, "method");
    assert_string_equal(q.detail, "MSCluster_Cluster.EvictNode");
    pg_free(&s);
}

static void test_dcom_wmi_exec_query_text(void **state)
{
    (void)state;
    struct pg_buf s = {0};
    orpcthis(&s);
    put_bstr(&s, "WQL", 3);
    put_bstr(&s, "SELECT * FROM Win32_Process", 27);
    struct dcom_req q;
    assert_int_equal(dcom_request(dcom_call_of("IWbemServices", 20), true, s.p, s.len, true, &q), 0);
    assert_string_equal(q.detail_kind, "query");
    assert_string_equal(q.detail, "SELECT * FROM Win32_Process");
    pg_free(&s);
}

static void test_dcom_wmi_bstr_size_mismatch_rejected(void **state)
{
    (void)state;
    struct pg_buf s = {0};
    orpcthis(&s);
    put_bstr(&s, "WQL", 0x7fffffff);
    struct dcom_req q;
    assert_int_equal(dcom_request(DCOM_WMI_EXEC_QUERY, true, s.p, s.len, true, &q), -1);
    pg_free(&s);
    /* a BSTR claiming more characters than the stub holds */
    s = (struct pg_buf){0};
    orpcthis(&s);
    u32(&s, 0x20000);
    u32(&s, 0x40000000);
    u32(&s, 0x80000000);
    u32(&s, 0x40000000);
    assert_int_equal(dcom_request(DCOM_WMI_GET_OBJECT, true, s.p, s.len, true, &q), -1);
    pg_free(&s);
}

/* ---- correlation: an activation and the connection it led to -------------------------------------------- */

struct recorder {
    struct hs_sink sink;
    int n_dcom, n_auth;
    struct dcom_rec last_dcom;
    uint64_t auth_activation[8];
    const char *auth_class[8];
};

static void rec_on_record(struct hs_sink *self, struct rec_hdr *r)
{
    struct recorder *o = (struct recorder *)self;
    if (r->type == REC_DCOM) {
        o->n_dcom++;
        o->last_dcom = *(struct dcom_rec *)r;
    } else if (r->type == REC_AUTH && o->n_auth < 8) {
        o->auth_activation[o->n_auth] = ((struct auth_rec *)r)->dcerpc.dcom_activation;
        o->auth_class[o->n_auth++] = ((struct auth_rec *)r)->dcerpc.dcom_class;
    }
}

static struct hs_flow flow(uint64_t id, uint8_t cli4, uint16_t cport, uint8_t srv4, uint16_t sport)
{
    struct hs_flow f;
    memset(&f, 0, sizeof f);
    f.id = id;
    f.af = 4;
    f.proto = 6;
    f.cli.ip[0] = 10;
    f.cli.ip[3] = cli4;
    f.cli.port = cport;
    f.srv.ip[0] = 10;
    f.srv.ip[3] = srv4;
    f.srv.port = sport;
    return f;
}

static struct dcom_rec activation(uint64_t id, time_t t, const char *addr, uint16_t port)
{
    struct dcom_rec d;
    memset(&d, 0, sizeof d);
    d.h.id = id;
    d.h.type = REC_DCOM;
    d.h.ts.tv_sec = t;
    d.h.flow = flow(1, 5, 50000, 6, 135);
    d.have_clsid = true;
    static const uint8_t wbem[16] = {0x5e, 0xf0, 0xc3, 0x8b, 0x6b, 0xd8, 0xd0, 0x11,
                                     0xa0, 0x75, 0x00, 0xc0, 0x4f, 0xb6, 0x88, 0x20};
    memcpy(d.clsid, wbem, 16);
    d.class_name = "WbemLevel1Login";
    d.n_bindings = 1;
    d.bindings[0].tower_id = 7;
    d.bindings[0].port = port;
    snprintf(d.bindings[0].addr, sizeof d.bindings[0].addr, "%s", addr);
    if (addr[0] >= '0' && addr[0] <= '9') {
        d.bindings[0].af = 4;
        d.bindings[0].ip[0] = 10;
        d.bindings[0].ip[3] = 6;
    }
    return d;
}

static struct auth_rec *dcerpc_auth(uint64_t id, time_t t, struct hs_flow f)
{
    struct auth_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->h.id = id;
    r->h.type = REC_AUTH;
    r->h.ts.tv_sec = t;
    r->h.flow = f;
    r->transport = TRANSPORT_DCERPC;
    return r;
}

static void test_dcom_correlation_links_activation_to_follow_up(void **state)
{
    (void)state;
    struct recorder out = {0};
    out.sink.record = rec_on_record;
    struct hs_correlate *c = correlate_new(&out.sink);
    assert_non_null(c);
    struct dcom_rec d = activation(2, 100, "WORKSTATION6", 52419); /* by name: the activation's server */
    sink_record(&c->sink, &d.h);
    assert_int_equal(out.n_dcom, 0); /* held until its connection shows up */
    struct auth_rec *other = dcerpc_auth(3, 101, flow(3, 5, 50002, 6, 49999)); /* another port */
    struct auth_rec *a1 = dcerpc_auth(4, 101, flow(4, 5, 50001, 6, 52419));
    struct auth_rec *a2 = dcerpc_auth(5, 102, flow(4, 5, 50001, 6, 52419));
    sink_record(&c->sink, &other->h);
    sink_record(&c->sink, &a1->h);
    sink_record(&c->sink, &a2->h);
    assert_int_equal(out.n_auth, 3);
    assert_int_equal(out.auth_activation[0], 0);
    assert_int_equal(out.auth_activation[1], 2);
    assert_int_equal(out.auth_activation[2], 2);
    assert_string_equal(out.auth_class[1], "WbemLevel1Login");
    struct hs_stats st = {0};
    sink_stats(&c->sink, &(struct hs_stats_view){.st = &st}); /* the end of the run releases it */
    assert_int_equal(out.n_dcom, 1);
    assert_true(out.last_dcom.linked);
    assert_int_equal(out.last_dcom.conn.srv.port, 52419);
    assert_int_equal(out.last_dcom.conn.cli.port, 50001);
    assert_int_equal(out.last_dcom.n_conn_records, 2);
    assert_int_equal(out.last_dcom.conn_records[0], 4);
    assert_int_equal(out.last_dcom.conn_records[1], 5);
    free(other);
    free(a1);
    free(a2);
    correlate_free(c);
}

/* A live capture's idle link: no record comes, but the clock moves on (sink_tick); a held activation goes
 * out once its hop window (600 s) has passed, not at the end of the run. */
static void test_dcom_correlation_tick_releases_after_window(void **state)
{
    (void)state;
    struct recorder out = {0};
    out.sink.record = rec_on_record;
    struct hs_correlate *c = correlate_new(&out.sink);
    assert_non_null(c);
    struct dcom_rec d = activation(2, 1000, "WORKSTATION6", 52419);
    sink_record(&c->sink, &d.h);
    assert_int_equal(out.n_dcom, 0);
    struct hs_stats st = {0};
    sink_stats(&c->sink, &(struct hs_stats_view){.st = &st, .periodic = true});
    assert_int_equal(out.n_dcom, 0); /* a periodic stats record is not the end of the run */
    sink_tick(&c->sink, &(struct timeval){1000 + 600, 0});
    assert_int_equal(out.n_dcom, 0); /* the window is not over */
    sink_tick(&c->sink, &(struct timeval){1000 + 601, 0});
    assert_int_equal(out.n_dcom, 1);
    assert_false(out.last_dcom.linked);
    sink_stats(&c->sink, &(struct hs_stats_view){.st = &st});
    assert_int_equal(out.n_dcom, 1); /* written once */
    correlate_free(c);
}

static void test_dcom_correlation_other_client_or_earlier_not_linked(void **state)
{
    (void)state;
    struct recorder out = {0};
    out.sink.record = rec_on_record;
    struct hs_correlate *c = correlate_new(&out.sink);
    struct dcom_rec d = activation(2, 100, "10.0.0.6", 52419);
    sink_record(&c->sink, &d.h);
    struct auth_rec *stranger = dcerpc_auth(3, 101, flow(3, 9, 50001, 6, 52419)); /* another client */
    struct auth_rec *before = dcerpc_auth(4, 99, flow(4, 5, 50001, 6, 52419));    /* began before it */
    sink_record(&c->sink, &stranger->h);
    sink_record(&c->sink, &before->h);
    assert_int_equal(out.auth_activation[0], 0);
    assert_int_equal(out.auth_activation[1], 0);
    /* the hop window passes: written unlinked without waiting for the end */
    struct auth_rec *late = dcerpc_auth(5, 100 + 601 + 1, flow(5, 5, 50009, 7, 445));
    sink_record(&c->sink, &late->h);
    assert_int_equal(out.n_dcom, 1);
    assert_false(out.last_dcom.linked);
    free(stranger);
    free(before);
    free(late);
    correlate_free(c);
}

static void test_dcom_correlation_without_port_passes_at_once(void **state)
{
    (void)state;
    struct recorder out = {0};
    out.sink.record = rec_on_record;
    struct hs_correlate *c = correlate_new(&out.sink);
    struct dcom_rec d = activation(2, 100, "WORKSTATION6", 0); /* ServerAlive2: no endpoint */
    sink_record(&c->sink, &d.h);
    assert_int_equal(out.n_dcom, 1);
    correlate_free(c);
}

static void test_dcom_correlation_cap_writes_oldest(void **state)
{
    (void)state;
    struct recorder out = {0};
    out.sink.record = rec_on_record;
    struct hs_correlate *c = correlate_new(&out.sink);
    for (unsigned i = 0; i < CORRELATE_DCOM_MAX + 10; i++) {
        struct dcom_rec d = activation(i + 1, 100, "10.0.0.6", (uint16_t)(2000 + i));
        sink_record(&c->sink, &d.h);
    }
    assert_int_equal(out.n_dcom, 10);
    assert_int_equal(out.last_dcom.h.id, 10);
    correlate_free(c); /* held records are freed unwritten */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_str_byte_orders),
        cmocka_unit_test(test_dcom_orpcthis_without_extents),
        cmocka_unit_test(test_dcom_orpcthis_one_extent),
        cmocka_unit_test(test_dcom_orpcthis_huge_extent_count_rejected),
        cmocka_unit_test(test_dcom_orpcthis_extent_conformance_mismatch_rejected),
        cmocka_unit_test(test_dcom_orpcthis_extent_data_past_stub_rejected),
        cmocka_unit_test(test_dcom_orpcthat_truncated_rejected),
        cmocka_unit_test(test_dcom_create_instance_request_names_the_class),
        cmocka_unit_test(test_dcom_unknown_class_is_its_clsid),
        cmocka_unit_test(test_dcom_activation_huge_property_count_rejected),
        cmocka_unit_test(test_dcom_activation_every_truncation_is_clean),
        cmocka_unit_test(test_dcom_activation_property_size_past_blob_rejected),
        cmocka_unit_test(test_dcom_objref_not_custom_rejected),
        cmocka_unit_test(test_dcom_create_instance_response_bindings_and_hresult),
        cmocka_unit_test(test_dcom_response_status_is_the_last_four_bytes),
        cmocka_unit_test(test_dcom_more_bindings_than_kept_are_cut),
        cmocka_unit_test(test_dcom_dualstringarray_malformed_rejected),
        cmocka_unit_test(test_dcom_remote_activation_big_endian_clsid),
        cmocka_unit_test(test_dcom_wmi_ntlmlogin_namespace),
        cmocka_unit_test(test_dcom_wmi_exec_method_is_class_dot_method),
        cmocka_unit_test(test_dcom_wmi_exec_query_text),
        cmocka_unit_test(test_dcom_wmi_bstr_size_mismatch_rejected),
        cmocka_unit_test(test_dcom_correlation_links_activation_to_follow_up),
        cmocka_unit_test(test_dcom_correlation_tick_releases_after_window),
        cmocka_unit_test(test_dcom_correlation_other_client_or_earlier_not_linked),
        cmocka_unit_test(test_dcom_correlation_without_port_passes_at_once),
        cmocka_unit_test(test_dcom_correlation_cap_writes_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
