/* The hop graph as Graphviz DOT (the DOT language: https://graphviz.org/doc/info/lang.html). */
#include "report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"

size_t report_utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t k;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        k = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        k = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        k = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    return cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : k;
}

void report_dot_escape(FILE *f, const char *s, size_t wrap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), col = 0;
    for (size_t i = 0; i < n;) {
        size_t k = report_utf8_seq(p + i, n - i);
        if (k == 0) {
            fputc('?', f);
            i++;
            col++;
            continue;
        }
        if (k == 1) {
            unsigned char c = p[i];
            if (wrap && col >= wrap && c == ' ') {
                fputs("\\n", f);
                col = 0;
            } else if (c == '"' || c == '\\') {
                fputc('\\', f);
                fputc(c, f);
                col++;
            } else if (c < 0x20 || c == 0x7F) {
                fputc(' ', f);
                col++;
            } else {
                fputc(c, f);
                col++;
            }
        } else {
            fwrite(p + i, 1, k, f);
            col++;
        }
        i += k;
    }
}

/* "22:52:06.767" (UTC) of tv into out[16]. */
static void time_of_day(const struct timeval *tv, char out[16])
{
    struct tm tm;
    time_t t = tv->tv_sec;
    gmtime_r(&t, &tm);
    size_t k = strftime(out, 16, "%H:%M:%S", &tm);
    snprintf(out + k, 16 - k, ".%03u", (unsigned)((tv->tv_usec / 1000) % 1000));
}

static const char *edge_color(const struct graph_edge *e)
{
    if (e->failed)
        return "#c62828";
    if (e->kind == GEDGE_KDC_SUMMARY)
        return "#9e9e9e";
    if (e->result == RESULT_SUCCESS)
        return "#2e7d32";
    return "#757575";
}

static void write_node(FILE *f, const struct hop_graph *g, size_t i)
{
    const struct graph_node *nd = &g->nodes[i];
    fprintf(f, "  n%zu [id=\"n%zu\", class=\"host\", label=\"", i, i);
    if (nd->name[0]) {
        report_dot_escape(f, nd->name, 0);
        fputs("\\n", f);
    }
    report_dot_escape(f, nd->addrs[0] ? nd->addrs : "(no address seen)", 0);
    if (nd->kdc_realm[0]) {
        fputs("\\nKDC of ", f);
        report_dot_escape(f, nd->kdc_realm, 0);
    }
    fprintf(f, "\", tooltip=\"%u session(s) in, %u out, %u failed in\"", nd->nsessions_in, nd->nsessions_out,
            nd->nfailed_in);
    if (nd->nfailed_in)
        fputs(", color=\"#c62828\", penwidth=2", f);
    if (!nd->addrs[0])
        fputs(", style=\"rounded,dashed\"", f);
    fputs("];\n", f);
}

/* The label lines of an edge, escaped; sep between lines ("\\n" for DOT). */
static void edge_text(FILE *f, const struct hop_graph *g, const struct graph_edge *e, const char *sep)
{
    char tod[16];
    time_of_day(&e->ts, tod);
    if (e->kind == GEDGE_KDC_SUMMARY) {
        fprintf(f, "Kerberos KDC: %u exchange%s%sfrom %s", e->count, e->count == 1 ? "" : "s", sep, tod);
        return;
    }
    if (e->merged > 1) {
        fprintf(f, "%u %s, %u failed%sfirst: ", e->merged, e->kind == GEDGE_SESSION ? "sessions" : "edges",
                e->merged_failed, sep);
        report_dot_escape(f, e->anonymous ? "(anonymous)" : e->user[0] ? e->user : "-", 0);
        fputc(' ', f);
        report_dot_escape(f, e->mech, 0);
        fputc(' ', f);
        report_dot_escape(f, e->transport, 0);
        fprintf(f, "%sfrom %s", sep, tod);
        for (uint32_t j = 0; j < e->nfindings; j++) {
            fputs(sep, f);
            fputs("! ", f);
            report_dot_escape(f, g->findings[e->findings[j]].f.id, 0);
        }
        return;
    }
    if (e->kind == GEDGE_NO_SESSION) {
        fputs("no session: S4U2Proxy refused", f);
        fputs(sep, f);
        report_dot_escape(f, e->user[0] ? e->user : "-", 0);
    } else {
        if (e->id && e->sensor) { /* hopscope --records: the sensor whose record it is */
            report_dot_escape(f, e->sensor, 0);
            fprintf(f, "#%llu ", (unsigned long long)e->id);
        } else if (e->id) {
            fprintf(f, "#%llu ", (unsigned long long)e->id);
        }
        report_dot_escape(f, e->anonymous ? "(anonymous)" : e->user[0] ? e->user : "-", 0);
        fputs(sep, f);
        report_dot_escape(f, e->mech, 0);
        fputc(' ', f);
        report_dot_escape(f, e->transport, 0);
        fputc('/', f);
        report_dot_escape(f, e->service[0] ? e->service : "-", 0);
        fputs(sep, f);
        fputs(auth_result_name(e->result), f);
        if (e->status[0]) {
            fputc(' ', f);
            report_dot_escape(f, e->status, 0);
        }
        if (e->use_denied[0]) {
            fputs(sep, f);
            report_dot_escape(f, e->use_denied, 0);
        }
    }
    fputs(sep, f);
    fputs(tod, f);
    if (e->f_first)
        fprintf(f, " frame %llu", (unsigned long long)e->f_first);
    if (e->second_hop && e->kind != GEDGE_NO_SESSION)
        fprintf(f, "%ssecond hop, delegation: %s", sep, graph_deleg_name(e->deleg));
    for (uint32_t j = 0; j < e->nfindings; j++) {
        fputs(sep, f);
        fputs("! ", f);
        report_dot_escape(f, g->findings[e->findings[j]].f.id, 0);
    }
}

static void write_edge(FILE *f, const struct hop_graph *g, size_t i, char eprefix)
{
    const struct graph_edge *e = &g->edges[i];
    const char *col = edge_color(e);
    fprintf(f, "  n%u -> n%u [id=\"%c%zu\", class=\"%s%s\", color=\"%s\", fontcolor=\"%s\"", e->from, e->to, eprefix, i,
            e->kind == GEDGE_SESSION ? "session" : e->kind == GEDGE_NO_SESSION ? "nosession" : "kdc",
            e->failed ? " failed" : "", col, col);
    if (e->failed)
        fputs(", penwidth=2", f);
    if (e->kind != GEDGE_SESSION)
        fputs(", style=dashed", f);
    fputs(", label=\"", f);
    edge_text(f, g, e, "\\n");
    fputs("\", tooltip=\"", f);
    char ts[32];
    format_ts(&e->ts, ts);
    fputs(ts, f);
    if (e->f_verdict)
        fprintf(f, ", verdict frame %llu", (unsigned long long)e->f_verdict);
    if (e->second_hop && e->via) {
        fputs(", second hop after record ", f);
        if (e->via_sensor) {
            report_dot_escape(f, e->via_sensor, 0);
            fputc('#', f);
        }
        fprintf(f, "%llu", (unsigned long long)e->via);
    }
    for (uint32_t j = 0; j < e->nfindings; j++) {
        fputs("; ", f);
        report_dot_escape(f, g->findings[e->findings[j]].f.title, 0);
    }
    fputs("\"];\n", f);
}

static void write_findings(FILE *f, const struct hop_graph *g)
{
    if (!g->n_findings)
        return;
    fputs("  subgraph cluster_findings {\n    label=\"Findings\"; style=dashed; color=\"#9e9e9e\"; "
          "fontname=\"Helvetica\";\n",
          f);
    for (size_t i = 0; i < g->n_findings; i++) {
        const struct hs_finding *h = &g->findings[i].f;
        fprintf(f, "    f%zu [id=\"f%zu\", class=\"finding\", shape=note, style=filled, fillcolor=\"%s\", label=\"",
                i, i,
                !strcmp(h->severity, "high") ? "#ffebee" : !strcmp(h->severity, "medium") ? "#fff8e1" : "#f5f5f5");
        fprintf(f, "[%s] ", h->severity);
        report_dot_escape(f, h->id, 0);
        fputs("\\n", f);
        report_dot_escape(f, h->title, 40);
        fputs("\", tooltip=\"", f);
        report_dot_escape(f, h->explanation, 0);
        fputs("\"];\n", f);
    }
    fputs("  }\n", f);
    for (size_t i = 0; i < g->n_findings; i++) {
        const struct graph_finding *gf = &g->findings[i];
        uint32_t to = gf->nodes[1] != UINT32_MAX ? gf->nodes[1] : gf->nodes[0];
        if (to != UINT32_MAX)
            fprintf(f, "  f%zu -> n%u [style=dotted, arrowhead=none, color=\"#9e9e9e\", constraint=false];\n", i, to);
    }
}

static int write_dot(const struct hop_graph *g, FILE *f, const char *title, char eprefix)
{
    fputs("digraph hops {\n  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=\"", f);
    report_dot_escape(f, title ? title : "hopscope hop graph", 0);
    fputs("\"];\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3f8\", color=\"#4a6785\", "
          "fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
          f);
    if (g->edges_dropped || g->findings_dropped)
        fprintf(f, "  /* not drawn: %llu edges, %llu findings over the caps */\n",
                (unsigned long long)g->edges_dropped, (unsigned long long)g->findings_dropped);
    for (size_t i = 0; i < g->n_nodes; i++)
        write_node(f, g, i);
    for (size_t i = 0; i < g->n_edges; i++)
        write_edge(f, g, i, eprefix);
    write_findings(f, g);
    fputs("}\n", f);
    return ferror(f) ? -1 : 0;
}

int report_write_dot(const struct hop_graph *g, FILE *f, const char *title)
{
    return write_dot(g, f, title, 'e');
}

char *report_dot_string(const struct hop_graph *g, const char *title, size_t *len)
{
    return report_dot_string_ids(g, title, 'e', len);
}

char *report_dot_string_ids(const struct hop_graph *g, const char *title, char eprefix, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m)
        return NULL;
    int rc = write_dot(g, m, title, eprefix);
    if (fclose(m) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = n;
    return buf;
}

int report_write_file(const char *path, int (*fn)(const struct hop_graph *, FILE *, const char *),
                      const struct hop_graph *g, const char *arg)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "hopscope: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = fn(g, f, arg);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "hopscope: %s: write failed: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
