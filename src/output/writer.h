/* Writers: one interface (begin, record, finding, stats, end) behind which every output format sits. */
#ifndef HOPSCOPE_WRITER_H
#define HOPSCOPE_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#include "jw.h"
#include "records.h"

enum output_format { OUTPUT_JSON = 0, OUTPUT_TEXT };

struct hs_writer;

/* What a format implements; any entry may be NULL. A record or the stats is valid for the call only. */
struct hs_writer_ops {
    void (*begin)(struct hs_writer *w);
    void (*record)(struct hs_writer *w, const struct rec_hdr *r);
    void (*finding)(struct hs_writer *w, const struct hs_finding *f);
    void (*stats)(struct hs_writer *w, const struct hs_stats_view *v);
    void (*end)(struct hs_writer *w);
};

/* text: one record's lines, held until the end of the run (or until the hold is full). */
struct text_row {
    struct timeval ts;
    uint64_t seq;                  /* completion order: ties keep it */
    char *s;                       /* malloc'd */
    size_t len;
};

struct hs_writer {
    struct hs_sink sink;           /* the writer as the last stage of a sink chain; must stay first */
    const struct hs_writer_ops *ops;
    FILE *f;
    bool failed;                   /* a write failed (disk full, closed pipe): reported at exit */
    struct jw jw;                  /* json: the line being written, its buffer reused line after line */
    int err;                       /* errno of the first failed write */
    bool flush_each;               /* live: each record, finding and stats line is written out at once */
    bool cut;                      /* after a failure: the partial line was cut off and the buffer dropped */
    long long good_off;            /* f's file offset after the last complete line written out; -1 unknown */
    const char *sensor;            /* --sensor NAME: JSON objects are stamped "sensor": NAME; NULL: not stamped */
    bool header_done;              /* text: the table's header was printed */
    /* text: session rows are held back (up to TEXT_HOLD_MAX bytes) so that the findings, known only at the
     * end of the run, are printed first and the rows in time order; past the cap rows go out as they come */
    struct text_row *rows;
    size_t nrows, cap_rows, hold_len;
    uint64_t row_seq;
    bool hold_off;
    char text_day[11];             /* text: the day of the last row printed ("2026-11-21") */
    bool findings_done;            /* text: the findings section was started */
    bool stream;                   /* streaming (writer_stream()): text rows and findings printed as they come */
};

/* JSON Lines (docs/RECORDS.md): one object per record, then a `stats` object. */
extern const struct hs_writer_ops json_writer_ops;

/* A readable table: a row per authentication (and its uses), a row per KDC exchange, `# stats` last. */
extern const struct hs_writer_ops text_writer_ops;

/* The closing stats as one line of compact JSON (malloc'd; NULL when memory is short). */
char *stats_json_line(const struct hs_stats_view *v);

/*
 * A writer of format fmt to f (not closed by the writer), begun. NULL when memory is short.
 *
 * Whole lines only: f is flushed after a record, finding or stats line once WRITER_FLUSH_AT bytes are pending
 * (at once with flush_each), so with a stdio buffer of at least 2 * WRITER_FLUSH_AT bytes (WRITER_BUFFER:
 * give f one with setvbuf) a line shorter than WRITER_FLUSH_AT never reaches the file in two pieces. When a
 * write fails (disk full) the writer is `failed` (err says why), writes nothing more, and cuts a regular file
 * back to the end of its last complete line: a reader never sees half a line.
 */
#define WRITER_FLUSH_AT (256u * 1024u)
#define WRITER_BUFFER (2u * WRITER_FLUSH_AT)
struct hs_writer *writer_new(enum output_format fmt, FILE *f);

/* Streaming (--stream): the text table holds nothing back: rows, uses and findings are printed as they come,
 * not sorted. (Lines reach the file at once with flush_each, which a live capture sets.) */
void writer_stream(struct hs_writer *w);

/* Writes out what is buffered (whole lines). Returns 0, or -1 after a failed write (as described above). */
int writer_flush(struct hs_writer *w);

/* Points w at f, a new stream (SIGHUP reopened the -o file); the old one is the caller's to close. */
void writer_set_file(struct hs_writer *w, FILE *f);

/* The writer as a sink: the stage to put last in the chain. */
static inline struct hs_sink *writer_sink(struct hs_writer *w)
{
    return &w->sink;
}

/* Frees w (f stays open). */
void writer_free(struct hs_writer *w);

#endif
