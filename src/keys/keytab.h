/* Keytab files and the key set loaded from them — MIT keytab file format (as read by libkrb5), RFC 3961 keys. */
#ifndef HOPSCOPE_KEYTAB_H
#define HOPSCOPE_KEYTAB_H

#include <stddef.h>
#include <stdint.h>

#define KC_NAME_MAX 256
#define KC_MAX_KEYS 4096

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

/*
 * Loads every key of the keytab file at path into k; may be called again for more keytabs (at most
 * KC_MAX_KEYS keys in all). k must be zeroed before the first call.
 *
 * The file is first read whole (under 16 MiB) and its records walked — format version 0x0501 with
 * sizes in host order, 0x0502 big-endian; each record a signed 32-bit size, negative for a hole, 0 for
 * the end — so that a truncated or corrupt file is reported rather than silently yielding fewer keys
 * (libkrb5 treats a short read as the end). The keys are then read with krb5_kt_resolve("FILE:path")
 * and krb5_kt_next_entry. Entries with an empty key or one longer than 64 bytes are skipped. The libkrb5
 * context is created on first use and kept in k->ctx.
 *
 * Returns 0, or -1 with a one-line reason in err[errlen] (err may be NULL) — the caller prefixes the
 * file name: "cannot read keytab: <strerror / libkrb5 message>", "cannot read keytab: no file name",
 * "cannot read keytab: out of memory", "not a keytab" (bad magic or version), "not a keytab (truncated
 * record at byte N)", "not a keytab (bad record size at byte N)", "not a keytab (larger than N bytes)",
 * "not a keytab (corrupt entry)" (libkrb5 read fewer entries than the file holds), "no keys", "too many
 * keys (at most 4096 in all)", "cannot initialise libkrb5: <message>". On failure the keys already in k
 * are kept and none of this file's are (those added are wiped).
 */
int kc_load_keytab(struct kc_keys *k, const char *path, char *err, size_t errlen);

/*
 * Wipes every key in k, frees the key array and the libkrb5 context, and zeroes *k (so it may be
 * loaded again). k may be NULL.
 */
void kc_free(struct kc_keys *k);

#endif
