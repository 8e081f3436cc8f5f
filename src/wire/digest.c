/* Digests with algorithms fetched once; see digest.h. */
#include "digest.h"

#include <pthread.h>

#include <openssl/evp.h>

static EVP_MD *md_sha1, *md_sha256; /* fetched once, kept for the life of the process */
static pthread_once_t fetched = PTHREAD_ONCE_INIT;

static void fetch(void)
{
    md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static bool digest(const EVP_MD *md, const void *p, size_t n, uint8_t *out, unsigned int want)
{
    unsigned int len = 0;
    return md && EVP_Digest(p, n, out, &len, md, NULL) && len == want;
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
