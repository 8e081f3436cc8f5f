/*
 * --threads N: connections spread over N engines in N worker threads, records merged back into the order one
 * engine hands them over in, then correlation and the writers in one place.
 *
 * The dispatching engine (the caller's, set up with engine_init() and its sink chain) reads nothing itself:
 * pipeline_packet() counts each frame, steps the one engine clock and decodes the frame there (so IPv4 fragments
 * are reassembled and tunnels unwrapped before any hash), then queues the decoded packet, its payload copied, for
 * the worker that owns its connection: reciprocal_scale(flow_hash, N), the same for both directions. Frames are
 * processed in batches, two of them: the reader fills one while the workers process the other, and merges a
 * processed batch while the workers are on the next. Every worker walks the whole batch — its own packets through
 * engine_conn_packet(), the frames that touch another worker's connection through engine_replay(), which expires
 * its idle connections at exactly the frame one engine would have — and hands its records over tagged with the
 * engine's run key (engine.h, struct engine_key).
 * The merge then releases every worker's records in key order, gives out record
 * ids in the order records started (so ids are those of a one-engine run), translates the ids records carry
 * (`carrier`, a DCOM record's `auth`), carries the correlation stage's edits of a streamed record over to its
 * later hand-overs, and passes everything to the sink chain. A batch ends at 4,096 frames, 8 MiB of payload, a
 * periodic stats record, a signal, an idle tick or the end of the run.
 *
 * The records, findings and stats of a run are the same bytes whatever N, as long as no global cap fires: caps
 * (--max-flows, --max-memory, records and KDC requests held, out-of-order and PDU bytes) are shared out, each
 * worker holding cap / N, and what a cap did is counted (stats `dropped` and `capped`).
 */
#ifndef HOPSCOPE_PIPELINE_H
#define HOPSCOPE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <pcap/pcap.h>

#include "engine.h"

#define PIPELINE_THREADS_MAX 64

struct hs_pipeline;

/* Called for every frame given to pipeline_packet(), in frame order, once the frame is processed: its link type,
 * the capture's header and bytes (a copy), and what the engine made of it (engine.h, hs_pkt_conn). */
typedef void (*pipeline_frame_fn)(void *arg, int dlt, const struct pcap_pkthdr *h, const uint8_t *data,
                                  const struct hs_pkt_conn *last);

/*
 * Starts n (1..PIPELINE_THREADS_MAX) workers behind engine e, which must be set up (engine_init()) with its sink
 * chain, keys, credentials and streaming mode; e then only dispatches. Each worker gets an engine of its own with
 * e's limits shared out, its own libkrb5 context over e's keys, and e's credentials (read-only). Returns NULL with
 * a one-line reason in err when memory or a thread cannot be had.
 */
struct hs_pipeline *pipeline_new(struct hs_engine *e, unsigned n, char *err, size_t errlen);

/* With -w: fn is called for each frame, in frame order, once it is processed (and its copy kept until then). */
void pipeline_set_frame_hook(struct hs_pipeline *p, pipeline_frame_fn fn, void *arg);

/* One captured frame (as engine_packet(); h and data as the capture gave them, ts in µs). */
void pipeline_packet(struct hs_pipeline *p, int dlt, uint64_t frame, const struct timeval *ts,
                     const struct pcap_pkthdr *h, const uint8_t *data);

/* Hands the frames queued so far to the workers without waiting for them; the batch they were on before is merged
 * meanwhile (its records handed on). What they are given now is handed on at the next call, or at
 * pipeline_flush(). */
void pipeline_submit(struct hs_pipeline *p);

/* Processes the frames queued so far and hands their records on. */
void pipeline_flush(struct hs_pipeline *p);

/* engine_idle() for a threaded run: the queued frames are processed, then every worker expires what is idle at
 * the moved clock, and the sink chain is told the time. */
void pipeline_idle(struct hs_pipeline *p, int64_t now_us);

/* engine_stats_view() over the dispatcher and every worker (counters summed); the queued frames are processed
 * first. The view points into p, valid until the next call. */
void pipeline_stats_view(struct hs_pipeline *p, struct hs_stats_view *v);

/* engine_stats(): a periodic stats record at now_us, of the whole run. */
void pipeline_stats(struct hs_pipeline *p, int64_t now_us);

/* engine_finish(): the queued frames, then every connection closed (in creation order across workers), the
 * closing stats and the end. The dispatching engine's counters hold the run's totals afterwards. */
void pipeline_finish(struct hs_pipeline *p);

/* For the correlation stage (hs_correlate.held_fn): the start of the oldest record not handed over in any
 * worker, as the merge stands. */
bool pipeline_oldest_unsent(void *p, struct timeval *ts);

/* Stops the workers and frees them (records still held are dropped unwritten). p may be NULL. */
void pipeline_free(struct hs_pipeline *p);

#endif
