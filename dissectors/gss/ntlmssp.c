/* NTLMSSP messages — MS-NLMP 2.2.1 (messages), 2.2.2 (structures), 3.3 (response versions). */
#include "ntlmssp.h"

#include <string.h>

#include "reader.h"
#include "util.h"

/*
 * Every message starts with
 *   0        8            12
 *   +--------+------------+---------------------------
 *   |NTLMSSP\0| MessageType | type-specific fixed fields, then Payload
 * and names its variable-length parts with 8-byte descriptors
 *   +--------+--------+----------------+
 *   | Len u16| Max u16| Offset u32     |   (offset from the start of the message)
 */
static const uint8_t ntlmssp_sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

bool ntlmssp_is(const uint8_t *p, size_t n)
{
    return n >= 8 && memcmp(p, ntlmssp_sig, 8) == 0;
}

static const struct tok ntlm_flag_names[] = {
    {NTLMSSP_NEGOTIATE_UNICODE, "NTLMSSP_NEGOTIATE_UNICODE"},
    {NTLM_NEGOTIATE_OEM, "NTLM_NEGOTIATE_OEM"},
    {NTLMSSP_REQUEST_TARGET, "NTLMSSP_REQUEST_TARGET"},
    {NTLMSSP_NEGOTIATE_SIGN, "NTLMSSP_NEGOTIATE_SIGN"},
    {NTLMSSP_NEGOTIATE_SEAL, "NTLMSSP_NEGOTIATE_SEAL"},
    {NTLMSSP_NEGOTIATE_DATAGRAM, "NTLMSSP_NEGOTIATE_DATAGRAM"},
    {NTLMSSP_NEGOTIATE_LM_KEY, "NTLMSSP_NEGOTIATE_LM_KEY"},
    {NTLMSSP_NEGOTIATE_NTLM, "NTLMSSP_NEGOTIATE_NTLM"},
    {NTLMSSP_ANONYMOUS, "NTLMSSP_ANONYMOUS"},
    {NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED, "NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED"},
    {NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED, "NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED"},
    {NTLMSSP_NEGOTIATE_ALWAYS_SIGN, "NTLMSSP_NEGOTIATE_ALWAYS_SIGN"},
    {NTLMSSP_TARGET_TYPE_DOMAIN, "NTLMSSP_TARGET_TYPE_DOMAIN"},
    {NTLMSSP_TARGET_TYPE_SERVER, "NTLMSSP_TARGET_TYPE_SERVER"},
    {NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY, "NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY"},
    {NTLMSSP_NEGOTIATE_IDENTIFY, "NTLMSSP_NEGOTIATE_IDENTIFY"},
    {NTLMSSP_REQUEST_NON_NT_SESSION_KEY, "NTLMSSP_REQUEST_NON_NT_SESSION_KEY"},
    {NTLMSSP_NEGOTIATE_TARGET_INFO, "NTLMSSP_NEGOTIATE_TARGET_INFO"},
    {NTLMSSP_NEGOTIATE_VERSION, "NTLMSSP_NEGOTIATE_VERSION"},
    {NTLMSSP_NEGOTIATE_128, "NTLMSSP_NEGOTIATE_128"},
    {NTLMSSP_NEGOTIATE_KEY_EXCH, "NTLMSSP_NEGOTIATE_KEY_EXCH"},
    {NTLMSSP_NEGOTIATE_56, "NTLMSSP_NEGOTIATE_56"},
    {0, NULL},
};

const char *ntlmssp_flag_name(uint32_t bit)
{
    return tok_name(ntlm_flag_names, bit);
}

/* NTLM_VER_UNKNOWN, and anything not listed, is "unknown". */
static const struct tok ntlm_version_names[] = {
    {NTLM_VER_ANONYMOUS, "anonymous"}, {NTLM_VER_LM, "lm"}, {NTLM_VER_NTLMV1, "ntlmv1"},
    {NTLM_VER_NTLMV1_ESS, "ntlmv1-ess"}, {NTLM_VER_NTLMV2, "ntlmv2"}, {NTLM_VER_EMPTY, "empty"},
    {0, NULL},
};

const char *ntlm_version_name(enum ntlm_version v)
{
    const char *s = tok_name(ntlm_version_names, (uint32_t)v);
    return s ? s : "unknown";
}

/* Anything not listed is "absent", as NTLM_LM_ABSENT is. */
static const struct tok ntlm_lm_kind_names[] = {
    {NTLM_LM_ABSENT, "absent"}, {NTLM_LM_ZERO, "zero"}, {NTLM_LM_LMV2, "lmv2"},
    {NTLM_LM_ESS, "ess"}, {NTLM_LM_NT_COPY, "nt-copy"}, {NTLM_LM_LM, "lm"},
    {0, NULL},
};

const char *ntlm_lm_kind_name(enum ntlm_lm_kind k)
{
    const char *s = tok_name(ntlm_lm_kind_names, (uint32_t)k);
    return s ? s : "absent";
}

const char *ntlm_key_source(enum ntlm_version v, uint32_t flags)
{
    switch (v) {
    case NTLM_VER_NTLMV2: return "ntlmv2";
    case NTLM_VER_LM: return "lm";
    case NTLM_VER_NTLMV1_ESS: return "ntlmv1_ess";
    case NTLM_VER_NTLMV1:
        if (flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY)
            return "ntlmv1_ess";
        if (flags & NTLMSSP_NEGOTIATE_LM_KEY)
            return "lm_key";
        if (flags & NTLMSSP_REQUEST_NON_NT_SESSION_KEY)
            return "non_nt_session_key";
        return "ntlmv1";
    default: return NULL;
    }
}

int ntlm_responses(enum ntlm_version v, enum ntlm_lm_kind k, const char *out[2])
{
    int n = 0;
    switch (v) {
    case NTLM_VER_ANONYMOUS: out[n++] = "anonymous"; break;
    case NTLM_VER_LM: out[n++] = "lm"; break;
    case NTLM_VER_NTLMV1:
        if (k == NTLM_LM_LM)
            out[n++] = "lm";
        out[n++] = "ntlmv1";
        break;
    case NTLM_VER_NTLMV1_ESS: out[n++] = "ntlmv1_ess"; break;
    case NTLM_VER_NTLMV2:
        if (k == NTLM_LM_LMV2)
            out[n++] = "lmv2";
        out[n++] = "ntlmv2";
        break;
    default: break;
    }
    return n;
}

/* A payload field located by its descriptor; ptr is NULL when len is 0. */
struct field {
    const uint8_t *ptr;
    uint16_t len;
    uint32_t off;
};

/* Reads an 8-byte descriptor and checks it against the message (n bytes at msg). */
static bool read_field(struct rd *r, const uint8_t *msg, size_t n, struct field *f)
{
    f->len = rd_u16le(r);
    (void)rd_u16le(r); /* MaxLen: informational, MS-NLMP says SHOULD equal Len */
    f->off = rd_u32le(r);
    f->ptr = NULL;
    if (r->err)
        return false;
    if (f->len == 0)
        return true; /* offsets of empty fields are not meaningful; some clients leave junk */
    if (!range_ok(n, f->off, f->len))
        return false;
    f->ptr = msg + f->off;
    return true;
}

/* Converts a name field per the Unicode/OEM negotiation; sets *trunc if it was cut. */
static void field_str(const struct field *f, bool unicode, char *out, bool *trunc)
{
    bool whole = unicode ? utf16le_to_utf8(f->ptr, f->len, out, NTLM_NAME_MAX)
                         : oem_to_utf8(f->ptr, f->len, out, NTLM_NAME_MAX);
    if (!whole)
        *trunc = true;
}

/* Lowest offset of the non-empty fields, i.e. where the Payload starts (n if none). */
static uint32_t payload_start(const struct field *fs, size_t k, size_t n)
{
    uint32_t lo = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    for (size_t i = 0; i < k; i++)
        if (fs[i].len && fs[i].off < lo)
            lo = fs[i].off;
    return lo;
}

/* Reads the 8-byte VERSION structure (2.2.2.10) at off when flagged and before the payload. */
static void read_version(const uint8_t *p, size_t n, size_t off, uint32_t payload, uint32_t flags,
                         struct ntlm_version_info *v)
{
    v->present = false;
    if (!(flags & NTLMSSP_NEGOTIATE_VERSION) || n < off + 8 || payload < off + 8)
        return;
    v->present = true;
    v->major = p[off];
    v->minor = p[off + 1];
    v->build = ld_u16le(p + off + 2);
    v->ntlm_revision = p[off + 7];
}

/* Walks an AV_PAIR list (2.2.2.1), calling into m for the ids it knows. Always Unicode. */
static bool parse_av_pairs(const uint8_t *p, size_t n, struct ntlm_msg *m, bool in_auth)
{
    struct rd r = rd_make(p, n);
    while (rd_left(&r) > 0) {
        uint16_t id = rd_u16le(&r);
        uint16_t len = rd_u16le(&r);
        const uint8_t *v = rd_bytes(&r, len);
        if (r.err)
            return false;
        char *dst = NULL;
        switch (id) {
        case MsvAvEOL:
            return true;
        case MsvAvNbComputerName: dst = in_auth ? NULL : m->nb_computer; break;
        case MsvAvNbDomainName: dst = in_auth ? NULL : m->nb_domain; break;
        case MsvAvDnsComputerName: dst = in_auth ? NULL : m->dns_computer; break;
        case MsvAvDnsDomainName: dst = in_auth ? NULL : m->dns_domain; break;
        case MsvAvDnsTreeName: dst = in_auth ? NULL : m->dns_tree; break;
        case MsvAvTargetName: dst = in_auth ? m->spn : NULL; break;
        case MsvAvFlags:
            if (len >= 4)
                m->av_flags = ld_u32le(v);
            break;
        case MsvAvTimestamp:
            m->has_timestamp = true;
            break;
        case MsvAvChannelBindings: {
            static const uint8_t zero[16];
            m->channel_bindings = len == 16 && memcmp(v, zero, 16) != 0;
            break;
        }
        default:
            break;
        }
        if (dst && !utf16le_to_utf8(v, len, dst, NTLM_NAME_MAX))
            m->truncated = true;
    }
    /* A list without MsvAvEOL: tolerated (Wireshark does too), the pairs read are kept. */
    return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

enum ntlm_version ntlm_classify(const uint8_t *lm, size_t lm_len, const uint8_t *nt, size_t nt_len,
                                uint32_t flags, bool user_empty, enum ntlm_lm_kind *lm_kind)
{
    enum ntlm_version v;
    enum ntlm_lm_kind k;

    /* Refined below by the NT response's kind; an odd-sized non-zero field stays "lm". */
    if (lm_len == 0)
        k = NTLM_LM_ABSENT;
    else if (all_zero(lm, lm_len))
        k = NTLM_LM_ZERO;
    else
        k = NTLM_LM_LM;

    if (nt_len == 0 && user_empty && k != NTLM_LM_LM) {
        /* 3.2.5.1.2: empty UserName, empty NtChallengeResponse, LmChallengeResponse Z(1) or empty */
        v = NTLM_VER_ANONYMOUS;
    } else if (nt_len > 24) {
        /* 3.3.2: NTProofStr + NTLMv2_CLIENT_CHALLENGE; LM is LMv2, or Z(24) with MsvAvTimestamp */
        v = NTLM_VER_NTLMV2;
        if (lm_len == 24 && k != NTLM_LM_ZERO)
            k = NTLM_LM_LMV2;
    } else if (nt_len == 24) {
        if (flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
            /* 3.3.1: with ESS the LM field is ClientChallenge || Z(16) */
            v = NTLM_VER_NTLMV1_ESS;
            if (lm_len == 24 && k != NTLM_LM_ZERO)
                k = all_zero(lm + 8, 16) ? NTLM_LM_ESS : NTLM_LM_LM;
        } else {
            /* 3.3.1: with NoLMResponseNTLMv1 the LM field repeats the NT response */
            v = NTLM_VER_NTLMV1;
            if (lm_len == 24 && k != NTLM_LM_ZERO)
                k = memcmp(lm, nt, 24) == 0 ? NTLM_LM_NT_COPY : NTLM_LM_LM;
        }
    } else if (nt_len == 0 && k != NTLM_LM_LM) {
        v = NTLM_VER_EMPTY;
    } else if (nt_len == 0 && lm_len == 24) {
        v = NTLM_VER_LM; /* k is NTLM_LM_LM: an all-zero field was taken by the branch above */
    } else {
        v = NTLM_VER_UNKNOWN; /* NT response of 1-23 bytes, or LM-only of a length other than 24 */
    }
    if (lm_kind)
        *lm_kind = k;
    return v;
}

static enum ntlm_err parse_negotiate(const uint8_t *p, size_t n, struct rd *r, struct ntlm_msg *m)
{
    m->flags = rd_u32le(r);
    if (r->err)
        return NTLM_ERR_SHORT;
    if (n < 32)
        return NTLM_OK; /* early clients sent flags only */
    struct field f[2];
    if (!read_field(r, p, n, &f[0]) || !read_field(r, p, n, &f[1]))
        return NTLM_ERR_FIELD;
    read_version(p, n, 32, payload_start(f, 2, n), m->flags, &m->version);
    /* DomainNameFields / WorkstationFields are OEM (2.2.1.1), and only meaningful when supplied. */
    if (m->flags & NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED)
        field_str(&f[0], false, m->domain, &m->truncated);
    if (m->flags & NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED)
        field_str(&f[1], false, m->workstation, &m->truncated);
    return NTLM_OK;
}

static enum ntlm_err parse_challenge(const uint8_t *p, size_t n, struct rd *r, struct ntlm_msg *m)
{
    struct field tn, ti = {NULL, 0, 0};
    if (n < 32)
        return NTLM_ERR_SHORT;
    if (!read_field(r, p, n, &tn))
        return NTLM_ERR_FIELD;
    m->flags = rd_u32le(r);
    const uint8_t *ch = rd_bytes(r, 8);
    if (r->err)
        return NTLM_ERR_SHORT;
    memcpy(m->server_challenge, ch, 8);
    rd_skip(r, 8); /* Reserved */
    if (n >= 48 && !read_field(r, p, n, &ti))
        return NTLM_ERR_FIELD;
    struct field both[2] = {tn, ti};
    read_version(p, n, 48, payload_start(both, 2, n), m->flags, &m->version);
    field_str(&tn, (m->flags & NTLMSSP_NEGOTIATE_UNICODE) != 0, m->target_name, &m->truncated);
    if (ti.len && !parse_av_pairs(ti.ptr, ti.len, m, false))
        return NTLM_ERR_AVPAIR;
    return NTLM_OK;
}

/*
 * MS-NLMP 2.2.1.3: the fields' bytes lie in the Payload, after the fixed part of the message (64 bytes; 52 in
 * the old layout without NegotiateFlags), and no two share bytes. A field that breaks this is dropped (its
 * length set to 0) and counted in m->bad_fields: a name that overlaps a response or key is dropped, not the
 * response (so a crafted DomainName cannot print an NTProofStr); two responses or two names that overlap
 * are both dropped. The one sharing allowed is LmChallengeResponse and NtChallengeResponse as the very same
 * bytes (same offset and length), which a client may do where the LM field repeats the NT response.
 * Zero-length fields are never checked: their offsets mean nothing. f: Lm, Nt, Domain, User, Workstation,
 * EncryptedRandomSessionKey.
 */
static void check_fields(struct field *f, size_t k, uint32_t header_end, struct ntlm_msg *m)
{
    bool drop[6] = {false};
    for (size_t i = 0; i < k; i++)
        if (f[i].len && f[i].off < header_end)
            drop[i] = true;
    for (size_t i = 0; i < k; i++) {
        for (size_t j = i + 1; j < k; j++) {
            if (!f[i].len || !f[j].len)
                continue;
            uint64_t ai = f[i].off, bi = ai + f[i].len, aj = f[j].off, bj = aj + f[j].len;
            if (!(ai < bj && aj < bi))
                continue;
            if (i == 0 && j == 1 && ai == aj && bi == bj)
                continue; /* LM = NT, the same bytes */
            bool name_i = i >= 2 && i <= 4, name_j = j >= 2 && j <= 4;
            if (name_i && !name_j)
                drop[i] = true;
            else if (name_j && !name_i)
                drop[j] = true;
            else
                drop[i] = drop[j] = true;
        }
    }
    for (size_t i = 0; i < k; i++)
        if (drop[i]) {
            f[i].len = 0;
            f[i].ptr = NULL;
            m->bad_fields++;
        }
}

static enum ntlm_err parse_authenticate(const uint8_t *p, size_t n, struct rd *r, struct ntlm_msg *m)
{
    struct field f[6] = {{0}}; /* Lm, Nt, Domain, User, Workstation, EncryptedRandomSessionKey */
    if (n < 52)
        return NTLM_ERR_SHORT;
    for (int i = 0; i < 5; i++)
        if (!read_field(r, p, n, &f[i]))
            return NTLM_ERR_FIELD;
    if (n >= 64) {
        if (!read_field(r, p, n, &f[5]))
            return NTLM_ERR_FIELD;
        m->flags = rd_u32le(r);
    } else {
        m->flags = NTLMSSP_NEGOTIATE_UNICODE; /* pre-NT4 layout without flags: Unicode by default */
    }
    check_fields(f, 6, n >= 64 ? 64 : 52, m);
    read_version(p, n, 64, payload_start(f, 6, n), m->flags, &m->version);
    bool uni = (m->flags & NTLMSSP_NEGOTIATE_UNICODE) != 0;
    for (int i = 2; i <= 4; i++)
        if (uni && (f[i].len & 1))
            m->odd_utf16++; /* UTF-16 is 2 bytes a unit: the last byte is not part of the name */
    field_str(&f[2], uni, m->domain, &m->truncated);
    field_str(&f[3], uni, m->user, &m->truncated);
    field_str(&f[4], uni, m->workstation, &m->truncated);
    m->lm_len = f[0].len;
    m->nt_len = f[1].len;
    m->session_key_len = f[5].len;
    m->lm_off = f[0].off;
    m->nt_off = f[1].off;
    m->session_key_off = f[5].off;
    m->payload_off = payload_start(f, 6, n);
    m->ntlm_version = ntlm_classify(f[0].ptr, f[0].len, f[1].ptr, f[1].len, m->flags, m->user[0] == '\0',
                                    &m->lm_kind);
    if (m->ntlm_version == NTLM_VER_NTLMV2 && f[1].len > 44) {
        /* NTLMv2_RESPONSE (2.2.2.8): NTProofStr(16), then NTLMv2_CLIENT_CHALLENGE (2.2.2.7) whose
         * AvPairs start 28 bytes in. */
        if (!parse_av_pairs(f[1].ptr + 44, f[1].len - 44u, m, true))
            return NTLM_ERR_AVPAIR;
        m->mic_present = (m->av_flags & MSV_AV_FLAG_MIC_PRESENT) != 0;
    }
    return NTLM_OK;
}

enum ntlm_err ntlmssp_parse(const uint8_t *p, size_t n, struct ntlm_msg *m)
{
    memset(m, 0, sizeof *m);
    if (n < 12)
        return n >= 8 && !ntlmssp_is(p, n) ? NTLM_ERR_SIGNATURE : NTLM_ERR_SHORT;
    if (!ntlmssp_is(p, n))
        return NTLM_ERR_SIGNATURE;
    struct rd r = rd_make(p, n);
    rd_skip(&r, 8);
    m->type = rd_u32le(&r);
    switch (m->type) {
    case NTLMSSP_NEGOTIATE_MESSAGE: return parse_negotiate(p, n, &r, m);
    case NTLMSSP_CHALLENGE_MESSAGE: return parse_challenge(p, n, &r, m);
    case NTLMSSP_AUTHENTICATE_MESSAGE: return parse_authenticate(p, n, &r, m);
    default: return NTLM_ERR_TYPE;
    }
}
