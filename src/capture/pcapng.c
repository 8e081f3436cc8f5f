/* pcapng reader -- draft-ietf-opsawg-pcapng 4 (block structure), 4.1 SHB, 4.2 IDB, 4.3 EPB, 4.4 SPB; OPB (obsolete). */
#include "pcapng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_OPB 0x00000002u /* the obsolete Packet Block */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_ENDOFOPT 0
#define IF_TSRESOL 9
#define IF_TSOFFSET 14
#define LINKTYPE_RAW 101

/*
 *  A block:  0                   1                   2                   3
 *            +---------------------------------------------------------------+
 *            |                          Block Type                           |
 *            |                      Block Total Length                       |
 *            /                          Block Body                           /  (padded to 32 bits)
 *            |                      Block Total Length                       |
 *            +---------------------------------------------------------------+
 */

bool pcapng_is(const uint8_t *m, size_t n)
{
    return n >= 4 && ld_u32le(m) == BT_SHB;
}

static uint32_t u32(const struct pcapng *g, const uint8_t *p)
{
    return g->be ? ld_u32be(p) : ld_u32le(p);
}

static uint16_t u16(const struct pcapng *g, const uint8_t *p)
{
    return g->be ? ld_u16be(p) : ld_u16le(p);
}

static int fail(struct pcapng *g, const char *what)
{
    snprintf(g->err, sizeof g->err, "%s", what);
    return -1;
}

/* Reads one block: *type, and its body (between the length fields) into g->buf, *len bytes. Returns 1, 0 at
 * the end of the file before a block, -1 when damaged. An SHB sets the byte order before its length is read. */
static int read_block(struct pcapng *g, uint32_t *type, uint32_t *len)
{
    uint8_t hdr[12];
    size_t got = fread(hdr, 1, 8, g->f);
    if (got == 0)
        return ferror(g->f) ? fail(g, "read error") : 0;
    if (got < 8)
        return fail(g, "truncated block header");
    if (ld_u32le(hdr) == BT_SHB) {
        /* The byte-order magic follows the length: read it to know how to read the length. */
        if (fread(hdr + 8, 1, 4, g->f) != 4)
            return fail(g, "truncated section header");
        uint32_t bom = ld_u32le(hdr + 8);
        if (bom == BYTE_ORDER_MAGIC)
            g->be = false;
        else if (bom == 0x4D3C2B1Au)
            g->be = true;
        else
            return fail(g, "bad byte-order magic in a section header");
    }
    *type = u32(g, hdr);
    uint32_t total = u32(g, hdr + 4);
    if (total < 12 || total % 4 || total > PCAPNG_MAX_BLOCK)
        return fail(g, "bad block length");
    uint32_t body = total - 12;
    if (body > g->cap) {
        uint32_t cap = g->cap ? g->cap : 4096;
        while (cap < body)
            cap *= 2;
        uint8_t *b = realloc(g->buf, cap);
        if (!b)
            return fail(g, "out of memory");
        g->buf = b;
        g->cap = cap;
    }
    uint32_t have = 0;
    if (*type == BT_SHB) {
        if (body < 4 || !g->buf)
            return fail(g, "bad section header length");
        memcpy(g->buf, hdr + 8, 4); /* the byte-order magic is the body's first field */
        have = 4;
    }
    uint8_t trailer[4];
    /* an empty body (no buffer yet) reads nothing: no pointer arithmetic on NULL */
    if ((body > have && fread(g->buf + have, 1, body - have, g->f) != body - have) || fread(trailer, 1, 4, g->f) != 4)
        return fail(g, "truncated block");
    if (u32(g, trailer) != total)
        return fail(g, "block lengths disagree");
    *len = body;
    return 1;
}

/* SHB body: byte-order magic, major u16, minor u16, section length u64, options. */
static int on_shb(struct pcapng *g, const uint8_t *b, uint32_t n)
{
    if (n < 16)
        return fail(g, "short section header");
    if (u16(g, b + 4) != 1)
        return fail(g, "unsupported pcapng major version");
    g->nif = 0; /* interface ids are per section */
    return 0;
}

/* IDB body: LinkType u16, reserved u16, SnapLen u32, options (code u16, length u16, value padded to 32 bits). */
static int on_idb(struct pcapng *g, const uint8_t *b, uint32_t n)
{
    if (n < 8)
        return fail(g, "short interface description");
    if (g->nif >= PCAPNG_MAX_IFACES) {
        g->nif++; /* counted: its packets will name an interface not kept */
        return 0;
    }
    struct pcapng_iface *i = &g->ifs[g->nif++];
    memset(i, 0, sizeof *i);
    i->dlt = u16(g, b);
    if (i->dlt == LINKTYPE_RAW)
        i->dlt = DLT_RAW; /* the one LINKTYPE_ value hopscope decodes that differs from its DLT_ (as libpcap maps it) */
    i->snaplen = u32(g, b + 4);
    i->res = 6;
    uint32_t off = 8;
    while (off + 4 <= n) {
        uint16_t code = u16(g, b + off), olen = u16(g, b + off + 2);
        off += 4;
        if (code == OPT_ENDOFOPT || !range_ok(n, off, olen))
            break;
        if (code == IF_TSRESOL && olen >= 1) {
            i->res_pow2 = (b[off] & 0x80) != 0;
            i->res = b[off] & 0x7f;
        } else if (code == IF_TSOFFSET && olen >= 8) {
            uint64_t v = g->be ? ((uint64_t)ld_u32be(b + off) << 32) | ld_u32be(b + off + 4)
                               : ((uint64_t)ld_u32le(b + off + 4) << 32) | ld_u32le(b + off);
            i->tsoffset = (int64_t)v;
        }
        off += (olen + 3u) & ~3u;
    }
    /* Beyond what a 64-bit count of units can express in microseconds: taken as microseconds. */
    if ((i->res_pow2 && i->res > 43) || (!i->res_pow2 && i->res > 19))
        i->res = 6, i->res_pow2 = false;
    return 0;
}

static void to_timeval(const struct pcapng_iface *i, uint64_t units, struct timeval *tv)
{
    uint64_t sec, usec;
    if (i->res_pow2) {
        sec = units >> i->res;
        uint64_t frac = units & ((1ull << i->res) - 1);
        usec = (frac * 1000000ull) >> i->res;
    } else {
        uint64_t div = 1;
        for (int k = 0; k < i->res; k++)
            div *= 10;
        sec = units / div;
        uint64_t frac = units % div;
        if (i->res >= 6) {
            uint64_t d = 1;
            for (int k = 6; k < i->res; k++)
                d *= 10;
            usec = frac / d;
        } else {
            uint64_t m = 1;
            for (int k = i->res; k < 6; k++)
                m *= 10;
            usec = frac * m;
        }
    }
    tv->tv_sec = (time_t)(sec + (uint64_t)i->tsoffset); /* unsigned: a hostile offset wraps, never overflows */
    tv->tv_usec = (suseconds_t)usec;
}

int pcapng_open(struct pcapng *g, FILE *f, int *first_dlt)
{
    memset(g, 0, sizeof *g);
    g->f = f;
    *first_dlt = -1;
    uint32_t type, len;
    int rc = read_block(g, &type, &len);
    if (rc <= 0)
        return rc < 0 ? -1 : fail(g, "empty file");
    if (type != BT_SHB)
        return fail(g, "not a pcapng file");
    if (on_shb(g, g->buf, len) != 0)
        return -1;
    /* The first interface's link type, as libpcap reports one for the file. Blocks before it (name
     * resolution, decryption secrets) are read here and not needed again; the packets come after. */
    while ((rc = read_block(g, &type, &len)) == 1) {
        if (type == BT_IDB) {
            if (on_idb(g, g->buf, len) != 0)
                return -1;
            *first_dlt = g->ifs[0].dlt;
            return 0;
        }
        if (type == BT_SHB && on_shb(g, g->buf, len) != 0)
            return -1;
        if (type == BT_EPB || type == BT_SPB || type == BT_OPB)
            return fail(g, "a packet before any interface description");
    }
    return rc < 0 ? -1 : 0;
}

int pcapng_next(struct pcapng *g, int *dlt, struct pcap_pkthdr *h, const uint8_t **data)
{
    for (;;) {
        uint32_t type, len;
        int rc = read_block(g, &type, &len);
        if (rc <= 0)
            return rc;
        const uint8_t *b = g->buf;
        uint32_t ifid, caplen, origlen, hdrlen;
        uint64_t units = 0;
        switch (type) {
        case BT_SHB:
            if (on_shb(g, b, len) != 0)
                return -1;
            continue;
        case BT_IDB:
            if (on_idb(g, b, len) != 0)
                return -1;
            continue;
        case BT_EPB: /* Interface ID u32, Timestamp (High) u32, (Low) u32, Captured Len u32, Original Len u32 */
            if (len < 20)
                return fail(g, "short enhanced packet block");
            ifid = u32(g, b);
            units = ((uint64_t)u32(g, b + 4) << 32) | u32(g, b + 8);
            caplen = u32(g, b + 12);
            origlen = u32(g, b + 16);
            hdrlen = 20;
            break;
        case BT_OPB: /* Interface ID u16, Drops Count u16, Timestamp (High, Low), Captured Len, Packet Len */
            if (len < 20)
                return fail(g, "short packet block");
            ifid = u16(g, b);
            units = ((uint64_t)u32(g, b + 4) << 32) | u32(g, b + 8);
            caplen = u32(g, b + 12);
            origlen = u32(g, b + 16);
            hdrlen = 20;
            break;
        case BT_SPB: /* Original Packet Length u32; the data is what the block holds, up to the snaplen */
            if (len < 4)
                return fail(g, "short simple packet block");
            ifid = 0;
            origlen = u32(g, b);
            caplen = origlen;
            if (g->nif && g->ifs[0].snaplen && caplen > g->ifs[0].snaplen)
                caplen = g->ifs[0].snaplen;
            if (caplen > len - 4)
                caplen = len - 4;
            hdrlen = 4;
            break;
        default:
            continue; /* name resolution, statistics, secrets, custom blocks */
        }
        if (!range_ok(len, hdrlen, caplen))
            return fail(g, "packet data longer than its block");
        if (ifid >= g->nif || ifid >= PCAPNG_MAX_IFACES) {
            g->bad_iface++;
            continue;
        }
        const struct pcapng_iface *i = &g->ifs[ifid];
        *dlt = i->dlt;
        to_timeval(i, units, &h->ts);
        h->caplen = caplen > PCAPNG_MAX_SNAP ? PCAPNG_MAX_SNAP : caplen;
        h->len = origlen;
        *data = b + hdrlen;
        return 1;
    }
}

void pcapng_free(struct pcapng *g)
{
    free(g->buf);
    g->buf = NULL;
    g->cap = 0;
}
