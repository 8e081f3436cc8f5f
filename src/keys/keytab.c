/* Keytab files and the key set loaded from them — MIT keytab file format (as read by libkrb5), RFC 3961 keys. */
/*
 * Keys live only in memory and are wiped when released (the file buffer, a partly loaded keytab, the key
 * set); this module prints nothing, the caller reports err.
 */
#include "keytab.h"
#include "keytab_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <krb5.h>

#include "reader.h"
#include "util.h"

/* Largest keytab file read (4096 keys of a few hundred bytes fit many times over). */
#define KC_MAX_KEYTAB_BYTES (16u << 20)

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

void kc_free_plain(uint8_t *p, size_t n)
{
    if (!p)
        return;
    wipe(p, n);
    free(p);
}

/* ---- libkrb5 context and key loading ------------------------------------------------------- */

void *kc_krb5_context(struct kc_keys *k, char *err, size_t errlen)
{
    if (k->ctx)
        return k->ctx;
    krb5_context c = NULL;
    krb5_error_code ret = krb5_init_context(&c);
    if (ret) {
        if (err) {
            const char *m = krb5_get_error_message(NULL, ret);
            snprintf(err, errlen, "cannot initialise libkrb5: %s", m ? m : "unknown error");
            krb5_free_error_message(NULL, m);
        }
        return NULL;
    }
    k->ctx = c;
    return c;
}

/* Reads the whole file (at most KC_MAX_KEYTAB_BYTES) into *buf. */
static int read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read keytab: %s", strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    if (!b) {
        fclose(f);
        snprintf(err, errlen, "cannot read keytab: out of memory");
        return -1;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= KC_MAX_KEYTAB_BYTES) {
                kc_free_plain(b, n);
                fclose(f);
                snprintf(err, errlen, "not a keytab (larger than %u bytes)", KC_MAX_KEYTAB_BYTES);
                return -1;
            }
            uint8_t *nb = malloc(cap * 2);
            if (!nb) {
                kc_free_plain(b, n);
                fclose(f);
                snprintf(err, errlen, "cannot read keytab: out of memory");
                return -1;
            }
            memcpy(nb, b, n);
            kc_free_plain(b, n);
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                kc_free_plain(b, n);
                fclose(f);
                snprintf(err, errlen, "cannot read keytab: %s", strerror(e ? e : EIO));
                return -1;
            }
            break;
        }
    }
    fclose(f);
    *buf = b;
    *len = n;
    return 0;
}

/*
 * Walks the records of an MIT keytab file (version 0x0501: host order, 0x0502: big-endian; each record
 * is a signed 32-bit size, negative for a hole, 0 for the end) so that a truncated or corrupt file is
 * reported instead of silently yielding fewer keys (libkrb5 treats a short read as the end).
 * Returns the number of entries, or -1 with err set.
 */
static long check_keytab(const uint8_t *b, size_t n, char *err, size_t errlen)
{
    if (n < 2 || b[0] != 0x05 || (b[1] != 0x01 && b[1] != 0x02)) {
        snprintf(err, errlen, "not a keytab");
        return -1;
    }
    bool be = b[1] == 0x02;
    size_t pos = 2;
    long count = 0;
    while (pos < n) {
        if (n - pos < 4) {
            snprintf(err, errlen, "not a keytab (truncated record at byte %zu)", pos);
            return -1;
        }
        uint32_t u;
        if (be) {
            u = ld_u32be(b + pos);
        } else {
            memcpy(&u, b + pos, 4);
        }
        int32_t size = (int32_t)u;
        pos += 4;
        if (size == 0)
            break;
        if (size == INT32_MIN) {
            snprintf(err, errlen, "not a keytab (bad record size at byte %zu)", pos - 4);
            return -1;
        }
        size_t len = size < 0 ? (size_t)(-(int64_t)size) : (size_t)size;
        if (len > n - pos) {
            snprintf(err, errlen, "not a keytab (truncated record at byte %zu)", pos - 4);
            return -1;
        }
        if (size > 0)
            count++;
        pos += len;
    }
    return count;
}

/* Appends one key to k (growing the array without leaving key bytes in freed memory). */
static int add_key(struct kc_keys *k, const struct kc_key *key)
{
    size_t n = k->n;
    bool grow = n == 0 || (n >= 16 && (n & (n - 1)) == 0);
    if (grow) {
        size_t cap = n == 0 ? 16 : n * 2;
        struct kc_key *nk = calloc(cap, sizeof *nk);
        if (!nk)
            return -1;
        if (n) {
            memcpy(nk, k->keys, n * sizeof *nk);
            wipe(k->keys, n * sizeof *nk);
        }
        free(k->keys);
        k->keys = nk;
    }
    k->keys[k->n++] = *key;
    return 0;
}

static void rollback(struct kc_keys *k, size_t to)
{
    if (k->n > to)
        wipe(k->keys + to, (k->n - to) * sizeof *k->keys);
    k->n = to;
}

int kc_load_keytab(struct kc_keys *k, const char *path, char *err, size_t errlen)
{
    char dummy[160];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!k || !path || !*path) {
        snprintf(err, errlen, "cannot read keytab: no file name");
        return -1;
    }

    uint8_t *buf;
    size_t len;
    if (read_file(path, &buf, &len, err, errlen) != 0)
        return -1;
    long records = check_keytab(buf, len, err, errlen);
    kc_free_plain(buf, len);
    if (records < 0)
        return -1;
    if (records == 0) {
        snprintf(err, errlen, "no keys");
        return -1;
    }
    if ((size_t)records > KC_MAX_KEYS - k->n) {
        snprintf(err, errlen, "too many keys (at most %d in all)", KC_MAX_KEYS);
        return -1;
    }

    krb5_context ctx = kc_krb5_context(k, err, errlen);
    if (!ctx)
        return -1;
    size_t nlen = strlen(path) + sizeof "FILE:";
    char *name = malloc(nlen);
    if (!name) {
        snprintf(err, errlen, "cannot read keytab: out of memory");
        return -1;
    }
    snprintf(name, nlen, "FILE:%s", path);

    krb5_keytab kt = NULL;
    krb5_kt_cursor cur;
    krb5_keytab_entry e;
    size_t start = k->n;
    long seen = 0;
    int rc = -1;
    krb5_error_code ret = krb5_kt_resolve(ctx, name, &kt);
    free(name);
    if (ret)
        goto kerr;
    ret = krb5_kt_start_seq_get(ctx, kt, &cur);
    if (ret)
        goto kerr;
    while ((ret = krb5_kt_next_entry(ctx, kt, &e, &cur)) == 0) {
        seen++;
        struct kc_key key;
        memset(&key, 0, sizeof key);
        if (e.key.length > 0 && e.key.length <= sizeof key.key && e.key.contents) {
            char *pn = NULL;
            if (krb5_unparse_name(ctx, e.principal, &pn) == 0 && pn) {
                strlcpy_n(key.principal, sizeof key.principal, pn, strlen(pn));
                krb5_free_unparsed_name(ctx, pn);
            }
            key.kvno = e.vno;
            key.enctype = e.key.enctype;
            memcpy(key.key, e.key.contents, e.key.length);
            key.keylen = e.key.length;
            strlcpy_n(key.source, sizeof key.source, path, strlen(path));
            int added = add_key(k, &key);
            wipe(&key, sizeof key);
            if (added != 0) {
                krb5_free_keytab_entry_contents(ctx, &e);
                krb5_kt_end_seq_get(ctx, kt, &cur);
                snprintf(err, errlen, "cannot read keytab: out of memory");
                goto out;
            }
        }
        krb5_free_keytab_entry_contents(ctx, &e);
    }
    krb5_kt_end_seq_get(ctx, kt, &cur);
    if (ret != KRB5_KT_END)
        goto kerr;
    if (seen != records) {
        snprintf(err, errlen, "not a keytab (corrupt entry)");
        goto out;
    }
    if (k->n == start) {
        snprintf(err, errlen, "no keys");
        goto out;
    }
    rc = 0;
    goto out;
kerr: {
    const char *m = krb5_get_error_message(ctx, ret);
    snprintf(err, errlen, "cannot read keytab: %s", m ? m : "unknown error");
    krb5_free_error_message(ctx, m);
}
out:
    if (kt)
        krb5_kt_close(ctx, kt);
    if (rc != 0)
        rollback(k, start);
    return rc;
}

void kc_free(struct kc_keys *k)
{
    if (!k)
        return;
    if (k->keys) {
        wipe(k->keys, k->n * sizeof *k->keys);
        free(k->keys);
    }
    if (k->ctx)
        krb5_free_context(k->ctx);
    memset(k, 0, sizeof *k);
}
