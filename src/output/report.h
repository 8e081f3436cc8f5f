/* Reports drawn after the run from the hop graph (correlate/graph.h): Graphviz DOT. */
#ifndef HOPSCOPE_REPORT_H
#define HOPSCOPE_REPORT_H

#include <stdio.h>

#include "graph.h"

/*
 * Writes g as a Graphviz DOT digraph to f: a node per host (`n<i>`, labelled with its name and addresses), an
 * edge per session (`e<i>`: user, mechanism, transport/service, result and status, time of day UTC; failed ones
 * red; second hops with their delegation kind), KDC exchanges dashed, a second hop that never started red and
 * dashed, and the findings as notes in a cluster (`f<i>`) joined to the host they are about; each edge names
 * its findings in its label and tooltip. Strings from the wire are escaped for DOT (quotes, backslashes) and
 * made valid UTF-8 (invalid bytes become '?', control characters spaces). title (may be NULL) labels the graph.
 * Returns 0, or -1 when a write failed.
 */
int report_write_dot(const struct hop_graph *g, FILE *f, const char *title);

/* The dot text of report_write_dot() in a malloc'd NUL-terminated string (*len its length); NULL without
 * memory. */
char *report_dot_string(const struct hop_graph *g, const char *title, size_t *len);

/* Appends s to f made safe for DOT's quoted strings (see report_write_dot); wrap > 0 breaks lines ("\n")
 * at a space after wrap characters. Exposed for tests. */
void report_dot_escape(FILE *f, const char *s, size_t wrap);

#endif
