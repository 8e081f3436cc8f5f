/* TCP stream reassembly — RFC 9293 3.4 sequence space; in-order delivery, gaps made explicit. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* Signed distance a - b in 32-bit sequence space (RFC 9293 3.4, modulo 2^32). */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/*
 * Delivers queued segments that now continue the stream; first copy wins on overlap. When the current
 * packet filled the hole, it completes what follows (Wireshark's numbering); after a hole declared lost
 * (own_frames), nothing completed it and each segment's data is attributed to the frame that carried it.
 */
static void drain_as(struct hs_engine *e, struct hs_conn *c, int dir, bool own_frames)
{
    struct tcp_half *h = &c->tcp[dir];
    uint64_t now = e->frame;
    while (h->ooo && seq_diff(h->ooo->seq, h->next_seq) <= 0) {
        struct ooo_seg *s = h->ooo;
        h->ooo = s->next;
        h->ooo_bytes -= s->len;
        e->ooo_total -= s->len;
        int32_t skip = seq_diff(h->next_seq, s->seq);
        if ((uint32_t)skip < s->len) {
            uint32_t n = s->len - (uint32_t)skip;
            h->next_seq += n;
            if (own_frames)
                e->frame = s->frame;
            if (!c->closed && c->app != APP_IGNORE)
                app_data(e, c, dir, s->data + skip, n);
        }
        free(s);
    }
    e->frame = now;
}

static void drain(struct hs_engine *e, struct hs_conn *c, int dir)
{
    drain_as(e, c, dir, false);
}

/* Inserts [seq, seq+len) into the sorted queue; parts already queued keep their first copy and a
 * differing retransmission counts as a conflict. */
static void enqueue(struct hs_engine *e, struct hs_conn *c, int dir, uint32_t seq, const uint8_t *p, uint32_t len)
{
    struct tcp_half *h = &c->tcp[dir];
    struct ooo_seg **pp = &h->ooo;
    uint32_t cur = seq, end = seq + len;
    while (seq_diff(cur, end) < 0) {
        struct ooo_seg *s = *pp;
        uint32_t piece_end = end;
        if (s) {
            uint32_t s_end = s->seq + s->len;
            if (seq_diff(s_end, cur) <= 0) { /* entirely before cur */
                pp = &s->next;
                continue;
            }
            if (seq_diff(s->seq, cur) <= 0) { /* s covers cur: compare the overlap */
                uint32_t ov_end = seq_diff(s_end, end) < 0 ? s_end : end;
                uint32_t n = ov_end - cur;
                if (memcmp(s->data + (cur - s->seq), p + (cur - seq), n) != 0)
                    e->st.tcp_conflicts++;
                else
                    e->st.tcp_overlaps++;
                cur = ov_end;
                pp = &s->next;
                continue;
            }
            if (seq_diff(s->seq, end) < 0)
                piece_end = s->seq;
        }
        uint32_t n = piece_end - cur;
        if (h->ooo_bytes + n > e->lim.max_ooo_bytes || e->ooo_total + n > e->lim.max_ooo_total) {
            e->st.ooo_dropped_bytes += n;
            return;
        }
        struct ooo_seg *ns = malloc(sizeof *ns + n);
        if (!ns) {
            e->st.ooo_dropped_bytes += n;
            return;
        }
        ns->seq = cur;
        ns->len = n;
        ns->frame = e->frame;
        memcpy(ns->data, p + (cur - seq), n);
        ns->next = s;
        *pp = ns;
        pp = &ns->next;
        h->ooo_bytes += n;
        e->ooo_total += n;
        cur = piece_end;
    }
}

/* Declares the bytes before the first queued segment lost, then delivers the queue. */
static void gap_to_queue(struct hs_engine *e, struct hs_conn *c, int dir)
{
    struct tcp_half *h = &c->tcp[dir];
    if (!h->ooo)
        return;
    uint32_t n = h->ooo->seq - h->next_seq;
    e->st.tcp_gaps++;
    e->st.tcp_gap_bytes += n;
    if (!c->closed && c->app != APP_IGNORE)
        app_gap(e, c, dir, n);
    h->next_seq = h->ooo->seq;
    drain_as(e, c, dir, true);
}

void reasm_flush(struct hs_engine *e, struct hs_conn *c, int dir)
{
    while (c->tcp[dir].ooo)
        gap_to_queue(e, c, dir);
}

/*
 * Is a RST or FIN at sequence number seq believable? One far from the stream is noise or a blind injection
 * that the endpoints themselves ignore (RFC 9293 3.10.7.4, RFC 5961 3.2), and must not end the dissection
 * of the connection. A FIN sits after all the data its sender sent: at the next byte expected, or past
 * bytes the capture lost. A RST sits at its sender's next sequence number, or (sent for a connection it no
 * longer knows) at what the peer last acknowledged, which may be behind what the capture saw.
 */
static bool seq_plausible(const struct hs_engine *e, const struct tcp_half *h, uint32_t seq, bool behind_ok)
{
    if (!h->seq_known)
        return true;
    int32_t d = seq_diff(seq, h->next_seq);
    uint32_t w = e->lim.max_ooo_bytes;
    return d >= 0 ? (uint32_t)d <= w : behind_ok && (uint32_t)-(int64_t)d <= w;
}

/* A FIN counts once every byte before it was delivered (or declared lost). */
static void fin_check(struct tcp_half *h)
{
    if (h->fin_pending && (!h->seq_known || seq_diff(h->next_seq, h->fin_seq) >= 0)) {
        h->fin_pending = false;
        h->fin = true;
    }
}

void reasm_segment(struct hs_engine *e, struct hs_conn *c, int dir, const struct hs_pkt *pkt)
{
    struct tcp_half *h = &c->tcp[dir];
    uint32_t seq = pkt->seq;
    const uint8_t *p = pkt->payload;
    uint32_t n = pkt->paylen;

    if (pkt->tcp_flags & TH_SYN) {
        /* A retransmitted SYN (same ISN) must not move the stream back to its start. A SYN with another
         * ISN is a new connection, which engine_packet() has already set up. */
        if (!(h->syn && h->isn == seq && h->seq_known)) {
            h->next_seq = seq + 1;
            h->seq_known = true;
        }
        h->syn = true;
        h->isn = seq;
        seq++;
    } else if (!h->seq_known && n) {
        /* Picked up mid-stream: start here; the dissector hunts for a message boundary. */
        h->next_seq = seq;
        h->seq_known = true;
        if (!c->saw_syn)
            c->ad[dir].resync = true;
    }
    if (n && h->seq_known) {
        int32_t d = seq_diff(seq, h->next_seq);
        if (d == 0) {
            h->next_seq += n;
            if (!c->closed && c->app != APP_IGNORE)
                app_data(e, c, dir, p, n);
            if (h->ooo)
                drain(e, c, dir);
        } else if (d < 0) {
            uint32_t old = (uint32_t)-d;
            if (old >= n) {
                e->st.tcp_retransmitted++;
            } else {
                e->st.tcp_overlaps++;
                h->next_seq += n - old;
                if (!c->closed && c->app != APP_IGNORE)
                    app_data(e, c, dir, p + old, n - old);
                if (h->ooo)
                    drain(e, c, dir);
            }
        } else if (c->app != APP_IGNORE && !c->closed) {
            e->st.tcp_out_of_order++;
            uint64_t before = e->st.ooo_dropped_bytes;
            enqueue(e, c, dir, seq, p, n);
            if (e->st.ooo_dropped_bytes != before) {
                /* A cap was reached: stop waiting for the hole and move on. */
                gap_to_queue(e, c, dir);
                if (h->ooo == NULL && seq_diff(seq, h->next_seq) > 0) {
                    e->st.tcp_gaps++;
                    e->st.tcp_gap_bytes += (uint32_t)seq_diff(seq, h->next_seq);
                    app_gap(e, c, dir, (uint32_t)seq_diff(seq, h->next_seq));
                    h->next_seq = seq;
                    reasm_segment(e, c, dir, pkt);
                    return;
                }
            }
        } else {
            h->next_seq = seq + n; /* ignored connection: just follow the sequence numbers */
        }
    }
    if ((pkt->tcp_flags & TH_FIN) && !h->fin && !h->fin_pending && seq_plausible(e, h, seq + n, false)) {
        h->fin_pending = true;
        h->fin_seq = seq + n; /* the FIN follows this segment's data */
    }
    if ((pkt->tcp_flags & TH_RST) && seq_plausible(e, h, seq, true))
        h->rst = true;

    /* The peer acknowledged bytes we never saw while later data (or the FIN) waits: those bytes were
     * lost in the capture, not on the wire, and will not come again. */
    struct tcp_half *o = &c->tcp[!dir];
    if ((pkt->tcp_flags & TH_ACK) && o->ooo && seq_diff(pkt->ack, o->ooo->seq) >= 0)
        gap_to_queue(e, c, !dir);
    if ((pkt->tcp_flags & TH_ACK) && o->fin_pending && !o->ooo && seq_diff(o->fin_seq, o->next_seq) > 0 &&
        seq_diff(pkt->ack, o->fin_seq) > 0) {
        uint32_t lost = o->fin_seq - o->next_seq;
        e->st.tcp_gaps++;
        e->st.tcp_gap_bytes += lost;
        if (!c->closed && c->app != APP_IGNORE)
            app_gap(e, c, !dir, lost);
        o->next_seq = o->fin_seq;
    }
    fin_check(h);
    fin_check(o);
    if (!c->closed && (h->rst || (c->tcp[0].fin && c->tcp[1].fin)))
        flow_close(e, c);
}
