/* Reports drawn after the run from the hop graph (correlate/graph.h): Graphviz DOT, one-file HTML. */
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

/* Creates path and writes one report into it with fn (report_write_dot, report_write_html) and arg; 0, or -1
 * after one line on stderr naming path and what failed (it cannot be created, a write or the close failed). */
int report_write_file(const char *path, int (*fn)(const struct hop_graph *, FILE *, const char *),
                      const struct hop_graph *g, const char *arg);

/* The dot text of report_write_dot() in a malloc'd NUL-terminated string (*len its length); NULL without
 * memory. */
char *report_dot_string(const struct hop_graph *g, const char *title, size_t *len);

/* ... with edge ids eprefix<i> instead of e<i> (the HTML page's merged drawing uses 'g'). */
char *report_dot_string_ids(const struct hop_graph *g, const char *title, char eprefix, size_t *len);

/* Appends s to f made safe for DOT's quoted strings (see report_write_dot); wrap > 0 breaks lines ("\n")
 * at a space after wrap characters. Exposed for tests. */
void report_dot_escape(FILE *f, const char *s, size_t wrap);

/* The length of the valid UTF-8 sequence (RFC 3629) at p[0..n), or 0 when none starts there (n > 0). */
size_t report_utf8_seq(const unsigned char *p, size_t n);

/* Appends s to f escaped for HTML text and attribute values (& < > " ' as character references), control
 * characters as spaces, bytes that are not UTF-8 as U+FFFD. */
void report_html_escape(FILE *f, const char *s);

/*
 * Writes one self-contained HTML file to f: the findings first (explanation, evidence frames and records, fix),
 * the hop graph as inline SVG laid out and rendered by Graphviz (libgvc, `dot` layout, from report_write_dot's
 * text; past REPORT_SVG_EDGES_DIRECT edges those of one kind and outcome between two hosts are drawn as one,
 * "N sessions, M failed"; left out, saying why, past REPORT_SVG_EDGES_MAX merged edges or when Graphviz
 * fails), the hosts, then a sortable, filterable table of the edges (sessions and KDC exchanges). Clicking a host (in the graph or the
 * hosts table) or a finding highlights its edges in the graph and its rows in the table. Inline CSS and
 * JavaScript only, under a Content-Security-Policy that allows no fetch at all: the file works offline. Every
 * string from the wire is escaped (report_html_escape; Graphviz escapes the SVG's own text). input names the
 * capture (may be NULL). Returns 0, or -1 when a write failed.
 */
#define REPORT_SVG_EDGES_DIRECT 60   /* up to this many edges the page draws each one */
#define REPORT_SVG_EDGES_MAX 120     /* past _DIRECT, edges of one kind between two hosts are merged; past this
                                        many merged edges the graph is not drawn (Graphviz's layout time grows
                                        quickly with labelled edges) */
int report_write_html(const struct hop_graph *g, FILE *f, const char *input);

#endif
