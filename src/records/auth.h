/* Authentication records: one per attempt on a connection, from the first token to the verdict. */
#ifndef HOPSCOPE_AUTH_H
#define HOPSCOPE_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "kdc.h"
#include "ntlmssp.h"
#include "spnego.h"

struct hs_engine;
struct hs_conn;

enum auth_transport { TRANSPORT_SMB2 = 0, TRANSPORT_HTTP };

enum auth_result { RESULT_UNKNOWN = 0, RESULT_SUCCESS, RESULT_FAILURE };

/* How the client authenticated, as the record's `mechanism` says it. */
enum auth_mech {
    AMECH_UNKNOWN = 0,
    AMECH_NTLM,               /* bare NTLMSSP (HTTP "NTLM", SMB without SPNEGO) */
    AMECH_NEGOTIATE_NTLM,     /* SPNEGO → NTLMSSP */
    AMECH_NEGOTIATE_KERBEROS, /* SPNEGO → krb5 */
    AMECH_KERBEROS,           /* bare GSS krb5 (HTTP "Kerberos") */
    AMECH_NEGOTIATE,          /* SPNEGO whose inner mechanism was not seen */
    AMECH_BASIC,
    AMECH_CREDSSP,
};

/* What an authenticated session was used for: an SMB2 TREE_CONNECT or an HTTP request. */
#define USE_NAME_MAX 256
struct auth_use {
    char name[USE_NAME_MAX];   /* share path, or HTTP request path */
    char method[16];           /* HTTP method; empty for SMB2 */
    uint32_t status;           /* NTSTATUS, or HTTP status code */
    bool answered;
    uint64_t frame_req, frame_resp;
};

/* Message frames of the exchange (0 = not seen). */
struct auth_frames {
    uint64_t negotiate, challenge, authenticate, verdict;
    uint64_t ap_req, ap_rep; /* Kerberos tokens */
};

struct auth_rec {
    struct auth_rec *next;
    struct hs_conn *conn;               /* the connection it belongs to */
    struct auth_rec *gprev, *gnext;     /* the engine's list of all records held, oldest first */
    enum auth_transport transport;
    enum auth_mech mech;
    struct timeval ts;          /* of the first message */
    struct auth_frames frames;
    bool in_progress;           /* no verdict yet */
    enum auth_result result;
    uint32_t status;            /* NTSTATUS (SMB2) or HTTP status code */
    bool have_status;

    /* NTLM, merged from the three messages */
    bool ntlm_seen;
    uint32_t ntlm_flags[3];     /* NEGOTIATE, CHALLENGE, AUTHENTICATE flags (0 if not seen) */
    struct ntlm_msg *ntlm_auth; /* the AUTHENTICATE (fields of its type), or NULL */
    struct ntlm_msg *ntlm_chal; /* the CHALLENGE, or NULL */
    struct ntlm_version_info client_version;
    char ntlm_neg_domain[NTLM_NAME_MAX];      /* NEGOTIATE's OEM DomainName, when supplied */
    char ntlm_neg_workstation[NTLM_NAME_MAX]; /* NEGOTIATE's OEM Workstation, when supplied */

    /* SPNEGO */
    uint32_t spnego_mech_types;
    bool spnego_mech_list_mic;  /* a mechListMIC was seen (either direction) */
    int neg_state;              /* last negState seen from the server */

    /* Kerberos inside GSS: AP-REQ (RFC 4120 5.5.1), AP-REP, KRB-ERROR */
    bool krb_ap_req, krb_ap_rep, krb_error;
    char krb_spn[KRB_NAME_MAX];   /* the ticket's sname */
    char krb_realm[KRB_NAME_MAX]; /* the ticket's realm */
    int32_t krb_etype;            /* the ticket's enc-part etype */
    bool krb_has_kvno;
    uint32_t krb_kvno;
    uint32_t krb_ap_options;
    int32_t krb_auth_etype;       /* the authenticator's etype */
    struct kdc_ticket_ref krb_ticket; /* digest, and who the issuing reply named as client */
    struct kdc_decrypted *krb_dec_ticket;     /* with -k: the service ticket decrypted, or why not */
    struct kdc_decrypted_auth *krb_dec_auth;  /* with -k: its authenticator (GSS flags, delegation) */
    int32_t krb_error_code;
    char krb_e_text[KRB_NAME_MAX];

    /* Basic */
    char basic_user[128];

    /* SMB2 */
    uint64_t smb2_session_id;
    uint16_t smb2_session_flags;
    bool smb2_session_flags_seen;
    uint16_t smb2_dialect;

    /* HTTP */
    char http_scheme[16];
    bool winrm;

    struct auth_use *uses;      /* grown as uses come, up to lim.max_uses_per_record */
    uint32_t nuses, uses_cap, uses_dropped;
};

/*
 * Starts a record on connection c for transport t at the current packet (e->frame, e->now).
 * Returns NULL when the connection already holds lim.max_records_per_conn records in progress
 * (counted as records_dropped). When all connections together hold lim.max_records_total records,
 * the oldest of them is written first, as it stands.
 */
struct auth_rec *auth_new(struct hs_engine *e, struct hs_conn *c, enum auth_transport t);

/*
 * Applies a parsed GSS/SPNEGO/NTLMSSP token seen in direction dir (0 client→server) at the
 * current frame: NTLM messages are parsed and merged (malformed ones counted), the mechanism is
 * refined from the token kind, SPNEGO negState and Kerberos token ids noted.
 * `http_ntlm_scheme` is true when HTTP carried it under the bare "NTLM" scheme.
 */
void auth_apply_token(struct hs_engine *e, struct auth_rec *r, const struct gss_token *t, int dir,
                      bool http_ntlm_scheme);

/* Sets the verdict at the current frame. */
void auth_verdict(struct hs_engine *e, struct auth_rec *r, enum auth_result res, uint32_t status);

/* Appends a use (tree connect / HTTP request) to r, or counts it as dropped at the cap. Returns it; the
 * pointer is valid until the next auth_add_use() on r (the array grows). */
struct auth_use *auth_add_use(struct hs_engine *e, struct auth_rec *r);

/* True when the token starts a new authentication (NTLM NEGOTIATE, SPNEGO init, krb5 AP-REQ,
 * or a bare NTLM AUTHENTICATE with no exchange before it). */
bool auth_token_starts(const struct gss_token *t);

/* Writes r to the output and unlinks and frees it. */
void auth_emit(struct hs_engine *e, struct hs_conn *c, struct auth_rec *r);

/* Emits every record of c (oldest first). */
void auth_flush_conn(struct hs_engine *e, struct hs_conn *c);

/* Frees records (unwritten) and dissector state hanging off c (SMB2, HTTP, KDC). */
void auth_free_conn_state(struct hs_engine *e, struct hs_conn *c);

#endif
