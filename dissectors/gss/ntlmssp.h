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
 * appear in any order and are each checked to lie inside [p, p+n). Strings are Unicode (UTF-16LE)
 * when NTLMSSP_NEGOTIATE_UNICODE is set, else OEM. The version of an AUTHENTICATE is classified
 * per MS-NLMP 3.3 (see enum ntlm_version); `m->flags` is the message's own flags field.
 * Returns NTLM_OK and fills *m, or an enum ntlm_err (m is then partly filled and must be ignored).
 */
enum ntlm_err ntlmssp_parse(const uint8_t *p, size_t n, struct ntlm_msg *m);

/* True when p starts with the 8-byte signature "NTLMSSP\0". */
bool ntlmssp_is(const uint8_t *p, size_t n);

/* Spec name ("NTLMSSP_NEGOTIATE_LM_KEY", ...) of one flag bit, or NULL for reserved bits. */
const char *ntlmssp_flag_name(uint32_t bit);

/* "anonymous", "lm", "ntlmv1", "ntlmv1-ess", "ntlmv2", "empty" or "unknown". */
const char *ntlm_version_name(enum ntlm_version v);

/* "absent", "zero", "lmv2", "ess", "nt-copy", "lm". */
const char *ntlm_lm_kind_name(enum ntlm_lm_kind k);

#endif
