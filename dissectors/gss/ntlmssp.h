/* NTLMSSP messages — MS-NLMP 2.2 (NEGOTIATE, CHALLENGE, AUTHENTICATE) and 3.3 (response versions). */
#ifndef HOPSCOPE_NTLMSSP_H
#define HOPSCOPE_NTLMSSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NTLMSSP_NEGOTIATE_MESSAGE    1
#define NTLMSSP_CHALLENGE_MESSAGE    2
#define NTLMSSP_AUTHENTICATE_MESSAGE 3

/* NEGOTIATE flags, MS-NLMP 2.2.2.5. */
#define NTLMSSP_NEGOTIATE_UNICODE                  0x00000001u
#define NTLM_NEGOTIATE_OEM                         0x00000002u
#define NTLMSSP_REQUEST_TARGET                     0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN                     0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL                     0x00000020u
#define NTLMSSP_NEGOTIATE_DATAGRAM                 0x00000040u
#define NTLMSSP_NEGOTIATE_LM_KEY                   0x00000080u
#define NTLMSSP_NEGOTIATE_NTLM                     0x00000200u
#define NTLMSSP_ANONYMOUS                          0x00000800u
#define NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED      0x00001000u
#define NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED 0x00002000u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN              0x00008000u
#define NTLMSSP_TARGET_TYPE_DOMAIN                 0x00010000u
#define NTLMSSP_TARGET_TYPE_SERVER                 0x00020000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_IDENTIFY                 0x00100000u
#define NTLMSSP_REQUEST_NON_NT_SESSION_KEY         0x00400000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO              0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION                  0x02000000u
#define NTLMSSP_NEGOTIATE_128                      0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH                 0x40000000u
#define NTLMSSP_NEGOTIATE_56                       0x80000000u

/* AV_PAIR ids, MS-NLMP 2.2.2.1. */
enum ntlm_av_id {
    MsvAvEOL = 0,
    MsvAvNbComputerName = 1,
    MsvAvNbDomainName = 2,
    MsvAvDnsComputerName = 3,
    MsvAvDnsDomainName = 4,
    MsvAvDnsTreeName = 5,
    MsvAvFlags = 6,
    MsvAvTimestamp = 7,
    MsvAvSingleHost = 8,
    MsvAvTargetName = 9,
    MsvAvChannelBindings = 10,
};

/* MsvAvFlags bits, MS-NLMP 2.2.2.1. */
#define MSV_AV_FLAG_ACCOUNT_CONSTRAINED 0x1u
#define MSV_AV_FLAG_MIC_PRESENT         0x2u
#define MSV_AV_FLAG_SPN_UNTRUSTED       0x4u

/* Which response the client sent — MS-NLMP 3.3.1 / 3.3.2 and 3.2.5.1.2 (anonymous). */
enum ntlm_version {
    NTLM_VER_UNKNOWN = 0,
    NTLM_VER_ANONYMOUS,
    NTLM_VER_LM,        /* LM response only (NtChallengeResponse empty) */
    NTLM_VER_NTLMV1,    /* 24-byte NT response without extended session security */
    NTLM_VER_NTLMV1_ESS,/* 24-byte NT response, NTLM2 session response (ESS) */
    NTLM_VER_NTLMV2,    /* NTProofStr + NTLMv2_CLIENT_CHALLENGE */
    NTLM_VER_EMPTY,     /* a user name but no NT and no LM response: the client had no password */
};

/* What the LmChallengeResponse field held. */
enum ntlm_lm_kind {
    NTLM_LM_ABSENT = 0,  /* length 0 */
    NTLM_LM_ZERO,        /* Z(1) or Z(24): nothing (NTLMv2 clients on Windows 7+ with MsvAvTimestamp) */
    NTLM_LM_LMV2,        /* 24 bytes alongside an NTLMv2 response */
    NTLM_LM_ESS,         /* client challenge + Z(16) (NTLMv1 with ESS) */
    NTLM_LM_NT_COPY,     /* same bytes as the NT response (client had no LM hash to use) */
    NTLM_LM_LM,          /* a real LM (DES of the LM hash) response */
};

/* Names are UTF-8, NUL-terminated and bounded; longer wire strings are cut (`truncated` set). */
#define NTLM_NAME_MAX 256

struct ntlm_version_info {
    bool present;
    uint8_t major, minor;
    uint16_t build;
    uint8_t ntlm_revision;
};

/* One parsed NTLMSSP message. Only the fields of its own type are filled. */
struct ntlm_msg {
    uint32_t type;  /* NTLMSSP_*_MESSAGE */
    uint32_t flags; /* NegotiateFlags */
    struct ntlm_version_info version;
    bool truncated; /* a name did not fit NTLM_NAME_MAX */
    uint8_t bad_fields; /* AUTHENTICATE fields dropped: before the payload, or overlapping others (2.2.1.3) */
    uint8_t odd_utf16;  /* AUTHENTICATE names of odd length under NTLMSSP_NEGOTIATE_UNICODE */

    /* NEGOTIATE: DomainNameFields / WorkstationFields (OEM, when supplied) */
    /* AUTHENTICATE: DomainName, UserName, Workstation */
    char domain[NTLM_NAME_MAX];
    char user[NTLM_NAME_MAX];
    char workstation[NTLM_NAME_MAX];

    /* CHALLENGE */
    char target_name[NTLM_NAME_MAX];
    uint8_t server_challenge[8];
    char nb_computer[NTLM_NAME_MAX];
    char nb_domain[NTLM_NAME_MAX];
    char dns_computer[NTLM_NAME_MAX];
    char dns_domain[NTLM_NAME_MAX];
    char dns_tree[NTLM_NAME_MAX];
    bool has_timestamp;

    /* AUTHENTICATE */
    uint16_t lm_len, nt_len, session_key_len;
    uint32_t lm_off, nt_off, session_key_off; /* where those lie in the message (valid when their length > 0) */
    uint32_t payload_off;        /* the lowest offset of a non-empty field: where the Payload starts */
    enum ntlm_version ntlm_version;
    enum ntlm_lm_kind lm_kind;
    bool mic_present;            /* MsvAvFlags has MIC_PRESENT (NTLMv2 only) */
    uint32_t av_flags;           /* MsvAvFlags from the NTLMv2 response, 0 if absent */
    char spn[NTLM_NAME_MAX];     /* MsvAvTargetName from the NTLMv2 response */
    bool channel_bindings;       /* MsvAvChannelBindings present and non-zero */
};

/* Parse results. */
enum ntlm_err {
    NTLM_OK = 0,
    NTLM_ERR_SHORT,     /* fewer bytes than the fixed header of the message type */
    NTLM_ERR_SIGNATURE, /* does not start with "NTLMSSP\0" */
    NTLM_ERR_TYPE,      /* MessageType not 1, 2 or 3 */
    NTLM_ERR_FIELD,     /* a (Len, MaxLen, Offset) field points outside the message */
    NTLM_ERR_AVPAIR,    /* target info / NTLMv2 AV_PAIR list runs past its field */
};

/*
 * Parses one NTLMSSP message of n bytes at p (MS-NLMP 2.2.1.1-2.2.1.3). Fields are
 * little-endian; payload fields are located by their (Len, MaxLen, Offset) descriptors, which may
 * appear in any order and are each checked to lie inside [p, p+n); an AUTHENTICATE's must also lie after
 * its fixed part and not overlap one another (else they are dropped and counted in m->bad_fields; Unicode
 * names of odd length are counted in m->odd_utf16). Strings are Unicode (UTF-16LE)
 * when NTLMSSP_NEGOTIATE_UNICODE is set, else OEM. The version of an AUTHENTICATE is classified
 * per MS-NLMP 3.3 by ntlm_classify; `m->flags` is the message's own flags field.
 * Returns NTLM_OK and fills *m, or an enum ntlm_err (m is then partly filled and must be ignored).
 */
enum ntlm_err ntlmssp_parse(const uint8_t *p, size_t n, struct ntlm_msg *m);

/*
 * Classifies the challenge responses of one NTLM logon: which response the client computed
 * (MS-NLMP 3.3.1 NTLM v1, 3.3.2 NTLM v2, 3.2.5.1.2 anonymous) and what its LM field holds. The
 * inputs are the two responses as they are on the wire, so this serves an NTLMSSP AUTHENTICATE
 * (LmChallengeResponse / NtChallengeResponse, MS-NLMP 2.2.1.3; ntlmssp_parse calls it) and the
 * raw responses of an SMB1 SESSION_SETUP_ANDX without extended security alike (OEMPassword /
 * UnicodePassword, MS-CIFS 2.2.4.53.1).
 *
 *   lm, lm_len   LM response (LmChallengeResponse, or SMB1 OEMPassword): lm_len bytes; lm may be
 *                NULL when lm_len is 0. The bytes are compared, not decoded.
 *   nt, nt_len   NT response (NtChallengeResponse, or SMB1 UnicodePassword): nt_len bytes; nt may
 *                be NULL when nt_len is 0.
 *   flags        NegotiateFlags (MS-NLMP 2.2.2.5); only NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
 *                is read. Pass 0 when there was no NTLMSSP negotiation (SMB1 without extended
 *                security): ESS is negotiated only through this flag.
 *   user_empty   true when the user name is empty (zero length, or a name that converts to "").
 *   lm_kind      if not NULL, receives what the LM field held (enum ntlm_lm_kind).
 *
 * Returns, testing in this order:
 *   NTLM_VER_ANONYMOUS   nt_len 0, user_empty, and the LM field empty or all zero (Z(1) per
 *                        3.2.5.1.2; any all-zero length is accepted). lm_kind ABSENT or ZERO.
 *   NTLM_VER_NTLMV2      nt_len > 24 (NTLMv2_RESPONSE, 2.2.2.8; its own layout is not checked).
 *                        lm_kind LMV2 for a non-zero 24-byte LM field, ZERO for an all-zero one
 *                        (Z(24) when the CHALLENGE carried MsvAvTimestamp), LM for a non-zero field
 *                        of another length, ABSENT for none.
 *   NTLM_VER_NTLMV1_ESS  nt_len 24 and ESS in flags. lm_kind ESS for a 24-byte LM field of
 *                        ClientChallenge || Z(16) (3.3.1), ZERO if all zero, else LM or ABSENT.
 *   NTLM_VER_NTLMV1      nt_len 24 without ESS. lm_kind NT_COPY when the 24-byte LM field equals the
 *                        NT response (NoLMResponseNTLMv1, 3.3.1), ZERO if all zero, else LM or ABSENT.
 *   NTLM_VER_EMPTY       nt_len 0, a user name, and the LM field empty or all zero: the client had
 *                        no password to answer with. lm_kind ABSENT or ZERO.
 *   NTLM_VER_LM          nt_len 0 and a non-zero 24-byte LM field (LM_RESPONSE, 2.2.2.3), with or
 *                        without a user name. lm_kind LM.
 *   NTLM_VER_UNKNOWN     anything else: an NT response of 1-23 bytes, or no NT response and a
 *                        non-zero LM field of a length other than 24. lm_kind ABSENT, ZERO or LM
 *                        from the LM field alone.
 * No input is an error: every length is classified. SMB1 plaintext passwords (sent when the
 * server's SMB_COM_NEGOTIATE response, MS-CIFS 2.2.4.52.2, leaves NEGOTIATE_ENCRYPT_PASSWORDS
 * clear) are not told apart here; the caller must recognise them first.
 */
enum ntlm_version ntlm_classify(const uint8_t *lm, size_t lm_len, const uint8_t *nt, size_t nt_len,
                                uint32_t flags, bool user_empty, enum ntlm_lm_kind *lm_kind);

/*
 * Which rule of MS-NLMP 3.4.5.1 (KXKEY) gives the session key of a logon whose AUTHENTICATE classified as
 * `v` under the negotiated flags (the AUTHENTICATE's; 0 for SMB1 without extended security):
 * "ntlmv2"; "ntlmv1_ess" (EXTENDED_SESSIONSECURITY, which wins over LM_KEY, 2.2.2.5); "lm_key"
 * (NTLMSSP_NEGOTIATE_LM_KEY: the key comes from the LM hash); "non_nt_session_key"
 * (NTLMSSP_REQUEST_NON_NT_SESSION_KEY: LMOWF[0..7] || Z(8)); "ntlmv1" (the SessionBaseKey, MD4 of the NT
 * hash); "lm" for an LM-only logon. NULL when there is no session key (anonymous, empty, unknown).
 */
const char *ntlm_key_source(enum ntlm_version v, uint32_t flags);

/*
 * The responses an AUTHENTICATE carried, as names into out[] (at most 2): "anonymous"; "lm" (a real LM
 * response, not a copy of the NT one); "ntlmv1"; "ntlmv1_ess"; "lmv2"; "ntlmv2". Returns how many.
 */
int ntlm_responses(enum ntlm_version v, enum ntlm_lm_kind k, const char *out[2]);

/* True when p starts with the 8-byte signature "NTLMSSP\0". */
bool ntlmssp_is(const uint8_t *p, size_t n);

/* Spec name ("NTLMSSP_NEGOTIATE_LM_KEY", ...) of one flag bit, or NULL for reserved bits. */
const char *ntlmssp_flag_name(uint32_t bit);

/* "anonymous", "lm", "ntlmv1", "ntlmv1-ess", "ntlmv2", "empty" or "unknown". */
const char *ntlm_version_name(enum ntlm_version v);

/* "absent", "zero", "lmv2", "ess", "nt-copy", "lm". */
const char *ntlm_lm_kind_name(enum ntlm_lm_kind k);

#endif
