/* The record layer: records held while in progress, referred to by id, written through a sink chain. */
#ifndef HOPSCOPE_RECORDS_H
#define HOPSCOPE_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"
#include "stats.h"

struct decode_stats;

/* What a `stats` record says: the engine's counters and the decoder's, and (when the engine fills the view)
 * its time and what it holds now. Zero-initialised members past `dec` give the closing record as before. */
/* One worker engine of --threads N (pipeline.h), as it stands: `stats.workers[]`. */
struct hs_worker_stats {
    uint64_t packets;               /* TCP/UDP packets dispatched to it (those of its connections) */
    uint64_t flows_tracked;         /* connections in its flow table now */
    uint64_t memory;                /* bytes its connections hold, against its share of --max-memory */
    uint64_t ooo_bytes;             /* of which out-of-order data */
    uint64_t pdu_bytes;             /* of which PDU buffers */
    uint64_t ids_unmapped;          /* references to its records written as 0: written and out of the id window */
    const struct hs_stats *st;      /* its counters: flows, dropped, capped */
};

struct hs_stats_view {
    const struct hs_stats *st;
    const struct decode_stats *dec;
    bool periodic;                  /* --stats-interval: a record during the run (no findings come with it);
                                     * false: the closing one, after the findings */
    bool has_ts;                    /* ts is set (a packet was seen) */
    struct timeval ts;              /* the engine's time: the last packet's timestamp, moved on while idle */
    uint64_t flows_tracked;         /* connections in the flow table now (open, or closed and kept for their late packets) */
    uint64_t memory;                /* bytes connections hold now, as held against --max-memory */
    uint64_t memory_limit;          /* --max-memory, bytes */
    uint64_t ooo_bytes;             /* of which out-of-order data queued by reassembly */
    uint64_t pdu_bytes;             /* of which PDU buffers (messages straddling segments) */
    const struct hs_capture_stats *cap; /* a live capture's own counters, or NULL */
    const struct correlate_stats *corr; /* streaming: what the correlation stage holds (it sets this), or NULL */
    const struct hs_worker_stats *workers; /* --threads N: each worker's share, n_workers of them; else NULL */
    unsigned n_workers;
};

/* What the correlation stage holds while streaming (`stats.correlation`): it keeps a summary of the records
 * of the last two hop windows, and the keys of the findings written. */
struct correlate_stats {
    uint64_t summaries;        /* summaries held now */
    uint64_t pruned;           /* summaries dropped, older than two hop windows */
    uint64_t findings_written; /* findings written so far */
    uint64_t bytes;            /* what they hold: summaries, interned strings, finding keys */
    uint64_t clock_resets;     /* record time stepped back more than a hop window: decisions restarted there */
    uint64_t strings_rebuilt;  /* times the interned strings were rebuilt from the summaries kept */
    uint64_t archive_lost;     /* with a report to draw: forgotten summaries not kept for it, for want of memory */
};

#define FINDING_EVIDENCE_MAX 16 /* records and frames a finding's evidence lists */

/* Which sensor each record and frame of a finding's evidence is of, in a run on other sensors' records
 * (hopscope --records, docs/DEPLOYMENT.md, "Many sensors"): `records` pairs each record id with its sensor; `frames` each frame
 * number with the sensor whose capture it numbers. Sorted by sensor name, then number. */
#define FINDING_SENSOR_FRAMES_MAX (2 * FINDING_EVIDENCE_MAX)
struct finding_sensor_ref {
    const char *sensor;            /* the sensor's name, never NULL */
    uint64_t n;                    /* a record id or a frame number of that sensor */
};
struct finding_sensors {
    struct finding_sensor_ref records[FINDING_EVIDENCE_MAX];
    uint32_t nrecords;
    struct finding_sensor_ref frames[FINDING_SENSOR_FRAMES_MAX];
    uint32_t nframes;
};

/* A finding (the correlation stage's conclusion across records; docs/RECORDS.md `type: "finding"`). All
 * strings are NUL-terminated; evidence lists what it rests on. */
struct hs_finding {
    const char *id;                /* stable kind: "double_hop_failed", "s4u2proxy_denied", ... */
    const char *severity;          /* "high", "medium", "low", "info" */
    const char *confidence;        /* "proven" (the evidence shows it), "likely" (indirect evidence) */
    char title[160];
    char user[160];                /* whose authentication it is about, "" if none */
    char client[48], first_hop[48], second_hop[48]; /* hosts: C -> A -> B (addresses or names), "" if n/a */
    char client_name[64], first_hop_name[64], second_hop_name[64]; /* their names (host identity), "" if none */
    uint64_t records[FINDING_EVIDENCE_MAX];
    uint32_t nrecords;
    uint64_t frames[FINDING_EVIDENCE_MAX];
    uint32_t nframes;
    uint64_t anchor;               /* the record the rule judged (a first hop, an exchange, an authentication; 0:
                                      records[0]): with the kind, the user and the hosts' addresses, what makes a
                                      later run's finding the same one (correlate.c, finding_key). Not written. */
    char explanation[1024];
    char remediation[1024];
    const struct finding_sensors *sensors; /* hopscope --records: the sensors of the evidence (valid for the call
                                              that hands the finding on); NULL in a capture's own run */
};

/*
 * A stage records pass through: correlation, then writers. `record` sees a completed record, valid for
 * the call only (a stage that keeps anything copies it); it may fill in what it knows (the correlation
 * stage names a ticket's client) before passing it to `next`. `stats` passes the closing counters on;
 * `end` is called once, last. Any callback may be NULL (then the stage passes the call on).
 */
struct hs_sink {
    void (*record)(struct hs_sink *self, struct rec_hdr *r);
    void (*finding)(struct hs_sink *self, const struct hs_finding *f);
    void (*stats)(struct hs_sink *self, const struct hs_stats_view *v);
    void (*end)(struct hs_sink *self);
    struct hs_sink *next;
    /* Time passes with no record (a live capture on an idle link): `now` is the engine's time; a stage that
     * holds records for a window of record time releases those whose window has closed. Last, so that
     * positional initialisers of the members above stay right. */
    void (*tick)(struct hs_sink *self, const struct timeval *now);
};

/* Hands r (or the finding, the stats, the end, the time) to sink s, or to the first stage after it that
 * takes it. */
void sink_record(struct hs_sink *s, struct rec_hdr *r);
void sink_finding(struct hs_sink *s, const struct hs_finding *f);
void sink_stats(struct hs_sink *s, const struct hs_stats_view *v);
void sink_end(struct hs_sink *s);
void sink_tick(struct hs_sink *s, const struct timeval *now);

/* A list of held records of one type, oldest first. */
struct rec_list {
    struct rec_hdr *oldest, *newest;
    uint32_t n;
};

/* Every record held, the id counter, and where completed records go. One per engine. */
struct rec_store {
    const struct hs_limits *lim;
    struct hs_stats *st;
    struct hs_sink *sink;
    uint64_t next_id;
    struct rec_list auth, kdc;
    struct rec_list unsent;     /* the auth records not handed over yet (uprev/unext), oldest first */
    uint64_t held_bytes;        /* what the records held cost (rec_cost(), records.c): against lim.max_memory */
    bool stream;                /* hand auth records over at their verdict, then their uses (enum rec_phase) */
    const struct timeval *now;  /* the time of the packet being processed (the engine's), or NULL */
    struct rec_hdr *spare_kdc;  /* KDC records written and kept for reuse (linked by next), at most REC_SPARE_MAX */
    uint32_t n_spare_kdc;
    struct rec_hdr *spare_auth; /* auth records written and kept for reuse, the same way */
    uint32_t n_spare_auth;
    /* A --threads run's engine (src/engine/pipeline.c): on_id is told each id given out (a record started, a DCOM
     * record emitted), and with sink_takes a record written (REC_WHOLE, REC_END) becomes the sink's, which frees
     * it with rec_detached_free(), instead of being freed after the sink returns. */
    void (*on_id)(void *arg, uint64_t id);
    void *on_id_arg;
    bool sink_takes;
};

#define REC_SPARE_MAX 64        /* KDC and auth records kept for reuse (each): one per message or session
                                   otherwise costs a 5 KB calloc */

/* A connection's records in progress, owned by the record layer (the engine keeps one per connection). */
struct rec_conn {
    struct rec_hdr *head;      /* oldest first */
    uint32_t n_auth, n_kdc;
    uint32_t n_started;        /* records ever started here (never goes down: the connection carried authentication) */
    char community_id[40];     /* computed at the first record written */
};

/* Sets up a store writing to sink (which may be NULL: records are then dropped when complete). */
void rec_store_init(struct rec_store *s, const struct hs_limits *lim, struct hs_stats *st, struct hs_sink *sink);

/* Frees the records kept for reuse (records still held by connections are freed with them). */
void rec_store_free(struct rec_store *s);

/*
 * Starts an authentication record on connection rc (identity flow) at time ts. Returns NULL when rc
 * already holds lim.max_records_per_conn records and none of them is finished (counted as
 * records_dropped); a finished one is written first to make room. When all connections together
 * hold lim.max_records_total records, the oldest of them is written first, as it stands.
 * Ids count up from 1 in creation order.
 */
struct auth_rec *rec_auth_new(struct rec_store *s, struct rec_conn *rc, const struct hs_flow *flow,
                              const struct timeval *ts, enum auth_transport t);

/* The authentication record `id` of rc, or NULL when it was written already (or never existed). */
struct auth_rec *rec_auth_get(struct rec_conn *rc, uint64_t id);

/* The newest authentication record of rc for which match(r, arg) holds, or NULL. */
struct auth_rec *rec_auth_newest(struct rec_conn *rc, bool (*match)(const struct auth_rec *r, const void *arg),
                                 const void *arg);

/* Sets r's verdict, given by the message in `frame`, from source `src`. */
void rec_auth_verdict(struct auth_rec *r, uint64_t frame, enum auth_result res, struct hs_status status,
                      enum verdict_source src);

/* Appends a use to r (zeroed, frame_req = frame), or counts it dropped at lim.max_uses_per_record and
 * returns NULL. The pointer is valid until the next rec_use_add() on r (the array grows). */
struct auth_use *rec_use_add(struct rec_store *s, struct auth_rec *r, uint64_t frame);

/*
 * Starts a KDC exchange record. With `pending` (a request awaiting its reply) the caps apply: at 16 held
 * on rc, or lim.max_kdc_pending_total held in all, the oldest is written first. Without (a reply whose
 * request was not seen, written at once) they do not. NULL when memory is short.
 */
struct kdc_rec *rec_kdc_new(struct rec_store *s, struct rec_conn *rc, const struct hs_flow *flow,
                            const struct timeval *ts, bool pending);

/* The oldest KDC record of rc still held (the request the next reply answers), or NULL. */
struct kdc_rec *rec_kdc_oldest(struct rec_conn *rc);

/*
 * Writes a DCOM activation record d at once (it is never held): gives it the next id, type REC_DCOM, time
 * ts (of the request), identity flow and rc's Community ID, and hands it to the sink chain. d stays the
 * caller's (a stage that keeps it copies it).
 */
void rec_dcom_emit(struct rec_store *s, struct rec_conn *rc, const struct hs_flow *flow, const struct timeval *ts,
                   struct dcom_rec *d);

/* Writes r now (through the sink chain) and frees it; whoever held its id finds it gone. */
void rec_write(struct rec_store *s, struct rec_hdr *r);

/*
 * Streaming (s->stream): hands over what rc's auth records have newly to say since the last call, oldest
 * record first: a record whose verdict is known, at its verdict (REC_AT_VERDICT), once; then the uses answered
 * since (REC_USES: those answered, in index order; one not yet answered does not hold back those after it).
 * The engine calls it after each packet of a connection that holds records, once the dissector has processed
 * the packet; cost: a walk of rc's records (one or two).
 */
void rec_conn_stream(struct rec_store *s, struct rec_conn *rc);

/*
 * Without streaming: shows the correlation stage (s->sink, phase REC_PEEK) each auth record of rc whose verdict is
 * known and that nothing holds back (rec_hdr.hold), once, and again whenever uses of it have been answered since
 * (a session may fall silent for hours right after its verdict);
 * the first time takes it off the records not handed over (rec_store_oldest_unsent), so that a session open for
 * hours does not hold the correlation's early decisions back. The record stays where it is and is written whole
 * when it completes. Called after each packet of a connection with records.
 */
void rec_conn_peek(struct rec_store *s, struct rec_conn *rc);

/* The start of the oldest record s holds that was not handed over yet (an auth record before its verdict or
 * while `hold` is set; a KDC request awaiting its reply) into *ts; false when there is none. O(records held and
 * handed over before it). */
bool rec_store_oldest_unsent(const struct rec_store *s, struct timeval *ts);

/*
 * A copy of auth record r as it stands, for a sink that keeps it after the call (a --threads run hands a record
 * that stays held, at its verdict or with new uses, to another thread): one heap block per piece r owns (NTLM
 * messages, proof, decrypted ticket and authenticator, uses), links to other records NULL. Free it with
 * rec_detached_free(). NULL when memory is short, or when r is not an auth record.
 */
struct rec_hdr *rec_snapshot(const struct rec_hdr *r);

/* Frees a record no store holds any more (a snapshot, or one written to a sink that takes it) and what it owns,
 * the NTLM proof wiped first. NULL is allowed. */
void rec_detached_free(struct rec_hdr *r);

/* Writes every record of rc, oldest first (the connection ended). */
void rec_conn_flush(struct rec_store *s, struct rec_conn *rc);

/* Frees rc's records unwritten (the run is being torn down). */
void rec_conn_discard(struct rec_store *s, struct rec_conn *rc);

#endif
