/* Kerberos decryption with keytab and session keys — RFC 3961 (key usages), RFC 4120 5.3/5.5.1/5.8, RFC 4121 4.1.1. */
/*
 * Opens ticket enc-parts (EncTicketPart), authenticators and the KRB-CRED of a GSS checksum with MIT
 * libkrb5, and parses the plaintext; the PAC inside a ticket is pac.c's. Everything after decryption is
 * still hostile input (a key holder — or a forger of a keytab's key — chooses it): every read goes
 * through struct rd / der_next, every offset and count is checked against the buffer before use.
 * Plaintext is wiped when released; this module prints nothing.
 */
#include "krbdecrypt.h"
#include "keytab_internal.h"
#include "krbdecrypt_internal.h"
#include "pac.h"

#include <stdlib.h>
#include <string.h>

#include <krb5.h>

#include "der.h"
#include "reader.h"
#include "util.h"

#define GSS_CHECKSUM_TYPE 0x8003 /* RFC 4121 4.1.1 */

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

/* ---- decryption ---------------------------------------------------------------------------- */

int kc_decrypt_raw(struct kc_keys *k, int32_t enctype, const uint8_t *key, size_t keylen, int usage,
                   const uint8_t *cipher, size_t n, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (!k || !key || keylen == 0 || keylen > 64 || !cipher || n == 0 || n > KC_MAX_CIPHER || usage < 0)
        return -1;
    krb5_context ctx = kc_krb5_context(k, NULL, 0);
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

/* ---- RFC 4120 types in DER ----------------------------------------------------------------- */

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
