/* Output writers: JSON Lines records (docs/RECORDS.md) and a readable text table. */
#ifndef HOPSCOPE_OUTPUT_H
#define HOPSCOPE_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/time.h>

struct hs_engine;
struct hs_conn;
struct auth_rec;

enum output_format { OUTPUT_JSON = 0, OUTPUT_TEXT };

struct output {
    FILE *f;
    enum output_format fmt;
    bool header_done;
    bool failed; /* a write failed (disk full, closed pipe): reported at exit */
};

/* Writes one `auth` record for r on connection c (a JSON object on one line, or a text row). */
void output_record(struct output *o, struct hs_engine *e, struct hs_conn *c, const struct auth_rec *r);

struct kdc_rec;

/* Writes one `kerberos` record: a KDC exchange on connection c. */
void output_kdc(struct output *o, struct hs_engine *e, struct hs_conn *c, const struct kdc_rec *r);

/* Writes the closing `stats` record. */
void output_stats(struct output *o, const struct hs_engine *e);

/* Formats tv as RFC 3339 UTC with microseconds ("2026-11-21T22:50:52.123456Z") into out[32]. */
void format_ts(const struct timeval *tv, char out[32]);

#endif
