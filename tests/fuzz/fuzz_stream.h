/*
 * The whole engine on one fake TCP connection (shared by fuzz_stream_smb.c, fuzz_stream_http.c and
 * fuzz_stream_ldap.c): frames are built around the fuzz input's segments and fed to engine_packet() as
 * DLT_EN10MB, so decode, flow tracking, reassembly, NBSS/SMB2, HTTP or LDAP, SPNEGO, NTLMSSP and the output
 * writer all run together.
 *
 * Input format
 *   byte 0      configuration bits
 *                 0x01  text output instead of JSON
 *                 0x02  no handshake: the connection is picked up mid-stream (probe/resync paths)
 *                 0x04  IPv6 instead of IPv4
 *                 0x08  tight limits (small PDU, out-of-order, record and use caps)
 *                 0x40  streaming (--stream: records at their verdict, uses as answered)
 *   then segments, until the input ends:
 *     u16 BE    bit 15   direction: 0 client→server, 1 server→client
 *               bit 14   an op byte follows
 *               bits 0-13 payload length L (cut to the bytes left)
 *     [u8 op]   bits 0-1 placement: 0 in order; 1 k bytes ahead of the expected sequence number
 *                        (queued out of order; later segments fill the hole); 2 starting k bytes
 *                        before it (overlap / retransmission); 3 after a hole of k lost bytes
 *               bit 2    FIN on this segment
 *               bits 3-7 j: k = j + 1 for j < 16 (1..16), else 2^(j-11) (32..1 MiB)
 *     L bytes   payload
 *   Every segment carries ACK for what the other direction sent so far. After the last segment
 *   both sides send FIN, then engine_finish() and engine_free() run.
 * tests/fuzz/tools/make_seeds.py writes real sessions in this format.
 */
#ifndef HOPSCOPE_FUZZ_STREAM_H
#define HOPSCOPE_FUZZ_STREAM_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include <pcap/dlt.h>

#include "correlate.h"
#include "engine.h"
#include "fuzz.h"
#include "writer.h"

/*
 * strtoull() as the C library defines it, but compiled here (instrumented): the dissectors run it on
 * bytes from the wire, and the C library's own copy is not instrumented, so ASan would not see it
 * read past the end of a buffer (glibc's strtoull has no ASan interceptor). Being defined in the
 * executable, it takes the place of the C library's for the whole program.
 */
unsigned long long strtoull(const char *restrict s, char **restrict endp, int base)
{
    const char *p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    bool hexpfx = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if ((base == 0 || base == 16) && hexpfx) {
        char d = p[2];
        if ((d >= '0' && d <= '9') || (d >= 'a' && d <= 'f') || (d >= 'A' && d <= 'F')) {
            p += 2;
            base = 16;
        }
    }
    if (base == 0)
        base = p[0] == '0' ? 8 : 10;
    if (base < 2 || base > 36) {
        errno = EINVAL;
        if (endp)
            *endp = (char *)s;
        return 0;
    }
    unsigned long long v = 0;
    bool any = false, over = false;
    for (;; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'z')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'Z')
            d = *p - 'A' + 10;
        else
            break;
        if (d >= base)
            break;
        any = true;
        if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
            over = true;
        else
            v = v * (unsigned)base + (unsigned)d;
    }
    if (endp)
        *endp = (char *)(any ? p : s);
    if (!any)
        return 0;
    if (over) {
        errno = ERANGE;
        return ULLONG_MAX;
    }
    return neg ? -v : v;
}

#define FS_MAX_SEG 16383u
#define FS_FRAME_MAX (14 + 40 + 20 + FS_MAX_SEG)

struct fs_conn {
    struct hs_engine *e;
    bool v6;
    uint16_t cport, sport;
    uint32_t next[2]; /* next sequence number to send, per direction */
    uint64_t frame;
    struct timeval ts;
    uint8_t buf[FS_FRAME_MAX];
};

static FILE *fs_out_file(void)
{
    static FILE *f;
    if (!f) {
        /* HOPSCOPE_FUZZ_STDOUT=1 shows the records (to check what a seed exercises). */
        const char *s = getenv("HOPSCOPE_FUZZ_STDOUT");
        f = s && *s == '1' ? stdout : fopen("/dev/null", "w");
        if (!f)
            abort();
    }
    return f;
}

static void fs_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void fs_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Sends one segment in direction dir (0 client→server) at sequence number seq. */
static void fs_send(struct fs_conn *c, int dir, uint8_t flags, uint32_t seq, const uint8_t *pl, size_t n)
{
    uint8_t *b = c->buf;
    size_t ip_len = c->v6 ? 40 : 20;
    static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 1}, mac_s[6] = {0x02, 0, 0, 0, 0, 2};
    memcpy(b, dir ? mac_c : mac_s, 6);
    memcpy(b + 6, dir ? mac_s : mac_c, 6);
    fs_put16(b + 12, c->v6 ? 0x86DD : 0x0800);
    uint8_t *ip = b + 14;
    uint8_t cli[16] = {0}, srv[16] = {0};
    if (c->v6) {
        static const uint8_t pfx[8] = {0xfd, 0x00, 0xde, 0xad, 0, 0, 0, 0};
        memcpy(cli, pfx, 8);
        memcpy(srv, pfx, 8);
        cli[15] = 0x30;
        srv[15] = 0x10;
        memset(ip, 0, 40);
        ip[0] = 0x60;
        fs_put16(ip + 4, (uint16_t)(20 + n));
        ip[6] = 6;
        ip[7] = 64;
        memcpy(ip + 8, dir ? srv : cli, 16);
        memcpy(ip + 24, dir ? cli : srv, 16);
    } else {
        static const uint8_t c4[4] = {10, 201, 1, 30}, s4[4] = {10, 201, 1, 10};
        memset(ip, 0, 20);
        ip[0] = 0x45;
        fs_put16(ip + 2, (uint16_t)(20 + 20 + n));
        fs_put16(ip + 4, (uint16_t)c->frame);
        ip[6] = 0x40; /* DF */
        ip[8] = 64;
        ip[9] = 6;
        memcpy(ip + 12, dir ? s4 : c4, 4);
        memcpy(ip + 16, dir ? c4 : s4, 4);
    }
    uint8_t *th = ip + ip_len;
    memset(th, 0, 20);
    fs_put16(th, dir ? c->sport : c->cport);
    fs_put16(th + 2, dir ? c->cport : c->sport);
    fs_put32(th + 4, seq);
    fs_put32(th + 8, (flags & TH_ACK) ? c->next[!dir] : 0);
    th[12] = 0x50;
    th[13] = flags;
    fs_put16(th + 14, 65535);
    if (n)
        memcpy(th + 20, pl, n);
    size_t len = 14 + ip_len + 20 + n;
    c->frame++;
    c->ts.tv_usec += 1000;
    if (c->ts.tv_usec >= 1000000) {
        c->ts.tv_sec++;
        c->ts.tv_usec -= 1000000;
    }
    /* An exact-size heap copy, as libpcap hands out a frame: ASan then sees a read past its end
     * (the static build buffer would hide it). */
    uint8_t *frame = malloc(len);
    if (!frame)
        return;
    memcpy(frame, b, len);
    engine_packet(c->e, DLT_EN10MB, c->frame, &c->ts, frame, (uint32_t)len);
    free(frame);
}

static uint32_t fs_k(uint8_t op)
{
    unsigned j = op >> 3;
    return j < 16 ? j + 1 : 1u << (j - 11);
}

static int fs_run(const uint8_t *data, size_t size, uint16_t server_port)
{
    static struct fs_conn conn;
    struct fs_conn *c = &conn;
    if (size < 1)
        return 0;
    uint8_t cfg = data[0];
    data++;
    size--;

    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.max_flows = 64; /* one connection here; keeps the flow table at its minimum size */
    if (cfg & 0x08) {
        lim.max_ooo_bytes = 4096;
        lim.max_ooo_total = 8192;
        lim.max_pdu = 2048;
        lim.max_records_per_conn = 2;
        lim.max_uses_per_record = 2;
    }
    FILE *outf = fs_out_file();
    struct hs_writer *w = writer_new((cfg & 0x01) ? OUTPUT_TEXT : OUTPUT_JSON, outf);
    struct hs_correlate *corr = w ? correlate_new(writer_sink(w)) : NULL;
    struct hs_engine *e = corr ? malloc(sizeof *e) : NULL;
    if (!e || engine_init(e, &lim, &corr->sink) != 0) {
        free(e);
        correlate_free(corr);
        writer_free(w);
        return 0;
    }
    if (cfg & 0x40) { /* streaming: records at their verdict, uses as answered (docs/RECORDS.md) */
        e->recs.stream = true;
        corr->stream = true;
        writer_stream(w);
    }
    memset(c, 0, offsetof(struct fs_conn, buf));
    c->e = e;
    c->v6 = (cfg & 0x04) != 0;
    c->cport = 49778;
    c->sport = server_port;
    c->ts.tv_sec = 1700000000;
    /* Client ISN just below the wrap so sequence arithmetic crosses 2^32 early. */
    c->next[0] = 0xFFFFFC00u;
    c->next[1] = 0x10000000u;

    if (!(cfg & 0x02)) {
        fs_send(c, 0, TH_SYN, c->next[0]++, NULL, 0);
        fs_send(c, 1, TH_SYN | TH_ACK, c->next[1]++, NULL, 0);
        fs_send(c, 0, TH_ACK, c->next[0], NULL, 0);
    }
    while (size >= 2) {
        uint16_t h = (uint16_t)(data[0] << 8 | data[1]);
        data += 2;
        size -= 2;
        int dir = h >> 15;
        uint8_t op = 0;
        if (h & 0x4000) {
            if (size < 1)
                break;
            op = data[0];
            data++;
            size--;
        }
        size_t n = h & 0x3FFF;
        if (n > size)
            n = size;
        uint32_t k = fs_k(op);
        uint32_t seq = c->next[dir];
        switch (op & 3) {
        case 0:
            c->next[dir] += (uint32_t)n;
            break;
        case 1: /* ahead: queued; the expected sequence number stays */
            seq += k;
            break;
        case 2: /* overlap */
            seq -= k;
            if ((int32_t)(seq + (uint32_t)n - c->next[dir]) > 0)
                c->next[dir] = seq + (uint32_t)n;
            break;
        case 3: /* after a hole */
            seq += k;
            c->next[dir] = seq + (uint32_t)n;
            break;
        }
        uint8_t flags = TH_ACK | (n ? TH_PSH : 0) | ((op & 4) ? TH_FIN : 0);
        fs_send(c, dir, flags, seq, data, n);
        if (op & 4)
            c->next[dir]++;
        data += n;
        size -= n;
    }
    fs_send(c, 0, TH_FIN | TH_ACK, c->next[0]++, NULL, 0);
    fs_send(c, 1, TH_FIN | TH_ACK, c->next[1]++, NULL, 0);

    engine_finish(e);
    engine_free(e);
    free(e);
    correlate_free(corr);
    writer_free(w);
    fflush(outf);
    return 0;
}

#endif
