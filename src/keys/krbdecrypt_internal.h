/* Internals of src/keys/krbdecrypt.c: the parsers tests/test_krbcrypt.c reaches — not an API. */
/*
 * Every parser takes bytes that came from the network (after decryption, but a key holder can
 * still send anything) and never reads outside p[n].
 */
#ifndef HOPSCOPE_KRBDECRYPT_INTERNAL_H
#define HOPSCOPE_KRBDECRYPT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "krbdecrypt.h"

/* Largest ciphertext handed to libkrb5. */
#define KC_MAX_CIPHER (1u << 20)


/*
 * Decrypts cipher[n] with one key (RFC 3961 decrypt with key usage `usage`) into a new buffer *out
 * of *outlen bytes, to be released with kc_free_plain (which wipes it). k supplies (or lazily gets)
 * the krb5 context. Returns 0, or -1 when the key does not open it or the input is unusable.
 */
int kc_decrypt_raw(struct kc_keys *k, int32_t enctype, const uint8_t *key, size_t keylen, int usage,
                   const uint8_t *cipher, size_t n, uint8_t **out, size_t *outlen);

/* EncTicketPart ([APPLICATION 3], RFC 4120 5.3) into t (fields after key_principal/key_kvno, which are
 * left alone); 0, or -1 when a required field (flags, key, crealm, cname) is missing or malformed.
 * The authorization data is best effort: a bad PAC leaves has_pac false but does not fail the ticket. */
int kc_parse_enc_ticket_part(const uint8_t *p, size_t n, struct kc_ticket *t);

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
