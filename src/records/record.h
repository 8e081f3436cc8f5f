/* The record model: what a connection's authentication attempts and KDC exchanges were, as data. */
#ifndef HOPSCOPE_RECORD_H
#define HOPSCOPE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "kerberos.h"
#include "krbcrypt.h"
#include "ntlmssp.h"
#include "spnego.h"

/* ---- identity of the connection a record was seen on ------------------------------------------ */

struct hs_endpoint {
    uint8_t ip[16]; /* IPv4 in the first 4 bytes, the rest zero */
    uint16_t port;
};

/* A connection's identity: both directions of one 5-tuple, the client first. */
struct hs_flow {
    uint64_t id;    /* creation order, unique in a run */
    uint8_t af;     /* 4 or 6 */
    uint8_t proto;  /* IPPROTO_TCP (6) or IPPROTO_UDP (17) */
    struct hs_endpoint cli, srv;
};

/* ---- typed status ------------------------------------------------------------------------------ */

/* What a status code means depends on who said it: the space says which table names it. */
enum status_space {
    STATUS_NONE = 0,     /* no status seen */
    STATUS_NTSTATUS,     /* MS-ERREF 2.3: SMB2, SMB1 (NT status), KERB-EXT-ERROR */
    STATUS_WIN32,        /* MS-ERREF 2.2: DCE/RPC stub results, e.g. 5 ERROR_ACCESS_DENIED */
    STATUS_NCA,          /* C706 / MS-RPCE 2.2.2.7: fault and reject status (nca_s_fault_access_denied) */
    STATUS_HTTP,         /* RFC 9110 15: 401 Unauthorized */
    STATUS_KERBEROS,     /* RFC 4120 7.5.9: KDC_ERR_BADOPTION */
    STATUS_HRESULT,      /* MS-ERREF 2.1: DCOM, 0x80070005 E_ACCESSDENIED */
    STATUS_RPC_REJECT,   /* C706 12.6.3.4: bind_nak provider reject reason */
    STATUS_RPC_CONTEXT,  /* C706 12.6.3.1 p_provider_reason_t: why a bind_ack rejected every context */
    STATUS_DOS,          /* MS-CIFS 2.2.2.4: SMB1 without NT status, ErrorClass << 16 | ErrorCode (ERRSRV/ERRbadpw) */
    STATUS_LDAP,         /* RFC 4511 4.1.9, Appendix A: LDAP resultCode, 49 invalidCredentials */
};

struct hs_status {
    enum status_space space;
    uint32_t code;
};

static inline struct hs_status hs_status_of(enum status_space space, uint32_t code)
{
    struct hs_status s = {space, code};
    return s;
}

/* ---- every record ------------------------------------------------------------------------------- */

enum rec_type { REC_AUTH = 1, REC_KERBEROS, REC_DCOM };

/*
 * How much of a record one hand-over to the sink chain carries (docs/RECORDS.md, "Streaming"). Without
 * streaming every record is handed over once, whole, when it completes. With it (rec_store.stream: --stream,
 * the default on a live capture) an authentication record goes out when its verdict is known, then its uses
 * as they are answered, then once more when it completes, for what was left.
 */
enum rec_phase {
    REC_WHOLE = 0,   /* the complete record, handed over once (every KDC and DCOM record; auth records
                        without streaming, or that completed before a verdict) */
    REC_AT_VERDICT,  /* an auth record as it stood when the message deciding it was processed: writers leave
                        its uses out (they follow as REC_USES) */
    REC_USES,        /* uses [use_from, use_to) of a record handed over at its verdict, newly answered */
    REC_END,         /* the record complete (its connection ended, or it made room): uses [use_from, use_to)
                        were never handed over (unanswered, or answered in the packet that ended it) */
    REC_PEEK,        /* without streaming: an auth record as it stands once its verdict is known, and again each
                        time uses of it are answered, for the correlation stage alone (which judges early with
                        it: a session open for hours does not hold the decisions back); it is written whole, as
                        REC_WHOLE, when it completes. Stages that write records pass it by. */
};

struct rec_conn;

/*
 * The part every record starts with. `id` is stable and unique in a run (creation order); other stages
 * and dissector state refer to a record by it, never by pointer. The links belong to the record layer.
 */
struct rec_hdr {
    uint64_t id;
    enum rec_type type;
    struct timeval ts;         /* of the first message */
    struct hs_flow flow;       /* the connection it was seen on */
    char community_id[40];     /* Community ID v1 of the connection, set when the record is written */
    /* record layer's own */
    struct rec_hdr *next;          /* its connection's records, oldest first */
    struct rec_hdr *gprev, *gnext; /* all records of its type held, oldest first */
    struct rec_hdr *uprev, *unext; /* auth records not handed over yet (streaming: before the verdict), oldest first */
    struct rec_conn *owner;
    bool open;                 /* no verdict yet */
    /* streaming (enum rec_phase): what this hand-over is, and what the record layer handed over before */
    uint8_t phase;             /* enum rec_phase of the hand-over in progress */
    bool streamed;             /* handed over at its verdict already */
    bool peeked;               /* without streaming: shown to the correlation stage (REC_PEEK) already; uses_sent
                                  and auth_use.sent then say which uses it has seen answered */
    uint32_t use_from, use_to; /* REC_USES / REC_END: the uses this hand-over carries */
    uint32_t uses_sent;        /* every use before this one was handed over (auth_use.sent) */
    uint8_t hold;              /* what the record says is still being completed, so it is not handed over at its
                                  verdict, nor its uses, until this clears (its connection ending hands it over
                                  regardless): bits 0x1/0x2, an HTTP message whose body is being read in that
                                  direction (its header's frames are renumbered to the body's last); 0x4, SMB1's
                                  watch of the signatures of the messages after the logon */
    struct timeval at;         /* the time of this hand-over (the packet being processed; REC_USES / REC_END) */
};

/* ---- authentication records -------------------------------------------------------------------- */

/* What carried the security tokens (the record's `transport`). */
enum auth_transport {
    TRANSPORT_SMB2 = 0, /* SMB2/3 SESSION_SETUP (MS-SMB2 2.2.5) */
    TRANSPORT_HTTP,     /* HTTP Authorization / WWW-Authenticate (RFC 9110 11, RFC 4559) */
    TRANSPORT_SMB1,     /* SMB1 SESSION_SETUP_ANDX (MS-CIFS 2.2.4.53, MS-SMB 2.2.4.6) */
    TRANSPORT_DCERPC,   /* DCE/RPC auth verifier (MS-RPCE 2.2.2.11), over TCP or an SMB named pipe */
    TRANSPORT_LDAP,     /* LDAP BindRequest (RFC 4511 4.2, MS-ADTS 5.1.1.1) */
    TRANSPORT_OTHER,    /* NTLMSSP found in a protocol hopscope does not dissect (dissectors/other) */
};

enum auth_result { RESULT_UNKNOWN = 0, RESULT_SUCCESS, RESULT_FAILURE };

/* Where an attempt stands. */
enum auth_state {
    AUTH_NEGOTIATING = 0, /* tokens exchanged, no answer to the final one yet */
    AUTH_UNCONFIRMED,     /* the server accepted the tokens, but its verdict is what it does next (AUTH3) */
    AUTH_DECIDED,         /* result and status known */
};

/* Which message gave the verdict. */
enum verdict_source {
    VERDICT_NONE = 0,
    VERDICT_SESSION_SETUP, /* SMB2 SESSION_SETUP response status */
    VERDICT_HTTP_STATUS,   /* HTTP response status */
    VERDICT_BIND_ACK,      /* DCE/RPC bind_ack / alter_context_resp */
    VERDICT_BIND_NAK,      /* DCE/RPC bind_nak */
    VERDICT_FIRST_CALL,    /* the response or fault to the first authenticated request */
    VERDICT_LDAP_BIND,     /* LDAP BindResponse resultCode */
};

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
    AMECH_NETLOGON,           /* DCE/RPC NETLOGON secure channel (MS-NRPC 3.3), auth_type 68 */
    AMECH_SIMPLE,             /* LDAP simple bind (RFC 4513 5.1): a name and a password, the password never kept */
    AMECH_SASL,               /* LDAP SASL mechanism that is not a GSS one (DIGEST-MD5, EXTERNAL, PLAIN ...) */
};

/* What an authenticated session was used for: an SMB1/SMB2 tree connect or an HTTP request. */
#define USE_NAME_MAX 256
struct auth_use {
    char name[USE_NAME_MAX];   /* share path, HTTP request path, or DCE/RPC operation */
    char method[16];           /* HTTP method; empty for SMB2 */
    const char *iface;         /* DCE/RPC: the interface's name (static), or NULL */
    uint16_t opnum;            /* DCE/RPC */
    char service[8];           /* SMB1 TREE_CONNECT_ANDX response Service ("IPC", "A:"); else empty */
    const char *detail_kind;   /* DCOM/WMI: what `detail` is ("class", "namespace", "query", "method",
                                  "object_path"; static), or NULL */
    char detail[192];          /* ... UTF-8, cut to fit: "root\\cimv2", "Win32_Process.Create", WQL text */
    struct hs_status status;
    bool answered;
    bool sent;                 /* streaming: handed over already (enum rec_phase); else shown answered (REC_PEEK) */
    uint64_t frame_req, frame_resp;
};

/* Does the hand-over in progress of the record with header h carry use u (enum rec_phase)? A REC_USES
 * hand-over carries the uses of its range answered and not handed over before; a REC_END one every use of
 * its range not handed over before. */
static inline bool rec_use_carried(const struct rec_hdr *h, const struct auth_use *u)
{
    return !u->sent && (h->phase == REC_END || u->answered || u->frame_resp);
}

/* Message frames of the exchange (0 = not seen). */
struct auth_frames {
    uint64_t negotiate, challenge, authenticate, verdict;
    uint64_t ap_req, ap_rep; /* Kerberos tokens */
};

/* A ticket mentioned by a record: its digest from the wire; client and issued_frame filled by the
 * correlation stage from the KDC reply that issued it. */
struct kdc_ticket_ref {
    char digest[33];
    char sname[256];    /* sname@realm as carried */
    char client[256];   /* cname@crealm of the reply that issued it, if seen */
    uint64_t issued_frame;
};

/* A ticket hopscope tried to decrypt: the result, or why it could not (no key of its enctype, or no key
 * opened it). Allocated per attempt; only made when keys were given. */
struct kdc_decrypted {
    struct kc_ticket t;
    char why[160];
};

/* An authenticator decrypted with a ticket's session key. */
struct kdc_decrypted_auth {
    struct kc_authenticator a;
    char why[96];
};

struct ntlm_proof;

/* NTLM (MS-NLMP 2.2.1), merged from the three messages. */
struct gss_ntlm {
    bool seen;
    uint32_t flags[3];          /* NEGOTIATE, CHALLENGE, AUTHENTICATE flags (0 if not seen) */
    struct ntlm_msg *auth;      /* the AUTHENTICATE, or NULL */
    struct ntlm_msg *chal;      /* the CHALLENGE, or NULL */
    struct ntlm_version_info client_version;
    char neg_domain[NTLM_NAME_MAX];      /* NEGOTIATE's OEM DomainName, when supplied */
    char neg_workstation[NTLM_NAME_MAX]; /* NEGOTIATE's OEM Workstation, when supplied */
    struct ntlm_proof *proof;   /* with --creds only: verification and keys (ntlmproof.h); wiped on free */
    size_t proof_size;          /* its size in bytes, for the wipe (the record layer does not know the type) */
};

/* SPNEGO (RFC 4178). */
struct gss_spnego {
    uint32_t mech_types;  /* bits of enum gss_mech */
    bool mech_list_mic;   /* a mechListMIC was seen (either direction) */
    int neg_state;        /* last negState seen from the server (enum spnego_neg_state) */
};

/* Kerberos inside GSS: AP-REQ (RFC 4120 5.5.1), AP-REP, KRB-ERROR. */
struct gss_krb {
    bool ap_req, ap_rep, error;
    char spn[KRB_NAME_MAX];   /* the ticket's sname */
    char realm[KRB_NAME_MAX]; /* the ticket's realm */
    int32_t etype;            /* the ticket's enc-part etype */
    bool has_kvno;
    uint32_t kvno;
    uint32_t ap_options;
    int32_t auth_etype;       /* the authenticator's etype */
    struct kdc_ticket_ref ticket;
    struct kdc_decrypted *dec_ticket;    /* with -k: the service ticket decrypted, or why not */
    struct kdc_decrypted_auth *dec_auth; /* with -k: its authenticator (GSS flags, delegation) */
    int32_t error_code;
    char e_text[KRB_NAME_MAX];
};

/* The mechanism part, the same whatever carried the tokens. */
struct auth_gss {
    enum auth_mech mech;
    struct gss_spnego spnego;
    struct gss_ntlm ntlm;
    struct gss_krb krb;
    char basic_user[128];  /* HTTP Basic: the user-id only, never the password */
};

struct auth_smb2 {
    uint64_t session_id;
    uint16_t session_flags;
    bool session_flags_seen;
    uint16_t dialect;
};

/* SMB1 (MS-CIFS 2.2.4.52-53, MS-SMB 2.2.4.5-6): what NEGOTIATE and SESSION_SETUP_ANDX said. */
#define SMB1_DIALECTS_MAX 12
#define SMB1_DIALECT_NAME_MAX 32
#define SMB1_NATIVE_MAX 64
#define SMB1_SIG_WATCH 4 /* messages whose SecuritySignature is noted, from the successful SESSION_SETUP on */

/* What the SecuritySignature field of a message held (MS-CIFS 2.2.3.1, 3.1.5.1). */
enum smb1_sig_kind {
    SMB1_SIG_ZERO = 0,    /* all zero: not signed */
    SMB1_SIG_PLACEHOLDER, /* "BSRSPYL ": signing not (yet) active on the sender's side */
    SMB1_SIG_MAC,         /* anything else: a MAC */
};

struct smb1_sig_seen {
    uint64_t frame;
    bool from_server;
    uint8_t command;          /* SMB1 command of the message */
    enum smb1_sig_kind kind;
    struct hs_status status;  /* the server's messages: their status */
};

struct auth_smb1 {
    uint16_t uid;
    bool negotiate_seen;       /* the NEGOTIATE response was seen (the fields below from it are valid) */
    char dialect[SMB1_DIALECT_NAME_MAX];  /* the dialect chosen, "NT LM 0.12" */
    char dialects_offered[SMB1_DIALECTS_MAX][SMB1_DIALECT_NAME_MAX];
    uint8_t n_dialects;
    uint8_t security_mode;     /* NEGOTIATE response SecurityMode (NEGOTIATE_USER_SECURITY ...) */
    uint32_t capabilities;     /* NEGOTIATE response Capabilities (CAP_EXTENDED_SECURITY ...) */
    bool extended_security;    /* SESSION_SETUP_ANDX carried a security blob (MS-SMB 2.2.4.6) */
    bool plaintext_password;   /* a clear-text password was sent (never kept): the server does not encrypt */
    bool action_seen;
    uint16_t action;           /* Action of the successful response (SMB_SETUP_GUEST ...) */
    char client_native_os[SMB1_NATIVE_MAX], client_native_lanman[SMB1_NATIVE_MAX];
    char server_native_os[SMB1_NATIVE_MAX], server_native_lanman[SMB1_NATIVE_MAX];
    /* Signing (MS-CIFS 3.1.5.1): what the client asked for, and what the first messages from the
     * successful SESSION_SETUP response on carried. */
    bool client_signing, client_signing_required; /* SMB_FLAGS2_SMB_SECURITY_SIGNATURE(_REQUIRED) */
    struct smb1_sig_seen sigs[SMB1_SIG_WATCH];
    uint8_t n_sigs;
    bool signed_after;               /* one of them carried a MAC */
    uint64_t first_signed_frame;     /* the first that did */
    uint64_t first_signed_resp_frame; /* the first of the server's that did, and its status */
    struct hs_status first_signed_resp_status;
};

struct auth_http {
    char scheme[16];
    bool winrm;
};

/* DCE/RPC (MS-RPCE 2.2.2.11): the security context of an association, and the interface it was bound for. */
struct auth_dcerpc {
    uint8_t auth_type;         /* sec_trailer auth_type, MS-RPCE 2.2.1.1.7 */
    uint8_t auth_level;        /* 1 none .. 6 privacy, MS-RPCE 2.2.1.1.8 */
    bool have_iface;
    uint8_t iface_uuid[16];    /* as on the wire */
    bool iface_le;             /* the UUID's data representation */
    uint16_t iface_vmaj, iface_vmin;
    const char *iface_name;    /* a static table's name, or NULL */
    char pipe[64];             /* the SMB named pipe it ran over; "" over TCP */
    uint32_t bind_call_id;
    uint8_t legs;              /* PDUs that carried its tokens (bind, alter_context, auth3) */
    bool auth3;                /* the three-leg exchange: the verdict is the answer to the first call */
    char netlogon_domain[64];  /* NL_AUTH_MESSAGE NetBIOS domain and computer (MS-NRPC 2.2.1.3.1) */
    char netlogon_computer[64];
    /* DCOM (filled by the correlation stage): the activation whose string bindings led to this connection */
    uint64_t dcom_activation;  /* the `dcom` record's id, 0: none */
    bool dcom_have_clsid;
    uint8_t dcom_clsid[16];    /* little-endian GUID wire bytes */
    const char *dcom_class;    /* the class's name (static), or NULL */
};

/* LDAP binds (RFC 4511 4.2, MS-ADTS 5.1.1.1): what only LDAP carries. Never the simple bind's password. */
#define LDAP_DN_MAX 256
#define LDAP_TEXT_MAX 256
#define LDAP_BINDS_MAX 8 /* BindRequest/BindResponse pairs kept per attempt; GSSAPI takes three */

/* The BindRequest's AuthenticationChoice (RFC 4511 4.2, MS-ADTS 5.1.1.1). */
enum ldap_auth {
    LDAP_AUTH_UNKNOWN = 0, /* only a BindResponse was seen */
    LDAP_AUTH_SIMPLE,      /* [0] simple */
    LDAP_AUTH_SASL,        /* [3] sasl */
    LDAP_AUTH_SICILY,      /* [9] sicilyPackageDiscovery, [10] sicilyNegotiate, [11] sicilyResponse */
    LDAP_AUTH_OTHER,       /* a choice RFC 4511 reserves or nobody defines ([1], [2]: LDAPv2 Kerberos v4) */
};

/* Which simple bind (RFC 4513 5.1). */
enum ldap_simple {
    LDAP_SIMPLE_NONE = 0,
    LDAP_SIMPLE_ANONYMOUS,       /* 5.1.1: empty name, empty password */
    LDAP_SIMPLE_UNAUTHENTICATED, /* 5.1.2: a name, empty password (servers must not take it as authenticated) */
    LDAP_SIMPLE_PASSWORD,        /* 5.1.3: a name and a password */
};

/* One BindRequest and its BindResponse: a SASL bind takes several (saslBindInProgress between them). */
struct ldap_bind_leg {
    uint32_t message_id;
    uint64_t frame_req, frame_resp; /* 0 = not seen */
    bool answered;
    uint32_t result_code;
};

struct auth_ldap {
    uint8_t version;                 /* the BindRequest's version (3; 2 for LDAPv2) */
    uint8_t auth;                    /* enum ldap_auth */
    uint8_t simple;                  /* enum ldap_simple */
    char bind_dn[LDAP_DN_MAX];       /* the BindRequest's name, as sent (UTF-8), cut to fit */
    char sasl_mechanism[32];         /* the SaslCredentials mechanism: "GSSAPI", "GSS-SPNEGO", "EXTERNAL" ... */
    char sicily_packages[64];        /* what a sicilyPackageDiscovery was answered ("NTLM") */
    bool has_result;
    uint32_t result_code;            /* the latest BindResponse's resultCode (saslBindInProgress included) */
    char matched_dn[LDAP_DN_MAX];    /* as text; the NTLM CHALLENGE sicily carries there goes to `gss` instead */
    char diagnostic[LDAP_TEXT_MAX];  /* diagnosticMessage */
    bool has_ad_error;
    uint32_t ad_error;               /* Active Directory's "data XXX" in diagnosticMessage: a Win32 error code */
    struct ldap_bind_leg binds[LDAP_BINDS_MAX];
    uint32_t nbinds, binds_dropped;
};

/* One authentication attempt on a connection, from the first token to the verdict. */
struct auth_rec {
    struct rec_hdr h;
    enum auth_transport transport;
    struct auth_frames frames;
    enum auth_state state;
    enum verdict_source verdict_source;
    enum auth_result result;
    struct hs_status status;
    uint64_t carrier;      /* id of the record this one runs over (RPC bind over an SMB2 session); 0: none */
    uint32_t context_id;   /* the authentication context on its connection (DCE/RPC auth_context_id) */
    struct auth_gss gss;
    struct auth_smb2 smb2;  /* transport SMB2 */
    struct auth_smb1 smb1;  /* transport SMB1 */
    struct auth_http http;  /* transport HTTP */
    struct auth_dcerpc dcerpc; /* transport DCERPC */
    struct auth_ldap ldap;     /* transport LDAP */
    struct auth_use *uses;  /* grown as uses come, up to lim.max_uses_per_record */
    uint32_t nuses, uses_cap, uses_dropped;
};

/* ---- DCOM activations ------------------------------------------------------------------------- */

/* A string binding of a DUALSTRINGARRAY (MS-DCOM 2.2.19.3): where the activated object's exporter listens. */
#define DCOM_BINDINGS_MAX 8
struct dcom_binding {
    uint16_t tower_id;       /* MS-DCOM 2.2.19.3 / C706 Appendix I: 0x07 ncacn_ip_tcp, 0x0f ncacn_np ... */
    char addr[80];           /* aNetworkAddr as UTF-8, cut to fit: "172.18.39.6[52419]", "HOST" */
    uint16_t port;           /* the endpoint in brackets when it is a TCP/UDP port, else 0 */
    uint8_t af;              /* 4 or 6 when the host part is an address literal (then ip holds it), else 0 */
    uint8_t ip[16];
};

/*
 * One DCOM activation or OXID resolution (MS-DCOM 3.1.2.5.2: IRemoteSCMActivator RemoteCreateInstance /
 * RemoteGetClassObject, IActivation RemoteActivation; IObjectExporter ResolveOxid, ResolveOxid2,
 * ServerAlive2): the class asked for and the string bindings returned. Made by the DCE/RPC dissector when
 * the answer arrives and written at once; the correlation stage holds it until it sees (or gives up on)
 * the connection the bindings led to, and fills in `conn`.
 */
#define DCOM_LINKED_MAX 8
struct dcom_rec {
    struct rec_hdr h;
    const char *iface;       /* static: "ISystemActivator", "IActivation", "IObjectExporter" */
    const char *op;          /* static: "RemoteCreateInstance", ... */
    uint16_t opnum;
    uint64_t frame_req, frame_resp;
    uint8_t auth_level;      /* of the call (MS-RPCE 2.2.1.1.8); 0: no security context */
    bool sealed_req, sealed_resp; /* the stub was encrypted (privacy): nothing in it was read */
    bool have_com_version;
    uint16_t com_major, com_minor; /* ORPCTHIS version (MS-DCOM 2.2.11) */
    bool have_clsid;
    uint8_t clsid[16];       /* little-endian GUID wire bytes */
    const char *class_name;  /* static, or NULL */
    bool answered, fault;
    struct hs_status status; /* the returned HRESULT (activation), error_status_t (OXID resolver), or fault */
    uint64_t auth;           /* id of the auth record of the call's security context, 0: none */
    char user[128];          /* who that context authenticated as, when known */
    struct dcom_binding bindings[DCOM_BINDINGS_MAX];
    uint8_t n_bindings;
    bool bindings_cut;       /* more than DCOM_BINDINGS_MAX were returned */
    /* the connection the bindings led to (correlation stage) */
    bool linked;
    struct hs_flow conn;
    char conn_community_id[40];
    uint64_t conn_records[DCOM_LINKED_MAX];
    uint8_t n_conn_records;
};

/* ---- KDC exchanges ------------------------------------------------------------------------------ */

/* What a TGS/AS exchange was, by RFC 4120 / MS-SFU semantics. */
enum kdc_kind {
    KDC_KIND_AS = 0,
    KDC_KIND_TGS,
    KDC_KIND_S4U2SELF,  /* PA-FOR-USER or PA-S4U-X509-USER */
    KDC_KIND_S4U2PROXY, /* cname-in-addl-tkt + an additional (evidence) ticket */
    KDC_KIND_U2U,       /* enc-tkt-in-skey */
    KDC_KIND_RENEW,
    KDC_KIND_VALIDATE,
    KDC_KIND_UNKNOWN,   /* only a reply or error was seen */
};

/* One KDC exchange: a request and its reply or error. Strings are copies; no pointers into packets. */
struct kdc_rec {
    struct rec_hdr h;
    bool udp;
    uint64_t frame_req, frame_rep;
    int req_type, rep_type; /* enum krb_msg_type; 0 when not seen */
    enum kdc_kind kind;
    /* request */
    uint32_t kdc_options;
    char cname[KRB_NAME_MAX], crealm[KRB_NAME_MAX], sname[KRB_NAME_MAX], realm[KRB_NAME_MAX];
    bool has_cname_type;
    int32_t cname_type;     /* the cname's name-type (RFC 4120 6.2; 10 NT-ENTERPRISE, RFC 6806) */
    int32_t etypes[KRB_MAX_ETYPES];
    int n_etypes;
    int32_t padata[KRB_MAX_PADATA];
    int n_padata;
    char till[24];
    uint32_t nonce;
    char addresses[KRB_MAX_ADDRESSES][64];
    int n_addresses;
    char for_user[KRB_NAME_MAX], for_user_realm[KRB_NAME_MAX];
    int for_user_via;
    bool has_pac_options;
    uint32_t pac_options;
    int include_pac;
    bool has_tgt;
    struct kdc_ticket_ref tgt;
    struct kdc_ticket_ref addl[KRB_MAX_ADDL_TICKETS];
    int n_addl;
    /* reply */
    char rep_cname[KRB_NAME_MAX], rep_crealm[KRB_NAME_MAX];
    bool has_ticket;
    struct kdc_ticket_ref ticket; /* digest from the wire; client as the correlation stage decides it */
    int32_t ticket_etype;
    bool ticket_has_kvno;
    uint32_t ticket_kvno;
    int32_t enc_part_etype;
    /* error */
    int32_t error_code;
    char e_text[KRB_NAME_MAX];
    char err_realm[KRB_NAME_MAX], err_sname[KRB_NAME_MAX]; /* the KRB-ERROR's own realm and sname */
    bool has_ntstatus;
    uint32_t ntstatus;
    int32_t e_padata[KRB_MAX_PADATA];
    int n_e_padata;
    int32_t etype_info2[KRB_MAX_ETYPES];
    int n_etype_info2;
    /* with keys (-k): what decryption revealed; NULL when no keys were given */
    struct kdc_decrypted *dec_tgt, *dec_addl[KRB_MAX_ADDL_TICKETS], *dec_reply;
    struct kdc_decrypted_auth *dec_tgs_auth; /* the PA-TGS-REQ authenticator, under the TGT's session key */
};

/* A principal name-type (RFC 4120 6.2, RFC 6806 NT-ENTERPRISE, MS-KILE NT-MS-PRINCIPAL): "NT-PRINCIPAL",
 * "NT-ENTERPRISE", ...; NULL when unknown. */
const char *krb_name_type_name(int32_t t);

/* "as", "tgs", "s4u2self", "s4u2proxy", "u2u", "renew", "validate", "unknown". */
const char *kdc_kind_name(enum kdc_kind k);

/* "name@realm" into out[cap], cut to fit; an NT-ENTERPRISE name that already holds an '@' is kept as is,
 * and an empty realm adds nothing. "" for an empty name. */
void kdc_principal_join(char *out, size_t cap, const char *name, const char *realm);

/*
 * Who asked for a KDC exchange: the AS-REQ's cname; for a TGS-REQ (whose cname is hidden) the holder of the
 * TGT it presented, named by the AS-REP that issued it; else what the reply or error says. For S4U the asker
 * is the service (on whose behalf is the impersonated user). Writes the name into out[cap] and returns where
 * it came from: "request", "tgt", "reply" or "error"; NULL (out "") when nothing names it.
 */
const char *kdc_rec_client(const struct kdc_rec *r, char *out, size_t cap);

/* "ntlm", "negotiate/ntlm", "negotiate/kerberos", "kerberos", "negotiate", "basic", "credssp", "simple", "sasl",
 * "unknown". */
const char *auth_mech_name(enum auth_mech m);

/* "success", "failure", "unknown". */
const char *auth_result_name(enum auth_result r);

/* "smb2", "http", "smb1", "dcerpc", "ldap". */
const char *auth_transport_name(enum auth_transport t);

/* The service a record's transport reached: "cifs" for SMB, "winrm" or "http", "ldap"; for DCE/RPC the
 * interface's name once known, else "dcerpc". */
const char *auth_service_name(const struct auth_rec *r);

/* Who authenticated, whatever the mechanism: "DOMAIN\user" (NTLM), the Basic user-id, an LDAP simple bind's
 * name, the Kerberos ticket's client; "" when unknown. */
void auth_who(const struct auth_rec *r, char *out, size_t cap);
/* Whether auth_who() names r's user by its Kerberos ticket's client (gss.krb.ticket.client, which the correlation
 * stage fills in). */
bool auth_who_is_ticket(const struct auth_rec *r);

/*
 * The best-known identity of an attempt into out[cap] ("" when none), and where it comes from: "ntlm" (the
 * AUTHENTICATE's DOMAIN\user), "anonymous" (an anonymous NTLM AUTHENTICATE or LDAP bind; out ""), "basic",
 * "netlogon" (DOMAIN\COMPUTER$ of the secure channel), "ldap_simple" (the bind DN), "kerberos_ticket_decrypted"
 * (cname@crealm of the service ticket opened with -k), "kerberos_kdc_reply" (the client of the KDC reply that
 * issued the ticket); NULL when nothing names anyone.
 */
const char *auth_user(const struct auth_rec *r, char *out, size_t cap);

/*
 * The name of a typed status: NTSTATUS and Win32 and HRESULT by their MS-ERREF spelling, HTTP by its
 * reason phrase, Kerberos by its RFC 4120 name, DCE/RPC by its nca_s_ name, an SMB1 DOS error as
 * "class/code" (MS-CIFS 2.2.2.4: "ERRSRV/ERRbadpw"; "SUCCESS" for class 0), LDAP by its RFC 4511
 * resultCode name. NULL when the table has no name for it.
 */
const char *hs_status_name(struct hs_status s);

/* The RFC 4511 name of an LDAP resultCode (4.1.9, Appendix A: "invalidCredentials"), NULL when unknown. */
const char *ldap_result_name(uint32_t code);

/*
 * Active Directory's "data XXX" code of a bind's diagnosticMessage (a Win32 error code, MS-ERREF 2.2: 0x52e is
 * 1326): its MS-ERREF name ("ERROR_LOGON_FAILURE"), NULL when not in the table; *meaning (may be NULL) gets what
 * it says of the account ("invalid credentials").
 */
const char *ldap_ad_error_name(uint32_t code, const char **meaning);

#endif
