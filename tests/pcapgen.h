/*
 * Test helpers: build Ethernet/IPv4/IPv6/TCP/UDP frames in memory, drive the engine with TCP
 * connections whose per-direction sequence numbers are tracked, build NTLMSSP and SPNEGO tokens,
 * and read the JSON Lines output back with jansson. Header-only (static inline) so each test
 * executable stays one .c file.
 */
#ifndef HOPSCOPE_TESTS_PCAPGEN_H
#define HOPSCOPE_TESTS_PCAPGEN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <pcap/dlt.h>

#include "decode.h"
#include "correlate.h"
#include "engine.h"
#include "writer.h"

/* Test selection from the environment: HS_TEST_FILTER / HS_TEST_SKIP (cmocka glob patterns),
 * e.g. HS_TEST_FILTER='test_gap*' ./tests/test_reasm */
static inline void pg_apply_filters(void)
{
    const char *f = getenv("HS_TEST_FILTER"), *s = getenv("HS_TEST_SKIP");
    if (f && *f)
        cmocka_set_test_filter(f);
    if (s && *s)
        cmocka_set_skip_filter(s);
}

/* ------------------------------------------------------------------------------------------ */
/* growable byte buffer                                                                       */

struct pg_buf {
    uint8_t *p;
    size_t len, cap;
};

static inline void pg_reserve(struct pg_buf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *np = realloc(b->p, cap);
    assert_non_null(np);
    b->p = np;
    b->cap = cap;
}

static inline void pg_put(struct pg_buf *b, const void *d, size_t n)
{
    pg_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

static inline void pg_zero(struct pg_buf *b, size_t n)
{
    pg_reserve(b, n);
    memset(b->p + b->len, 0, n);
    b->len += n;
}

static inline void pg_fill(struct pg_buf *b, uint8_t v, size_t n)
{
    pg_reserve(b, n);
    memset(b->p + b->len, v, n);
    b->len += n;
}

static inline void pg_u8(struct pg_buf *b, uint8_t v) { pg_put(b, &v, 1); }

static inline void pg_u16be(struct pg_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    pg_put(b, x, 2);
}

static inline void pg_u16le(struct pg_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    pg_put(b, x, 2);
}

static inline void pg_u32be(struct pg_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    pg_put(b, x, 4);
}

static inline void pg_u32le(struct pg_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    pg_put(b, x, 4);
}

static inline void pg_u64le(struct pg_buf *b, uint64_t v)
{
    pg_u32le(b, (uint32_t)v);
    pg_u32le(b, (uint32_t)(v >> 32));
}

static inline void pg_str(struct pg_buf *b, const char *s) { pg_put(b, s, strlen(s)); }

/* ASCII string as UTF-16LE, no terminator. */
static inline void pg_utf16(struct pg_buf *b, const char *s)
{
    for (; *s; s++)
        pg_u16le(b, (uint16_t)(uint8_t)*s);
}

__attribute__((format(printf, 2, 3))) static inline void pg_printf(struct pg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    pg_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static inline void pg_set_u16le(struct pg_buf *b, size_t off, uint16_t v)
{
    b->p[off] = (uint8_t)v;
    b->p[off + 1] = (uint8_t)(v >> 8);
}

static inline void pg_set_u32le(struct pg_buf *b, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static inline void pg_set_u16be(struct pg_buf *b, size_t off, uint16_t v)
{
    b->p[off] = (uint8_t)(v >> 8);
    b->p[off + 1] = (uint8_t)v;
}

/* Puts n bytes of h in front of b's content. */
static inline void pg_prepend(struct pg_buf *b, const void *h, size_t n)
{
    pg_reserve(b, n);
    memmove(b->p + n, b->p, b->len);
    memcpy(b->p, h, n);
    b->len += n;
}

static inline void pg_free(struct pg_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static inline struct pg_buf pg_copy(const void *d, size_t n)
{
    struct pg_buf b = {0};
    pg_put(&b, d, n);
    return b;
}

/* ------------------------------------------------------------------------------------------ */
/* headers                                                                                    */

static inline uint16_t pg_csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

/* TCP header (20 bytes, no options) in front of b. */
static inline void pg_wrap_tcp(struct pg_buf *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                               uint8_t flags)
{
    struct pg_buf h = {0};
    pg_u16be(&h, sport);
    pg_u16be(&h, dport);
    pg_u32be(&h, seq);
    pg_u32be(&h, ack);
    pg_u8(&h, 5 << 4);
    pg_u8(&h, flags);
    pg_u16be(&h, 65535); /* window */
    pg_u16be(&h, 0);     /* checksum: not checked by hopscope */
    pg_u16be(&h, 0);     /* urgent */
    pg_prepend(b, h.p, h.len);
    pg_free(&h);
}

/* UDP header in front of b. */
static inline void pg_wrap_udp(struct pg_buf *b, uint16_t sport, uint16_t dport)
{
    struct pg_buf h = {0};
    pg_u16be(&h, sport);
    pg_u16be(&h, dport);
    pg_u16be(&h, (uint16_t)(b->len + 8));
    pg_u16be(&h, 0);
    pg_prepend(b, h.p, h.len);
    pg_free(&h);
}

/* IPv4 header in front of b: id and the flags/fragment-offset field as given (offset in 8-byte
 * units; 0x2000 is MF, 0x4000 DF). */
static inline void pg_wrap_ipv4_ex(struct pg_buf *b, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
                                   uint16_t id, uint16_t frag)
{
    struct pg_buf h = {0};
    pg_u8(&h, 0x45);
    pg_u8(&h, 0);
    pg_u16be(&h, (uint16_t)(b->len + 20));
    pg_u16be(&h, id);
    pg_u16be(&h, frag);
    pg_u8(&h, 64);
    pg_u8(&h, proto);
    pg_u16be(&h, 0);
    pg_put(&h, src, 4);
    pg_put(&h, dst, 4);
    pg_set_u16be(&h, 10, pg_csum(h.p, 20));
    pg_prepend(b, h.p, h.len);
    pg_free(&h);
}

static inline void pg_wrap_ipv4(struct pg_buf *b, const uint8_t src[4], const uint8_t dst[4], uint8_t proto)
{
    pg_wrap_ipv4_ex(b, src, dst, proto, 0x1234, 0x4000);
}

static inline void pg_wrap_ipv6(struct pg_buf *b, const uint8_t src[16], const uint8_t dst[16], uint8_t nh)
{
    struct pg_buf h = {0};
    pg_u32be(&h, 0x60000000u);
    pg_u16be(&h, (uint16_t)b->len);
    pg_u8(&h, nh);
    pg_u8(&h, 64);
    pg_put(&h, src, 16);
    pg_put(&h, dst, 16);
    pg_prepend(b, h.p, h.len);
    pg_free(&h);
}

/* Ethernet II header (with ntags 802.1Q/802.1ad tags of the given TPIDs) in front of b. */
static inline void pg_wrap_eth_tags(struct pg_buf *b, uint16_t type, const uint16_t *tpids, size_t ntags)
{
    static const uint8_t macs[12] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x66, 0x77, 0x88, 0x99, 0xaa};
    struct pg_buf h = {0};
    pg_put(&h, macs, 12);
    for (size_t i = 0; i < ntags; i++) {
        pg_u16be(&h, tpids[i]);
        pg_u16be(&h, (uint16_t)(100 + i)); /* TCI: VLAN id */
    }
    pg_u16be(&h, type);
    pg_prepend(b, h.p, h.len);
    pg_free(&h);
}

static inline void pg_wrap_eth(struct pg_buf *b, uint16_t type) { pg_wrap_eth_tags(b, type, NULL, 0); }

/* ------------------------------------------------------------------------------------------ */
/* base64 and ASN.1 DER                                                                       */

static inline char *pg_b64(const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1);
    assert_non_null(out);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
    return out;
}

/* Appends a DER TLV with a one-byte identifier. */
static inline void pg_der(struct pg_buf *b, uint8_t id, const void *v, size_t n)
{
    pg_u8(b, id);
    if (n < 0x80) {
        pg_u8(b, (uint8_t)n);
    } else if (n < 0x100) {
        pg_u8(b, 0x81);
        pg_u8(b, (uint8_t)n);
    } else {
        assert_true(n < 0x10000);
        pg_u8(b, 0x82);
        pg_u16be(b, (uint16_t)n);
    }
    pg_put(b, v, n);
}

/* Wraps b's whole content in a TLV. */
static inline void pg_der_wrap(struct pg_buf *b, uint8_t id)
{
    struct pg_buf t = {0};
    pg_der(&t, id, b->p, b->len);
    pg_free(b);
    *b = t;
}

#define PG_OID_NTLMSSP "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"
#define PG_OID_SPNEGO "\x2b\x06\x01\x05\x05\x02"
#define PG_OID_KRB5 "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"

/* GSS-wrapped SPNEGO NegTokenInit, mechTypes {NTLMSSP} (plus krb5 when with_krb5), mechToken tok. */
static inline struct pg_buf pg_spnego_init(const struct pg_buf *tok, bool with_krb5)
{
    struct pg_buf mt = {0}, seq = {0}, out = {0};
    if (with_krb5)
        pg_der(&mt, 0x06, PG_OID_KRB5, sizeof PG_OID_KRB5 - 1);
    pg_der(&mt, 0x06, PG_OID_NTLMSSP, sizeof PG_OID_NTLMSSP - 1);
    pg_der_wrap(&mt, 0x30);
    pg_der_wrap(&mt, 0xa0);
    pg_put(&seq, mt.p, mt.len);
    if (tok) {
        struct pg_buf m = {0};
        pg_der(&m, 0x04, tok->p, tok->len);
        pg_der_wrap(&m, 0xa2);
        pg_put(&seq, m.p, m.len);
        pg_free(&m);
    }
    pg_der_wrap(&seq, 0x30);
    pg_der_wrap(&seq, 0xa0);
    pg_der(&out, 0x06, PG_OID_SPNEGO, sizeof PG_OID_SPNEGO - 1);
    pg_put(&out, seq.p, seq.len);
    pg_der_wrap(&out, 0x60);
    pg_free(&mt);
    pg_free(&seq);
    return out;
}

/* SPNEGO NegTokenResp: negState (or -1 for none), supportedMech NTLMSSP when with_mech, token. */
static inline struct pg_buf pg_spnego_resp(int neg_state, bool with_mech, const struct pg_buf *tok)
{
    struct pg_buf seq = {0};
    if (neg_state >= 0) {
        struct pg_buf f = {0};
        uint8_t s = (uint8_t)neg_state;
        pg_der(&f, 0x0a, &s, 1);
        pg_der_wrap(&f, 0xa0);
        pg_put(&seq, f.p, f.len);
        pg_free(&f);
    }
    if (with_mech) {
        struct pg_buf f = {0};
        pg_der(&f, 0x06, PG_OID_NTLMSSP, sizeof PG_OID_NTLMSSP - 1);
        pg_der_wrap(&f, 0xa1);
        pg_put(&seq, f.p, f.len);
        pg_free(&f);
    }
    if (tok) {
        struct pg_buf f = {0};
        pg_der(&f, 0x04, tok->p, tok->len);
        pg_der_wrap(&f, 0xa2);
        pg_put(&seq, f.p, f.len);
        pg_free(&f);
    }
    pg_der_wrap(&seq, 0x30);
    pg_der_wrap(&seq, 0xa1);
    return seq;
}

/* ------------------------------------------------------------------------------------------ */
/* NTLMSSP (MS-NLMP 2.2.1)                                                                    */

#define PG_NTLM_FLAGS 0xe2888235u /* UNICODE|REQUEST_TARGET|SIGN|NTLM|ALWAYS_SIGN|ESS|TARGET_INFO|VERSION|128|KEY_EXCH|56 */

static inline void pg_ntlm_version(struct pg_buf *b)
{
    pg_u8(b, 10);
    pg_u8(b, 0);
    pg_u16le(b, 19041);
    pg_zero(b, 3);
    pg_u8(b, 15);
}

static inline struct pg_buf pg_ntlm_negotiate(void)
{
    struct pg_buf b = {0};
    pg_put(&b, "NTLMSSP", 8);
    pg_u32le(&b, 1);
    pg_u32le(&b, 0xe2088297u);
    pg_zero(&b, 16); /* DomainNameFields, WorkstationFields: empty */
    pg_ntlm_version(&b);
    return b;
}

static inline void pg_av(struct pg_buf *b, uint16_t id, const char *ascii)
{
    pg_u16le(b, id);
    pg_u16le(b, (uint16_t)(strlen(ascii) * 2));
    pg_utf16(b, ascii);
}

static inline struct pg_buf pg_ntlm_challenge(void)
{
    struct pg_buf tn = {0}, ti = {0}, b = {0};
    pg_utf16(&tn, "HOPLAB");
    pg_av(&ti, 2, "HOPLAB");
    pg_av(&ti, 1, "SRV1");
    pg_av(&ti, 4, "hoplab.test");
    pg_av(&ti, 3, "srv1.hoplab.test");
    pg_av(&ti, 5, "hoplab.test");
    pg_u16le(&ti, 7);
    pg_u16le(&ti, 8);
    pg_u64le(&ti, 0x01d9000000000000ull);
    pg_u32le(&ti, 0); /* MsvAvEOL */
    pg_put(&b, "NTLMSSP", 8);
    pg_u32le(&b, 2);
    uint32_t off = 56;
    pg_u16le(&b, (uint16_t)tn.len);
    pg_u16le(&b, (uint16_t)tn.len);
    pg_u32le(&b, off);
    pg_u32le(&b, PG_NTLM_FLAGS);
    pg_put(&b, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    pg_zero(&b, 8);
    pg_u16le(&b, (uint16_t)ti.len);
    pg_u16le(&b, (uint16_t)ti.len);
    pg_u32le(&b, off + (uint32_t)tn.len);
    pg_ntlm_version(&b);
    pg_put(&b, tn.p, tn.len);
    pg_put(&b, ti.p, ti.len);
    pg_free(&tn);
    pg_free(&ti);
    return b;
}

/* An NTLMv2-shaped AUTHENTICATE (2.2.1.3) for domain\user from workstation, with MIC flag and SPN. */
static inline struct pg_buf pg_ntlm_authenticate(const char *user, const char *domain, const char *ws)
{
    struct pg_buf nt = {0}, b = {0}, dom = {0}, usr = {0}, wks = {0};
    pg_fill(&nt, 0xAB, 16); /* NTProofStr */
    pg_u8(&nt, 1);
    pg_u8(&nt, 1);
    pg_zero(&nt, 6);
    pg_u64le(&nt, 0x01d9000000000000ull);
    pg_fill(&nt, 0xCD, 8); /* ChallengeFromClient */
    pg_zero(&nt, 4);
    pg_av(&nt, 2, "HOPLAB");
    pg_av(&nt, 1, "SRV1");
    pg_u16le(&nt, 6);
    pg_u16le(&nt, 4);
    pg_u32le(&nt, 2); /* MsvAvFlags: MIC present */
    pg_av(&nt, 9, "HTTP/srv1.hoplab.test");
    pg_u32le(&nt, 0);
    pg_zero(&nt, 4);
    pg_utf16(&dom, domain);
    pg_utf16(&usr, user);
    pg_utf16(&wks, ws);
    const uint32_t base = 88;
    uint32_t lm_off = base, nt_off = lm_off + 24, dom_off = nt_off + (uint32_t)nt.len,
             usr_off = dom_off + (uint32_t)dom.len, wks_off = usr_off + (uint32_t)usr.len,
             key_off = wks_off + (uint32_t)wks.len;
    pg_put(&b, "NTLMSSP", 8);
    pg_u32le(&b, 3);
    const struct {
        size_t len;
        uint32_t off;
    } f[6] = {{24, lm_off}, {nt.len, nt_off}, {dom.len, dom_off}, {usr.len, usr_off}, {wks.len, wks_off}, {16, key_off}};
    for (int i = 0; i < 6; i++) {
        pg_u16le(&b, (uint16_t)f[i].len);
        pg_u16le(&b, (uint16_t)f[i].len);
        pg_u32le(&b, f[i].off);
    }
    pg_u32le(&b, PG_NTLM_FLAGS);
    pg_ntlm_version(&b);
    pg_fill(&b, 0xEE, 16); /* MIC */
    assert_int_equal(b.len, base);
    pg_zero(&b, 24); /* LmChallengeResponse: Z(24) */
    pg_put(&b, nt.p, nt.len);
    pg_put(&b, dom.p, dom.len);
    pg_put(&b, usr.p, usr.len);
    pg_put(&b, wks.p, wks.len);
    pg_fill(&b, 0x5A, 16);
    pg_free(&nt);
    pg_free(&dom);
    pg_free(&usr);
    pg_free(&wks);
    return b;
}

/* ------------------------------------------------------------------------------------------ */
/* engine harness                                                                             */

struct pg_run {
    struct hs_engine e;
    struct hs_limits lim;
    struct hs_writer *w;       /* JSON Lines into f */
    struct hs_correlate *corr; /* correlation → w */
    FILE *f;
    char *obuf;
    size_t olen;
    uint64_t frame;
    struct timeval ts;
    json_t *recs;  /* "auth" records, after pg_run_finish */
    json_t *findings; /* "finding" records, after pg_run_finish */
    json_t *dcoms; /* "dcom" records, after pg_run_finish */
    json_t *stats; /* the "stats" record */
    char *text;    /* all output, after pg_run_finish */
};

static inline void pg_run_init(struct pg_run *r, const struct hs_limits *lim)
{
    memset(r, 0, sizeof *r);
    if (lim)
        r->lim = *lim;
    else
        hs_limits_default(&r->lim);
    r->f = open_memstream(&r->obuf, &r->olen);
    assert_non_null(r->f);
    r->w = writer_new(OUTPUT_JSON, r->f);
    assert_non_null(r->w);
    r->corr = correlate_new(writer_sink(r->w));
    assert_non_null(r->corr);
    assert_int_equal(engine_init(&r->e, &r->lim, &r->corr->sink), 0);
    r->ts.tv_sec = 1763765452; /* 2025-11-21T22:50:52Z */
    r->ts.tv_usec = 0;
}

/* Feeds one frame of link type dlt; returns its frame number (1-based). */
static inline uint64_t pg_frame_dlt(struct pg_run *r, int dlt, const uint8_t *d, size_t n)
{
    r->frame++;
    r->ts.tv_usec += 1000;
    if (r->ts.tv_usec >= 1000000) {
        r->ts.tv_sec++;
        r->ts.tv_usec -= 1000000;
    }
    /* an exact-size heap copy, so ASan sees any read past the captured bytes */
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, d, n);
    engine_packet(&r->e, dlt, r->frame, &r->ts, copy, (uint32_t)n);
    free(copy);
    return r->frame;
}

static inline uint64_t pg_frame(struct pg_run *r, const uint8_t *d, size_t n)
{
    return pg_frame_dlt(r, DLT_EN10MB, d, n);
}

/* Output written so far (NUL-terminated, owned by the stream). */
static inline const char *pg_output_now(struct pg_run *r)
{
    fflush(r->f);
    return r->obuf ? r->obuf : "";
}

/* Number of "auth" records written so far. */
static inline int pg_count_auth_now(struct pg_run *r)
{
    const char *s = pg_output_now(r);
    int n = 0;
    for (const char *p = s; (p = strstr(p, "{\"type\":\"auth\"")) != NULL; p++)
        n++;
    return n;
}

/* Ends the run: engine_finish, then every output line parsed (each must be valid JSON). */
static inline void pg_run_finish(struct pg_run *r)
{
    engine_finish(&r->e);
    fflush(r->f);
    assert_false(r->w->failed);
    r->text = strdup(r->obuf ? r->obuf : "");
    assert_non_null(r->text);
    r->recs = json_array();
    r->findings = json_array();
    r->dcoms = json_array();
    char *save = NULL;
    char *copy = strdup(r->text);
    assert_non_null(copy);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t err;
        json_t *j = json_loads(line, 0, &err);
        if (!j)
            fail_msg("output line is not JSON (%s): %s", err.text, line);
        const char *type = json_string_value(json_object_get(j, "type"));
        assert_non_null(type);
        if (strcmp(type, "auth") == 0) {
            json_array_append_new(r->recs, j);
        } else if (strcmp(type, "finding") == 0) {
            json_array_append_new(r->findings, j);
        } else if (strcmp(type, "dcom") == 0) {
            json_array_append_new(r->dcoms, j);
        } else {
            assert_string_equal(type, "stats");
            assert_null(r->stats); /* exactly one stats line */
            r->stats = j;
        }
    }
    free(copy);
    assert_non_null(r->stats);
}

static inline void pg_run_free(struct pg_run *r)
{
    engine_free(&r->e);
    correlate_free(r->corr);
    writer_free(r->w);
    fclose(r->f);
    free(r->obuf);
    free(r->text);
    json_decref(r->recs);
    json_decref(r->findings);
    json_decref(r->dcoms);
    json_decref(r->stats);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON access: paths like "ntlm.user", "http.requests[1].status"                              */

static inline json_t *pg_j(json_t *root, const char *path)
{
    json_t *cur = root;
    const char *p = path;
    while (cur && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            assert_true(*end == ']');
            cur = json_array_get(cur, i);
            p = end + 1;
            continue;
        }
        size_t k = strcspn(p, ".[");
        char key[128];
        assert_true(k < sizeof key);
        memcpy(key, p, k);
        key[k] = 0;
        cur = json_object_get(cur, key);
        p += k;
    }
    return cur;
}

#define assert_jstr(root, path, expected)                                                               \
    do {                                                                                                \
        json_t *_v = pg_j((root), (path));                                                              \
        if (!json_is_string(_v))                                                                        \
            fail_msg("%s: expected string \"%s\", got %s", (path), (expected), _v ? "non-string" : "nothing"); \
        assert_string_equal(json_string_value(_v), (expected));                                         \
    } while (0)

#define assert_jint(root, path, expected)                                                               \
    do {                                                                                                \
        json_t *_v = pg_j((root), (path));                                                              \
        if (!json_is_integer(_v))                                                                       \
            fail_msg("%s: expected integer %lld, got %s", (path), (long long)(expected),                \
                     _v ? "non-integer" : "nothing");                                                   \
        assert_int_equal(json_integer_value(_v), (expected));                                           \
    } while (0)

#define assert_jbool(root, path, expected)                                                              \
    do {                                                                                                \
        json_t *_v = pg_j((root), (path));                                                              \
        if (!json_is_boolean(_v))                                                                       \
            fail_msg("%s: expected boolean, got %s", (path), _v ? "non-boolean" : "nothing");           \
        assert_int_equal(json_is_true(_v), (expected));                                                 \
    } while (0)

#define assert_jabsent(root, path)                                                                      \
    do {                                                                                                \
        if (pg_j((root), (path)) != NULL)                                                               \
            fail_msg("%s: expected absent", (path));                                                    \
    } while (0)

/* A stats counter ("tcp.gaps", "dropped.pdu_oversize", "malformed.smb2", ...). */
static inline long long pg_stat(struct pg_run *r, const char *path)
{
    json_t *v = pg_j(r->stats, path);
    if (!json_is_integer(v))
        fail_msg("stats.%s missing", path);
    return (long long)json_integer_value(v);
}

static inline size_t pg_nrecs(struct pg_run *r) { return json_array_size(r->recs); }

static inline json_t *pg_rec(struct pg_run *r, size_t i)
{
    json_t *j = json_array_get(r->recs, i);
    if (!j)
        fail_msg("no record %zu (have %zu)", i, json_array_size(r->recs));
    return j;
}

/* Deep copy of j without "frames" and "ts" members at any depth (for comparing runs whose frame
 * numbering differs). */
static inline json_t *pg_strip_frames(json_t *j)
{
    json_t *c = json_deep_copy(j);
    json_t *stack[64];
    int sp = 0;
    stack[sp++] = c;
    while (sp) {
        json_t *x = stack[--sp];
        if (json_is_object(x)) {
            json_object_del(x, "frames");
            json_object_del(x, "ts");
            const char *k;
            json_t *v;
            json_object_foreach(x, k, v) if (sp < 64) stack[sp++] = v;
        } else if (json_is_array(x)) {
            size_t i;
            json_t *v;
            json_array_foreach(x, i, v) if (sp < 64) stack[sp++] = v;
        }
    }
    return c;
}

/* ------------------------------------------------------------------------------------------ */
/* TCP connections over Ethernet/IPv4                                                          */

#define PG_MSS 1460

struct pg_conn {
    uint8_t ip[2][4];  /* [0] client, [1] server */
    uint16_t port[2];
    uint32_t seq[2];   /* next sequence number each side sends */
};

static inline void pg_conn_init(struct pg_conn *c, uint16_t cport, uint16_t sport)
{
    static const uint8_t cip[4] = {10, 0, 0, 1}, sip[4] = {10, 0, 0, 2};
    memcpy(c->ip[0], cip, 4);
    memcpy(c->ip[1], sip, 4);
    c->port[0] = cport;
    c->port[1] = sport;
    c->seq[0] = 0x10000000u;
    c->seq[1] = 0x70000000u;
}

/* One TCP segment of direction dir (0 client→server) with explicit seq/ack/flags. */
static inline uint64_t pg_seg(struct pg_run *r, const struct pg_conn *c, int dir, uint32_t seq, uint32_t ack,
                              uint8_t flags, const void *data, size_t n)
{
    struct pg_buf b = pg_copy(data, n);
    pg_wrap_tcp(&b, c->port[dir], c->port[!dir], seq, ack, flags);
    pg_wrap_ipv4(&b, c->ip[dir], c->ip[!dir], 6);
    pg_wrap_eth(&b, 0x0800);
    uint64_t f = pg_frame(r, b.p, b.len);
    pg_free(&b);
    return f;
}

/* A data segment at offset off from dir's next sequence number, without advancing it. */
static inline uint64_t pg_send_at(struct pg_run *r, const struct pg_conn *c, int dir, size_t off, const void *data,
                                  size_t n)
{
    return pg_seg(r, c, dir, c->seq[dir] + (uint32_t)off, c->seq[!dir], TH_PSH | TH_ACK, data, n);
}

static inline void pg_advance(struct pg_conn *c, int dir, size_t n) { c->seq[dir] += (uint32_t)n; }

/* Sends n bytes in segments of at most mss bytes; returns the frame of the last one. */
static inline uint64_t pg_send_mss(struct pg_run *r, struct pg_conn *c, int dir, const void *data, size_t n,
                                   size_t mss)
{
    uint64_t f = 0;
    const uint8_t *p = data;
    for (size_t off = 0; off < n; off += mss) {
        size_t k = n - off < mss ? n - off : mss;
        f = pg_send_at(r, c, dir, off, p + off, k);
    }
    pg_advance(c, dir, n);
    return f;
}

static inline uint64_t pg_send(struct pg_run *r, struct pg_conn *c, int dir, const void *data, size_t n)
{
    return pg_send_mss(r, c, dir, data, n, PG_MSS);
}

static inline uint64_t pg_sendb(struct pg_run *r, struct pg_conn *c, int dir, const struct pg_buf *b)
{
    return pg_send(r, c, dir, b->p, b->len);
}

/* Sends n bytes cut at the given ascending offsets; returns the frame of the last segment. */
static inline uint64_t pg_send_cuts(struct pg_run *r, struct pg_conn *c, int dir, const void *data, size_t n,
                                    const size_t *cuts, size_t ncuts)
{
    const uint8_t *p = data;
    size_t start = 0;
    uint64_t f = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        assert_true(end >= start && end <= n);
        if (end > start)
            f = pg_send_at(r, c, dir, start, p + start, end - start);
        start = end;
    }
    pg_advance(c, dir, n);
    return f;
}

/* SYN, SYN-ACK, ACK. */
static inline void pg_handshake(struct pg_run *r, struct pg_conn *c)
{
    pg_seg(r, c, 0, c->seq[0], 0, TH_SYN, NULL, 0);
    c->seq[0]++;
    pg_seg(r, c, 1, c->seq[1], c->seq[0], TH_SYN | TH_ACK, NULL, 0);
    c->seq[1]++;
    pg_seg(r, c, 0, c->seq[0], c->seq[1], TH_ACK, NULL, 0);
}

/* A bare ACK from dir acknowledging everything the peer sent. */
static inline uint64_t pg_ack(struct pg_run *r, const struct pg_conn *c, int dir)
{
    return pg_seg(r, c, dir, c->seq[dir], c->seq[!dir], TH_ACK, NULL, 0);
}

/* FIN from dir first, then from the peer, then the last ACK. */
static inline void pg_close(struct pg_run *r, struct pg_conn *c, int dir)
{
    pg_seg(r, c, dir, c->seq[dir], c->seq[!dir], TH_FIN | TH_ACK, NULL, 0);
    c->seq[dir]++;
    pg_seg(r, c, !dir, c->seq[!dir], c->seq[dir], TH_FIN | TH_ACK, NULL, 0);
    c->seq[!dir]++;
    pg_seg(r, c, dir, c->seq[dir], c->seq[!dir], TH_ACK, NULL, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* HTTP NTLM exchange (MS-NTHT / WinRM shape)                                                 */

struct pg_http_ntlm {
    struct pg_buf req1, resp1, req2, resp2;
};

/*
 * Builds: `GET <path>` with `Authorization: <scheme> <NEGOTIATE>`, `401` with
 * `WWW-Authenticate: <scheme> <CHALLENGE>` and a Content-Length body of body401 bytes,
 * `GET <path>` with the AUTHENTICATE for HOPLAB\alice, and the final response final_status
 * (Content-Length body). scheme "Negotiate" wraps the NTLM messages in SPNEGO.
 */
static inline void pg_http_ntlm_build(struct pg_http_ntlm *x, const char *scheme, const char *path,
                                      size_t body401, int final_status)
{
    bool spnego = strcmp(scheme, "Negotiate") == 0;
    struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                  auth = pg_ntlm_authenticate("alice", "HOPLAB", "WS01");
    if (spnego) {
        struct pg_buf a = pg_spnego_init(&neg, true);
        struct pg_buf b = pg_spnego_resp(1, true, &chal);
        struct pg_buf c = pg_spnego_resp(-1, false, &auth);
        pg_free(&neg);
        pg_free(&chal);
        pg_free(&auth);
        neg = a;
        chal = b;
        auth = c;
    }
    char *t1 = pg_b64(neg.p, neg.len), *t2 = pg_b64(chal.p, chal.len), *t3 = pg_b64(auth.p, auth.len);
    memset(x, 0, sizeof *x);
    pg_printf(&x->req1,
              "GET %s HTTP/1.1\r\nHost: srv1.hoplab.test:5985\r\nUser-Agent: Microsoft WinRM Client\r\n"
              "Authorization: %s %s\r\nContent-Length: 0\r\n\r\n",
              path, scheme, t1);
    pg_printf(&x->resp1,
              "HTTP/1.1 401 \r\nServer: Microsoft-HTTPAPI/2.0\r\nWWW-Authenticate: %s %s\r\n"
              "Content-Type: text/html\r\nContent-Length: %zu\r\n\r\n",
              scheme, t2, body401);
    for (size_t i = 0; i < body401; i++)
        pg_u8(&x->resp1, (uint8_t)("<html>401 GET /x HTTP/1.1\r\n"[i % 27]));
    pg_printf(&x->req2,
              "GET %s HTTP/1.1\r\nHost: srv1.hoplab.test:5985\r\nUser-Agent: Microsoft WinRM Client\r\n"
              "Authorization: %s %s\r\nContent-Length: 0\r\n\r\n",
              path, scheme, t3);
    if (spnego && final_status == 200) {
        struct pg_buf done = pg_spnego_resp(0, false, NULL);
        char *t4 = pg_b64(done.p, done.len);
        pg_printf(&x->resp2, "HTTP/1.1 200 OK\r\nWWW-Authenticate: Negotiate %s\r\nContent-Length: 5\r\n\r\nhello", t4);
        free(t4);
        pg_free(&done);
    } else {
        pg_printf(&x->resp2, "HTTP/1.1 %d %s\r\nServer: Microsoft-HTTPAPI/2.0\r\nContent-Length: 5\r\n\r\nhello",
                  final_status, final_status == 200 ? "OK" : "Unauthorized");
    }
    free(t1);
    free(t2);
    free(t3);
    pg_free(&neg);
    pg_free(&chal);
    pg_free(&auth);
}

static inline void pg_http_ntlm_free(struct pg_http_ntlm *x)
{
    pg_free(&x->req1);
    pg_free(&x->resp1);
    pg_free(&x->req2);
    pg_free(&x->resp2);
}

/* Offset of the first occurrence of s in b (must exist). */
static inline size_t pg_find(const struct pg_buf *b, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= b->len; i++)
        if (memcmp(b->p + i, s, k) == 0)
            return i;
    fail_msg("\"%s\" not found", s);
    return 0;
}

#endif
