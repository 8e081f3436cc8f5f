/* Fuzz target: the pcapng reader — pcapng_open() then pcapng_next() to the end, over the input as a file. */
#include "fuzz.h"
#include "pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    struct pcapng g;
    int first, dlt;
    if (pcapng_open(&g, f, &first) == 0) {
        struct pcap_pkthdr h;
        const uint8_t *d;
        int rc;
        while ((rc = pcapng_next(&g, &dlt, &h, &d)) == 1) {
            FUZZ_CHECK(h.caplen <= PCAPNG_MAX_SNAP);
            FUZZ_CHECK(h.ts.tv_usec >= 0 && h.ts.tv_usec < 1000000);
            FUZZ_CHECK(fuzz_inside(g.buf, g.cap, d, h.caplen));
        }
        FUZZ_CHECK(rc == 0 || g.err[0]);
    }
    pcapng_free(&g);
    fclose(f);
    return 0;
}
