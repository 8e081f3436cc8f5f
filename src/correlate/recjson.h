/* Records from JSON Lines: what hopscope sensors wrote, turned back into the correlation stage's summaries
 * (hopscope --records, docs/DEPLOYMENT.md, "Many sensors"). */
#ifndef HOPSCOPE_RECJSON_H
#define HOPSCOPE_RECJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "correlate.h"

#define RECJSON_LINE_MAX        (4u << 20) /* bytes in one line (a record is a few KiB); longer lines are skipped */
#define RECJSON_SENSORS_MAX     4096       /* distinct sensor names; records of further ones are said to be of "..." */
#define RECJSON_SENSOR_NAME_MAX 64         /* bytes of a sensor name kept (cut at a UTF-8 character boundary) */
#define RECJSON_WARN_MAX        10         /* malformed lines described on the warning stream; the rest counted */
#define RECJSON_USES_PENDING_MAX 65536     /* `use` records kept until the end for want of their auth record */

/* What a line was. */
enum recjson_kind {
    RECJSON_AUTH = 0,  /* an `auth` record, summarised */
    RECJSON_KERBEROS,  /* a `kerberos` record, summarised */
    RECJSON_DCOM,      /* a `dcom` record: counted (the rules need nothing of it) */
    RECJSON_USE,       /* a `use` record (a streaming sensor's): its auth record's summary takes it */
    RECJSON_SKIPPED,   /* empty, `stats`, `finding`, another type: not a record */
    RECJSON_MALFORMED, /* not a JSON object, or a record without a field the rules need */
};

struct recjson;

/*
 * A reader that feeds a correlation stage of its own (hop_window seconds, 0 for the default; with want_graph
 * the hop graph is built at the end), whose findings then go to next — each with the sensors of its evidence
 * attached (hs_finding.sensors) and its record ids those the sensors wrote. Malformed lines are described on
 * warn (at most RECJSON_WARN_MAX lines, "hopscope: FILE:LINE: why"); NULL says nothing. NULL without memory.
 */
struct recjson *recjson_new(struct hs_sink *next, uint32_t hop_window, bool want_graph, FILE *warn);

/*
 * One line of JSON Lines (len bytes, no newline needed; a trailing "\r" is fine) from the input named file
 * (its sensor when the record names none, and where warnings point), line number lineno. An `auth` or
 * `kerberos` record is summarised for the rules (docs/DEPLOYMENT.md, "Many sensors" says from which fields), a Kerberos ticket
 * it carries linked to the client another record's KDC reply names (now, or at recjson_end()); a `dcom`
 * record is counted. With obj, a record's parsed object is handed back there (a new reference for the caller
 * to release; NULL for anything else). Never fails on content: whatever the bytes, the line is counted.
 */
enum recjson_kind recjson_line(struct recjson *r, const char *line, size_t len, const char *file, uint64_t lineno,
                               json_t **obj);

/*
 * Every line of f (the input named name), up to its end or a read error: lines of RECJSON_LINE_MAX bytes or
 * more are skipped (counted as too long and malformed), the rest go to recjson_line(); each record's object
 * is handed to each(arg, obj) when each is not NULL (the callee takes no reference). Memory: one line buffer.
 * Returns 0, or -1 when reading f failed (what came before is kept; errno as fread left it).
 */
int recjson_read(struct recjson *r, FILE *f, const char *name, void (*each)(void *arg, json_t *obj), void *arg);

/* Counts an input file read (the stats' records_input.files). */
void recjson_file_done(struct recjson *r);

/*
 * The end of the input: tickets still unlinked are looked up once more (a KDC reply read after the record
 * that used its ticket), then the findings run and go on, then the closing stats (st and dec, the counters of
 * a capture — zero here —, with records_input) and the end of the chain. Call once.
 */
void recjson_end(struct recjson *r, const struct hs_stats *st, const struct decode_stats *dec);

/* What was read so far. */
const struct records_input_stats *recjson_stats(const struct recjson *r);

/* After recjson_end(), with want_graph: the hop graph, record ids and findings as the sensors wrote them,
 * each edge with its sensor (graph_edge.sensor); NULL without memory or without want_graph. */
const struct hop_graph *recjson_graph(const struct recjson *r);

/* The correlation stage fed (its summaries hold internal ids, 1, 2, ... in reading order). */
struct hs_correlate *recjson_correlate(struct recjson *r);

/* Frees the reader, its correlation stage and the graph (not the stages after them). */
void recjson_free(struct recjson *r);

#endif
