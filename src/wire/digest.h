/* SHA-1 and SHA-256 of short byte strings (flow ids, ticket digests) with OpenSSL 3, the algorithm fetched once
 * per process instead of once per call (EVP_sha1() in EVP_Digest() costs an implicit fetch, ~4,000
 * instructions, each time). */
#ifndef HOPSCOPE_DIGEST_H
#define HOPSCOPE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SHA-1 (FIPS 180-4) of the n bytes at p into out[20]. False when OpenSSL cannot provide it (no memory, no
 * provider); out is then unspecified. Thread-safe. */
bool hs_sha1(const void *p, size_t n, uint8_t out[20]);

/* SHA-256 (FIPS 180-4) of the n bytes at p into out[32]; false as hs_sha1. Thread-safe. */
bool hs_sha256(const void *p, size_t n, uint8_t out[32]);

#endif
