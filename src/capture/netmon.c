/* Microsoft Network Monitor 2.x capture files — the format documented in Network Monitor 3.x's help. */
#include "netmon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <pcap/dlt.h>

#include "reader.h"

#define NETMON_HDR_LEN 72
#define NETMON_REC_LEN 16
#define NETMON_NET_ETHERNET 1
#define NETMON_NET_EVENT 0xFFE0 /* an ETW event record (netsh trace / Message Analyzer conversions) */
#define ETW_EVENT_HEADER_LEN 80
#define NDIS_PACKET_FRAGMENT_EVENT 1001
#define NDIS_KEYWORD_ETHERNET 0x1u

/* Microsoft-Windows-NDIS-PacketCapture {2ed6006e-4729-4609-b423-3ee7bcd678ef}, as laid out on the wire. */
static const uint8_t ndis_packetcapture_guid[16] = {0x6e, 0x00, 0xd6, 0x2e, 0x29, 0x47, 0x09, 0x46,
                                                    0xb4, 0x23, 0x3e, 0xe7, 0xbc, 0xd6, 0x78, 0xef};

/*
 * The packet inside an NDIS-PacketCapture event: EVENT_HEADER (Size u16, HeaderType u16, Flags u16,
 * EventProperty u16, ThreadId u32, ProcessId u32, TimeStamp u64, ProviderId GUID, EventDescriptor {Id u16,
 * Version u8, Channel u8, Level u8, Opcode u8, Task u16, Keyword u64}, ProcessorTime u64, ActivityId GUID),
 * ETW_BUFFER_CONTEXT (4), ExtendedDataCount u16, UserDataLength u16, NetMon's "reassembled" byte, then the
 * user data (UserDataLength bytes): MiniportIfIndex u32,
 * LowerIfIndex u32, FragmentSize u32, Fragment. True with an Ethernet fragment in *data, of *len bytes.
 */
static bool ndis_event_packet(const uint8_t *p, size_t n, const uint8_t **data, uint32_t *len)
{
    struct rd r = rd_make(p, n);
    rd_skip(&r, 24);
    const uint8_t *guid = rd_bytes(&r, 16);
    uint16_t id = rd_u16le(&r);
    rd_skip(&r, 6);
    uint64_t keyword = rd_u64le(&r);
    rd_skip(&r, 8 + 16 + 4);
    uint16_t ext = rd_u16le(&r);
    uint16_t ulen = rd_u16le(&r);
    rd_skip(&r, 1);
    if (r.err || memcmp(guid, ndis_packetcapture_guid, 16) != 0 || id != NDIS_PACKET_FRAGMENT_EVENT || ext != 0 ||
        !(keyword & NDIS_KEYWORD_ETHERNET))
        return false;
    struct rd u = rd_sub(&r, ulen);
    rd_skip(&u, 8);
    uint32_t frag = rd_u32le(&u);
    const uint8_t *f = rd_bytes(&u, frag);
    if (!f)
        return false;
    *data = f;
    *len = frag;
    return true;
}
/* Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01. */
#define FILETIME_UNIX_DELTA 11644473600ULL

bool netmon_is(const char *path)
{
    uint8_t sig[4];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool yes = fread(sig, 1, 4, f) == 4 && memcmp(sig, "GMBU", 4) == 0;
    fclose(f);
    return yes;
}

static int fail(struct netmon *n, const char *what)
{
    snprintf(n->err, sizeof n->err, "%s", what);
    return -1;
}

/* SYSTEMTIME (year, month, day-of-week, day, hour, minute, second, millisecond; u16 each) as UTC. */
static void systemtime(const uint8_t *p, struct timeval *tv)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = ld_u16le(p) - 1900;
    tm.tm_mon = ld_u16le(p + 2) - 1;
    tm.tm_mday = ld_u16le(p + 6);
    tm.tm_hour = ld_u16le(p + 8);
    tm.tm_min = ld_u16le(p + 10);
    tm.tm_sec = ld_u16le(p + 12);
    tv->tv_sec = timegm(&tm);
    tv->tv_usec = (suseconds_t)(ld_u16le(p + 14) % 1000) * 1000;
}

int netmon_open(struct netmon *n, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(n, 0, sizeof *n);
        snprintf(n->err, sizeof n->err, "%s", strerror(errno));
        return -1;
    }
    return netmon_fopen(n, f);
}

int netmon_fopen(struct netmon *n, FILE *f)
{
    memset(n, 0, sizeof *n);
    uint8_t h[NETMON_HDR_LEN];
    struct stat st;
    n->f = f;
    if (fseek(n->f, 0, SEEK_SET) != 0)
        return fail(n, "not a seekable file");
    if (fstat(fileno(n->f), &st) != 0 || fread(h, 1, sizeof h, n->f) != sizeof h)
        return fail(n, "truncated Network Monitor header");
    if (memcmp(h, "GMBU", 4) != 0)
        return fail(n, "not a Network Monitor 2.x file");
    n->size = (uint64_t)st.st_size;
    n->ver_minor = h[4];
    n->ver_major = h[5];
    n->network = ld_u16le(h + 6);
    if (n->ver_major != 2)
        return fail(n, "unsupported Network Monitor version");
    systemtime(h + 8, &n->start);
    uint32_t ft_off = ld_u32le(h + 24), ft_len = ld_u32le(h + 28);
    if (ft_len % 4 || !range_ok(n->size, ft_off, ft_len))
        return fail(n, "frame table outside the file");
    n->nframes = ft_len / 4;
    n->offsets = malloc(ft_len ? ft_len : 1);
    n->buf = malloc(NETMON_MAX_FRAME);
    if (!n->offsets || !n->buf)
        return fail(n, "out of memory");
    uint8_t *raw = (uint8_t *)n->offsets;
    if (fseek(n->f, (long)ft_off, SEEK_SET) != 0 || fread(raw, 1, ft_len, n->f) != ft_len)
        return fail(n, "cannot read the frame table");
    for (uint32_t i = 0; i < n->nframes; i++)
        n->offsets[i] = ld_u32le(raw + 4 * i);
    return 0;
}

int netmon_next(struct netmon *n, int *dlt, struct timeval *ts, const uint8_t **data, uint32_t *caplen,
                uint32_t *wirelen)
{
    if (n->next >= n->nframes)
        return 0;
    uint32_t off = n->offsets[n->next++];
    uint8_t rh[NETMON_REC_LEN];
    if (!range_ok(n->size, off, NETMON_REC_LEN) || fseek(n->f, (long)off, SEEK_SET) != 0 ||
        fread(rh, 1, sizeof rh, n->f) != sizeof rh) {
        snprintf(n->err, sizeof n->err, "frame %u: record header outside the file", n->next);
        return -1;
    }
    uint64_t delta = (uint64_t)ld_u32le(rh) | (uint64_t)ld_u32le(rh + 4) << 32;
    *wirelen = ld_u32le(rh + 8);
    *caplen = ld_u32le(rh + 12);
    if (*caplen > NETMON_MAX_FRAME || !range_ok(n->size, (uint64_t)off + NETMON_REC_LEN, *caplen) ||
        fread(n->buf, 1, *caplen, n->f) != *caplen) {
        snprintf(n->err, sizeof n->err, "frame %u: %u captured bytes past the end of the file", n->next, *caplen);
        return -1;
    }
    *data = n->buf;
    ts->tv_sec = n->start.tv_sec + (time_t)(delta / 1000000);
    ts->tv_usec = n->start.tv_usec + (suseconds_t)(delta % 1000000);
    if (ts->tv_usec >= 1000000) {
        ts->tv_sec++;
        ts->tv_usec -= 1000000;
    }
    uint16_t network = n->network;
    if (n->ver_minor >= 1) {
        /* Trailer after the data: network u16, process info index u32, [2.2+] UTC FILETIME u64. */
        uint8_t tr[14];
        size_t want = n->ver_minor >= 2 ? 14 : 6;
        if (fread(tr, 1, want, n->f) == want) {
            network = ld_u16le(tr);
            if (want == 14) {
                uint64_t ft = (uint64_t)ld_u32le(tr + 6) | (uint64_t)ld_u32le(tr + 10) << 32;
                uint64_t us = ft / 10;
                if (us / 1000000 > FILETIME_UNIX_DELTA) {
                    ts->tv_sec = (time_t)(us / 1000000 - FILETIME_UNIX_DELTA);
                    ts->tv_usec = (suseconds_t)(us % 1000000);
                }
            }
        }
    }
    *dlt = -1;
    if (network == NETMON_NET_ETHERNET) {
        *dlt = DLT_EN10MB;
    } else if (network == NETMON_NET_EVENT && ndis_event_packet(n->buf, *caplen, data, caplen)) {
        *dlt = DLT_EN10MB;
        *wirelen = *caplen;
    }
    return 1;
}

void netmon_close(struct netmon *n)
{
    if (n->f)
        fclose(n->f);
    free(n->offsets);
    free(n->buf);
    memset(n, 0, sizeof *n);
}
