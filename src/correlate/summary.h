/* Record summaries: what the correlation stage keeps of each record for the rules that run at the end. */
#ifndef HOPSCOPE_SUMMARY_H
#define HOPSCOPE_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>

#include "records.h"

/* What the findings rules need of an authentication record: a compact copy, kept after the record itself
 * is written and freed. Strings are never NULL ("" when absent), cut to the lengths given, and interned
 * (strpool.h): they live as long as the correlation stage. */
struct fsum_auth {
    uint64_t id;
    struct timeval ts;
    uint64_t made;               /* streaming: the generation it was made or last changed at (0 otherwise) */
    uint64_t born;               /* ... it was first made at (a record shown at its verdict, then whole: kept) */
    uint8_t af;
    uint8_t cli[16], srv[16];
    uint16_t cport, sport;
    enum auth_transport transport;
    const char *service;         /* at most 31 bytes */
    enum auth_mech mech;
    enum auth_result result;
    bool open;                   /* streaming: its record was handed over at its verdict and is not complete */
    struct hs_status status;
    enum verdict_source verdict_source;
    const char *user;            /* "DOMAIN\\user", Kerberos client, Basic user, or "" (at most 127 bytes) */
    bool anonymous;              /* NTLM anonymous or an empty user */
    bool ntlm;
    int ntlm_version;            /* enum ntlm_version */
    int lm_kind;                 /* enum ntlm_lm_kind */
    uint32_t ntlm_flags;         /* the AUTHENTICATE's, else the latest */
    bool krb;
    const char *krb_spn;         /* at most 127 bytes */
    uint64_t ticket_issued_frame;
    bool krb_error;
    int32_t krb_error_code;
    bool dec_ticket_failed;      /* with keys: no key opened the ticket */
    bool dec_auth;               /* with keys: the authenticator was decrypted */
    bool deleg_flag;             /* ... and carried GSS_C_DELEG_FLAG */
    bool deleg_tgt;              /* ... and a forwarded TGT */
    uint8_t dcerpc_auth_level;
    bool smb1_unsigned_reply;    /* SMB1: the client signs, but the server's first message after the logon
                                    carries no MAC (placeholder or zeros) and no use follows */
    uint64_t f_smb1_unsigned;    /* ... that message's frame */
    /* with --creds (ntlmproof.h): what the account's hashes proved */
    bool creds_verified;         /* the NT (or LM) response recomputed from the account's hash */
    bool creds_dc_lm;            /* the DC keeps an LM hash for the account */
    uint64_t f_sig;              /* the client's first signed message checked (0: none) */
    const char *sig_matched;     /* the key it matched ("none": no key derivable from the hashes) */
    uint64_t f_first, f_auth, f_verdict;
    bool use_denied;             /* a use was refused: tree connect access denied, RPC fault, HTTP 401/403 */
    uint64_t f_use_req, f_use_resp;
    const char *use_name;        /* at most 95 bytes */
    struct hs_status use_status;
    /* names the record gives its hosts (host identity, hosts.h) */
    const char *cli_workstation; /* NTLM AUTHENTICATE Workstation (client-asserted; at most 31 bytes) */
    const char *cli_netlogon;    /* NETLOGON NL_AUTH_MESSAGE computer (client-asserted; at most 31 bytes) */
    const char *srv_dns;         /* NTLM CHALLENGE MsvAvDnsComputerName (server-asserted; at most 63 bytes) */
    const char *srv_nb;          /* NTLM CHALLENGE MsvAvNbComputerName (server-asserted; at most 31 bytes) */
    const char *tree;            /* the first SMB tree path used (\\host\share; at most 95 bytes) */
    const char *srv_target;      /* NTLMv2 MsvAvTargetName, the SPN the client meant ("HTTP/web.example"; at most 95 bytes) */
};

/* ... and of a KDC exchange. */
struct fsum_kdc {
    uint64_t id;
    struct timeval ts;
    uint64_t made;               /* streaming: the generation it was made or last changed at (0 otherwise) */
    uint8_t af;
    uint8_t cli[16];
    uint8_t srv[16];             /* the KDC's address (the hop graph draws exchanges to it) */
    uint16_t cport, sport;       /* the exchange's ports (evidence pcaps select its packets by them) */
    bool udp;
    enum kdc_kind kind;
    const char *cname, *sname, *impersonated; /* at most 127 bytes each */
    bool failed;
    int32_t error_code;
    uint64_t f_req, f_rep;
    bool reply_decrypted;
    uint32_t reply_flags;        /* ticket flags of the issued ticket (RFC 4120 5.3, bit 0 = 0x80000000) */
};

/* A summary with every number zero and every string "" (what the correlation stage starts each from;
 * tests build theirs from it). */
static inline void fsum_auth_init(struct fsum_auth *s)
{
    memset(s, 0, sizeof *s);
    s->service = s->user = s->krb_spn = s->sig_matched = s->use_name = s->cli_workstation = s->cli_netlogon =
        s->srv_dns = s->srv_nb = s->tree = s->srv_target = "";
}

static inline void fsum_kdc_init(struct fsum_kdc *s)
{
    memset(s, 0, sizeof *s);
    s->cname = s->sname = s->impersonated = "";
}

#endif
