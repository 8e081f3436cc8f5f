/* TCP stream reassembly — RFC 9293 3.4 sequence space; in-order delivery, gaps made explicit. */
#include "reasm.h"

#include <stdlib.h>
#include <string.h>

/* Signed distance a - b in 32-bit sequence space (RFC 9293 3.4, modulo 2^32). */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/* ---- the out-of-order queue: a treap keyed by sequence number (see struct ooo_seg) ---- */

static inline uint32_t seg_end(const struct ooo_seg *s)
{
    return s->seq + s->len;
}

/* Heap priority of a segment at seq: a keyed mix (MurmurHash3's finaliser), so a sender cannot choose
 * sequence numbers that make the tree a list. */
static inline uint32_t seg_prio(uint32_t seq, uint32_t salt)
{
    uint32_t x = seq ^ salt;
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

/* Inserts n (overlapping no queued segment; children NULL) into the treap *root: down to where its
 * priority belongs, then what was there is split by n's sequence number into n's children. Iterative:
 * the stack does not grow with the queue. */
static void tr_insert(struct ooo_seg **root, struct ooo_seg *n)
{
    struct ooo_seg **pp = root;
    while (*pp && (*pp)->prio >= n->prio)
        pp = seq_diff(n->seq, (*pp)->seq) < 0 ? &(*pp)->left : &(*pp)->right;
    struct ooo_seg *t = *pp, **l = &n->left, **r = &n->right;
    while (t) {
        if (seq_diff(t->seq, n->seq) < 0) {
            *l = t;
            l = &t->right;
            t = t->right;
        } else {
            *r = t;
            r = &t->left;
            t = t->left;
        }
    }
    *l = *r = NULL;
    *pp = n;
}

/* The first queued segment (lowest sequence number), or NULL. */
static inline struct ooo_seg *tr_first(struct ooo_seg *t)
{
    while (t && t->left)
        t = t->left;
    return t;
}

/* Takes the first segment out of the non-empty treap *root and returns it. */
static struct ooo_seg *tr_pop_first(struct ooo_seg **root)
{
    struct ooo_seg **pp = root;
    while ((*pp)->left)
        pp = &(*pp)->left;
    struct ooo_seg *s = *pp;
    *pp = s->right;
    return s;
}

/* The first queued segment that ends after cur (it covers cur or lies beyond it), or NULL. Segments do
 * not overlap, so their ends are in the same order as their starts. */
static struct ooo_seg *tr_first_ending_after(struct ooo_seg *t, uint32_t cur)
{
    struct ooo_seg *best = NULL;
    while (t) {
        if (seq_diff(seg_end(t), cur) > 0) {
            best = t;
            t = t->left;
        } else {
            t = t->right;
        }
    }
    return best;
}

static void seg_free(struct tcp_half *h, struct reasm_io *io, struct ooo_seg *s)
{
    h->ooo_bytes -= s->len + OOO_SEG_OVERHEAD;
    *io->ooo_total -= s->len + OOO_SEG_OVERHEAD;
    free(s);
}

/*
 * Delivers queued segments that now continue the stream; first copy wins on overlap. When the current
 * packet filled the hole, it completes what follows (Wireshark's numbering); after a hole declared lost
 * (own_frames), nothing completed it and each segment's data is attributed to the frame that carried it.
 * pkt/pkt_seq: the bytes the current packet just delivered (NULL after a hole declared lost), against which
 * a queued segment's bytes that it overlaps are compared (a differing copy is a conflict).
 */
static void drain_as(struct tcp_half *h, int dir, struct reasm_io *io, bool own_frames, const uint8_t *pkt,
                     uint32_t pkt_seq)
{
    struct ooo_seg *s;
    while ((s = tr_first(h->ooo)) != NULL && seq_diff(s->seq, h->next_seq) <= 0) {
        tr_pop_first(&h->ooo);
        uint32_t skip = h->next_seq - s->seq; /* < 2^31: queued segments lie ahead of next_seq */
        if (skip && pkt && seq_diff(s->seq, pkt_seq) >= 0) {
            /* [s->seq, next_seq) was just delivered from the current packet */
            uint32_t n = skip < s->len ? skip : s->len;
            if (memcmp(s->data, pkt + (s->seq - pkt_seq), n) != 0)
                io->st->tcp_conflicts++;
            else
                io->st->tcp_overlaps++;
        }
        if (skip < s->len) {
            uint32_t n = s->len - skip;
            h->next_seq += n;
            if (*io->dissecting)
                io->data(io->arg, dir, s->data + skip, n, own_frames ? s->frame : io->frame);
        }
        seg_free(h, io, s);
    }
}

/* Inserts [seq, seq+len), which starts ahead of h->next_seq, into the queue; parts already queued keep
 * their first copy and a differing retransmission counts as a conflict. What does not fit under the caps
 * (data + OOO_SEG_OVERHEAD per segment) is counted in ooo_dropped_bytes. Cost: O((k + 1) log n) for k queued
 * segments the new one overlaps (k < len). */
static void enqueue(struct tcp_half *h, struct reasm_io *io, uint32_t seq, const uint8_t *p, uint32_t len)
{
    /* Keep the whole queue less than 2^31 ahead of next_seq, where sequence comparisons are consistent. */
    uint32_t room = 0x7FFFFFFFu - (seq - h->next_seq);
    if (len > room) {
        io->st->ooo_dropped_bytes += len - room;
        len = room;
    }
    uint32_t cur = seq, end = seq + len;
    while (seq_diff(cur, end) < 0) {
        struct ooo_seg *s = tr_first_ending_after(h->ooo, cur);
        uint32_t piece_end = end;
        if (s) {
            if (seq_diff(s->seq, cur) <= 0) { /* s covers cur: compare the overlap */
                uint32_t s_end = seg_end(s);
                uint32_t ov_end = seq_diff(s_end, end) < 0 ? s_end : end;
                uint32_t n = ov_end - cur;
                if (memcmp(s->data + (cur - s->seq), p + (cur - seq), n) != 0)
                    io->st->tcp_conflicts++;
                else
                    io->st->tcp_overlaps++;
                cur = ov_end;
                continue;
            }
            if (seq_diff(s->seq, end) < 0)
                piece_end = s->seq;
        }
        uint32_t n = piece_end - cur;
        uint64_t cost = (uint64_t)n + OOO_SEG_OVERHEAD;
        if (h->ooo_bytes + cost > io->lim->max_ooo_bytes || *io->ooo_total + cost > io->lim->max_ooo_total) {
            io->st->ooo_dropped_bytes += end - cur;
            return;
        }
        struct ooo_seg *ns = malloc(sizeof *ns + n);
        if (!ns) {
            io->st->ooo_dropped_bytes += end - cur;
            return;
        }
        ns->left = ns->right = NULL;
        ns->seq = cur;
        ns->len = n;
        ns->frame = io->frame;
        ns->prio = seg_prio(cur, io->salt);
        memcpy(ns->data, p + (cur - seq), n);
        tr_insert(&h->ooo, ns);
        h->ooo_bytes += (uint32_t)cost;
        *io->ooo_total += cost;
        cur = piece_end;
    }
}

/* Declares the bytes before the first queued segment lost, then delivers the queue. */
static void gap_to_queue(struct tcp_half *h, int dir, struct reasm_io *io)
{
    struct ooo_seg *first = tr_first(h->ooo);
    if (!first)
        return;
    uint32_t n = first->seq - h->next_seq;
    io->st->tcp_gaps++;
    io->st->tcp_gap_bytes += n;
    if (*io->dissecting)
        io->gap(io->arg, dir, n);
    h->next_seq = first->seq;
    drain_as(h, dir, io, true, NULL, 0);
}

void reasm_flush(struct tcp_half hh[2], int dir, struct reasm_io *io)
{
    while (hh[dir].ooo)
        gap_to_queue(&hh[dir], dir, io);
}

/*
 * Is a RST or FIN at sequence number seq believable? One far from the stream is noise or a blind injection
 * that the endpoints themselves ignore (RFC 9293 3.10.7.4, RFC 5961 3.2), and must not end the dissection
 * of the connection. A FIN sits after all the data its sender sent: at the next byte expected, or past
 * bytes the capture lost. A RST sits at its sender's next sequence number, or (sent for a connection it no
 * longer knows) at what the peer last acknowledged, which may be behind what the capture saw.
 */
static bool seq_plausible(const struct reasm_io *io, const struct tcp_half *h, uint32_t seq, bool behind_ok)
{
    if (!h->seq_known)
        return true;
    int32_t d = seq_diff(seq, h->next_seq);
    uint32_t w = io->lim->max_ooo_bytes;
    return d >= 0 ? (uint32_t)d <= w : behind_ok && h->next_seq - seq <= w;
}

/* Compares the first k bytes of p, at seq (which is behind h->next_seq, k bytes of it delivered already),
 * with what of those delivered bytes is still held (io->tail). 1 when they differ, 0 when the same, -1
 * when none of them is held. */
static int delivered_cmp(const struct tcp_half *h, int dir, struct reasm_io *io, uint32_t seq, const uint8_t *p,
                         uint32_t k)
{
    const uint8_t *t = NULL;
    size_t tl = io->tail && *io->dissecting ? io->tail(io->arg, dir, &t) : 0;
    uint64_t old = h->next_seq - seq;
    if (!tl || !t)
        return -1;
    uint64_t skip_p = old > tl ? old - tl : 0; /* bytes of p from before the held tail */
    if (skip_p >= k)
        return -1;
    uint64_t t_off = old > tl ? 0 : tl - old, m = k - skip_p;
    if (m > tl - t_off)
        m = tl - t_off;
    return memcmp(p + skip_p, t + t_off, m) != 0;
}

/* A FIN counts once every byte before it was delivered (or declared lost). */
static void fin_check(struct tcp_half *h)
{
    if (h->fin_pending && (!h->seq_known || seq_diff(h->next_seq, h->fin_seq) >= 0)) {
        h->fin_pending = false;
        h->fin = true;
    }
}

bool reasm_segment(struct tcp_half hh[2], int dir, const struct hs_pkt *pkt, struct reasm_io *io)
{
    struct tcp_half *h = &hh[dir];
    uint32_t seq = pkt->seq;
    const uint8_t *p = pkt->payload;
    uint32_t n = pkt->paylen;

    if (pkt->tcp_flags & TH_SYN) {
        /* A retransmitted SYN (same ISN) must not move the stream back to its start. A SYN with another
         * ISN is a new connection, which the engine has already set up. */
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
        io->pickup(io->arg, dir);
    }
    if (n && h->seq_known) {
        int32_t d = seq_diff(seq, h->next_seq);
        if (d == 0) {
            h->next_seq += n;
            if (*io->dissecting)
                io->data(io->arg, dir, p, n, io->frame);
            if (h->ooo)
                drain_as(h, dir, io, false, p, seq);
        } else if (d < 0) {
            uint32_t old = h->next_seq - seq; /* in [1, 2^31]: unsigned, never a negated INT32_MIN */
            bool differs = delivered_cmp(h, dir, io, seq, p, old < n ? old : n) > 0;
            if (differs)
                io->st->tcp_conflicts++; /* the first copy, delivered, stands */
            if (old >= n) {
                if (!differs)
                    io->st->tcp_retransmitted++;
            } else {
                if (!differs)
                    io->st->tcp_overlaps++;
                h->next_seq += n - old;
                if (*io->dissecting)
                    io->data(io->arg, dir, p + old, n - old, io->frame);
                if (h->ooo)
                    drain_as(h, dir, io, false, p, seq);
            }
        } else if (*io->dissecting) {
            io->st->tcp_out_of_order++;
            uint64_t before = io->st->ooo_dropped_bytes;
            enqueue(h, io, seq, p, n);
            if (io->st->ooo_dropped_bytes != before) {
                /* A cap was reached: stop waiting for the hole and move on. */
                gap_to_queue(h, dir, io);
                if (h->ooo == NULL && seq_diff(seq, h->next_seq) > 0) {
                    io->st->tcp_gaps++;
                    io->st->tcp_gap_bytes += (uint32_t)seq_diff(seq, h->next_seq);
                    io->gap(io->arg, dir, (uint32_t)seq_diff(seq, h->next_seq));
                    h->next_seq = seq;
                    return reasm_segment(hh, dir, pkt, io);
                }
            }
        } else {
            h->next_seq = seq + n; /* connection not dissected: just follow the sequence numbers */
        }
    }
    if ((pkt->tcp_flags & TH_FIN) && !h->fin && !h->fin_pending && seq_plausible(io, h, seq + n, false)) {
        h->fin_pending = true;
        h->fin_seq = seq + n; /* the FIN follows this segment's data */
    }
    if ((pkt->tcp_flags & TH_RST) && seq_plausible(io, h, seq, true))
        h->rst = true;

    /* The peer acknowledged bytes we never saw while later data (or the FIN) waits: those bytes were
     * lost in the capture, not on the wire, and will not come again. */
    struct tcp_half *o = &hh[!dir];
    if ((pkt->tcp_flags & TH_ACK) && o->ooo && seq_diff(pkt->ack, tr_first(o->ooo)->seq) >= 0)
        gap_to_queue(o, !dir, io);
    if ((pkt->tcp_flags & TH_ACK) && o->fin_pending && !o->ooo && seq_diff(o->fin_seq, o->next_seq) > 0 &&
        seq_diff(pkt->ack, o->fin_seq) > 0) {
        uint32_t lost = o->fin_seq - o->next_seq;
        io->st->tcp_gaps++;
        io->st->tcp_gap_bytes += lost;
        if (*io->dissecting)
            io->gap(io->arg, !dir, lost);
        o->next_seq = o->fin_seq;
    }
    fin_check(h);
    fin_check(o);
    return h->rst || (hh[0].fin && hh[1].fin);
}
