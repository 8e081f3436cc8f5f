/* Kerberos KDC exchanges on TCP and UDP port 88 — RFC 4120 7.2.1 (UDP), 7.2.2 (TCP record marking). */
#ifndef HOPSCOPE_KDC_H
#define HOPSCOPE_KDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "kerberos.h"
#include "krbcrypt.h"

struct hs_engine;
struct hs_conn;
struct app_dir;

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

/* A ticket mentioned by an exchange, with what the ticket table knew of it. */
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

/* One KDC exchange: a request and its reply or error. Strings are copies; no pointers into packets. */
struct kdc_rec {
    struct kdc_rec *next;
    struct hs_conn *conn;           /* while awaiting a reply: its connection */
    struct kdc_rec *gprev, *gnext;  /* while awaiting a reply: the engine's list of all such, oldest first */
    bool udp;
    struct timeval ts;
    uint64_t frame_req, frame_rep;
    int req_type, rep_type; /* enum krb_msg_type; 0 when not seen */
    enum kdc_kind kind;
    /* request */
    uint32_t kdc_options;
    char cname[KRB_NAME_MAX], crealm[KRB_NAME_MAX], sname[KRB_NAME_MAX], realm[KRB_NAME_MAX];
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
    struct kdc_ticket_ref ticket;
    int32_t ticket_etype;
    bool ticket_has_kvno;
    uint32_t ticket_kvno;
    int32_t enc_part_etype;
    /* error */
    int32_t error_code;
    char e_text[KRB_NAME_MAX];
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

/* Probe: confidence (0-100) that n bytes at p start a Kerberos-over-TCP stream (4-byte length + KDC message). */
int kdc_probe_tcp(const uint8_t *p, size_t n);

/*
 * Parses TCP record-marked Kerberos (RFC 4120 7.2.2: a 4-byte big-endian length, high bit reserved, then the
 * message) from n in-order bytes at p in direction dir. Returns bytes consumed; 0 when a record is incomplete.
 * Records larger than e->lim.max_pdu are skipped and counted.
 */
size_t kdc_parse_tcp(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n,
                     struct app_dir *ad);

/* One UDP datagram to or from port 88. */
void kdc_datagram(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n);

/* Writes the exchanges of c that never got a reply (result "unknown"). */
void kdc_flush(struct hs_engine *e, struct hs_conn *c);
/* Frees c's KDC state (requests still awaiting a reply are dropped unwritten). */
void kdc_free(struct hs_engine *e, struct hs_conn *c);

/* "as", "tgs", "s4u2self", "s4u2proxy", "u2u", "renew", "validate", "unknown". */
const char *kdc_kind_name(enum kdc_kind k);

/*
 * With keys loaded, decrypts ticket t (RFC 4120 5.3, key usage 2) and returns the result (decrypted, or
 * `why` not); NULL when no keys were given or memory is short. The caller frees it.
 */
struct kdc_decrypted *kdc_decrypt_ticket(struct hs_engine *e, const struct krb_ticket *t);

/* Decrypts authenticator enc with dec's session key (usage KU_AP_REQ_AUTH or KU_TGS_REQ_AUTH); NULL when
 * dec is NULL or was not decrypted. The caller frees it. */
struct kdc_decrypted_auth *kdc_decrypt_authenticator(struct hs_engine *e, const struct kdc_decrypted *dec,
                                                     const struct krb_enc *enc, int usage);

/* Frees r and what it owns. */
void kdc_rec_free(struct kdc_rec *r);

/* "name@realm" into out[cap], cut to fit; an NT-ENTERPRISE name that already holds an '@' is kept as is,
 * and an empty realm adds nothing. "" for an empty name. */
void kdc_principal_join(char *out, size_t cap, const char *name, const char *realm);

/* Fills ref from a parsed ticket and what the engine's ticket table knows of it. */
void kdc_ticket_ref(struct hs_engine *e, const struct krb_ticket *t, struct kdc_ticket_ref *ref);

#endif
