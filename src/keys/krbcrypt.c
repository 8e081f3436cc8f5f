/* Keytabs and Kerberos decryption with MIT libkrb5 — RFC 4120 5.3 (EncTicketPart), 5.5.1 (Authenticator),
 * 5.8 (KRB-CRED), RFC 3961 (decryption, key usages), RFC 4121 4.1.1 (GSS checksum), MS-PAC 2.3-2.10 (PAC)
 * and MS-RPCE 2.2.6 (NDR type serialization version 1, for KERB_VALIDATION_INFO).
 *
 * Everything after decryption is still hostile input (a key holder — or a forger of a keytab's
 * key — chooses it): every read goes through struct rd / der_next, every offset and count is checked
 * against the buffer before use. Key material lives only in memory and is wiped when released; this
 * module prints nothing.
 */
#include "krbcrypt.h"
#include "krbcrypt_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <krb5.h>

#include "der.h"
#include "reader.h"
#include "util.h"

/* Largest keytab file read (4096 keys of a few hundred bytes fit many times over). */
#define KC_MAX_KEYTAB_BYTES (16u << 20)
/* RPC_SID (MS-DTYP 2.4.2.3): at most 15 sub-authorities. */
#define KC_SID_MAX_SUBAUTH 15

#define KERB_AD_IF_RELEVANT 1
#define KERB_AD_WIN2K_PAC   128
#define PAC_LOGON_INFO      1
#define PAC_CLIENT_INFO     10
#define PAC_UPN_DNS_INFO    12
#define GSS_CHECKSUM_TYPE   0x8003

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

void kc_free_plain(uint8_t *p, size_t n)
{
    if (!p)
        return;
    wipe(p, n);
    free(p);
}

/* out = a + sep + b, cut to cap (cap >= 1). */
static void join3(char *out, size_t cap, const char *a, const char *sep, const char *b)
{
    size_t o = 0;
    const char *parts[3] = {a, sep, b};
    for (int i = 0; i < 3; i++)
        for (const char *s = parts[i]; *s && o + 1 < cap; s++)
            out[o++] = *s;
    out[o] = '\0';
}

/* ---- libkrb5 context and key loading ------------------------------------------------------- */

static krb5_context get_ctx(struct kc_keys *k, char *err, size_t errlen)
{
    if (k->ctx)
        return k->ctx;
    krb5_context c = NULL;
    krb5_error_code ret = krb5_init_context(&c);
    if (ret) {
        if (err) {
            const char *m = krb5_get_error_message(NULL, ret);
            snprintf(err, errlen, "cannot initialise libkrb5: %s", m ? m : "unknown error");
            krb5_free_error_message(NULL, m);
        }
        return NULL;
    }
    k->ctx = c;
    return c;
}

/* Reads the whole file (at most KC_MAX_KEYTAB_BYTES) into *buf. */
static int read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read keytab: %s", strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    if (!b) {
        fclose(f);
        snprintf(err, errlen, "cannot read keytab: out of memory");
        return -1;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= KC_MAX_KEYTAB_BYTES) {
                kc_free_plain(b, n);
                fclose(f);
                snprintf(err, errlen, "not a keytab (larger than %u bytes)", KC_MAX_KEYTAB_BYTES);
                return -1;
            }
            uint8_t *nb = malloc(cap * 2);
            if (!nb) {
                kc_free_plain(b, n);
                fclose(f);
                snprintf(err, errlen, "cannot read keytab: out of memory");
                return -1;
            }
            memcpy(nb, b, n);
            kc_free_plain(b, n);
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                kc_free_plain(b, n);
                fclose(f);
                snprintf(err, errlen, "cannot read keytab: %s", strerror(e ? e : EIO));
                return -1;
            }
            break;
        }
    }
    fclose(f);
    *buf = b;
    *len = n;
    return 0;
}

/*
 * Walks the records of an MIT keytab file (version 0x0501: host order, 0x0502: big-endian; each record
 * is a signed 32-bit size, negative for a hole, 0 for the end) so that a truncated or corrupt file is
 * reported instead of silently yielding fewer keys (libkrb5 treats a short read as the end).
 * Returns the number of entries, or -1 with err set.
 */
static long check_keytab(const uint8_t *b, size_t n, char *err, size_t errlen)
{
    if (n < 2 || b[0] != 0x05 || (b[1] != 0x01 && b[1] != 0x02)) {
        snprintf(err, errlen, "not a keytab");
        return -1;
    }
    bool be = b[1] == 0x02;
    size_t pos = 2;
    long count = 0;
    while (pos < n) {
        if (n - pos < 4) {
            snprintf(err, errlen, "not a keytab (truncated record at byte %zu)", pos);
            return -1;
        }
        uint32_t u;
        if (be) {
            u = ld_u32be(b + pos);
        } else {
            memcpy(&u, b + pos, 4);
        }
        int32_t size = (int32_t)u;
        pos += 4;
        if (size == 0)
            break;
        if (size == INT32_MIN) {
            snprintf(err, errlen, "not a keytab (bad record size at byte %zu)", pos - 4);
            return -1;
        }
        size_t len = size < 0 ? (size_t)(-(int64_t)size) : (size_t)size;
        if (len > n - pos) {
            snprintf(err, errlen, "not a keytab (truncated record at byte %zu)", pos - 4);
            return -1;
        }
        if (size > 0)
            count++;
        pos += len;
    }
    return count;
}

/* Appends one key to k (growing the array without leaving key bytes in freed memory). */
static int add_key(struct kc_keys *k, const struct kc_key *key)
{
    size_t n = k->n;
    bool grow = n == 0 || (n >= 16 && (n & (n - 1)) == 0);
    if (grow) {
        size_t cap = n == 0 ? 16 : n * 2;
        struct kc_key *nk = calloc(cap, sizeof *nk);
        if (!nk)
            return -1;
        if (n) {
            memcpy(nk, k->keys, n * sizeof *nk);
            wipe(k->keys, n * sizeof *nk);
        }
        free(k->keys);
        k->keys = nk;
    }
    k->keys[k->n++] = *key;
    return 0;
}

static void rollback(struct kc_keys *k, size_t to)
{
    if (k->n > to)
        wipe(k->keys + to, (k->n - to) * sizeof *k->keys);
    k->n = to;
}

int kc_load_keytab(struct kc_keys *k, const char *path, char *err, size_t errlen)
{
    char dummy[160];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!k || !path || !*path) {
        snprintf(err, errlen, "cannot read keytab: no file name");
        return -1;
    }

    uint8_t *buf;
    size_t len;
    if (read_file(path, &buf, &len, err, errlen) != 0)
        return -1;
    long records = check_keytab(buf, len, err, errlen);
    kc_free_plain(buf, len);
    if (records < 0)
        return -1;
    if (records == 0) {
        snprintf(err, errlen, "no keys");
        return -1;
    }
    if ((size_t)records > KC_MAX_KEYS - k->n) {
        snprintf(err, errlen, "too many keys (at most %d in all)", KC_MAX_KEYS);
        return -1;
    }

    krb5_context ctx = get_ctx(k, err, errlen);
    if (!ctx)
        return -1;
    size_t nlen = strlen(path) + sizeof "FILE:";
    char *name = malloc(nlen);
    if (!name) {
        snprintf(err, errlen, "cannot read keytab: out of memory");
        return -1;
    }
    snprintf(name, nlen, "FILE:%s", path);

    krb5_keytab kt = NULL;
    krb5_kt_cursor cur;
    krb5_keytab_entry e;
    size_t start = k->n;
    long seen = 0;
    int rc = -1;
    krb5_error_code ret = krb5_kt_resolve(ctx, name, &kt);
    free(name);
    if (ret)
        goto kerr;
    ret = krb5_kt_start_seq_get(ctx, kt, &cur);
    if (ret)
        goto kerr;
    while ((ret = krb5_kt_next_entry(ctx, kt, &e, &cur)) == 0) {
        seen++;
        struct kc_key key;
        memset(&key, 0, sizeof key);
        if (e.key.length > 0 && e.key.length <= sizeof key.key && e.key.contents) {
            char *pn = NULL;
            if (krb5_unparse_name(ctx, e.principal, &pn) == 0 && pn) {
                strlcpy_n(key.principal, sizeof key.principal, pn, strlen(pn));
                krb5_free_unparsed_name(ctx, pn);
            }
            key.kvno = e.vno;
            key.enctype = e.key.enctype;
            memcpy(key.key, e.key.contents, e.key.length);
            key.keylen = e.key.length;
            strlcpy_n(key.source, sizeof key.source, path, strlen(path));
            int added = add_key(k, &key);
            wipe(&key, sizeof key);
            if (added != 0) {
                krb5_free_keytab_entry_contents(ctx, &e);
                krb5_kt_end_seq_get(ctx, kt, &cur);
                snprintf(err, errlen, "cannot read keytab: out of memory");
                goto out;
            }
        }
        krb5_free_keytab_entry_contents(ctx, &e);
    }
    krb5_kt_end_seq_get(ctx, kt, &cur);
    if (ret != KRB5_KT_END)
        goto kerr;
    if (seen != records) {
        snprintf(err, errlen, "not a keytab (corrupt entry)");
        goto out;
    }
    if (k->n == start) {
        snprintf(err, errlen, "no keys");
        goto out;
    }
    rc = 0;
    goto out;
kerr: {
    const char *m = krb5_get_error_message(ctx, ret);
    snprintf(err, errlen, "cannot read keytab: %s", m ? m : "unknown error");
    krb5_free_error_message(ctx, m);
}
out:
    if (kt)
        krb5_kt_close(ctx, kt);
    if (rc != 0)
        rollback(k, start);
    return rc;
}

void kc_free(struct kc_keys *k)
{
    if (!k)
        return;
    if (k->keys) {
        wipe(k->keys, k->n * sizeof *k->keys);
        free(k->keys);
    }
    if (k->ctx)
        krb5_free_context(k->ctx);
    memset(k, 0, sizeof *k);
}

/* ---- decryption ---------------------------------------------------------------------------- */

int kc_decrypt_raw(struct kc_keys *k, int32_t enctype, const uint8_t *key, size_t keylen, int usage,
                   const uint8_t *cipher, size_t n, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (!k || !key || keylen == 0 || keylen > 64 || !cipher || n == 0 || n > KC_MAX_CIPHER || usage < 0)
        return -1;
    krb5_context ctx = get_ctx(k, NULL, 0);
    if (!ctx)
        return -1;
    size_t keybytes = 0, keylength = 0;
    if (krb5_c_keylengths(ctx, enctype, &keybytes, &keylength) != 0 || keylength != keylen)
        return -1;

    krb5_keyblock kb;
    memset(&kb, 0, sizeof kb);
    kb.magic = KV5M_KEYBLOCK;
    kb.enctype = enctype;
    kb.length = (unsigned int)keylen;
    kb.contents = (krb5_octet *)(uintptr_t)key;

    krb5_enc_data ed;
    memset(&ed, 0, sizeof ed);
    ed.magic = KV5M_ENC_DATA;
    ed.enctype = enctype;
    ed.ciphertext.magic = KV5M_DATA;
    ed.ciphertext.length = (unsigned int)n;
    ed.ciphertext.data = (char *)(uintptr_t)cipher;

    krb5_data pt;
    memset(&pt, 0, sizeof pt);
    pt.magic = KV5M_DATA;
    pt.length = (unsigned int)n;
    pt.data = malloc(n);
    if (!pt.data)
        return -1;
    krb5_error_code ret = krb5_c_decrypt(ctx, &kb, (krb5_keyusage)usage, NULL, &ed, &pt);
    if (ret || pt.length > n) {
        kc_free_plain((uint8_t *)pt.data, n);
        return -1;
    }
    *out = (uint8_t *)pt.data;
    *outlen = pt.length;
    return 0;
}

/* EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING }. A key too long for
 * struct kc_session_key is left absent; only a malformed encoding fails. */
static bool get_enc_key(const struct der_tlv *f, struct kc_session_key *k)
{
    struct rd r;
    struct der_tlv g;
    int64_t type = 0;
    const uint8_t *val = NULL;
    size_t len = 0;
    bool have_type = false;
    memset(k, 0, sizeof *k);
    if (!der_get_seq(f, &r))
        return false;
    while (rd_left(&r)) {
        if (!der_next(&r, &g) || g.cls != DER_CONTEXT)
            return false;
        if (g.tag == 0) {
            if (!der_get_int(&g, &type))
                return false;
            have_type = true;
        } else if (g.tag == 1) {
            if (!der_get_octets(&g, &val, &len))
                return false;
        }
    }
    if (!have_type || !val)
        return false;
    if (len > 0 && len <= sizeof k->key && type >= INT32_MIN && type <= INT32_MAX) {
        k->present = true;
        k->enctype = (int32_t)type;
        memcpy(k->key, val, len);
        k->keylen = len;
    }
    return true;
}

/* EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING } */
static bool get_enc_data(const struct der_tlv *f, int32_t *etype, const uint8_t **cipher, size_t *len)
{
    struct rd r;
    struct der_tlv g;
    int64_t x;
    bool have_etype = false;
    *cipher = NULL;
    *len = 0;
    if (!der_get_seq(f, &r))
        return false;
    while (rd_left(&r)) {
        if (!der_next(&r, &g) || g.cls != DER_CONTEXT)
            return false;
        if (g.tag == 0) {
            if (!der_get_int(&g, &x) || x < INT32_MIN || x > INT32_MAX)
                return false;
            *etype = (int32_t)x;
            have_etype = true;
        } else if (g.tag == 2) {
            if (!der_get_octets(&g, cipher, len))
                return false;
        }
    }
    return have_etype && *cipher != NULL;
}

/* Reads [APPLICATION app] SEQUENCE at the start of p[n] into a reader over the SEQUENCE's content. */
static bool app_seq(const uint8_t *p, size_t n, uint32_t app, struct rd *out)
{
    struct rd r = rd_make(p, n);
    struct der_tlv a, s;
    if (!p || !der_expect(&r, DER_APPLICATION, app, &a) || !a.constructed)
        return false;
    struct rd ar = der_inner(&a);
    if (!der_expect(&ar, DER_UNIVERSAL, DER_TAG_SEQUENCE, &s) || !s.constructed)
        return false;
    *out = der_inner(&s);
    return true;
}

/* Marks context tag `tag` seen; false if it was already (a repeated field is malformed). */
static bool mark(uint32_t *seen, uint32_t tag)
{
    if (tag >= 32)
        return true;
    if (*seen & (1u << tag))
        return false;
    *seen |= 1u << tag;
    return true;
}

/* ---- PAC (MS-PAC 2.3-2.10) ------------------------------------------------------------------ */

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

/* ---- EncTicketPart ------------------------------------------------------------------------- */

int kc_parse_enc_ticket_part(const uint8_t *p, size_t n, struct kc_ticket *t)
{
    if (!t)
        return -1;
    char kp[KC_NAME_MAX];
    uint32_t kv = t->key_kvno;
    memcpy(kp, t->key_principal, sizeof kp);
    memset(t, 0, sizeof *t);
    memcpy(t->key_principal, kp, sizeof kp);
    t->key_kvno = kv;

    struct rd s;
    struct der_tlv f;
    uint32_t seen = 0;
    const uint8_t *ad = NULL;
    size_t adlen = 0;
    if (!app_seq(p, n, 3, &s))
        goto bad;
    while (rd_left(&s)) {
        if (!der_next(&s, &f) || f.cls != DER_CONTEXT || !f.constructed || !mark(&seen, f.tag))
            goto bad;
        switch (f.tag) {
        case 0:
            if (!der_get_bits32(&f, &t->flags))
                goto bad;
            break;
        case 1:
            if (!get_enc_key(&f, &t->session_key))
                goto bad;
            break;
        case 2:
            if (!der_get_string(&f, t->crealm, sizeof t->crealm))
                goto bad;
            break;
        case 3:
            if (!der_get_principal(&f, t->cname, sizeof t->cname, NULL))
                goto bad;
            break;
        case 4: { /* TransitedEncoding ::= SEQUENCE { tr-type [0] Int32, contents [1] OCTET STRING } */
            struct rd tr;
            struct der_tlv g;
            if (!der_get_seq(&f, &tr))
                break;
            while (rd_left(&tr) && der_next(&tr, &g)) {
                const uint8_t *v;
                size_t vl;
                if (g.cls == DER_CONTEXT && g.tag == 1 && der_get_octets(&g, &v, &vl)) {
                    size_t o = 0;
                    for (size_t i = 0; i < vl && o + 1 < sizeof t->transited; i++)
                        t->transited[o++] = (v[i] >= 0x20 && v[i] < 0x7f) ? (char)v[i] : '?';
                    t->transited[o] = '\0';
                }
            }
            break;
        }
        case 5:
            if (!der_get_time(&f, t->authtime, sizeof t->authtime))
                goto bad;
            break;
        case 6:
            if (!der_get_time(&f, t->starttime, sizeof t->starttime))
                goto bad;
            break;
        case 7:
            if (!der_get_time(&f, t->endtime, sizeof t->endtime))
                goto bad;
            break;
        case 8:
            if (!der_get_time(&f, t->renew_till, sizeof t->renew_till))
                goto bad;
            break;
        case 10: {
            struct der_tlv v;
            if (der_explicit(&f, &v)) {
                ad = f.val; /* the whole AuthorizationData SEQUENCE TLV */
                adlen = f.len;
            }
            break;
        }
        default: /* caddr [9], extensions */
            break;
        }
    }
    if ((seen & 0xF) != 0xF)
        goto bad;
    if (ad)
        (void)kc_parse_authorization_data(ad, adlen, t, 0);
    return 0;
bad:
    memset(t, 0, sizeof *t);
    memcpy(t->key_principal, kp, sizeof kp);
    t->key_kvno = kv;
    return -1;
}

static bool kvno_matches(const struct kc_key *key, int64_t kvno)
{
    if (kvno < 0)
        return true;
    if ((uint64_t)kvno == key->kvno)
        return true;
    /* A keytab entry without the 32-bit kvno extension holds only its low 8 bits. */
    return key->kvno <= 0xFF && key->kvno == ((uint64_t)kvno & 0xFF);
}

int kc_decrypt_ticket(struct kc_keys *k, int32_t etype, int64_t kvno, const uint8_t *cipher, size_t n,
                      struct kc_ticket *t)
{
    if (!t)
        return -1;
    memset(t, 0, sizeof *t);
    if (!k || !k->keys || !cipher || n == 0 || n > KC_MAX_CIPHER)
        return -1;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < k->n; i++) {
            const struct kc_key *key = &k->keys[i];
            if (key->enctype != etype || kvno_matches(key, kvno) != (pass == 0))
                continue;
            uint8_t *pt;
            size_t pl;
            if (kc_decrypt_raw(k, etype, key->key, key->keylen, KU_TICKET, cipher, n, &pt, &pl) != 0)
                continue;
            int rc = kc_parse_enc_ticket_part(pt, pl, t);
            kc_free_plain(pt, pl);
            if (rc == 0) {
                strlcpy_n(t->key_principal, sizeof t->key_principal, key->principal, sizeof key->principal);
                t->key_kvno = key->kvno;
                t->decrypted = true;
                return 0;
            }
        }
    }
    memset(t, 0, sizeof *t);
    return -1;
}

/* ---- Authenticator, GSS checksum, KRB-CRED -------------------------------------------------- */

int kc_parse_enc_krb_cred_part(const uint8_t *p, size_t n, struct kc_authenticator *a)
{
    struct rd s, list, info;
    struct der_tlv f, el, g;
    if (!a || !app_seq(p, n, 29, &s))
        return -1;
    bool found = false;
    while (rd_left(&s)) {
        if (!der_next(&s, &f) || f.cls != DER_CONTEXT)
            return -1;
        if (f.tag != 0)
            continue;
        if (!der_get_seq(&f, &list))
            return -1;
        if (!der_expect(&list, DER_UNIVERSAL, DER_TAG_SEQUENCE, &el) || !el.constructed)
            return -1;
        found = true;
        break;
    }
    if (!found)
        return -1;

    /* KrbCredInfo ::= SEQUENCE { key [0], prealm [1], pname [2], flags [3], authtime [4], starttime [5],
     *                            endtime [6], renew-till [7], srealm [8], sname [9], caddr [10] } */
    char prealm[KC_NAME_MAX] = "", pname[KC_NAME_MAX] = "", srealm[KC_NAME_MAX] = "", sname[KC_NAME_MAX] = "";
    uint32_t flags = 0, seen = 0;
    info = der_inner(&el);
    while (rd_left(&info)) {
        if (!der_next(&info, &g) || g.cls != DER_CONTEXT || !mark(&seen, g.tag))
            return -1;
        bool ok = true;
        switch (g.tag) {
        case 1:
            ok = der_get_string(&g, prealm, sizeof prealm);
            break;
        case 2:
            ok = der_get_principal(&g, pname, sizeof pname, NULL);
            break;
        case 3:
            ok = der_get_bits32(&g, &flags);
            break;
        case 8:
            ok = der_get_string(&g, srealm, sizeof srealm);
            break;
        case 9:
            ok = der_get_principal(&g, sname, sizeof sname, NULL);
            break;
        default:
            break;
        }
        if (!ok)
            return -1;
    }
    if (!(seen & 1)) /* key [0] is the only required field */
        return -1;
    if (pname[0])
        join3(a->deleg_principal, sizeof a->deleg_principal, pname, prealm[0] ? "@" : "", prealm);
    if (sname[0])
        join3(a->deleg_sname, sizeof a->deleg_sname, sname, srealm[0] ? "@" : "", srealm);
    a->deleg_flags = flags;
    a->deleg_decrypted = true;
    return 0;
}

int kc_parse_krb_cred(struct kc_keys *k, const struct kc_session_key *sk, const uint8_t *p, size_t n,
                      struct kc_authenticator *a)
{
    struct rd s;
    struct der_tlv f;
    int32_t etype = 0;
    const uint8_t *cipher = NULL;
    size_t clen = 0;
    uint32_t seen = 0;
    if (!a || !app_seq(p, n, 22, &s))
        return -1;
    while (rd_left(&s)) {
        if (!der_next(&s, &f) || f.cls != DER_CONTEXT || !mark(&seen, f.tag))
            return -1;
        if (f.tag == 1) {
            int64_t mt;
            if (!der_get_int(&f, &mt) || mt != 22)
                return -1;
        } else if (f.tag == 3) {
            if (!get_enc_data(&f, &etype, &cipher, &clen))
                return -1;
        }
    }
    if (!cipher)
        return -1;
    if (etype == 0) /* RFC 4120 5.8.1 / RFC 4121 4.1.1: in the clear */
        return kc_parse_enc_krb_cred_part(cipher, clen, a);
    /* RFC 4121 says the ticket's session key; some implementations use the authenticator subkey. */
    const struct kc_session_key *keys[2] = {sk, a->subkey.present ? &a->subkey : NULL};
    for (int i = 0; i < 2; i++) {
        const struct kc_session_key *key = keys[i];
        if (!k || !key || !key->present || key->enctype != etype)
            continue;
        uint8_t *pt;
        size_t pl;
        if (kc_decrypt_raw(k, etype, key->key, key->keylen, KU_KRB_CRED_ENC, cipher, clen, &pt, &pl) != 0)
            continue;
        int rc = kc_parse_enc_krb_cred_part(pt, pl, a);
        kc_free_plain(pt, pl);
        return rc;
    }
    return -1;
}

int kc_parse_gss_checksum(struct kc_keys *k, const struct kc_session_key *sk, const uint8_t *p, size_t n,
                          struct kc_authenticator *a)
{
    if (!p || !a)
        return -1;
    struct rd r = rd_make(p, n);
    uint32_t lgth = rd_u32le(&r);
    rd_skip(&r, 16); /* Bnd: MD5 of the channel bindings */
    uint32_t flags = rd_u32le(&r);
    if (r.err || lgth != 16)
        return -1;
    a->has_gss_flags = true;
    a->gss_flags = flags;
    if (!(flags & GSS_C_DELEG_FLAG) || rd_left(&r) == 0)
        return 0; /* DELEG without credentials happens (the flag is then meaningless) */
    uint16_t opt = rd_u16le(&r);
    uint16_t dlen = rd_u16le(&r);
    const uint8_t *deleg = rd_bytes(&r, dlen);
    if (r.err || opt != 1 || dlen == 0)
        return -1;
    a->has_deleg = true;
    (void)kc_parse_krb_cred(k, sk, deleg, dlen, a);
    return 0;
}

int kc_parse_authenticator(struct kc_keys *k, const struct kc_session_key *sk, const uint8_t *p, size_t n,
                           struct kc_authenticator *a)
{
    if (!a)
        return -1;
    bool dec = a->decrypted;
    memset(a, 0, sizeof *a);
    a->decrypted = dec;

    struct rd s;
    struct der_tlv f;
    uint32_t seen = 0;
    const uint8_t *ck = NULL;
    size_t cklen = 0;
    int64_t x;
    if (!app_seq(p, n, 2, &s))
        goto bad;
    while (rd_left(&s)) {
        if (!der_next(&s, &f) || f.cls != DER_CONTEXT || !f.constructed || !mark(&seen, f.tag))
            goto bad;
        switch (f.tag) {
        case 1:
            if (!der_get_string(&f, a->crealm, sizeof a->crealm))
                goto bad;
            break;
        case 2:
            if (!der_get_principal(&f, a->cname, sizeof a->cname, NULL))
                goto bad;
            break;
        case 3: { /* Checksum ::= SEQUENCE { cksumtype [0] Int32, checksum [1] OCTET STRING } */
            struct rd c;
            struct der_tlv g;
            if (!der_get_seq(&f, &c))
                goto bad;
            while (rd_left(&c)) {
                if (!der_next(&c, &g) || g.cls != DER_CONTEXT)
                    goto bad;
                if (g.tag == 0) {
                    if (!der_get_int(&g, &x) || x < INT32_MIN || x > INT32_MAX)
                        goto bad;
                    a->cksum_type = (int32_t)x;
                } else if (g.tag == 1) {
                    if (!der_get_octets(&g, &ck, &cklen))
                        goto bad;
                }
            }
            break;
        }
        case 5:
            if (!der_get_time(&f, a->ctime, sizeof a->ctime))
                goto bad;
            break;
        case 6:
            if (!get_enc_key(&f, &a->subkey))
                goto bad;
            break;
        case 7:
            if (!der_get_int(&f, &x))
                goto bad;
            a->has_seq = true;
            a->seq = (uint32_t)x; /* some encoders send it as a negative INTEGER */
            break;
        default: /* authenticator-vno [0], cusec [4], authorization-data [8] */
            break;
        }
    }
    if ((seen & 0x26) != 0x26) /* crealm, cname, ctime */
        goto bad;
    /* After the loop, so that a subkey is known when the KRB-CRED is opened. */
    if (a->cksum_type == GSS_CHECKSUM_TYPE && ck)
        (void)kc_parse_gss_checksum(k, sk, ck, cklen, a);
    return 0;
bad:
    memset(a, 0, sizeof *a);
    a->decrypted = dec;
    return -1;
}

int kc_decrypt_authenticator(struct kc_keys *k, const struct kc_session_key *sk, int usage, int32_t etype,
                             const uint8_t *cipher, size_t n, struct kc_authenticator *a)
{
    if (!a)
        return -1;
    memset(a, 0, sizeof *a);
    if (!k || !sk || !sk->present || sk->enctype != etype || !cipher || n == 0)
        return -1;
    uint8_t *pt;
    size_t pl;
    if (kc_decrypt_raw(k, etype, sk->key, sk->keylen, usage, cipher, n, &pt, &pl) != 0)
        return -1;
    int rc = kc_parse_authenticator(k, sk, pt, pl, a);
    kc_free_plain(pt, pl);
    if (rc != 0) {
        memset(a, 0, sizeof *a);
        return -1;
    }
    a->decrypted = true;
    return 0;
}

static const struct tok gss_flag_names[] = {
    {GSS_C_DELEG_FLAG, "DELEG"}, {GSS_C_MUTUAL_FLAG, "MUTUAL"}, {GSS_C_REPLAY_FLAG, "REPLAY"},
    {GSS_C_SEQUENCE_FLAG, "SEQUENCE"}, {GSS_C_CONF_FLAG, "CONF"}, {GSS_C_INTEG_FLAG, "INTEG"},
    {0x40, "ANON"}, {0x80, "PROT_READY"}, {0x100, "TRANS"}, {GSS_C_DCE_STYLE, "DCE_STYLE"},
    {0x2000, "IDENTIFY"}, {0x4000, "EXTENDED_ERROR"}, {0, NULL},
};

const char *kc_gss_flag_name(uint32_t bit)
{
    return tok_name(gss_flag_names, bit);
}
