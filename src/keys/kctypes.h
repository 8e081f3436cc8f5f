/* What Kerberos decryption learns: session keys, decrypted tickets with their PAC, authenticators with their
 * GSS checksum and forwarded TGT — RFC 4120 5.3/5.5.1/5.8, RFC 4121 4.1.1, MS-PAC 2.5/2.7. The types alone,
 * shared by krbdecrypt.h (which fills tickets and authenticators) and pac.h (which fills a ticket's PAC
 * fields), so that neither header needs the other. */
#ifndef HOPSCOPE_KCTYPES_H
#define HOPSCOPE_KCTYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keytab.h" /* KC_NAME_MAX */

#define KC_MAX_SIDS 64

/* RFC 4120 7.5.1 key usage numbers used here. */
#define KU_TICKET              2  /* Ticket enc-part, service key */
#define KU_AS_REP_ENC          3
#define KU_TGS_REQ_AUTH        7  /* authenticator in PA-TGS-REQ, TGT session key */
#define KU_TGS_REP_ENC_SESSKEY 8
#define KU_TGS_REP_ENC_SUBKEY  9
#define KU_AP_REQ_AUTH         11 /* authenticator in an application AP-REQ, ticket session key */
#define KU_AP_REP_ENC          12
#define KU_KRB_CRED_ENC        14

/* A session key (or subkey) learned from a decrypted ticket or authenticator. */
struct kc_session_key {
    bool present;
    int32_t enctype;
    uint8_t key[64];
    size_t keylen;
};

/* EncTicketPart (RFC 4120 5.3) and what its PAC says (MS-PAC 2.5 KERB_VALIDATION_INFO, 2.7 PAC_CLIENT_INFO,
 * 2.10 UPN_DNS_INFO), decrypted with a service key. */
struct kc_ticket {
    bool decrypted;
    char key_principal[KC_NAME_MAX]; /* which keytab key opened it */
    uint32_t key_kvno;
    uint32_t flags;                  /* TicketFlags, bit 0 = 0x80000000 (krb_ticket_flag_name) */
    struct kc_session_key session_key;
    char cname[KC_NAME_MAX];         /* name-string components joined with '/' */
    char crealm[KC_NAME_MAX];
    char authtime[24], starttime[24], endtime[24], renew_till[24]; /* KerberosTime as on the wire */
    char transited[KC_NAME_MAX];     /* contents as text, "" when empty */
    bool has_pac;
    char pac_user[KC_NAME_MAX];      /* KERB_VALIDATION_INFO EffectiveName, else PAC_CLIENT_INFO name */
    char pac_domain[KC_NAME_MAX];    /* LogonDomainName */
    char pac_upn[KC_NAME_MAX];       /* UPN_DNS_INFO */
    char pac_dns_domain[KC_NAME_MAX];
    char user_sid[128];              /* LogonDomainId + UserId, "S-1-5-21-...-1104" */
    char group_sids[KC_MAX_SIDS][128]; /* domain groups (LogonDomainId + RID) and ExtraSids */
    int n_group_sids;
};

/* The GSS checksum of an authenticator (RFC 4121 4.1.1, checksum type 0x8003). */
#define GSS_C_DELEG_FLAG      0x01
#define GSS_C_MUTUAL_FLAG     0x02
#define GSS_C_REPLAY_FLAG     0x04
#define GSS_C_SEQUENCE_FLAG   0x08
#define GSS_C_CONF_FLAG       0x10
#define GSS_C_INTEG_FLAG      0x20
#define GSS_C_DCE_STYLE       0x1000

/* Authenticator (RFC 4120 5.5.1), decrypted with the ticket's session key, and the KRB-CRED it may carry. */
struct kc_authenticator {
    bool decrypted;
    char cname[KC_NAME_MAX];
    char crealm[KC_NAME_MAX];
    char ctime[24];
    bool has_seq;
    uint32_t seq;
    struct kc_session_key subkey;
    int32_t cksum_type;        /* 0x8003 for GSS */
    bool has_gss_flags;
    uint32_t gss_flags;        /* GSS_C_* */
    bool has_deleg;            /* KRB-CRED present (DlgOpt 1) */
    bool deleg_decrypted;      /* its EncKrbCredPart opened (with the ticket session key, or in the clear: etype 0) */
    char deleg_principal[KC_NAME_MAX];  /* pname@prealm of the forwarded ticket */
    char deleg_sname[KC_NAME_MAX];      /* sname@srealm, "krbtgt/REALM@REALM" for a forwarded TGT */
    uint32_t deleg_flags;      /* TicketFlags of the forwarded ticket (KrbCredInfo flags) */
};

#endif
