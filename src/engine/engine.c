/* The engine: decode → flow → TCP reassembly → application dispatch; the per-direction PDU buffer. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "http.h"
#include "kdc.h"
#include "output.h"
#include "smb2.h"


void hs_limits_default(struct hs_limits *l)
{
    l->max_flows = 1u << 20;
    l->idle_timeout = 600;
    l->max_ooo_bytes = 1u << 20;
    l->max_ooo_total = 256ull << 20;
    l->max_pdu = 256u << 10;
    l->max_records_per_conn = 64;
    l->max_uses_per_record = 32;
    l->max_pdu_total = 256ull << 20;
    l->max_records_total = 1u << 16;
    l->max_kdc_pending_total = 1u << 14;
}

int engine_init(struct hs_engine *e, const struct hs_limits *lim, struct output *out)
{
    memset(e, 0, sizeof *e);
    e->lim = *lim;
    e->out = out;
    e->nbuckets = 1u << 16;
    while (e->nbuckets < lim->max_flows / 4 && e->nbuckets < (1u << 22))
        e->nbuckets <<= 1;
    e->buckets = calloc(e->nbuckets, sizeof *e->buckets);
    e->scratch_cap = lim->max_pdu;
    e->scratch = malloc(e->scratch_cap);
    if (!e->buckets || !e->scratch || tickets_init(&e->tickets) != 0) {
        free(e->buckets);
        free(e->scratch);
        return -1;
    }
    return 0;
}

/* Ports where a stream is worth probing even if its first bytes are not a message start
 * (picked up mid-stream); anything else must show its protocol in the first bytes. */
static enum app_proto port_hint(const struct hs_conn *c)
{
    switch (c->srv.port) {
    case 139:
    case 445:
        return APP_NBSS;
    case 80:
    case 5985:
    case 8080:
        return APP_HTTP;
    case 88:
        return APP_KERBEROS;
    default:
        return APP_UNKNOWN;
    }
}

/* Chooses the application protocol from the first bytes of either direction. */
static void probe(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n)
{
    (void)e;
    if (nbss_probe(p, n) >= 80) {
        c->app = APP_NBSS;
    } else if (http_probe(p, n) >= 90) {
        c->app = APP_HTTP;
    } else if (kdc_probe_tcp(p, n) >= 90) {
        c->app = APP_KERBEROS;
    } else if (n >= 3 && p[0] == 0x16 && p[1] == 0x03) {
        c->app = APP_IGNORE; /* TLS */
    } else {
        /* A connection seen from its SYN shows its protocol in its first bytes; one picked up
         * mid-stream may start inside a message, so a server port is trusted there. */
        enum app_proto hint = c->saw_syn ? APP_UNKNOWN : port_hint(c);
        if (hint != APP_UNKNOWN) {
            c->app = hint;
            c->ad[dir].resync = true;
            c->ad[!dir].resync = true;
        } else {
            c->app = APP_IGNORE;
        }
        return;
    }
    /* A stream picked up mid-stream whose probe matched only from here: the other direction
     * may still start mid-message. */
    if (!c->saw_syn)
        c->ad[!dir].resync = true;
}

typedef size_t (*parse_fn)(struct hs_engine *, struct hs_conn *, int, const uint8_t *, size_t, struct app_dir *);

static parse_fn parser_of(const struct hs_conn *c)
{
    switch (c->app) {
    case APP_NBSS: return nbss_parse;
    case APP_HTTP: return http_parse;
    case APP_KERBEROS: return kdc_parse_tcp;
    default: return NULL;
    }
}

/* Bytes every probe needs to decide: NBSS header + SMB magic, record mark + KDC tag + length, "HTTP/1.",
 * and the longest HTTP method with its space ("RPC_OUT_DATA ", 13): fewer may be a prefix of one. */
#define PROBE_MIN 16

/* Keeps n unconsumed bytes for the next call, within the PDU cap. */
static bool buffer_append(struct hs_engine *e, struct app_dir *ad, const uint8_t *p, size_t n)
{
    if ((size_t)ad->len + n > e->lim.max_pdu)
        return false;
    if (ad->len + n > ad->cap) {
        uint32_t cap = ad->cap ? ad->cap : 4096;
        while (cap < ad->len + n)
            cap *= 2;
        if (cap > e->lim.max_pdu)
            cap = e->lim.max_pdu;
        if (e->pdu_total - ad->cap + cap > e->lim.max_pdu_total)
            return false; /* all connections' buffers together are at their cap */
        uint8_t *nb = realloc(ad->buf, cap);
        if (!nb)
            return false;
        e->pdu_total += cap - ad->cap;
        ad->buf = nb;
        ad->cap = cap;
    }
    memcpy(ad->buf + ad->len, p, n);
    ad->len += (uint32_t)n;
    return true;
}

/* Gives back the buffer of a direction that holds nothing: a PDU straddles segments only for a moment,
 * and a buffer kept for the connection's life would hold up to the PDU cap per direction for nothing. */
static void buffer_release(struct hs_engine *e, struct app_dir *ad)
{
    ad->len = 0;
    e->pdu_total -= ad->cap;
    free(ad->buf);
    ad->buf = NULL;
    ad->cap = 0;
}

void app_free(struct hs_engine *e, struct hs_conn *c)
{
    for (int d = 0; d < 2; d++)
        buffer_release(e, &c->ad[d]);
}

/* A PDU larger than the cap: drop what is buffered and hunt for the next message. */
static void oversize(struct hs_engine *e, struct app_dir *ad)
{
    e->st.pdu_oversize++;
    buffer_release(e, ad);
    ad->resync = true;
}

/* A skipped body just ended: tell the dissector that asked (HTTP renumbers the message's frames). */
static void skip_check(struct hs_engine *e, struct hs_conn *c, int dir, struct app_dir *ad)
{
    if (ad->skip == 0 && ad->skip_done) {
        void (*f)(struct hs_engine *, struct hs_conn *, int) = ad->skip_done;
        ad->skip_done = NULL;
        f(e, c, dir);
    }
}

void app_data(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n)
{
    struct app_dir *ad = &c->ad[dir];
    if (c->app == APP_UNKNOWN) {
        /* Too few bytes for any probe to tell (a Kerberos record mark sent in a segment of its own,
         * RFC 4120 7.2.2): keep them, and probe when more arrive. */
        if ((size_t)ad->len + n < PROBE_MIN) {
            if (!buffer_append(e, ad, p, n))
                oversize(e, ad);
            return;
        }
        uint8_t head[2 * PROBE_MIN];
        size_t k = 0;
        if (ad->len) { /* what was kept, then the start of this segment */
            memcpy(head, ad->buf, ad->len);
            k = n < sizeof head - ad->len ? n : sizeof head - ad->len;
            memcpy(head + ad->len, p, k);
        }
        probe(e, c, dir, ad->len ? head : p, ad->len ? ad->len + k : n);
    }
    parse_fn parse = parser_of(c);
    if (!parse || ad->dead) {
        buffer_release(e, ad); /* bytes kept for the probe, of a stream not dissected */
        return;
    }
    while (n > 0) {
        if (ad->skip) {
            size_t k = ad->skip < n ? (size_t)ad->skip : n;
            ad->skip -= k;
            p += k;
            n -= k;
            skip_check(e, c, dir, ad);
            continue;
        }
        if (ad->len == 0) {
            /* Fast path: parse straight from the segment, buffer only an incomplete tail. */
            size_t used = parse(e, c, dir, p, n, ad);
            if (used > n)
                used = n;
            p += used;
            n -= used;
            if (used == 0) {
                if (!buffer_append(e, ad, p, n))
                    oversize(e, ad);
                return;
            }
            continue;
        }
        /* Slow path: a PDU started in an earlier segment. Top the buffer up and parse it. */
        size_t room = e->lim.max_pdu - ad->len;
        size_t k = n < room ? n : room;
        if (!buffer_append(e, ad, p, k)) {
            oversize(e, ad); /* no memory, or all buffers together at their cap: hunt from here */
            continue;
        }
        p += k;
        n -= k;
        size_t off = 0;
        for (;;) {
            if (ad->skip) {
                size_t s = ad->skip < ad->len - off ? (size_t)ad->skip : ad->len - off;
                ad->skip -= s;
                off += s;
                skip_check(e, c, dir, ad);
            }
            if (off == ad->len)
                break;
            size_t used = parse(e, c, dir, ad->buf + off, ad->len - off, ad);
            if (used == 0)
                break;
            off += used > ad->len - off ? ad->len - off : used;
        }
        memmove(ad->buf, ad->buf + off, ad->len - off);
        ad->len -= (uint32_t)off;
        if (ad->len == 0)
            buffer_release(e, ad);
        else if (ad->len == e->lim.max_pdu)
            oversize(e, ad);
        else if (ad->len && n)
            continue; /* still incomplete: take more of this segment */
    }
}

void app_gap(struct hs_engine *e, struct hs_conn *c, int dir, uint64_t n)
{
    struct app_dir *ad = &c->ad[dir];
    if (ad->skip >= n) {
        ad->skip -= n; /* the gap fell inside a body we were skipping anyway: no harm done */
        skip_check(e, c, dir, ad);
        return;
    }
    ad->skip = 0;
    ad->skip_done = NULL;
    buffer_release(e, ad);
    ad->resync = true;
}

/*
 * Does a SYN (without ACK) with sequence number seq from direction dir start a new connection on c's
 * 5-tuple? After a close, always. Otherwise when its ISN differs from the SYN seen before (a retransmitted
 * SYN carries the same one), or when that side already sent data without a SYN: the end of the old
 * connection was not captured, and its state (a body being skipped, a message half read, a record in
 * progress) must not swallow the new connection's bytes.
 */
static bool syn_starts_new(const struct hs_conn *c, int dir, uint32_t seq)
{
    const struct tcp_half *h = &c->tcp[dir];
    return c->closed || (h->syn ? h->isn != seq : h->seq_known);
}

void engine_packet(struct hs_engine *e, int dlt, uint64_t frame, const struct timeval *ts, const uint8_t *data,
                   uint32_t caplen)
{
    struct hs_pkt pkt;
    e->st.packets++;
    e->st.bytes += caplen;
    e->frame = frame;
    e->now = *ts;
    if (decode_packet(&e->dec, dlt, data, caplen, ts, &pkt) != DEC_OK)
        return;
    int dir;
    if (pkt.proto != 6) {
        e->st.udp_packets++;
        if (pkt.sport != 88 && pkt.dport != 88)
            return; /* of UDP, only Kerberos (RFC 4120 7.2.1) is dissected */
        struct hs_conn *u = flow_get(e, &pkt, &dir);
        if (!u)
            return;
        flow_touch(e, u);
        kdc_datagram(e, u, dir, pkt.payload, pkt.paylen);
        return;
    }
    e->st.tcp_packets++;
    struct hs_conn *c = flow_get(e, &pkt, &dir);
    if (!c)
        return;
    if ((pkt.tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN && syn_starts_new(c, dir, pkt.seq)) {
        /* The 5-tuple is reused by a new connection. */
        flow_remove(e, c);
        c = flow_get(e, &pkt, &dir);
        if (!c)
            return;
    }
    flow_touch(e, c);
    reasm_segment(e, c, dir, &pkt);
}

void engine_frame_undecoded(struct hs_engine *e, uint32_t caplen)
{
    e->st.packets++;
    e->st.bytes += caplen;
    e->dec.st.non_ip++;
}

static int by_id(const void *a, const void *b)
{
    const struct hs_conn *x = *(struct hs_conn *const *)a, *y = *(struct hs_conn *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

void engine_finish(struct hs_engine *e)
{
    /* Close in creation order so output order does not depend on when flows were last seen. */
    size_t n = 0, i = 0;
    for (struct hs_conn *c = e->lru_head; c; c = c->lru_next)
        n++;
    struct hs_conn **v = n ? malloc(n * sizeof *v) : NULL;
    if (v) {
        for (struct hs_conn *c = e->lru_head; c; c = c->lru_next)
            v[i++] = c;
        qsort(v, n, sizeof *v, by_id);
        for (i = 0; i < n; i++)
            flow_close(e, v[i]);
        free(v);
    } else {
        for (struct hs_conn *c = e->lru_head; c; c = c->lru_next)
            flow_close(e, c);
    }
    output_stats(e->out, e);
}

void engine_free(struct hs_engine *e)
{
    e->out = NULL; /* nothing more is written */
    while (e->lru_head)
        flow_remove(e, e->lru_head);
    free(e->buckets);
    free(e->scratch);
    tickets_free(&e->tickets);
    decode_free(&e->dec);
    memset(e, 0, sizeof *e);
}
