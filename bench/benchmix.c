/* benchmix: build a large benchmark capture that looks like a span port in a Windows domain.
 *
 *   benchmix [-d SESSIONS_PER_MB] [-t US_PER_PACKET] OUT.pcap TARGET_MB AUTH.pcap [AUTH.pcap ...]
 *
 * The project's copy of ../shared/bench/benchmix.c with one option added: -d sets the authentication
 * density, in replayed auth captures ("sessions") per MB of output (default: as many as make ~5% of the
 * bytes, the shared generator's mix; -d 0: bulk only). Cost per byte and cost per authentication are then
 * measured apart (bench/run.sh). -t sets the time between packets, in µs (default 3): -t 2000 spreads a
 * 256 MB capture over an hour, as a span port sees it, so that what a run keeps for a time window (the
 * correlation stage's summaries while streaming) can be seen to stay flat.
 *
 * The auth captures (Ethernet/IPv4 only; other packets are skipped) are replayed as many times as
 * fit, each copy with its own addresses (198.18.0.0/15) and ports, 64 copies interleaved at a time,
 * between long-lived bulk flows that carry ~95% of the bytes: SMB2 READ responses on 445, WinRM
 * multipart/encrypted POSTs on 5985, TLS application data on 443. Every bulk flow is valid TCP
 * (handshake, in-order sequence numbers) with valid NBSS/SMB2 and HTTP framing, so an analyzer has
 * to follow the framing to skip it. Deterministic: the same inputs give the same bytes. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

typedef struct { uint32_t len; uint8_t *data; uint32_t dt_us; } pkt_t;
typedef struct { pkt_t *p; size_t n; } trace_t;

static pcap_dumper_t *out;
static pcap_t *dead;
static uint64_t now_us = 1700000000ull * 1000000ull, written, step_us = 3;
static uint32_t rng = 12345;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

static void emit(const uint8_t *d, uint32_t len) {
    struct pcap_pkthdr h;
    now_us += step_us;
    h.ts.tv_sec = now_us / 1000000; h.ts.tv_usec = now_us % 1000000;
    h.caplen = h.len = len;
    pcap_dump((u_char *)out, &h, d);
    written += len + 16;
}

static uint16_t ipsum(const uint8_t *ip) {
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2) if (i != 10) s += (ip[i] << 8) | ip[i + 1];
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* ---- bulk TCP flows ---- */
typedef struct { uint32_t cip, sip; uint16_t cport, sport; uint32_t cseq, sseq; int kind; int started; } flow_t;

static void tcp_pkt(flow_t *f, int from_server, uint8_t flags, const uint8_t *pl, uint32_t plen) {
    static uint8_t b[65536];
    uint8_t *e = b, *ip = b + 14, *tcp = b + 34;
    memset(b, 0, 54);
    e[0] = 0x02; e[5] = from_server ? 1 : 2; e[6] = 0x02; e[11] = from_server ? 2 : 1; e[12] = 0x08;
    ip[0] = 0x45; uint16_t tl = htons(40 + plen); memcpy(ip + 2, &tl, 2); ip[8] = 64; ip[9] = 6;
    uint32_t s = htonl(from_server ? f->sip : f->cip), d = htonl(from_server ? f->cip : f->sip);
    memcpy(ip + 12, &s, 4); memcpy(ip + 16, &d, 4);
    uint16_t cs = htons(ipsum(ip)); memcpy(ip + 10, &cs, 2);
    uint16_t sp = htons(from_server ? f->sport : f->cport), dp = htons(from_server ? f->cport : f->sport);
    memcpy(tcp, &sp, 2); memcpy(tcp + 2, &dp, 2);
    uint32_t seq = htonl(from_server ? f->sseq : f->cseq), ack = htonl(from_server ? f->cseq : f->sseq);
    memcpy(tcp + 4, &seq, 4); memcpy(tcp + 8, &ack, 4);
    tcp[12] = 0x50; tcp[13] = flags; tcp[14] = 0xff; tcp[15] = 0xff;
    memcpy(b + 54, pl, plen);
    emit(b, 54 + plen);
    uint32_t adv = plen + ((flags & 0x03) ? 1 : 0);
    if (from_server) f->sseq += adv; else f->cseq += adv;
}

static void stream(flow_t *f, int from_server, const uint8_t *d, uint32_t n) {
    while (n) { uint32_t c = n > 1448 ? 1448 : n; tcp_pkt(f, from_server, 0x18, d, c); d += c; n -= c; }
}

static uint8_t junk[70000];

static void bulk_step(flow_t *f) {
    static uint8_t m[70000];
    if (!f->started) {
        tcp_pkt(f, 0, 0x02, NULL, 0); tcp_pkt(f, 1, 0x12, NULL, 0); tcp_pkt(f, 0, 0x10, NULL, 0);
        f->started = 1;
    }
    if (f->kind == 0) { /* SMB2 READ request + 64 KiB READ response */
        uint32_t dlen = 65536, n;
        memset(m, 0, 4 + 64 + 49);
        n = 64 + 49; m[1] = 0; m[2] = n >> 8; m[3] = n & 0xff;
        memcpy(m + 4, "\xfeSMB", 4); m[8] = 64; m[16] = 8; m[4 + 64] = 49; m[4 + 64 + 4] = 0; m[4 + 64 + 5] = 0; m[4 + 64 + 6] = 1;
        stream(f, 0, m, 4 + n);
        n = 64 + 16 + dlen;
        memset(m, 0, 4 + 80);
        m[1] = n >> 16; m[2] = (n >> 8) & 0xff; m[3] = n & 0xff;
        memcpy(m + 4, "\xfeSMB", 4); m[8] = 64; m[16] = 8; m[20] = 1; /* flags: response */
        m[4 + 64] = 17; m[4 + 64 + 2] = 0x50; memcpy(m + 4 + 64 + 4, &dlen, 4);
        memcpy(m + 4 + 80, junk + (rnd() & 1023), dlen);
        stream(f, 1, m, 4 + n);
    } else if (f->kind == 1) { /* WinRM encrypted POST + response */
        uint32_t blen = 30000 + (rnd() & 8191);
        int h = snprintf((char *)m, 400, "POST /wsman HTTP/1.1\r\nHost: node:5985\r\nContent-Type: multipart/encrypted;"
            "protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"\r\n"
            "Content-Length: %u\r\n\r\n", blen);
        memcpy(m + h, junk + (rnd() & 1023), blen);
        stream(f, 0, m, h + blen);
        blen = 8000 + (rnd() & 4095);
        h = snprintf((char *)m, 400, "HTTP/1.1 200 \r\nContent-Type: multipart/encrypted;"
            "protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"\r\n"
            "Server: Microsoft-HTTPAPI/2.0\r\nContent-Length: %u\r\n\r\n", blen);
        memcpy(m + h, junk + (rnd() & 1023), blen);
        stream(f, 1, m, h + blen);
    } else { /* TLS application data, 4 records of 16 KiB */
        for (int r = 0; r < 4; r++) {
            m[0] = 23; m[1] = 3; m[2] = 3; m[3] = 0x40; m[4] = 0;
            memcpy(m + 5, junk + (rnd() & 1023), 16384);
            stream(f, 1, m, 16389);
        }
    }
}

/* ---- auth traces ---- */
static int load(const char *path, trace_t *t) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    if (!p) { fprintf(stderr, "benchmix: %s\n", err); return -1; }
    if (pcap_datalink(p) != DLT_EN10MB) { fprintf(stderr, "benchmix: %s: not Ethernet, skipped\n", path); pcap_close(p); return 0; }
    struct pcap_pkthdr *h; const u_char *d; uint64_t last = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        if (h->caplen < 34 || h->caplen != h->len || d[12] != 0x08 || d[13] != 0x00 || (d[14] >> 4) != 4) continue;
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
        t->p = realloc(t->p, (t->n + 1) * sizeof(pkt_t));
        pkt_t *k = &t->p[t->n++];
        k->len = h->caplen; k->data = malloc(h->caplen); memcpy(k->data, d, h->caplen);
        k->dt_us = last && ts > last ? (uint32_t)(ts - last > 1000000 ? 1000000 : ts - last) : 0;
        last = ts;
    }
    pcap_close(p);
    return 0;
}

/* rewrite every distinct IPv4 address of copy k into 198.18.0.0/15 and shift ports */
static void emit_copy_pkt(const pkt_t *k, uint32_t copy, uint32_t *addrs, int *naddrs) {
    static uint8_t b[262144];
    memcpy(b, k->data, k->len);
    uint8_t *ip = b + 14;
    for (int w = 12; w <= 16; w += 4) {
        uint32_t a; memcpy(&a, ip + w, 4);
        int i; for (i = 0; i < *naddrs && addrs[i] != a; i++) ;
        if (i == *naddrs && *naddrs < 64) addrs[(*naddrs)++] = a;
        uint32_t na = htonl((198u << 24) | (18u << 16) | ((copy * 64 + (uint32_t)i) & 0x1ffff));
        memcpy(ip + w, &na, 4);
    }
    uint16_t cs = htons(ipsum(ip)); memcpy(ip + 10, &cs, 2);
    emit(b, k->len);
}

int main(int argc, char **argv) {
    double density = -1;
    if (argc > 2 && !strcmp(argv[1], "-d")) { density = strtod(argv[2], NULL); argc -= 2; argv += 2; }
    if (argc > 2 && !strcmp(argv[1], "-t")) { step_us = strtoull(argv[2], NULL, 10); argc -= 2; argv += 2; }
    if (argc < 4) { fprintf(stderr, "usage: benchmix [-d SESSIONS_PER_MB] [-t US_PER_PACKET] OUT.pcap TARGET_MB AUTH.pcap...\n"); return 2; }
    uint64_t target = strtoull(argv[2], NULL, 10) << 20;
    int nt = argc - 3; trace_t *t = calloc(nt, sizeof(trace_t));
    uint64_t auth_bytes = 0;
    for (int i = 0; i < nt; i++) { if (load(argv[3 + i], &t[i]) < 0) return 1; for (size_t j = 0; j < t[i].n; j++) auth_bytes += t[i].p[j].len + 16; }
    if (!auth_bytes) { fprintf(stderr, "benchmix: no usable packets\n"); return 1; }
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rnd();
    dead = pcap_open_dead(DLT_EN10MB, 262144);
    out = pcap_dump_open(dead, argv[1]);
    if (!out) { fprintf(stderr, "benchmix: %s\n", pcap_geterr(dead)); return 1; }
    /* 5% of bytes are auth traces: copies = 0.05 * target / auth_bytes */
    uint64_t copies = target / 20 / auth_bytes; if (copies < 1) copies = 1;
    if (density >= 0) copies = (uint64_t)(density * (double)(target >> 20) / nt + 0.5); /* sessions per MB */
    uint64_t auth_total = copies * auth_bytes, bulk_target = target > auth_total ? target - auth_total : 0;
    if (density < 0) bulk_target = target - target / 20; /* the shared generator's mix, byte for byte */
    enum { LANES = 64, BULK = 48 };
    flow_t bulk[BULK];
    for (int i = 0; i < BULK; i++) {
        bulk[i] = (flow_t){ .cip = 0xc6130000u + 2 * i + 1, .sip = 0xc6130000u + 2 * i + 2, .cport = 50000 + i,
                            .sport = i % 3 == 0 ? 445 : i % 3 == 1 ? 5985 : 443, .cseq = rnd(), .sseq = rnd(), .kind = i % 3 };
    }
    struct { uint32_t copy; int tr; size_t pos; uint32_t addrs[64]; int naddrs; } lane[LANES];
    uint64_t next_copy = 0; int active = 0;
    for (int l = 0; l < LANES; l++) lane[l].tr = -1;
    uint64_t bulk_budget_per_auth_pkt = 0, authp = 0;
    for (int i = 0; i < nt; i++) authp += t[i].n;
    authp *= copies;
    uint64_t bulk_steps_total = bulk_target / 60000; /* rough bytes per bulk step */
    bulk_budget_per_auth_pkt = authp ? (bulk_steps_total * 1000) / authp : 0; /* per mille */
    uint64_t acc = 0, bi = 0;
    for (;;) {
        for (int l = 0; l < LANES; l++) {
            if (lane[l].tr < 0 && next_copy < copies * nt) {
                lane[l].copy = (uint32_t)next_copy; lane[l].tr = (int)(next_copy % nt); lane[l].pos = 0; lane[l].naddrs = 0;
                next_copy++; active++;
            }
            if (lane[l].tr < 0) continue;
            trace_t *tr = &t[lane[l].tr];
            if (lane[l].pos < tr->n) emit_copy_pkt(&tr->p[lane[l].pos++], lane[l].copy, lane[l].addrs, &lane[l].naddrs);
            if (lane[l].pos >= tr->n) { lane[l].tr = -1; active--; }
            acc += bulk_budget_per_auth_pkt;
            while (acc >= 1000) { acc -= 1000; bulk_step(&bulk[bi++ % BULK]); }
        }
        if (!active && next_copy >= copies * nt) break;
    }
    while (written < target) bulk_step(&bulk[bi++ % BULK]);
    pcap_dump_close(out);
    fprintf(stderr, "benchmix: %llu auth copies of %d traces (%llu sessions), %llu MB written\n",
            (unsigned long long)copies, nt, (unsigned long long)(copies * nt), (unsigned long long)(written >> 20));
    return 0;
}
