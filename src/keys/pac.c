/* The PAC and its NDR parsing — MS-PAC 2.3-2.10, MS-RPCE 2.2.6, MS-DTYP 2.4.2; AuthorizationData (RFC 4120 5.2.6). */
/*
 * The PAC arrives inside a decrypted EncTicketPart, but it is still hostile input (a key holder — or a
 * forger of a keytab's key — chooses it): every read goes through struct rd / der_next, and every
 * offset and count is checked against the buffer before use.
 */
#include "pac.h"

#include <stdio.h>

#include "der.h"
#include "reader.h"
#include "util.h"

/* RPC_SID (MS-DTYP 2.4.2.3): at most 15 sub-authorities. */
#define KC_SID_MAX_SUBAUTH 15

#define KERB_AD_IF_RELEVANT 1
#define KERB_AD_WIN2K_PAC   128
#define PAC_LOGON_INFO      1
#define PAC_CLIENT_INFO     10
#define PAC_UPN_DNS_INFO    12

/* ---- SIDs and NDR (MS-DTYP 2.4.2, MS-RPCE 2.2.6) ------------------------------------------- */

/* RPC_SID (MS-DTYP 2.4.2.3). */
struct kc_sid {
    uint8_t rev;
    uint8_t n;
    uint64_t auth;
    uint32_t sub[KC_SID_MAX_SUBAUTH];
};

/* S-R-A-S1-...-Sn[-rid] (MS-DTYP 2.4.2.1: authority in hex when it does not fit 32 bits). */
static void sid_format(const struct kc_sid *s, bool with_rid, uint32_t rid, char *out, size_t cap)
{
    int w;
    if (s->auth >> 32)
        w = snprintf(out, cap, "S-%u-0x%012llX", s->rev, (unsigned long long)s->auth);
    else
        w = snprintf(out, cap, "S-%u-%llu", s->rev, (unsigned long long)s->auth);
    if (w < 0 || (size_t)w >= cap)
        return;
    size_t o = (size_t)w;
    for (unsigned i = 0; i <= s->n; i++) {
        uint32_t v;
        if (i < s->n)
            v = s->sub[i];
        else if (with_rid)
            v = rid;
        else
            break;
        w = snprintf(out + o, cap - o, "-%u", v);
        if (w < 0 || (size_t)w >= cap - o) {
            out[o] = '\0';
            return;
        }
        o += (size_t)w;
    }
}

static void ndr_align4(struct rd *r)
{
    size_t pad = (4 - (r->pos & 3)) & 3;
    rd_skip(r, pad);
}

/* RPC_UNICODE_STRING (MS-DTYP 2.3.10) as it sits in the structure: Length, MaximumLength, Buffer pointer. */
struct ndr_ustr {
    uint16_t len;
    uint16_t max;
    uint32_t ptr;
};

static void ndr_ustr_head(struct rd *r, struct ndr_ustr *s)
{
    s->len = rd_u16le(r);
    s->max = rd_u16le(r);
    s->ptr = rd_u32le(r);
}

/* The deferred conformant varying WCHAR array of a non-NULL RPC_UNICODE_STRING into out[cap] (out may
 * be NULL to skip it). */
static bool ndr_ustr_body(struct rd *r, const struct ndr_ustr *s, char *out, size_t cap)
{
    if (out)
        out[0] = '\0';
    if (!s->ptr)
        return true;
    ndr_align4(r);
    uint32_t max = rd_u32le(r), off = rd_u32le(r), act = rd_u32le(r);
    if (r->err || off > max || act > max - off || (uint64_t)act * 2 > rd_left(r))
        return false;
    const uint8_t *b = rd_bytes(r, (size_t)act * 2);
    if (r->err)
        return false;
    if (out && act)
        utf16le_to_utf8(b, (size_t)act * 2, out, cap);
    return true;
}

/* A deferred RPC_SID: conformance (MaxCount), Revision, SubAuthorityCount, IdentifierAuthority[6],
 * SubAuthority[SubAuthorityCount]. */
static bool ndr_sid(struct rd *r, struct kc_sid *s)
{
    ndr_align4(r);
    uint32_t max = rd_u32le(r);
    s->rev = rd_u8(r);
    s->n = rd_u8(r);
    s->auth = 0;
    for (int i = 0; i < 6; i++)
        s->auth = (s->auth << 8) | rd_u8(r);
    if (r->err || s->n > KC_SID_MAX_SUBAUTH || max != s->n)
        return false;
    for (unsigned i = 0; i < s->n; i++)
        s->sub[i] = rd_u32le(r);
    return !r->err;
}

/* A deferred array of GROUP_MEMBERSHIP { RelativeId, Attributes } with `count` elements; keeps the
 * first `keep` RIDs in rids[] and reports how many it kept. */
static bool ndr_groups(struct rd *r, uint32_t count, uint32_t *rids, size_t keep, size_t *kept)
{
    *kept = 0;
    ndr_align4(r);
    uint32_t max = rd_u32le(r);
    if (r->err || max != count || max > rd_left(r) / 8)
        return false;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t rid = rd_u32le(r);
        (void)rd_u32le(r); /* Attributes */
        if (*kept < keep)
            rids[(*kept)++] = rid;
    }
    return !r->err;
}

/* ---- PAC buffers and PACTYPE (MS-PAC 2.3-2.10) --------------------------------------------- */

int kc_parse_logon_info(const uint8_t *p, size_t n, struct kc_ticket *t)
{
    if (!p || !t)
        return -1;
    struct rd r = rd_make(p, n);
    /* Common Type Header (MS-RPCE 2.2.6.1): version 1, little-endian, 8 bytes, filler. */
    uint8_t version = rd_u8(&r), endian = rd_u8(&r);
    uint16_t hdrlen = rd_u16le(&r);
    rd_skip(&r, 4);
    if (r.err || version != 1 || endian != 0x10 || hdrlen != 8)
        return -1;
    /* Private Header (2.2.6.2): ObjectBufferLength, filler. The object must lie inside the buffer. */
    uint32_t objlen = rd_u32le(&r);
    rd_skip(&r, 4);
    if (r.err || objlen > rd_left(&r))
        return -1;
    r.len = r.pos + objlen; /* positions stay relative to p, so NDR alignment is kept */

    uint32_t top = rd_u32le(&r); /* referent of the top-level unique pointer */
    if (r.err || top == 0)
        return -1;

    /* KERB_VALIDATION_INFO (MS-PAC 2.5), fixed part. */
    struct ndr_ustr eff, full, script, profile, home, drive, server, domain;
    rd_skip(&r, 6 * 8); /* LogonTime .. PasswordMustChange (FILETIME, 4-aligned) */
    ndr_ustr_head(&r, &eff);
    ndr_ustr_head(&r, &full);
    ndr_ustr_head(&r, &script);
    ndr_ustr_head(&r, &profile);
    ndr_ustr_head(&r, &home);
    ndr_ustr_head(&r, &drive);
    (void)rd_u16le(&r); /* LogonCount */
    (void)rd_u16le(&r); /* BadPasswordCount */
    uint32_t user_id = rd_u32le(&r);
    (void)rd_u32le(&r); /* PrimaryGroupId (also listed in GroupIds) */
    uint32_t group_count = rd_u32le(&r);
    uint32_t p_groups = rd_u32le(&r);
    (void)rd_u32le(&r); /* UserFlags */
    rd_skip(&r, 16);    /* UserSessionKey */
    ndr_ustr_head(&r, &server);
    ndr_ustr_head(&r, &domain);
    uint32_t p_domsid = rd_u32le(&r);
    rd_skip(&r, 8);      /* Reserved1[2] */
    (void)rd_u32le(&r);  /* UserAccountControl */
    (void)rd_u32le(&r);  /* SubAuthStatus */
    rd_skip(&r, 16);     /* LastSuccessfulILogon, LastFailedILogon */
    (void)rd_u32le(&r);  /* FailedILogonCount */
    (void)rd_u32le(&r);  /* Reserved3 */
    uint32_t sid_count = rd_u32le(&r);
    uint32_t p_extra = rd_u32le(&r);
    uint32_t p_rgsid = rd_u32le(&r);
    uint32_t rg_count = rd_u32le(&r);
    uint32_t p_rg = rd_u32le(&r);
    if (r.err)
        return -1;

    /* Deferred referents, in the order of their pointers in the structure (MS-RPCE 2.2.5 / C706 14.3.12.3). */
    char name[KC_NAME_MAX];
    if (!ndr_ustr_body(&r, &eff, name, sizeof name))
        return -1;
    if (name[0])
        strlcpy_n(t->pac_user, sizeof t->pac_user, name, sizeof name);
    if (!ndr_ustr_body(&r, &full, NULL, 0) || !ndr_ustr_body(&r, &script, NULL, 0) ||
        !ndr_ustr_body(&r, &profile, NULL, 0) || !ndr_ustr_body(&r, &home, NULL, 0) ||
        !ndr_ustr_body(&r, &drive, NULL, 0))
        return -1;

    uint32_t grids[KC_MAX_SIDS];
    size_t ngroups = 0;
    if (p_groups && !ndr_groups(&r, group_count, grids, KC_MAX_SIDS, &ngroups))
        return -1;

    if (!ndr_ustr_body(&r, &server, NULL, 0))
        return -1;
    if (!ndr_ustr_body(&r, &domain, name, sizeof name))
        return -1;
    if (name[0])
        strlcpy_n(t->pac_domain, sizeof t->pac_domain, name, sizeof name);

    struct kc_sid domsid;
    bool have_domsid = false;
    if (p_domsid) {
        if (!ndr_sid(&r, &domsid))
            return -1;
        have_domsid = true;
    }

    /* ExtraSids: KERB_SID_AND_ATTRIBUTES { PISID Sid; ULONG Attributes } [SidCount], then each non-NULL
     * Sid's RPC_SID in order. The pointer array is re-read from the buffer for the deferred part. */
    char extra[KC_MAX_SIDS][128];
    size_t nextra = 0;
    if (p_extra) {
        ndr_align4(&r);
        uint32_t max = rd_u32le(&r);
        if (r.err || max != sid_count || max > rd_left(&r) / 8)
            return -1;
        size_t arr = r.pos;
        rd_skip(&r, (size_t)max * 8);
        for (uint32_t i = 0; i < max && !r.err; i++) {
            if (!ld_u32le(p + arr + (size_t)i * 8))
                continue;
            struct kc_sid s;
            if (!ndr_sid(&r, &s))
                return -1;
            if (nextra < KC_MAX_SIDS)
                sid_format(&s, false, 0, extra[nextra++], sizeof extra[0]);
        }
        if (r.err)
            return -1;
    }

    struct kc_sid rgsid;
    bool have_rgsid = false;
    if (p_rgsid) {
        if (!ndr_sid(&r, &rgsid))
            return -1;
        have_rgsid = true;
    }
    uint32_t rgrids[KC_MAX_SIDS];
    size_t nrg = 0;
    if (p_rg && !ndr_groups(&r, rg_count, rgrids, KC_MAX_SIDS, &nrg))
        return -1;
    if (!have_rgsid)
        nrg = 0;
    if (!have_domsid)
        ngroups = 0;

    /* Commit: the user's SID, then domain groups, ExtraSids and resource groups. When they do not all
     * fit, domain groups give way so that ExtraSids and resource groups (SID history, asserted-identity
     * SIDs, other domains) are never the ones dropped. */
    if (have_domsid)
        sid_format(&domsid, true, user_id, t->user_sid, sizeof t->user_sid);
    size_t others = nextra + nrg > KC_MAX_SIDS ? KC_MAX_SIDS : nextra + nrg;
    if (ngroups > KC_MAX_SIDS - others)
        ngroups = KC_MAX_SIDS - others;
    int o = 0;
    for (size_t i = 0; i < ngroups; i++)
        sid_format(&domsid, true, grids[i], t->group_sids[o++], sizeof t->group_sids[0]);
    for (size_t i = 0; i < nextra && o < KC_MAX_SIDS; i++)
        strlcpy_n(t->group_sids[o++], sizeof t->group_sids[0], extra[i], sizeof extra[0]);
    for (size_t i = 0; i < nrg && o < KC_MAX_SIDS; i++)
        sid_format(&rgsid, true, rgrids[i], t->group_sids[o++], sizeof t->group_sids[0]);
    t->n_group_sids = o;
    return 0;
}

int kc_parse_client_info(const uint8_t *p, size_t n, char *name, size_t cap)
{
    if (!p || !name || cap == 0)
        return -1;
    struct rd r = rd_make(p, n);
    rd_skip(&r, 8); /* ClientId (FILETIME) */
    uint16_t len = rd_u16le(&r);
    const uint8_t *b = rd_bytes(&r, len);
    if (r.err)
        return -1;
    name[0] = '\0';
    if (len)
        utf16le_to_utf8(b, len, name, cap);
    return 0;
}

int kc_parse_upn_dns_info(const uint8_t *p, size_t n, struct kc_ticket *t)
{
    if (!p || !t)
        return -1;
    struct rd r = rd_make(p, n);
    uint16_t upn_len = rd_u16le(&r), upn_off = rd_u16le(&r);
    uint16_t dns_len = rd_u16le(&r), dns_off = rd_u16le(&r);
    (void)rd_u32le(&r); /* Flags */
    if (r.err || !range_ok(n, upn_off, upn_len) || !range_ok(n, dns_off, dns_len))
        return -1;
    t->pac_upn[0] = t->pac_dns_domain[0] = '\0';
    if (upn_len)
        utf16le_to_utf8(p + upn_off, upn_len, t->pac_upn, sizeof t->pac_upn);
    if (dns_len)
        utf16le_to_utf8(p + dns_off, dns_len, t->pac_dns_domain, sizeof t->pac_dns_domain);
    return 0;
}

int kc_parse_pac(const uint8_t *p, size_t n, struct kc_ticket *t)
{
    if (!p || !t)
        return -1;
    struct rd r = rd_make(p, n);
    uint32_t count = rd_u32le(&r);
    uint32_t version = rd_u32le(&r);
    if (r.err || version != 0 || count == 0 || count > KC_PAC_MAX_BUFFERS ||
        !range_ok(n, 8, (uint64_t)count * 16))
        return -1;
    /* Every descriptor must be sound before anything is decoded. */
    for (uint32_t i = 0; i < count; i++) {
        (void)rd_u32le(&r);
        uint32_t size = rd_u32le(&r);
        uint64_t off = rd_u64le(&r);
        if (r.err || !range_ok(n, off, size))
            return -1;
    }

    char client[KC_NAME_MAX] = "";
    bool logon = false, cinfo = false, upn = false;
    t->pac_user[0] = t->pac_domain[0] = t->pac_upn[0] = t->pac_dns_domain[0] = t->user_sid[0] = '\0';
    t->n_group_sids = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *d = p + 8 + (size_t)i * 16;
        uint32_t type = ld_u32le(d), size = ld_u32le(d + 4);
        size_t off = (size_t)(ld_u32le(d + 8) | ((uint64_t)ld_u32le(d + 12) << 32));
        switch (type) {
        case PAC_LOGON_INFO:
            if (!logon) {
                logon = true;
                (void)kc_parse_logon_info(p + off, size, t);
            }
            break;
        case PAC_CLIENT_INFO:
            if (!cinfo) {
                cinfo = true;
                (void)kc_parse_client_info(p + off, size, client, sizeof client);
            }
            break;
        case PAC_UPN_DNS_INFO:
            if (!upn) {
                upn = true;
                (void)kc_parse_upn_dns_info(p + off, size, t);
            }
            break;
        default:
            break;
        }
    }
    if (!t->pac_user[0] && client[0])
        strlcpy_n(t->pac_user, sizeof t->pac_user, client, sizeof client);
    t->has_pac = true;
    return 0;
}

/* ---- AuthorizationData (RFC 4120 5.2.6) ---------------------------------------------------- */

int kc_parse_authorization_data(const uint8_t *p, size_t n, struct kc_ticket *t, int depth)
{
    if (!p || !t || depth > KC_AD_MAX_DEPTH)
        return -1;
    struct rd r = rd_make(p, n);
    struct der_tlv seq, el, f;
    if (!der_expect(&r, DER_UNIVERSAL, DER_TAG_SEQUENCE, &seq) || !seq.constructed)
        return -1;
    struct rd l = der_inner(&seq);
    while (rd_left(&l)) {
        if (!der_expect(&l, DER_UNIVERSAL, DER_TAG_SEQUENCE, &el) || !el.constructed)
            return -1;
        struct rd e = der_inner(&el);
        int64_t type = -1;
        const uint8_t *data = NULL;
        size_t len = 0;
        while (rd_left(&e)) {
            if (!der_next(&e, &f) || f.cls != DER_CONTEXT)
                return -1;
            if (f.tag == 0 && !der_get_int(&f, &type))
                return -1;
            if (f.tag == 1 && !der_get_octets(&f, &data, &len))
                return -1;
        }
        if (!data)
            continue;
        if (type == KERB_AD_IF_RELEVANT)
            (void)kc_parse_authorization_data(data, len, t, depth + 1);
        else if (type == KERB_AD_WIN2K_PAC && !t->has_pac)
            (void)kc_parse_pac(data, len, t);
    }
    return 0;
}
