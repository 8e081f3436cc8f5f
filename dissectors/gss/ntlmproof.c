/* NTLM with credentials — MS-NLMP 3.3 (responses), 3.4.5 (keys), 3.4.4 (signatures), 3.1.5.1.2 (MIC);
 * MS-CIFS 3.1.5.1 (SMB1 MAC); MS-RPCE 2.2.2.11 (DCE/RPC verifiers). */
#include "ntlmproof.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "creds.h"
#include "ctx.h"
#include "ntlmcrypto.h"
#include "record.h"

struct ntlm_proof *ntlm_proof_get(struct hs_ctx *ctx, struct auth_rec *r)
{
    if (!ctx->creds)
        return NULL;
    if (!r->gss.ntlm.proof) {
        r->gss.ntlm.proof = calloc(1, sizeof *r->gss.ntlm.proof);
        r->gss.ntlm.proof_size = r->gss.ntlm.proof ? sizeof *r->gss.ntlm.proof : 0;
        if (r->gss.ntlm.proof) {
            r->gss.ntlm.proof->nt_verified = r->gss.ntlm.proof->lm_verified = NTLM_UNCHECKED;
            r->gss.ntlm.proof->mic_verified = NTLM_UNCHECKED;
        }
    }
    return r->gss.ntlm.proof;
}

void ntlm_proof_keep(struct ntlm_proof *pf, uint32_t type, const uint8_t *p, size_t n)
{
    uint8_t *dst = type == NTLMSSP_NEGOTIATE_MESSAGE ? pf->neg : pf->chal;
    uint16_t *len = type == NTLMSSP_NEGOTIATE_MESSAGE ? &pf->neg_len : &pf->chal_len;
    bool *kept = type == NTLMSSP_NEGOTIATE_MESSAGE ? &pf->neg_kept : &pf->chal_kept;
    *kept = n <= NTLM_KEEP_MAX;
    *len = *kept ? (uint16_t)n : 0;
    if (*kept)
        memcpy(dst, p, n);
}

/* Adds a keyset from a key exchange key: KEY_EXCH decrypts the client's key (enc, 16 bytes, or NULL). */
static void add_keyset(const struct ntlmc *c, struct ntlm_proof *pf, const char *name, const uint8_t kx[16],
                       const uint8_t *enc)
{
    if (pf->nkeys == NTLM_PROOF_KEYS)
        return;
    struct ntlm_keyset *k = &pf->keys[pf->nkeys];
    memset(k, 0, sizeof *k);
    k->name = name;
    if ((pf->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) && enc) {
        if (ntlmc_rc4(c, kx, 16, enc, k->exported, 16))
            return;
    } else {
        memcpy(k->exported, kx, 16);
    }
    size_t l0 = 0, l1 = 0;
    if (ntlmc_signkey(c, pf->flags, k->exported, true, k->sign[0]) < 0 ||
        ntlmc_signkey(c, pf->flags, k->exported, false, k->sign[1]) < 0 ||
        ntlmc_sealkey(c, pf->flags, k->exported, true, k->seal[0], &l0) ||
        ntlmc_sealkey(c, pf->flags, k->exported, false, k->seal[1], &l1))
        return;
    k->seal_len = l0;
    pf->nkeys++;
}

static void wipe_kept(struct ntlm_proof *pf)
{
    OPENSSL_cleanse(pf->neg, sizeof pf->neg);
    OPENSSL_cleanse(pf->chal, sizeof pf->chal);
    pf->neg_len = pf->chal_len = 0;
}

static const uint8_t zeros[24];

void ntlm_proof_authenticate(const struct hs_creds *creds, struct ntlm_proof *pf, const struct ntlm_msg *m,
                             const uint8_t *p, size_t n, const uint8_t server_challenge[8])
{
    const struct ntlmc *c = creds->crypto;
    pf->done = true;
    pf->flags = m->flags;
    pf->nkeys = 0;
    const struct hs_cred *e = creds_find(creds, m->user, m->domain);
    pf->account = e != NULL;
    if (!e || !e->has_nt || !server_challenge) {
        wipe_kept(pf);
        return;
    }
    pf->lm_stored = e->lm_stored;
    pf->have_lm_hash = e->has_lm;
    const uint8_t *lm = m->lm_len ? p + m->lm_off : NULL, *nt = m->nt_len ? p + m->nt_off : NULL;
    const uint8_t *enc = m->session_key_len == 16 ? p + m->session_key_off : NULL;
    uint8_t v[24], sbk[16], kx[16], proof[16], owf2[16];
    const uint8_t *sc = server_challenge;

    switch (m->ntlm_version) {
    case NTLM_VER_NTLMV2: {
        if (ntlmc_ntowfv2(c, e->nt, m->user, m->domain, owf2) ||
            ntlmc_ntproofstr(c, owf2, sc, nt + 16, m->nt_len - 16u, proof))
            break;
        pf->nt_verified = ntlmc_equal(proof, nt, 16) ? NTLM_TRUE : NTLM_FALSE;
        if (m->lm_kind == NTLM_LM_LMV2 && m->lm_len == 24 && !ntlmc_lmv2_proof(c, owf2, sc, lm + 16, v))
            pf->lm_verified = ntlmc_equal(v, lm, 16) ? NTLM_TRUE : NTLM_FALSE;
        if (!ntlmc_v2_session_base_key(c, owf2, nt, sbk))
            add_keyset(c, pf, "ntlmv2", sbk, enc);
        break;
    }
    case NTLM_VER_NTLMV1_ESS:
        if (m->lm_len < 8 || ntlmc_ntlmv1_ess_response(c, e->nt, sc, lm, v))
            break;
        pf->nt_verified = ntlmc_equal(v, nt, 24) ? NTLM_TRUE : NTLM_FALSE;
        if (!ntlmc_v1_session_base_key(c, e->nt, sbk) && !ntlmc_kxkey(c, NTLMC_KX_ESS, sbk, NULL, lm, sc, kx))
            add_keyset(c, pf, "ntlmv1_ess", kx, enc);
        break;
    case NTLM_VER_NTLMV1: {
        if (ntlmc_desl(c, e->nt, sc, v))
            break;
        pf->nt_verified = ntlmc_equal(v, nt, 24) ? NTLM_TRUE : NTLM_FALSE;
        if (m->lm_len == 24 && m->lm_kind == NTLM_LM_NT_COPY) {
            pf->lm_verified = pf->nt_verified;
            pf->lm_hash_used = "nt";
        } else if (m->lm_len == 24 && m->lm_kind == NTLM_LM_LM && e->has_lm && !ntlmc_desl(c, e->lm, sc, v)) {
            pf->lm_verified = ntlmc_equal(v, lm, 24) ? NTLM_TRUE : NTLM_FALSE;
            pf->lm_hash_used = "lm";
        } else if (m->lm_len == 24 && m->lm_kind == NTLM_LM_LM) {
            pf->lm_verified = NTLM_FALSE; /* a real LM response, but the account has no LM hash */
        }
        if (ntlmc_v1_session_base_key(c, e->nt, sbk))
            break;
        enum ntlmc_kx rule = ntlmc_kx_rule(m->flags, false);
        if (rule == NTLMC_KX_LM_KEY) {
            /* The client's key comes from its LM hash and the LM response it sent. A client without an LM hash
             * (a long password) has been seen to use zeros for both (Samba); a DC that keeps no LM hash cannot
             * make the client's key at all: what it has is the NT hash's key (nt_only). */
            if (e->has_lm && lm && m->lm_len >= 8 && !ntlmc_kxkey(c, rule, sbk, e->lm, lm, sc, kx))
                add_keyset(c, pf, "client_lm_key", kx, enc);
            if (lm && m->lm_len >= 8 && !ntlmc_kxkey(c, rule, sbk, zeros, lm, sc, kx))
                add_keyset(c, pf, "lm_key_zero_lm_hash", kx, enc);
            if (!ntlmc_kxkey(c, rule, sbk, zeros, zeros, sc, kx))
                add_keyset(c, pf, "lm_key_zeros", kx, enc);
            add_keyset(c, pf, "nt_only", sbk, enc);
        } else if (rule == NTLMC_KX_NON_NT) {
            if (e->has_lm && !ntlmc_kxkey(c, rule, sbk, e->lm, NULL, NULL, kx))
                add_keyset(c, pf, "non_nt_session_key", kx, enc);
            add_keyset(c, pf, "nt_only", sbk, enc);
        } else {
            add_keyset(c, pf, "ntlmv1", sbk, enc);
        }
        break;
    }
    case NTLM_VER_LM:
        if (e->has_lm && m->lm_len == 24 && !ntlmc_desl(c, e->lm, sc, v)) {
            pf->lm_verified = ntlmc_equal(v, lm, 24) ? NTLM_TRUE : NTLM_FALSE;
            pf->lm_hash_used = "lm";
        } else {
            pf->lm_verified = NTLM_FALSE;
        }
        break;
    default:
        break;
    }

    /* 3.1.5.1.2: the MIC, at offset 72 after the VERSION, under the client's ExportedSessionKey */
    if (m->mic_present && pf->nkeys && pf->neg_kept && pf->chal_kept && pf->neg_len && pf->chal_len &&
        m->payload_off >= 88 && n >= 88) {
        uint8_t mic[16];
        if (!ntlmc_mic(c, pf->keys[0].exported, pf->neg, pf->neg_len, pf->chal, pf->chal_len, p, n, 72, mic))
            pf->mic_verified = ntlmc_equal(mic, p + 72, 16) ? NTLM_TRUE : NTLM_FALSE;
    }
    OPENSSL_cleanse(v, sizeof v);
    OPENSSL_cleanse(sbk, sizeof sbk);
    OPENSSL_cleanse(kx, sizeof kx);
    OPENSSL_cleanse(owf2, sizeof owf2);
    OPENSSL_cleanse(proof, sizeof proof);
    wipe_kept(pf);
}

void ntlm_proof_raw(const struct hs_creds *creds, struct ntlm_proof *pf, const char *user, const char *domain,
                    const uint8_t *lm, size_t lm_len, const uint8_t *nt, size_t nt_len,
                    const uint8_t server_challenge[8])
{
    const struct ntlmc *c = creds->crypto;
    pf->done = true;
    pf->smb1_raw = true;
    pf->flags = 0;
    pf->nkeys = 0;
    const struct hs_cred *e = creds_find(creds, user, domain);
    pf->account = e != NULL;
    if (!e || !e->has_nt)
        return;
    pf->lm_stored = e->lm_stored;
    pf->have_lm_hash = e->has_lm;
    uint8_t v[24], sbk[16];
    if (nt_len == 24 && !ntlmc_desl(c, e->nt, server_challenge, v))
        pf->nt_verified = ntlmc_equal(v, nt, 24) ? NTLM_TRUE : NTLM_FALSE;
    if (lm_len == 24) {
        if (nt_len == 24 && memcmp(lm, nt, 24) == 0) {
            pf->lm_verified = pf->nt_verified;
            pf->lm_hash_used = "nt";
        } else if (e->has_lm && !ntlmc_desl(c, e->lm, server_challenge, v)) {
            pf->lm_verified = ntlmc_equal(v, lm, 24) ? NTLM_TRUE : NTLM_FALSE;
            pf->lm_hash_used = "lm";
        }
    }
    /* MS-CIFS 3.2.5.3: MAC key = session key || the NT response (the LM one when there is no NT one) */
    const uint8_t *resp = nt_len == 24 ? nt : lm_len == 24 ? lm : NULL;
    if (resp) {
        memcpy(pf->mac_suffix, resp, 24);
        pf->mac_suffix_len = 24;
    }
    if (nt_len == 24 && !ntlmc_v1_session_base_key(c, e->nt, sbk))
        add_keyset(c, pf, "ntlmv1", sbk, NULL);
    if (e->has_lm) {
        memcpy(sbk, e->lm, 8);
        memset(sbk + 8, 0, 8);
        add_keyset(c, pf, "lm_session_key", sbk, NULL);
    }
    OPENSSL_cleanse(v, sizeof v);
    OPENSSL_cleanse(sbk, sizeof sbk);
}

/*
 * The RC4 keys a sender without ESS may have sealed with: 3.4.5.3's SEALKEY, and for LM_KEY with
 * NEGOTIATE_128 the whole key, which Samba uses (it weakens an LM_KEY key only without 128). With ESS one
 * key per direction.
 */
static int seal_variants(const struct ntlm_proof *pf, const struct ntlm_keyset *ks, int dir, const uint8_t *key[2],
                         size_t len[2])
{
    bool ess = (pf->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) != 0;
    key[0] = ks->seal[ess ? dir : 0];
    len[0] = ks->seal_len;
    if (!ess && (pf->flags & NTLMSSP_NEGOTIATE_LM_KEY) && (pf->flags & NTLMSSP_NEGOTIATE_128)) {
        key[1] = ks->exported;
        len[1] = 16;
        return 2;
    }
    return 1;
}

void ntlm_proof_dcerpc(const struct hs_creds *creds, struct ntlm_proof *pf, uint64_t frame, bool from_server,
                       const uint8_t *h, size_t frag, size_t body, const uint8_t *sig, bool sealed, uint8_t *scratch,
                       size_t scratch_cap)
{
    struct ntlm_sigcheck *chk = from_server ? &pf->server_sig : &pf->client_sig;
    if (chk->frame || !pf->nkeys || frag < 16 + 8 || body > frag)
        return;
    const struct ntlmc *c = creds->crypto;
    size_t trailer = frag - 16 - 8; /* the sec_trailer; the auth_value (16 bytes) follows it */
    if (body > trailer)
        return;
    size_t stub_len = trailer - body; /* stub and auth padding */
    bool ess = (pf->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) != 0;
    chk->frame = frame;
    chk->over = "dcerpc";
    chk->matched = NULL;
    int dir = from_server ? 1 : 0;
    for (int k = 0; k < pf->nkeys && !chk->matched; k++) {
        const struct ntlm_keyset *ks = &pf->keys[k];
        const uint8_t *seals[2];
        size_t seal_lens[2];
        int nv = seal_variants(pf, ks, dir, seals, seal_lens);
        for (int sv = 0; sv < nv && !chk->matched; sv++) {
            const uint8_t *pdu = h;
            size_t used = 0;
            if (sealed) {
                /* SEAL runs before MAC on one RC4 handle (3.4.3): unseal a copy of the PDU with this key */
                if (frag > scratch_cap)
                    continue;
                memcpy(scratch, h, frag);
                if (ntlmc_rc4(c, seals[sv], seal_lens[sv], h + body, scratch + body, stub_len))
                    continue;
                pdu = scratch;
                used = stub_len;
            }
            for (uint32_t seq = 0; seq < 4 && !chk->matched; seq++) {
                /* Without ESS one RC4 handle serves both directions: each signature before this one took 12
                 * bytes of its keystream (a sealed message more, which is not tried). */
                size_t skip = ess || sealed ? used : 12 * (size_t)seq;
                uint8_t want[16];
                /* header signing covers the PDU up to the auth_value; without it, the stub and padding */
                struct {
                    const uint8_t *p;
                    size_t n;
                } cand[2] = {{pdu, frag - 16}, {pdu + body, stub_len}};
                for (int i = 0; i < 2 && !chk->matched; i++) {
                    if (ntlmc_mac(c, pf->flags, ks->sign[dir], seals[sv], seal_lens[sv], skip, seq, cand[i].p,
                                  cand[i].n, want))
                        continue;
                    /* the RandomPad is not compared: without ESS some senders leave it non-zero */
                    if (ntlmc_equal(want + 8, sig + 8, 8) && (!ess || ntlmc_equal(want + 4, sig + 4, 4))) {
                        chk->matched = ks->name;
                        chk->seqnum = seq;
                    }
                }
                OPENSSL_cleanse(want, sizeof want);
            }
        }
    }
    if (sealed)
        OPENSSL_cleanse(scratch, frag <= scratch_cap ? frag : 0);
}

void ntlm_proof_smb1(const struct hs_creds *creds, struct ntlm_proof *pf, uint64_t frame, bool from_server,
                     const uint8_t *msg, size_t n)
{
    struct ntlm_sigcheck *chk = from_server ? &pf->server_sig : &pf->client_sig;
    if (chk->frame || !pf->nkeys || n < 32)
        return;
    const struct ntlmc *c = creds->crypto;
    chk->frame = frame;
    chk->over = "smb1";
    chk->matched = NULL;
    for (int k = 0; k < pf->nkeys && !chk->matched; k++) {
        uint8_t key[40];
        size_t klen = 16;
        memcpy(key, pf->keys[k].exported, 16);
        if (pf->smb1_raw && pf->mac_suffix_len) {
            memcpy(key + 16, pf->mac_suffix, pf->mac_suffix_len);
            klen += pf->mac_suffix_len;
        }
        for (uint32_t seq = 0; seq < 8 && !chk->matched; seq++) {
            uint8_t mac[8];
            if (!ntlmc_smb1_mac(c, key, klen, seq, msg, n, mac) && ntlmc_equal(mac, msg + 14, 8)) {
                chk->matched = pf->keys[k].name;
                chk->seqnum = seq;
            }
        }
        OPENSSL_cleanse(key, sizeof key);
    }
}
