/* The record layer: records held while in progress, ids, caps, and hand-over to the sink chain. */
#include "records.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "community_id.h"

#define KDC_PENDING_MAX 16 /* KDC requests awaiting a reply on one connection */

void sink_record(struct hs_sink *s, struct rec_hdr *r)
{
    for (; s; s = s->next)
        if (s->record) {
            s->record(s, r);
            return;
        }
}

void sink_finding(struct hs_sink *s, const struct hs_finding *f)
{
    for (; s; s = s->next)
        if (s->finding) {
            s->finding(s, f);
            return;
        }
}

void sink_stats(struct hs_sink *s, const struct hs_stats_view *v)
{
    for (; s; s = s->next)
        if (s->stats) {
            s->stats(s, v);
            return;
        }
}

void sink_tick(struct hs_sink *s, const struct timeval *now)
{
    for (; s; s = s->next)
        if (s->tick) {
            s->tick(s, now);
            return;
        }
}

void sink_end(struct hs_sink *s)
{
    for (; s; s = s->next)
        if (s->end) {
            s->end(s);
            return;
        }
}

void rec_store_init(struct rec_store *s, const struct hs_limits *lim, struct hs_stats *st, struct hs_sink *sink)
{
    memset(s, 0, sizeof *s);
    s->lim = lim;
    s->st = st;
    s->sink = sink;
    s->next_id = 1;
}

static struct rec_list *list_of(struct rec_store *s, enum rec_type t)
{
    return t == REC_AUTH ? &s->auth : &s->kdc;
}

/* Links r as the newest record of rc and of the store. */
/* What a held record of type t costs against the memory budget: the struct, and for an authentication the
 * NTLM CHALLENGE and AUTHENTICATE it may keep (apply_ntlm). An estimate, the same at link and unlink. */
static uint64_t rec_cost(enum rec_type t)
{
    const struct auth_rec *a = NULL;
    if (t == REC_AUTH)
        return sizeof(struct auth_rec) + sizeof *a->gss.ntlm.chal + sizeof *a->gss.ntlm.auth;
    return sizeof(struct kdc_rec);
}

/* The list of auth records not handed over yet (rec_store.unsent): rec_store_oldest_unsent() reads its head, so
 * that a run holding many streamed sessions does not walk them at every question. */
static void unsent_add(struct rec_store *s, struct rec_hdr *r)
{
    struct rec_list *l = &s->unsent;
    r->unext = NULL;
    r->uprev = l->newest;
    if (l->newest)
        l->newest->unext = r;
    else
        l->oldest = r;
    l->newest = r;
    l->n++;
}

static void unsent_remove(struct rec_store *s, struct rec_hdr *r)
{
    struct rec_list *l = &s->unsent;
    if (r->uprev)
        r->uprev->unext = r->unext;
    else
        l->oldest = r->unext;
    if (r->unext)
        r->unext->uprev = r->uprev;
    else
        l->newest = r->uprev;
    l->n--;
    r->uprev = r->unext = NULL;
}

static void link_rec(struct rec_store *s, struct rec_conn *rc, struct rec_hdr *r, enum rec_type t,
                     const struct hs_flow *flow, const struct timeval *ts)
{
    r->id = s->next_id++;
    r->type = t;
    r->ts = *ts;
    r->flow = *flow;
    r->owner = rc;
    r->open = true;
    struct rec_list *l = list_of(s, t);
    r->gprev = l->newest;
    if (l->newest)
        l->newest->gnext = r;
    else
        l->oldest = r;
    l->newest = r;
    l->n++;
    if (t == REC_AUTH)
        unsent_add(s, r);
    struct rec_hdr **pp = &rc->head;
    while (*pp)
        pp = &(*pp)->next;
    *pp = r;
    rc->n_started++;
    if (t == REC_AUTH)
        rc->n_auth++;
    else
        rc->n_kdc++;
    s->held_bytes += rec_cost(t);
    if (s->on_id)
        s->on_id(s->on_id_arg, r->id);
}

static void unlink_rec(struct rec_store *s, struct rec_hdr *r)
{
    s->held_bytes -= rec_cost(r->type);
    struct rec_conn *rc = r->owner;
    struct rec_hdr **pp = &rc->head;
    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp)
        *pp = r->next;
    if (r->type == REC_AUTH)
        rc->n_auth--;
    else
        rc->n_kdc--;
    struct rec_list *l = list_of(s, r->type);
    if (r->gprev)
        r->gprev->gnext = r->gnext;
    else
        l->oldest = r->gnext;
    if (r->gnext)
        r->gnext->gprev = r->gprev;
    else
        l->newest = r->gprev;
    l->n--;
    if (r->type == REC_AUTH && !r->streamed && !r->peeked)
        unsent_remove(s, r);
    r->next = r->gprev = r->gnext = NULL;
}

/* A spare list (written records kept for reuse, linked by next): push keeps r when the list holds fewer than
 * REC_SPARE_MAX (true), pop gives a zeroed record of `size` bytes from the list, else from calloc (NULL when
 * memory is short). */
static bool spare_push(struct rec_hdr **list, uint32_t *n, struct rec_hdr *r)
{
    if (*n >= REC_SPARE_MAX)
        return false;
    r->next = *list;
    *list = r;
    (*n)++;
    return true;
}

static void *spare_pop(struct rec_hdr **list, uint32_t *n, size_t size)
{
    struct rec_hdr *r = *list;
    if (!r)
        return calloc(1, size);
    *list = r->next;
    (*n)--;
    memset(r, 0, size);
    return r;
}

static void spare_free(struct rec_hdr **list, uint32_t *n)
{
    while (*list) {
        struct rec_hdr *r = *list;
        *list = r->next;
        free(r);
    }
    *n = 0;
}

/* What an auth record owns besides itself; then it is kept for the next one (up to REC_SPARE_MAX), else
 * freed. The proof holds secrets: it is wiped before it is freed. */
static void free_auth(struct rec_store *s, struct auth_rec *r)
{
    free(r->gss.krb.dec_ticket);
    free(r->gss.krb.dec_auth);
    free(r->gss.ntlm.auth);
    free(r->gss.ntlm.chal);
    if (r->gss.ntlm.proof) {
        OPENSSL_cleanse(r->gss.ntlm.proof, r->gss.ntlm.proof_size);
        free(r->gss.ntlm.proof);
    }
    free(r->uses);
    if (!s || !spare_push(&s->spare_auth, &s->n_spare_auth, &r->h))
        free(r);
}

/* What a KDC record owns besides itself. */
static void clear_kdc(struct kdc_rec *r)
{
    free(r->dec_tgt);
    for (int i = 0; i < KRB_MAX_ADDL_TICKETS; i++)
        free(r->dec_addl[i]);
    free(r->dec_reply);
    free(r->dec_tgs_auth);
}

/* A finished KDC record is kept for the next one (up to REC_SPARE_MAX), else freed. */
static void free_kdc(struct rec_store *s, struct kdc_rec *r)
{
    clear_kdc(r);
    if (!s || !spare_push(&s->spare_kdc, &s->n_spare_kdc, &r->h))
        free(r);
}

static void free_rec(struct rec_store *s, struct rec_hdr *r)
{
    if (r->type == REC_AUTH)
        free_auth(s, (struct auth_rec *)r);
    else
        free_kdc(s, (struct kdc_rec *)r);
}

void rec_store_free(struct rec_store *s)
{
    spare_free(&s->spare_kdc, &s->n_spare_kdc);
    spare_free(&s->spare_auth, &s->n_spare_auth);
}

/* Gives r its connection's Community ID (computed once per connection). */
static void set_community_id(struct rec_conn *rc, struct rec_hdr *r)
{
    if (!rc->community_id[0])
        community_id_v1(0, r->flow.af, r->flow.proto, r->flow.cli.ip, r->flow.srv.ip, r->flow.cli.port,
                        r->flow.srv.port, rc->community_id);
    memcpy(r->community_id, rc->community_id, sizeof r->community_id);
}

void rec_dcom_emit(struct rec_store *s, struct rec_conn *rc, const struct hs_flow *flow, const struct timeval *ts,
                   struct dcom_rec *d)
{
    d->h.id = s->next_id++;
    if (s->on_id)
        s->on_id(s->on_id_arg, d->h.id);
    d->h.type = REC_DCOM;
    d->h.ts = *ts;
    d->h.flow = *flow;
    d->h.owner = rc;
    d->h.open = false;
    d->h.next = d->h.gprev = d->h.gnext = NULL;
    set_community_id(rc, &d->h);
    sink_record(s->sink, &d->h);
}

void rec_write(struct rec_store *s, struct rec_hdr *r)
{
    struct rec_conn *rc = r->owner;
    unlink_rec(s, r);
    set_community_id(rc, r);
    if (r->type == REC_AUTH)
        s->st->records++;
    else
        s->st->kdc_records++;
    if (s->now)
        r->at = *s->now;
    if (r->streamed) {
        struct auth_rec *a = (struct auth_rec *)r;
        r->phase = REC_END;
        r->use_from = r->uses_sent;
        r->use_to = a->nuses;
    } else {
        r->phase = REC_WHOLE;
    }
    sink_record(s->sink, r);
    if (!s->sink_takes)
        free_rec(s, r);
}

void rec_detached_free(struct rec_hdr *r)
{
    if (r)
        free_rec(NULL, r);
}

/* A heap copy of n bytes at p (NULL for NULL); *ok cleared when memory is short. */
static void *dup_piece(const void *p, size_t n, bool *ok)
{
    if (!p || !n)
        return NULL;
    void *q = malloc(n);
    if (!q) {
        *ok = false;
        return NULL;
    }
    memcpy(q, p, n);
    return q;
}

struct rec_hdr *rec_snapshot(const struct rec_hdr *h)
{
    if (!h || h->type != REC_AUTH)
        return NULL;
    const struct auth_rec *r = (const struct auth_rec *)h;
    struct auth_rec *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *r;
    c->h.next = c->h.gprev = c->h.gnext = c->h.uprev = c->h.unext = NULL;
    c->h.owner = NULL;
    bool ok = true;
    c->gss.ntlm.auth = dup_piece(r->gss.ntlm.auth, sizeof *r->gss.ntlm.auth, &ok);
    c->gss.ntlm.chal = dup_piece(r->gss.ntlm.chal, sizeof *r->gss.ntlm.chal, &ok);
    c->gss.ntlm.proof = dup_piece(r->gss.ntlm.proof, r->gss.ntlm.proof_size, &ok);
    c->gss.krb.dec_ticket = dup_piece(r->gss.krb.dec_ticket, sizeof *r->gss.krb.dec_ticket, &ok);
    c->gss.krb.dec_auth = dup_piece(r->gss.krb.dec_auth, sizeof *r->gss.krb.dec_auth, &ok);
    c->uses = dup_piece(r->uses, (size_t)r->uses_cap * sizeof *r->uses, &ok);
    if (!ok) {
        free_auth(NULL, c);
        return NULL;
    }
    return &c->h;
}

/* One past the last use of r, from h->uses_sent on, that the hand-over in progress (h->phase) carries;
 * h->uses_sent when it carries none. */
static uint32_t uses_carried_to(const struct rec_hdr *h, const struct auth_rec *r)
{
    uint32_t to = h->uses_sent;
    for (uint32_t i = h->uses_sent; i < r->nuses; i++)
        if (rec_use_carried(h, &r->uses[i]))
            to = i + 1;
    return to;
}

/* The uses the hand-over just made carried, in [h->uses_sent, to), marked sent; uses_sent moved past them. */
static void uses_mark_sent(struct rec_hdr *h, struct auth_rec *r, uint32_t to)
{
    for (uint32_t i = h->uses_sent; i < to; i++)
        if (rec_use_carried(h, &r->uses[i]))
            r->uses[i].sent = true;
    while (h->uses_sent < r->nuses && r->uses[h->uses_sent].sent)
        h->uses_sent++;
}

void rec_conn_stream(struct rec_store *s, struct rec_conn *rc)
{
    for (struct rec_hdr *h = rc->head; h; h = h->next) {
        if (h->type != REC_AUTH || h->hold || (!h->streamed && h->open))
            continue;
        struct auth_rec *r = (struct auth_rec *)h;
        if (s->now)
            h->at = *s->now;
        if (!h->streamed) {
            set_community_id(rc, h);
            h->phase = REC_AT_VERDICT;
            unsent_remove(s, h);
            h->streamed = true;
            sink_record(s->sink, h);
        }
        while (h->uses_sent < r->nuses && r->uses[h->uses_sent].sent)
            h->uses_sent++;
        h->phase = REC_USES;
        uint32_t to = uses_carried_to(h, r);
        if (to == h->uses_sent)
            continue;
        h->use_from = h->uses_sent;
        h->use_to = to;
        sink_record(s->sink, h);
        uses_mark_sent(h, r, to);
    }
}

void rec_conn_peek(struct rec_store *s, struct rec_conn *rc)
{
    for (struct rec_hdr *h = rc->head; h; h = h->next) {
        if (h->type != REC_AUTH || h->hold || h->open)
            continue;
        struct auth_rec *r = (struct auth_rec *)h;
        h->phase = REC_PEEK; /* for rec_use_carried: answered and not shown yet */
        uint32_t to = uses_carried_to(h, r);
        if (!h->peeked || to != h->uses_sent) {
            if (!h->peeked) {
                unsent_remove(s, h); /* it no longer holds the decisions back (rec_store_oldest_unsent) */
                h->peeked = true;
            }
            if (s->now)
                h->at = *s->now;
            sink_record(s->sink, h);
            uses_mark_sent(h, r, to);
        }
        h->phase = REC_WHOLE;
    }
}

struct auth_rec *rec_auth_new(struct rec_store *s, struct rec_conn *rc, const struct hs_flow *flow,
                              const struct timeval *ts, enum auth_transport t)
{
    if (rc->n_auth >= s->lim->max_records_per_conn) {
        /* The oldest finished record makes room; if none is finished the new one is dropped. */
        struct rec_hdr *done = NULL;
        for (struct rec_hdr *r = rc->head; r; r = r->next)
            if (r->type == REC_AUTH && !r->open) {
                done = r;
                break;
            }
        if (!done) {
            s->st->records_dropped++;
            return NULL;
        }
        s->st->records_written_early++;
        rec_write(s, done);
    }
    if (s->auth.n >= s->lim->max_records_total && s->auth.oldest) {
        /* All connections together hold as many records as the engine keeps (input opening connection
         * after connection, each with attempts that never end): the oldest anywhere is written now. */
        s->st->records_written_early++;
        rec_write(s, s->auth.oldest);
    }
    struct auth_rec *r = spare_pop(&s->spare_auth, &s->n_spare_auth, sizeof *r);
    if (!r) {
        s->st->records_dropped++;
        return NULL;
    }
    link_rec(s, rc, &r->h, REC_AUTH, flow, ts);
    r->transport = t;
    r->gss.spnego.neg_state = NEG_STATE_ABSENT;
    return r;
}

struct auth_rec *rec_auth_get(struct rec_conn *rc, uint64_t id)
{
    if (!id)
        return NULL;
    for (struct rec_hdr *r = rc->head; r; r = r->next)
        if (r->id == id)
            return r->type == REC_AUTH ? (struct auth_rec *)r : NULL;
    return NULL;
}

struct auth_rec *rec_auth_newest(struct rec_conn *rc, bool (*match)(const struct auth_rec *r, const void *arg),
                                 const void *arg)
{
    struct auth_rec *found = NULL;
    for (struct rec_hdr *r = rc->head; r; r = r->next)
        if (r->type == REC_AUTH && match((const struct auth_rec *)r, arg))
            found = (struct auth_rec *)r;
    return found;
}

void rec_auth_verdict(struct auth_rec *r, uint64_t frame, enum auth_result res, struct hs_status status,
                      enum verdict_source src)
{
    r->result = res;
    r->status = status;
    r->verdict_source = src;
    r->frames.verdict = frame;
    r->state = AUTH_DECIDED;
    r->h.open = false;
}

struct auth_use *rec_use_add(struct rec_store *s, struct auth_rec *r, uint64_t frame)
{
    if (r->nuses >= s->lim->max_uses_per_record) {
        r->uses_dropped++;
        s->st->uses_dropped++;
        return NULL;
    }
    if (r->nuses == r->uses_cap) {
        /* Grown on demand: most records have a use or two, and a record is not worth 32 of them up front. */
        uint32_t cap = r->uses_cap ? 2 * r->uses_cap : 4;
        if (cap > s->lim->max_uses_per_record)
            cap = s->lim->max_uses_per_record;
        struct auth_use *nu = realloc(r->uses, (size_t)cap * sizeof *nu);
        if (!nu) {
            r->uses_dropped++;
            s->st->uses_dropped++;
            return NULL;
        }
        r->uses = nu;
        r->uses_cap = cap;
    }
    struct auth_use *u = &r->uses[r->nuses++];
    memset(u, 0, sizeof *u);
    u->frame_req = frame;
    return u;
}

struct kdc_rec *rec_kdc_oldest(struct rec_conn *rc)
{
    for (struct rec_hdr *r = rc->head; r; r = r->next)
        if (r->type == REC_KERBEROS)
            return (struct kdc_rec *)r;
    return NULL;
}

struct kdc_rec *rec_kdc_new(struct rec_store *s, struct rec_conn *rc, const struct hs_flow *flow,
                            const struct timeval *ts, bool pending)
{
    if (pending) {
        if (rc->n_kdc >= KDC_PENDING_MAX) { /* a flood of unanswered requests: the oldest is written */
            s->st->kdc_written_early++;
            rec_write(s, &rec_kdc_oldest(rc)->h);
        } else if (s->kdc.n >= s->lim->max_kdc_pending_total && s->kdc.oldest) {
            s->st->kdc_written_early++;
            rec_write(s, s->kdc.oldest); /* the same across connections (UDP requests from port after port) */
        }
    }
    struct kdc_rec *r = spare_pop(&s->spare_kdc, &s->n_spare_kdc, sizeof *r);
    if (!r)
        return NULL;
    link_rec(s, rc, &r->h, REC_KERBEROS, flow, ts);
    r->udp = flow->proto == 17;
    return r;
}

bool rec_store_oldest_unsent(const struct rec_store *s, struct timeval *ts)
{
    const struct rec_hdr *a = s->unsent.oldest, *k = s->kdc.oldest;
    const struct rec_hdr *o = !a ? k : !k ? a : timercmp(&a->ts, &k->ts, <) ? a : k;
    if (o)
        *ts = o->ts;
    return o != NULL;
}

void rec_conn_flush(struct rec_store *s, struct rec_conn *rc)
{
    while (rc->head)
        rec_write(s, rc->head);
}

void rec_conn_discard(struct rec_store *s, struct rec_conn *rc)
{
    while (rc->head) {
        struct rec_hdr *r = rc->head;
        unlink_rec(s, r);
        free_rec(s, r);
    }
}
