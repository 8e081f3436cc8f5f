/* GSS-API tokens and SPNEGO — RFC 2743 3.1, RFC 4178 4.2, MS-SPNG 2.2 (NegTokenInit2). */
#ifndef HOPSCOPE_SPNEGO_H
#define HOPSCOPE_SPNEGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Mechanisms by OID, as bits so a NegTokenInit's mechTypes list is one word. */
enum gss_mech {
    MECH_NONE = 0,
    MECH_NTLMSSP = 1 << 0,  /* 1.3.6.1.4.1.311.2.2.10 */
    MECH_KRB5 = 1 << 1,     /* 1.2.840.113554.1.2.2 */
    MECH_MS_KRB5 = 1 << 2,  /* 1.2.840.48018.1.2.2 (Microsoft's mistyped krb5 OID) */
    MECH_KRB5_U2U = 1 << 3, /* 1.2.840.113554.1.2.2.3 */
    MECH_NEGOEX = 1 << 4,   /* 1.3.6.1.4.1.311.2.2.30 */
    MECH_SPNEGO = 1 << 5,   /* 1.3.6.1.5.5.2 */
    MECH_OTHER = 1 << 6,
    MECH_IAKERB = 1 << 7,   /* 1.3.6.1.5.2.5 (IAKERB, draft-ietf-kitten-iakerb; macOS LKDC) */
};

enum gss_kind {
    GSS_UNKNOWN = 0,
    GSS_NTLMSSP,      /* a bare NTLMSSP message ("NTLMSSP\0...") */
    GSS_SPNEGO_INIT,  /* NegTokenInit / NegTokenInit2, GSS-wrapped or not */
    GSS_SPNEGO_RESP,  /* NegTokenResp */
    GSS_KRB5,         /* a GSS krb5 token: [APPLICATION 0] { krb5 OID, TOK_ID, KRB message } */
};

/* negState, RFC 4178 4.2.2 */
enum spnego_neg_state {
    NEG_STATE_ABSENT = -1,
    NEG_STATE_ACCEPT_COMPLETED = 0,
    NEG_STATE_ACCEPT_INCOMPLETE = 1,
    NEG_STATE_REJECT = 2,
    NEG_STATE_REQUEST_MIC = 3,
};

/* krb5 GSS TOK_ID values, RFC 4121 4.1 / RFC 1964 1.1 */
#define KRB5_TOK_AP_REQ 0x0100
#define KRB5_TOK_AP_REP 0x0200
#define KRB5_TOK_ERROR  0x0300

struct gss_token {
    enum gss_kind kind;
    uint32_t mech_types;          /* NegTokenInit mechTypes (bits of enum gss_mech) */
    enum gss_mech first_mech;     /* first (preferred) entry of mechTypes */
    int neg_state;                /* enum spnego_neg_state */
    enum gss_mech supported_mech; /* NegTokenResp supportedMech */
    bool mech_list_mic;           /* mechListMIC present */
    char hint_name[128];          /* NegTokenInit2 negHints.hintName, if any */
    /* The mechanism token carried: mechToken / responseToken, or the whole token when bare. */
    const uint8_t *inner;
    size_t inner_len;
    enum gss_mech inner_mech;     /* MECH_NTLMSSP, MECH_KRB5 (either OID), or MECH_NONE */
    uint16_t krb5_tok_id;         /* for krb5 inner tokens: KRB5_TOK_*; 0 if unknown */
    const uint8_t *krb5_msg;      /* the Kerberos message after the TOK_ID */
    size_t krb5_msg_len;
};

/*
 * Parses a security blob of n bytes at p, as carried in SMB2 SESSION_SETUP, HTTP
 * Authorization/WWW-Authenticate, or a DCE/RPC auth verifier: a bare NTLMSSP message, a
 * GSS-API InitialContextToken (RFC 2743 3.1) for SPNEGO or krb5, or a bare SPNEGO
 * NegTokenResp ([1] ...). DER, definite lengths; nesting is bounded by DER_MAX_DEPTH.
 * Pointers in *t point into p. Returns 0 on success, -1 on malformed or unrecognised input
 * (t->kind is then GSS_UNKNOWN; an empty blob, n == 0, is also -1).
 */
int gss_token_parse(const uint8_t *p, size_t n, struct gss_token *t);

/* The mechanism for OID value bytes v[n] (without tag and length). */
enum gss_mech gss_mech_from_oid(const uint8_t *v, size_t n);

/* "ntlmssp", "kerberos", "kerberos" (MS OID), "kerberos-u2u", "negoex", "spnego", "iakerb", "none"
 * (MECH_NONE), or "other" (MECH_OTHER, or more than one bit). */
const char *gss_mech_name(enum gss_mech m);

/* "accept-completed", "accept-incomplete", "reject", "request-mic", or NULL when absent. */
const char *spnego_neg_state_name(int s);

#endif
