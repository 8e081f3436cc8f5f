/* Kerberos decryption with keytab and session keys — RFC 3961 (key usages), RFC 4120 5.3/5.5.1/5.8, RFC 4121 4.1.1. */
#ifndef HOPSCOPE_KRBDECRYPT_H
#define HOPSCOPE_KRBDECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keytab.h"
#include "kctypes.h" /* struct kc_ticket, kc_authenticator, kc_session_key, KU_* */

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
