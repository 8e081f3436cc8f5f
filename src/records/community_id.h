/* Community ID flow hash, version 1 (corelight/community-id-spec). */
#ifndef HOPSCOPE_COMMUNITY_ID_H
#define HOPSCOPE_COMMUNITY_ID_H

#include <stdint.h>

#define COMMUNITY_ID_LEN 32 /* "1:" + 28 base64 characters + NUL, rounded up */

/*
 * Computes the Community ID v1 of a TCP/UDP flow: SHA-1 over seed (u16 big-endian), the two
 * addresses (4 or 16 bytes), protocol (u8), a zero pad byte and the two ports (u16 big-endian),
 * endpoints ordered so the smaller (address, port) comes first; written as "1:" + base64.
 * af is 4 or 6; addresses are in network byte order. out must hold COMMUNITY_ID_LEN bytes.
 * Returns 0, or -1 if the hash could not be computed (out is then "").
 */
int community_id_v1(uint16_t seed, uint8_t af, uint8_t proto, const uint8_t *saddr, const uint8_t *daddr,
                    uint16_t sport, uint16_t dport, char *out);

#endif
