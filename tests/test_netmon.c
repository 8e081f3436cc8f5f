/* Tests for the Network Monitor 2.x reader (src/netmon.c): Ethernet frames, NDIS-PacketCapture ETW events,
 * and damaged files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "netmon.h"

struct buf {
    uint8_t *p;
    size_t n;
};

static void put(struct buf *b, const void *d, size_t n)
{
    b->p = realloc(b->p, b->n + n);
    assert_non_null(b->p);
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put16(struct buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v)
{
    put16(b, (uint16_t)v);
    put16(b, (uint16_t)(v >> 16));
}

static void put64(struct buf *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static const uint8_t eth_frame[60] = {0x00, 0x0c, 0x29, 0x09, 0x26, 0x98, 0x00, 0x0c, 0x29, 0xc1, 0x2f, 0xfa, 0x08, 0x00};
static const uint8_t ndis_guid[16] = {0x6e, 0x00, 0xd6, 0x2e, 0x29, 0x47, 0x09, 0x46,
                                      0xb4, 0x23, 0x3e, 0xe7, 0xbc, 0xd6, 0x78, 0xef};

/* An NDIS-PacketCapture event 1001 record carrying eth_frame, laid out as netsh trace writes it. */
static void put_ndis_event(struct buf *b, uint64_t keyword)
{
    struct buf u = {0};
    put32(&u, 13); /* MiniportIfIndex */
    put32(&u, 13); /* LowerIfIndex */
    put32(&u, sizeof eth_frame);
    put(&u, eth_frame, sizeof eth_frame);
    put16(b, (uint16_t)(89 + u.n)); /* EVENT_HEADER.Size */
    put16(b, 0);
    put16(b, 0x0240);
    put16(b, 0);
    put32(b, 0);
    put32(b, 0);
    put64(b, 0x01d63e7e960a7496ULL); /* FILETIME */
    put(b, ndis_guid, 16);
    put16(b, 1001); /* EventDescriptor.Id */
    uint8_t desc[6] = {0, 16, 4, 0, 0, 0};
    put(b, desc, 6);
    put64(b, keyword);
    put64(b, 0);                     /* ProcessorTime */
    uint8_t zero[16] = {0};
    put(b, zero, 16);                /* ActivityId */
    put32(b, 0);                     /* ETW_BUFFER_CONTEXT */
    put16(b, 0);                     /* ExtendedDataCount */
    put16(b, (uint16_t)u.n);         /* UserDataLength */
    uint8_t reassembled = 0;
    put(b, &reassembled, 1);
    put(b, u.p, u.n);
    free(u.p);
}

/* A NetMon 2.<minor> file: header, frames (Ethernet, or events), frame table at the end. */
static struct buf make_file(uint8_t minor, uint16_t network, int nframes, bool events)
{
    struct buf b = {0};
    put(&b, "GMBU", 4);
    uint8_t ver[2] = {minor, 2};
    put(&b, ver, 2);
    put16(&b, network);
    static const uint16_t st[8] = {2020, 6, 2, 9, 16, 54, 5, 806};
    for (int i = 0; i < 8; i++)
        put16(&b, st[i]);
    size_t table_at = b.n;
    for (int i = 0; i < 12; i++)
        put32(&b, 0); /* offsets/lengths, patched below */
    uint32_t offs[8];
    for (int i = 0; i < nframes; i++) {
        offs[i] = (uint32_t)b.n;
        struct buf rec = {0};
        if (events)
            put_ndis_event(&rec, i == 1 ? 0x80000602c0000000ULL /* not 802.3 */ : 0x80000602c0000001ULL);
        else
            put(&rec, eth_frame, sizeof eth_frame);
        put64(&b, (uint64_t)i * 1000); /* µs since start */
        put32(&b, (uint32_t)rec.n);
        put32(&b, (uint32_t)rec.n);
        put(&b, rec.p, rec.n);
        free(rec.p);
        if (minor >= 1) {
            put16(&b, events ? 0xFFE0 : 1); /* network */
            put32(&b, 0xFFFFFFFF);
            if (minor >= 2)
                put64(&b, 0x01d63e7e960a7496ULL + (uint64_t)i * 10);
            if (minor >= 3) {
                uint8_t tz = 0;
                put(&b, &tz, 1);
            }
        }
    }
    uint32_t ft = (uint32_t)b.n;
    for (int i = 0; i < nframes; i++)
        put32(&b, offs[i]);
    b.p[table_at] = (uint8_t)ft;
    b.p[table_at + 1] = (uint8_t)(ft >> 8);
    b.p[table_at + 4] = (uint8_t)(nframes * 4);
    return b;
}

static char *write_tmp(const uint8_t *p, size_t n)
{
    char *path = strdup("/tmp/hopscope-netmon-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_netmon_ethernet_frames_v2_1(void **state)
{
    (void)state;
    struct buf b = make_file(1, 1, 3, false);
    char *path = write_tmp(b.p, b.n);
    assert_true(netmon_is(path));
    struct netmon n;
    assert_int_equal(netmon_open(&n, path), 0);
    int dlt, k = 0;
    struct timeval ts;
    const uint8_t *d;
    uint32_t cl, wl;
    while (netmon_next(&n, &dlt, &ts, &d, &cl, &wl) == 1) {
        assert_int_equal(dlt, DLT_EN10MB);
        assert_int_equal(cl, sizeof eth_frame);
        assert_memory_equal(d, eth_frame, sizeof eth_frame);
        /* 2020-06-09 16:54:05.806 UTC + k ms (no FILETIME before version 2.2) */
        assert_int_equal(ts.tv_sec, 1591721645);
        assert_int_equal(ts.tv_usec, 806000 + 1000 * k);
        k++;
    }
    assert_int_equal(k, 3);
    netmon_close(&n);
    unlink(path);
    free(path);
    free(b.p);
}

static void test_netmon_ndis_events_v2_3(void **state)
{
    (void)state;
    struct buf b = make_file(3, 1, 3, true);
    char *path = write_tmp(b.p, b.n);
    struct netmon n;
    assert_int_equal(netmon_open(&n, path), 0);
    int dlt;
    struct timeval ts;
    const uint8_t *d;
    uint32_t cl, wl;
    assert_int_equal(netmon_next(&n, &dlt, &ts, &d, &cl, &wl), 1);
    assert_int_equal(dlt, DLT_EN10MB);
    assert_int_equal(cl, sizeof eth_frame);
    assert_memory_equal(d, eth_frame, sizeof eth_frame);
    /* the per-frame FILETIME 0x01d63e7e960a7496 is 2020-06-09 16:54:05.807733 UTC */
    assert_int_equal(ts.tv_sec, 1591721645);
    assert_int_equal(ts.tv_usec, 807733);
    /* an event whose keyword is not 802.3 is a frame hopscope does not decode */
    assert_int_equal(netmon_next(&n, &dlt, &ts, &d, &cl, &wl), 1);
    assert_int_equal(dlt, -1);
    assert_int_equal(netmon_next(&n, &dlt, &ts, &d, &cl, &wl), 1);
    assert_int_equal(dlt, DLT_EN10MB);
    assert_int_equal(netmon_next(&n, &dlt, &ts, &d, &cl, &wl), 0);
    netmon_close(&n);
    unlink(path);
    free(path);
    free(b.p);
}

/* Every truncation of a valid file: open fails with a reason, or frames end early with -1, never a
 * crash or a read outside the file (run under ASan). */
static void test_netmon_every_truncation(void **state)
{
    (void)state;
    struct buf b = make_file(3, 1, 2, true);
    for (size_t len = 0; len < b.n; len++) {
        char *path = write_tmp(b.p, len);
        struct netmon n;
        if (netmon_open(&n, path) == 0) {
            int dlt, rc;
            struct timeval ts;
            const uint8_t *d;
            uint32_t cl, wl;
            while ((rc = netmon_next(&n, &dlt, &ts, &d, &cl, &wl)) == 1)
                assert_true(cl <= NETMON_MAX_FRAME);
            assert_true(rc == 0 || (rc == -1 && n.err[0]));
        } else {
            assert_true(n.err[0] != '\0');
        }
        netmon_close(&n);
        unlink(path);
        free(path);
    }
    free(b.p);
}

static void test_netmon_table_or_record_outside_file(void **state)
{
    (void)state;
    struct buf b = make_file(1, 1, 2, false);
    /* frame table length beyond the file */
    struct buf c = {0};
    put(&c, b.p, b.n);
    c.p[28] = 0xF0;
    c.p[29] = 0xFF;
    char *path = write_tmp(c.p, c.n);
    struct netmon n;
    assert_int_equal(netmon_open(&n, path), -1);
    assert_string_equal(n.err, "frame table outside the file");
    netmon_close(&n);
    unlink(path);
    free(path);
    /* a record offset pointing past the end: the frame is reported damaged, not read */
    uint32_t ft = b.p[24] | (uint32_t)b.p[25] << 8;
    b.p[ft] = 0xFF;
    b.p[ft + 1] = 0xFF;
    b.p[ft + 2] = 0xFF;
    path = write_tmp(b.p, b.n);
    assert_int_equal(netmon_open(&n, path), 0);
    int dlt;
    struct timeval ts;
    const uint8_t *d;
    uint32_t cl, wl;
    assert_int_equal(netmon_next(&n, &dlt, &ts, &d, &cl, &wl), -1);
    assert_non_null(strstr(n.err, "outside the file"));
    netmon_close(&n);
    unlink(path);
    free(path);
    free(b.p);
    free(c.p);
}

static void test_netmon_signature_and_version(void **state)
{
    (void)state;
    struct buf b = make_file(1, 1, 1, false);
    b.p[5] = 1; /* Network Monitor 1.x is another format */
    char *path = write_tmp(b.p, b.n);
    struct netmon n;
    assert_int_equal(netmon_open(&n, path), -1);
    assert_string_equal(n.err, "unsupported Network Monitor version");
    netmon_close(&n);
    unlink(path);
    free(path);
    assert_false(netmon_is("/nonexistent/file.cap"));
    free(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netmon_ethernet_frames_v2_1),
        cmocka_unit_test(test_netmon_ndis_events_v2_3),
        cmocka_unit_test(test_netmon_every_truncation),
        cmocka_unit_test(test_netmon_table_or_record_outside_file),
        cmocka_unit_test(test_netmon_signature_and_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
