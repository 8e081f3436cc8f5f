/* Digests with algorithms fetched once and a digest context kept per thread; see digest.h. */
#include "digest.h"

#include <pthread.h>

#include <openssl/evp.h>

static EVP_MD *md_sha1, *md_sha256; /* fetched once, kept for the life of the process */
static pthread_key_t ctx_key;       /* each thread's contexts (struct ctxs), freed when the thread ends */
static bool have_key;
static pthread_once_t fetched = PTHREAD_ONCE_INIT;

/* A context per algorithm: initialised again for the algorithm it had, OpenSSL keeps the provider's state. */
struct ctxs {
    EVP_MD_CTX *sha1, *sha256;
};

static void free_ctxs(void *p)
{
    struct ctxs *c = p;
    EVP_MD_CTX_free(c->sha1);
    EVP_MD_CTX_free(c->sha256);
    OPENSSL_free(c);
}

static void fetch(void)
{
    md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    have_key = pthread_key_create(&ctx_key, free_ctxs) == 0;
}

/* The calling thread's context for md (one of the two fetched), made at its first digest; NULL without memory. */
static EVP_MD_CTX *thread_ctx(const EVP_MD *md)
{
    if (!have_key)
        return NULL;
    struct ctxs *c = pthread_getspecific(ctx_key);
    if (!c) {
        c = OPENSSL_zalloc(sizeof *c);
        if (!c || !(c->sha1 = EVP_MD_CTX_new()) || !(c->sha256 = EVP_MD_CTX_new()) ||
            pthread_setspecific(ctx_key, c) != 0) {
            if (c)
                free_ctxs(c);
            return NULL;
        }
    }
    return md == md_sha1 ? c->sha1 : c->sha256;
}

/* EVP_Digest() allocates and frees an EVP_MD_CTX and the provider's context each call (two mallocs, two frees);
 * the thread's EVP_MD_CTX is initialised again instead. OpenSSL 3.0 (Debian 12's) still makes the provider's
 * context anew at each EVP_DigestInit_ex2() (one malloc and free a digest, half as many); later versions
 * reinitialise it in place. Without a thread's context (no memory for it), EVP_Digest(). */
static bool digest(const EVP_MD *md, const void *p, size_t n, uint8_t *out, unsigned int want)
{
    if (!md)
        return false;
    unsigned int len = 0;
    EVP_MD_CTX *x = thread_ctx(md);
    if (!x)
        return EVP_Digest(p, n, out, &len, md, NULL) && len == want;
    return EVP_DigestInit_ex2(x, md, NULL) && EVP_DigestUpdate(x, p, n) && EVP_DigestFinal_ex(x, out, &len) &&
           len == want;
}

bool hs_sha1(const void *p, size_t n, uint8_t out[20])
{
    pthread_once(&fetched, fetch);
    return digest(md_sha1, p, n, out, 20);
}

bool hs_sha256(const void *p, size_t n, uint8_t out[32])
{
    pthread_once(&fetched, fetch);
    return digest(md_sha256, p, n, out, 32);
}
