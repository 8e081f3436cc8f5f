/* Kerberos V5 messages in the clear — RFC 4120 5.4-5.9, MS-SFU 2.2 (S4U PA-DATA), MS-KILE 2.2 (PAC options, KERB-ERROR-DATA). */
#ifndef HOPSCOPE_KERBEROS_H
#define HOPSCOPE_KERBEROS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* msg-type, RFC 4120 5.10 */
enum krb_msg_type {
    KRB_AS_REQ = 10,
    KRB_AS_REP = 11,
    KRB_TGS_REQ = 12,
    KRB_TGS_REP = 13,
    KRB_AP_REQ = 14,
    KRB_AP_REP = 15,
    KRB_CRED = 22,
    KRB_ERROR = 30,
};

/* KDCOptions bits (RFC 4120 5.4.1; bit 0 is the most significant bit of the first octet). */
#define KDC_OPT_FORWARDABLE       1
#define KDC_OPT_FORWARDED         2
#define KDC_OPT_PROXIABLE         3
#define KDC_OPT_PROXY             4
#define KDC_OPT_RENEWABLE         8
#define KDC_OPT_CNAME_IN_ADDL_TKT 14 /* MS-SFU 2.2.? : S4U2Proxy */
#define KDC_OPT_CANONICALIZE      15
#define KDC_OPT_ENC_TKT_IN_SKEY   28
#define KDC_OPT_RENEW             30
#define KDC_OPT_VALIDATE          31

/* PA-DATA types used in classification (RFC 4120 7.5.2, MS-SFU, MS-KILE). */
#define PA_TGS_REQ         1
#define PA_ENC_TIMESTAMP   2
#define PA_ETYPE_INFO2     19
#define PA_PAC_REQUEST     128
#define PA_FOR_USER        129
#define PA_S4U_X509_USER   130
#define PA_PAC_OPTIONS     167

#define KRB_NAME_MAX 256
#define KRB_MAX_ETYPES 16
#define KRB_MAX_PADATA 16
#define KRB_MAX_ADDL_TICKETS 2
#define KRB_MAX_ADDRESSES 4

/* A PrincipalName, its name-string components joined with '/'. */
struct krb_principal {
    bool present;
    int32_t name_type;
    char name[KRB_NAME_MAX];
};

/* EncryptedData (RFC 4120 5.2.9): what is in the clear about a ciphertext. */
struct krb_enc {
    bool present;
    int32_t etype;
    bool has_kvno;
    uint32_t kvno;
    const uint8_t *cipher; /* points into the message */
    size_t cipher_len;
};

/* Ticket (RFC 4120 5.3). `raw` is the whole DER encoding: byte-for-byte the same wherever the ticket
 * travels (TGS-REP, AP-REQ, additional-tickets), so its digest follows it across connections. */
struct krb_ticket {
    bool present;
    char realm[KRB_NAME_MAX];
    struct krb_principal sname;
    struct krb_enc enc;
    const uint8_t *raw;
    size_t raw_len;
    char digest[33]; /* first 16 bytes of SHA-256(raw), hex */
};

/* AP-REQ (RFC 4120 5.5.1). */
struct krb_ap_req {
    uint32_t ap_options; /* bits as on the wire, bit 0 = 0x80000000 */
    struct krb_ticket ticket;
    struct krb_enc authenticator;
};

struct krb_kdc_req {
    uint32_t kdc_options; /* bit 0 = 0x80000000 */
    struct krb_principal cname;
    char realm[KRB_NAME_MAX];
    struct krb_principal sname;
    char till[24];
    uint32_t nonce;
    int32_t etypes[KRB_MAX_ETYPES];
    int n_etypes;
    int32_t padata[KRB_MAX_PADATA];
    int n_padata;
    bool has_addresses, has_enc_authz;
    char addresses[KRB_MAX_ADDRESSES][64]; /* HostAddresses: "10.0.0.5", "netbios:WS01", "type 7" */
    int n_addresses;
    /* PA-TGS-REQ */
    bool has_tgs_ap_req;
    struct krb_ap_req tgs_ap_req;
    /* PA-FOR-USER / PA-S4U-X509-USER */
    struct krb_principal for_user;
    char for_user_realm[KRB_NAME_MAX];
    int for_user_via; /* PA_FOR_USER or PA_S4U_X509_USER, 0 when absent */
    /* PA-PAC-OPTIONS (MS-KILE 2.2.10) */
    bool has_pac_options;
    uint32_t pac_options; /* bit 0 = 0x80000000 */
    /* PA-PAC-REQUEST */
    int include_pac; /* -1 absent, 0, 1 */
    struct krb_ticket addl[KRB_MAX_ADDL_TICKETS];
    int n_addl;
};

struct krb_kdc_rep {
    int32_t padata[KRB_MAX_PADATA];
    int n_padata;
    char crealm[KRB_NAME_MAX];
    struct krb_principal cname;
    struct krb_ticket ticket;
    struct krb_enc enc_part;
};

struct krb_error {
    int32_t error_code;
    char stime[24];
    char crealm[KRB_NAME_MAX];
    struct krb_principal cname;
    char realm[KRB_NAME_MAX];
    struct krb_principal sname;
    char e_text[KRB_NAME_MAX];
    bool has_e_data;
    bool has_ntstatus; /* KERB-ERROR-DATA with KERB_ERR_TYPE_EXTENDED (MS-KILE 2.2.2) */
    uint32_t ntstatus;
    int32_t e_padata[KRB_MAX_PADATA]; /* METHOD-DATA in e-data (e.g. with PREAUTH_REQUIRED) */
    int n_e_padata;
    int32_t etype_info2[KRB_MAX_ETYPES];  /* PA-ETYPE-INFO2 in that METHOD-DATA: the etypes the KDC offers */
    int n_etype_info2;
};

struct krb_msg {
    int msg_type; /* enum krb_msg_type */
    union {
        struct krb_kdc_req req;   /* AS-REQ, TGS-REQ */
        struct krb_kdc_rep rep;   /* AS-REP, TGS-REP */
        struct krb_ap_req ap_req; /* AP-REQ */
        struct krb_enc ap_rep;    /* AP-REP: its enc-part */
        struct krb_error err;     /* KRB-ERROR */
    } u;
};

/*
 * Parses one Kerberos message (n bytes at p, DER, RFC 4120 5) in the clear: AS-REQ, AS-REP, TGS-REQ,
 * TGS-REP, AP-REQ, AP-REP or KRB-ERROR, including the PA-DATA hopscope classifies by (PA-TGS-REQ with its
 * AP-REQ, PA-FOR-USER, PA-S4U-X509-USER, PA-PAC-OPTIONS, PA-PAC-REQUEST) and KERB-ERROR-DATA. Pointers in
 * *m point into p. Nesting is bounded by DER_MAX_DEPTH; strings longer than KRB_NAME_MAX are cut.
 * Returns 0, or -1 on malformed input or another message type (m->msg_type then says which, if known).
 */
int krb_parse(const uint8_t *p, size_t n, struct krb_msg *m);

/* Spec names: "KDC_ERR_BADOPTION", "aes256-cts-hmac-sha1-96", "PA-FOR-USER", "forwardable", ...;
 * NULL for values not in the tables. */
const char *krb_error_name(int32_t code);
const char *krb_etype_name(int32_t etype);
const char *krb_padata_name(int32_t type);
const char *krb_kdc_option_name(int bit);
const char *krb_ticket_flag_name(int bit);
const char *krb_ap_option_name(int bit);
const char *krb_pac_option_name(int bit);
const char *krb_msg_type_name(int type);

/* True when p looks like the start of a Kerberos KDC message (APPLICATION 10-13 or 30). */
bool krb_is_kdc_msg(const uint8_t *p, size_t n);

#endif
