/* The correlation stage: what records say about each other across connections, from records alone. */
#ifndef HOPSCOPE_CORRELATE_H
#define HOPSCOPE_CORRELATE_H

#include "findings.h"
#include "graph.h"
#include "records.h"
#include "strpool.h"
#include "tickets.h"

/*
 * The stage sits first in the sink chain and sees every completed record in the order the record layer
 * writes them. Today it links tickets: a KDC reply's ticket is remembered by digest with whom it was issued
 * to (the reply's cname, or behind FAST's anonymous cname the TGT's holder, the S4U2Self user, or the
 * evidence ticket's holder); a later TGS-REQ's TGT, S4U2Proxy evidence ticket or AP-REQ's ticket is then
 * named by it (`client`, `issued_frame`). It keeps a compact summary of every record the rules can use
 * (every authentication; the KDC exchanges a rule or a host name rests on, all of them for the hop graph), and
 * when the run ends (the stats pass through) runs the findings rules over them (findings.h), handing each
 * finding to the next stage before the stats. (Streaming, the rules run as record time passes and write what
 * they decided; not streaming, a long capture has them run early into a sorter that hands everything on at the
 * end: either way the summaries of records two hop windows old leave.) With want_graph it then builds the hop
 * graph (graph.h) from the summaries and findings, for writers that draw it after the run (--dot, --html). It
 * never parses bytes.
 *
 * DCOM: a `dcom` record (an activation or OXID resolution) whose string bindings name a TCP port is held
 * back. A later DCE/RPC `auth` record from the same client to that port (on the address the binding names,
 * or, for a binding by host name, on the activation's server) started after the activation is the
 * connection it led to: the auth record is marked with the activation (`dcerpc.dcom`), and the dcom record
 * takes the connection and the ids of up to DCOM_LINKED_MAX auth records on it. The latest activation
 * matching wins. A held record is written when hop_window seconds (by record time) have passed since it — seen
 * at a later record, or on a live capture at a sink_tick while no record comes —, when CORRELATE_DCOM_MAX are
 * held (the oldest), or at the end of the run, before the findings. Its user,
 * when the dissector could not name it (Kerberos), is taken from its activation's auth record.
 */
#define CORRELATE_SUMMARIES_MAX (1u << 18) /* summaries kept per kind; beyond, later records are not judged */
/* streaming: seconds of record time between runs of the rules: a tenth of the hop window, at least 10 (each run
 * looks at two hop windows of summaries, so a record is looked at ~20 times whatever the window) */
#define CORRELATE_DECIDE_MIN 10
static inline time_t correlate_decide_every(uint32_t hop_window)
{
    return hop_window / 10 > CORRELATE_DECIDE_MIN ? (time_t)(hop_window / 10) : CORRELATE_DECIDE_MIN;
}
/* not streaming: summaries kept before the rules may run early to let the old ones go (correlate.c,
 * batch_decide) */
#define CORRELATE_BATCH_BYTES (2u << 20)
#define CORRELATE_DCOM_MAX 256               /* DCOM activations awaiting their connection; beyond, the oldest
                                                is written unlinked */
struct hs_correlate {
    struct hs_sink sink;        /* must stay first: the chain calls it with this pointer */
    struct ticket_table tickets;
    struct findings_cfg cfg;
    struct findings_work work;  /* the rules' buffers, kept from run to run (cfg.work points here) */
    struct fsum_auth *auth;
    size_t n_auth, cap_auth;
    struct fsum_kdc *kdc;
    size_t n_kdc, cap_kdc;
    uint64_t summaries_dropped;
    struct strpool strings;     /* the summaries' strings, interned */
    /* DCOM activations held until the connection their string bindings lead to is seen (a ring, oldest
     * first; allocated at the first one) */
    struct dcom_rec *dcom;
    size_t dcom_head, n_dcom;
    bool want_graph;            /* set before the run: build the hop graph when it ends (--dot, --html) */
    struct hs_finding *findings; /* with want_graph: the findings made, for the graph (at most GRAPH_FINDINGS_MAX) */
    size_t n_findings, cap_findings;
    struct hop_graph *graph;    /* with want_graph, once the run ended: the hop graph (NULL without memory) */
    /* streaming (set before the run): findings written as they are decided, not all at the end */
    bool stream;
    bool dirty;                 /* a summary was made or changed since the rules last ran */
    time_t now;                 /* record time (or the idle clock) reached, seconds */
    time_t next_decide;         /* when the rules run next */
    time_t last_decide;         /* the decision time the rules last ran at (0: never) */
    uint64_t gen;               /* summaries made or changed so far (fsum_*.made) */
    uint64_t last_decide_gen;   /* summaries made before this were seen by that run */
    time_t pruned_before;       /* summaries of records started before this may have been forgotten (0: none) */
    time_t old_forgotten_from;  /* ... before the last clock reset: findings_forgotten.old_from */
    uint64_t epoch_gen;         /* summaries first made before this (gen) belong to the time before that reset */
    const struct rec_store *held; /* the records the record layer holds (set before the run; NULL: none known) */
    /* Or, with several record stores (a --threads run), the start of the oldest record not handed over in any
     * of them into *ts, false when there is none (rec_store_oldest_unsent's contract); NULL: `held` is used. */
    bool (*held_fn)(void *arg, struct timeval *ts);
    void *held_arg;
    struct open_entry {
        uint64_t id;            /* 0: empty */
        size_t ix;
    } *open_ix;                 /* records handed over at their verdict and not complete -> their summary */
    size_t n_open, cap_open;
    struct fsum_auth *arch_auth; /* with want_graph: summaries pruned from the rules' view, kept for the graph */
    size_t n_arch_auth, cap_arch_auth;
    struct fsum_kdc *arch_kdc;
    size_t n_arch_kdc, cap_arch_kdc;
    uint64_t archive_lost;      /* ... not kept for want of memory */
    uint64_t clock_resets;      /* record time stepped back more than a hop window */
    uint32_t undecided;         /* findings the last run of the rules left for later */
    struct written_key {
        uint64_t key;           /* 0: empty */
        uint64_t first_id;      /* its anchor (correlate.c, finding_anchor): the key lives while its summary does */
        time_t first_ts;        /* ... and when it started */
    } *written;                 /* the findings written (open addressing) */
    size_t n_written, cap_written;
    uint64_t findings_streamed; /* findings written */
    uint64_t summaries_pruned;  /* summaries dropped once no undecided finding could rest on them */
    uint64_t strpool_rebuilds;  /* times the interned strings were rebuilt from the summaries kept */
    /* not streaming: the rules may run early once the summaries kept take batch_bytes, and the old ones leave */
    size_t batch_bytes;         /* CORRELATE_BATCH_BYTES, or HOPSCOPE_BATCH_BYTES (tests) */
    time_t batch_time;          /* record time of the next look (correlate.c, batch_decide) */
    size_t batch_next;          /* ... and the bytes of summaries it waits for */
    bool batch_pruned;          /* they did: the findings decided so far wait in collect */
    struct findings_sorter collect; /* ... to be handed on at the end, most severe first */
    struct hs_sink collect_sink;    /* findings into collect (its finding callback only) */
};

/* A correlation stage passing records on to next. NULL when memory is short. */
struct hs_correlate *correlate_new(struct hs_sink *next);

/*
 * For summaries that do not come from records of this run (hopscope --records, recjson.h): a new summary at
 * the end of the stage's array, every number zero and every string "" (fsum_auth_init), for the caller to
 * fill; its strings must be interned in c->strings. NULL beyond CORRELATE_SUMMARIES_MAX of its kind or without
 * memory (counted in summaries_dropped). The pointer is valid until the next summary of its kind is added.
 */
struct fsum_auth *correlate_add_auth(struct hs_correlate *c);
struct fsum_kdc *correlate_add_kdc(struct hs_correlate *c);

/* Frees the stage (not the stages after it). */
void correlate_free(struct hs_correlate *c);

#endif
