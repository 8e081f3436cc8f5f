/*
 * The whole pipeline fed a capture file: the input is the file's bytes (pcap, pcapng or NetMon 2.x, as the
 * program reads them: a standard pcap file by src/capture/pcapfile.c, compared packet by packet with libpcap
 * reading the same file; other pcap variants and pcapng by libpcap; NetMon by src/capture/netmon.c), then every frame goes
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
#include "pcapfile.h"
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
    if (size & 2) { /* streaming (docs/RECORDS.md, "Streaming") */
        e->recs.stream = true;
        corr->stream = true;
        writer_stream(w);
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
        FILE *f = fopen(path, "rb");
        pcap_t *p = f ? pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, err) : NULL;
        if (!p && f)
            fclose(f);
        struct pcapfile pf;
        if (p && size >= 4 && pcapfile_can_read(p, data) && pcapfile_open(&pf, f, p, data, false) == 0) {
            /* hopscope's block reader, checked packet by packet against libpcap reading the same file */
            pcap_t *ref = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
            if (!ref)
                abort();
            int dlt = pcap_datalink(p);
            struct pcap_pkthdr h, *rh;
            const uint8_t *d;
            const u_char *rd;
            int a, c;
            while (frame < FC_MAX_FRAMES && (a = pcapfile_next(&pf, &h, &d)) == 1) {
                c = pcap_next_ex(ref, &rh, &rd);
                if (c != 1 || h.caplen != rh->caplen || h.len != rh->len || h.ts.tv_sec != rh->ts.tv_sec ||
                    h.ts.tv_usec != rh->ts.tv_usec || memcmp(d, rd, h.caplen) != 0)
                    abort();
                frame++;
                engine_packet(e, dlt, frame, &h.ts, d, h.caplen);
            }
            /* the same end: libpcap's error where the block reader found damage (the link types hopscope
             * decodes have libpcap's common 256 KiB limit; others it refuses before reading) */
            if (frame < FC_MAX_FRAMES && decode_link_supported(dlt)) {
                c = pcap_next_ex(ref, &rh, &rd);
                if ((a == 0) != (c == PCAP_ERROR_BREAK) || (a < 0 && strcmp(pf.err, pcap_geterr(ref)) != 0))
                    abort();
            }
            pcap_close(ref);
            pcapfile_free(&pf);
            pcap_close(p);
        } else if (p) {
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
