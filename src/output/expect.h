/* Expectations: check a run's records and findings against a JSON Lines subset description (--expect), or write
 * one from the run (--write-expect). docs/REPORTS.md describes the format. */
#ifndef HOPSCOPE_EXPECT_H
#define HOPSCOPE_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "records.h"

#define EXPECT_MAX 4096                  /* expectation lines in a file */
#define EXPECT_FILE_MAX (16u << 20)      /* bytes in an expectation file */

struct hs_expect;

/*
 * A stage for the sink chain, put between the correlation stage and the writer: every record and finding is
 * turned into the object the JSON writer writes (jsonrec.h), checked against the expectations of the file at
 * path (JSON Lines; NULL: nothing to check) and, with wf, written to wf reduced to the fields an expectation
 * usually names; then passed on to next unchanged.
 * Returns NULL with a one-line reason in err[cap] (no " hopscope:" prefix) when path cannot be read, is larger
 * than EXPECT_FILE_MAX, holds more than EXPECT_MAX expectations, or a line is not a JSON object with a string
 * "type" (the reason names the line); or when memory is short.
 */
struct hs_expect *expect_new(struct hs_sink *next, const char *path, FILE *wf, char *err, size_t cap);

/* Checks o (and with wf writes it reduced) as an object the run wrote: for a run whose records are already
 * JSON (hopscope --records hands it each record it reads). o is not consumed. */
void expect_object(struct hs_expect *x, json_t *o);

/* The stage as a sink. */
struct hs_sink *expect_sink(struct hs_expect *x);

/*
 * After the run: writes to out a readable account of every expectation no output object met (the line, what
 * it wanted, and the differences from the closest object of its type) and of every finding no expectation
 * named (unless the file says {"type":"expect","other_findings":"ignore"}). Returns the number of such
 * failures (0: the capture meets the expectations, or there were none to check).
 */
size_t expect_finish(struct hs_expect *x, FILE *out);

/* The number of expectations loaded. */
size_t expect_count(const struct hs_expect *x);

/* Did writing to wf fail? */
bool expect_write_failed(const struct hs_expect *x);

void expect_free(struct hs_expect *x);

#endif
