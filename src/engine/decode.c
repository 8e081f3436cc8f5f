/* Link, IP and transport decoding — IEEE 802.3/802.1Q, RFC 791, RFC 8200, RFC 2784/2890, ERSPAN, RFC 7348. */
#include "decode.h"

#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "reader.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88A8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_TEB 0x6558     /* transparent Ethernet bridging (GRE) */
#define ETHERTYPE_ERSPAN2 0x88BE /* ERSPAN types I and II */
#define ETHERTYPE_ERSPAN3 0x22EB

#define VXLAN_PORT 4789
#define MAX_ENCAP_DEPTH 4

/* One IPv4 datagram being reassembled (RFC 791 3.2, RFC 815's hole idea simplified to a bitmap of
 * 8-byte blocks, the fragment unit). */
struct frag_dgram {
    uint8_t src[4], dst[4];
    uint16_t id;
    uint8_t proto;
    uint32_t total;     /* payload length, known once the last fragment (MF=0) arrived; 0 before */
    uint32_t have;      /* bytes received (overlaps counted once) */
    time_t first_sec;
    uint8_t blocks[65536 / 8 / 8]; /* one bit per 8-byte block */
    uint8_t data[65536];
};

static enum decode_result decode_ether(struct hs_decoder *d, struct rd *r, const struct timeval *ts,
                                       struct hs_pkt *pkt, int depth);
static enum decode_result decode_ethertype(struct hs_decoder *d, uint16_t type, struct rd *r,
                                           const struct timeval *ts, struct hs_pkt *pkt, int depth);

bool decode_link_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
        return true; /* libpcap maps LINKTYPE_RAW (101) to the platform's DLT_RAW */
    default:
        return false;
    }
}

static enum decode_result decode_ip(struct hs_decoder *d, struct rd *r, const struct timeval *ts,
                                    struct hs_pkt *pkt, int depth);

/* TCP (RFC 9293 3.1) or UDP (RFC 768) header; the rest of r is the payload. */
static enum decode_result decode_transport(struct hs_decoder *d, uint8_t proto, struct rd *r,
                                           const struct timeval *ts, struct hs_pkt *pkt, int depth)
{
    pkt->proto = proto;
    if (proto == 6) {
        pkt->sport = rd_u16be(r);
        pkt->dport = rd_u16be(r);
        pkt->seq = rd_u32be(r);
        pkt->ack = rd_u32be(r);
        uint8_t off = rd_u8(r);
        pkt->tcp_flags = rd_u8(r);
        if (r->err) {
            d->st.truncated++;
            return DEC_MALFORMED;
        }
        size_t hl = (size_t)(off >> 4) * 4;
        if (hl < 20) {
            d->st.malformed_tcp++;
            return DEC_MALFORMED;
        }
        rd_skip(r, hl - 14);
        if (r->err) {
            d->st.truncated++;
            return DEC_MALFORMED;
        }
    } else if (proto == 17) {
        pkt->sport = rd_u16be(r);
        pkt->dport = rd_u16be(r);
        uint16_t ulen = rd_u16be(r);
        rd_skip(r, 2);
        if (r->err) {
            d->st.truncated++;
            return DEC_MALFORMED;
        }
        if (ulen >= 8 && (size_t)(ulen - 8) < rd_left(r))
            r->len = r->pos + (ulen - 8u); /* drop Ethernet padding */
        if (pkt->dport == VXLAN_PORT && depth < MAX_ENCAP_DEPTH) {
            /* VXLAN (RFC 7348 5): flags(1, I bit 0x08), reserved(3), VNI(3), reserved(1). */
            struct rd v = *r;
            uint8_t fl = rd_u8(&v);
            rd_skip(&v, 7);
            if (!v.err && (fl & 0x08)) {
                d->st.vxlan++;
                return decode_ether(d, &v, ts, pkt, depth + 1);
            }
        }
    } else {
        d->st.other_transport++;
        return DEC_SKIP;
    }
    pkt->payload = r->p + r->pos;
    pkt->paylen = (uint32_t)rd_left(r);
    return DEC_OK;
}

static void frag_expire(struct hs_decoder *d, time_t now)
{
    for (int i = 0; i < FRAG_MAX_DATAGRAMS; i++) {
        if (d->frags[i] && now - d->frags[i]->first_sec > FRAG_TIMEOUT_SEC) {
            free(d->frags[i]);
            d->frags[i] = NULL;
            d->st.ipv4_frag_dropped++;
        }
    }
}

/* Adds one fragment; returns the slot index when the datagram is complete, else -1. */
static int frag_add(struct hs_decoder *d, const uint8_t *iph, uint8_t proto, uint32_t off, bool mf,
                    const uint8_t *p, size_t n, const struct timeval *ts)
{
    uint16_t id = ld_u16be(iph + 4);
    int slot = -1, free_slot = -1, oldest = -1;
    frag_expire(d, ts->tv_sec);
    for (int i = 0; i < FRAG_MAX_DATAGRAMS; i++) {
        struct frag_dgram *f = d->frags[i];
        if (!f) {
            if (free_slot < 0)
                free_slot = i;
            continue;
        }
        if (f->id == id && f->proto == proto && !memcmp(f->src, iph + 12, 4) && !memcmp(f->dst, iph + 16, 4)) {
            slot = i;
            break;
        }
        if (oldest < 0 || f->first_sec < d->frags[oldest]->first_sec)
            oldest = i;
    }
    if (off + n > 65535 || (mf && (n % 8) != 0)) {
        d->st.malformed_ip++;
        return -1;
    }
    if (slot < 0) {
        if (free_slot < 0) { /* table full: the oldest datagram gives way (counted) */
            free(d->frags[oldest]);
            d->frags[oldest] = NULL;
            d->st.ipv4_frag_dropped++;
            free_slot = oldest;
        }
        struct frag_dgram *f = calloc(1, sizeof *f);
        if (!f)
            return -1;
        memcpy(f->src, iph + 12, 4);
        memcpy(f->dst, iph + 16, 4);
        f->id = id;
        f->proto = proto;
        f->first_sec = ts->tv_sec;
        d->frags[free_slot] = f;
        slot = free_slot;
    }
    struct frag_dgram *f = d->frags[slot];
    if (!mf) {
        if (f->total && f->total != off + n) {
            d->st.malformed_ip++;
            return -1;
        }
        f->total = (uint32_t)(off + n);
    } else if (f->total && off + n > f->total) { /* data past the end the last fragment set */
        d->st.malformed_ip++;
        return -1;
    }
    /* First copy wins for overlapping blocks. */
    for (size_t b = off / 8; b * 8 < off + n; b++) {
        if (f->blocks[b / 8] & (1u << (b % 8)))
            continue;
        size_t lo = b * 8, hi = lo + 8 > off + n ? off + n : lo + 8;
        memcpy(f->data + lo, p + (lo - off), hi - lo);
        f->blocks[b / 8] |= (uint8_t)(1u << (b % 8));
        f->have += (uint32_t)(hi - lo);
    }
    if (!f->total || f->have < f->total)
        return -1;
    /* Bytes counted may include some past the end that arrived before the last fragment: complete
     * only when every block up to the total is there. */
    for (size_t b = 0; b * 8 < f->total; b++)
        if (!(f->blocks[b / 8] & (1u << (b % 8))))
            return -1;
    return slot;
}

/* IPv4 (RFC 791 3.1) */
static enum decode_result decode_ipv4(struct hs_decoder *d, struct rd *r, const struct timeval *ts,
                                      struct hs_pkt *pkt, int depth)
{
    const uint8_t *iph = r->p + r->pos;
    if (rd_left(r) < 20) {
        d->st.truncated++;
        return DEC_MALFORMED;
    }
    size_t ihl = (size_t)(iph[0] & 0x0F) * 4;
    size_t tot = ld_u16be(iph + 2);
    if (tot == 0 && rd_left(r) > ihl) {
        /* Captured on the sending host with TCP segmentation offload: the stack left the length
         * for the NIC to fill in. The capture's length is the datagram's (as Wireshark assumes). */
        tot = rd_left(r);
        d->st.ipv4_tso++;
    }
    if (ihl < 20 || tot < ihl) {
        d->st.malformed_ip++;
        return DEC_MALFORMED;
    }
    if (rd_left(r) < ihl) {
        d->st.truncated++;
        return DEC_MALFORMED;
    }
    size_t avail = rd_left(r);
    size_t plen = (tot <= avail ? tot : avail) - ihl; /* a short capture keeps what it has */
    uint16_t fo = ld_u16be(iph + 6);
    uint8_t proto = iph[9];
    pkt->af = 4;
    memset(pkt->src, 0, 16);
    memset(pkt->dst, 0, 16);
    memcpy(pkt->src, iph + 12, 4);
    memcpy(pkt->dst, iph + 16, 4);
    struct rd pr = rd_make(iph + ihl, plen);
    if (fo & 0x3FFF) { /* MF set or offset non-zero */
        d->st.ipv4_fragments++;
        if (tot > avail) {
            d->st.truncated++;
            return DEC_MALFORMED;
        }
        int slot = frag_add(d, iph, proto, (uint32_t)(fo & 0x1FFF) * 8, (fo & 0x2000) != 0, iph + ihl, plen, ts);
        if (slot < 0)
            return DEC_SKIP;
        if (!d->reasm && !(d->reasm = malloc(65536)))
            return DEC_SKIP;
        struct frag_dgram *f = d->frags[slot];
        size_t total = f->total;
        memcpy(d->reasm, f->data, total);
        free(f);
        d->frags[slot] = NULL;
        d->st.ipv4_reassembled++;
        pr = rd_make(d->reasm, total);
    }
    if (proto == 4 || proto == 41) {
        if (depth >= MAX_ENCAP_DEPTH)
            return DEC_SKIP;
        d->st.ipip++;
        return decode_ip(d, &pr, ts, pkt, depth + 1);
    }
    if (proto == 47) {
        if (depth >= MAX_ENCAP_DEPTH)
            return DEC_SKIP;
        /* GRE (RFC 2784 2.1, RFC 2890 2): C R K S s Recur | Flags | Ver, Protocol Type. */
        uint16_t fl = rd_u16be(&pr);
        uint16_t type = rd_u16be(&pr);
        if (pr.err || (fl & 0x0007) != 0 || (fl & 0x4000)) {
            d->st.malformed_tunnel++;
            return DEC_MALFORMED;
        }
        if (fl & 0x8000)
            rd_skip(&pr, 4); /* checksum + reserved */
        if (fl & 0x2000)
            rd_skip(&pr, 4); /* key */
        if (fl & 0x1000)
            rd_skip(&pr, 4); /* sequence number */
        if (pr.err) {
            d->st.malformed_tunnel++;
            return DEC_MALFORMED;
        }
        d->st.gre++;
        if (type == ETHERTYPE_ERSPAN2) {
            d->st.erspan++;
            if (fl & 0x1000)
                rd_skip(&pr, 8); /* type II header; type I has none and no sequence number */
            return decode_ether(d, &pr, ts, pkt, depth + 1);
        }
        if (type == ETHERTYPE_ERSPAN3) {
            d->st.erspan++;
            const uint8_t *h = rd_bytes(&pr, 12);
            if (!h) {
                d->st.malformed_tunnel++;
                return DEC_MALFORMED;
            }
            if (h[11] & 0x01)
                rd_skip(&pr, 8); /* O bit: platform-specific subheader */
            return decode_ether(d, &pr, ts, pkt, depth + 1);
        }
        return decode_ethertype(d, type, &pr, ts, pkt, depth + 1);
    }
    return decode_transport(d, proto, &pr, ts, pkt, depth);
}

/* IPv6 (RFC 8200 3, 4): extension headers are walked to the upper-layer header. */
static enum decode_result decode_ipv6(struct hs_decoder *d, struct rd *r, const struct timeval *ts,
                                      struct hs_pkt *pkt, int depth)
{
    const uint8_t *h = rd_bytes(r, 40);
    if (!h) {
        d->st.truncated++;
        return DEC_MALFORMED;
    }
    uint16_t plen = ld_u16be(h + 4);
    uint8_t nh = h[6];
    pkt->af = 6;
    memcpy(pkt->src, h + 8, 16);
    memcpy(pkt->dst, h + 24, 16);
    struct rd pr = rd_make(r->p + r->pos, plen <= rd_left(r) ? plen : rd_left(r));
    for (int i = 0; i < 8; i++) {
        switch (nh) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60: {/* destination options */
            uint8_t next = rd_u8(&pr);
            uint8_t len = rd_u8(&pr);
            rd_skip(&pr, (size_t)len * 8 + 6);
            nh = next;
            break;
        }
        case 51: { /* AH (RFC 4302): length in 4-octet units minus 2 */
            uint8_t next = rd_u8(&pr);
            uint8_t len = rd_u8(&pr);
            rd_skip(&pr, ((size_t)len + 2) * 4 - 2);
            nh = next;
            break;
        }
        case 44: /* fragment: not reassembled for IPv6 (counted) */
            d->st.ipv6_fragments++;
            return DEC_SKIP;
        case 4:
        case 41:
            if (depth >= MAX_ENCAP_DEPTH)
                return DEC_SKIP;
            d->st.ipip++;
            return decode_ip(d, &pr, ts, pkt, depth + 1);
        default:
            if (pr.err) {
                d->st.truncated++;
                return DEC_MALFORMED;
            }
            return decode_transport(d, nh, &pr, ts, pkt, depth);
        }
        if (pr.err) {
            d->st.truncated++;
            return DEC_MALFORMED;
        }
    }
    d->st.malformed_ip++;
    return DEC_MALFORMED;
}

static enum decode_result decode_ip(struct hs_decoder *d, struct rd *r, const struct timeval *ts,
                                    struct hs_pkt *pkt, int depth)
{
    if (rd_left(r) < 1) {
        d->st.truncated++;
        return DEC_MALFORMED;
    }
    switch (r->p[r->pos] >> 4) {
    case 4: return decode_ipv4(d, r, ts, pkt, depth);
    case 6: return decode_ipv6(d, r, ts, pkt, depth);
    default:
        d->st.malformed_ip++;
        return DEC_MALFORMED;
    }
}

static enum decode_result decode_ethertype(struct hs_decoder *d, uint16_t type, struct rd *r,
                                           const struct timeval *ts, struct hs_pkt *pkt, int depth)
{
    for (int tags = 0; tags < 4 && (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD);
         tags++) {
        d->st.vlan++;
        rd_skip(r, 2); /* TCI */
        type = rd_u16be(r);
    }
    if (r->err) {
        d->st.truncated++;
        return DEC_MALFORMED;
    }
    switch (type) {
    case ETHERTYPE_IPV4: return decode_ipv4(d, r, ts, pkt, depth);
    case ETHERTYPE_IPV6: return decode_ipv6(d, r, ts, pkt, depth);
    case ETHERTYPE_TEB:
        if (depth >= MAX_ENCAP_DEPTH)
            return DEC_SKIP;
        return decode_ether(d, r, ts, pkt, depth + 1);
    default:
        d->st.non_ip++;
        return DEC_SKIP;
    }
}

/* Ethernet II / 802.3 (IEEE 802.3 3.1.1): dst(6) src(6) type-or-length(2). */
static enum decode_result decode_ether(struct hs_decoder *d, struct rd *r, const struct timeval *ts,
                                       struct hs_pkt *pkt, int depth)
{
    rd_skip(r, 12);
    uint16_t type = rd_u16be(r);
    if (r->err) {
        d->st.truncated++;
        return DEC_MALFORMED;
    }
    if (type < 0x0600) { /* 802.3 length: LLC (NetBEUI, STP, ...) */
        d->st.non_ip++;
        return DEC_SKIP;
    }
    return decode_ethertype(d, type, r, ts, pkt, depth);
}

enum decode_result decode_packet(struct hs_decoder *d, int dlt, const uint8_t *data, uint32_t caplen,
                                 const struct timeval *ts, struct hs_pkt *pkt)
{
    struct rd r = rd_make(data, caplen);
    pkt->payload = NULL;
    pkt->paylen = 0;
    pkt->tcp_flags = 0;
    pkt->seq = pkt->ack = 0;
    switch (dlt) {
    case DLT_EN10MB:
        return decode_ether(d, &r, ts, pkt, 0);
    case DLT_LINUX_SLL: {
        /* packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2) */
        rd_skip(&r, 14);
        uint16_t proto = rd_u16be(&r);
        if (r.err) {
            d->st.truncated++;
            return DEC_MALFORMED;
        }
        return decode_ethertype(d, proto, &r, ts, pkt, 0);
    }
    case DLT_LINUX_SLL2: {
        /* protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8) */
        uint16_t proto = rd_u16be(&r);
        rd_skip(&r, 18);
        if (r.err) {
            d->st.truncated++;
            return DEC_MALFORMED;
        }
        return decode_ethertype(d, proto, &r, ts, pkt, 0);
    }
    case DLT_NULL:
    case DLT_LOOP: {
        /* 4-byte address family: host order of the capturing machine (NULL), network order (LOOP). */
        const uint8_t *b = rd_bytes(&r, 4);
        if (!b) {
            d->st.truncated++;
            return DEC_MALFORMED;
        }
        uint32_t af = dlt == DLT_LOOP ? ld_u32be(b) : ld_u32le(b);
        if (dlt == DLT_NULL && af > 0xFFFF)
            af = ld_u32be(b);
        switch (af) {
        case 2: return decode_ipv4(d, &r, ts, pkt, 0);
        case 10: case 24: case 28: case 30: return decode_ipv6(d, &r, ts, pkt, 0);
        default:
            d->st.non_ip++;
            return DEC_SKIP;
        }
    }
    case DLT_IPV4:
        return decode_ipv4(d, &r, ts, pkt, 0);
    case DLT_IPV6:
        return decode_ipv6(d, &r, ts, pkt, 0);
    case DLT_RAW:
        return decode_ip(d, &r, ts, pkt, 0);
    default:
        d->st.malformed_link++;
        return DEC_MALFORMED;
    }
}

void decode_free(struct hs_decoder *d)
{
    for (int i = 0; i < FRAG_MAX_DATAGRAMS; i++) {
        free(d->frags[i]);
        d->frags[i] = NULL;
    }
    free(d->reasm);
    d->reasm = NULL;
}
