/* NTLM and SMB cryptography over a private OpenSSL 3 library context — MS-NLMP 3.3, 3.4.4, 3.4.5, 6;
 * MS-CIFS 3.1.5.1; MS-SMB2 3.1.4.1-3.1.4.2. */
#include "ntlmcrypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

struct ntlmc {
    OSSL_LIB_CTX *lib;
    OSSL_PROVIDER *legacy, *deflt;
    EVP_MD *md4, *md5, *sha256;
    EVP_CIPHER *des, *rc4, *aes128cbc;
    EVP_MAC *hmac, *cmac;
};

static void seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) {
        strncpy(err, msg, errlen - 1);
        err[errlen - 1] = '\0';
    }
}

struct ntlmc *ntlmc_new(char *err, size_t errlen)
{
    struct ntlmc *c = calloc(1, sizeof *c);
    if (!c) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    c->lib = OSSL_LIB_CTX_new();
    if (!c->lib) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }
    c->legacy = OSSL_PROVIDER_load(c->lib, "legacy");
    if (!c->legacy) {
        seterr(err, errlen,
               "OpenSSL legacy provider not available (MD4, DES and RC4 need it: install it, or set "
               "OPENSSL_MODULES to its directory)");
        goto fail;
    }
    c->deflt = OSSL_PROVIDER_load(c->lib, "default");
    if (!c->deflt) {
        seterr(err, errlen, "OpenSSL default provider not available");
        goto fail;
    }
    struct {
        void **dst;
        const char *name;
        int kind; /* 0 digest, 1 cipher, 2 mac */
    } want[] = {
        {(void **)&c->md4, "MD4", 0},        {(void **)&c->md5, "MD5", 0},
        {(void **)&c->sha256, "SHA256", 0},  {(void **)&c->des, "DES-ECB", 1},
        {(void **)&c->rc4, "RC4", 1},        {(void **)&c->aes128cbc, "AES-128-CBC", 1},
        {(void **)&c->hmac, "HMAC", 2},      {(void **)&c->cmac, "CMAC", 2},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        void *p = want[i].kind == 0   ? (void *)EVP_MD_fetch(c->lib, want[i].name, NULL)
                  : want[i].kind == 1 ? (void *)EVP_CIPHER_fetch(c->lib, want[i].name, NULL)
                                      : (void *)EVP_MAC_fetch(c->lib, want[i].name, NULL);
        if (!p) {
            char m[64];
            snprintf(m, sizeof m, "OpenSSL: cannot fetch %s", want[i].name);
            seterr(err, errlen, m);
            goto fail;
        }
        *want[i].dst = p;
    }
    return c;
fail:
    ntlmc_free(c);
    return NULL;
}

void ntlmc_free(struct ntlmc *c)
{
    if (!c)
        return;
    EVP_MD_free(c->md4);
    EVP_MD_free(c->md5);
    EVP_MD_free(c->sha256);
    EVP_CIPHER_free(c->des);
    EVP_CIPHER_free(c->rc4);
    EVP_CIPHER_free(c->aes128cbc);
    EVP_MAC_free(c->hmac);
    EVP_MAC_free(c->cmac);
    if (c->legacy)
        OSSL_PROVIDER_unload(c->legacy);
    if (c->deflt)
        OSSL_PROVIDER_unload(c->deflt);
    OSSL_LIB_CTX_free(c->lib);
    free(c);
}

/* ---- primitives -------------------------------------------------------------------------------------- */

struct part {
    const uint8_t *p;
    size_t n;
};

static int digest(const EVP_MD *md, const struct part *parts, size_t k, uint8_t *out)
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    int ok = x && EVP_DigestInit_ex(x, md, NULL);
    for (size_t i = 0; ok && i < k; i++)
        ok = EVP_DigestUpdate(x, parts[i].p, parts[i].n);
    ok = ok && EVP_DigestFinal_ex(x, out, NULL);
    EVP_MD_CTX_free(x);
    return ok ? 0 : -1;
}

static int hmac(const struct ntlmc *c, const char *md, const uint8_t *key, size_t keylen, const struct part *parts,
                size_t k, uint8_t *out, size_t outcap)
{
    EVP_MAC_CTX *x = EVP_MAC_CTX_new(c->hmac);
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
                            OSSL_PARAM_construct_end()};
    int ok = x && EVP_MAC_init(x, key, keylen, params);
    for (size_t i = 0; ok && i < k; i++)
        ok = EVP_MAC_update(x, parts[i].p, parts[i].n);
    size_t len = 0;
    ok = ok && EVP_MAC_final(x, out, &len, outcap);
    EVP_MAC_CTX_free(x);
    return ok ? 0 : -1;
}

static int hmac_md5(const struct ntlmc *c, const uint8_t *key, size_t keylen, const struct part *parts, size_t k,
                    uint8_t out[16])
{
    return hmac(c, "MD5", key, keylen, parts, k, out, 16);
}

/* 7 key bytes spread over 8 with odd parity (MS-NLMP 6, DES). */
static void des_key7(const uint8_t k7[7], uint8_t k8[8])
{
    k8[0] = k7[0];
    k8[1] = (uint8_t)(k7[0] << 7 | k7[1] >> 1);
    k8[2] = (uint8_t)(k7[1] << 6 | k7[2] >> 2);
    k8[3] = (uint8_t)(k7[2] << 5 | k7[3] >> 3);
    k8[4] = (uint8_t)(k7[3] << 4 | k7[4] >> 4);
    k8[5] = (uint8_t)(k7[4] << 3 | k7[5] >> 5);
    k8[6] = (uint8_t)(k7[5] << 2 | k7[6] >> 6);
    k8[7] = (uint8_t)(k7[6] << 1);
    for (int i = 0; i < 8; i++) {
        uint8_t b = k8[i] & 0xfe, par = 1;
        for (int j = 1; j < 8; j++)
            par ^= (uint8_t)((b >> j) & 1);
        k8[i] = b | par;
    }
}

/* DES-ECB of one 8-byte block under a 7-byte key. */
static int des7(const struct ntlmc *c, const uint8_t k7[7], const uint8_t in[8], uint8_t out[8])
{
    uint8_t k8[8];
    des_key7(k7, k8);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int len = 0;
    int ok = x && EVP_EncryptInit_ex2(x, c->des, k8, NULL, NULL) && EVP_CIPHER_CTX_set_padding(x, 0) &&
             EVP_EncryptUpdate(x, out, &len, in, 8) && len == 8;
    EVP_CIPHER_CTX_free(x);
    OPENSSL_cleanse(k8, sizeof k8);
    return ok ? 0 : -1;
}

/* An RC4 handle keyed with key, its keystream advanced by skip bytes. NULL on failure. */
static EVP_CIPHER_CTX *rc4_handle(const struct ntlmc *c, const uint8_t *key, size_t keylen, size_t skip)
{
    if (keylen == 0 || keylen > 256)
        return NULL;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    unsigned int kl = (unsigned int)keylen;
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_uint(OSSL_CIPHER_PARAM_KEYLEN, &kl), OSSL_PARAM_construct_end()};
    if (!x || !EVP_EncryptInit_ex2(x, c->rc4, NULL, NULL, params) || !EVP_EncryptInit_ex2(x, NULL, key, NULL, NULL)) {
        EVP_CIPHER_CTX_free(x);
        return NULL;
    }
    uint8_t junk[256];
    while (skip) {
        int chunk = skip > sizeof junk ? (int)sizeof junk : (int)skip, len = 0;
        memset(junk, 0, sizeof junk);
        if (!EVP_EncryptUpdate(x, junk, &len, junk, chunk)) {
            EVP_CIPHER_CTX_free(x);
            return NULL;
        }
        skip -= (size_t)chunk;
    }
    return x;
}

static int rc4_step(EVP_CIPHER_CTX *x, const uint8_t *in, uint8_t *out, size_t n)
{
    int len = 0;
    return n <= (size_t)INT32_MAX && EVP_EncryptUpdate(x, out, &len, in, (int)n) ? 0 : -1;
}

int ntlmc_rc4(const struct ntlmc *c, const uint8_t *key, size_t keylen, const uint8_t *in, uint8_t *out, size_t n)
{
    EVP_CIPHER_CTX *x = rc4_handle(c, key, keylen, 0);
    if (!x)
        return -1;
    int rc = rc4_step(x, in, out, n);
    EVP_CIPHER_CTX_free(x);
    return rc;
}

/* UTF-8 to UTF-16LE, ASCII letters uppercased when upper; returns the byte length or -1. */
static long utf8_to_utf16le(const char *s, bool upper, uint8_t *out, size_t cap)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t o = 0;
    while (*p) {
        uint32_t cp;
        int more;
        if (*p < 0x80) {
            cp = *p;
            more = 0;
        } else if ((*p & 0xe0) == 0xc0) {
            cp = *p & 0x1f;
            more = 1;
        } else if ((*p & 0xf0) == 0xe0) {
            cp = *p & 0x0f;
            more = 2;
        } else if ((*p & 0xf8) == 0xf0) {
            cp = *p & 0x07;
            more = 3;
        } else {
            return -1;
        }
        p++;
        for (int i = 0; i < more; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (*p & 0x3f);
        }
        if (upper && cp >= 'a' && cp <= 'z')
            cp -= 32;
        if (cp >= 0x10000) {
            if (cp > 0x10ffff || o + 4 > cap)
                return -1;
            cp -= 0x10000;
            uint16_t hi = (uint16_t)(0xd800 | cp >> 10), lo = (uint16_t)(0xdc00 | (cp & 0x3ff));
            out[o++] = (uint8_t)hi;
            out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)lo;
            out[o++] = (uint8_t)(lo >> 8);
        } else {
            if (o + 2 > cap)
                return -1;
            out[o++] = (uint8_t)cp;
            out[o++] = (uint8_t)(cp >> 8);
        }
    }
    return (long)o;
}

/* ---- one-way functions -------------------------------------------------------------------------------- */

int ntlmc_nt_hash(const struct ntlmc *c, const char *password, uint8_t out[NTLMC_KEY_LEN])
{
    uint8_t u[512];
    long n = utf8_to_utf16le(password, false, u, sizeof u);
    int rc = -1;
    if (n >= 0) {
        struct part p = {u, (size_t)n};
        rc = digest(c->md4, &p, 1, out);
    }
    OPENSSL_cleanse(u, sizeof u);
    return rc;
}

int ntlmc_lm_hash(const struct ntlmc *c, const char *password, uint8_t out[NTLMC_KEY_LEN])
{
    static const uint8_t magic[8] = {'K', 'G', 'S', '!', '@', '#', '$', '%'};
    uint8_t pw[14] = {0};
    size_t n = strlen(password);
    if (n > 14)
        return 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)password[i];
        if (b >= 0x80) {
            OPENSSL_cleanse(pw, sizeof pw);
            return 1;
        }
        pw[i] = b >= 'a' && b <= 'z' ? (uint8_t)(b - 32) : b;
    }
    int rc = des7(c, pw, magic, out) || des7(c, pw + 7, magic, out + 8) ? -1 : 0;
    OPENSSL_cleanse(pw, sizeof pw);
    return rc;
}

int ntlmc_ntowfv2(const struct ntlmc *c, const uint8_t nt_hash[NTLMC_KEY_LEN], const char *user, const char *domain,
                  uint8_t out[NTLMC_KEY_LEN])
{
    uint8_t u[1024];
    long a = utf8_to_utf16le(user, true, u, sizeof u / 2);
    long b = a < 0 ? -1 : utf8_to_utf16le(domain, false, u + a, sizeof u / 2);
    if (a < 0 || b < 0)
        return -1;
    struct part p = {u, (size_t)(a + b)};
    return hmac_md5(c, nt_hash, NTLMC_KEY_LEN, &p, 1, out);
}

/* ---- responses --------------------------------------------------------------------------------------- */

int ntlmc_desl(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t data[8], uint8_t out[24])
{
    uint8_t k[21] = {0};
    memcpy(k, key, 16);
    int rc = des7(c, k, data, out) || des7(c, k + 7, data, out + 8) || des7(c, k + 14, data, out + 16) ? -1 : 0;
    OPENSSL_cleanse(k, sizeof k);
    return rc;
}

int ntlmc_ntlmv1_ess_response(const struct ntlmc *c, const uint8_t nt_hash[NTLMC_KEY_LEN],
                              const uint8_t server_challenge[8], const uint8_t client_challenge[8], uint8_t out[24])
{
    uint8_t h[16];
    struct part p[2] = {{server_challenge, 8}, {client_challenge, 8}};
    if (digest(c->md5, p, 2, h))
        return -1;
    return ntlmc_desl(c, nt_hash, h, out);
}

int ntlmc_ntproofstr(const struct ntlmc *c, const uint8_t ntowfv2[NTLMC_KEY_LEN], const uint8_t server_challenge[8],
                     const uint8_t *blob, size_t blob_len, uint8_t out[NTLMC_KEY_LEN])
{
    struct part p[2] = {{server_challenge, 8}, {blob, blob_len}};
    return hmac_md5(c, ntowfv2, NTLMC_KEY_LEN, p, 2, out);
}

int ntlmc_lmv2_proof(const struct ntlmc *c, const uint8_t ntowfv2[NTLMC_KEY_LEN], const uint8_t server_challenge[8],
                     const uint8_t client_challenge[8], uint8_t out[NTLMC_KEY_LEN])
{
    struct part p[2] = {{server_challenge, 8}, {client_challenge, 8}};
    return hmac_md5(c, ntowfv2, NTLMC_KEY_LEN, p, 2, out);
}

/* ---- session keys --------------------------------------------------------------------------------------- */

int ntlmc_v1_session_base_key(const struct ntlmc *c, const uint8_t nt_hash[NTLMC_KEY_LEN], uint8_t out[NTLMC_KEY_LEN])
{
    struct part p = {nt_hash, NTLMC_KEY_LEN};
    return digest(c->md4, &p, 1, out);
}

int ntlmc_v2_session_base_key(const struct ntlmc *c, const uint8_t ntowfv2[NTLMC_KEY_LEN],
                              const uint8_t ntproofstr[NTLMC_KEY_LEN], uint8_t out[NTLMC_KEY_LEN])
{
    struct part p = {ntproofstr, NTLMC_KEY_LEN};
    return hmac_md5(c, ntowfv2, NTLMC_KEY_LEN, &p, 1, out);
}

/* NegotiateFlags bits used here (MS-NLMP 2.2.2.5; the names are ntlmssp.h's, not included at this layer). */
#define F_SIGN     0x00000010u
#define F_LM_KEY   0x00000080u
#define F_DATAGRAM 0x00000040u
#define F_ESS      0x00080000u
#define F_NON_NT   0x00400000u
#define F_128      0x20000000u
#define F_KEY_EXCH 0x40000000u
#define F_56       0x80000000u

enum ntlmc_kx ntlmc_kx_rule(uint32_t flags, bool v2)
{
    if (v2)
        return NTLMC_KX_SESSION_BASE;
    if (flags & F_ESS)
        return NTLMC_KX_ESS;
    if (flags & F_LM_KEY)
        return NTLMC_KX_LM_KEY;
    if (flags & F_NON_NT)
        return NTLMC_KX_NON_NT;
    return NTLMC_KX_SESSION_BASE;
}

int ntlmc_kxkey(const struct ntlmc *c, enum ntlmc_kx rule, const uint8_t session_base_key[NTLMC_KEY_LEN],
                const uint8_t *lm_hash, const uint8_t *lm_response, const uint8_t *server_challenge,
                uint8_t out[NTLMC_KEY_LEN])
{
    switch (rule) {
    case NTLMC_KX_SESSION_BASE:
        memcpy(out, session_base_key, NTLMC_KEY_LEN);
        return 0;
    case NTLMC_KX_LM_KEY: {
        if (!lm_hash || !lm_response)
            return -1;
        uint8_t k2[7] = {lm_hash[7], 0xbd, 0xbd, 0xbd, 0xbd, 0xbd, 0xbd};
        int rc = des7(c, lm_hash, lm_response, out) || des7(c, k2, lm_response, out + 8) ? -1 : 0;
        OPENSSL_cleanse(k2, sizeof k2);
        return rc;
    }
    case NTLMC_KX_NON_NT:
        if (!lm_hash)
            return -1;
        memcpy(out, lm_hash, 8);
        memset(out + 8, 0, 8);
        return 0;
    case NTLMC_KX_ESS: {
        if (!lm_response || !server_challenge)
            return -1;
        struct part p[2] = {{server_challenge, 8}, {lm_response, 8}};
        return hmac_md5(c, session_base_key, NTLMC_KEY_LEN, p, 2, out);
    }
    }
    return -1;
}

int ntlmc_signkey(const struct ntlmc *c, uint32_t flags, const uint8_t exported[NTLMC_KEY_LEN], bool client,
                  uint8_t out[NTLMC_KEY_LEN])
{
    static const char cs[] = "session key to client-to-server signing key magic constant";
    static const char sc[] = "session key to server-to-client signing key magic constant";
    if (!(flags & F_ESS))
        return 1;
    struct part p[2] = {{exported, NTLMC_KEY_LEN}, {(const uint8_t *)(client ? cs : sc), sizeof cs}};
    return digest(c->md5, p, 2, out);
}

int ntlmc_sealkey(const struct ntlmc *c, uint32_t flags, const uint8_t exported[NTLMC_KEY_LEN], bool client,
                  uint8_t out[NTLMC_KEY_LEN], size_t *len)
{
    static const char cs[] = "session key to client-to-server sealing key magic constant";
    static const char sc[] = "session key to server-to-client sealing key magic constant";
    if (flags & F_ESS) {
        size_t k = flags & F_128 ? 16 : flags & F_56 ? 7 : 5;
        struct part p[2] = {{exported, k}, {(const uint8_t *)(client ? cs : sc), sizeof cs}};
        *len = 16;
        return digest(c->md5, p, 2, out);
    }
    if (flags & (F_LM_KEY | F_DATAGRAM)) {
        /* 3.4.5.3: DATAGRAM counts only from NTLM revision W2K3 on, which the caller cannot tell here;
         * connection-oriented traffic (what hopscope sees) does not set it. */
        if (flags & F_56) {
            memcpy(out, exported, 7);
            out[7] = 0xa0;
            *len = 8;
        } else {
            memcpy(out, exported, 5);
            out[5] = 0xe5;
            out[6] = 0x38;
            out[7] = 0xb0;
            *len = 8;
        }
        return 0;
    }
    memcpy(out, exported, NTLMC_KEY_LEN);
    *len = 16;
    return 0;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

uint32_t ntlmc_crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int j = 0; j < 8; j++)
            crc = crc >> 1 ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

int ntlmc_mac(const struct ntlmc *c, uint32_t flags, const uint8_t sign_key[NTLMC_KEY_LEN], const uint8_t *seal_key,
              size_t seal_len, size_t keystream_used, uint32_t seqnum, const uint8_t *msg, size_t n, uint8_t out[16])
{
    uint8_t seq[4];
    put32le(seq, seqnum);
    put32le(out, 1);
    if (flags & F_ESS) {
        uint8_t h[16];
        struct part p[2] = {{seq, 4}, {msg, n}};
        if (hmac_md5(c, sign_key, NTLMC_KEY_LEN, p, 2, h))
            return -1;
        memcpy(out + 4, h, 8);
        memcpy(out + 12, seq, 4);
        if (flags & F_KEY_EXCH) {
            EVP_CIPHER_CTX *x = rc4_handle(c, seal_key, seal_len, keystream_used);
            int rc = x ? rc4_step(x, out + 4, out + 4, 8) : -1;
            EVP_CIPHER_CTX_free(x);
            return rc;
        }
        return 0;
    }
    uint8_t body[12] = {0};
    put32le(body + 4, ntlmc_crc32(msg, n));
    EVP_CIPHER_CTX *x = rc4_handle(c, seal_key, seal_len, keystream_used);
    int rc = x ? rc4_step(x, body, body, 12) : -1;
    EVP_CIPHER_CTX_free(x);
    for (int i = 0; i < 4; i++)
        body[8 + i] ^= seq[i];
    memset(out + 4, 0, 4); /* RandomPad is set to 0 after RC4 (3.4.4.1) */
    memcpy(out + 8, body + 4, 8);
    return rc;
}

int ntlmc_mic(const struct ntlmc *c, const uint8_t exported[NTLMC_KEY_LEN], const uint8_t *neg, size_t neg_len,
              const uint8_t *chal, size_t chal_len, const uint8_t *auth, size_t auth_len, size_t mic_off,
              uint8_t out[NTLMC_KEY_LEN])
{
    static const uint8_t zero[16];
    if (mic_off > auth_len || auth_len - mic_off < 16)
        return -1;
    struct part p[5] = {{neg, neg_len}, {chal, chal_len}, {auth, mic_off}, {zero, 16},
                        {auth + mic_off + 16, auth_len - mic_off - 16}};
    return hmac_md5(c, exported, NTLMC_KEY_LEN, p, 5, out);
}

/* ---- SMB -------------------------------------------------------------------------------------------------- */

int ntlmc_smb1_mac(const struct ntlmc *c, const uint8_t *mac_key, size_t mac_key_len, uint32_t seqnum,
                   const uint8_t *msg, size_t n, uint8_t out[8])
{
    if (n < 32)
        return -1;
    uint8_t seq[8] = {0}, h[16];
    put32le(seq, seqnum);
    struct part p[4] = {{mac_key, mac_key_len}, {msg, 14}, {seq, 8}, {msg + 22, n - 22}};
    if (digest(c->md5, p, 4, h))
        return -1;
    memcpy(out, h, 8);
    return 0;
}

int ntlmc_smb2_hmac(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t *msg, size_t n,
                    uint8_t out[16])
{
    static const uint8_t zero[16];
    uint8_t h[32];
    if (n < 64)
        return -1;
    struct part p[3] = {{msg, 48}, {zero, 16}, {msg + 64, n - 64}};
    if (hmac(c, "SHA256", key, NTLMC_KEY_LEN, p, 3, h, sizeof h))
        return -1;
    memcpy(out, h, 16);
    return 0;
}

static int cmac_parts(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const struct part *parts, size_t k,
                      uint8_t out[16])
{
    EVP_MAC_CTX *x = EVP_MAC_CTX_new(c->cmac);
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0),
                            OSSL_PARAM_construct_end()};
    int ok = x && EVP_MAC_init(x, key, NTLMC_KEY_LEN, params);
    for (size_t i = 0; ok && i < k; i++)
        ok = EVP_MAC_update(x, parts[i].p, parts[i].n);
    size_t len = 0;
    ok = ok && EVP_MAC_final(x, out, &len, 16);
    EVP_MAC_CTX_free(x);
    return ok ? 0 : -1;
}

int ntlmc_aes_cmac(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t *msg, size_t n,
                   uint8_t out[16])
{
    struct part p = {msg, n};
    return cmac_parts(c, key, &p, 1, out);
}

int ntlmc_smb3_cmac(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t *msg, size_t n,
                    uint8_t out[16])
{
    static const uint8_t zero[16];
    if (n < 64)
        return -1;
    struct part p[3] = {{msg, 48}, {zero, 16}, {msg + 64, n - 64}};
    return cmac_parts(c, key, p, 3, out);
}

int ntlmc_smb3_kdf(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t *label, size_t label_len,
                   const uint8_t *context, size_t context_len, uint8_t out[NTLMC_KEY_LEN])
{
    static const uint8_t one[4] = {0, 0, 0, 1}, sep[1] = {0}, l128[4] = {0, 0, 0, 0x80};
    uint8_t h[32];
    struct part p[5] = {{one, 4}, {label, label_len}, {sep, 1}, {context, context_len}, {l128, 4}};
    if (hmac(c, "SHA256", key, NTLMC_KEY_LEN, p, 5, h, sizeof h))
        return -1;
    memcpy(out, h, 16);
    OPENSSL_cleanse(h, sizeof h);
    return 0;
}

bool ntlmc_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
