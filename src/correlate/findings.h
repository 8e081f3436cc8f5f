/* Findings: what went wrong across records, why, with the frames that prove it and the fix. */
#ifndef HOPSCOPE_FINDINGS_H
#define HOPSCOPE_FINDINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "records.h"
#include "summary.h"

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
    struct findings_work *work;  /* buffers kept from run to run; NULL: a run allocates and frees its own */
    /* Bytes of findings held in memory to be sorted (0: 1 MiB). Beyond, they are sorted in runs written to a
     * temporary file ($TMPDIR, else /tmp; unlinked at once) and merged when handed on. Should the file not give
     * them back, the findings lost are counted (findings_work.lost) and a line on stderr says so. */
    size_t held_bytes;
};

/* Buffers findings_run() keeps between runs (a streaming run decides every period: fresh buffers each time
 * cost a page fault per page). Zero-initialise; findings_work_free() releases them. */
struct findings_work {
    unsigned char *held;         /* the findings held to be sorted (findings.c, struct held) */
    size_t cap;                  /* its size, bytes */
    uint64_t runs_spilled;       /* sorted runs written to the temporary file, in all runs of the rules */
    uint64_t lost;               /* findings the temporary file did not give back (a read error; each time, one
                                    line on stderr says how many) */
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
