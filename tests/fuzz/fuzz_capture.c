/*
 * The whole pipeline fed a capture file: the input is the file's bytes (pcap, pcapng or NetMon 2.x, as the
 * program reads them: libpcap for the first two, src/capture/netmon.c for the third), then every frame goes
 * through decode, flows, reassembly, every dissector, the record layer, correlation and findings, and the
 * JSON writer (text when the file's size is odd, so both writers run). At most FC_MAX_FRAMES frames.
 * Seeds: small lab and public captures (corpus/capture/).
 */
#include <pcap/pcap.h>
#include <sys/mman.h>
#include <unistd.h>

#include "correlate.h"
#include "engine.h"
#include "fuzz.h"
#include "netmon.h"
#include "writer.h"

#define FC_MAX_FRAMES 20000

static FILE *fc_out(void)
{
    static FILE *f;
    if (!f) {
        const char *s = getenv("HOPSCOPE_FUZZ_STDOUT");
        f = s && *s == '1' ? stdout : fopen("/dev/null", "w");
        if (!f)
            abort();
    }
    return f;
}

/* The input as a file both readers can open by path: a memfd, named through /proc. */
static int fc_file(const uint8_t *data, size_t size, char path[64])
{
    int fd = memfd_create("hopscope-fuzz-capture", 0);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fc_file(data, size, path);
    if (fd < 0)
        return 0;
    struct hs_limits lim;
    hs_limits_default(&lim);
    struct hs_writer *w = writer_new((size & 1) ? OUTPUT_TEXT : OUTPUT_JSON, fc_out());
    struct hs_correlate *corr = w ? correlate_new(writer_sink(w)) : NULL;
    struct hs_engine *e = corr ? malloc(sizeof *e) : NULL;
    if (!e || engine_init(e, &lim, &corr->sink) != 0) {
        free(e);
        correlate_free(corr);
        writer_free(w);
        close(fd);
        return 0;
    }
    uint64_t frame = 0;
    if (netmon_is(path)) {
        struct netmon nm;
        if (netmon_open(&nm, path) == 0) {
            int dlt;
            struct timeval ts;
            const uint8_t *d;
            uint32_t caplen, wirelen;
            while (frame < FC_MAX_FRAMES && netmon_next(&nm, &dlt, &ts, &d, &caplen, &wirelen) == 1) {
                frame++;
                if (dlt < 0)
                    engine_frame_undecoded(e, caplen);
                else
                    engine_packet(e, dlt, frame, &ts, d, caplen);
            }
            netmon_close(&nm);
        }
    } else {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline(path, err);
        if (p) {
            int dlt = pcap_datalink(p);
            struct pcap_pkthdr *h;
            const u_char *d;
            while (frame < FC_MAX_FRAMES && pcap_next_ex(p, &h, &d) == 1) {
                frame++;
                engine_packet(e, dlt, frame, &h->ts, d, h->caplen);
            }
            pcap_close(p);
        }
    }
    engine_finish(e);
    engine_free(e);
    free(e);
    correlate_free(corr);
    writer_free(w);
    close(fd);
    return 0;
}
