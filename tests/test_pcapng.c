/* Tests for hopscope's pcapng reader (src/capture/pcapng.c): interfaces of different link types, byte
 * orders, timestamp resolutions, sections, and damaged files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "pcapng.h"

struct buf {
    uint8_t p[8192];
    size_t n;
    bool be;
};

static void put(struct buf *b, const void *d, size_t n)
{
    assert_true(b->n + n <= sizeof b->p);
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put16(struct buf *b, uint16_t v)
{
    uint8_t x[2];
    if (b->be) {
        x[0] = (uint8_t)(v >> 8), x[1] = (uint8_t)v;
    } else {
        x[0] = (uint8_t)v, x[1] = (uint8_t)(v >> 8);
    }
    put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v)
{
    if (b->be) {
        put16(b, (uint16_t)(v >> 16));
        put16(b, (uint16_t)v);
    } else {
        put16(b, (uint16_t)v);
        put16(b, (uint16_t)(v >> 16));
    }
}

/* A block of type t with body (n bytes, padded to 4). */
static void block(struct buf *b, uint32_t t, const struct buf *body)
{
    uint32_t pad = (uint32_t)((4 - body->n % 4) % 4);
    uint32_t total = (uint32_t)(12 + body->n + pad);
    put32(b, t);
    put32(b, total);
    put(b, body->p, body->n);
    put(b, "\0\0\0", pad);
    put32(b, total);
}

static void shb(struct buf *b)
{
    struct buf s = {.be = b->be};
    put32(&s, 0x1A2B3C4D);
    put16(&s, 1);
    put16(&s, 0);
    put32(&s, 0xFFFFFFFF);
    put32(&s, 0xFFFFFFFF);
    block(b, 0x0A0D0D0A, &s);
}

/* An IDB of link type lt; tsresol < 0 for none. */
static void idb(struct buf *b, uint16_t lt, int tsresol)
{
    struct buf s = {.be = b->be};
    put16(&s, lt);
    put16(&s, 0);
    put32(&s, 65535);
    if (tsresol >= 0) {
        put16(&s, 9);
        put16(&s, 1);
        uint8_t r[4] = {(uint8_t)tsresol, 0, 0, 0};
        put(&s, r, 4);
        put32(&s, 0); /* opt_endofopt */
    }
    block(b, 1, &s);
}

static void epb(struct buf *b, uint32_t ifid, uint64_t ts, const uint8_t *d, uint32_t n)
{
    struct buf s = {.be = b->be};
    put32(&s, ifid);
    put32(&s, (uint32_t)(ts >> 32));
    put32(&s, (uint32_t)ts);
    put32(&s, n);
    put32(&s, n + 10);
    put(&s, d, n);
    block(b, 6, &s);
}

static FILE *as_file(const struct buf *b)
{
    FILE *f = fmemopen((void *)b->p, b->n, "rb");
    assert_non_null(f);
    return f;
}

static void test_pcapng_each_interface_keeps_its_link_type(void **state)
{
    (void)state;
    struct buf b = {0};
    uint8_t pkt[20] = {0x45};
    shb(&b);
    idb(&b, 1, -1);   /* Ethernet */
    idb(&b, 101, -1); /* LINKTYPE_RAW */
    idb(&b, 113, -1); /* Linux cooked */
    epb(&b, 0, 1000000ull * 5 + 7, pkt, sizeof pkt);
    epb(&b, 1, 1000000ull * 6, pkt, sizeof pkt);
    epb(&b, 2, 1000000ull * 7, pkt, sizeof pkt);
    FILE *f = as_file(&b);
    struct pcapng g;
    int first, dlt;
    assert_int_equal(pcapng_open(&g, f, &first), 0);
    assert_int_equal(first, DLT_EN10MB);
    struct pcap_pkthdr h;
    const uint8_t *d;
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), 1);
    assert_int_equal(dlt, DLT_EN10MB);
    assert_int_equal(h.ts.tv_sec, 5);
    assert_int_equal(h.ts.tv_usec, 7);
    assert_int_equal(h.caplen, 20);
    assert_int_equal(h.len, 30);
    assert_int_equal(d[0], 0x45);
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), 1);
    assert_int_equal(dlt, DLT_RAW);
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), 1);
    assert_int_equal(dlt, DLT_LINUX_SLL);
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), 0);
    pcapng_free(&g);
    fclose(f);
}

static void test_pcapng_big_endian_nanoseconds_and_new_section(void **state)
{
    (void)state;
    struct buf b = {.be = true};
    uint8_t pkt[4] = {1, 2, 3, 4};
    shb(&b);
    idb(&b, 1, 9); /* nanoseconds */
    epb(&b, 0, 3000000000ull * 1 + 123456789ull, pkt, sizeof pkt);
    b.be = false; /* a second section, little-endian: interface ids start again */
    shb(&b);
    idb(&b, 101, 0x80 | 10); /* 2^-10 s */
    epb(&b, 0, 1024 * 2 + 512, pkt, sizeof pkt);
    FILE *f = as_file(&b);
    struct pcapng g;
    int first, dlt;
    assert_int_equal(pcapng_open(&g, f, &first), 0);
    struct pcap_pkthdr h;
    const uint8_t *d;
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), 1);
    assert_int_equal(h.ts.tv_sec, 3);
    assert_int_equal(h.ts.tv_usec, 123456);
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), 1);
    assert_int_equal(dlt, DLT_RAW);
    assert_int_equal(h.ts.tv_sec, 2);
    assert_int_equal(h.ts.tv_usec, 500000);
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), 0);
    pcapng_free(&g);
    fclose(f);
}

static void test_pcapng_undescribed_interface_is_counted_and_skipped(void **state)
{
    (void)state;
    struct buf b = {0};
    uint8_t pkt[4] = {0};
    shb(&b);
    idb(&b, 1, -1);
    epb(&b, 5, 0, pkt, sizeof pkt);
    epb(&b, 0, 0, pkt, sizeof pkt);
    FILE *f = as_file(&b);
    struct pcapng g;
    int first, dlt;
    assert_int_equal(pcapng_open(&g, f, &first), 0);
    struct pcap_pkthdr h;
    const uint8_t *d;
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), 1);
    assert_int_equal(g.bad_iface, 1);
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), 0);
    pcapng_free(&g);
    fclose(f);
}

static void test_pcapng_damaged_blocks_are_errors(void **state)
{
    (void)state;
    uint8_t pkt[8] = {0};
    struct pcapng g;
    int first, dlt;
    struct pcap_pkthdr h;
    const uint8_t *d;

    /* truncated in the middle of a packet block */
    struct buf b = {0};
    shb(&b);
    idb(&b, 1, -1);
    epb(&b, 0, 0, pkt, sizeof pkt);
    b.n -= 6;
    FILE *f = as_file(&b);
    assert_int_equal(pcapng_open(&g, f, &first), 0);
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), -1);
    assert_true(strlen(g.err) > 0);
    pcapng_free(&g);
    fclose(f);

    /* captured length past the block */
    struct buf c = {0};
    shb(&c);
    idb(&c, 1, -1);
    size_t at = c.n;
    epb(&c, 0, 0, pkt, sizeof pkt);
    c.p[at + 8 + 12] = 0xFF; /* caplen's low byte */
    f = as_file(&c);
    assert_int_equal(pcapng_open(&g, f, &first), 0);
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), -1);
    pcapng_free(&g);
    fclose(f);

    /* a block length that is not a multiple of 4, and one larger than the cap */
    for (int k = 0; k < 2; k++) {
        struct buf e = {0};
        shb(&e);
        idb(&e, 1, -1);
        at = e.n;
        epb(&e, 0, 0, pkt, sizeof pkt);
        uint32_t v = k == 0 ? 41 : PCAPNG_MAX_BLOCK + 4;
        memcpy(e.p + at + 4, &v, 4);
        f = as_file(&e);
        assert_int_equal(pcapng_open(&g, f, &first), 0);
        assert_int_equal(pcapng_next(&g, &dlt, &h, &d), -1);
        pcapng_free(&g);
        fclose(f);
    }

    /* the trailing length disagrees with the leading one */
    struct buf t = {0};
    shb(&t);
    idb(&t, 1, -1);
    epb(&t, 0, 0, pkt, sizeof pkt);
    t.p[t.n - 4] ^= 4;
    f = as_file(&t);
    assert_int_equal(pcapng_open(&g, f, &first), 0);
    assert_int_equal(pcapng_next(&g, &dlt, &h, &d), -1);
    pcapng_free(&g);
    fclose(f);

    /* not a section header first */
    struct buf n = {0};
    idb(&n, 1, -1);
    f = as_file(&n);
    assert_int_equal(pcapng_open(&g, f, &first), -1);
    pcapng_free(&g);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcapng_each_interface_keeps_its_link_type),
        cmocka_unit_test(test_pcapng_big_endian_nanoseconds_and_new_section),
        cmocka_unit_test(test_pcapng_undescribed_interface_is_counted_and_skipped),
        cmocka_unit_test(test_pcapng_damaged_blocks_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
