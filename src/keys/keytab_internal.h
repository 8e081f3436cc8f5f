/* Internals of src/keys/keytab.c shared with krbdecrypt.c: the libkrb5 context and wiping plaintext — not an API. */
#ifndef HOPSCOPE_KEYTAB_INTERNAL_H
#define HOPSCOPE_KEYTAB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "keytab.h"


/* k's libkrb5 context (a krb5_context), created on first use and kept in k->ctx until kc_free. NULL
 * when libkrb5 cannot be initialised, with "cannot initialise libkrb5: <message>" in err[errlen] when
 * err is not NULL. */
void *kc_krb5_context(struct kc_keys *k, char *err, size_t errlen);

/* Wipes p[n] and frees it; p may be NULL. For plaintext from kc_decrypt_raw and anything else that
 * held key material. */
void kc_free_plain(uint8_t *p, size_t n);

#endif
