/* Internals of krbcrypt.c exposed for its unit tests (tests/test_krbcrypt.c) — not a public API.
 * Every parser takes bytes that came from the network (after decryption, but a key holder can
 * still send anything) and never reads outside p[n]. */
#ifndef HOPSCOPE_KRBCRYPT_INTERNAL_H
#define HOPSCOPE_KRBCRYPT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "krbcrypt.h"

/* Most PAC_INFO_BUFFERs accepted in one PACTYPE (real PACs have fewer than 20). */
#define KC_PAC_MAX_BUFFERS 256
/* Deepest AD-IF-RELEVANT nesting followed. */
#define KC_AD_MAX_DEPTH 4
/* Largest ciphertext handed to libkrb5. */
#define KC_MAX_CIPHER (1u << 20)

/*
 * Decrypts cipher[n] with one key (RFC 3961 decrypt with key usage `usage`) into a new buffer *out
 * of *outlen bytes, to be released with kc_free_plain (which wipes it). k supplies (or lazily gets)
 * the krb5 context. Returns 0, or -1 when the key does not open it or the input is unusable.
 */
int kc_decrypt_raw(struct kc_keys *k, int32_t enctype, const uint8_t *key, size_t keylen, int usage,
                   const uint8_t *cipher, size_t n, uint8_t **out, size_t *outlen);
void kc_free_plain(uint8_t *p, size_t n);

/* EncTicketPart ([APPLICATION 3], RFC 4120 5.3) into t (fields after key_principal/key_kvno, which are
 * left alone); 0, or -1 when a required field (flags, key, crealm, cname) is missing or malformed.
 * The authorization data is best effort: a bad PAC leaves has_pac false but does not fail the ticket. */
int kc_parse_enc_ticket_part(const uint8_t *p, size_t n, struct kc_ticket *t);

/* AuthorizationData (SEQUENCE OF { ad-type [0], ad-data [1] }), following AD-IF-RELEVANT up to
 * KC_AD_MAX_DEPTH and decoding the first AD-WIN2K-PAC. 0, or -1 when malformed. */
int kc_parse_authorization_data(const uint8_t *p, size_t n, struct kc_ticket *t, int depth);

/* PACTYPE (MS-PAC 2.3): validates every PAC_INFO_BUFFER (count capped at KC_PAC_MAX_BUFFERS, each
 * [Offset, Offset+cbBufferSize) inside p[n]) and decodes types 1, 10 and 12 into t, setting has_pac.
 * -1 (has_pac false, t's PAC fields untouched) when the header or any buffer descriptor is bad. */
int kc_parse_pac(const uint8_t *p, size_t n, struct kc_ticket *t);

/* KERB_VALIDATION_INFO (MS-PAC 2.5) in its NDR type-1 serialization (MS-RPCE 2.2.6). Fills
 * pac_user (EffectiveName), pac_domain (LogonDomainName) as they are decoded, and user_sid and
 * group_sids only once the whole structure decoded. 0, or -1 when malformed. */
int kc_parse_logon_info(const uint8_t *p, size_t n, struct kc_ticket *t);

/* PAC_CLIENT_INFO (MS-PAC 2.7): the client name into name[cap]. 0 or -1. */
int kc_parse_client_info(const uint8_t *p, size_t n, char *name, size_t cap);

/* UPN_DNS_INFO (MS-PAC 2.10): pac_upn and pac_dns_domain. 0 or -1. */
int kc_parse_upn_dns_info(const uint8_t *p, size_t n, struct kc_ticket *t);

/* Authenticator ([APPLICATION 2], RFC 4120 5.5.1) into a (decrypted is left alone); the GSS checksum
 * and its KRB-CRED are opened with sk when needed. 0, or -1 when a required field is missing. */
int kc_parse_authenticator(struct kc_keys *k, const struct kc_session_key *sk, const uint8_t *p, size_t n,
                           struct kc_authenticator *a);

/* The checksum value of a 0x8003 checksum (RFC 4121 4.1.1). 0, or -1 when malformed (flags unset). */
int kc_parse_gss_checksum(struct kc_keys *k, const struct kc_session_key *sk, const uint8_t *p, size_t n,
                          struct kc_authenticator *a);

/* KRB-CRED ([APPLICATION 22], RFC 4120 5.8.1); its enc-part opened with sk (usage 14) or in the clear
 * (etype 0). Sets deleg_decrypted and the deleg_* fields. 0, or -1. */
int kc_parse_krb_cred(struct kc_keys *k, const struct kc_session_key *sk, const uint8_t *p, size_t n,
                      struct kc_authenticator *a);

/* EncKrbCredPart ([APPLICATION 29], RFC 4120 5.8.1): the first KrbCredInfo. 0, or -1. */
int kc_parse_enc_krb_cred_part(const uint8_t *p, size_t n, struct kc_authenticator *a);

#endif
