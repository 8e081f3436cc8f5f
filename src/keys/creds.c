/* Account credentials for NTLM verification: the lab's credentials.txt and pwdump/secretsdump lines. */
#include "creds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

static const char empty_lm[] = "aad3b435b51404eeaad3b435b51404ee";

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* 32 hex digits into out: 0, or -1. */
static int parse_hash(const char *s, size_t n, uint8_t out[16])
{
    if (n != 32)
        return -1;
    for (size_t i = 0; i < 16; i++) {
        int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return 0;
}

static bool copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

static bool is_none(const char *s, size_t n)
{
    return n == 0 || (n == 1 && s[0] == '-');
}

/* Splits line (len bytes, no newline) at sep into at most max fields; returns how many. */
static size_t split(const char *line, size_t len, char sep, const char **f, size_t *fl, size_t max)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == sep) {
            if (k == max)
                return max + 1;
            f[k] = line + start;
            fl[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

/* Parses one line into e; returns NULL or the reason. */
static const char *parse_line(const struct ntlmc *crypto, const char *line, size_t len, struct hs_cred *e)
{
    const char *f[8];
    size_t fl[8];
    memset(e, 0, sizeof *e);
    if (memchr(line, '\t', len)) {
        if (split(line, len, '\t', f, fl, 6) != 6)
            return "expected 6 tab-separated fields";
        if (!copy_field(e->user, sizeof e->user, f[0], fl[0]) || !copy_field(e->domain, sizeof e->domain, f[1], fl[1]) ||
            !copy_field(e->realm, sizeof e->realm, f[2], fl[2]))
            return "name too long";
        if (is_none(f[0], fl[0]))
            return "empty user";
        if (is_none(f[1], fl[1]))
            e->domain[0] = '\0';
        if (is_none(f[2], fl[2]))
            e->realm[0] = '\0';
        if (!is_none(f[4], fl[4])) {
            if (parse_hash(f[4], fl[4], e->nt))
                return "bad NT hash";
            e->has_nt = true;
        }
        if (!is_none(f[5], fl[5])) {
            if (parse_hash(f[5], fl[5], e->lm))
                return "bad LM hash";
            e->has_lm = e->lm_stored = true;
        }
        if (!is_none(f[3], fl[3])) {
            char pw[CREDS_NAME_MAX];
            uint8_t nt[16], lm[16];
            const char *why = NULL;
            if (!copy_field(pw, sizeof pw, f[3], fl[3]))
                why = "password too long";
            else if (ntlmc_nt_hash(crypto, pw, nt))
                why = "password not valid UTF-8";
            else if (e->has_nt && !ntlmc_equal(nt, e->nt, 16))
                why = "NT hash does not match the password";
            if (!why) {
                memcpy(e->nt, nt, 16);
                e->has_nt = true;
                int rc = ntlmc_lm_hash(crypto, pw, lm);
                if (rc < 0)
                    why = "OpenSSL: LM hash failed";
                else if (rc == 0 && e->has_lm && !ntlmc_equal(lm, e->lm, 16))
                    why = "LM hash does not match the password";
                else if (rc == 0 && !e->has_lm) {
                    /* The client computes it from the password whatever the DC keeps (lm_stored). */
                    memcpy(e->lm, lm, 16);
                    e->has_lm = true;
                }
            }
            OPENSSL_cleanse(pw, sizeof pw);
            OPENSSL_cleanse(nt, sizeof nt);
            OPENSSL_cleanse(lm, sizeof lm);
            if (why)
                return why;
        }
        if (!e->has_nt)
            return "no password and no NT hash";
        return NULL;
    }
    /* [domain\]user:rid:lmhash:nthash::: */
    size_t k = split(line, len, ':', f, fl, 7);
    if (k < 4 || k > 7)
        return "expected a tab-separated line or [domain\\]user:rid:lmhash:nthash:::";
    const char *bs = memchr(f[0], '\\', fl[0]);
    if (bs) {
        if (!copy_field(e->domain, sizeof e->domain, f[0], (size_t)(bs - f[0])) ||
            !copy_field(e->user, sizeof e->user, bs + 1, fl[0] - (size_t)(bs - f[0]) - 1))
            return "name too long";
    } else if (!copy_field(e->user, sizeof e->user, f[0], fl[0])) {
        return "name too long";
    }
    if (!e->user[0])
        return "empty user";
    for (size_t i = 0; i < fl[1]; i++)
        if (f[1][i] < '0' || f[1][i] > '9')
            return "bad rid";
    if (fl[1] == 0)
        return "bad rid";
    if (!(fl[2] == 32 && strncasecmp(f[2], empty_lm, 32) == 0) && !is_none(f[2], fl[2])) {
        if (parse_hash(f[2], fl[2], e->lm))
            return "bad LM hash";
        e->has_lm = e->lm_stored = true;
    }
    if (parse_hash(f[3], fl[3], e->nt))
        return "bad NT hash";
    e->has_nt = true;
    return NULL;
}

static void seterr(char *err, size_t errlen, const char *path, size_t line, const char *why)
{
    if (!err || !errlen)
        return;
    if (line)
        snprintf(err, errlen, "%s:%zu: %s", path, line, why);
    else
        snprintf(err, errlen, "%s: %s", path, why);
}

int creds_load(struct hs_creds *c, const char *path, char *err, size_t errlen)
{
    if (!c->crypto) {
        char why[200];
        c->crypto = ntlmc_new(why, sizeof why);
        if (!c->crypto) {
            seterr(err, errlen, path, 0, why);
            return -1;
        }
    }
    FILE *fp = fopen(path, "r");
    if (!fp) {
        char why[200];
        snprintf(why, sizeof why, "cannot read: %s", strerror(errno));
        seterr(err, errlen, path, 0, why);
        return -1;
    }
    struct stat sb;
    if (fstat(fileno(fp), &sb) == 0) {
        if (sb.st_size > (off_t)CREDS_FILE_MAX) {
            fclose(fp);
            seterr(err, errlen, path, 0, "larger than 16 MiB");
            return -1;
        }
        if (sb.st_mode & (S_IRGRP | S_IROTH))
            fprintf(stderr, "hopscope: warning: %s is readable by other users (chmod 600 it)\n", path);
    }
    size_t first = c->n, lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    const char *why = NULL;
    while ((got = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t lead = 0;
        while (lead < len && line[lead] == ' ')
            lead++;
        if (lead == len || line[lead] == '#')
            continue;
        if (c->n == CREDS_MAX) {
            why = "too many accounts";
            break;
        }
        if (c->n == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 16;
            struct hs_cred *nv = calloc(ncap, sizeof *nv);
            if (!nv) {
                why = "out of memory";
                break;
            }
            if (c->v) {
                memcpy(nv, c->v, c->n * sizeof *nv);
                OPENSSL_cleanse(c->v, c->cap * sizeof *c->v);
                free(c->v);
            }
            c->v = nv;
            c->cap = ncap;
        }
        why = parse_line(c->crypto, line + lead, len - lead, &c->v[c->n]);
        if (why) {
            OPENSSL_cleanse(&c->v[c->n], sizeof c->v[c->n]);
            break;
        }
        c->n++;
    }
    if (line) {
        OPENSSL_cleanse(line, cap);
        free(line);
    }
    bool rerr = ferror(fp) != 0;
    fclose(fp);
    if (!why && rerr)
        why = "read error";
    if (why) {
        seterr(err, errlen, path, rerr ? 0 : lineno, why);
        if (c->v && c->n > first)
            OPENSSL_cleanse(c->v + first, (c->n - first) * sizeof *c->v);
        c->n = first;
        return -1;
    }
    return 0;
}

static bool domain_matches(const struct hs_cred *e, const char *domain)
{
    if (!domain || !domain[0])
        return false;
    if (strcasecmp(e->domain, domain) == 0 || strcasecmp(e->realm, domain) == 0)
        return true;
    const char *dot = strchr(e->realm, '.');
    size_t n = dot ? (size_t)(dot - e->realm) : strlen(e->realm);
    return n && strlen(domain) == n && strncasecmp(e->realm, domain, n) == 0;
}

const struct hs_cred *creds_find(const struct hs_creds *c, const char *user, const char *domain)
{
    if (!c || !user || !user[0])
        return NULL;
    const struct hs_cred *only = NULL;
    size_t same_user = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct hs_cred *e = &c->v[i];
        if (strcasecmp(e->user, user) != 0)
            continue;
        if (domain_matches(e, domain))
            return e;
        only = e;
        same_user++;
    }
    return same_user == 1 ? only : NULL;
}

void creds_free(struct hs_creds *c)
{
    if (!c)
        return;
    if (c->v) {
        OPENSSL_cleanse(c->v, c->cap * sizeof *c->v);
        free(c->v);
    }
    ntlmc_free(c->crypto);
    memset(c, 0, sizeof *c);
}
