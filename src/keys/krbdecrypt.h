/* Kerberos decryption with keytab and session keys — RFC 3961 (key usages), RFC 4120 5.3/5.5.1/5.8, RFC 4121 4.1.1. */
#ifndef HOPSCOPE_KRBDECRYPT_H
#define HOPSCOPE_KRBDECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keytab.h"

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

/*
 * Decrypts a ticket's enc-part and parses what it holds into *t.
 *
 * Inputs are the fields of the Ticket's EncryptedData (RFC 4120 5.3): etype, kvno (or -1 when absent)
 * and cipher[n], the cipher OCTET STRING's content (1 byte to 1 MiB). Every key of k with that enctype
 * is tried — first those whose kvno matches (a keytab kvno below 256 also matches the wire kvno's low
 * 8 bits, as keytabs without the 32-bit kvno extension store it), then the others — with RFC 3961
 * decryption, key usage KU_TICKET (2). A key that decrypts but does not yield an EncTicketPart (flags,
 * key, crealm and cname required) is passed over. The authorization data is followed through
 * AD-IF-RELEVANT to the first AD-WIN2K-PAC (pac.h) on a best-effort basis: a malformed PAC leaves
 * has_pac false but does not fail the ticket.
 *
 * Returns 0 with t->decrypted true and key_principal / key_kvno naming the key that opened it; -1 with
 * *t zeroed when no key did, k holds no keys, or cipher is NULL, empty or too long. Not an error to
 * report loudly: the caller says "no key" per record. Never reads outside cipher[n].
 */
int kc_decrypt_ticket(struct kc_keys *k, int32_t etype, int64_t kvno, const uint8_t *cipher, size_t n,
                      struct kc_ticket *t);

/*
 * Decrypts an authenticator and parses it into *a.
 *
 * sk is the session key of the ticket it came with (kc_ticket.session_key), and must be present with
 * sk->enctype == etype; k supplies the libkrb5 context. cipher[n] is the content of the authenticator's
 * EncryptedData cipher, decrypted with usage `usage`: KU_AP_REQ_AUTH (11) for an application AP-REQ,
 * KU_TGS_REQ_AUTH (7) in PA-TGS-REQ (RFC 4120 7.5.1). The Authenticator (RFC 4120 5.5.1) must carry
 * crealm, cname and ctime. A checksum of type 0x8003 is read as RFC 4121 4.1.1 lays it out, every
 * integer little-endian: Lgth (4 bytes, must be 16), Bnd (16), Flags (4) into gss_flags; then, with
 * GSS_C_DELEG_FLAG and bytes left, DlgOpt (2, must be 1), Dlgth (2) and Deleg, a KRB-CRED (RFC 4120
 * 5.8.1) whose enc-part is opened with sk — or the authenticator's subkey, which some implementations
 * use — under usage KU_KRB_CRED_ENC (14), or read in the clear when its etype is 0. A malformed
 * checksum or KRB-CRED does not fail the authenticator: has_gss_flags, has_deleg and deleg_decrypted
 * say how far it got.
 *
 * Returns 0 with a->decrypted true; -1 with *a zeroed when sk is absent or of another enctype, cipher
 * is NULL, empty or longer than 1 MiB, the key does not open it, or the plaintext is not an
 * Authenticator. Never reads outside cipher[n].
 */
int kc_decrypt_authenticator(struct kc_keys *k, const struct kc_session_key *sk, int usage, int32_t etype,
                             const uint8_t *cipher, size_t n, struct kc_authenticator *a);

/*
 * Name of one GSS flag, given as its value (a single bit of kc_authenticator.gss_flags: 0x01, 0x02, ...,
 * not a bit index): "DELEG", "MUTUAL", "REPLAY", "SEQUENCE", "CONF", "INTEG", "ANON", "PROT_READY",
 * "TRANS", "DCE_STYLE", "IDENTIFY", "EXTENDED_ERROR" (RFC 4121 4.1.1.1, RFC 4757 7.1, MS-KILE 3.2.5.2);
 * NULL for a bit with no name.
 */
const char *kc_gss_flag_name(uint32_t bit);

#endif
