/* Community ID flow hash, version 1 (corelight/community-id-spec), with OpenSSL's SHA-1 and base64. */
#include "community_id.h"

#include "digest.h"

#include <string.h>

#include <openssl/evp.h>

int community_id_v1(uint16_t seed, uint8_t af, uint8_t proto, const uint8_t *saddr, const uint8_t *daddr,
                    uint16_t sport, uint16_t dport, char *out)
{
    size_t alen = af == 4 ? 4 : 16;
    int c = memcmp(saddr, daddr, alen);
    if (c > 0 || (c == 0 && sport > dport)) {
        const uint8_t *t = saddr;
        saddr = daddr;
        daddr = t;
        uint16_t tp = sport;
        sport = dport;
        dport = tp;
    }
    uint8_t buf[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    buf[n++] = (uint8_t)(seed >> 8);
    buf[n++] = (uint8_t)seed;
    memcpy(buf + n, saddr, alen);
    n += alen;
    memcpy(buf + n, daddr, alen);
    n += alen;
    buf[n++] = proto;
    buf[n++] = 0;
    buf[n++] = (uint8_t)(sport >> 8);
    buf[n++] = (uint8_t)sport;
    buf[n++] = (uint8_t)(dport >> 8);
    buf[n++] = (uint8_t)dport;
    uint8_t md[20];
    out[0] = '\0';
    if (!hs_sha1(buf, n, md))
        return -1;
    memcpy(out, "1:", 2);
    EVP_EncodeBlock((unsigned char *)out + 2, md, 20); /* 28 chars + NUL */
    return 0;
}
