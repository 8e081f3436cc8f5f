/* Evidence pcaps: a second pass over the capture file writing each finding's packets to a pcap of its own. */
#include "evidence.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "decode.h"

/* A connection, its two ends in a canonical order, and the finding it is evidence for. */
struct ev_key {
    uint8_t af, proto;
    uint8_t a[16], b[16];
    uint16_t pa, pb;
    uint32_t finding;
};

/* A frame named as evidence, and its finding. */
struct ev_frame {
    uint64_t frame;
    uint32_t finding;
};

struct ev_out {
    FILE *d;                       /* the pcapng file being written */
    char name[96];
    uint64_t packets, dropped;
    uint64_t *frames;              /* original frame numbers of the packets written (EVIDENCE_FRAMES_LISTED) */
    uint32_t nframes;
};

static int end_cmp(const uint8_t *ia, uint16_t pa, const uint8_t *ib, uint16_t pb)
{
    int c = memcmp(ia, ib, 16);
    return c ? c : pa < pb ? -1 : pa > pb;
}

static void key_set(struct ev_key *k, uint8_t af, uint8_t proto, const uint8_t *x, uint16_t px, const uint8_t *y,
                    uint16_t py)
{
    memset(k, 0, sizeof *k);
    k->af = af;
    k->proto = proto;
    if (end_cmp(x, px, y, py) <= 0) {
        memcpy(k->a, x, 16), k->pa = px, memcpy(k->b, y, 16), k->pb = py;
    } else {
        memcpy(k->a, y, 16), k->pa = py, memcpy(k->b, x, 16), k->pb = px;
    }
}

/* Orders by connection only (finding last), so all findings of a connection are adjacent. */
static int key_cmp_conn(const void *x, const void *y)
{
    const struct ev_key *a = x, *b = y;
    if (a->af != b->af)
        return a->af < b->af ? -1 : 1;
    if (a->proto != b->proto)
        return a->proto < b->proto ? -1 : 1;
    int c = end_cmp(a->a, a->pa, b->a, b->pa);
    return c ? c : end_cmp(a->b, a->pb, b->b, b->pb);
}

static int key_cmp(const void *x, const void *y)
{
    int c = key_cmp_conn(x, y);
    if (c)
        return c;
    const struct ev_key *a = x, *b = y;
    return a->finding < b->finding ? -1 : a->finding > b->finding;
}

static int frame_cmp(const void *x, const void *y)
{
    const struct ev_frame *a = x, *b = y;
    if (a->frame != b->frame)
        return a->frame < b->frame ? -1 : 1;
    return a->finding < b->finding ? -1 : a->finding > b->finding;
}

/* A record's connection, by id: auth and KDC summaries. */
struct idconn {
    uint64_t id;
    struct ev_key k;
};

static int idconn_cmp(const void *x, const void *y)
{
    const struct idconn *a = x, *b = y;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* The first index in v[0..n) whose connection is not below k's. */
static size_t key_lower(const struct ev_key *v, size_t n, const struct ev_key *k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (key_cmp_conn(&v[mid], k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* pcapng (draft-ietf-opsawg-pcapng) written here: libpcap writes only pcap, which has no place for the
 * original frame number. Little-endian blocks, each padded to 4 bytes. */
static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, (uint16_t)v), le16(p + 2, (uint16_t)(v >> 16));
}

/* A Section Header Block (4.1: byte-order magic, version 1.0, section length unknown) and one Interface
 * Description Block (4.2: link type, snap length, if_tsresol 9 = nanoseconds). */
static bool pcapng_start(FILE *f, int dlt, uint32_t snaplen)
{
    uint8_t shb[28] = {0}, idb[32] = {0};
    le32(shb, 0x0A0D0D0A), le32(shb + 4, 28), le32(shb + 8, 0x1A2B3C4D), le16(shb + 12, 1), le16(shb + 14, 0);
    memset(shb + 16, 0xff, 8); /* section length: -1, not given */
    le32(shb + 24, 28);
    le32(idb, 1), le32(idb + 4, 32), le16(idb + 8, (uint16_t)dlt), le32(idb + 12, snaplen);
    le16(idb + 16, 9), le16(idb + 18, 1), idb[20] = 9; /* if_tsresol: 10^-9 s */
    le16(idb + 24, 0), le16(idb + 26, 0);             /* opt_endofopt */
    le32(idb + 28, 32);
    return fwrite(shb, 1, sizeof shb, f) == sizeof shb && fwrite(idb, 1, sizeof idb, f) == sizeof idb;
}

/* An Enhanced Packet Block (4.3) with the packet's time in nanoseconds and an opt_comment naming its frame in
 * the original capture ("frame N of FILE", shown by Wireshark as the packet comment). */
static void pcapng_packet(FILE *f, const struct pcap_pkthdr *h, const u_char *data, const char *comment)
{
    size_t clen = strlen(comment);
    if (clen > 0xffff)
        clen = 0xffff;
    uint32_t dpad = (4 - h->caplen % 4) % 4, cpad = (uint32_t)((4 - clen % 4) % 4);
    uint32_t total = 28 + h->caplen + dpad + 4 + (uint32_t)clen + cpad + 4 + 4;
    /* pcap_open_offline_with_tstamp_precision(NANO): tv_usec holds nanoseconds */
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
    uint8_t hd[28], opt[4], end[8] = {0}, zero[4] = {0};
    le32(hd, 6), le32(hd + 4, total), le32(hd + 8, 0), le32(hd + 12, (uint32_t)(ts >> 32)), le32(hd + 16, (uint32_t)ts);
    le32(hd + 20, h->caplen), le32(hd + 24, h->len);
    le16(opt, 1), le16(opt + 2, (uint16_t)clen); /* opt_comment */
    le32(end + 4, total);                        /* opt_endofopt, then the block's length again */
    fwrite(hd, 1, sizeof hd, f);
    fwrite(data, 1, h->caplen, f);
    fwrite(zero, 1, dpad, f);
    fwrite(opt, 1, sizeof opt, f);
    fwrite(comment, 1, clen, f);
    fwrite(zero, 1, cpad, f);
    fwrite(end, 1, sizeof end, f);
}

static void put(struct ev_out *o, const struct pcap_pkthdr *h, const u_char *data, uint64_t frame, const char *input)
{
    if (o->packets >= EVIDENCE_PACKETS_MAX) {
        o->dropped++;
        return;
    }
    char comment[4200];
    snprintf(comment, sizeof comment, "frame %llu of %s", (unsigned long long)frame, input);
    pcapng_packet(o->d, h, data, comment);
    o->packets++;
    if (o->frames && o->nframes < EVIDENCE_FRAMES_LISTED)
        o->frames[o->nframes++] = frame;
}

static int write_index(const struct hs_correlate *c, struct ev_out *out, size_t nf, const char *dir, char *err,
                       size_t cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# hopscope evidence: one pcapng per finding; packet N of a file is the original frame listed "
               "N-th (also in each packet's comment)\n");
    for (size_t i = 0; i < nf; i++) {
        const struct hs_finding *h = &c->findings[i];
        fprintf(f, "\n%s\n  finding: %s (%s, %s)\n  title: %s\n  records:", out[i].name, h->id, h->severity,
                h->confidence, h->title);
        for (uint32_t j = 0; j < h->nrecords; j++)
            fprintf(f, " %llu", (unsigned long long)h->records[j]);
        fputs("\n  evidence frames:", f);
        for (uint32_t j = 0; j < h->nframes; j++)
            fprintf(f, " %llu", (unsigned long long)h->frames[j]);
        fprintf(f, "\n  packets: %llu", (unsigned long long)out[i].packets);
        if (out[i].dropped)
            fprintf(f, " (%llu more left out at the cap)", (unsigned long long)out[i].dropped);
        fputs("\n  original frames:", f);
        for (uint32_t j = 0; j < out[i].nframes; j++)
            fprintf(f, " %llu", (unsigned long long)out[i].frames[j]);
        if (out[i].packets > out[i].nframes)
            fputs(" ...", f);
        fputc('\n', f);
    }
    if (c->n_findings > nf)
        fprintf(f, "\n# %zu more findings have no pcap (at most %d)\n", c->n_findings - nf, EVIDENCE_FINDINGS_MAX);
    if (fclose(f) != 0) {
        snprintf(err, cap, "%s: write failed", path);
        return -1;
    }
    return 0;
}

int evidence_write(const struct hs_correlate *c, const char *input, const char *dir, char *err, size_t cap)
{
    size_t nf = c->n_findings < EVIDENCE_FINDINGS_MAX ? c->n_findings : EVIDENCE_FINDINGS_MAX;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, cap, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(input, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!p) {
        snprintf(err, cap, "%s: %s", input, ebuf);
        return -1;
    }
    int dlt = pcap_datalink(p);
    int rc = -1;
    struct idconn *ids = malloc((c->n_auth + c->n_kdc + 1) * sizeof *ids);
    struct ev_key *keys = malloc((nf * FINDING_EVIDENCE_MAX + 1) * sizeof *keys);
    struct ev_frame *frames = malloc((nf * FINDING_EVIDENCE_MAX + 1) * sizeof *frames);
    struct ev_out *out = calloc(nf + 1, sizeof *out);
    struct hs_decoder dec;
    memset(&dec, 0, sizeof dec);
    if (!ids || !keys || !frames || !out) {
        snprintf(err, cap, "out of memory");
        goto done;
    }
    /* every record's connection by id, then each finding's connections and frames, sorted for look-ups */
    size_t nid = 0, nk = 0, nfr = 0;
    for (size_t i = 0; i < c->n_auth; i++) {
        const struct fsum_auth *a = &c->auth[i];
        ids[nid].id = a->id;
        key_set(&ids[nid++].k, a->af, 6, a->cli, a->cport, a->srv, a->sport);
    }
    for (size_t i = 0; i < c->n_kdc; i++) {
        const struct fsum_kdc *k = &c->kdc[i];
        ids[nid].id = k->id;
        key_set(&ids[nid++].k, k->af, k->udp ? 17 : 6, k->cli, k->cport, k->srv, k->sport);
    }
    qsort(ids, nid, sizeof *ids, idconn_cmp);
    for (size_t i = 0; i < nf; i++) {
        const struct hs_finding *h = &c->findings[i];
        for (uint32_t j = 0; j < h->nrecords; j++) {
            struct idconn q = {h->records[j], {0}};
            const struct idconn *hit = bsearch(&q, ids, nid, sizeof *ids, idconn_cmp);
            if (hit) {
                keys[nk] = hit->k;
                keys[nk++].finding = (uint32_t)i;
            }
        }
        for (uint32_t j = 0; j < h->nframes; j++)
            frames[nfr++] = (struct ev_frame){h->frames[j], (uint32_t)i};
        snprintf(out[i].name, sizeof out[i].name, "%03zu-%s.pcapng", i + 1, h->id);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, out[i].name);
        out[i].d = fopen(path, "wb");
        out[i].frames = malloc(EVIDENCE_FRAMES_LISTED * sizeof *out[i].frames);
        if (!out[i].d || !pcapng_start(out[i].d, dlt, (uint32_t)pcap_snapshot(p))) {
            snprintf(err, cap, "%s: %s", path, strerror(errno));
            goto done;
        }
    }
    qsort(keys, nk, sizeof *keys, key_cmp);
    qsort(frames, nfr, sizeof *frames, frame_cmp);

    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t frame = 0;
    int r;
    bool *hit = calloc(nf + 1, sizeof *hit);
    if (!hit) {
        snprintf(err, cap, "out of memory");
        goto done;
    }
    while ((r = pcap_next_ex(p, &h, &data)) == 1) {
        frame++;
        memset(hit, 0, nf + 1);
        /* frames named as evidence */
        struct ev_frame fq = {frame, 0};
        size_t lo = 0, hi = nfr;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (frame_cmp(&frames[mid], &fq) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t j = lo; j < nfr && frames[j].frame == frame; j++)
            hit[frames[j].finding] = true;
        /* packets of the findings' connections (timestamps only matter to IPv4 reassembly: microseconds do) */
        struct timeval tv = {h->ts.tv_sec, h->ts.tv_usec / 1000};
        struct hs_pkt pk;
        if (nk && decode_packet(&dec, dlt, data, h->caplen, &tv, &pk) == DEC_OK) {
            struct ev_key k;
            key_set(&k, pk.af, pk.proto, pk.src, pk.sport, pk.dst, pk.dport);
            for (size_t j = key_lower(keys, nk, &k); j < nk && !key_cmp_conn(&keys[j], &k); j++)
                hit[keys[j].finding] = true;
        }
        for (size_t i = 0; i < nf; i++)
            if (hit[i])
                put(&out[i], h, data, frame, input);
    }
    free(hit);
    if (r == PCAP_ERROR) {
        /* a truncated file: what came before is written, as the run itself reported */
        snprintf(err, cap, "%s: %s (evidence up to frame %llu written)", input, pcap_geterr(p),
                 (unsigned long long)frame);
    }
    for (size_t i = 0; i < nf; i++) {
        bool bad = fflush(out[i].d) != 0 || ferror(out[i].d);
        if (fclose(out[i].d) != 0 || bad) {
            snprintf(err, cap, "%s/%s: write failed", dir, out[i].name);
            r = PCAP_ERROR;
        }
        out[i].d = NULL;
    }
    if (write_index(c, out, nf, dir, err, cap) == 0 && r != PCAP_ERROR)
        rc = 0;
done:
    if (out)
        for (size_t i = 0; i < nf; i++) {
            if (out[i].d)
                fclose(out[i].d);
            free(out[i].frames);
        }
    decode_free(&dec);
    free(out);
    free(ids);
    free(keys);
    free(frames);
    pcap_close(p);
    return rc;
}
