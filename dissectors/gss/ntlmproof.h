/* NTLM with credentials: responses verified, session keys derived, first signatures checked — MS-NLMP 3.3,
 * 3.4.4, 3.4.5; MS-CIFS 3.1.5.1; MS-RPCE 2.2.2.11. Only made when --creds was given. */
#ifndef HOPSCOPE_NTLMPROOF_H
#define HOPSCOPE_NTLMPROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

struct hs_creds;
struct hs_ctx;
struct auth_rec;

#define NTLM_KEEP_MAX 1024 /* NEGOTIATE / CHALLENGE bytes kept for the MIC; a longer one means no MIC check */
#define NTLM_PROOF_KEYS 6

/*
 * One candidate session key: the one the client derived, and the ones another party might have (a DC that
 * holds only the NT hash: "nt_only"). name is static: "ntlmv2", "ntlmv1_ess", "ntlmv1", "client_lm_key",
 * "lm_key_zero_lm_hash", "lm_key_zeros", "non_nt_session_key", "nt_only", "lm_session_key".
 */
struct ntlm_keyset {
    const char *name;
    uint8_t exported[16];   /* ExportedSessionKey (after KEY_EXCH), or the SMB1 session key */
    uint8_t sign[2][16];    /* SIGNKEY client-to-server [0], server-to-client [1] (ESS only) */
    uint8_t seal[2][16];    /* SEALKEY, seal_len bytes */
    size_t seal_len;
};

/* The first signed message of one side, checked against every keyset. */
struct ntlm_sigcheck {
    uint64_t frame;         /* 0: none checked */
    const char *over;       /* "dcerpc", "smb1" */
    const char *matched;    /* the keyset's name, or NULL: none of them */
    uint32_t seqnum;        /* the sequence number that matched */
};

enum { NTLM_UNCHECKED = -1, NTLM_FALSE = 0, NTLM_TRUE = 1 };

/* Kept in the auth record (gss.ntlm.proof); never written as bytes, wiped when the record is freed. */
struct ntlm_proof {
    /* kept from the NEGOTIATE and CHALLENGE until the AUTHENTICATE, then wiped */
    uint8_t neg[NTLM_KEEP_MAX], chal[NTLM_KEEP_MAX];
    uint16_t neg_len, chal_len;
    bool neg_kept, chal_kept;
    /* results */
    bool done;              /* an AUTHENTICATE (or SMB1 raw logon) was examined */
    bool account;           /* an account of --creds was found for its user */
    bool lm_stored;         /* the account's DC keeps an LM hash (the file lists one) */
    bool have_lm_hash;      /* the client could compute an LM hash (password <= 14 ASCII characters) */
    int8_t nt_verified;     /* NTLM_TRUE / NTLM_FALSE / NTLM_UNCHECKED (no NT response) */
    int8_t lm_verified;     /* the LM field: a real LM or LMv2 response checked; UNCHECKED when it is none */
    const char *lm_hash_used; /* "lm" (DES of the LM hash), "nt" (a copy of the NT response), NULL */
    int8_t mic_verified;    /* UNCHECKED when there is no MIC or the messages were not all kept */
    uint32_t flags;         /* the AUTHENTICATE's NegotiateFlags (0: SMB1 without extended security) */
    bool smb1_raw;          /* SMB1 logon without extended security: MAC key = session key || response */
    uint8_t mac_suffix[24];
    uint8_t mac_suffix_len;
    struct ntlm_keyset keys[NTLM_PROOF_KEYS]; /* keys[0] is the client's own */
    int nkeys;
    struct ntlm_sigcheck client_sig, server_sig;
};

/* The record's proof, made on first use (NULL when --creds was not given, or memory is short). */
struct ntlm_proof *ntlm_proof_get(struct hs_ctx *ctx, struct auth_rec *r);

/* Keeps a copy of a NEGOTIATE or CHALLENGE message (n bytes at p; type NTLMSSP_*_MESSAGE) for the MIC. */
void ntlm_proof_keep(struct ntlm_proof *pf, uint32_t type, const uint8_t *p, size_t n);

/*
 * The AUTHENTICATE m, parsed from the n bytes at p, answering server_challenge: finds the account, verifies
 * the NT and LM responses, derives the candidate keys (3.4.5.1 KXKEY, KEY_EXCH, 3.4.5.2-3), checks the MIC;
 * then wipes the kept NEGOTIATE/CHALLENGE. A wrong password is a result (verified false), not an error.
 */
void ntlm_proof_authenticate(const struct hs_creds *creds, struct ntlm_proof *pf, const struct ntlm_msg *m,
                             const uint8_t *p, size_t n, const uint8_t server_challenge[8]);

/* The same for an SMB1 SESSION_SETUP_ANDX without extended security (MS-CIFS 3.2.4.2.4): the raw LM and NT
 * responses to the NEGOTIATE's challenge, the session key of MS-CIFS 3.2.5.3 (MD4 of the NT hash, or the LM
 * hash's first 8 bytes and zeros) with the response as MAC key suffix. */
void ntlm_proof_raw(const struct hs_creds *creds, struct ntlm_proof *pf, const char *user, const char *domain,
                    const uint8_t *lm, size_t lm_len, const uint8_t *nt, size_t nt_len,
                    const uint8_t server_challenge[8]);

/*
 * A signed DCE/RPC PDU h[0..frag) (MS-RPCE 2.2.2.11) after the logon: body is where its stub starts,
 * sig the 16-byte NTLMSSP_MESSAGE_SIGNATURE of its verifier, sealed whether auth_level is privacy. The
 * first one from each side is checked against every keyset (whole-PDU header signing and stub-only, sequence
 * numbers 0-3); later ones are ignored. scratch (scratch_cap bytes) is used to unseal.
 */
void ntlm_proof_dcerpc(const struct hs_creds *creds, struct ntlm_proof *pf, uint64_t frame, bool from_server,
                       const uint8_t *h, size_t frag, size_t body, const uint8_t *sig, bool sealed, uint8_t *scratch,
                       size_t scratch_cap);

/* A whole SMB1 message msg[0..n) with a MAC in its SecuritySignature, after the logon: the first from each
 * side is checked against every keyset (MS-CIFS 3.1.5.1, sequence numbers 0-7). */
void ntlm_proof_smb1(const struct hs_creds *creds, struct ntlm_proof *pf, uint64_t frame, bool from_server,
                     const uint8_t *msg, size_t n);

#endif
