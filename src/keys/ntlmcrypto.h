/* NTLM and SMB cryptography over a private OpenSSL 3 library context — MS-NLMP 3.3, 3.4.4, 3.4.5, 6;
 * MS-CIFS 3.1.5.1 (SMB1 MAC); MS-SMB2 3.1.4.1 (HMAC-SHA256, AES-CMAC), 3.1.4.2 (SP800-108 KDF). */
#ifndef HOPSCOPE_NTLMCRYPTO_H
#define HOPSCOPE_NTLMCRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NTLMC_KEY_LEN 16 /* hashes, session keys, signing keys */

/*
 * The algorithms, fetched once from a library context of hopscope's own into which the "legacy"
 * (MD4, DES, RC4) and "default" providers are loaded. Opaque; one per run, read-only once made (so it
 * may be shared by every connection).
 */
struct ntlmc;

/*
 * Makes the library context and fetches MD4, MD5, HMAC, DES-ECB, RC4, SHA-256 and AES-CMAC from it.
 * Returns NULL with a one-line reason in err[errlen]: "OpenSSL legacy provider not available (MD4, DES and
 * RC4 need it: install it, or set OPENSSL_MODULES to its directory)", "OpenSSL default provider not
 * available", "OpenSSL: cannot fetch <algorithm>", "out of memory".
 */
struct ntlmc *ntlmc_new(char *err, size_t errlen);

/* Frees c and its library context. c may be NULL. */
void ntlmc_free(struct ntlmc *c);

/* ---- one-way functions (MS-NLMP 3.3.1, 3.3.2) ---------------------------------------------------- */

/*
 * NTOWFv1: MD4 of the password as UTF-16LE (password: UTF-8, NUL-terminated; code points beyond the BMP
 * become surrogate pairs). Returns 0, or -1 for invalid UTF-8 or a password over 256 characters.
 */
int ntlmc_nt_hash(const struct ntlmc *c, const char *password, uint8_t out[NTLMC_KEY_LEN]);

/*
 * LMOWFv1: the password uppercased (ASCII letters only), as OEM bytes padded with zeros to 14, cut in two
 * 7-byte DES keys, each encrypting "KGS!@#$%". Returns 0; 1 when no LM hash exists (more than 14 bytes,
 * or a byte outside ASCII, whose OEM code page is unknown); -1 on a crypto failure.
 */
int ntlmc_lm_hash(const struct ntlmc *c, const char *password, uint8_t out[NTLMC_KEY_LEN]);

/*
 * NTOWFv2 = HMAC_MD5(NTOWFv1, UTF-16LE(Uppercase(user) || domain)); user and domain UTF-8 (only ASCII
 * letters are uppercased). LMOWFv2 is the same value. Returns 0 or -1.
 */
int ntlmc_ntowfv2(const struct ntlmc *c, const uint8_t nt_hash[NTLMC_KEY_LEN], const char *user,
                  const char *domain, uint8_t out[NTLMC_KEY_LEN]);

/* ---- responses (MS-NLMP 3.3.1, 3.3.2, 6 DESL) ------------------------------------------------------ */

/* DESL(K, D): K (16 bytes) padded with 5 zeros to three 7-byte DES keys, each encrypting D (8 bytes);
 * out 24 bytes. This is the LM response (K = LM hash) and NTLMv1 response (K = NT hash). 0 or -1. */
int ntlmc_desl(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t data[8], uint8_t out[24]);

/* NTLMv1 with extended session security: DESL(NT hash, MD5(ServerChallenge || ClientChallenge)[0..7]),
 * ClientChallenge being LmChallengeResponse[0..7]. 0 or -1. */
int ntlmc_ntlmv1_ess_response(const struct ntlmc *c, const uint8_t nt_hash[NTLMC_KEY_LEN],
                              const uint8_t server_challenge[8], const uint8_t client_challenge[8],
                              uint8_t out[24]);

/* NTProofStr = HMAC_MD5(NTOWFv2, ServerChallenge || temp), temp being the NTLMv2 response after its
 * first 16 bytes (blob, blob_len bytes). 0 or -1. */
int ntlmc_ntproofstr(const struct ntlmc *c, const uint8_t ntowfv2[NTLMC_KEY_LEN], const uint8_t server_challenge[8],
                     const uint8_t *blob, size_t blob_len, uint8_t out[NTLMC_KEY_LEN]);

/* LMv2 response's first 16 bytes: HMAC_MD5(LMOWFv2, ServerChallenge || ClientChallenge). 0 or -1. */
int ntlmc_lmv2_proof(const struct ntlmc *c, const uint8_t ntowfv2[NTLMC_KEY_LEN], const uint8_t server_challenge[8],
                     const uint8_t client_challenge[8], uint8_t out[NTLMC_KEY_LEN]);

/* ---- session keys (MS-NLMP 3.3, 3.4.5) ---------------------------------------------------------------- */

/* SessionBaseKey of NTLMv1 (with or without ESS): MD4(NT hash). 0 or -1. */
int ntlmc_v1_session_base_key(const struct ntlmc *c, const uint8_t nt_hash[NTLMC_KEY_LEN], uint8_t out[NTLMC_KEY_LEN]);

/* SessionBaseKey of NTLMv2: HMAC_MD5(NTOWFv2, NTProofStr). 0 or -1. */
int ntlmc_v2_session_base_key(const struct ntlmc *c, const uint8_t ntowfv2[NTLMC_KEY_LEN],
                              const uint8_t ntproofstr[NTLMC_KEY_LEN], uint8_t out[NTLMC_KEY_LEN]);

/* Which rule of 3.4.5.1 KXKEY gives the key exchange key. */
enum ntlmc_kx {
    NTLMC_KX_SESSION_BASE = 0, /* NTLMv1 without ESS and without the two flags below; NTLMv2 */
    NTLMC_KX_LM_KEY,           /* NTLMv1, NTLMSSP_NEGOTIATE_LM_KEY, no ESS */
    NTLMC_KX_NON_NT,           /* NTLMv1, NTLMSSP_REQUEST_NON_NT_SESSION_KEY, no ESS, no LM_KEY */
    NTLMC_KX_ESS,              /* NTLMv1 with NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY */
};

/* The 3.4.5.1 rule for NegotiateFlags `flags` and an NTLMv2 (v2 true) or NTLMv1 response. ESS wins over
 * LM_KEY (2.2.2.5). */
enum ntlmc_kx ntlmc_kx_rule(uint32_t flags, bool v2);

/*
 * KXKEY (3.4.5.1) by `rule`:
 *   SESSION_BASE  session_base_key
 *   LM_KEY        DES(LMOWF[0..6], LmChallengeResponse[0..7]) || DES(LMOWF[7] || BD BD BD BD BD BD, LmChallengeResponse[0..7])
 *   NON_NT        LMOWF[0..7] || Z(8)
 *   ESS           HMAC_MD5(session_base_key, ServerChallenge || LmChallengeResponse[0..7])
 * lm_hash (16 bytes) is read for LM_KEY and NON_NT, lm_response (its first 8 bytes) for LM_KEY and ESS,
 * server_challenge for ESS; the others may be NULL. Returns 0, or -1 (a needed input NULL, crypto failure).
 */
int ntlmc_kxkey(const struct ntlmc *c, enum ntlmc_kx rule, const uint8_t session_base_key[NTLMC_KEY_LEN],
                const uint8_t *lm_hash, const uint8_t *lm_response, const uint8_t *server_challenge,
                uint8_t out[NTLMC_KEY_LEN]);

/* RC4 of n bytes (in and out may be the same) under key (keylen bytes, 1-256). Used for the
 * EncryptedRandomSessionKey under NTLMSSP_NEGOTIATE_KEY_EXCH: ExportedSessionKey =
 * RC4(KeyExchangeKey, EncryptedRandomSessionKey) (3.1.5.1.2, 3.2.5.1.2). 0 or -1. */
int ntlmc_rc4(const struct ntlmc *c, const uint8_t *key, size_t keylen, const uint8_t *in, uint8_t *out, size_t n);

/* SIGNKEY (3.4.5.2): with ESS, MD5(ExportedSessionKey || "session key to {client-to-server|server-to-client}
 * signing key magic constant\0"); without ESS there is none (returns 1). 0, 1 or -1. */
int ntlmc_signkey(const struct ntlmc *c, uint32_t flags, const uint8_t exported[NTLMC_KEY_LEN], bool client,
                  uint8_t out[NTLMC_KEY_LEN]);

/* SEALKEY (3.4.5.3), with the 40/56/128-bit weakening: writes the key into out and its length (5, 7, 8 or
 * 16 bytes) into *len. 0 or -1. */
int ntlmc_sealkey(const struct ntlmc *c, uint32_t flags, const uint8_t exported[NTLMC_KEY_LEN], bool client,
                  uint8_t out[NTLMC_KEY_LEN], size_t *len);

/*
 * The NTLMSSP_MESSAGE_SIGNATURE (16 bytes: Version 1, then RandomPad/Checksum/SeqNum, 3.4.4) a sender with
 * these keys puts on msg (n bytes) as its message number seqnum, when its RC4 sealing handle has already
 * produced `keystream_used` bytes (0 for the first message of a handle that did not seal; the length of the
 * sealed data for a sealed message, since SEAL runs before MAC):
 *   without ESS (3.4.4.1): CRC32(msg), RC4'd with the RandomPad and a zero SeqNum XOR seqnum; RandomPad 0
 *   with ESS (3.4.4.2): HMAC_MD5(sign_key, seqnum || msg)[0..7], RC4'd when NTLMSSP_NEGOTIATE_KEY_EXCH
 * sign_key is read with ESS only. 0 or -1.
 */
int ntlmc_mac(const struct ntlmc *c, uint32_t flags, const uint8_t sign_key[NTLMC_KEY_LEN], const uint8_t *seal_key,
              size_t seal_len, size_t keystream_used, uint32_t seqnum, const uint8_t *msg, size_t n, uint8_t out[16]);

/*
 * MIC of an AUTHENTICATE (3.1.5.1.2): HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE),
 * the AUTHENTICATE's 16 MIC bytes at mic_off taken as zero. Returns 0 and out, or -1 (mic_off + 16 past
 * auth_len, crypto failure).
 */
int ntlmc_mic(const struct ntlmc *c, const uint8_t exported[NTLMC_KEY_LEN], const uint8_t *neg, size_t neg_len,
              const uint8_t *chal, size_t chal_len, const uint8_t *auth, size_t auth_len, size_t mic_off,
              uint8_t out[NTLMC_KEY_LEN]);

/* ---- SMB ---------------------------------------------------------------------------------------------- */

/*
 * SMB1 security signature (MS-CIFS 3.1.5.1): MD5(mac_key || message with its SecuritySignature, bytes 14-21
 * of the SMB header, replaced by seqnum as 8 little-endian bytes)[0..7]. mac_key is the session key,
 * followed for a logon without extended security by the NT response (MS-CIFS 3.2.5.3, up to 64 bytes).
 * msg is the SMB message from its 0xFF 'SMB' (n >= 32). 0 or -1.
 */
int ntlmc_smb1_mac(const struct ntlmc *c, const uint8_t *mac_key, size_t mac_key_len, uint32_t seqnum,
                   const uint8_t *msg, size_t n, uint8_t out[8]);

/* SMB2 2.002/2.1 signature (MS-SMB2 3.1.4.1): HMAC_SHA256(key, message with Signature, bytes 48-63 of the
 * header, zeroed)[0..15]. msg from the 0xFE 'SMB' header, n >= 64. 0 or -1. */
int ntlmc_smb2_hmac(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t *msg, size_t n,
                    uint8_t out[16]);

/* SMB 3.x signature (MS-SMB2 3.1.4.1): AES-128-CMAC(key, message with Signature zeroed). n >= 64. 0 or -1. */
int ntlmc_smb3_cmac(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t *msg, size_t n,
                    uint8_t out[16]);

/* AES-128-CMAC (RFC 4493) of n bytes. 0 or -1. */
int ntlmc_aes_cmac(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t *msg, size_t n,
                   uint8_t out[16]);

/*
 * SP800-108 KDF in counter mode with HMAC-SHA256, one block, L = 128 (MS-SMB2 3.1.4.2): HMAC_SHA256(key,
 * 00000001 || label || 00 || context || 00000080)[0..15]. label and context with their own terminating NUL
 * when the spec includes it ("SMB2AESCMAC\0", "SmbSign\0"; 3.1.1: "SMBSigningKey\0" and the preauth hash).
 * 0 or -1.
 */
int ntlmc_smb3_kdf(const struct ntlmc *c, const uint8_t key[NTLMC_KEY_LEN], const uint8_t *label, size_t label_len,
                   const uint8_t *context, size_t context_len, uint8_t out[NTLMC_KEY_LEN]);

/* CRC32 (IEEE 802.3, reflected, as MS-NLMP 3.4.4.1 uses) of n bytes. */
uint32_t ntlmc_crc32(const uint8_t *p, size_t n);

/* Constant-time comparison of n bytes: true when equal. */
bool ntlmc_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
