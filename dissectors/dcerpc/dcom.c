/* DCOM inside DCE/RPC stubs — MS-DCOM 2.2.11-2.2.22 and 3.1.2.5, MS-WMI 3.1.4, NDR (C706 chapter 14). */
#include "dcom.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dcerpc_names.h"
#include "reader.h"
#include "util.h"

/* ---- NDR over the bounded reader: alignment is relative to the stub's start (8-aligned in the PDU) ---- */

struct ndr {
    struct rd r;
    bool le;
};

static void nd_align(struct ndr *d, size_t a)
{
    size_t m = d->r.pos % a;
    if (m)
        rd_skip(&d->r, a - m);
}

static uint16_t nd_u16(struct ndr *d)
{
    nd_align(d, 2);
    return d->le ? rd_u16le(&d->r) : rd_u16be(&d->r);
}

static uint32_t nd_u32(struct ndr *d)
{
    nd_align(d, 4);
    return d->le ? rd_u32le(&d->r) : rd_u32be(&d->r);
}

static uint64_t nd_u64(struct ndr *d)
{
    nd_align(d, 8);
    uint64_t a = d->le ? rd_u32le(&d->r) : rd_u32be(&d->r);
    uint64_t b = d->le ? rd_u32le(&d->r) : rd_u32be(&d->r);
    return d->le ? (b << 32 | a) : (a << 32 | b);
}

/* A GUID (Data1 u32, Data2 u16, Data3 u16, Data4[8]): 4-aligned, its 16 wire bytes copied as they are. */
static bool nd_guid(struct ndr *d, uint8_t out[16])
{
    nd_align(d, 4);
    const uint8_t *b = rd_bytes(&d->r, 16);
    if (b)
        memcpy(out, b, 16);
    return b != NULL;
}

/* Reads a UTF-16 string of nchars code units (byte order per le) at the reader into out[cap] as UTF-8. */
static void nd_wstr(struct ndr *d, uint32_t nchars, char *out, size_t cap)
{
    if ((uint64_t)nchars * 2 > rd_left(&d->r)) {
        d->r.err = true;
        return;
    }
    const uint8_t *b = rd_bytes(&d->r, (size_t)nchars * 2);
    if (!b)
        return;
    /* a trailing NUL is not part of the text */
    size_t len = (size_t)nchars * 2;
    while (len >= 2 && b[len - 1] == 0 && b[len - 2] == 0)
        len -= 2;
    if (d->le) {
        utf16le_to_utf8(b, len, out, cap);
        return;
    }
    uint8_t tmp[512];
    size_t k = len < sizeof tmp ? len : sizeof tmp;
    for (size_t i = 0; i + 1 < k; i += 2) {
        tmp[i] = b[i + 1];
        tmp[i + 1] = b[i];
    }
    utf16le_to_utf8(tmp, k & ~(size_t)1, out, cap);
}

/* ---- ORPCTHIS / ORPCTHAT (MS-DCOM 2.2.13) ------------------------------------------------------- */

/*
 * ORPC_EXTENT_ARRAY (2.2.14), after its unique pointer was read as non-NULL:
 *   size u32 (non-NULL extents), reserved u32, extent: unique pointer to an array of (size + 1) & ~1
 *   unique pointers (conformance first), each to ORPC_EXTENT: conformance u32, id GUID, size u32,
 *   data[(size + 7) & ~7].
 */
static bool extent_array(struct ndr *d, uint32_t *count)
{
    uint32_t size = nd_u32(d);
    nd_u32(d); /* reserved */
    uint32_t ptr = nd_u32(d);
    if (d->r.err || size > DCOM_EXTENTS_MAX)
        return false;
    *count = size;
    if (!ptr)
        return size == 0;
    uint32_t max = nd_u32(d);
    if (d->r.err || max != ((size + 1) & ~1u))
        return false;
    uint32_t refs[DCOM_EXTENTS_MAX + 1];
    for (uint32_t i = 0; i < max; i++)
        refs[i] = nd_u32(d);
    for (uint32_t i = 0; i < max && !d->r.err; i++) {
        if (!refs[i])
            continue;
        uint32_t conf = nd_u32(d);
        uint8_t id[16];
        nd_guid(d, id);
        uint32_t esize = nd_u32(d);
        if (d->r.err || esize > 0xfffffff0u || conf != ((esize + 7) & ~7u))
            return false;
        rd_skip(&d->r, conf);
    }
    return !d->r.err;
}

static bool orpcthis(struct ndr *d, struct dcom_orpcthis *o)
{
    memset(o, 0, sizeof *o);
    o->ver_major = nd_u16(d);
    o->ver_minor = nd_u16(d);
    o->flags = nd_u32(d);
    nd_u32(d); /* reserved1 */
    nd_guid(d, o->cid);
    uint32_t ext = nd_u32(d);
    if (d->r.err)
        return false;
    return !ext || extent_array(d, &o->extents);
}

static bool orpcthat(struct ndr *d, struct dcom_orpcthat *o)
{
    memset(o, 0, sizeof *o);
    o->flags = nd_u32(d);
    uint32_t ext = nd_u32(d);
    if (d->r.err)
        return false;
    return !ext || extent_array(d, &o->extents);
}

long dcom_orpcthis_parse(const uint8_t *p, size_t n, bool le, struct dcom_orpcthis *o)
{
    struct ndr d = {rd_make(p, n), le};
    return orpcthis(&d, o) ? (long)d.r.pos : -1;
}

long dcom_orpcthat_parse(const uint8_t *p, size_t n, bool le, struct dcom_orpcthat *o)
{
    struct ndr d = {rd_make(p, n), le};
    return orpcthat(&d, o) ? (long)d.r.pos : -1;
}

/* ---- calls -------------------------------------------------------------------------------------- */

enum dcom_call dcom_call_of(const char *iface, uint16_t opnum)
{
    if (!iface)
        return DCOM_CALL_NONE;
    if (!strcmp(iface, "ISystemActivator"))
        return opnum == 3 ? DCOM_GET_CLASS_OBJECT : opnum == 4 ? DCOM_CREATE_INSTANCE : DCOM_CALL_NONE;
    if (!strcmp(iface, "IActivation"))
        return opnum == 0 ? DCOM_REMOTE_ACTIVATION : DCOM_CALL_NONE;
    if (!strcmp(iface, "IObjectExporter"))
        return opnum == 0 ? DCOM_RESOLVE_OXID : opnum == 4 ? DCOM_RESOLVE_OXID2
                                               : opnum == 5 ? DCOM_SERVER_ALIVE2 : DCOM_CALL_NONE;
    if (!strcmp(iface, "IWbemLevel1Login"))
        return opnum == 6 ? DCOM_WMI_NTLM_LOGIN : DCOM_CALL_NONE;
    if (!strcmp(iface, "IWbemServices")) {
        switch (opnum) {
        case 3: return DCOM_WMI_OPEN_NAMESPACE;
        case 6: case 7: return DCOM_WMI_GET_OBJECT;
        case 18: case 19: return DCOM_WMI_INSTANCE_ENUM;
        case 20: case 21: case 22: case 23: return DCOM_WMI_EXEC_QUERY;
        case 24: case 25: return DCOM_WMI_EXEC_METHOD;
        default: return DCOM_CALL_NONE;
        }
    }
    return DCOM_CALL_NONE;
}

bool dcom_call_has_orpc(enum dcom_call k)
{
    return k == DCOM_GET_CLASS_OBJECT || k == DCOM_CREATE_INSTANCE || k == DCOM_REMOTE_ACTIVATION;
}

bool dcom_call_is_activation(enum dcom_call k)
{
    return k >= DCOM_GET_CLASS_OBJECT && k <= DCOM_SERVER_ALIVE2;
}

/* ---- activation properties (MS-DCOM 2.2.18, 2.2.22) -------------------------------------------- */

#define OBJREF_SIGNATURE 0x574f454du /* "MEOW" */
#define OBJREF_CUSTOM 0x4u

/* Property GUIDs (MS-DCOM 1.9) as little-endian wire bytes. */
static const uint8_t CLSID_InstantiationInfo[16] = {0xab, 0x01, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46};
static const uint8_t CLSID_ScmReplyInfo[16] = {0xb6, 0x01, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46};

/* The 16-byte type serialization headers (MS-RPCE 2.2.6.1 common, 2.2.6.2 private): version 1,
 * little-endian (0x10), common header length 8; returns the object buffer length, or -1. */
static long ser_header(struct rd *r)
{
    uint8_t ver = rd_u8(r), endian = rd_u8(r);
    uint16_t hlen = rd_u16le(r);
    rd_skip(r, 4);
    uint32_t len = rd_u32le(r);
    rd_skip(r, 4);
    if (r->err || ver != 1 || endian != 0x10 || hlen != 8)
        return -1;
    return (long)len;
}

/*
 * An MInterfacePointer (2.2.14: ulCntData u32, abData conformant byte array) at d holding an OBJREF_CUSTOM
 * whose pObjectData is an activation properties blob (2.2.22.1): finds the property whose GUID is `want`
 * and returns its NDR data (after its serialization headers) in *prop. 1 found, 0 not present, -1 malformed.
 */
static int find_property(struct ndr *d, const uint8_t want[16], struct rd *prop)
{
    uint32_t cnt = nd_u32(d), max = nd_u32(d);
    if (d->r.err || cnt != max)
        return -1;
    struct rd o = rd_sub(&d->r, cnt);
    /* OBJREF (2.2.18): little-endian whatever the stub's representation */
    uint32_t sig = rd_u32le(&o), flags = rd_u32le(&o);
    rd_skip(&o, 16 + 16); /* iid, clsid */
    rd_skip(&o, 4 + 4);   /* cbExtension; reserved (2.2.18.6: any value, ignored on receipt) */
    if (o.err || sig != OBJREF_SIGNATURE || flags != OBJREF_CUSTOM)
        return -1;
    struct rd blob = rd_make(o.p + o.pos, rd_left(&o)); /* pObjectData: the rest */
    uint32_t total = rd_u32le(&blob);
    rd_skip(&blob, 4); /* dwReserved */
    if (blob.err || total > rd_left(&blob))
        return -1;
    struct rd props = rd_sub(&blob, total); /* everything after dwSize, dwReserved */
    /* CustomHeader (MS-DCOM 2.2.22.1), type-serialized (MS-RPCE 2.2.6) */
    struct rd h = props;
    long hbuf = ser_header(&h);
    if (hbuf < 0 || (size_t)hbuf > rd_left(&h))
        return -1;
    struct ndr c = {rd_make(h.p + h.pos, (size_t)hbuf), true};
    nd_u32(&c); /* totalSize */
    uint32_t header_size = nd_u32(&c);
    nd_u32(&c); /* dwReserved */
    nd_u32(&c); /* destCtx */
    uint32_t n_ifs = nd_u32(&c);
    uint8_t info[16];
    nd_guid(&c, info); /* classInfoClsid */
    uint32_t p_clsid = nd_u32(&c), p_sizes = nd_u32(&c);
    nd_u32(&c); /* pdwReserved */
    if (c.r.err || n_ifs > DCOM_PROPS_MAX || !p_clsid || !p_sizes)
        return -1;
    uint8_t guids[DCOM_PROPS_MAX][16];
    uint32_t sizes[DCOM_PROPS_MAX];
    if (nd_u32(&c) != n_ifs)
        return -1;
    for (uint32_t i = 0; i < n_ifs; i++)
        nd_guid(&c, guids[i]);
    if (nd_u32(&c) != n_ifs)
        return -1;
    for (uint32_t i = 0; i < n_ifs; i++)
        sizes[i] = nd_u32(&c);
    if (c.r.err)
        return -1;
    /* the properties follow the header, each sizes[i] bytes with its own serialization headers */
    uint64_t off = header_size;
    for (uint32_t i = 0; i < n_ifs; i++) {
        if (!range_ok(props.len, off, sizes[i]))
            return -1;
        if (!memcmp(guids[i], want, 16)) {
            struct rd pr = rd_make(props.p + off, sizes[i]);
            long len = ser_header(&pr);
            if (len < 0 || (size_t)len > rd_left(&pr))
                return -1;
            *prop = rd_make(pr.p + pr.pos, (size_t)len);
            return 1;
        }
        off += sizes[i];
    }
    return 0;
}

/* ---- strings of WMI calls ----------------------------------------------------------------------- */

/* A BSTR (MS-OAUT 2.2.23.2: unique pointer to FLAGGED_WORD_BLOB: conformance, clFlags, clSize, asData). */
static bool bstr(struct ndr *d, char *out, size_t cap)
{
    out[0] = '\0';
    uint32_t ptr = nd_u32(d);
    if (d->r.err)
        return false;
    if (!ptr)
        return true;
    uint32_t max = nd_u32(d);
    nd_u32(d); /* clFlags: the byte length */
    uint32_t size = nd_u32(d);
    if (d->r.err || max != size)
        return false;
    nd_wstr(d, size, out, cap);
    return !d->r.err;
}

/* A [unique, string] wchar_t* (conformant varying: max_count, offset, actual_count, chars). */
static bool lpwstr(struct ndr *d, char *out, size_t cap)
{
    out[0] = '\0';
    uint32_t ptr = nd_u32(d);
    if (d->r.err)
        return false;
    if (!ptr)
        return true;
    uint32_t max = nd_u32(d), off = nd_u32(d), actual = nd_u32(d);
    if (d->r.err || off > max || actual > max - off)
        return false;
    nd_wstr(d, actual, out, cap);
    return !d->r.err;
}

static void set_clsid_detail(struct dcom_req *out, bool le)
{
    const char *name = dcom_clsid_name(out->clsid, le);
    out->detail_kind = "class";
    if (name)
        snprintf(out->detail, sizeof out->detail, "%s", name);
    else
        dcerpc_uuid_str(out->clsid, le, out->detail);
}

int dcom_request(enum dcom_call k, bool orpc, const uint8_t *p, size_t n, bool le, struct dcom_req *out)
{
    memset(out, 0, sizeof *out);
    struct ndr d = {rd_make(p, n), le};
    if (orpc) {
        if (!orpcthis(&d, &out->orpcthis))
            return -1;
        out->have_orpcthis = true;
    }
    char a[160], b[160];
    switch (k) {
    case DCOM_CREATE_INSTANCE:
    case DCOM_GET_CLASS_OBJECT: {
        if (k == DCOM_CREATE_INSTANCE) {
            uint32_t outer = nd_u32(&d); /* pUnkOuter: aggregation, an MInterfacePointer when non-NULL */
            if (outer) {
                uint32_t cnt = nd_u32(&d), max = nd_u32(&d);
                if (d.r.err || cnt != max)
                    return -1;
                rd_skip(&d.r, cnt);
            }
        }
        uint32_t props = nd_u32(&d);
        if (d.r.err || !props)
            return d.r.err ? -1 : 0;
        struct rd pr;
        int f = find_property(&d, CLSID_InstantiationInfo, &pr);
        if (f <= 0)
            return f;
        struct ndr q = {pr, true};
        if (!nd_guid(&q, out->clsid))
            return -1;
        out->have_clsid = true;
        set_clsid_detail(out, true);
        return 0;
    }
    case DCOM_REMOTE_ACTIVATION:
        if (!nd_guid(&d, out->clsid))
            return -1;
        if (!le) { /* kept in little-endian wire order, as the activation blob carries it */
            uint8_t *g = out->clsid, t;
            t = g[0], g[0] = g[3], g[3] = t;
            t = g[1], g[1] = g[2], g[2] = t;
            t = g[4], g[4] = g[5], g[5] = t;
            t = g[6], g[6] = g[7], g[7] = t;
        }
        out->have_clsid = true;
        set_clsid_detail(out, true);
        return 0;
    case DCOM_WMI_NTLM_LOGIN:
        if (!lpwstr(&d, out->detail, sizeof out->detail))
            return -1;
        out->detail_kind = "namespace";
        return 0;
    case DCOM_WMI_OPEN_NAMESPACE:
    case DCOM_WMI_GET_OBJECT:
    case DCOM_WMI_INSTANCE_ENUM:
        if (!bstr(&d, out->detail, sizeof out->detail))
            return -1;
        out->detail_kind = k == DCOM_WMI_OPEN_NAMESPACE ? "namespace" : k == DCOM_WMI_GET_OBJECT ? "object_path" : "class";
        return 0;
    case DCOM_WMI_EXEC_QUERY:
        if (!bstr(&d, a, sizeof a) || !bstr(&d, out->detail, sizeof out->detail)) /* language ("WQL"), query */
            return -1;
        out->detail_kind = "query";
        return 0;
    case DCOM_WMI_EXEC_METHOD:
        if (!bstr(&d, a, sizeof a) || !bstr(&d, b, sizeof b))
            return -1;
        /* "path.method", cut to fit */
        strlcpy_n(out->detail, sizeof out->detail, a, sizeof a);
        size_t la = strlen(out->detail);
        if (la + 1 < sizeof out->detail) {
            out->detail[la] = '.';
            strlcpy_n(out->detail + la + 1, sizeof out->detail - la - 1, b, sizeof b);
        }
        out->detail_kind = "method";
        return 0;
    default:
        return 0;
    }
}

/* ---- responses ---------------------------------------------------------------------------------- */

/* "host[port]": the port when the brackets hold only digits (<= 65535), and host as an address literal. */
static void binding_parse(struct dcom_binding *b)
{
    char host[80];
    snprintf(host, sizeof host, "%s", b->addr);
    char *lb = strrchr(host, '[');
    if (lb && lb[1] && (b->tower_id == 0x07 || b->tower_id == 0x08)) {
        char *e = strchr(lb, ']');
        unsigned long port = 0;
        bool digits = e && e > lb + 1 && e - lb <= 6;
        for (char *c = lb + 1; digits && c < e; c++) {
            if (*c < '0' || *c > '9')
                digits = false;
            else
                port = port * 10 + (unsigned long)(*c - '0');
        }
        if (digits && port && port <= 65535)
            b->port = (uint16_t)port;
    }
    if (lb)
        *lb = '\0';
    if (inet_pton(AF_INET, host, b->ip) == 1)
        b->af = 4;
    else if (inet_pton(AF_INET6, host, b->ip) == 1)
        b->af = 6;
}

long dcom_dualstringarray(const uint8_t *p, size_t n, bool le, struct dcom_binding *out, size_t max, uint8_t *nout,
                          bool *cut)
{
    *nout = 0;
    *cut = false;
    struct ndr d = {rd_make(p, n), le};
    uint32_t conf = nd_u32(&d);
    uint16_t num = nd_u16(&d), sec = nd_u16(&d);
    if (d.r.err || conf != num || sec > num || (size_t)num * 2 > rd_left(&d.r))
        return -1;
    const uint8_t *w = rd_bytes(&d.r, (size_t)num * 2);
#define WORD(i) (le ? ld_u16le(w + 2 * (i)) : ld_u16be(w + 2 * (i)))
    size_t i = 0;
    while (i < sec) {
        uint16_t tower = WORD(i);
        if (!tower)
            break; /* the string bindings end with an empty one */
        size_t start = ++i;
        while (i < sec && WORD(i))
            i++;
        if (i >= sec)
            return -1; /* not terminated inside the string bindings */
        if (*nout < max) {
            struct dcom_binding *b = &out[(*nout)++];
            memset(b, 0, sizeof *b);
            b->tower_id = tower;
            struct ndr s = {rd_make(w + 2 * start, (i - start) * 2), le};
            nd_wstr(&s, (uint32_t)(i - start), b->addr, sizeof b->addr);
            binding_parse(b);
        } else
            *cut = true;
        i++;
    }
#undef WORD
    return (long)d.r.pos;
}

/* A unique pointer to a DUALSTRINGARRAY, then the array when non-NULL. */
static bool dsa_ptr(struct ndr *d, struct dcom_resp *out)
{
    uint32_t ptr = nd_u32(d);
    if (d->r.err)
        return false;
    if (!ptr)
        return true;
    nd_align(d, 4);
    long used = dcom_dualstringarray(d->r.p + d->r.pos, rd_left(&d->r), d->le, out->bindings, DCOM_BINDINGS_MAX,
                                     &out->n_bindings, &out->bindings_cut);
    if (used < 0)
        return false;
    rd_skip(&d->r, (size_t)used);
    return true;
}

int dcom_response(enum dcom_call k, bool orpc, const uint8_t *p, size_t n, bool le, struct dcom_resp *out)
{
    memset(out, 0, sizeof *out);
    if (n >= 4) {
        uint32_t st = le ? ld_u32le(p + n - 4) : ld_u32be(p + n - 4);
        bool rpc_status = k == DCOM_RESOLVE_OXID || k == DCOM_RESOLVE_OXID2 || k == DCOM_SERVER_ALIVE2;
        out->have_status = true;
        out->status = hs_status_of(rpc_status ? STATUS_WIN32 : STATUS_HRESULT, st);
    }
    struct ndr d = {rd_make(p, n), le};
    if (orpc) {
        if (!orpcthat(&d, &out->orpcthat))
            return -1;
        out->have_orpcthat = true;
    }
    switch (k) {
    case DCOM_CREATE_INSTANCE:
    case DCOM_GET_CLASS_OBJECT: {
        uint32_t props = nd_u32(&d);
        if (d.r.err || !props)
            return d.r.err ? -1 : 0;
        struct rd pr;
        int f = find_property(&d, CLSID_ScmReplyInfo, &pr);
        if (f <= 0)
            return f;
        /* ScmReplyInfoData (2.2.22.2.8): pvReserved, remoteReply -> customREMOTE_REPLY_SCM_INFO: Oxid,
         * pdsaOxidBindings, ipidRemUnknown, authnHint, serverVersion; then the deferred DUALSTRINGARRAY */
        struct ndr q = {pr, true};
        uint32_t reserved = nd_u32(&q), reply = nd_u32(&q);
        if (q.r.err || reserved)
            return -1;
        if (!reply)
            return 0;
        nd_u64(&q);
        uint32_t dsa = nd_u32(&q);
        uint8_t ipid[16];
        nd_guid(&q, ipid);
        nd_u32(&q); /* authnHint */
        nd_u16(&q);
        nd_u16(&q); /* serverVersion */
        if (q.r.err)
            return -1;
        if (!dsa)
            return 0;
        long used = dcom_dualstringarray(q.r.p + q.r.pos, rd_left(&q.r), true, out->bindings, DCOM_BINDINGS_MAX,
                                         &out->n_bindings, &out->bindings_cut);
        return used < 0 ? -1 : 0;
    }
    case DCOM_REMOTE_ACTIVATION: {
        /* pOxid, ppdsaOxidBindings, pipidRemUnknown, pAuthnHint, pServerVersion, phr (3.1.2.5.1.1) */
        nd_u64(&d);
        if (!dsa_ptr(&d, out))
            return -1;
        uint8_t ipid[16];
        nd_guid(&d, ipid);
        nd_u32(&d);
        nd_u16(&d);
        nd_u16(&d);
        uint32_t hr = nd_u32(&d);
        if (d.r.err)
            return -1;
        if (hr)
            out->status = hs_status_of(STATUS_HRESULT, hr);
        return 0;
    }
    case DCOM_RESOLVE_OXID:
    case DCOM_RESOLVE_OXID2:
        /* ppdsaOxidBindings first (3.1.2.5.1.1 ResolveOxid, 3.1.2.5.1.4 ResolveOxid2) */
        return dsa_ptr(&d, out) ? 0 : -1;
    case DCOM_SERVER_ALIVE2:
        /* pComVersion, ppdsaOrBindings (3.1.2.5.1.6) */
        nd_u16(&d);
        nd_u16(&d);
        return dsa_ptr(&d, out) ? 0 : -1;
    default:
        return 0;
    }
}

bool dcom_hresult_denied(uint32_t hr)
{
    return hr == 0x80070005u || hr == 0x80041003u || hr == 0x8001011bu || hr == 0x8000401bu;
}
