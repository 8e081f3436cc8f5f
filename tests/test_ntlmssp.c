/*
 * Unit tests for dissectors/ntlmssp.c: NTLMSSP NEGOTIATE / CHALLENGE / AUTHENTICATE parsing
 * (MS-NLMP 2.2.1, 2.2.2) and the classification of the responses (MS-NLMP 3.3, 3.2.5.1.2), both
 * inside an AUTHENTICATE and through ntlm_classify directly. Messages are laid out by hand here:
 * the fixed header, 8-byte field descriptors (Len u16, MaxLen u16, Offset u32, little-endian) and
 * a payload whose fields may be placed in any order. Two real messages from /work/shared/captures/lab/smb2_ntlmv2_ok.pcap (frames 9 and
 * 10) are embedded and checked against what tshark 4.0 decodes for them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ntlmssp.h"

#define MSG_CAP 8192

/* ---- byte layout helpers ------------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A field descriptor (MS-NLMP 2.2.1.x "...Fields"): Len, MaxLen, BufferOffset. */
static void put_desc(uint8_t *d, uint16_t len, uint16_t maxlen, uint32_t off)
{
    put16(d, len);
    put16(d + 2, maxlen);
    put32(d + 4, off);
}

/* A byte string to place in a payload. */
struct blob {
    const uint8_t *p;
    size_t n;
};

#define BLOB(a) ((struct blob){(const uint8_t *)(a), sizeof(a)})
#define NOBLOB ((struct blob){NULL, 0})

/* ASCII text as UTF-16LE into out; returns the blob over it. */
static struct blob u16(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; *s; s++) {
        out[n++] = (uint8_t)*s;
        out[n++] = 0;
    }
    return (struct blob){out, n};
}

/* ASCII / 8-bit text as OEM bytes (no terminator). */
static struct blob oem(const char *s)
{
    return (struct blob){(const uint8_t *)s, strlen(s)};
}

/* A message under construction: fixed header of hdr bytes, payload appended after it. */
struct layout {
    uint8_t *msg;
    size_t len;
};

static void lay_init(struct layout *l, uint8_t *buf, uint32_t type, size_t hdr)
{
    memset(buf, 0, MSG_CAP);
    memcpy(buf, "NTLMSSP", 8); /* with its NUL */
    put32(buf + 8, type);
    l->msg = buf;
    l->len = hdr;
}

/* Appends b to the payload and points the descriptor at desc_off to it. */
static void lay_field(struct layout *l, size_t desc_off, struct blob b)
{
    assert_true(l->len + b.n <= MSG_CAP);
    put_desc(l->msg + desc_off, (uint16_t)b.n, (uint16_t)b.n, (uint32_t)l->len);
    if (b.n)
        memcpy(l->msg + l->len, b.p, b.n);
    l->len += b.n;
}

/* VERSION (2.2.2.10): major, minor, build, Reserved(3), NTLMRevisionCurrent. */
static void put_version(uint8_t *v, uint8_t major, uint8_t minor, uint16_t build, uint8_t rev)
{
    v[0] = major;
    v[1] = minor;
    put16(v + 2, build);
    v[4] = v[5] = v[6] = 0;
    v[7] = rev;
}

/* ---- NEGOTIATE (2.2.1.1) ------------------------------------------------------------------ */

/* 0 sig | 8 type | 12 flags | 16 DomainNameFields | 24 WorkstationFields | 32 Version | 40 payload */
static size_t build_negotiate(uint8_t *buf, uint32_t flags, struct blob dom, struct blob ws, bool version)
{
    struct layout l;
    lay_init(&l, buf, NTLMSSP_NEGOTIATE_MESSAGE, version ? 40 : 32);
    put32(buf + 12, flags);
    if (version)
        put_version(buf + 32, 10, 0, 19041, 15);
    lay_field(&l, 16, dom);
    lay_field(&l, 24, ws);
    return l.len;
}

/* ---- CHALLENGE (2.2.1.2) ------------------------------------------------------------------ */

static const uint8_t server_chal[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

/*
 * 0 sig | 8 type | 12 TargetNameFields | 20 flags | 24 ServerChallenge | 32 Reserved |
 * 40 TargetInfoFields | 48 Version | 56 payload. ti_first puts TargetInfo before TargetName.
 */
static size_t build_challenge(uint8_t *buf, uint32_t flags, struct blob target, struct blob ti,
                              bool ti_first)
{
    struct layout l;
    lay_init(&l, buf, NTLMSSP_CHALLENGE_MESSAGE, 56);
    put32(buf + 20, flags);
    memcpy(buf + 24, server_chal, 8);
    put_version(buf + 48, 10, 0, 20348, 15);
    if (ti_first) {
        lay_field(&l, 40, ti);
        lay_field(&l, 12, target);
    } else {
        lay_field(&l, 12, target);
        lay_field(&l, 40, ti);
    }
    return l.len;
}

/* ---- AV_PAIR lists (2.2.2.1) -------------------------------------------------------------- */

static size_t av_put(uint8_t *buf, size_t n, uint16_t id, const void *v, uint16_t len)
{
    put16(buf + n, id);
    put16(buf + n + 2, len);
    if (len)
        memcpy(buf + n + 4, v, len);
    return n + 4 + len;
}

/* An AV pair whose value is ASCII text as UTF-16LE. */
static size_t av_put_str(uint8_t *buf, size_t n, uint16_t id, const char *s)
{
    uint8_t tmp[1024];
    struct blob b = u16(s, tmp);
    return av_put(buf, n, id, b.p, (uint16_t)b.n);
}

static size_t av_put_u32(uint8_t *buf, size_t n, uint16_t id, uint32_t v)
{
    uint8_t le[4];
    put32(le, v);
    return av_put(buf, n, id, le, 4);
}

static size_t av_eol(uint8_t *buf, size_t n)
{
    return av_put(buf, n, MsvAvEOL, NULL, 0);
}

/* ---- AUTHENTICATE (2.2.1.3) --------------------------------------------------------------- */

/*
 * 0 sig | 8 type | 12 Lm | 20 Nt | 28 Domain | 36 User | 44 Workstation |
 * 52 EncryptedRandomSessionKey | 60 flags | 64 Version | 72 MIC | 88 payload (64 without Version)
 */
enum { F_LM, F_NT, F_DOM, F_USER, F_WS, F_KEY, F_COUNT };
static const size_t auth_desc[F_COUNT] = {12, 20, 28, 36, 44, 52};
static const uint8_t order_ascending[F_COUNT] = {F_LM, F_NT, F_DOM, F_USER, F_WS, F_KEY};

struct auth_spec {
    struct blob f[F_COUNT];
    uint32_t flags;
    bool version;          /* lay out VERSION and a MIC before the payload */
    const uint8_t *order;  /* placement of the payload fields; NULL = ascending */
};

static size_t build_auth(const struct auth_spec *s, uint8_t *buf)
{
    struct layout l;
    lay_init(&l, buf, NTLMSSP_AUTHENTICATE_MESSAGE, s->version ? 88 : 64);
    put32(buf + 60, s->flags);
    if (s->version) {
        put_version(buf + 64, 10, 0, 19041, 15);
        memset(buf + 72, 0x4d, 16); /* MIC */
    }
    const uint8_t *order = s->order ? s->order : order_ascending;
    for (size_t i = 0; i < F_COUNT; i++)
        lay_field(&l, auth_desc[order[i]], s->f[order[i]]);
    return l.len;
}

/* NTLMv2_RESPONSE (2.2.2.8): NTProofStr(16) + NTLMv2_CLIENT_CHALLENGE (2.2.2.7) + Z(4). */
static const uint8_t client_chal[8] = {0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8};

static size_t build_ntlmv2_response(uint8_t *out, const uint8_t *av, size_t av_len)
{
    size_t n = 0;
    for (int i = 0; i < 16; i++)
        out[n++] = (uint8_t)(0xa0 + i); /* NTProofStr */
    out[n++] = 1;                       /* RespType */
    out[n++] = 1;                       /* HiRespType */
    memset(out + n, 0, 6);              /* Reserved1 (2), Reserved2 (4) */
    n += 6;
    static const uint8_t ts[8] = {0x82, 0xe3, 0xcf, 0xca, 0x0a, 0x7a, 0xdd, 0x01};
    memcpy(out + n, ts, 8);             /* TimeStamp */
    n += 8;
    memcpy(out + n, client_chal, 8);    /* ChallengeFromClient */
    n += 8;
    memset(out + n, 0, 4);              /* Reserved3 */
    n += 4;
    memcpy(out + n, av, av_len);        /* AvPairs */
    n += av_len;
    memset(out + n, 0, 4);              /* trailing Z(4) as Windows sends */
    return n + 4;
}

/* A typical Windows 10 client's NTLMv2 AvPairs. */
static size_t typical_v2_avpairs(uint8_t *av, uint32_t av_flags, const char *spn, bool cb_nonzero)
{
    size_t n = 0;
    n = av_put_str(av, n, MsvAvNbDomainName, "HOPLAB");
    n = av_put_str(av, n, MsvAvNbComputerName, "DC1");
    n = av_put_str(av, n, MsvAvDnsDomainName, "hoplab.test");
    static const uint8_t ts[8] = {0x82, 0xe3, 0xcf, 0xca, 0x0a, 0x7a, 0xdd, 0x01};
    n = av_put(av, n, MsvAvTimestamp, ts, 8);
    n = av_put_u32(av, n, MsvAvFlags, av_flags);
    uint8_t single_host[48] = {0x30};
    n = av_put(av, n, MsvAvSingleHost, single_host, sizeof single_host);
    uint8_t cb[16] = {0};
    if (cb_nonzero)
        for (int i = 0; i < 16; i++)
            cb[i] = (uint8_t)(0x11 * (i + 1));
    n = av_put(av, n, MsvAvChannelBindings, cb, 16);
    if (spn)
        n = av_put_str(av, n, MsvAvTargetName, spn);
    return av_eol(av, n);
}

static const uint32_t v2_flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET |
                                 NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_NTLM |
                                 NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
                                 NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |
                                 NTLMSSP_NEGOTIATE_TARGET_INFO | NTLMSSP_NEGOTIATE_VERSION |
                                 NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH;

static const uint8_t lm_z24[24] = {0};
static const uint8_t session_key[16] = {0xe1, 0x47, 0x5e, 0x30, 0xe0, 0x6c, 0xbe, 0x86,
                                        0xdc, 0x7a, 0x6f, 0x01, 0x91, 0x6e, 0x49, 0x7a};

/* Scratch storage for one built NTLMv2 AUTHENTICATE (names and response). */
struct v2_auth {
    uint8_t user[64], dom[64], ws[64];
    uint8_t av[2048];
    uint8_t nt[2600];
    struct auth_spec spec;
};

/* AUTHENTICATE for HOPLAB\alice from WS01 with an NTLMv2 response (MIC flag, SPN, non-zero CB). */
static void v2_auth_init(struct v2_auth *a)
{
    memset(a, 0, sizeof *a);
    size_t avn = typical_v2_avpairs(a->av, MSV_AV_FLAG_MIC_PRESENT, "cifs/host", true);
    size_t ntn = build_ntlmv2_response(a->nt, a->av, avn);
    a->spec.f[F_LM] = BLOB(lm_z24);
    a->spec.f[F_NT] = (struct blob){a->nt, ntn};
    a->spec.f[F_DOM] = u16("HOPLAB", a->dom);
    a->spec.f[F_USER] = u16("alice", a->user);
    a->spec.f[F_WS] = u16("WS01", a->ws);
    a->spec.f[F_KEY] = BLOB(session_key);
    a->spec.flags = v2_flags;
    a->spec.version = true;
}

/* Parses buf[n] as a heap copy of exactly n bytes, so ASan sees any read past the end. */
static enum ntlm_err parse_exact(const uint8_t *buf, size_t n, struct ntlm_msg *m)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, buf, n);
    enum ntlm_err rc = ntlmssp_parse(copy, n, m);
    free(copy);
    return rc;
}

/* ---- NEGOTIATE ---------------------------------------------------------------------------- */

static void test_ntlmssp_negotiate_oem_names_flags_and_version(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    const uint32_t flags = NTLMSSP_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM | NTLMSSP_REQUEST_TARGET |
                           NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED |
                           NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED | NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
                           NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_VERSION |
                           NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56;
    size_t n = build_negotiate(buf, flags, oem("HOPLAB"), oem("WS01"), true);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.type, NTLMSSP_NEGOTIATE_MESSAGE);
    assert_int_equal(m.flags, flags);
    /* NEGOTIATE names are OEM even when Unicode is offered (2.2.1.1). */
    assert_string_equal(m.domain, "HOPLAB");
    assert_string_equal(m.workstation, "WS01");
    assert_string_equal(m.user, "");
    assert_false(m.truncated);
    assert_true(m.version.present);
    assert_int_equal(m.version.major, 10);
    assert_int_equal(m.version.minor, 0);
    assert_int_equal(m.version.build, 19041);
    assert_int_equal(m.version.ntlm_revision, 15);
}

static void test_ntlmssp_negotiate_names_ignored_unless_supplied(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    /* Names laid out but the *_SUPPLIED flags and VERSION flag clear. */
    const uint32_t flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_NTLM;
    size_t n = build_negotiate(buf, flags, oem("HOPLAB"), oem("WS01"), true);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.flags, flags);
    assert_string_equal(m.domain, "");
    assert_string_equal(m.workstation, "");
    assert_false(m.version.present);
}

static void test_ntlmssp_negotiate_flags_only_form(void **state)
{
    (void)state;
    /* Early clients sent only signature, type and flags (16 bytes). */
    uint8_t buf[16] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0, 0x07, 0x82, 0x08, 0xa2};
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, sizeof buf, &m), NTLM_OK);
    assert_int_equal(m.type, NTLMSSP_NEGOTIATE_MESSAGE);
    assert_int_equal(m.flags, 0xa2088207u);
    assert_string_equal(m.domain, "");
    assert_false(m.version.present);
    /* Fewer than 16 bytes cannot hold the flags. */
    assert_int_equal(parse_exact(buf, 15, &m), NTLM_ERR_SHORT);
}

static void test_ntlmssp_negotiate_every_prefix_is_safe(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    const uint32_t flags = NTLMSSP_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM |
                           NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED |
                           NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED | NTLMSSP_NEGOTIATE_VERSION;
    size_t n = build_negotiate(buf, flags, oem("HOPLAB"), oem("WS01"), true);
    for (size_t k = 0; k < n; k++) {
        struct ntlm_msg m;
        enum ntlm_err rc = parse_exact(buf, k, &m);
        if (k < 16)
            assert_int_equal(rc, NTLM_ERR_SHORT);
        else if (k < 32)
            assert_int_equal(rc, NTLM_OK); /* the flags-only form */
        else
            assert_int_equal(rc, NTLM_ERR_FIELD); /* the workstation field ends at n */
    }
}

/* ---- CHALLENGE ---------------------------------------------------------------------------- */

static const uint32_t chal_flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET |
                                   NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
                                   NTLMSSP_TARGET_TYPE_DOMAIN |
                                   NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |
                                   NTLMSSP_NEGOTIATE_TARGET_INFO | NTLMSSP_NEGOTIATE_VERSION |
                                   NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH;

static size_t typical_target_info(uint8_t *ti)
{
    size_t n = 0;
    n = av_put_str(ti, n, MsvAvNbDomainName, "HOPLAB");
    n = av_put_str(ti, n, MsvAvNbComputerName, "DC1");
    n = av_put_str(ti, n, MsvAvDnsDomainName, "hoplab.test");
    n = av_put_str(ti, n, MsvAvDnsComputerName, "dc1.hoplab.test");
    n = av_put_str(ti, n, MsvAvDnsTreeName, "forest.test");
    static const uint8_t ts[8] = {0x82, 0xe3, 0xcf, 0xca, 0x0a, 0x7a, 0xdd, 0x01};
    n = av_put(ti, n, MsvAvTimestamp, ts, 8);
    return av_eol(ti, n);
}

static void test_ntlmssp_challenge_target_info_av_pairs(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP], ti[512], tn[64];
    size_t tin = typical_target_info(ti);
    /* TargetInfo laid out before TargetName: payload order is free. */
    size_t n = build_challenge(buf, chal_flags, u16("HOPLAB", tn), (struct blob){ti, tin}, true);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.type, NTLMSSP_CHALLENGE_MESSAGE);
    assert_int_equal(m.flags, chal_flags);
    assert_memory_equal(m.server_challenge, server_chal, 8);
    assert_string_equal(m.target_name, "HOPLAB");
    assert_string_equal(m.nb_domain, "HOPLAB");
    assert_string_equal(m.nb_computer, "DC1");
    assert_string_equal(m.dns_domain, "hoplab.test");
    assert_string_equal(m.dns_computer, "dc1.hoplab.test");
    assert_string_equal(m.dns_tree, "forest.test");
    assert_true(m.has_timestamp);
    assert_false(m.truncated);
    assert_true(m.version.present);
    assert_int_equal(m.version.major, 10);
    assert_int_equal(m.version.minor, 0);
    assert_int_equal(m.version.build, 20348);
    assert_int_equal(m.version.ntlm_revision, 15);
}

static void test_ntlmssp_challenge_oem_target_name(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    /* Without NEGOTIATE_UNICODE the TargetName is OEM; bytes >= 0x80 are read as Latin-1. */
    const uint32_t flags = NTLM_NEGOTIATE_OEM | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_NTLM;
    size_t n = build_challenge(buf, flags, oem("J\xfcrgen"), NOBLOB, false);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.flags, flags);
    assert_string_equal(m.target_name, "J\xc3\xbcrgen");
    assert_string_equal(m.nb_computer, "");
    assert_false(m.has_timestamp);
    assert_false(m.version.present);
}

static void test_ntlmssp_challenge_avpair_past_field_is_error(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP], ti[64], tn[64];
    size_t tin = av_put_str(ti, 0, MsvAvNbComputerName, "DC1");
    put16(ti + 2, 100); /* claims 100 bytes, the field has 6 */
    tin = av_eol(ti, tin);
    size_t n = build_challenge(buf, chal_flags, u16("HOPLAB", tn), (struct blob){ti, tin}, false);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_AVPAIR);

    /* A list cut inside an AV_PAIR header (2 of its 4 bytes) is also malformed. */
    size_t t2 = av_put_str(ti, 0, MsvAvNbComputerName, "DC1");
    put16(ti + t2, MsvAvNbDomainName);
    t2 += 2;
    n = build_challenge(buf, chal_flags, u16("HOPLAB", tn), (struct blob){ti, t2}, false);
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_AVPAIR);
}

static void test_ntlmssp_challenge_avpair_list_without_eol_keeps_pairs(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP], ti[64], tn[64];
    size_t tin = av_put_str(ti, 0, MsvAvNbComputerName, "DC1");
    tin = av_put_str(ti, tin, MsvAvNbDomainName, "HOPLAB");
    size_t n = build_challenge(buf, chal_flags, u16("HOPLAB", tn), (struct blob){ti, tin}, false);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_string_equal(m.nb_computer, "DC1");
    assert_string_equal(m.nb_domain, "HOPLAB");
}

static void test_ntlmssp_challenge_every_prefix_is_safe(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP], ti[512], tn[64];
    size_t tin = typical_target_info(ti);
    size_t n = build_challenge(buf, chal_flags, u16("HOPLAB", tn), (struct blob){ti, tin}, false);
    for (size_t k = 0; k < n; k++) {
        struct ntlm_msg m;
        enum ntlm_err rc = parse_exact(buf, k, &m);
        if (k < 32)
            assert_int_equal(rc, NTLM_ERR_SHORT);
        else
            assert_int_equal(rc, NTLM_ERR_FIELD); /* TargetName at 56, TargetInfo ends at n */
    }
}

/* ---- AUTHENTICATE: names ------------------------------------------------------------------ */

static void test_ntlmssp_auth_unicode_names_non_ascii_and_surrogates(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    /* "Jürgen": U+00FC is 0xFC 0x00 in UTF-16LE. */
    static const uint8_t juergen[] = {'J', 0, 0xfc, 0, 'r', 0, 'g', 0, 'e', 0, 'n', 0};
    /* "PC" + U+1F600 (surrogate pair D83D DE00) + "1". */
    static const uint8_t ws[] = {'P', 0, 'C', 0, 0x3d, 0xd8, 0x00, 0xde, '1', 0};
    /* "Ωmega" (U+03A9) for the domain. */
    static const uint8_t dom[] = {0xa9, 0x03, 'm', 0, 'e', 0, 'g', 0, 'a', 0};
    a.spec.f[F_USER] = BLOB(juergen);
    a.spec.f[F_WS] = BLOB(ws);
    a.spec.f[F_DOM] = BLOB(dom);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_string_equal(m.user, "J\xc3\xbcrgen");
    assert_string_equal(m.workstation, "PC\xf0\x9f\x98\x80" "1");
    assert_string_equal(m.domain, "\xce\xa9mega");
    assert_false(m.truncated);
}

static void test_ntlmssp_auth_oem_names_when_unicode_not_negotiated(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    a.spec.flags = (v2_flags & ~NTLMSSP_NEGOTIATE_UNICODE) | NTLM_NEGOTIATE_OEM;
    a.spec.f[F_USER] = oem("J\xfcrgen");
    a.spec.f[F_DOM] = oem("HOPLAB");
    a.spec.f[F_WS] = oem("WS01");
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.flags & NTLMSSP_NEGOTIATE_UNICODE, 0);
    assert_string_equal(m.user, "J\xc3\xbcrgen");
    assert_string_equal(m.domain, "HOPLAB");
    assert_string_equal(m.workstation, "WS01");
    /* The NTLMv2 AV pairs stay Unicode regardless (2.2.2.1). */
    assert_string_equal(m.spn, "cifs/host");
}

static void test_ntlmssp_auth_long_names_truncated_at_name_max(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    /* 300 ASCII characters: 600 bytes of UTF-16LE. */
    static uint8_t longuser[600];
    for (size_t i = 0; i < 300; i++) {
        longuser[2 * i] = (uint8_t)('a' + i % 26);
        longuser[2 * i + 1] = 0;
    }
    a.spec.f[F_USER] = BLOB(longuser);
    /* 200 x U+00FC: 400 bytes of UTF-8, must be cut between characters. */
    static uint8_t longdom[400];
    for (size_t i = 0; i < 200; i++) {
        longdom[2 * i] = 0xfc;
        longdom[2 * i + 1] = 0;
    }
    a.spec.f[F_DOM] = BLOB(longdom);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_true(m.truncated);
    assert_int_equal(strlen(m.user), NTLM_NAME_MAX - 1);
    for (size_t i = 0; i < NTLM_NAME_MAX - 1; i++)
        assert_int_equal(m.user[i], 'a' + i % 26);
    /* 127 two-byte characters fit in 255 bytes; no half character is left. */
    assert_int_equal(strlen(m.domain), 254);
    for (size_t i = 0; i < 254; i += 2) {
        assert_int_equal((uint8_t)m.domain[i], 0xc3);
        assert_int_equal((uint8_t)m.domain[i + 1], 0xbc);
    }
    assert_string_equal(m.workstation, "WS01");
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV2);
}

static void test_ntlmssp_auth_name_of_exactly_max_minus_one_not_truncated(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    static uint8_t user[2 * (NTLM_NAME_MAX - 1)];
    for (size_t i = 0; i < NTLM_NAME_MAX - 1; i++) {
        user[2 * i] = 'x';
        user[2 * i + 1] = 0;
    }
    a.spec.f[F_USER] = BLOB(user);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_false(m.truncated);
    assert_int_equal(strlen(m.user), NTLM_NAME_MAX - 1);
}

static void test_ntlmssp_auth_long_spn_truncated(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    char spn[400];
    memcpy(spn, "cifs/", 5);
    memset(spn + 5, 'h', sizeof spn - 6);
    spn[sizeof spn - 1] = '\0';
    size_t avn = typical_v2_avpairs(a.av, MSV_AV_FLAG_MIC_PRESENT, spn, true);
    a.spec.f[F_NT] = (struct blob){a.nt, build_ntlmv2_response(a.nt, a.av, avn)};
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_true(m.truncated);
    assert_int_equal(strlen(m.spn), NTLM_NAME_MAX - 1);
    assert_memory_equal(m.spn, "cifs/hhh", 8);
    assert_true(m.mic_present);
}

/* ---- AUTHENTICATE: response classification (MS-NLMP 3.3) --------------------------------- */

static const uint8_t nt24[24] = {0x25, 0xa9, 0x8c, 0x1c, 0x31, 0xe8, 0x18, 0x47, 0x46, 0x6b, 0x29, 0xb2,
                                 0xdf, 0x46, 0x80, 0xf3, 0x99, 0x58, 0xfb, 0x8c, 0x21, 0x3a, 0x9c, 0xc6};
static const uint8_t lm24[24] = {0x98, 0xde, 0xf7, 0xb8, 0x7f, 0x88, 0xaa, 0x5d, 0xaf, 0xe2, 0xdf, 0x77,
                                 0x96, 0x88, 0xa1, 0x72, 0xde, 0xf1, 0x1c, 0x7d, 0x5c, 0xcd, 0xef, 0x13};
/* NTLMv1-ESS LM field: 8-byte client challenge then Z(16). */
static const uint8_t lm_ess[24] = {0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8};
static const uint8_t lm_z1[1] = {0};

static const uint32_t v1_flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET |
                                 NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_ALWAYS_SIGN;

/* An AUTHENTICATE with the given responses, user "alice", domain HOPLAB, workstation WS01. */
static size_t build_simple_auth(uint8_t *buf, uint32_t flags, struct blob lm, struct blob nt,
                                const char *user)
{
    uint8_t ub[256], db[64], wb[64];
    struct auth_spec s;
    memset(&s, 0, sizeof s);
    s.f[F_LM] = lm;
    s.f[F_NT] = nt;
    s.f[F_DOM] = *user ? u16("HOPLAB", db) : NOBLOB;
    s.f[F_USER] = u16(user, ub);
    s.f[F_WS] = *user ? u16("WS01", wb) : NOBLOB;
    s.f[F_KEY] = NOBLOB;
    s.flags = flags;
    return build_auth(&s, buf);
}

static void test_ntlmssp_auth_anonymous_empty_user_lm_z1(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    const uint32_t flags = v1_flags | NTLMSSP_ANONYMOUS;
    size_t n = build_simple_auth(buf, flags, BLOB(lm_z1), NOBLOB, "");
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.type, NTLMSSP_AUTHENTICATE_MESSAGE);
    assert_int_equal(m.flags, flags);
    assert_string_equal(m.user, "");
    assert_int_equal(m.lm_len, 1);
    assert_int_equal(m.nt_len, 0);
    assert_int_equal(m.ntlm_version, NTLM_VER_ANONYMOUS);
    assert_int_equal(m.lm_kind, NTLM_LM_ZERO);
    assert_string_equal(ntlm_version_name(m.ntlm_version), "anonymous");

    /* LmChallengeResponse empty instead of Z(1): still anonymous (3.2.5.1.2). */
    n = build_simple_auth(buf, flags, NOBLOB, NOBLOB, "");
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.ntlm_version, NTLM_VER_ANONYMOUS);
    assert_int_equal(m.lm_kind, NTLM_LM_ABSENT);
}

static void test_ntlmssp_auth_empty_user_with_real_lm_is_not_anonymous(void **state)
{
    (void)state;
    /* MS-NLMP 3.2.5.1.2: anonymous needs UserName empty, NtChallengeResponse empty AND
     * LmChallengeResponse Z(1) or empty. A 24-byte non-zero LM response is an LM logon. */
    uint8_t buf[MSG_CAP];
    size_t n = build_simple_auth(buf, v1_flags, BLOB(lm24), NOBLOB, "");
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.lm_len, 24);
    assert_int_not_equal(m.ntlm_version, NTLM_VER_ANONYMOUS);
    assert_int_equal(m.ntlm_version, NTLM_VER_LM);
    assert_int_equal(m.lm_kind, NTLM_LM_LM);
}

static void test_ntlmssp_auth_empty_user_without_responses(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    size_t n = build_simple_auth(buf, v1_flags, NOBLOB, NOBLOB, "alice");
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_string_equal(m.user, "alice");
    assert_int_equal(m.ntlm_version, NTLM_VER_EMPTY);
    assert_int_equal(m.lm_kind, NTLM_LM_ABSENT);
    assert_string_equal(ntlm_version_name(m.ntlm_version), "empty");

    n = build_simple_auth(buf, v1_flags, BLOB(lm_z1), NOBLOB, "alice");
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.ntlm_version, NTLM_VER_EMPTY);
    assert_int_equal(m.lm_kind, NTLM_LM_ZERO);
}

static void test_ntlmssp_auth_lm_only(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    size_t n = build_simple_auth(buf, v1_flags, BLOB(lm24), NOBLOB, "alice");
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.lm_len, 24);
    assert_int_equal(m.nt_len, 0);
    assert_int_equal(m.ntlm_version, NTLM_VER_LM);
    assert_int_equal(m.lm_kind, NTLM_LM_LM);
    assert_string_equal(ntlm_version_name(m.ntlm_version), "lm");
}

static void test_ntlmssp_auth_ntlmv1_lm_is_nt_copy(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    size_t n = build_simple_auth(buf, v1_flags, BLOB(nt24), BLOB(nt24), "alice");
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.nt_len, 24);
    assert_int_equal(m.lm_len, 24);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV1);
    assert_int_equal(m.lm_kind, NTLM_LM_NT_COPY);
    assert_string_equal(ntlm_lm_kind_name(m.lm_kind), "nt-copy");
}

static void test_ntlmssp_auth_ntlmv1_with_real_lm(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    size_t n = build_simple_auth(buf, v1_flags, BLOB(lm24), BLOB(nt24), "alice");
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV1);
    assert_int_equal(m.lm_kind, NTLM_LM_LM);
    assert_string_equal(ntlm_version_name(m.ntlm_version), "ntlmv1");
    assert_string_equal(ntlm_lm_kind_name(m.lm_kind), "lm");
}

static void test_ntlmssp_auth_ntlmv1_ess(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    const uint32_t flags = v1_flags | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY;
    size_t n = build_simple_auth(buf, flags, BLOB(lm_ess), BLOB(nt24), "alice");
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV1_ESS);
    assert_int_equal(m.lm_kind, NTLM_LM_ESS);
    assert_string_equal(ntlm_version_name(m.ntlm_version), "ntlmv1-ess");
    assert_string_equal(ntlm_lm_kind_name(m.lm_kind), "ess");
}

static void test_ntlmssp_auth_ess_layout_without_flag_is_plain_ntlmv1(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    size_t n = build_simple_auth(buf, v1_flags, BLOB(lm_ess), BLOB(nt24), "alice");
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV1);
    assert_int_equal(m.lm_kind, NTLM_LM_LM);
}

static void test_ntlmssp_auth_ntlmv2_av_pairs(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.flags, v2_flags);
    assert_string_equal(m.user, "alice");
    assert_string_equal(m.domain, "HOPLAB");
    assert_string_equal(m.workstation, "WS01");
    assert_int_equal(m.nt_len, a.spec.f[F_NT].n);
    assert_true(m.nt_len > 24);
    assert_int_equal(m.lm_len, 24);
    assert_int_equal(m.session_key_len, 16);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV2);
    assert_int_equal(m.lm_kind, NTLM_LM_ZERO);
    assert_int_equal(m.av_flags, MSV_AV_FLAG_MIC_PRESENT);
    assert_true(m.mic_present);
    assert_string_equal(m.spn, "cifs/host");
    assert_true(m.channel_bindings);
    assert_string_equal(ntlm_version_name(m.ntlm_version), "ntlmv2");
    /* CHALLENGE-only fields are not filled from the NTLMv2 response's copy of the target info. */
    assert_string_equal(m.nb_computer, "");
    assert_string_equal(m.nb_domain, "");
}

static void test_ntlmssp_auth_ntlmv2_with_lmv2(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    /* Older NTLMv2 clients: LMv2 response alongside, no MsvAvFlags / SPN / channel bindings. */
    size_t avn = av_put_str(a.av, 0, MsvAvNbDomainName, "HOPLAB");
    avn = av_eol(a.av, avn);
    a.spec.f[F_NT] = (struct blob){a.nt, build_ntlmv2_response(a.nt, a.av, avn)};
    a.spec.f[F_LM] = BLOB(lm24);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV2);
    assert_int_equal(m.lm_kind, NTLM_LM_LMV2);
    assert_int_equal(m.av_flags, 0);
    assert_false(m.mic_present);
    assert_string_equal(m.spn, "");
    assert_false(m.channel_bindings);
    assert_string_equal(ntlm_lm_kind_name(m.lm_kind), "lmv2");
}

static void test_ntlmssp_auth_ntlmv2_zero_channel_bindings_and_other_flags(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    size_t avn = typical_v2_avpairs(a.av, MSV_AV_FLAG_ACCOUNT_CONSTRAINED | MSV_AV_FLAG_SPN_UNTRUSTED,
                                    "HTTP/web.hoplab.test", false);
    a.spec.f[F_NT] = (struct blob){a.nt, build_ntlmv2_response(a.nt, a.av, avn)};
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV2);
    assert_int_equal(m.av_flags, 0x5);
    assert_false(m.mic_present);
    assert_false(m.channel_bindings); /* Z(16): no bindings */
    assert_string_equal(m.spn, "HTTP/web.hoplab.test");
}

/* ---- AUTHENTICATE: layout ----------------------------------------------------------------- */

static void test_ntlmssp_auth_offsets_in_any_order(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t asc[MSG_CAP], shuf[MSG_CAP];
    size_t na = build_auth(&a.spec, asc);
    static const uint8_t order[F_COUNT] = {F_KEY, F_WS, F_NT, F_USER, F_LM, F_DOM};
    a.spec.order = order;
    size_t ns = build_auth(&a.spec, shuf);
    assert_int_equal(na, ns);
    /* The descriptors really are out of order: session key first, domain last. */
    uint32_t off_key = (uint32_t)shuf[56] | (uint32_t)shuf[57] << 8;
    uint32_t off_dom = (uint32_t)shuf[32] | (uint32_t)shuf[33] << 8;
    uint32_t off_lm = (uint32_t)shuf[16] | (uint32_t)shuf[17] << 8;
    assert_int_equal(off_key, 88);
    assert_true(off_lm > off_key && off_dom > off_lm);

    struct ntlm_msg ma, ms;
    assert_int_equal(parse_exact(asc, na, &ma), NTLM_OK);
    assert_int_equal(parse_exact(shuf, ns, &ms), NTLM_OK);
    assert_string_equal(ms.user, "alice");
    assert_string_equal(ms.domain, "HOPLAB");
    assert_string_equal(ms.workstation, "WS01");
    assert_int_equal(ms.ntlm_version, NTLM_VER_NTLMV2);
    assert_int_equal(ms.lm_kind, NTLM_LM_ZERO);
    assert_true(ms.mic_present);
    assert_string_equal(ms.spn, "cifs/host");
    assert_true(ms.channel_bindings);
    assert_int_equal(ms.session_key_len, 16);
    assert_true(ms.version.present);
    assert_int_equal(ms.version.build, 19041);
    /* Same message content, so the same parse. */
    assert_memory_equal(&ma.version, &ms.version, sizeof ma.version);
    assert_string_equal(ma.user, ms.user);
    assert_int_equal(ma.nt_len, ms.nt_len);
    assert_int_equal(ma.av_flags, ms.av_flags);
}

static void test_ntlmssp_auth_version_struct(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_true(m.version.present);
    assert_int_equal(m.version.major, 10);
    assert_int_equal(m.version.minor, 0);
    assert_int_equal(m.version.build, 19041);
    assert_int_equal(m.version.ntlm_revision, 15);

    /* Same bytes, NEGOTIATE_VERSION clear: no version. */
    a.spec.flags &= ~NTLMSSP_NEGOTIATE_VERSION;
    n = build_auth(&a.spec, buf);
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_false(m.version.present);

    /* Flag set but the payload starts right at 64: there is no VERSION to read. */
    a.spec.flags |= NTLMSSP_NEGOTIATE_VERSION;
    a.spec.version = false;
    n = build_auth(&a.spec, buf);
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_false(m.version.present);
    assert_string_equal(m.user, "alice");
}

static void test_ntlmssp_auth_pre_nt4_layout_without_flags_is_unicode(void **state)
{
    (void)state;
    /* Only the five descriptors (52 bytes) before a 6-byte payload: no session key / flags. */
    uint8_t buf[58];
    memset(buf, 0, sizeof buf);
    memcpy(buf, "NTLMSSP", 8);
    put32(buf + 8, 3);
    put_desc(buf + 12, 0, 0, 52); /* Lm */
    put_desc(buf + 20, 0, 0, 52); /* Nt */
    put_desc(buf + 28, 0, 0, 52); /* Domain */
    put_desc(buf + 36, 6, 6, 52); /* User */
    put_desc(buf + 44, 0, 0, 58); /* Workstation */
    memcpy(buf + 52, "b\0o\0b\0", 6);
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, sizeof buf, &m), NTLM_OK);
    assert_int_equal(m.flags, NTLMSSP_NEGOTIATE_UNICODE);
    assert_string_equal(m.user, "bob");
    assert_int_equal(m.ntlm_version, NTLM_VER_EMPTY);
    assert_int_equal(m.session_key_len, 0);
}

static void test_ntlmssp_auth_zero_length_fields_with_junk_offsets_accepted(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    a.spec.f[F_DOM] = NOBLOB;
    a.spec.f[F_WS] = NOBLOB;
    a.spec.f[F_KEY] = NOBLOB;
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    put_desc(buf + 28, 0, 0, 0xffffffffu); /* Domain */
    put_desc(buf + 44, 0, 7, 0x7fffffffu); /* Workstation, junk MaxLen too */
    put_desc(buf + 52, 0, 0, 0x00000003u); /* session key "inside the header" */
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_string_equal(m.domain, "");
    assert_string_equal(m.workstation, "");
    assert_string_equal(m.user, "alice");
    assert_int_equal(m.session_key_len, 0);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV2);
    assert_int_equal(m.bad_fields, 0); /* empty fields never overlap, wherever they point */
    /* Junk offsets of empty fields do not move where the payload (and so VERSION) starts. */
    assert_true(m.version.present);
    assert_int_equal(m.version.build, 19041);
}

/* ---- AUTHENTICATE: fields in the payload, not overlapping (MS-NLMP 2.2.1.3; issue #14) ------- */

static uint32_t desc_off(const uint8_t *buf, size_t desc)
{
    return (uint32_t)buf[desc + 4] | (uint32_t)buf[desc + 5] << 8 | (uint32_t)buf[desc + 6] << 16 |
           (uint32_t)buf[desc + 7] << 24;
}

/* A DomainName pointed at the NTProofStr would print a crackable value as a name: it is dropped, counted. */
static void test_ntlmssp_auth_domain_overlapping_nt_response_is_dropped(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    put_desc(buf + 28, 16, 16, desc_off(buf, 20)); /* Domain = the NT response's first 16 bytes */
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_string_equal(m.domain, "");
    assert_int_equal(m.bad_fields, 1);
    /* the response itself stays: it is the name that lies */
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV2);
    assert_int_equal(m.nt_len, a.spec.f[F_NT].n);
    assert_string_equal(m.user, "alice");
}

static void test_ntlmssp_auth_name_overlapping_session_key_is_dropped(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    put_desc(buf + 44, 4, 4, desc_off(buf, 52) + 10); /* Workstation inside EncryptedRandomSessionKey */
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_string_equal(m.workstation, "");
    assert_int_equal(m.session_key_len, 16);
    assert_int_equal(m.bad_fields, 1);
}

static void test_ntlmssp_auth_field_in_fixed_header_is_dropped(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    put_desc(buf + 36, 8, 8, 12); /* User over the descriptors themselves */
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_string_equal(m.user, "");
    assert_int_equal(m.bad_fields, 1);
    assert_string_equal(m.domain, "HOPLAB");
}

/* Two names sharing bytes: neither can be trusted. */
static void test_ntlmssp_auth_overlapping_names_both_dropped(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    put_desc(buf + 44, 6, 6, desc_off(buf, 36)); /* Workstation = User's first 3 characters */
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_string_equal(m.user, "");
    assert_string_equal(m.workstation, "");
    assert_int_equal(m.bad_fields, 2);
}

/* LM and NT as the very same bytes is allowed (the LM field repeating the NT response). */
static void test_ntlmssp_auth_lm_and_nt_same_bytes_allowed(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    size_t n = build_simple_auth(buf, v1_flags, BLOB(nt24), BLOB(nt24), "alice");
    memcpy(buf + 12, buf + 20, 8); /* Lm descriptor = Nt descriptor */
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.bad_fields, 0);
    assert_int_equal(m.lm_len, 24);
    assert_int_equal(m.lm_kind, NTLM_LM_NT_COPY);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV1);
}

/* LM and NT overlapping in part: both dropped, so no response is classified from bytes that lie. */
static void test_ntlmssp_auth_partly_overlapping_responses_both_dropped(void **state)
{
    (void)state;
    uint8_t buf[MSG_CAP];
    size_t n = build_simple_auth(buf, v1_flags, BLOB(nt24), BLOB(nt24), "alice");
    put_desc(buf + 12, 24, 24, desc_off(buf, 20) + 8);
    struct ntlm_msg m;
    if (desc_off(buf, 20) + 32 > n)
        return; /* the layout has no room for the shifted field; nothing to test */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    /* LM now also runs 8 bytes into the DomainName that follows NT: that name goes too */
    assert_int_equal(m.bad_fields, 3);
    assert_int_equal(m.lm_len, 0);
    assert_int_equal(m.nt_len, 0);
    assert_string_equal(m.domain, "");
    assert_string_equal(m.user, "alice");
}

static void test_ntlmssp_auth_odd_utf16_name_counted(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    put_desc(buf + 36, 9, 9, desc_off(buf, 36)); /* User "alice" cut to 9 bytes */
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
    assert_int_equal(m.odd_utf16, 1);
    assert_int_equal(m.bad_fields, 0);
}

/* ---- AUTHENTICATE: malformed ------------------------------------------------------------- */

/* Every prefix 0..n-1 of a message whose last payload field ends at n must be rejected. */
static void check_every_auth_prefix_rejected(const uint8_t *buf, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct ntlm_msg m;
        enum ntlm_err rc = parse_exact(buf, k, &m);
        if (k < 52)
            assert_int_equal(rc, NTLM_ERR_SHORT);
        else
            assert_int_equal(rc, NTLM_ERR_FIELD);
    }
    struct ntlm_msg m;
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
}

static void test_ntlmssp_auth_every_prefix_rejected_without_overread(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    check_every_auth_prefix_rejected(buf, n);

    static const uint8_t order[F_COUNT] = {F_KEY, F_WS, F_NT, F_USER, F_LM, F_DOM};
    a.spec.order = order;
    n = build_auth(&a.spec, buf);
    check_every_auth_prefix_rejected(buf, n);

    n = build_simple_auth(buf, v1_flags, BLOB(lm24), BLOB(nt24), "alice");
    check_every_auth_prefix_rejected(buf, n);
}

static void test_ntlmssp_auth_offset_past_end_is_field_error(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;

    put_desc(buf + 36, 10, 10, (uint32_t)n + 10); /* User wholly past the end */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_FIELD);

    put_desc(buf + 36, 2, 2, (uint32_t)n); /* starts exactly at the end */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_FIELD);

    put_desc(buf + 36, 10, 10, (uint32_t)n - 9); /* one byte past the end */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_FIELD);

    put_desc(buf + 36, 10, 10, (uint32_t)n - 10); /* ends exactly at the end: fine */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_OK);
}

static void test_ntlmssp_auth_offset_length_overflow_is_error(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;

    put_desc(buf + 36, 0x20, 0x20, 0xfffffff0u); /* User: offset + len wraps 32 bits */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_FIELD);

    n = build_auth(&a.spec, buf);
    put_desc(buf + 20, 0xffff, 0xffff, 0xfffffff0u); /* Nt */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_FIELD);

    n = build_auth(&a.spec, buf);
    put_desc(buf + 52, 0x10, 0x10, 0xffffffffu); /* session key */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_FIELD);
}

static void test_ntlmssp_auth_ntlmv2_avpair_past_field_is_error(void **state)
{
    (void)state;
    /* TargetName claims `claim` bytes: more than its NT field holds. With 60 the bytes exist in
     * the message (the Domain/User/Workstation/key fields follow the NT response), so the pair
     * must be bounded by its field, not by the message; with 0x400 it runs past both. */
    static const uint16_t claims[] = {60, 0x400};
    for (size_t c = 0; c < sizeof claims / sizeof claims[0]; c++) {
        struct v2_auth a;
        v2_auth_init(&a);
        size_t avn = av_put_str(a.av, 0, MsvAvNbDomainName, "HOPLAB");
        size_t spn_at = avn;
        avn = av_put_str(a.av, avn, MsvAvTargetName, "cifs/host"); /* 18-byte value */
        avn = av_eol(a.av, avn);
        put16(a.av + spn_at + 2, claims[c]);
        size_t ntn = build_ntlmv2_response(a.nt, a.av, avn);
        a.spec.f[F_NT] = (struct blob){a.nt, ntn};
        uint8_t buf[MSG_CAP];
        size_t n = build_auth(&a.spec, buf);
        size_t value_at = 88 + 24 + 44 + spn_at + 4; /* payload: Lm(24) then Nt */
        size_t nt_end = 88 + 24 + ntn;
        assert_true(value_at + claims[c] > nt_end);
        if (c == 0)
            assert_true(value_at + claims[c] <= n);
        struct ntlm_msg m;
        assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_AVPAIR);
    }
}

static void test_ntlmssp_bad_signature(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;

    buf[6] = 'X'; /* "NTLMSSX\0" */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_SIGNATURE);
    assert_false(ntlmssp_is(buf, n));
    buf[6] = 'P';
    buf[7] = ' '; /* no NUL */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_SIGNATURE);
    assert_int_equal(parse_exact(buf, 10, &m), NTLM_ERR_SIGNATURE);
    buf[7] = 0;
    memcpy(buf, "ntlmssp", 8); /* the signature is case-sensitive */
    assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_SIGNATURE);
    memcpy(buf, "NTLMSSP", 8);
    assert_true(ntlmssp_is(buf, n));
    assert_false(ntlmssp_is(buf, 7));
    assert_int_equal(parse_exact(buf, 5, &m), NTLM_ERR_SHORT);
    assert_int_equal(parse_exact(buf, 0, &m), NTLM_ERR_SHORT);
}

static void test_ntlmssp_unknown_message_type(void **state)
{
    (void)state;
    struct v2_auth a;
    v2_auth_init(&a);
    uint8_t buf[MSG_CAP];
    size_t n = build_auth(&a.spec, buf);
    struct ntlm_msg m;
    static const uint32_t bad[] = {4, 0, 0xffffffffu, 0x03000000u /* 3 big-endian */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put32(buf + 8, bad[i]);
        assert_int_equal(parse_exact(buf, n, &m), NTLM_ERR_TYPE);
    }
    put32(buf + 8, 4);
    assert_int_equal(parse_exact(buf, 12, &m), NTLM_ERR_TYPE);
}

/* ---- real messages: smb2_ntlmv2_ok.pcap --------------------------------------------------- */

/*
 * Frame 9 of /work/shared/captures/lab/smb2_ntlmv2_ok.pcap: the NTLMSSP CHALLENGE inside the
 * SPNEGO responseToken of the SMB2 SESSION_SETUP response (170 bytes from "NTLMSSP\0").
 */
static const uint8_t frame9_challenge[170] = {
    0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x0c, 0x00, 0x0c, 0x00, 0x38, 0x00, 0x00, 0x00, 0x15, 0x82, 0x89, 0x62,
    0x60, 0xf0, 0xdf, 0xc7, 0x52, 0x53, 0x11, 0x6d, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x66, 0x00, 0x66, 0x00, 0x44, 0x00, 0x00, 0x00,
    0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x48, 0x00, 0x4f, 0x00,
    0x50, 0x00, 0x4c, 0x00, 0x41, 0x00, 0x42, 0x00, 0x02, 0x00, 0x0c, 0x00,
    0x48, 0x00, 0x4f, 0x00, 0x50, 0x00, 0x4c, 0x00, 0x41, 0x00, 0x42, 0x00,
    0x01, 0x00, 0x06, 0x00, 0x44, 0x00, 0x43, 0x00, 0x31, 0x00, 0x04, 0x00,
    0x16, 0x00, 0x68, 0x00, 0x6f, 0x00, 0x70, 0x00, 0x6c, 0x00, 0x61, 0x00,
    0x62, 0x00, 0x2e, 0x00, 0x74, 0x00, 0x65, 0x00, 0x73, 0x00, 0x74, 0x00,
    0x03, 0x00, 0x1e, 0x00, 0x64, 0x00, 0x63, 0x00, 0x31, 0x00, 0x2e, 0x00,
    0x68, 0x00, 0x6f, 0x00, 0x70, 0x00, 0x6c, 0x00, 0x61, 0x00, 0x62, 0x00,
    0x2e, 0x00, 0x74, 0x00, 0x65, 0x00, 0x73, 0x00, 0x74, 0x00, 0x07, 0x00,
    0x08, 0x00, 0x82, 0xe3, 0xcf, 0xca, 0x0a, 0x7a, 0xdd, 0x01, 0x00, 0x00,
    0x00, 0x00,
};

/*
 * Frame 10 of the same capture: the NTLMSSP AUTHENTICATE in the SMB2 SESSION_SETUP request
 * (424 bytes from "NTLMSSP\0"; identical to tshark's ntlmssp_raw for the frame).
 */
static const uint8_t frame10_auth[424] = {
    0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x18, 0x00, 0x18, 0x00, 0x58, 0x00, 0x00, 0x00, 0x0e, 0x01, 0x0e, 0x01,
    0x70, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0c, 0x00, 0x7e, 0x01, 0x00, 0x00,
    0x0a, 0x00, 0x0a, 0x00, 0x8a, 0x01, 0x00, 0x00, 0x04, 0x00, 0x04, 0x00,
    0x94, 0x01, 0x00, 0x00, 0x10, 0x00, 0x10, 0x00, 0x98, 0x01, 0x00, 0x00,
    0x15, 0x82, 0x08, 0x62, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f,
    0xae, 0x0b, 0x56, 0xa4, 0x17, 0x21, 0x5d, 0x28, 0x62, 0x29, 0x7a, 0x99,
    0x7d, 0x12, 0x3f, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xfd, 0xfe, 0x87, 0x34, 0x2c, 0x04, 0x59, 0xae,
    0x8a, 0xb0, 0x93, 0x8c, 0x03, 0x9b, 0x1d, 0x33, 0x01, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x82, 0xe3, 0xcf, 0xca, 0x0a, 0x7a, 0xdd, 0x01,
    0xd9, 0xe4, 0x97, 0x72, 0xba, 0x2e, 0xcf, 0x90, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x0c, 0x00, 0x48, 0x00, 0x4f, 0x00, 0x50, 0x00, 0x4c, 0x00,
    0x41, 0x00, 0x42, 0x00, 0x01, 0x00, 0x06, 0x00, 0x44, 0x00, 0x43, 0x00,
    0x31, 0x00, 0x04, 0x00, 0x16, 0x00, 0x68, 0x00, 0x6f, 0x00, 0x70, 0x00,
    0x6c, 0x00, 0x61, 0x00, 0x62, 0x00, 0x2e, 0x00, 0x74, 0x00, 0x65, 0x00,
    0x73, 0x00, 0x74, 0x00, 0x03, 0x00, 0x1e, 0x00, 0x64, 0x00, 0x63, 0x00,
    0x31, 0x00, 0x2e, 0x00, 0x68, 0x00, 0x6f, 0x00, 0x70, 0x00, 0x6c, 0x00,
    0x61, 0x00, 0x62, 0x00, 0x2e, 0x00, 0x74, 0x00, 0x65, 0x00, 0x73, 0x00,
    0x74, 0x00, 0x07, 0x00, 0x08, 0x00, 0x82, 0xe3, 0xcf, 0xca, 0x0a, 0x7a,
    0xdd, 0x01, 0x06, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0x00,
    0x30, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xda, 0x5d, 0x18, 0x89, 0xff, 0x4c,
    0x16, 0xf7, 0xb3, 0x8b, 0xee, 0x1c, 0x99, 0x85, 0x75, 0xd4, 0x6f, 0x09,
    0x6c, 0xcb, 0xb4, 0x68, 0xd0, 0x8f, 0x14, 0x1b, 0x2e, 0x2d, 0x77, 0x94,
    0xa7, 0x28, 0x0a, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00,
    0x28, 0x00, 0x63, 0x00, 0x69, 0x00, 0x66, 0x00, 0x73, 0x00, 0x2f, 0x00,
    0x64, 0x00, 0x63, 0x00, 0x31, 0x00, 0x2e, 0x00, 0x68, 0x00, 0x6f, 0x00,
    0x70, 0x00, 0x6c, 0x00, 0x61, 0x00, 0x62, 0x00, 0x2e, 0x00, 0x74, 0x00,
    0x65, 0x00, 0x73, 0x00, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x48, 0x00,
    0x4f, 0x00, 0x50, 0x00, 0x4c, 0x00, 0x41, 0x00, 0x42, 0x00, 0x61, 0x00,
    0x6c, 0x00, 0x69, 0x00, 0x63, 0x00, 0x65, 0x00, 0x56, 0x00, 0x4d, 0x00,
    0xe1, 0x47, 0x5e, 0x30, 0xe0, 0x6c, 0xbe, 0x86, 0xdc, 0x7a, 0x6f, 0x01,
    0x91, 0x6e, 0x49, 0x7a,
};

static void test_ntlmssp_real_challenge_frame9_matches_tshark(void **state)
{
    (void)state;
    struct ntlm_msg m;
    assert_int_equal(parse_exact(frame9_challenge, sizeof frame9_challenge, &m), NTLM_OK);
    /* tshark -V: NTLMSSP_CHALLENGE, Target Name HOPLAB, Negotiate Flags 0x62898215,
     * Server Challenge 60f0dfc75253116d, Target Info NetBIOS domain HOPLAB, NetBIOS computer
     * DC1, DNS domain hoplab.test, DNS computer dc1.hoplab.test, Timestamp; Version 6.1
     * (Build 0), NTLM revision 15. */
    static const uint8_t chal[8] = {0x60, 0xf0, 0xdf, 0xc7, 0x52, 0x53, 0x11, 0x6d};
    assert_int_equal(m.type, NTLMSSP_CHALLENGE_MESSAGE);
    assert_int_equal(m.flags, 0x62898215u);
    assert_string_equal(m.target_name, "HOPLAB");
    assert_memory_equal(m.server_challenge, chal, 8);
    assert_string_equal(m.nb_domain, "HOPLAB");
    assert_string_equal(m.nb_computer, "DC1");
    assert_string_equal(m.dns_domain, "hoplab.test");
    assert_string_equal(m.dns_computer, "dc1.hoplab.test");
    assert_string_equal(m.dns_tree, "");
    assert_true(m.has_timestamp);
    assert_true(m.version.present);
    assert_int_equal(m.version.major, 6);
    assert_int_equal(m.version.minor, 1);
    assert_int_equal(m.version.build, 0);
    assert_int_equal(m.version.ntlm_revision, 15);
    assert_false(m.truncated);
}

static void test_ntlmssp_real_authenticate_frame10_matches_tshark(void **state)
{
    (void)state;
    struct ntlm_msg m;
    assert_int_equal(parse_exact(frame10_auth, sizeof frame10_auth, &m), NTLM_OK);
    /* tshark -V: NTLMSSP_AUTH, LM 24 zero bytes, NTLMv2 Response of 270 bytes, Domain HOPLAB,
     * User alice, Host VM, Session Key of 16 bytes, Flags 0x62088215, Version 6.1 (Build 0)
     * revision 15; NTLMv2 attributes Flags 0x00000002, Channel Bindings all zero, Target Name
     * cifs/dc1.hoplab.test. */
    assert_int_equal(m.type, NTLMSSP_AUTHENTICATE_MESSAGE);
    assert_int_equal(m.flags, 0x62088215u);
    assert_string_equal(m.user, "alice");
    assert_string_equal(m.domain, "HOPLAB");
    assert_string_equal(m.workstation, "VM");
    assert_int_equal(m.lm_len, 24);
    assert_int_equal(m.nt_len, 270);
    assert_int_equal(m.session_key_len, 16);
    assert_int_equal(m.ntlm_version, NTLM_VER_NTLMV2);
    assert_int_equal(m.lm_kind, NTLM_LM_ZERO);
    assert_int_equal(m.av_flags, MSV_AV_FLAG_MIC_PRESENT);
    assert_true(m.mic_present);
    assert_string_equal(m.spn, "cifs/dc1.hoplab.test");
    assert_false(m.channel_bindings);
    assert_true(m.version.present);
    assert_int_equal(m.version.major, 6);
    assert_int_equal(m.version.minor, 1);
    assert_int_equal(m.version.build, 0);
    assert_int_equal(m.version.ntlm_revision, 15);
    assert_false(m.truncated);
}

static void test_ntlmssp_real_authenticate_frame10_every_prefix_rejected(void **state)
{
    (void)state;
    check_every_auth_prefix_rejected(frame10_auth, sizeof frame10_auth);
}

static void test_ntlmssp_real_challenge_frame9_every_prefix_rejected(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof frame9_challenge; k++) {
        struct ntlm_msg m;
        enum ntlm_err rc = parse_exact(frame9_challenge, k, &m);
        assert_int_equal(rc, k < 32 ? NTLM_ERR_SHORT : NTLM_ERR_FIELD);
    }
}

/* ---- ntlm_classify on raw responses (no NTLMSSP message, as SMB1 without extended security) - */

static const uint32_t ess = NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY;

static void test_classify_lm_only_is_lm(void **state)
{
    (void)state;
    enum ntlm_lm_kind k = NTLM_LM_ABSENT;
    assert_int_equal(ntlm_classify(lm24, 24, NULL, 0, 0, false, &k), NTLM_VER_LM);
    assert_int_equal(k, NTLM_LM_LM);
    /* The user name does not matter once the LM response is real. */
    assert_int_equal(ntlm_classify(lm24, 24, NULL, 0, 0, true, &k), NTLM_VER_LM);
    assert_int_equal(k, NTLM_LM_LM);
}

static void test_classify_ntlmv1_distinct_lm_and_nt(void **state)
{
    (void)state;
    enum ntlm_lm_kind k = NTLM_LM_ABSENT;
    assert_int_equal(ntlm_classify(lm24, 24, nt24, 24, 0, false, &k), NTLM_VER_NTLMV1);
    assert_int_equal(k, NTLM_LM_LM);
    /* NT response alone. */
    assert_int_equal(ntlm_classify(NULL, 0, nt24, 24, 0, false, &k), NTLM_VER_NTLMV1);
    assert_int_equal(k, NTLM_LM_ABSENT);
    /* An all-zero LM field is "zero", not an LM response. */
    static const uint8_t z24[24];
    assert_int_equal(ntlm_classify(z24, 24, nt24, 24, 0, false, &k), NTLM_VER_NTLMV1);
    assert_int_equal(k, NTLM_LM_ZERO);
}

static void test_classify_lm_equal_to_nt_is_nt_copy(void **state)
{
    (void)state;
    enum ntlm_lm_kind k = NTLM_LM_ABSENT;
    assert_int_equal(ntlm_classify(nt24, 24, nt24, 24, 0, false, &k), NTLM_VER_NTLMV1);
    assert_int_equal(k, NTLM_LM_NT_COPY);
    /* The copy is recognised only without ESS: with it, the LM field is read as ESS or LM. */
    assert_int_equal(ntlm_classify(nt24, 24, nt24, 24, ess, false, &k), NTLM_VER_NTLMV1_ESS);
    assert_int_equal(k, NTLM_LM_LM);
}

static void test_classify_ntlmv1_ess_client_challenge_and_z16(void **state)
{
    (void)state;
    enum ntlm_lm_kind k = NTLM_LM_ABSENT;
    assert_int_equal(ntlm_classify(lm_ess, 24, nt24, 24, ess, false, &k), NTLM_VER_NTLMV1_ESS);
    assert_int_equal(k, NTLM_LM_ESS);
    /* ESS flagged but the LM field is not ClientChallenge || Z(16). */
    assert_int_equal(ntlm_classify(lm24, 24, nt24, 24, ess, false, &k), NTLM_VER_NTLMV1_ESS);
    assert_int_equal(k, NTLM_LM_LM);
    /* The ESS layout without the flag is plain NTLMv1 (SMB1 without extended security passes 0). */
    assert_int_equal(ntlm_classify(lm_ess, 24, nt24, 24, 0, false, &k), NTLM_VER_NTLMV1);
    assert_int_equal(k, NTLM_LM_LM);
}

static void test_classify_nt_longer_than_24_is_ntlmv2(void **state)
{
    (void)state;
    uint8_t nt[64];
    memset(nt, 0x5a, sizeof nt);
    static const uint8_t z24[24];
    enum ntlm_lm_kind k = NTLM_LM_ABSENT;
    assert_int_equal(ntlm_classify(lm24, 24, nt, sizeof nt, 0, false, &k), NTLM_VER_NTLMV2);
    assert_int_equal(k, NTLM_LM_LMV2);
    assert_int_equal(ntlm_classify(z24, 24, nt, sizeof nt, ess, false, &k), NTLM_VER_NTLMV2);
    assert_int_equal(k, NTLM_LM_ZERO);
    assert_int_equal(ntlm_classify(NULL, 0, nt, sizeof nt, 0, false, &k), NTLM_VER_NTLMV2);
    assert_int_equal(k, NTLM_LM_ABSENT);
    /* One byte over 24 already counts; the NTLMv2_RESPONSE layout is not checked here. */
    assert_int_equal(ntlm_classify(lm24, 24, nt, 25, 0, false, &k), NTLM_VER_NTLMV2);
    assert_int_equal(k, NTLM_LM_LMV2);
    /* A non-zero LM field of another length stays "lm". */
    assert_int_equal(ntlm_classify(lm24, 16, nt, sizeof nt, 0, false, &k), NTLM_VER_NTLMV2);
    assert_int_equal(k, NTLM_LM_LM);
}

static void test_classify_anonymous_empty_user_lm_z1_or_empty(void **state)
{
    (void)state;
    enum ntlm_lm_kind k = NTLM_LM_LM;
    assert_int_equal(ntlm_classify(lm_z1, 1, NULL, 0, 0, true, &k), NTLM_VER_ANONYMOUS);
    assert_int_equal(k, NTLM_LM_ZERO);
    assert_int_equal(ntlm_classify(NULL, 0, NULL, 0, 0, true, &k), NTLM_VER_ANONYMOUS);
    assert_int_equal(k, NTLM_LM_ABSENT);
    /* Any all-zero LM field is accepted, not only Z(1). */
    static const uint8_t z24[24];
    assert_int_equal(ntlm_classify(z24, 24, NULL, 0, 0, true, &k), NTLM_VER_ANONYMOUS);
    assert_int_equal(k, NTLM_LM_ZERO);
    /* An NT response makes it a logon even without a user name. */
    assert_int_equal(ntlm_classify(NULL, 0, nt24, 24, 0, true, &k), NTLM_VER_NTLMV1);
}

static void test_classify_user_without_responses_is_empty(void **state)
{
    (void)state;
    enum ntlm_lm_kind k = NTLM_LM_LM;
    assert_int_equal(ntlm_classify(NULL, 0, NULL, 0, 0, false, &k), NTLM_VER_EMPTY);
    assert_int_equal(k, NTLM_LM_ABSENT);
    assert_int_equal(ntlm_classify(lm_z1, 1, NULL, 0, 0, false, &k), NTLM_VER_EMPTY);
    assert_int_equal(k, NTLM_LM_ZERO);
}

static void test_classify_malformed_lengths_are_unknown(void **state)
{
    (void)state;
    enum ntlm_lm_kind k;
    /* NT responses of 1 to 23 bytes are neither NTLMv1 (24) nor NTLMv2 (> 24). */
    for (size_t nt_len = 1; nt_len < 24; nt_len++) {
        k = NTLM_LM_ZERO;
        assert_int_equal(ntlm_classify(lm24, 24, nt24, nt_len, 0, false, &k), NTLM_VER_UNKNOWN);
        assert_int_equal(k, NTLM_LM_LM);
        k = NTLM_LM_ZERO;
        assert_int_equal(ntlm_classify(NULL, 0, nt24, nt_len, ess, true, &k), NTLM_VER_UNKNOWN);
        assert_int_equal(k, NTLM_LM_ABSENT);
    }
    /* No NT response and a non-zero LM field that is not 24 bytes. */
    k = NTLM_LM_ZERO;
    assert_int_equal(ntlm_classify(lm24, 8, NULL, 0, 0, false, &k), NTLM_VER_UNKNOWN);
    assert_int_equal(k, NTLM_LM_LM);
    assert_int_equal(ntlm_classify(lm24, 23, NULL, 0, 0, true, &k), NTLM_VER_UNKNOWN);
    assert_int_equal(k, NTLM_LM_LM);
    /* A non-zero Z(1)-sized LM field with an empty user is not anonymous either. */
    static const uint8_t one[1] = {0x01};
    assert_int_equal(ntlm_classify(one, 1, NULL, 0, 0, true, &k), NTLM_VER_UNKNOWN);
    assert_int_equal(k, NTLM_LM_LM);
}

static void test_classify_lm_kind_out_may_be_null(void **state)
{
    (void)state;
    assert_int_equal(ntlm_classify(lm_ess, 24, nt24, 24, ess, false, NULL), NTLM_VER_NTLMV1_ESS);
    assert_int_equal(ntlm_classify(NULL, 0, NULL, 0, 0, true, NULL), NTLM_VER_ANONYMOUS);
}

/* ---- names -------------------------------------------------------------------------------- */

static void test_ntlmssp_flag_and_enum_names(void **state)
{
    (void)state;
    assert_string_equal(ntlmssp_flag_name(NTLMSSP_NEGOTIATE_UNICODE), "NTLMSSP_NEGOTIATE_UNICODE");
    assert_string_equal(ntlmssp_flag_name(NTLMSSP_NEGOTIATE_LM_KEY), "NTLMSSP_NEGOTIATE_LM_KEY");
    assert_string_equal(ntlmssp_flag_name(NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY),
                        "NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY");
    assert_string_equal(ntlmssp_flag_name(NTLMSSP_NEGOTIATE_56), "NTLMSSP_NEGOTIATE_56");
    assert_null(ntlmssp_flag_name(0x00000008u)); /* r10, reserved */
    assert_null(ntlmssp_flag_name(0x00000100u)); /* r8 */
    assert_null(ntlmssp_flag_name(0));
    assert_string_equal(ntlm_version_name(NTLM_VER_UNKNOWN), "unknown");
    assert_string_equal(ntlm_version_name(NTLM_VER_NTLMV1_ESS), "ntlmv1-ess");
    assert_string_equal(ntlm_lm_kind_name(NTLM_LM_ABSENT), "absent");
    assert_string_equal(ntlm_lm_kind_name(NTLM_LM_ZERO), "zero");
}

static void test_ntlmssp_every_enum_value_named_and_others_fall_back(void **state)
{
    (void)state;
    assert_string_equal(ntlm_version_name(NTLM_VER_ANONYMOUS), "anonymous");
    assert_string_equal(ntlm_version_name(NTLM_VER_LM), "lm");
    assert_string_equal(ntlm_version_name(NTLM_VER_NTLMV1), "ntlmv1");
    assert_string_equal(ntlm_version_name(NTLM_VER_NTLMV2), "ntlmv2");
    assert_string_equal(ntlm_version_name(NTLM_VER_EMPTY), "empty");
    assert_string_equal(ntlm_version_name((enum ntlm_version)99), "unknown");
    assert_string_equal(ntlm_lm_kind_name(NTLM_LM_LMV2), "lmv2");
    assert_string_equal(ntlm_lm_kind_name(NTLM_LM_ESS), "ess");
    assert_string_equal(ntlm_lm_kind_name(NTLM_LM_NT_COPY), "nt-copy");
    assert_string_equal(ntlm_lm_kind_name(NTLM_LM_LM), "lm");
    assert_string_equal(ntlm_lm_kind_name((enum ntlm_lm_kind)99), "absent");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntlmssp_negotiate_oem_names_flags_and_version),
        cmocka_unit_test(test_ntlmssp_negotiate_names_ignored_unless_supplied),
        cmocka_unit_test(test_ntlmssp_negotiate_flags_only_form),
        cmocka_unit_test(test_ntlmssp_negotiate_every_prefix_is_safe),
        cmocka_unit_test(test_ntlmssp_challenge_target_info_av_pairs),
        cmocka_unit_test(test_ntlmssp_challenge_oem_target_name),
        cmocka_unit_test(test_ntlmssp_challenge_avpair_past_field_is_error),
        cmocka_unit_test(test_ntlmssp_challenge_avpair_list_without_eol_keeps_pairs),
        cmocka_unit_test(test_ntlmssp_challenge_every_prefix_is_safe),
        cmocka_unit_test(test_ntlmssp_auth_unicode_names_non_ascii_and_surrogates),
        cmocka_unit_test(test_ntlmssp_auth_oem_names_when_unicode_not_negotiated),
        cmocka_unit_test(test_ntlmssp_auth_long_names_truncated_at_name_max),
        cmocka_unit_test(test_ntlmssp_auth_name_of_exactly_max_minus_one_not_truncated),
        cmocka_unit_test(test_ntlmssp_auth_long_spn_truncated),
        cmocka_unit_test(test_ntlmssp_auth_anonymous_empty_user_lm_z1),
        cmocka_unit_test(test_ntlmssp_auth_empty_user_with_real_lm_is_not_anonymous),
        cmocka_unit_test(test_ntlmssp_auth_empty_user_without_responses),
        cmocka_unit_test(test_ntlmssp_auth_lm_only),
        cmocka_unit_test(test_ntlmssp_auth_ntlmv1_lm_is_nt_copy),
        cmocka_unit_test(test_ntlmssp_auth_ntlmv1_with_real_lm),
        cmocka_unit_test(test_ntlmssp_auth_ntlmv1_ess),
        cmocka_unit_test(test_ntlmssp_auth_ess_layout_without_flag_is_plain_ntlmv1),
        cmocka_unit_test(test_ntlmssp_auth_ntlmv2_av_pairs),
        cmocka_unit_test(test_ntlmssp_auth_ntlmv2_with_lmv2),
        cmocka_unit_test(test_ntlmssp_auth_ntlmv2_zero_channel_bindings_and_other_flags),
        cmocka_unit_test(test_ntlmssp_auth_offsets_in_any_order),
        cmocka_unit_test(test_ntlmssp_auth_version_struct),
        cmocka_unit_test(test_ntlmssp_auth_pre_nt4_layout_without_flags_is_unicode),
        cmocka_unit_test(test_ntlmssp_auth_zero_length_fields_with_junk_offsets_accepted),
        cmocka_unit_test(test_ntlmssp_auth_domain_overlapping_nt_response_is_dropped),
        cmocka_unit_test(test_ntlmssp_auth_name_overlapping_session_key_is_dropped),
        cmocka_unit_test(test_ntlmssp_auth_field_in_fixed_header_is_dropped),
        cmocka_unit_test(test_ntlmssp_auth_overlapping_names_both_dropped),
        cmocka_unit_test(test_ntlmssp_auth_lm_and_nt_same_bytes_allowed),
        cmocka_unit_test(test_ntlmssp_auth_partly_overlapping_responses_both_dropped),
        cmocka_unit_test(test_ntlmssp_auth_odd_utf16_name_counted),
        cmocka_unit_test(test_ntlmssp_auth_every_prefix_rejected_without_overread),
        cmocka_unit_test(test_ntlmssp_auth_offset_past_end_is_field_error),
        cmocka_unit_test(test_ntlmssp_auth_offset_length_overflow_is_error),
        cmocka_unit_test(test_ntlmssp_auth_ntlmv2_avpair_past_field_is_error),
        cmocka_unit_test(test_ntlmssp_bad_signature),
        cmocka_unit_test(test_ntlmssp_unknown_message_type),
        cmocka_unit_test(test_ntlmssp_real_challenge_frame9_matches_tshark),
        cmocka_unit_test(test_ntlmssp_real_authenticate_frame10_matches_tshark),
        cmocka_unit_test(test_ntlmssp_real_authenticate_frame10_every_prefix_rejected),
        cmocka_unit_test(test_ntlmssp_real_challenge_frame9_every_prefix_rejected),
        cmocka_unit_test(test_classify_lm_only_is_lm),
        cmocka_unit_test(test_classify_ntlmv1_distinct_lm_and_nt),
        cmocka_unit_test(test_classify_lm_equal_to_nt_is_nt_copy),
        cmocka_unit_test(test_classify_ntlmv1_ess_client_challenge_and_z16),
        cmocka_unit_test(test_classify_nt_longer_than_24_is_ntlmv2),
        cmocka_unit_test(test_classify_anonymous_empty_user_lm_z1_or_empty),
        cmocka_unit_test(test_classify_user_without_responses_is_empty),
        cmocka_unit_test(test_classify_malformed_lengths_are_unknown),
        cmocka_unit_test(test_classify_lm_kind_out_may_be_null),
        cmocka_unit_test(test_ntlmssp_flag_and_enum_names),
        cmocka_unit_test(test_ntlmssp_every_enum_value_named_and_others_fall_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
