/* Findings: what went wrong across records, why, with the frames that prove it and the fix. */
#ifndef HOPSCOPE_FINDINGS_H
#define HOPSCOPE_FINDINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "records.h"
#include "summary.h"

/* How far the rules look back from the record they judge, in seconds: from a refused TGS-REQ to the NTLM
 * authentication it led to (kerberos_fell_back_to_ntlm), and from a refused S4U2Proxy to the first hop it
 * explains (double_hop_failed: a retry just before, or two sensors' clocks apart; at most the hop window). What is
 * kept for the rules must reach this far back from the oldest record still to be judged (correlate.c,
 * prune_cutoff). */
#define FINDINGS_FALLBACK_WINDOW 120

/*
 * Records an earlier run saw and that are not judged again, changed or not, because what they rest on may have
 * left (correlate.c forgets summaries): started before `from` (seconds since the epoch; 0: none) and first
 * summarized (fsum_*.born) before `seen`. Each was decided while all it rests on was kept; judged again without it,
 * an absence (the onward connection that worked, gone) would make a finding that is not so. A record new to the
 * rules (read late from a records file) is judged with what is kept. Record time that stepped back (a clock reset)
 * starts an epoch: records first summarized before it (born < epoch) are held to `old_from`, what the earlier
 * epochs had forgotten.
 */
struct findings_forgotten {
    time_t from, old_from;
    uint64_t seen, epoch;
};

static inline bool findings_forgotten_skip(const struct findings_forgotten *f, time_t ts, uint64_t born)
{
    time_t from = born < f->epoch ? f->old_from : f->from;
    return from && ts < from && born < f->seen;
}

/* Limits the rules run within. */
struct findings_cfg {
    uint32_t hop_window;         /* seconds after a first hop starts in which an onward connection counts */
    /* Streaming: what an earlier run of the rules decided is not made again — a record started before
     * decided_before (seconds since the epoch) and summarized before judged_before (fsum_*.made: the earlier run
     * saw it) is not looked at by the rules that judge one record, nor a first hop so summarized and started
     * before hop_decided_before (a hop window before decided_before and before every record summarized since)
     * by the hop rules. 0: every record is looked at. */
    time_t decided_before, hop_decided_before;
    uint64_t judged_before;
    /* What is no longer judged (struct findings_forgotten, findings_forgotten_skip). */
    struct findings_forgotten forgotten;
    struct findings_work *work;  /* buffers kept from run to run; NULL: a run allocates and frees its own */
    /* Bytes of findings held in memory to be sorted (0: 1 MiB). Beyond, they are sorted in runs written to a
     * temporary file ($TMPDIR, else /tmp; unlinked at once) and merged when handed on. Should the file not give
     * them back, the findings lost are counted (findings_work.sort.lost) and a line on stderr says so. */
    size_t held_bytes;
};

/*
 * Findings held to be handed on most severe first — by severity (high, medium, low), then first evidence frame,
 * then id; equal ones in the order they came —, across as many calls as the caller likes. They are packed into a
 * buffer of held_max bytes (0: 1 MiB); when it is full, what it holds is sorted and written as a run to a
 * temporary file ($TMPDIR, else /tmp; mode 0600, unlinked at once), and findings_sort_flush() merges the runs and
 * what is still held, the way sort(1) sorts what does not fit: memory stays flat however many findings come.
 * Without a temporary file, up to 16 MiB is held; beyond 1,024 runs, too. Zero-initialise; findings_sorter_free()
 * releases it.
 */
struct findings_sorter {
    unsigned char *held;         /* the findings held (findings.c, struct held), back to back */
    size_t used, cap, n;         /* bytes used, bytes allocated, findings held */
    size_t held_max;             /* bytes held before a run is spilled (0: 1 MiB) */
    bool spill_open;             /* the temporary file is open (spill_fd) */
    bool spill_failed;           /* no temporary file could be made or written: hold up to 16 MiB */
    int spill_fd;
    struct spill_run *runs;      /* the runs in the file (findings.c) */
    size_t n_runs;
    int64_t spill_end;           /* bytes written to the file */
    uint64_t runs_spilled;       /* runs written, in all */
    uint64_t lost;               /* findings the temporary file did not give back (a read error), in all */
    uint64_t lost_said;          /* ... of which stderr was told (one line a flush) */
    int lost_errno;              /* the first read error (0: the file was short or damaged) */
};

/* Holds f (its evidence cut to FINDING_EVIDENCE_MAX) to be handed on by findings_sort_flush(). Returns false,
 * holding nothing, when memory is short or 16 MiB are held with no temporary file to spill to: the caller hands
 * f on at once. */
bool findings_sort_add(struct findings_sorter *s, const struct hs_finding *f);

/* Hands every finding held and spilled to sink, in the order above, and empties s (it may be used again). Should
 * the temporary file not give findings back, they are counted in s->lost and one line on stderr says how many. */
void findings_sort_flush(struct findings_sorter *s, struct hs_sink *sink);

void findings_sorter_free(struct findings_sorter *s);

/* Buffers findings_run() keeps between runs (a streaming run decides every period: fresh buffers each time
 * cost a page fault per page). Zero-initialise; findings_work_free() releases them. */
struct findings_work {
    struct findings_sorter sort; /* the findings of a run, sorted before they are handed on */
};

void findings_work_free(struct findings_work *w);

/* The account part of "DOMAIN\\user" or "user@REALM", lower-cased, into out[cap] (cut to fit). */
void account_of(const char *u, char *out, size_t cap);

/* Do two user names name the same account (the account parts, case-insensitively; "" matches nothing)? */
bool same_user(const char *a, const char *b);

/*
 * Runs every rule over the n_a authentication and n_k KDC summaries (in any order) and hands each finding
 * to sink. Time is O((n_a + n_k) log(n_a + n_k)) plus the pairs inside a window per host.
 */
void findings_run(const struct findings_cfg *cfg, const struct fsum_auth *a, size_t n_a, const struct fsum_kdc *k,
                  size_t n_k, struct hs_sink *sink);

#endif
