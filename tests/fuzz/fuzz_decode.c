/*
 * Fuzz target: decode_packet() — link, IPv4/IPv6, tunnels and IPv4 fragment reassembly.
 * Input: byte 0 selects the link type (low 3 bits index dlts[] below, the high 5 bits advance the
 * clock by that many seconds so fragments can expire), the rest is one captured frame.
 * The decoder is static and lives across inputs, as it does across the packets of a capture:
 * fragments of one datagram arrive in different inputs.
 */
#include <pcap/dlt.h>

#include "decode.h"
#include "fuzz.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

static const int dlts[8] = {
    DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP,
};

static struct hs_decoder dec;
static struct timeval now = {1700000000, 0};

static void cleanup(void)
{
    decode_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int registered;
    if (!registered) {
        atexit(cleanup); /* the fragment table is freed once, at exit (LeakSanitizer) */
        registered = 1;
    }
    if (size < 1 || size - 1 > UINT32_MAX)
        return 0;
    int dlt = dlts[data[0] & 7];
    FUZZ_CHECK(decode_link_supported(dlt));
    now.tv_sec += data[0] >> 3;
    now.tv_usec = (now.tv_usec + 1) % 1000000;

    /* Copy the frame so ASan sees its exact end (libFuzzer's buffer already is; the replay
     * driver's too, but keep the target self-contained). */
    uint32_t caplen = (uint32_t)(size - 1);
    uint8_t *frame = malloc(caplen ? caplen : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 1, caplen);

    struct hs_pkt pkt;
    memset(&pkt, 0, sizeof pkt);
    enum decode_result res = decode_packet(&dec, dlt, frame, caplen, &now, &pkt);
    FUZZ_CHECK(res == DEC_OK || res == DEC_SKIP || res == DEC_MALFORMED);
    if (res == DEC_OK) {
        FUZZ_CHECK(pkt.af == 4 || pkt.af == 6);
        FUZZ_CHECK(pkt.proto == 6 || pkt.proto == 17);
        /* The payload points into the frame or into the reassembly buffer. */
        FUZZ_CHECK(fuzz_inside(frame, caplen, pkt.payload, pkt.paylen) ||
                   (dec.reasm && fuzz_inside(dec.reasm, 65536, pkt.payload, pkt.paylen)));
        if (pkt.paylen)
            fuzz_touch(pkt.payload, pkt.paylen);
    }
    free(frame);
    return 0;
}
