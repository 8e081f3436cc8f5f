/* Tests for -w (src/capture/authpcap.c): which packets of which connections reach the pcap, and the caps. */
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

#include "authpcap.h"

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/test_authpcap_%d.pcap", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* Feeds a packet of n bytes whose first byte is tag. */
static void feed(struct authpcap *a, uint8_t tag, uint32_t n, uint64_t conn, bool auth, bool ignored)
{
    static uint8_t data[2048];
    memset(data, 0, sizeof data);
    data[0] = tag;
    struct pcap_pkthdr h = {{tag, 0}, n, n};
    authpcap_packet(a, DLT_EN10MB, &h, data, conn, auth, ignored);
}

/* The first bytes of the packets in path, in file order; returns how many. */
static int read_tags(uint8_t *tags, int max)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    assert_non_null(p);
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0;
    while (pcap_next_ex(p, &h, &d) == 1)
        if (n < max)
            tags[n++] = d[0];
    pcap_close(p);
    return n;
}

static void test_authpcap_held_packets_written_when_connection_authenticates(void **state)
{
    (void)state;
    char err[256];
    struct authpcap *a = authpcap_open(path, DLT_EN10MB, 65535, err, sizeof err);
    assert_non_null(a);
    feed(a, 1, 60, 7, false, false);  /* SYN of connection 7: held */
    feed(a, 2, 60, 8, false, false);  /* another connection: held */
    feed(a, 3, 60, 7, true, false);   /* 7 starts a record: 1 then 3 written */
    feed(a, 4, 60, 8, false, true);   /* 8 is ignored: its held packet let go */
    feed(a, 5, 60, 0, false, false);  /* no connection (ARP): not written */
    feed(a, 6, 60, 7, true, false);
    assert_int_equal(authpcap_stats(a)->written, 3);
    assert_int_equal(authpcap_close(a), 0);
    uint8_t tags[8];
    assert_int_equal(read_tags(tags, 8), 3);
    assert_int_equal(tags[0], 1);
    assert_int_equal(tags[1], 3);
    assert_int_equal(tags[2], 6);
}

static void test_authpcap_per_connection_cap_counts_lost_packets(void **state)
{
    (void)state;
    char err[256];
    struct authpcap *a = authpcap_open(path, DLT_EN10MB, 65535, err, sizeof err);
    assert_non_null(a);
    uint32_t per = 1500 + (uint32_t)sizeof(struct pcap_pkthdr);
    uint32_t fit = AUTHPCAP_CONN_MAX / per;
    for (uint32_t i = 0; i < fit + 10; i++)
        feed(a, 9, 1500, 3, false, false);
    feed(a, 10, 60, 3, true, false);
    assert_int_equal(authpcap_stats(a)->written, fit + 1);
    assert_int_equal(authpcap_stats(a)->lost, 10);
    assert_int_equal(authpcap_close(a), 0);
}

static void test_authpcap_slot_taken_by_newer_connection(void **state)
{
    (void)state;
    char err[256];
    struct authpcap *a = authpcap_open(path, DLT_EN10MB, 65535, err, sizeof err);
    assert_non_null(a);
    feed(a, 1, 60, 5, false, false);
    feed(a, 2, 60, 5 + AUTHPCAP_SLOTS, false, false); /* same slot: connection 5's held packet given up */
    feed(a, 3, 60, 5, true, false);
    feed(a, 4, 60, 5 + AUTHPCAP_SLOTS, true, false);
    uint8_t tags[8];
    assert_int_equal(authpcap_close(a), 0);
    assert_int_equal(read_tags(tags, 8), 3);
    assert_int_equal(tags[0], 3);
    assert_int_equal(tags[1], 2);
    assert_int_equal(tags[2], 4);
}

static void test_authpcap_snaplen_and_other_link_type(void **state)
{
    (void)state;
    char err[256];
    struct authpcap *a = authpcap_open(path, DLT_EN10MB, 100, err, sizeof err);
    assert_non_null(a);
    feed(a, 1, 1000, 1, true, false);
    uint8_t d[60] = {0};
    struct pcap_pkthdr h = {{0, 0}, 60, 60};
    authpcap_packet(a, DLT_RAW, &h, d, 2, true, false);
    assert_int_equal(authpcap_stats(a)->other_link, 1);
    assert_int_equal(authpcap_close(a), 0);
    char e2[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, e2);
    assert_non_null(p);
    struct pcap_pkthdr *ph;
    const u_char *pd;
    assert_int_equal(pcap_next_ex(p, &ph, &pd), 1);
    assert_int_equal(ph->caplen, 100);
    assert_int_equal(ph->len, 1000);
    assert_int_equal(pcap_next_ex(p, &ph, &pd), PCAP_ERROR_BREAK);
    pcap_close(p);
}

static void test_authpcap_unwritable_path_is_an_error(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(authpcap_open("/nonexistent-dir/x.pcap", DLT_EN10MB, 65535, err, sizeof err));
    assert_true(strlen(err) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_authpcap_held_packets_written_when_connection_authenticates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_authpcap_per_connection_cap_counts_lost_packets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authpcap_slot_taken_by_newer_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authpcap_snaplen_and_other_link_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authpcap_unwritable_path_is_an_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
