/* decode_packet(): link types, IPv6 extension headers, tunnels, IPv4 fragments, truncation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode.h"
#include "pcapgen.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

static const uint8_t SRC4[4] = {192, 0, 2, 1}, DST4[4] = {192, 0, 2, 2};
static const uint8_t OSRC4[4] = {198, 51, 100, 1}, ODST4[4] = {198, 51, 100, 2}; /* tunnel endpoints */
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const char PAYLOAD[] = "\x00\x00\x00\x10\xfeSMB payload bytes!";
#define PAYLEN (sizeof PAYLOAD - 1)
#define SPORT 49152
#define DPORT 445
#define SEQ 0x01020304u
#define ACK 0x0a0b0c0du

static struct timeval ts0 = {1763765452, 0};

/* TCP segment (header + PAYLOAD). */
static struct pg_buf tcp_seg(void)
{
    struct pg_buf b = pg_copy(PAYLOAD, PAYLEN);
    pg_wrap_tcp(&b, SPORT, DPORT, SEQ, ACK, TH_PSH | TH_ACK);
    return b;
}

static struct pg_buf ip4_tcp(void)
{
    struct pg_buf b = tcp_seg();
    pg_wrap_ipv4(&b, SRC4, DST4, 6);
    return b;
}

static struct pg_buf ip6_tcp(void)
{
    struct pg_buf b = tcp_seg();
    pg_wrap_ipv6(&b, SRC6, DST6, 6);
    return b;
}

static struct pg_buf eth_ip4_tcp(void)
{
    struct pg_buf b = ip4_tcp();
    pg_wrap_eth(&b, 0x0800);
    return b;
}

static void check_tcp(const struct hs_pkt *p, int af)
{
    assert_int_equal(p->af, af);
    assert_int_equal(p->proto, 6);
    if (af == 4) {
        assert_memory_equal(p->src, SRC4, 4);
        assert_memory_equal(p->dst, DST4, 4);
    } else {
        assert_memory_equal(p->src, SRC6, 16);
        assert_memory_equal(p->dst, DST6, 16);
    }
    assert_int_equal(p->sport, SPORT);
    assert_int_equal(p->dport, DPORT);
    assert_int_equal(p->seq, SEQ);
    assert_int_equal(p->ack, ACK);
    assert_int_equal(p->tcp_flags, TH_PSH | TH_ACK);
    assert_int_equal(p->paylen, PAYLEN);
    assert_non_null(p->payload);
    assert_memory_equal(p->payload, PAYLOAD, PAYLEN);
}

/* Decodes b as link type dlt with a fresh decoder and checks the inner TCP packet. */
static void decode_ok(int dlt, const struct pg_buf *b, int af, struct decode_stats *st_out)
{
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    memset(&pkt, 0xA5, sizeof pkt);
    assert_int_equal(decode_packet(&d, dlt, b->p, (uint32_t)b->len, &ts0, &pkt), DEC_OK);
    check_tcp(&pkt, af);
    if (st_out)
        *st_out = d.st;
    decode_free(&d);
}

/* ---------------------------------------------------------------------------------------- */

static void test_link_supported(void **state)
{
    (void)state;
    const int yes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(decode_link_supported(yes[i]));
    const int no[] = {-1, 6 /* token ring */, 105 /* 802.11 */, 127 /* radiotap */, 147 /* user0 */, 9999};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(decode_link_supported(no[i]));
}

static void test_unknown_dlt(void **state)
{
    (void)state;
    struct pg_buf b = eth_ip4_tcp();
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, 105, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_MALFORMED);
    assert_int_equal(decode_packet(&d, 9999, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_MALFORMED);
    assert_int_equal(d.st.malformed_link, 2);
    decode_free(&d);
    pg_free(&b);
}

static void test_ethernet_plain(void **state)
{
    (void)state;
    struct pg_buf b = eth_ip4_tcp();
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 4, &st);
    assert_int_equal(st.vlan, 0);
    pg_free(&b);

    b = ip6_tcp();
    pg_wrap_eth(&b, 0x86DD);
    decode_ok(DLT_EN10MB, &b, 6, NULL);
    pg_free(&b);
}

static void test_ethernet_8021q(void **state)
{
    (void)state;
    struct pg_buf b = ip4_tcp();
    const uint16_t tags[] = {0x8100};
    pg_wrap_eth_tags(&b, 0x0800, tags, 1);
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 4, &st);
    assert_int_equal(st.vlan, 1);
    pg_free(&b);
}

static void test_ethernet_qinq(void **state)
{
    (void)state;
    struct pg_buf b = ip6_tcp();
    const uint16_t tags[] = {0x88a8, 0x8100};
    pg_wrap_eth_tags(&b, 0x86DD, tags, 2);
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 6, &st);
    assert_int_equal(st.vlan, 2);
    pg_free(&b);
}

static void test_ethernet_non_ip(void **state)
{
    (void)state;
    /* ARP and an 802.3 length field (LLC): skipped and counted as non-IP. */
    struct pg_buf b = {0};
    pg_zero(&b, 28);
    pg_wrap_eth(&b, 0x0806);
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_SKIP);
    pg_free(&b);
    pg_zero(&b, 40);
    pg_wrap_eth(&b, 40);
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_SKIP);
    assert_int_equal(d.st.non_ip, 2);
    pg_free(&b);
    /* ICMP: IP but not TCP/UDP. */
    pg_zero(&b, 8);
    pg_wrap_ipv4(&b, SRC4, DST4, 1);
    pg_wrap_eth(&b, 0x0800);
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_SKIP);
    assert_int_equal(d.st.other_transport, 1);
    pg_free(&b);
    decode_free(&d);
}

static struct pg_buf sll_frame(uint16_t proto, struct pg_buf inner)
{
    struct pg_buf h = {0};
    pg_u16be(&h, 0);     /* packet type: to us */
    pg_u16be(&h, 1);     /* ARPHRD_ETHER */
    pg_u16be(&h, 6);     /* address length */
    pg_put(&h, "\x00\x11\x22\x33\x44\x55\x00\x00", 8);
    pg_u16be(&h, proto);
    pg_put(&h, inner.p, inner.len);
    pg_free(&inner);
    return h;
}

static struct pg_buf sll2_frame(uint16_t proto, struct pg_buf inner)
{
    struct pg_buf h = {0};
    pg_u16be(&h, proto);
    pg_u16be(&h, 0);     /* reserved */
    pg_u32be(&h, 3);     /* interface index */
    pg_u16be(&h, 1);     /* ARPHRD_ETHER */
    pg_u8(&h, 0);        /* packet type */
    pg_u8(&h, 6);        /* address length */
    pg_put(&h, "\x00\x11\x22\x33\x44\x55\x00\x00", 8);
    pg_put(&h, inner.p, inner.len);
    pg_free(&inner);
    return h;
}

static void test_linux_sll(void **state)
{
    (void)state;
    struct pg_buf b = sll_frame(0x0800, ip4_tcp());
    assert_int_equal(b.len, 16 + 20 + 20 + PAYLEN);
    decode_ok(DLT_LINUX_SLL, &b, 4, NULL);
    pg_free(&b);
    b = sll_frame(0x86DD, ip6_tcp());
    decode_ok(DLT_LINUX_SLL, &b, 6, NULL);
    pg_free(&b);
    /* A VLAN tag inside SLL (protocol 0x8100) is walked too. */
    struct pg_buf inner = ip4_tcp();
    uint8_t tag[4] = {0x00, 0x64, 0x08, 0x00};
    pg_prepend(&inner, tag, 4);
    b = sll_frame(0x8100, inner);
    decode_ok(DLT_LINUX_SLL, &b, 4, NULL);
    pg_free(&b);
}

static void test_linux_sll2(void **state)
{
    (void)state;
    struct pg_buf b = sll2_frame(0x0800, ip4_tcp());
    assert_int_equal(b.len, 20 + 20 + 20 + PAYLEN);
    decode_ok(DLT_LINUX_SLL2, &b, 4, NULL);
    pg_free(&b);
    b = sll2_frame(0x86DD, ip6_tcp());
    decode_ok(276, &b, 6, NULL);
    pg_free(&b);
}

static void test_raw(void **state)
{
    (void)state;
    struct pg_buf b = ip4_tcp();
    decode_ok(DLT_RAW, &b, 4, NULL);
    pg_free(&b);
    b = ip6_tcp();
    decode_ok(DLT_RAW, &b, 6, NULL);
    pg_free(&b);
    /* Version 5: not IP. */
    b = ip4_tcp();
    b.p[0] = 0x55;
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_RAW, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_MALFORMED);
    assert_int_equal(d.st.malformed_ip, 1);
    decode_free(&d);
    pg_free(&b);
}

static void test_ipv4_ipv6_dlts(void **state)
{
    (void)state;
    struct pg_buf b = ip4_tcp();
    decode_ok(DLT_IPV4, &b, 4, NULL);
    decode_ok(228, &b, 4, NULL);
    pg_free(&b);
    b = ip6_tcp();
    decode_ok(DLT_IPV6, &b, 6, NULL);
    decode_ok(229, &b, 6, NULL);
    pg_free(&b);
}

static struct pg_buf af_frame(const uint8_t af[4], struct pg_buf inner)
{
    pg_prepend(&inner, af, 4);
    return inner;
}

static void test_null(void **state)
{
    (void)state;
    static const uint8_t af2_le[4] = {2, 0, 0, 0}, af2_be[4] = {0, 0, 0, 2};
    struct pg_buf b = af_frame(af2_le, ip4_tcp());
    decode_ok(DLT_NULL, &b, 4, NULL);
    pg_free(&b);
    /* A capture written on a big-endian host: the AF is recognised in either order. */
    b = af_frame(af2_be, ip4_tcp());
    decode_ok(DLT_NULL, &b, 4, NULL);
    pg_free(&b);
    /* BSD AF_INET6 values: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
    const uint8_t v6[] = {24, 28, 30};
    for (size_t i = 0; i < sizeof v6; i++) {
        uint8_t af[4] = {v6[i], 0, 0, 0};
        b = af_frame(af, ip6_tcp());
        decode_ok(DLT_NULL, &b, 6, NULL);
        pg_free(&b);
    }
    /* An unknown family: skipped as non-IP. */
    uint8_t afx[4] = {7, 0, 0, 0};
    b = af_frame(afx, ip4_tcp());
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_NULL, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_SKIP);
    assert_int_equal(d.st.non_ip, 1);
    decode_free(&d);
    pg_free(&b);
}

static void test_loop(void **state)
{
    (void)state;
    static const uint8_t af2[4] = {0, 0, 0, 2}, af24[4] = {0, 0, 0, 24}, af2_le[4] = {2, 0, 0, 0};
    struct pg_buf b = af_frame(af2, ip4_tcp());
    decode_ok(DLT_LOOP, &b, 4, NULL);
    pg_free(&b);
    b = af_frame(af24, ip6_tcp());
    decode_ok(DLT_LOOP, &b, 6, NULL);
    pg_free(&b);
    /* DLT_LOOP is network order only: 0x02000000 is no family. */
    b = af_frame(af2_le, ip4_tcp());
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_LOOP, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_SKIP);
    assert_int_equal(d.st.non_ip, 1);
    decode_free(&d);
    pg_free(&b);
}

static void test_ipv6_extension_headers(void **state)
{
    (void)state;
    /* hop-by-hop (8 bytes: next=6, len=0, PadN) */
    struct pg_buf b = tcp_seg();
    uint8_t hbh[8] = {6, 0, 1, 4, 0, 0, 0, 0};
    pg_prepend(&b, hbh, 8);
    pg_wrap_ipv6(&b, SRC6, DST6, 0);
    pg_wrap_eth(&b, 0x86DD);
    decode_ok(DLT_EN10MB, &b, 6, NULL);
    pg_free(&b);

    /* hop-by-hop (16 bytes) → destination options (8) → routing (type 0 stub, 24 bytes) → TCP */
    b = tcp_seg();
    uint8_t rt[24] = {6, 2, 0, 0};
    uint8_t dst[8] = {43, 0, 1, 4, 0, 0, 0, 0};
    uint8_t hbh2[16] = {60, 1, 1, 12};
    pg_prepend(&b, rt, sizeof rt);
    pg_prepend(&b, dst, sizeof dst);
    pg_prepend(&b, hbh2, sizeof hbh2);
    pg_wrap_ipv6(&b, SRC6, DST6, 0);
    decode_ok(DLT_RAW, &b, 6, NULL);
    pg_free(&b);

    /* An IPv6 fragment header: not reassembled, counted. */
    b = tcp_seg();
    uint8_t frag[8] = {6, 0, 0, 1, 0, 0, 0, 42};
    pg_prepend(&b, frag, 8);
    pg_wrap_ipv6(&b, SRC6, DST6, 44);
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_RAW, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_SKIP);
    assert_int_equal(d.st.ipv6_fragments, 1);
    decode_free(&d);
    pg_free(&b);
}

/* Outer Ethernet/IPv4 (proto 47) around a GRE header (flags, protocol, optional fields). */
static struct pg_buf gre_frame(uint16_t flags, uint16_t proto, const void *opt, size_t optlen, struct pg_buf inner)
{
    struct pg_buf h = {0};
    pg_u16be(&h, flags);
    pg_u16be(&h, proto);
    pg_put(&h, opt, optlen);
    pg_prepend(&inner, h.p, h.len);
    pg_free(&h);
    pg_wrap_ipv4(&inner, OSRC4, ODST4, 47);
    pg_wrap_eth(&inner, 0x0800);
    return inner;
}

static void test_gre_ipv4(void **state)
{
    (void)state;
    struct pg_buf b = gre_frame(0x0000, 0x0800, NULL, 0, ip4_tcp());
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 4, &st);
    assert_int_equal(st.gre, 1);
    assert_int_equal(st.erspan, 0);
    pg_free(&b);

    /* Checksum, key and sequence present (C K S): 12 optional bytes. */
    b = gre_frame(0xB000, 0x86DD, "\0\0\0\0KEY!\0\0\0\x07", 12, ip6_tcp());
    decode_ok(DLT_EN10MB, &b, 6, &st);
    assert_int_equal(st.gre, 1);
    pg_free(&b);

    /* GRE version 1 (PPTP) is not decapsulated: malformed tunnel. */
    b = gre_frame(0x0001, 0x0800, NULL, 0, ip4_tcp());
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_MALFORMED);
    assert_int_equal(d.st.malformed_tunnel, 1);
    decode_free(&d);
    pg_free(&b);
}

static void test_gre_teb(void **state)
{
    (void)state;
    struct pg_buf inner = eth_ip4_tcp();
    struct pg_buf b = gre_frame(0x0000, 0x6558, NULL, 0, inner);
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 4, &st);
    assert_int_equal(st.gre, 1);
    pg_free(&b);
}

static void test_ip_in_ip(void **state)
{
    (void)state;
    struct pg_buf b = ip6_tcp();
    pg_wrap_ipv4(&b, OSRC4, ODST4, 41); /* 6in4 */
    pg_wrap_eth(&b, 0x0800);
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 6, &st);
    assert_int_equal(st.ipip, 1);
    pg_free(&b);
}

static void test_erspan_type1(void **state)
{
    (void)state;
    /* Type I: GRE protocol 0x88BE without the S bit, the mirrored Ethernet frame directly. */
    struct pg_buf b = gre_frame(0x0000, 0x88BE, NULL, 0, eth_ip4_tcp());
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 4, &st);
    assert_int_equal(st.gre, 1);
    assert_int_equal(st.erspan, 1);
    pg_free(&b);
}

static void test_erspan_type2(void **state)
{
    (void)state;
    /* Type II: S bit and sequence number, then the 8-byte ERSPAN header (ver 1, VLAN, session). */
    struct pg_buf inner = eth_ip4_tcp();
    uint8_t eh[8] = {0x10, 0x64, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x05};
    pg_prepend(&inner, eh, 8);
    struct pg_buf b = gre_frame(0x1000, 0x88BE, "\x00\x00\x00\x09", 4, inner);
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 4, &st);
    assert_int_equal(st.erspan, 1);
    pg_free(&b);
}

static void test_erspan_type3(void **state)
{
    (void)state;
    /* Type III without the O bit: 12-byte header, then Ethernet. */
    struct pg_buf inner = eth_ip4_tcp();
    uint8_t eh[12] = {0x20, 0x64, 0x00, 0x2a, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00};
    pg_prepend(&inner, eh, 12);
    struct pg_buf b = gre_frame(0x1000, 0x22EB, "\x00\x00\x00\x01", 4, inner);
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 4, &st);
    assert_int_equal(st.erspan, 1);
    pg_free(&b);

    /* With the O bit: an 8-byte platform-specific subheader follows. */
    inner = ip6_tcp();
    pg_wrap_eth(&inner, 0x86DD);
    uint8_t sub[8] = {0x0c, 0, 0, 0, 0, 0, 0, 0x77};
    pg_prepend(&inner, sub, 8);
    eh[11] = 0x01;
    pg_prepend(&inner, eh, 12);
    b = gre_frame(0x1000, 0x22EB, "\x00\x00\x00\x02", 4, inner);
    decode_ok(DLT_EN10MB, &b, 6, &st);
    assert_int_equal(st.erspan, 1);
    pg_free(&b);
}

static struct pg_buf vxlan_frame(uint8_t vxflags, struct pg_buf inner)
{
    uint8_t vh[8] = {vxflags, 0, 0, 0, 0x00, 0x10, 0x00, 0x00}; /* VNI 4096 */
    pg_prepend(&inner, vh, 8);
    pg_wrap_udp(&inner, 51000, 4789);
    pg_wrap_ipv4(&inner, OSRC4, ODST4, 17);
    pg_wrap_eth(&inner, 0x0800);
    return inner;
}

static void test_vxlan(void **state)
{
    (void)state;
    struct pg_buf b = vxlan_frame(0x08, eth_ip4_tcp());
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 4, &st);
    assert_int_equal(st.vxlan, 1);
    pg_free(&b);

    /* Without the I flag it is plain UDP to port 4789. */
    b = vxlan_frame(0x00, eth_ip4_tcp());
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_OK);
    assert_int_equal(pkt.proto, 17);
    assert_int_equal(pkt.dport, 4789);
    assert_int_equal(pkt.sport, 51000);
    assert_memory_equal(pkt.src, OSRC4, 4);
    assert_int_equal(pkt.paylen, 8 + 14 + 20 + 20 + PAYLEN);
    assert_int_equal(d.st.vxlan, 0);
    decode_free(&d);
    pg_free(&b);
}

static void test_nested_tunnels(void **state)
{
    (void)state;
    /* VXLAN carrying GRE carrying ERSPAN II carrying the TCP frame: three levels. */
    struct pg_buf inner = eth_ip4_tcp();
    uint8_t eh[8] = {0x10, 0x64, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x05};
    pg_prepend(&inner, eh, 8);
    struct pg_buf b = gre_frame(0x1000, 0x88BE, "\x00\x00\x00\x09", 4, inner);
    b = vxlan_frame(0x08, b);
    struct decode_stats st;
    decode_ok(DLT_EN10MB, &b, 4, &st);
    assert_int_equal(st.vxlan, 1);
    assert_int_equal(st.gre, 1);
    assert_int_equal(st.erspan, 1);
    pg_free(&b);

    /* Six levels of GRE: past the depth limit, skipped (not decoded, no crash). */
    b = ip4_tcp();
    for (int i = 0; i < 6; i++) {
        uint8_t gh[4] = {0, 0, 0x08, 0x00};
        pg_prepend(&b, gh, 4);
        pg_wrap_ipv4(&b, OSRC4, ODST4, 47);
    }
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_RAW, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_SKIP);
    assert_int_equal(d.st.gre, 4);
    decode_free(&d);
    pg_free(&b);
}

static void test_udp_padding(void **state)
{
    (void)state;
    /* Ethernet padding after a short UDP datagram is not payload. */
    struct pg_buf b = pg_copy("abc", 3);
    pg_wrap_udp(&b, 1234, 53);
    pg_wrap_ipv4(&b, SRC4, DST4, 17);
    pg_fill(&b, 0, 15); /* pad to 60 bytes with the Ethernet header */
    pg_wrap_eth(&b, 0x0800);
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_OK);
    assert_int_equal(pkt.proto, 17);
    assert_int_equal(pkt.paylen, 3);
    assert_memory_equal(pkt.payload, "abc", 3);
    decode_free(&d);
    pg_free(&b);
}

/* ---------------------------------------------------------------------------------------- */
/* IPv4 fragments                                                                            */

/* Ethernet frame carrying bytes [off, off+n) of the IP payload ip_payload as one fragment. */
static struct pg_buf frag_frame(const struct pg_buf *ip_payload, uint16_t id, size_t off, size_t n, bool mf)
{
    struct pg_buf b = pg_copy(ip_payload->p + off, n);
    pg_wrap_ipv4_ex(&b, SRC4, DST4, 6, id, (uint16_t)((mf ? 0x2000 : 0) | (off / 8)));
    pg_wrap_eth(&b, 0x0800);
    return b;
}

static enum decode_result feed(struct hs_decoder *d, const struct pg_buf *b, time_t sec, struct hs_pkt *pkt)
{
    struct timeval tv = {sec, 0};
    return decode_packet(d, DLT_EN10MB, b->p, (uint32_t)b->len, &tv, pkt);
}

static void test_fragments_out_of_order(void **state)
{
    (void)state;
    /* A 20-byte TCP header + 100 bytes, in fragments [0,40) [40,80) [80,120). */
    struct pg_buf seg = {0};
    for (int i = 0; i < 100; i++)
        pg_u8(&seg, (uint8_t)(i * 7 + 1));
    pg_wrap_tcp(&seg, SPORT, DPORT, SEQ, ACK, TH_PSH | TH_ACK);
    assert_int_equal(seg.len, 120);
    struct pg_buf f1 = frag_frame(&seg, 77, 0, 40, true), f2 = frag_frame(&seg, 77, 40, 40, true),
                  f3 = frag_frame(&seg, 77, 80, 40, false);
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(feed(&d, &f3, 100, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &f1, 100, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &f2, 100, &pkt), DEC_OK);
    assert_int_equal(pkt.af, 4);
    assert_int_equal(pkt.proto, 6);
    assert_memory_equal(pkt.src, SRC4, 4);
    assert_memory_equal(pkt.dst, DST4, 4);
    assert_int_equal(pkt.sport, SPORT);
    assert_int_equal(pkt.dport, DPORT);
    assert_int_equal(pkt.seq, SEQ);
    assert_int_equal(pkt.ack, ACK);
    assert_int_equal(pkt.tcp_flags, TH_PSH | TH_ACK);
    assert_int_equal(pkt.paylen, 100);
    assert_memory_equal(pkt.payload, seg.p + 20, 100);
    assert_int_equal(d.st.ipv4_fragments, 3);
    assert_int_equal(d.st.ipv4_reassembled, 1);
    assert_int_equal(d.st.ipv4_frag_dropped, 0);

    /* The slot is free again: the same fragments reassemble a second time. */
    assert_int_equal(feed(&d, &f2, 101, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &f3, 101, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &f1, 101, &pkt), DEC_OK);
    assert_int_equal(pkt.paylen, 100);
    assert_memory_equal(pkt.payload, seg.p + 20, 100);
    assert_int_equal(d.st.ipv4_reassembled, 2);

    /* An unfragmented packet in between is untouched by the table. */
    struct pg_buf plain = eth_ip4_tcp();
    assert_int_equal(feed(&d, &plain, 102, &pkt), DEC_OK);
    check_tcp(&pkt, 4);
    decode_free(&d);
    pg_free(&plain);
    pg_free(&f1);
    pg_free(&f2);
    pg_free(&f3);
    pg_free(&seg);
}

static void test_fragments_overlap_first_wins(void **state)
{
    (void)state;
    struct pg_buf seg = {0};
    for (int i = 0; i < 100; i++)
        pg_u8(&seg, (uint8_t)('A' + i % 26));
    pg_wrap_tcp(&seg, SPORT, DPORT, SEQ, ACK, TH_PSH | TH_ACK);
    /* A forged copy of the same datagram with different payload bytes. */
    struct pg_buf evil = pg_copy(seg.p, seg.len);
    memset(evil.p + 20, 'X', 100);

    struct pg_buf a = frag_frame(&seg, 9, 0, 48, true);   /* [0,48) genuine */
    struct pg_buf b = frag_frame(&evil, 9, 40, 40, true); /* [40,80) forged: overlaps [40,48) */
    struct pg_buf c = frag_frame(&seg, 9, 40, 48, true);  /* [40,88) genuine: [48,80) already held */
    struct pg_buf e = frag_frame(&seg, 9, 80, 40, false); /* [80,120) last */
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(feed(&d, &a, 5, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &b, 5, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &c, 5, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &e, 5, &pkt), DEC_OK);
    assert_int_equal(pkt.paylen, 100);
    /* IP payload [0,48) genuine (TCP header + payload 0..27), [48,80) forged (payload 28..59),
     * [80,120) genuine. */
    assert_memory_equal(pkt.payload, seg.p + 20, 28);
    for (int i = 28; i < 60; i++)
        assert_int_equal(pkt.payload[i], 'X');
    assert_memory_equal(pkt.payload + 60, seg.p + 80, 40);
    assert_int_equal(pkt.seq, SEQ); /* the TCP header came from the first copy */
    decode_free(&d);

    /* A duplicate of the whole first fragment does not complete anything on its own. */
    memset(&d, 0, sizeof d);
    assert_int_equal(feed(&d, &a, 6, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &a, 6, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &e, 6, &pkt), DEC_SKIP); /* [48,80) still missing */
    assert_int_equal(feed(&d, &b, 6, &pkt), DEC_OK);
    assert_int_equal(pkt.paylen, 100);
    assert_memory_equal(pkt.payload, seg.p + 20, 28);
    assert_int_equal(pkt.payload[28], 'X');
    decode_free(&d);
    pg_free(&a);
    pg_free(&b);
    pg_free(&c);
    pg_free(&e);
    pg_free(&seg);
    pg_free(&evil);
}

static void test_fragments_hole_beyond_total(void **state)
{
    (void)state;
    /* Bytes counted towards completion must lie inside the datagram: a stray fragment past the
     * end ([120,160) after a last fragment ending at 120) must not make up for the hole [40,80). */
    struct pg_buf seg = {0};
    for (int i = 0; i < 180; i++)
        pg_u8(&seg, (uint8_t)(i + 1));
    pg_wrap_tcp(&seg, SPORT, DPORT, SEQ, ACK, TH_PSH | TH_ACK);
    struct pg_buf a = frag_frame(&seg, 11, 0, 40, true);
    struct pg_buf last = frag_frame(&seg, 11, 80, 40, false);
    struct pg_buf stray = frag_frame(&seg, 11, 120, 40, true);
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(feed(&d, &a, 5, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &last, 5, &pkt), DEC_SKIP);
    enum decode_result res = feed(&d, &stray, 5, &pkt);
    if (res == DEC_OK)
        fail_msg("datagram 'reassembled' with the hole [40,80) unfilled (paylen %u)", pkt.paylen);
    assert_int_equal(d.st.ipv4_reassembled, 0);
    /* The genuine middle fragment still completes it, with the right bytes. */
    struct pg_buf mid = frag_frame(&seg, 11, 40, 40, true);
    assert_int_equal(feed(&d, &mid, 5, &pkt), DEC_OK);
    assert_int_equal(pkt.paylen, 100);
    assert_memory_equal(pkt.payload, seg.p + 20, 100);
    decode_free(&d);
    pg_free(&a);
    pg_free(&last);
    pg_free(&stray);
    pg_free(&mid);
    pg_free(&seg);
}

static void test_fragment_table_full(void **state)
{
    (void)state;
    struct pg_buf seg = {0};
    for (int i = 0; i < 60; i++)
        pg_u8(&seg, (uint8_t)i);
    pg_wrap_tcp(&seg, SPORT, DPORT, SEQ, ACK, TH_PSH | TH_ACK);
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    /* First fragments of FRAG_MAX_DATAGRAMS + 1 datagrams: the oldest (id 1000, a second earlier
     * than the rest) gives way to the last. */
    for (int i = 0; i <= FRAG_MAX_DATAGRAMS; i++) {
        struct pg_buf f = frag_frame(&seg, (uint16_t)(1000 + i), 0, 40, true);
        assert_int_equal(feed(&d, &f, i == 0 ? 200 : 201, &pkt), DEC_SKIP);
        pg_free(&f);
    }
    assert_int_equal(d.st.ipv4_fragments, FRAG_MAX_DATAGRAMS + 1);
    assert_int_equal(d.st.ipv4_frag_dropped, 1);

    /* Datagram 1001 is still held: its last fragment completes it. */
    struct pg_buf last = frag_frame(&seg, 1001, 40, 40, false);
    assert_int_equal(feed(&d, &last, 202, &pkt), DEC_OK);
    assert_int_equal(pkt.paylen, 60);
    assert_memory_equal(pkt.payload, seg.p + 20, 60);
    pg_free(&last);
    /* Datagram 1000 was dropped: its last fragment alone completes nothing. */
    last = frag_frame(&seg, 1000, 40, 40, false);
    assert_int_equal(feed(&d, &last, 202, &pkt), DEC_SKIP);
    pg_free(&last);
    /* The newest, 1064, is held. */
    last = frag_frame(&seg, 1000 + FRAG_MAX_DATAGRAMS, 40, 40, false);
    assert_int_equal(feed(&d, &last, 202, &pkt), DEC_OK);
    assert_int_equal(d.st.ipv4_reassembled, 2);
    pg_free(&last);
    decode_free(&d);
    pg_free(&seg);
}

static void test_fragment_timeout(void **state)
{
    (void)state;
    struct pg_buf seg = {0};
    for (int i = 0; i < 60; i++)
        pg_u8(&seg, (uint8_t)i);
    pg_wrap_tcp(&seg, SPORT, DPORT, SEQ, ACK, TH_PSH | TH_ACK);
    struct pg_buf first = frag_frame(&seg, 5, 0, 40, true), last = frag_frame(&seg, 5, 40, 40, false);
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(feed(&d, &first, 1000, &pkt), DEC_SKIP);
    assert_int_equal(feed(&d, &last, 1000 + FRAG_TIMEOUT_SEC + 1, &pkt), DEC_SKIP);
    assert_int_equal(d.st.ipv4_frag_dropped, 1);
    /* Within the timeout it completes. */
    assert_int_equal(feed(&d, &first, 1000 + FRAG_TIMEOUT_SEC + 2, &pkt), DEC_OK);
    assert_int_equal(pkt.paylen, 60);
    decode_free(&d);
    pg_free(&first);
    pg_free(&last);
    pg_free(&seg);
}

static void test_fragment_bad(void **state)
{
    (void)state;
    struct pg_buf seg = {0};
    for (int i = 0; i < 60; i++)
        pg_u8(&seg, (uint8_t)i);
    pg_wrap_tcp(&seg, SPORT, DPORT, SEQ, ACK, TH_PSH | TH_ACK);
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    /* A non-last fragment whose length is not a multiple of 8. */
    struct pg_buf odd = frag_frame(&seg, 1, 0, 36, true);
    assert_int_equal(feed(&d, &odd, 1, &pkt), DEC_SKIP);
    assert_int_equal(d.st.malformed_ip, 1);
    /* A fragment reaching past 65535 bytes. */
    struct pg_buf b = pg_copy(seg.p, 40);
    pg_wrap_ipv4_ex(&b, SRC4, DST4, 6, 2, 0x1FFF);
    pg_wrap_eth(&b, 0x0800);
    assert_int_equal(feed(&d, &b, 1, &pkt), DEC_SKIP);
    assert_int_equal(d.st.malformed_ip, 2);
    /* Two "last" fragments that disagree on the length. */
    struct pg_buf l1 = frag_frame(&seg, 3, 40, 40, false);
    assert_int_equal(feed(&d, &l1, 1, &pkt), DEC_SKIP);
    struct pg_buf l3 = frag_frame(&seg, 3, 40, 24, false); /* ends at 64: conflicts */
    assert_int_equal(feed(&d, &l3, 1, &pkt), DEC_SKIP);
    assert_int_equal(d.st.malformed_ip, 3);
    /* A truncated fragment (caplen below the total length). */
    struct pg_buf t = frag_frame(&seg, 4, 0, 40, true);
    struct timeval tv = {1, 0};
    assert_int_equal(decode_packet(&d, DLT_EN10MB, t.p, (uint32_t)t.len - 5, &tv, &pkt), DEC_MALFORMED);
    decode_free(&d);
    pg_free(&odd);
    pg_free(&b);
    pg_free(&l1);
    pg_free(&l3);
    pg_free(&t);
    pg_free(&seg);
}

/* ---------------------------------------------------------------------------------------- */
/* Truncation: every prefix of every frame shape.                                            */

struct trunc_case {
    const char *name;
    int dlt;
    struct pg_buf frame;
    size_t hdr;        /* bytes before the TCP payload */
    bool vxlan;        /* a prefix cut inside the VXLAN header decodes as outer UDP */
};

static void run_truncation(struct trunc_case *tc)
{
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    assert_int_equal(tc->hdr + PAYLEN, tc->frame.len);
    for (size_t len = 0; len <= tc->frame.len; len++) {
        /* An exact-size heap copy, so ASan sees any read past caplen. */
        uint8_t *copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, tc->frame.p, len);
        struct hs_pkt pkt;
        memset(&pkt, 0, sizeof pkt);
        enum decode_result r = decode_packet(&d, tc->dlt, copy, (uint32_t)len, &ts0, &pkt);
        assert_true(r == DEC_OK || r == DEC_SKIP || r == DEC_MALFORMED);
        if (len < tc->hdr) {
            if (r == DEC_OK) {
                if (!(tc->vxlan && pkt.proto == 17 && pkt.dport == 4789))
                    fail_msg("%s: prefix of %zu bytes (headers end at %zu) decoded as OK", tc->name, len, tc->hdr);
                assert_true(pkt.payload >= copy && pkt.payload + pkt.paylen <= copy + len);
            }
        } else {
            if (r != DEC_OK)
                fail_msg("%s: prefix of %zu bytes not decoded (result %d)", tc->name, len, (int)r);
            assert_int_equal(pkt.proto, 6);
            assert_int_equal(pkt.sport, SPORT);
            assert_int_equal(pkt.paylen, len - tc->hdr);
            assert_true(pkt.payload == copy + tc->hdr);
        }
        free(copy);
    }
    assert_true(d.st.truncated > 0);
    decode_free(&d);
    pg_free(&tc->frame);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    struct trunc_case cases[16];
    size_t n = 0;
    const size_t T = 20; /* TCP header */

    cases[n++] = (struct trunc_case){"eth/ipv4", DLT_EN10MB, eth_ip4_tcp(), 14 + 20 + T, false};
    {
        struct pg_buf b = ip6_tcp();
        const uint16_t tags[] = {0x88a8, 0x8100};
        pg_wrap_eth_tags(&b, 0x86DD, tags, 2);
        cases[n++] = (struct trunc_case){"qinq/ipv6", DLT_EN10MB, b, 22 + 40 + T, false};
    }
    cases[n++] = (struct trunc_case){"sll", DLT_LINUX_SLL, sll_frame(0x0800, ip4_tcp()), 16 + 20 + T, false};
    cases[n++] = (struct trunc_case){"sll2", DLT_LINUX_SLL2, sll2_frame(0x86DD, ip6_tcp()), 20 + 40 + T, false};
    {
        static const uint8_t af[4] = {2, 0, 0, 0};
        cases[n++] = (struct trunc_case){"null", DLT_NULL, af_frame(af, ip4_tcp()), 4 + 20 + T, false};
    }
    {
        static const uint8_t af[4] = {0, 0, 0, 24};
        cases[n++] = (struct trunc_case){"loop", DLT_LOOP, af_frame(af, ip6_tcp()), 4 + 40 + T, false};
    }
    cases[n++] = (struct trunc_case){"raw4", DLT_RAW, ip4_tcp(), 20 + T, false};
    cases[n++] = (struct trunc_case){"ipv6", DLT_IPV6, ip6_tcp(), 40 + T, false};
    {
        struct pg_buf b = tcp_seg();
        uint8_t hbh[16] = {60, 1, 1, 12};
        uint8_t dst[8] = {6, 0, 1, 4};
        pg_prepend(&b, dst, 8);
        pg_prepend(&b, hbh, 16);
        pg_wrap_ipv6(&b, SRC6, DST6, 0);
        cases[n++] = (struct trunc_case){"ipv6-ext", DLT_RAW, b, 40 + 24 + T, false};
    }
    cases[n++] = (struct trunc_case){"gre", DLT_EN10MB, gre_frame(0xB000, 0x0800, "\0\0\0\0KEY!\0\0\0\x07", 12, ip4_tcp()),
                                     14 + 20 + 16 + 20 + T, false};
    {
        struct pg_buf inner = eth_ip4_tcp();
        uint8_t eh[8] = {0x10, 0x64, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x05};
        pg_prepend(&inner, eh, 8);
        cases[n++] = (struct trunc_case){"erspan2", DLT_EN10MB, gre_frame(0x1000, 0x88BE, "\0\0\0\x09", 4, inner),
                                         14 + 20 + 8 + 8 + 14 + 20 + T, false};
    }
    {
        struct pg_buf inner = eth_ip4_tcp();
        uint8_t sub[8] = {0};
        uint8_t eh[12] = {0x20, 0x64, 0, 0x2a, 0, 0, 0, 0, 0, 0, 0, 0x01};
        pg_prepend(&inner, sub, 8);
        pg_prepend(&inner, eh, 12);
        cases[n++] = (struct trunc_case){"erspan3", DLT_EN10MB, gre_frame(0x1000, 0x22EB, "\0\0\0\x02", 4, inner),
                                         14 + 20 + 8 + 20 + 14 + 20 + T, false};
    }
    cases[n++] = (struct trunc_case){"vxlan", DLT_EN10MB, vxlan_frame(0x08, eth_ip4_tcp()),
                                     14 + 20 + 8 + 8 + 14 + 20 + T, true};
    {
        struct pg_buf b = ip6_tcp();
        pg_wrap_ipv4(&b, OSRC4, ODST4, 41);
        cases[n++] = (struct trunc_case){"6in4", DLT_IPV4, b, 20 + 40 + T, false};
    }
    for (size_t i = 0; i < n; i++)
        run_truncation(&cases[i]);
}

static void test_tcp_bad_header_length(void **state)
{
    (void)state;
    struct pg_buf b = eth_ip4_tcp();
    b.p[14 + 20 + 12] = 0x40; /* data offset 4 words: below the minimum */
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    struct hs_pkt pkt;
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_MALFORMED);
    assert_int_equal(d.st.malformed_tcp, 1);
    b.p[14 + 20 + 12] = 0xF0; /* 60 bytes of header: more than the segment holds */
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, 14 + 20 + 40, &ts0, &pkt), DEC_MALFORMED);
    /* IHL below 5 and a total length below the IHL. */
    b.p[14 + 20 + 12] = 0x50;
    b.p[14] = 0x44;
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_MALFORMED);
    b.p[14] = 0x45;
    pg_set_u16be(&b, 14 + 2, 12);
    assert_int_equal(decode_packet(&d, DLT_EN10MB, b.p, (uint32_t)b.len, &ts0, &pkt), DEC_MALFORMED);
    assert_int_equal(d.st.malformed_ip, 2);
    decode_free(&d);
    pg_free(&b);
}

static void test_random_garbage(void **state)
{
    (void)state;
    /* Pseudo-random frames of every supported link type: any result, never a crash. */
    const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP};
    uint32_t x = 12345;
    struct hs_decoder d;
    memset(&d, 0, sizeof d);
    unsigned ok = 0, other = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (x >> 3) % 200;
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            p[i] = (uint8_t)(x >> 16);
        }
        /* Make IP headers likely so the deeper decoders run. */
        int dlt = dlts[iter % 8];
        if (len > 20 && (dlt == DLT_RAW || dlt == DLT_IPV4))
            p[0] = (uint8_t)(0x45 + (iter & 16 ? 0x20 : 0));
        if (len > 30 && dlt == DLT_EN10MB) {
            p[12] = 0x08;
            p[13] = 0x00;
            p[14] = 0x45;
            p[23] = (uint8_t)(iter & 1 ? 47 : 17);
        }
        struct hs_pkt pkt;
        struct timeval tv = {iter / 100, 0};
        enum decode_result r = decode_packet(&d, dlt, p, (uint32_t)len, &tv, &pkt);
        if (r == DEC_OK) {
            ok++;
            assert_true(pkt.paylen == 0 || (pkt.payload >= p && pkt.payload + pkt.paylen <= p + len) ||
                        (d.reasm && pkt.payload >= d.reasm && pkt.payload + pkt.paylen <= d.reasm + 65536));
        } else {
            other++;
        }
        free(p);
    }
    assert_int_equal(ok + other, 20000);
    decode_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_supported),
        cmocka_unit_test(test_unknown_dlt),
        cmocka_unit_test(test_ethernet_plain),
        cmocka_unit_test(test_ethernet_8021q),
        cmocka_unit_test(test_ethernet_qinq),
        cmocka_unit_test(test_ethernet_non_ip),
        cmocka_unit_test(test_linux_sll),
        cmocka_unit_test(test_linux_sll2),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_ipv4_ipv6_dlts),
        cmocka_unit_test(test_null),
        cmocka_unit_test(test_loop),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_gre_ipv4),
        cmocka_unit_test(test_gre_teb),
        cmocka_unit_test(test_ip_in_ip),
        cmocka_unit_test(test_erspan_type1),
        cmocka_unit_test(test_erspan_type2),
        cmocka_unit_test(test_erspan_type3),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_nested_tunnels),
        cmocka_unit_test(test_udp_padding),
        cmocka_unit_test(test_fragments_out_of_order),
        cmocka_unit_test(test_fragments_overlap_first_wins),
        cmocka_unit_test(test_fragments_hole_beyond_total),
        cmocka_unit_test(test_fragment_table_full),
        cmocka_unit_test(test_fragment_timeout),
        cmocka_unit_test(test_fragment_bad),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_tcp_bad_header_length),
        cmocka_unit_test(test_random_garbage),
    };
    pg_apply_filters();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
