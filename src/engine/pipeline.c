/* --threads N: batches of decoded frames spread over N worker engines, their records merged back in run-key order
 * (pipeline.h). */
#include "pipeline.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytab.h"
#include "util.h"

#define BATCH_FRAMES 4096u             /* frames per batch */
#define BATCH_ARENA ((size_t)8 << 20)  /* payload (and, with -w, frame) bytes per batch */
#define IDMAP_WINDOW ((size_t)1 << 18) /* ids kept per worker for translating references (2 MiB) */
#define CARRY_BUCKETS 4096u
#define EVENT_BUDGET ((uint64_t)64 << 20) /* record bytes a batch may leave for the merge before batches shrink */
#define BATCH_FRAMES_MIN 16u

/* A frame of the batch. */
struct bframe {
    uint64_t frame;
    struct timeval ts;      /* µs */
    uint64_t clock;         /* the engine clock at it */
    struct hs_pkt pkt;      /* decoded; payload in the arena */
    int32_t worker;         /* the worker whose connection it touches, -1: none */
    int dlt;
    struct pcap_pkthdr h;   /* with a frame hook: the capture's header, and the frame at raw */
    const uint8_t *raw;
    struct hs_pkt_conn last; /* what the worker made of it */
};

enum pev_kind { PEV_START, PEV_RECORD };

/* What a worker hands over, at its run key. */
struct pev {
    struct engine_key key;
    uint8_t kind;            /* enum pev_kind */
    bool has_unsent;         /* the worker's oldest record not handed over, after this event */
    bool user_ticket;        /* a DCOM record whose user auth_who() took from its auth record's ticket */
    struct timeval unsent;
    uint64_t id;             /* PEV_START: the worker's id */
    uint64_t user_ap_req;    /* with user_ticket: the auth record's AP-REQ frame then */
    struct rec_hdr *rec;     /* PEV_RECORD: the merge's to free (a transfer, a snapshot or a DCOM copy) */
};

#define ID_LIVE (1ull << 63)

struct idpin {
    uint64_t id, run_id;     /* id 0: a free slot */
};

struct worker {
    struct hs_pipeline *p;
    unsigned ix;
    struct hs_engine e;
    struct hs_sink sink;     /* the worker engine's sink: hands records over as events */
    struct kc_keys keys;     /* a view of the run's keys with a libkrb5 context of its own */
    pthread_t thread;
    bool started;
    uint64_t gen_seen;
    struct pev *ev[2];       /* the events of each of the two batches, in key order */
    size_t nev[2], cap_ev[2];
    unsigned evix;           /* the batch the worker is on */
    uint64_t ev_bytes[2];    /* what the records of each batch's events hold */
    struct engine_key last_key; /* the last event's key (they must not go back) */
    size_t pos;              /* the merge's position in ev */
    /* the merge's view of the worker */
    bool has_unsent;
    struct timeval unsent;
    uint64_t *idmap;         /* worker id - idbase → run id, | ID_LIVE while the record is not written */
    uint64_t idbase;         /* the worker id idmap[0] stands for */
    size_t nid, cap_id;
    struct idpin *pins;      /* records still open whose ids left the window: worker id → run id */
    size_t npins, cap_pins;  /* cap_pins a power of two, or 0 */
    uint64_t ids_unmapped;   /* references to records written too long ago: written as 0 */
};

/* What the correlation stage wrote into a streamed auth record at its verdict, carried over to its later
 * hand-overs (which are copies of the worker's record, made before the merge saw the verdict). */
struct carry {
    struct carry *next;
    uint64_t id;             /* run id */
    uint64_t ap_req;         /* frames.ap_req the ticket's client was resolved for */
    char client[256];
    uint64_t issued_frame;
    uint64_t dcom_activation;
    bool dcom_have_clsid;
    uint8_t dcom_clsid[16];
    const char *dcom_class;
};

enum cmd { CMD_NONE, CMD_BATCH, CMD_IDLE, CMD_FINISH, CMD_EXIT };

/* Frames queued for the workers, their payloads (and, with -w, the frames) in the arena. */
struct batch {
    struct bframe *b;
    size_t nb;
    uint8_t *arena;
    size_t arena_used;
};

struct hs_pipeline {
    struct hs_engine *e;     /* the dispatcher: clock, decoder, frame counters, the sink chain */
    unsigned n;
    struct worker *w;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t gen;
    enum cmd cmd;
    unsigned cmd_ix;         /* the batch (and event arrays) of the command */
    uint64_t idle_clock;
    unsigned busy;
    /* Two batches: the reader fills one while the workers process the other, and merges a batch's events while
     * the workers are on the next. */
    struct batch bt[2];
    unsigned cur;            /* the batch being filled */
    bool inflight;           /* the other is with the workers */
    size_t batch_frames;     /* frames a batch holds now: batch_base, less after a batch whose records were many */
    size_t batch_base;       /* BATCH_FRAMES; tests set fewer */
    size_t id_window;        /* IDMAP_WINDOW; tests set fewer */
    pipeline_frame_fn hook;
    void *hook_arg;
    /* the merge */
    uint64_t next_id;
    struct carry *carry[CARRY_BUCKETS];
    struct hs_stats sum;
    uint64_t *dispatched;    /* packets queued for each worker */
    struct hs_worker_stats *wstats;
};

/* ---- the workers' side ---- */

static struct pev *ev_push(struct worker *w)
{
    unsigned x = w->evix;
    if (w->nev[x] == w->cap_ev[x]) {
        size_t nc = w->cap_ev[x] ? 2 * w->cap_ev[x] : 256;
        struct pev *nv = realloc(w->ev[x], nc * sizeof *nv);
        if (!nv)
            return NULL;
        w->ev[x] = nv;
        w->cap_ev[x] = nc;
    }
    struct pev *v = &w->ev[x][w->nev[x]++];
    memset(v, 0, sizeof *v);
    v->key = w->e.key;
    /* The key order the merge rests on (engine.h). */
    assert(w->last_key.frame < v->key.frame ||
           (w->last_key.frame == v->key.frame &&
            (w->last_key.cls < v->key.cls || (w->last_key.cls == v->key.cls && w->last_key.sub <= v->key.sub))));
    w->last_key = v->key;
    v->has_unsent = rec_store_oldest_unsent(&w->e.recs, &v->unsent); /* the correlation's decision time */
    return v;
}

/* What a record handed over holds, in bytes (approximately: its struct and what it owns). */
static uint64_t rec_held_bytes(const struct rec_hdr *r)
{
    if (r->type == REC_DCOM)
        return sizeof(struct dcom_rec);
    if (r->type != REC_AUTH)
        return sizeof(struct kdc_rec);
    const struct auth_rec *a = (const struct auth_rec *)r;
    return sizeof *a + (uint64_t)a->uses_cap * sizeof *a->uses + a->gss.ntlm.proof_size +
           (a->gss.ntlm.auth ? sizeof *a->gss.ntlm.auth : 0) + (a->gss.ntlm.chal ? sizeof *a->gss.ntlm.chal : 0);
}

static void on_id(void *arg, uint64_t id)
{
    struct worker *w = arg;
    struct pev *v = ev_push(w);
    if (v) {
        v->kind = PEV_START;
        v->id = id;
    }
}

static void on_record(struct hs_sink *self, struct rec_hdr *r)
{
    struct worker *w = (struct worker *)((char *)self - offsetof(struct worker, sink));
    struct rec_hdr *keep = NULL;
    bool user_ticket = false;
    uint64_t user_ap_req = 0;
    if (r->type == REC_DCOM) {
        struct dcom_rec *d = malloc(sizeof *d);
        if (d) {
            *d = *(struct dcom_rec *)r;
            keep = &d->h;
            const struct auth_rec *a = r->owner ? rec_auth_get(r->owner, d->auth) : NULL;
            if (a && w->e.recs.stream && auth_who_is_ticket(a)) {
                user_ticket = true;
                user_ap_req = a->frames.ap_req;
            }
        }
    } else if (r->phase == REC_WHOLE || r->phase == REC_END) {
        keep = r; /* rec_write() leaves it to this sink (rec_store.sink_takes) */
    } else {
        keep = rec_snapshot(r);
    }
    if (!keep) { /* memory is short: the record is lost, and counted */
        w->e.st.records_dropped++;
        if (r->type != REC_DCOM && (r->phase == REC_WHOLE || r->phase == REC_END))
            rec_detached_free(r); /* a DCOM record is the emitter's (on its stack), never the sink's */
        return;
    }
    keep->owner = NULL;
    struct pev *v = ev_push(w);
    if (!v) {
        w->e.st.records_dropped++;
        if (keep->type == REC_DCOM)
            free(keep);
        else
            rec_detached_free(keep);
        return;
    }
    v->kind = PEV_RECORD;
    v->rec = keep;
    w->ev_bytes[w->evix] += rec_held_bytes(keep);
    v->user_ticket = user_ticket;
    v->user_ap_req = user_ap_req;
}

static void run_batch(struct worker *w, const struct batch *bt)
{
    struct hs_engine *e = &w->e;
    for (size_t i = 0; i < bt->nb; i++) {
        struct bframe *f = &bt->b[i];
        if (f->worker < 0)
            continue;
        if ((unsigned)f->worker == w->ix) {
            e->frame = f->frame;
            e->now = f->ts;
            e->clock = f->clock;
            e->last = (struct hs_pkt_conn){0, false, false};
            engine_conn_packet(e, &f->pkt);
            f->last = e->last;
        } else {
            engine_replay(e, f->frame, &f->ts, f->clock);
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct hs_pipeline *p = w->p;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (w->gen_seen == p->gen)
            pthread_cond_wait(&p->go, &p->mu);
        w->gen_seen = p->gen;
        enum cmd cmd = p->cmd;
        unsigned ix = p->cmd_ix;
        uint64_t clock = p->idle_clock;
        pthread_mutex_unlock(&p->mu);
        struct hs_engine *d = p->e; /* read only by the commands that run while the reader waits */
        w->evix = ix;
        switch (cmd) {
        case CMD_BATCH:
            run_batch(w, &p->bt[ix]);
            break;
        case CMD_IDLE: /* engine_idle(): the time stays the last packet's */
            w->e.frame = d->frame;
            w->e.now = d->now;
            engine_idle_expire(&w->e, clock);
            break;
        case CMD_FINISH: /* engine_finish(): at the last packet given to the engine */
            w->e.frame = d->frame;
            w->e.now = d->now;
            w->e.clock = d->clock;
            engine_close_all(&w->e);
            break;
        default:
            break;
        }
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
        if (cmd == CMD_EXIT)
            return NULL;
    }
}

/* Starts cmd on every worker, its events going to event arrays ix; the last command must be done (cmd_wait). */
static void cmd_start(struct hs_pipeline *p, enum cmd cmd, unsigned ix)
{
    pthread_mutex_lock(&p->mu);
    p->cmd = cmd;
    p->cmd_ix = ix;
    p->busy = p->n;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
}

/* Waits until every worker is done with the last command. */
static void cmd_wait(struct hs_pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->busy)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* ---- the merge ---- */

static int key_cmp(const struct engine_key *a, const struct engine_key *b)
{
    if (a->frame != b->frame)
        return a->frame < b->frame ? -1 : 1;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    return a->sub < b->sub ? -1 : a->sub > b->sub;
}

/* Worker ids stand for run ids (release() gives them out in start order). The ids of the last IDMAP_WINDOW records a
 * worker started are in a window; a record still open when its id leaves the window is pinned until it is written,
 * however long it lives (a day-long SMB session), so its own id and the references to it stay right. Records are
 * held only up to the record caps, so the pins are bounded by them. A reference to a record written and out of the
 * window becomes 0 (counted: stats workers[].ids_unmapped). */

static size_t pin_slot(const struct worker *w, uint64_t id)
{
    size_t mask = w->cap_pins - 1, i = (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    while (w->pins[i].id && w->pins[i].id != id)
        i = (i + 1) & mask;
    return i;
}

static void pin_put(struct worker *w, uint64_t id, uint64_t run_id)
{
    if (2 * (w->npins + 1) > w->cap_pins) {
        size_t nc = w->cap_pins ? 2 * w->cap_pins : 64;
        struct idpin *nv = calloc(nc, sizeof *nv), *old = w->pins;
        if (!nv)
            return; /* its id and references to it become 0 */
        size_t oc = w->cap_pins;
        w->pins = nv;
        w->cap_pins = nc;
        for (size_t i = 0; i < oc; i++)
            if (old[i].id)
                w->pins[pin_slot(w, old[i].id)] = old[i];
        free(old);
    }
    size_t i = pin_slot(w, id);
    if (!w->pins[i].id)
        w->npins++;
    w->pins[i] = (struct idpin){id, run_id};
}

/* Removes id's pin (linear probing: the entries after it that would no longer be found move back). */
static void pin_drop(struct worker *w, uint64_t id)
{
    if (!w->cap_pins)
        return;
    size_t mask = w->cap_pins - 1, i = pin_slot(w, id);
    if (!w->pins[i].id)
        return;
    w->npins--;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        w->pins[i].id = 0;
        if (!w->pins[j].id)
            return;
        size_t home = (size_t)((w->pins[j].id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
        /* j's entry may move to i unless its home lies cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            w->pins[i] = w->pins[j];
            i = j;
        }
    }
}

/* The oldest k ids leave the window: the open records among them are pinned. */
static void window_drop(struct worker *w, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (w->idmap[i] & ID_LIVE)
            pin_put(w, w->idbase + i, w->idmap[i] & ~ID_LIVE);
    memmove(w->idmap, w->idmap + k, (w->nid - k) * sizeof *w->idmap);
    w->nid -= k;
    w->idbase += k;
}

/* The run id of worker w's id: 0 for 0, or for a record written and out of the window. */
static uint64_t map_id(struct worker *w, uint64_t id)
{
    if (!id)
        return 0;
    if (id >= w->idbase && id - w->idbase < w->nid)
        return w->idmap[id - w->idbase] & ~ID_LIVE;
    if (w->cap_pins) {
        size_t i = pin_slot(w, id);
        if (w->pins[i].id)
            return w->pins[i].run_id;
    }
    w->ids_unmapped++;
    return 0;
}

/* A record of worker w was written (its last hand-over): its id is no longer pinned. */
static void map_done(struct worker *w, uint64_t id)
{
    if (id >= w->idbase && id - w->idbase < w->nid)
        w->idmap[id - w->idbase] &= ~ID_LIVE;
    else
        pin_drop(w, id);
}

/* Worker w started record id, which is run_id in the run. Ids come dense; a gap (an event lost for want of
 * memory) is filled with ids of no record. */
static void map_add(struct worker *w, uint64_t id, uint64_t run_id)
{
    if (!w->nid)
        w->idbase = id;
    if (id < w->idbase + w->nid)
        return; /* not possible: ids go up */
    uint64_t gap = id - (w->idbase + w->nid);
    size_t window = w->p->id_window;
    if (gap >= window) { /* everything before leaves the window */
        window_drop(w, w->nid);
        w->idbase = id;
        gap = 0;
    }
    while (w->nid + gap + 1 > w->cap_id) {
        size_t nc = w->cap_id ? 2 * w->cap_id : (window < 1024 ? window : 1024);
        uint64_t *nv = nc <= window ? realloc(w->idmap, nc * sizeof *nv) : NULL;
        if (nv) {
            w->idmap = nv;
            w->cap_id = nc;
        } else if (w->nid) { /* the window is full (or memory short): the older half leaves */
            window_drop(w, w->nid / 2 > gap ? w->nid / 2 : w->nid);
        } else if (w->cap_id) {
            gap = 0; /* an empty window too short for the gap: start it here */
            w->idbase = id;
        } else {
            return; /* no memory at all: ids of this worker become 0 */
        }
    }
    while (gap--)
        w->idmap[w->nid++] = 0;
    w->idmap[w->nid++] = run_id | ID_LIVE;
}

static struct carry **carry_slot(struct hs_pipeline *p, uint64_t id)
{
    struct carry **pp = &p->carry[(id * 0x9E3779B97F4A7C15ull) >> 52 & (CARRY_BUCKETS - 1)];
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    return pp;
}

static void carry_save(struct hs_pipeline *p, const struct auth_rec *a)
{
    struct carry **pp = carry_slot(p, a->h.id);
    struct carry *c = *pp;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return;
        c->id = a->h.id;
        *pp = c;
    }
    c->ap_req = a->frames.ap_req;
    memcpy(c->client, a->gss.krb.ticket.client, sizeof c->client);
    c->issued_frame = a->gss.krb.ticket.issued_frame;
    c->dcom_activation = a->dcerpc.dcom_activation;
    c->dcom_have_clsid = a->dcerpc.dcom_have_clsid;
    memcpy(c->dcom_clsid, a->dcerpc.dcom_clsid, 16);
    c->dcom_class = a->dcerpc.dcom_class;
}

static void carry_apply(struct hs_pipeline *p, struct auth_rec *a)
{
    struct carry *c = *carry_slot(p, a->h.id);
    if (!c)
        return;
    if (a->frames.ap_req == c->ap_req) { /* a new AP-REQ since would have cleared what was resolved */
        memcpy(a->gss.krb.ticket.client, c->client, sizeof c->client);
        a->gss.krb.ticket.issued_frame = c->issued_frame;
    }
    a->dcerpc.dcom_activation = c->dcom_activation;
    a->dcerpc.dcom_have_clsid = c->dcom_have_clsid;
    memcpy(a->dcerpc.dcom_clsid, c->dcom_clsid, 16);
    a->dcerpc.dcom_class = c->dcom_class;
}

static void carry_drop(struct hs_pipeline *p, uint64_t id)
{
    struct carry **pp = carry_slot(p, id);
    struct carry *c = *pp;
    if (c) {
        *pp = c->next;
        free(c);
    }
}

static void release(struct hs_pipeline *p, struct worker *w, struct pev *v)
{
    if (v->kind == PEV_START) {
        map_add(w, v->id, p->next_id++);
        return;
    }
    struct rec_hdr *r = v->rec;
    uint64_t wid = r->id;
    r->id = map_id(w, wid);
    if (r->phase == REC_WHOLE || r->phase == REC_END || r->type == REC_DCOM)
        map_done(w, wid);
    if (r->type == REC_AUTH) {
        struct auth_rec *a = (struct auth_rec *)r;
        a->carrier = map_id(w, a->carrier);
        if (r->phase == REC_USES || r->phase == REC_END)
            carry_apply(p, a);
    } else if (r->type == REC_DCOM) {
        struct dcom_rec *d = (struct dcom_rec *)r;
        d->auth = map_id(w, d->auth);
        if (v->user_ticket) {
            struct carry *c = *carry_slot(p, d->auth);
            if (c && c->ap_req == v->user_ap_req)
                strlcpy_n(d->user, sizeof d->user, c->client, sizeof c->client);
        }
    }
    sink_record(p->e->sink, r);
    if (r->type == REC_AUTH && r->phase == REC_AT_VERDICT)
        carry_save(p, (struct auth_rec *)r);
    else if (r->type == REC_AUTH && r->phase == REC_END)
        carry_drop(p, r->id);
    if (r->type == REC_DCOM)
        free(r);
    else
        rec_detached_free(r);
}

/* Hands every worker's events in arrays ix (a finished command's) to the sink chain, in key order. */
static void merge(struct hs_pipeline *p, unsigned ix)
{
    for (unsigned i = 0; i < p->n; i++)
        p->w[i].pos = 0;
    for (;;) {
        struct worker *best = NULL;
        for (unsigned i = 0; i < p->n; i++) {
            struct worker *w = &p->w[i];
            if (w->pos < w->nev[ix] &&
                (!best || key_cmp(&w->ev[ix][w->pos].key, &best->ev[ix][best->pos].key) < 0))
                best = w;
        }
        if (!best)
            break;
        struct pev *v = &best->ev[ix][best->pos++];
        best->has_unsent = v->has_unsent;
        best->unsent = v->unsent;
        release(p, best, v);
    }
    for (unsigned i = 0; i < p->n; i++) {
        struct worker *w = &p->w[i];
        if (w->cap_ev[ix] > 65536 && w->nev[ix] < w->cap_ev[ix] / 8) { /* after a spike: the array goes */
            free(w->ev[ix]);
            w->ev[ix] = NULL;
            w->cap_ev[ix] = 0;
        }
        w->nev[ix] = w->pos = 0;
    }
}

bool pipeline_oldest_unsent(void *arg, struct timeval *ts)
{
    struct hs_pipeline *p = arg;
    bool any = false;
    for (unsigned i = 0; i < p->n; i++) {
        struct worker *w = &p->w[i];
        if (w->has_unsent && (!any || timercmp(&w->unsent, ts, <))) {
            *ts = w->unsent;
            any = true;
        }
    }
    return any;
}

/* ---- the dispatcher's side ---- */

/* A processed batch: its events merged, its frames to the hook, and it is free to be filled again. The records a
 * batch leaves for the merge are held outside every cap until it runs (with --stream a use answered copies its
 * whole record): after a batch that left more than EVENT_BUDGET, batches shrink (halving, down to
 * BATCH_FRAMES_MIN frames), and grow back once batches leave little. */
static void retire(struct hs_pipeline *p, unsigned ix)
{
    struct batch *bt = &p->bt[ix];
    uint64_t bytes = 0;
    for (unsigned i = 0; i < p->n; i++) {
        bytes += p->w[i].ev_bytes[ix];
        p->w[i].ev_bytes[ix] = 0;
    }
    if (bytes > EVENT_BUDGET && p->batch_frames > BATCH_FRAMES_MIN)
        p->batch_frames /= 2;
    else if (bytes < EVENT_BUDGET / 8 && p->batch_frames < p->batch_base)
        p->batch_frames = 2 * p->batch_frames < p->batch_base ? 2 * p->batch_frames : p->batch_base;
    merge(p, ix);
    if (p->hook)
        for (size_t i = 0; i < bt->nb; i++)
            p->hook(p->hook_arg, bt->b[i].dlt, &bt->b[i].h, bt->b[i].raw, &bt->b[i].last);
    bt->nb = 0;
    bt->arena_used = 0;
}

/* The batch being filled goes to the workers once they are done with the other, which is then merged while they
 * work; the reader goes on filling the other. */
static void submit(struct hs_pipeline *p)
{
    unsigned ix = p->cur, prev = ix ^ 1;
    bool had = p->inflight;
    if (had)
        cmd_wait(p);
    p->inflight = p->bt[ix].nb > 0;
    if (p->inflight)
        cmd_start(p, CMD_BATCH, ix);
    if (had)
        retire(p, prev);
    if (p->inflight)
        p->cur = prev;
}

void pipeline_submit(struct hs_pipeline *p)
{
    submit(p);
}

void pipeline_flush(struct hs_pipeline *p)
{
    submit(p);
    if (p->inflight) {
        cmd_wait(p);
        p->inflight = false;
        retire(p, p->cur ^ 1);
    }
}

/* Runs cmd (not a batch) on every worker, with no batch in flight, and merges what it made. */
static void run_cmd(struct hs_pipeline *p, enum cmd cmd)
{
    pipeline_flush(p);
    cmd_start(p, cmd, p->cur);
    cmd_wait(p);
    for (unsigned i = 0; i < p->n; i++) /* not a batch: what it left does not size the next ones */
        p->w[i].ev_bytes[p->cur] = 0;
    merge(p, p->cur);
}

void pipeline_packet(struct hs_pipeline *p, int dlt, uint64_t frame, const struct timeval *ts,
                     const struct pcap_pkthdr *h, const uint8_t *data)
{
    struct hs_engine *e = p->e;
    struct hs_pkt pkt;
    bool ok = engine_dispatch(e, dlt, frame, ts, data, h->caplen, &pkt);
    bool touch = ok && engine_touches(&pkt);
    if (!touch && !p->hook)
        return; /* nothing any worker does, nothing to write */
    size_t need = (touch ? pkt.paylen : 0) + (p->hook ? h->caplen : 0);
    if (need > BATCH_ARENA)
        return; /* larger than a batch holds: not possible for a capture's frame */
    struct batch *bt = &p->bt[p->cur];
    if (bt->nb >= p->batch_frames || bt->arena_used + need > BATCH_ARENA) {
        submit(p);
        bt = &p->bt[p->cur];
    }
    uint8_t *room = bt->arena + bt->arena_used;
    bt->arena_used += need;
    struct bframe *f = &bt->b[bt->nb++];
    f->frame = frame;
    f->ts = *ts;
    f->clock = e->clock;
    f->worker = -1;
    f->dlt = dlt;
    f->last = (struct hs_pkt_conn){0, false, false};
    f->raw = NULL;
    if (touch) {
        f->pkt = pkt;
        if (pkt.paylen)
            memcpy(room, pkt.payload, pkt.paylen);
        f->pkt.payload = room;
        f->worker = (int32_t)(((uint64_t)flow_hash(&pkt) * p->n) >> 32);
        p->dispatched[f->worker]++;
        room += pkt.paylen;
    }
    if (p->hook) {
        f->h = *h;
        memcpy(room, data, h->caplen);
        f->raw = room;
    }
}

void pipeline_set_frame_hook(struct hs_pipeline *p, pipeline_frame_fn fn, void *arg)
{
    pipeline_flush(p);
    p->hook = fn;
    p->hook_arg = arg;
}

void pipeline_idle(struct hs_pipeline *p, int64_t now_us)
{
    pipeline_flush(p);
    if (!engine_idle_clock(p->e, now_us))
        return;
    p->idle_clock = p->e->clock;
    run_cmd(p, CMD_IDLE);
    struct timeval now = {(time_t)(now_us / 1000000), (suseconds_t)(now_us % 1000000)};
    sink_tick(p->e->sink, &now);
}

/* The run's counters: the dispatcher's and every worker's, summed, into p->sum. */
static void sum_stats(struct hs_pipeline *p)
{
    _Static_assert(offsetof(struct hs_stats, interrupted) % sizeof(uint64_t) == 0, "hs_stats: counters first");
    size_t words = offsetof(struct hs_stats, interrupted) / sizeof(uint64_t);
    p->sum = p->e->st;
    uint64_t *s = (uint64_t *)&p->sum;
    for (unsigned i = 0; i < p->n; i++) {
        const uint64_t *x = (const uint64_t *)&p->w[i].e.st;
        for (size_t k = 0; k < words; k++)
            s[k] += x[k];
    }
}

void pipeline_stats_view(struct hs_pipeline *p, struct hs_stats_view *v)
{
    pipeline_flush(p);
    engine_stats_view(p->e, v);
    sum_stats(p);
    v->st = &p->sum;
    v->flows_tracked = 0;
    v->memory = 0;
    v->ooo_bytes = 0;
    v->pdu_bytes = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const struct hs_engine *w = &p->w[i].e;
        struct hs_worker_stats *x = &p->wstats[i];
        *x = (struct hs_worker_stats){p->dispatched[i], w->flows.n,     engine_memory(w),        w->ooo_total,
                                      w->budget.held,   p->w[i].ids_unmapped, &w->st};
        v->flows_tracked += x->flows_tracked;
        v->memory += x->memory;
        v->ooo_bytes += x->ooo_bytes;
        v->pdu_bytes += x->pdu_bytes;
    }
    v->workers = p->wstats;
    v->n_workers = p->n;
}

void pipeline_stats(struct hs_pipeline *p, int64_t now_us)
{
    struct hs_stats_view view;
    pipeline_stats_view(p, &view);
    view.periodic = true;
    view.has_ts = true;
    view.ts.tv_sec = (time_t)(now_us / 1000000);
    view.ts.tv_usec = (suseconds_t)(now_us % 1000000);
    sink_stats(p->e->sink, &view);
}

void pipeline_finish(struct hs_pipeline *p)
{
    run_cmd(p, CMD_FINISH);
    struct hs_stats_view view;
    pipeline_stats_view(p, &view);
    sink_stats(p->e->sink, &view);
    sink_end(p->e->sink);
    bool interrupted = p->e->st.interrupted;
    p->e->st = p->sum; /* the totals, for whoever reads the engine's counters after the run (-v) */
    p->e->st.interrupted = interrupted;
}

/* ---- set-up ---- */

static void share(uint64_t *v, unsigned n)
{
    *v = *v / n ? *v / n : 1;
}

struct hs_pipeline *pipeline_new(struct hs_engine *e, unsigned n, char *err, size_t errlen)
{
    if (n < 1 || n > PIPELINE_THREADS_MAX) {
        snprintf(err, errlen, "--threads: between 1 and %d", PIPELINE_THREADS_MAX);
        return NULL;
    }
    struct hs_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        goto oom;
    p->e = e;
    p->n = n;
    p->next_id = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    /* HOPSCOPE_PIPELINE_BATCH=K (tests): batches of K frames, to have records cross batch boundaries */
    const char *bf = getenv("HOPSCOPE_PIPELINE_BATCH");
    p->batch_base = bf && atoi(bf) > 0 && atoi(bf) < (int)BATCH_FRAMES ? (size_t)atoi(bf) : BATCH_FRAMES;
    p->batch_frames = p->batch_base;
    /* HOPSCOPE_PIPELINE_IDWINDOW=K (tests): a window of K ids (a power of two from 16), to have ids leave it */
    const char *iw = getenv("HOPSCOPE_PIPELINE_IDWINDOW");
    long win = iw ? atol(iw) : 0;
    p->id_window = win >= 16 && (size_t)win < IDMAP_WINDOW && !(win & (win - 1)) ? (size_t)win : IDMAP_WINDOW;
    for (unsigned k = 0; k < 2; k++) {
        p->bt[k].b = malloc(BATCH_FRAMES * sizeof *p->bt[k].b);
        p->bt[k].arena = malloc(BATCH_ARENA);
    }
    p->w = calloc(n, sizeof *p->w);
    p->dispatched = calloc(n, sizeof *p->dispatched);
    p->wstats = calloc(n, sizeof *p->wstats);
    if (!p->bt[0].b || !p->bt[0].arena || !p->bt[1].b || !p->bt[1].arena || !p->w || !p->dispatched || !p->wstats)
        goto oom;
    struct hs_limits lim = e->lim;
    uint64_t v;
    v = lim.max_flows, share(&v, n), lim.max_flows = (uint32_t)v;
    v = lim.max_records_total, share(&v, n), lim.max_records_total = (uint32_t)v;
    v = lim.max_kdc_pending_total, share(&v, n), lim.max_kdc_pending_total = (uint32_t)v;
    share(&lim.max_memory, n);
    share(&lim.max_ooo_total, n);
    share(&lim.max_pdu_total, n);
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = &p->w[i];
        w->p = p;
        w->ix = i;
        w->sink.record = on_record;
        if (engine_init(&w->e, &lim, &w->sink) != 0)
            goto oom;
        w->e.recs.stream = e->recs.stream;
        w->e.recs.on_id = on_id;
        w->e.recs.on_id_arg = w;
        w->e.recs.sink_takes = true;
        if (e->keys) {
            w->keys.keys = e->keys->keys; /* read-only; the context is the worker's (libkrb5: one thread each) */
            w->keys.n = e->keys->n;
            w->e.keys = &w->keys;
        }
        w->e.creds = e->creds;
    }
    /* Signals are the reading thread's (SIGINT/SIGTERM interrupt its reads; SIGHUP/SIGUSR1 are acted on there). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]) != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            snprintf(err, errlen, "--threads: cannot start a thread");
            pipeline_free(p);
            return NULL;
        }
        p->w[i].started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return p;
oom:
    snprintf(err, errlen, "out of memory");
    pipeline_free(p);
    return NULL;
}

void pipeline_free(struct hs_pipeline *p)
{
    if (!p)
        return;
    bool any = false;
    for (unsigned i = 0; p->w && i < p->n; i++)
        any |= p->w[i].started;
    if (any) {
        if (p->inflight) /* its events are freed below, unwritten */
            cmd_wait(p);
        /* started threads only: the rest count as done */
        pthread_mutex_lock(&p->mu);
        p->cmd = CMD_EXIT;
        p->busy = 0;
        for (unsigned i = 0; i < p->n; i++)
            p->busy += p->w[i].started;
        p->gen++;
        pthread_cond_broadcast(&p->go);
        while (p->busy)
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
        for (unsigned i = 0; i < p->n; i++)
            if (p->w[i].started)
                pthread_join(p->w[i].thread, NULL);
    }
    for (unsigned i = 0; p->w && i < p->n; i++) {
        struct worker *w = &p->w[i];
        for (unsigned x = 0; x < 2; x++)
            for (size_t k = 0; k < w->nev[x]; k++)
                if (w->ev[x][k].kind == PEV_RECORD) {
                    if (w->ev[x][k].rec->type == REC_DCOM)
                        free(w->ev[x][k].rec);
                    else
                        rec_detached_free(w->ev[x][k].rec);
                }
        if (w->e.scratch) {
            w->e.recs.sink_takes = false; /* what is still held is freed unwritten */
            w->e.recs.on_id = NULL;
            engine_free(&w->e);
        }
        if (w->keys.ctx) {
            w->keys.keys = NULL; /* the run's, freed by its owner */
            w->keys.n = 0;
            kc_free(&w->keys);
        }
        free(w->ev[0]);
        free(w->ev[1]);
        free(w->idmap);
        free(w->pins);
    }
    for (unsigned i = 0; i < CARRY_BUCKETS; i++)
        while (p->carry[i]) {
            struct carry *c = p->carry[i];
            p->carry[i] = c->next;
            free(c);
        }
    free(p->w);
    free(p->dispatched);
    free(p->wstats);
    for (unsigned k = 0; k < 2; k++) {
        free(p->bt[k].b);
        free(p->bt[k].arena);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p);
}
