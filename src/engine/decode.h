/* Link, IP and transport decoding; span-port decapsulation; IPv4 fragment reassembly. */
#ifndef HOPSCOPE_DECODE_H
#define HOPSCOPE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/* TCP flags (RFC 9293 3.1) */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* One decoded packet: the innermost IP header's addresses and the TCP/UDP header. */
struct hs_pkt {
    uint64_t frame;        /* 1-based, as Wireshark counts */
    struct timeval ts;
    uint8_t af;            /* 4 or 6 */
    uint8_t proto;         /* 6 TCP, 17 UDP */
    uint8_t src[16], dst[16]; /* IPv4 uses the first 4 bytes */
    uint16_t sport, dport;
    uint32_t seq, ack;     /* TCP only */
    uint8_t tcp_flags;
    const uint8_t *payload;
    uint32_t paylen;
};

/* Counters the decoder keeps; all monotonically increasing. */
struct decode_stats {
    uint64_t non_ip;          /* ARP, LLC/NetBEUI, ... */
    uint64_t other_transport; /* IP packets that are neither TCP nor UDP (ICMP, ...) */
    uint64_t truncated;       /* snap length cut a header */
    uint64_t malformed_link, malformed_ip, malformed_tcp, malformed_udp, malformed_tunnel;
    uint64_t vlan, gre, erspan, vxlan, ipip;
    uint64_t ipv4_fragments, ipv4_reassembled, ipv4_frag_dropped, ipv6_fragments;
    uint64_t ipv4_tso; /* total length 0 (segmentation offload on the capturing host): captured length used */
};

#define FRAG_MAX_DATAGRAMS 64
#define FRAG_TIMEOUT_SEC 30

struct frag_dgram;

/* Decoder state: the fragment table and the buffer a reassembled datagram is returned in. */
struct hs_decoder {
    struct frag_dgram *frags[FRAG_MAX_DATAGRAMS];
    uint8_t *reasm;  /* 64 KiB, allocated on first use */
    struct decode_stats st;
};

enum decode_result {
    DEC_OK = 0,       /* *pkt filled: a TCP or UDP packet */
    DEC_SKIP,         /* not TCP/UDP over IP (counted), or a fragment still incomplete */
    DEC_MALFORMED,    /* counted in st.malformed_* */
};

/* True when libpcap link type dlt is one hopscope decodes (see decode_packet). */
bool decode_link_supported(int dlt);

/*
 * Decodes one captured frame of caplen bytes at data, of libpcap link type dlt: DLT_EN10MB
 * (802.1Q/802.1ad/QinQ tags), DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW/LINKTYPE_RAW, DLT_IPV4,
 * DLT_IPV6, DLT_NULL and DLT_LOOP. IPv4 (RFC 791, with fragment reassembly) and IPv6 (RFC 8200,
 * extension headers walked); GRE (RFC 2784/2890), ERSPAN types I, II and III, VXLAN (RFC 7348,
 * UDP 4789) and IP-in-IP are decapsulated to the inner packet, up to 4 levels deep.
 * Fills pkt (frame and ts are left to the caller); payload points into data or into d->reasm,
 * valid until the next call. Returns an enum decode_result; never reads past caplen.
 */
enum decode_result decode_packet(struct hs_decoder *d, int dlt, const uint8_t *data, uint32_t caplen,
                                 const struct timeval *ts, struct hs_pkt *pkt);

/* Frees the decoder's fragment table and buffer. */
void decode_free(struct hs_decoder *d);

#endif
