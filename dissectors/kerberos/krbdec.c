/* Kerberos tickets for records: references by digest, and decryption with keytabs (RFC 4120 5.3, 5.5.1). */
#include "krbdec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void krb_ticket_ref_fill(struct kdc_ticket_ref *ref, const struct krb_ticket *t)
{
    memset(ref, 0, sizeof *ref);
    memcpy(ref->digest, t->digest, sizeof ref->digest);
    kdc_principal_join(ref->sname, sizeof ref->sname, t->sname.name, t->realm);
}

struct kdc_decrypted *krb_decrypt_ticket(struct kc_keys *keys, struct hs_stats *st, const struct krb_ticket *t)
{
    if (!keys || !t->present)
        return NULL;
    struct kdc_decrypted *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (kc_decrypt_ticket(keys, t->enc.etype, t->enc.has_kvno ? (int64_t)t->enc.kvno : -1, t->enc.cipher,
                          t->enc.cipher_len, &d->t) == 0)
        return d;
    size_t same = 0;
    for (size_t i = 0; i < keys->n; i++)
        if (keys->keys[i].enctype == t->enc.etype)
            same++;
    const char *en = krb_etype_name(t->enc.etype);
    if (same == 0)
        snprintf(d->why, sizeof d->why, "no key of enctype %s", en ? en : "?");
    else
        snprintf(d->why, sizeof d->why, "none of %zu keys of enctype %s opened it", same, en ? en : "?");
    st->krb_undecrypted++;
    return d;
}

struct kdc_decrypted_auth *krb_decrypt_authenticator(struct kc_keys *keys, const struct kdc_decrypted *dec,
                                                     const struct krb_enc *enc, int usage)
{
    if (!keys || !dec || !dec->t.decrypted || !enc->present)
        return NULL;
    struct kdc_decrypted_auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (kc_decrypt_authenticator(keys, &dec->t.session_key, usage, enc->etype, enc->cipher, enc->cipher_len,
                                 &a->a) != 0)
        snprintf(a->why, sizeof a->why, "the ticket's session key did not open it");
    return a;
}
