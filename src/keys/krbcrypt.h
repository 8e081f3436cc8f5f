/* Keytabs and Kerberos decryption (MIT libkrb5): tickets, authenticators, delegated credentials, PAC —
 * RFC 4120 5.3/5.5.1/5.8, RFC 3961 (key usages), RFC 4121 4.1.1 (GSS checksum), MS-PAC 2. */
#ifndef HOPSCOPE_KRBCRYPT_H
#define HOPSCOPE_KRBCRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KC_NAME_MAX 256
#define KC_MAX_KEYS 4096
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

/* One key from a keytab. */
struct kc_key {
    char principal[KC_NAME_MAX]; /* "HTTP/web.hoplab.test@HOPLAB.TEST" */
    uint32_t kvno;
    int32_t enctype;
    uint8_t key[64];
    size_t keylen;
    char source[KC_NAME_MAX];    /* keytab file it came from */
};

/* All keys loaded with -k (repeatable). Opaque libkrb5 context inside. */
struct kc_keys {
    void *ctx; /* krb5_context */
    struct kc_key *keys;
    size_t n;
};

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

/*
 * Loads every key of the keytab at path (MIT keytab format, read with krb5_kt_resolve/krb5_kt_start_seq_get)
 * into k; may be called again for more keytabs. k must be zeroed before the first call.
 * Returns 0, or -1 with a one-line reason in err[errlen] ("cannot read keytab: No such file or directory",
 * "not a keytab", "no keys") — the caller prefixes the file name.
 */
int kc_load_keytab(struct kc_keys *k, const char *path, char *err, size_t errlen);

void kc_free(struct kc_keys *k);

/*
 * Decrypts a ticket's enc-part (etype, kvno or -1 when absent, cipher[n]) with every loaded key of that
 * enctype, preferring kvno matches, usage KU_TICKET, and parses EncTicketPart and its PAC into *t.
 * Returns 0 when a key opened it; -1 when no key did (t->decrypted false; not an error to report loudly:
 * the caller says "no key" per record). Never reads outside cipher[n].
 */
int kc_decrypt_ticket(struct kc_keys *k, int32_t etype, int64_t kvno, const uint8_t *cipher, size_t n,
                      struct kc_ticket *t);

/*
 * Decrypts an authenticator (etype, cipher[n]) with the ticket's session key, usage `usage` (KU_AP_REQ_AUTH
 * or KU_TGS_REQ_AUTH), parses it, and for a GSS checksum (0x8003) its flags and delegated KRB-CRED
 * (RFC 4121 4.1.1: Lgth, Bnd, Flags, DlgOpt, Dlgth, Deleg), decrypting the KRB-CRED's enc-part with the same
 * session key (usage KU_KRB_CRED_ENC). Returns 0 on success, -1 if it could not be decrypted or parsed.
 */
int kc_decrypt_authenticator(struct kc_keys *k, const struct kc_session_key *sk, int usage, int32_t etype,
                             const uint8_t *cipher, size_t n, struct kc_authenticator *a);

/* Name of a GSS flag bit (GSS_C_*): "DELEG", "MUTUAL", "REPLAY", "SEQUENCE", "CONF", "INTEG", "DCE_STYLE", ... */
const char *kc_gss_flag_name(uint32_t bit);

#endif
