/* Tests for hopscope's block reader of classic pcap files (src/capture/pcapfile.c): every packet as libpcap
 * hands it out (the same bytes, times, lengths and errors), in both byte orders and both time resolutions,
 * across block boundaries, from a regular file and from a stream, and damaged files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "pcapfile.h"

struct img {
    uint8_t *p;
    size_t n, cap;
    bool swap;
};

static void put(struct img *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put32(struct img *b, uint32_t v)
{
    if (b->swap)
        v = __builtin_bswap32(v);
    put(b, &v, 4);
}

static void put16(struct img *b, uint16_t v)
{
    if (b->swap)
        v = __builtin_bswap16(v);
    put(b, &v, 2);
}

/* The 24-byte file header: magic (host order, swapped when b->swap), 2.4, snaplen, Ethernet. */
static void header(struct img *b, uint32_t magic, uint32_t snaplen)
{
    put32(b, magic);
    put16(b, 2);
    put16(b, 4);
    put32(b, 0);
    put32(b, 0);
    put32(b, snaplen);
    put32(b, 1);
}

/* A record of caplen bytes (byte i = seed + i), original length len. */
static void record(struct img *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len, uint8_t seed)
{
    put32(b, sec);
    put32(b, frac);
    put32(b, caplen);
    put32(b, len);
    for (uint32_t i = 0; i < caplen; i++) {
        uint8_t c = (uint8_t)(seed + i);
        put(b, &c, 1);
    }
}

struct opened {
    FILE *f;
    pcap_t *p;
    char path[64];
    struct pcapfile r;
};

/* Writes the image to a temporary file and opens it as main.c does: libpcap reads the header, then pcapfile
 * the packets. stream: through fmemopen (no file descriptor: the exact-read path). */
static int open_img(struct opened *o, const struct img *b, bool stream)
{
    memset(o, 0, sizeof *o);
    if (stream) {
        o->f = fmemopen(b->p, b->n, "rb");
    } else {
        snprintf(o->path, sizeof o->path, "/tmp/hs-test-pcapfile-XXXXXX");
        int fd = mkstemp(o->path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, b->p, b->n), (ssize_t)b->n);
        close(fd);
        o->f = fopen(o->path, "rb");
    }
    assert_non_null(o->f);
    char err[PCAP_ERRBUF_SIZE];
    o->p = pcap_fopen_offline_with_tstamp_precision(o->f, PCAP_TSTAMP_PRECISION_MICRO, err);
    assert_non_null(o->p);
    if (!pcapfile_can_read(o->p, b->p))
        return 1;
    assert_int_equal(pcapfile_open(&o->r, o->f, o->p, b->p, stream), 0);
    return 0;
}

static void close_img(struct opened *o)
{
    pcapfile_free(&o->r);
    pcap_close(o->p);
    if (o->path[0])
        unlink(o->path);
}

/* Reads the image with pcapfile and with libpcap alone: the same packets, in the same order, the same end.
 * Returns the packets read; *err_out gets pcapfile's error text ("" at a clean end). */
static size_t same_as_libpcap(const struct img *b, bool stream, char *err_out, size_t errcap)
{
    struct opened o;
    assert_int_equal(open_img(&o, b, stream), 0);
    struct opened ref;
    memset(&ref, 0, sizeof ref);
    snprintf(ref.path, sizeof ref.path, "/tmp/hs-test-pcapfile-ref-XXXXXX");
    int fd = mkstemp(ref.path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b->p, b->n), (ssize_t)b->n);
    close(fd);
    char perr[PCAP_ERRBUF_SIZE];
    ref.p = pcap_open_offline_with_tstamp_precision(ref.path, PCAP_TSTAMP_PRECISION_MICRO, perr);
    assert_non_null(ref.p);
    size_t n = 0;
    for (;;) {
        struct pcap_pkthdr h, *rh;
        const uint8_t *d, *rd;
        int a = pcapfile_next(&o.r, &h, &d);
        int c = pcap_next_ex(ref.p, &rh, &rd);
        if (a == 1) {
            assert_int_equal(c, 1);
            assert_int_equal(h.ts.tv_sec, rh->ts.tv_sec);
            assert_int_equal(h.ts.tv_usec, rh->ts.tv_usec);
            assert_int_equal(h.caplen, rh->caplen);
            assert_int_equal(h.len, rh->len);
            assert_memory_equal(d, rd, h.caplen);
            n++;
            continue;
        }
        if (a == 0) {
            assert_int_equal(c, PCAP_ERROR_BREAK); /* libpcap's end of file */
            err_out[0] = '\0';
        } else {
            assert_int_equal(a, -1);
            assert_int_equal(c, PCAP_ERROR);
            assert_string_equal(o.r.err, pcap_geterr(ref.p)); /* worded as libpcap words it */
            snprintf(err_out, errcap, "%s", o.r.err);
        }
        break;
    }
    close_img(&o);
    pcap_close(ref.p);
    unlink(ref.path);
    return n;
}

static void test_pcapfile_reads_what_libpcap_reads(void **state)
{
    (void)state;
    for (int swap = 0; swap < 2; swap++)
        for (int stream = 0; stream < 2; stream++) {
            struct img b = {.swap = swap};
            header(&b, 0xa1b2c3d4u, 65535);
            record(&b, 1700000000, 999999, 60, 60, 1);
            record(&b, 1700000001, 5, 1514, 1514, 2);
            record(&b, 1700000002, 0, 0, 64, 3); /* an empty record is a packet too */
            char err[160];
            assert_int_equal(same_as_libpcap(&b, stream, err, sizeof err), 3);
            assert_string_equal(err, "");
            free(b.p);
        }
}

static void test_pcapfile_nanosecond_file_in_microseconds(void **state)
{
    (void)state;
    struct img b = {.swap = true};
    header(&b, 0xa1b23c4du, 262144);
    record(&b, 1700000000, 123456789, 10, 10, 7);
    struct opened o;
    assert_int_equal(open_img(&o, &b, false), 0);
    struct pcap_pkthdr h;
    const uint8_t *d;
    assert_int_equal(pcapfile_next(&o.r, &h, &d), 1);
    assert_int_equal(h.ts.tv_usec, 123456); /* truncated, as libpcap scales */
    assert_int_equal(d[0], 7);
    assert_int_equal(pcapfile_next(&o.r, &h, &d), 0);
    assert_int_equal(o.r.pos, b.n);
    close_img(&o);
    char err[160];
    assert_int_equal(same_as_libpcap(&b, false, err, sizeof err), 1);
    free(b.p);
}

/* Seconds and fractions of 2^31 and more: taken as libpcap takes them, signed from a file in the host's byte
 * order, unsigned from a swapped one (found by the capture fuzz target's comparison with libpcap). */
static void test_pcapfile_high_bit_times_as_libpcap(void **state)
{
    (void)state;
    for (int swap = 0; swap < 2; swap++)
        for (int ns = 0; ns < 2; ns++) {
            struct img b = {.swap = swap};
            header(&b, ns ? 0xa1b23c4du : 0xa1b2c3d4u, 65535);
            record(&b, 2165755926u, 16950380u, 4, 4, 1);
            record(&b, 4294967295u, 4294967295u, 4, 4, 2);
            record(&b, 1700000000u, 999999u, 4, 4, 3);
            char err[160];
            assert_int_equal(same_as_libpcap(&b, false, err, sizeof err), 3);
            assert_int_equal(same_as_libpcap(&b, true, err, sizeof err), 3);
            free(b.p);
        }
}

/* Records longer than the header's snapshot length: libpcap keeps the first snaplen bytes and skips the rest. */
static void test_pcapfile_record_longer_than_snaplen_is_cut(void **state)
{
    (void)state;
    struct img b = {0};
    header(&b, 0xa1b2c3d4u, 64);
    record(&b, 1, 0, 100, 100, 0);
    record(&b, 2, 0, 20, 20, 50);
    char err[160];
    assert_int_equal(same_as_libpcap(&b, false, err, sizeof err), 2);
    struct opened o;
    assert_int_equal(open_img(&o, &b, false), 0);
    struct pcap_pkthdr h;
    const uint8_t *d;
    assert_int_equal(pcapfile_next(&o.r, &h, &d), 1);
    assert_int_equal(h.caplen, 64);
    assert_int_equal(h.len, 100);
    assert_int_equal(pcapfile_next(&o.r, &h, &d), 1);
    assert_int_equal(h.caplen, 20);
    assert_int_equal(d[0], 50); /* the next record starts where the long one ended */
    close_img(&o);
    free(b.p);
}

/* Many records across several 1 MiB blocks, sizes chosen so records straddle every block boundary. */
static void test_pcapfile_records_across_blocks(void **state)
{
    (void)state;
    for (int stream = 0; stream < 3; stream++) { /* 2: a regular file without read-ahead */
        setenv("HOPSCOPE_READAHEAD", stream == 2 ? "0" : "1", 1);
        struct img b = {0};
        header(&b, 0xa1b2c3d4u, 262144);
        size_t want = 0;
        uint32_t sz = 1;
        while (b.n < 3u * PCAPFILE_BLOCK + 100000) {
            record(&b, (uint32_t)want, 0, sz, sz, (uint8_t)want);
            want++;
            sz = (sz * 7919u + 13u) % 9001u; /* 0 .. 9000 bytes, no pattern aligned with the block */
        }
        record(&b, 9, 9, 262144, 262144, 9); /* the largest record libpcap takes, at the end */
        want++;
        char err[160];
        assert_int_equal(same_as_libpcap(&b, stream == 1, err, sizeof err), want);
        assert_string_equal(err, "");
        free(b.p);
    }
    unsetenv("HOPSCOPE_READAHEAD");
}

static void test_pcapfile_truncated_header(void **state)
{
    (void)state;
    struct img b = {0};
    header(&b, 0xa1b2c3d4u, 65535);
    record(&b, 1, 0, 30, 30, 0);
    put(&b, "\1\2\3\4\5", 5);
    for (int stream = 0; stream < 2; stream++) {
        char err[160];
        assert_int_equal(same_as_libpcap(&b, stream, err, sizeof err), 1);
        assert_string_equal(err, "truncated dump file; tried to read 16 header bytes, only got 5");
    }
    free(b.p);
}

static void test_pcapfile_truncated_data(void **state)
{
    (void)state;
    struct img b = {0};
    header(&b, 0xa1b2c3d4u, 65535);
    record(&b, 1, 0, 30, 30, 0);
    record(&b, 2, 0, 100, 100, 0);
    b.n -= 40;
    for (int stream = 0; stream < 2; stream++) {
        char err[160];
        assert_int_equal(same_as_libpcap(&b, stream, err, sizeof err), 1);
        assert_string_equal(err, "truncated dump file; tried to read 100 captured bytes, only got 60");
    }
    free(b.p);
}

/* A record longer than the snapshot length and cut short: libpcap names the snaplen bytes it read first when
 * fewer are there, else the whole record (found by the capture fuzz target). */
static void test_pcapfile_truncated_record_longer_than_snaplen(void **state)
{
    (void)state;
    static const uint32_t avail[] = {153, 300};
    static const char *const want[] = {"truncated dump file; tried to read 214 captured bytes, only got 153",
                                       "truncated dump file; tried to read 410 captured bytes, only got 300"};
    for (int i = 0; i < 2; i++) {
        struct img b = {0};
        header(&b, 0xa1b2c3d4u, 214);
        record(&b, 1, 0, 410, 410, 0);
        b.n -= 410 - avail[i];
        char err[160];
        assert_int_equal(same_as_libpcap(&b, false, err, sizeof err), 0);
        assert_string_equal(err, want[i]);
        free(b.p);
    }
}

/* Records placed so that a record header starts just before, at and just after a block boundary (blocks are
 * read from byte 24), whole and with the file cut inside the straddling record: the read-ahead path stitches
 * them (HOPSCOPE_READAHEAD on) as the single buffer does (off). */
static void test_pcapfile_boundaries_and_cuts(void **state)
{
    (void)state;
    static const int delta[] = {-17, -16, -15, -9, -8, -1, 0, 1, 8, 15, 16, 17, 100};
    static const size_t cut[] = {0, 3, 16, 17, 60}; /* bytes of the straddling record left (0: whole file) */
    for (int ra = 0; ra < 2; ra++) {
        setenv("HOPSCOPE_READAHEAD", ra ? "1" : "0", 1);
        for (size_t i = 0; i < sizeof delta / sizeof *delta; i++)
            for (size_t j = 0; j < sizeof cut / sizeof *cut; j++) {
                struct img b = {0};
                header(&b, 0xa1b2c3d4u, 262144);
                /* fillers up to 16 bytes short of where the record of interest goes */
                size_t at = 24 + PCAPFILE_BLOCK + (size_t)(long)delta[i], before = 1;
                for (; at - b.n - 16 > 262144; before++)
                    record(&b, 1, 0, 200000, 200000, 1);
                record(&b, 2, 0, (uint32_t)(at - b.n - 16), (uint32_t)(at - b.n - 16), 2);
                assert_int_equal(b.n, at);
                record(&b, 3, 0, 50, 50, 3); /* the record at the boundary */
                record(&b, 4, 0, 1000, 1000, 4);
                if (cut[j])
                    b.n = at + cut[j];
                char err[160];
                assert_int_equal(same_as_libpcap(&b, false, err, sizeof err), before + (cut[j] ? 0 : 2));
                if (cut[j])
                    assert_non_null(strstr(err, "truncated dump file"));
                else
                    assert_string_equal(err, "");
                free(b.p);
            }
    }
    unsetenv("HOPSCOPE_READAHEAD");
}

/* Freed long before the end, with the read-ahead ring full and its thread asleep: it ends, nothing leaks. */
static void test_pcapfile_free_before_the_end(void **state)
{
    (void)state;
    struct img b = {0};
    header(&b, 0xa1b2c3d4u, 262144);
    while (b.n < (PCAPFILE_AHEAD + 4u) * PCAPFILE_BLOCK)
        record(&b, 1, 0, 60000, 60000, 5);
    for (int reads = 0; reads < 3; reads++) {
        struct opened o;
        assert_int_equal(open_img(&o, &b, false), 0);
        struct pcap_pkthdr h;
        const uint8_t *d;
        for (int k = 0; k < reads * 20; k++)
            assert_int_equal(pcapfile_next(&o.r, &h, &d), 1);
        usleep(20000); /* the reader fills the ring and sleeps */
        close_img(&o);
    }
    free(b.p);
}

/* A length past anything libpcap accepts is a damaged file, not an allocation. */
static void test_pcapfile_huge_caplen_is_damage(void **state)
{
    (void)state;
    struct img b = {0};
    header(&b, 0xa1b2c3d4u, 65535);
    put32(&b, 1);
    put32(&b, 0);
    put32(&b, 0xFFFFFFF0u);
    put32(&b, 0xFFFFFFF0u);
    put(&b, "xxxxxxxxxxxxxxxx", 16);
    char err[160];
    assert_int_equal(same_as_libpcap(&b, false, err, sizeof err), 0);
    assert_non_null(strstr(err, "invalid packet capture length 4294967280"));
    free(b.p);
}

/* The modified (Kuznetzov) format has longer record headers: left to libpcap. */
static void test_pcapfile_leaves_modified_format_to_libpcap(void **state)
{
    (void)state;
    struct img b = {0};
    header(&b, 0xa1b2cd34u, 65535);
    struct opened o;
    assert_int_equal(open_img(&o, &b, false), 1);
    close_img(&o);
    free(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcapfile_reads_what_libpcap_reads),
        cmocka_unit_test(test_pcapfile_nanosecond_file_in_microseconds),
        cmocka_unit_test(test_pcapfile_record_longer_than_snaplen_is_cut),
        cmocka_unit_test(test_pcapfile_high_bit_times_as_libpcap),
        cmocka_unit_test(test_pcapfile_records_across_blocks),
        cmocka_unit_test(test_pcapfile_truncated_header),
        cmocka_unit_test(test_pcapfile_truncated_data),
        cmocka_unit_test(test_pcapfile_truncated_record_longer_than_snaplen),
        cmocka_unit_test(test_pcapfile_boundaries_and_cuts),
        cmocka_unit_test(test_pcapfile_free_before_the_end),
        cmocka_unit_test(test_pcapfile_huge_caplen_is_damage),
        cmocka_unit_test(test_pcapfile_leaves_modified_format_to_libpcap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
