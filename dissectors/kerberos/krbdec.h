/* Kerberos tickets as records see them: their reference (digest, sname) and, with keys, their contents. */
#ifndef HOPSCOPE_KRBDEC_H
#define HOPSCOPE_KRBDEC_H

#include <stdint.h>

#include "kerberos.h"
#include "krbcrypt.h"
#include "record.h"
#include "stats.h"

/* Fills ref from a parsed ticket: its digest and sname@realm. Who holds it (client, issued_frame) is the
 * correlation stage's to say. */
void krb_ticket_ref_fill(struct kdc_ticket_ref *ref, const struct krb_ticket *t);

/*
 * With keys, decrypts ticket t (RFC 4120 5.3, key usage 2) and returns the result: decrypted, or `why` not
 * (no key of its enctype, or none of them opened it: counted in st->krb_undecrypted). NULL when keys is
 * NULL, the ticket is absent, or memory is short. The caller frees it.
 */
struct kdc_decrypted *krb_decrypt_ticket(struct kc_keys *keys, struct hs_stats *st, const struct krb_ticket *t);

/* Decrypts authenticator enc with dec's session key (usage KU_AP_REQ_AUTH or KU_TGS_REQ_AUTH, RFC 4120
 * 7.5.1); NULL when keys or dec is NULL, or dec was not decrypted. The caller frees it. */
struct kdc_decrypted_auth *krb_decrypt_authenticator(struct kc_keys *keys, const struct kdc_decrypted *dec,
                                                     const struct krb_enc *enc, int usage);

#endif
