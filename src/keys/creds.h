/* Account credentials for NTLM verification (--creds FILE): the lab's credentials.txt and pwdump lines. */
#ifndef HOPSCOPE_CREDS_H
#define HOPSCOPE_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntlmcrypto.h"

#define CREDS_NAME_MAX 256
#define CREDS_MAX 65536                 /* accounts in all */
#define CREDS_FILE_MAX (16u << 20)       /* bytes per file */

/* One account. The password, when the file gave one, is only used to compute the hashes, then wiped. */
struct hs_cred {
    char user[CREDS_NAME_MAX];
    char domain[CREDS_NAME_MAX]; /* NetBIOS domain ("HOPLAB"), may be "" */
    char realm[CREDS_NAME_MAX];  /* DNS realm ("HOPLAB.TEST"), may be "" */
    bool has_nt, has_lm;
    bool lm_stored;              /* the file lists an LM hash: the DC keeps one (else NoLMHash, or none exists) */
    uint8_t nt[NTLMC_KEY_LEN];   /* NTOWFv1 */
    uint8_t lm[NTLMC_KEY_LEN];   /* LMOWFv1 as the client computes it: from the file, or from a password of at
                                  * most 14 ASCII characters (has_lm) */
};

/* Every account loaded, and the crypto context they are used with. Zero it before the first load. */
struct hs_creds {
    struct ntlmc *crypto;
    struct hs_cred *v;
    size_t n, cap;
};

/*
 * Loads the accounts of the file at path into c (may be called again for more files). Lines:
 *   - tab-separated (the lab's credentials.txt): user, domain, realm, password, NT hash, LM hash; "-" for
 *     a value not given; at least a password or an NT hash. Hashes are 32 hex digits. A password gives the
 *     NT hash, and the LM hash when it has one (at most 14 ASCII characters); a hash also given must agree.
 *   - pwdump / secretsdump: [domain\]user:rid:lmhash:nthash::: (the LM hash aad3b435b51404ee... of an empty
 *     LM is taken as none).
 *   - blank lines and lines starting with '#' are skipped.
 * A file readable by group or others is loaded with a warning on stderr (the values are never printed).
 * Returns 0, or -1 with "PATH:LINE: reason" or "PATH: reason" in err[errlen]: "cannot read: <strerror>",
 * "larger than 16 MiB", "expected 6 tab-separated fields", "bad NT hash", "bad LM hash", "bad rid",
 * "no password and no NT hash", "empty user", "NT hash does not match the password", "too many accounts",
 * "password not valid UTF-8", "OpenSSL ..." (ntlmc_new), "out of memory". On failure nothing of this file
 * is kept (what was added is wiped).
 */
int creds_load(struct hs_creds *c, const char *path, char *err, size_t errlen);

/*
 * The account for an NTLM user name and domain (UTF-8, compared without regard to ASCII case): one whose
 * user and domain (or realm, or the realm's first label) match; else the only account of that user name;
 * NULL when none (or several in other domains).
 */
const struct hs_cred *creds_find(const struct hs_creds *c, const char *user, const char *domain);

/* Wipes every value, frees everything and zeroes *c. c may be NULL. */
void creds_free(struct hs_creds *c);

#endif
