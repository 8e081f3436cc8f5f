/* One self-contained HTML report: findings, the hop graph as SVG (Graphviz libgvc), hosts, sessions. */
#include "report.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gvc.h>

#include "format.h"

void report_html_escape(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = report_utf8_seq(p + i, n - i);
        if (k == 0) {
            fputs("&#xfffd;", f);
            i++;
            continue;
        }
        if (k > 1) {
            fwrite(p + i, 1, k, f);
        } else {
            switch (p[i]) {
            case '&': fputs("&amp;", f); break;
            case '<': fputs("&lt;", f); break;
            case '>': fputs("&gt;", f); break;
            case '"': fputs("&quot;", f); break;
            case '\'': fputs("&#39;", f); break;
            default: fputc(p[i] < 0x20 || p[i] == 0x7F ? ' ' : p[i], f);
            }
        }
        i += k;
    }
}

static const char STYLE[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#222;line-height:1.4}"
    "h1{margin:0 0 .2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
    ".meta{color:#555}.finding{border-left:6px solid #9e9e9e;padding:.4em 1em;margin:.8em 0;background:#fafafa;"
    "cursor:pointer}.finding h3{margin:.2em 0}.sev-high{border-color:#c62828}.sev-medium{border-color:#f9a825}"
    ".sev-low,.sev-info{border-color:#1565c0}.finding.active{outline:2px solid #1565c0;background:#e3f2fd}"
    ".badge{display:inline-block;font-size:12px;padding:0 .5em;border-radius:3px;color:#fff;background:#757575;"
    "margin-right:.4em}.badge.high{background:#c62828}.badge.medium{background:#ef6c00}"
    "table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;"
    "vertical-align:top}th{cursor:pointer;background:#f0f0f0;user-select:none}th.asc:after{content:' \\25b2'}"
    "th.desc:after{content:' \\25bc'}tr.failed td{color:#c62828}tr.hl td{background:#fff59d}"
    "tr.host{cursor:pointer}#graph{overflow:auto;border:1px solid #eee}#graph svg{max-width:100%;height:auto}"
    "#graph g.node.host{cursor:pointer}#graph g.node.finding{cursor:pointer}"
    "#graph g.edge.hl path{stroke:#1565c0;stroke-width:4}#graph g.edge.hl polygon{stroke:#1565c0;fill:#1565c0}"
    "#graph g.edge.hl text{font-weight:bold;fill:#1565c0}#graph g.node.hl polygon,#graph g.node.hl path"
    "{stroke:#1565c0;stroke-width:3}#filter{margin:.4em 0;padding:.3em;width:24em}code{background:#f3f3f3;"
    "padding:0 .2em}";

/* Highlighting, sorting, filtering: no fetch, no eval, DOM only. */
static const char SCRIPT[] =
    "(function(){\n"
    "function all(s){return Array.prototype.slice.call(document.querySelectorAll(s));}\n"
    "function clear(){all('.hl').forEach(function(e){e.classList.remove('hl');});"
    "all('.finding.active').forEach(function(e){e.classList.remove('active');});}\n"
    "function edges(ids){ids.forEach(function(id){var g=document.getElementById(id);if(g)g.classList.add('hl');"
    "all('tr[data-edge=\"'+id+'\"]').forEach(function(r){r.classList.add('hl');"
    "var d=document.getElementById(r.getAttribute('data-gedge'));if(d)d.classList.add('hl');});});}\n"
    "function node(n){clear();var ids=[];all('#sessions-table tbody tr').forEach(function(r){"
    "if(r.getAttribute('data-from')===n||r.getAttribute('data-to')===n)ids.push(r.getAttribute('data-edge'));});"
    "var g=document.getElementById(n);if(g)g.classList.add('hl');"
    "all('tr[data-node=\"'+n+'\"]').forEach(function(r){r.classList.add('hl');});edges(ids);}\n"
    "function finding(d){clear();d.classList.add('active');"
    "edges((d.getAttribute('data-edges')||'').split(' ').filter(Boolean));}\n"
    "all('#graph g.node.host').forEach(function(g){g.addEventListener('click',function(){node(g.id);});});\n"
    "all('tr.host').forEach(function(r){r.addEventListener('click',function(){"
    "node(r.getAttribute('data-node'));});});\n"
    "all('div.finding').forEach(function(d){d.addEventListener('click',function(){finding(d);});});\n"
    "all('#graph g.node.finding').forEach(function(g){g.addEventListener('click',function(){"
    "var d=document.querySelector('div.finding[data-finding=\"'+g.id+'\"]');if(d){finding(d);"
    "d.scrollIntoView({block:'nearest'});}});});\n"
    "var tb=document.querySelector('#sessions-table tbody');\n"
    "all('#sessions-table th').forEach(function(th,i){th.addEventListener('click',function(){"
    "var asc=!th.classList.contains('asc');all('#sessions-table th').forEach(function(h){"
    "h.classList.remove('asc','desc');});th.classList.add(asc?'asc':'desc');"
    "var rows=Array.prototype.slice.call(tb.rows);rows.sort(function(a,b){"
    "var x=a.cells[i].getAttribute('data-sort')||a.cells[i].textContent,"
    "y=b.cells[i].getAttribute('data-sort')||b.cells[i].textContent;"
    "var nx=parseFloat(x),ny=parseFloat(y);var c=(!isNaN(nx)&&!isNaN(ny)&&String(nx)===x&&String(ny)===y)?nx-ny:"
    "x.localeCompare(y);return asc?c:-c;});rows.forEach(function(r){tb.appendChild(r);});});});\n"
    "var fi=document.getElementById('filter');if(fi)fi.addEventListener('input',function(){"
    "var q=fi.value.toLowerCase();Array.prototype.slice.call(tb.rows).forEach(function(r){"
    "r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});});\n"
    "var m=/^#(finding-[0-9]+)$/.exec(location.hash);if(m){var d=document.getElementById(m[1]);if(d)finding(d);}\n"
    "var h=/^#host-(n[0-9]+)$/.exec(location.hash);if(h)node(h[1]);\n"
    "})();\n";

/* Edges of one kind (session, KDC, missing hop) and outcome between two hosts, for merging. */
struct mkey {
    uint32_t from, to;
    uint8_t cls;
    bool failed;
    size_t i;
};

static int mkey_cmp(const void *a, const void *b)
{
    const struct mkey *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    if (x->failed != y->failed)
        return x->failed ? 1 : -1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * m: g with the edges of one kind and outcome between two hosts merged into one (its first, with `merged`
 * and `merged_failed` counted and the findings of all); map[i] is the merged index of g's edge i. Nodes and
 * findings are g's (not copied). -1 without memory.
 */
static int merge_edges(const struct hop_graph *g, struct hop_graph *m, uint32_t *map)
{
    struct mkey *k = malloc((g->n_edges ? g->n_edges : 1) * sizeof *k);
    memset(m, 0, sizeof *m);
    m->edges = malloc((g->n_edges ? g->n_edges : 1) * sizeof *m->edges);
    if (!k || !m->edges) {
        free(k);
        free(m->edges);
        return -1;
    }
    m->nodes = g->nodes;
    m->n_nodes = g->n_nodes;
    m->findings = g->findings;
    m->n_findings = g->n_findings;
    for (size_t i = 0; i < g->n_edges; i++) {
        const struct graph_edge *e = &g->edges[i];
        uint8_t cls = e->kind == GEDGE_SESSION ? 0 : e->kind == GEDGE_NO_SESSION ? 2 : 1;
        k[i] = (struct mkey){e->from, e->to, cls, e->failed, i};
    }
    qsort(k, g->n_edges, sizeof *k, mkey_cmp);
    for (size_t i = 0; i < g->n_edges;) {
        size_t j = i;
        struct graph_edge *me = &m->edges[m->n_edges];
        *me = g->edges[k[i].i];
        me->merged = me->merged_failed = 0;
        for (; j < g->n_edges && k[j].from == k[i].from && k[j].to == k[i].to && k[j].cls == k[i].cls &&
               k[j].failed == k[i].failed;
             j++) {
            const struct graph_edge *e = &g->edges[k[j].i];
            me->merged++;
            me->merged_failed += e->failed;
            for (uint32_t q = 0; q < e->nfindings; q++) {
                bool have = false;
                for (uint32_t r = 0; r < me->nfindings; r++)
                    have |= me->findings[r] == e->findings[q];
                if (!have && me->nfindings < GRAPH_EDGE_FINDINGS)
                    me->findings[me->nfindings++] = e->findings[q];
            }
            map[k[j].i] = (uint32_t)m->n_edges;
        }
        m->n_edges++;
        i = j;
    }
    free(k);
    return 0;
}

/* The SVG Graphviz draws of g, its edges named eprefix<i> (malloc'd, from "<svg" on), or NULL with why[] said. */
static char *render_svg(const struct hop_graph *g, char eprefix, char *why, size_t cap)
{
    if (g->n_edges > REPORT_SVG_EDGES_MAX) {
        snprintf(why, cap, "The graph has %zu edges between distinct pairs of hosts, more than the %d drawn in a "
                 "page; the DOT output (--dot) has them all.", g->n_edges, REPORT_SVG_EDGES_MAX);
        return NULL;
    }
    char *dot = report_dot_string_ids(g, "", eprefix, NULL);
    if (!dot) {
        snprintf(why, cap, "Out of memory.");
        return NULL;
    }
    char *svg = NULL;
    agseterr(AGERR); /* Graphviz's warnings are not ours to print */
    GVC_t *gvc = gvContext();
    Agraph_t *gr = gvc ? agmemread(dot) : NULL;
    char *out = NULL;
    unsigned int len = 0;
    if (!gr)
        snprintf(why, cap, "Graphviz could not read the graph.");
    else if (gvLayout(gvc, gr, "dot") != 0)
        snprintf(why, cap, "Graphviz could not lay out the graph.");
    else {
        if (gvRenderData(gvc, gr, "svg", &out, &len) != 0 || !out)
            snprintf(why, cap, "Graphviz could not render the graph as SVG.");
        else {
            const char *start = strstr(out, "<svg");
            if (start) {
                size_t n = len - (size_t)(start - out);
                svg = malloc(n + 1);
                if (svg) {
                    memcpy(svg, start, n);
                    svg[n] = '\0';
                }
            }
            if (!svg)
                snprintf(why, cap, "Graphviz's SVG had no <svg> element.");
        }
        if (out)
            gvFreeRenderData(out);
        gvFreeLayout(gvc, gr);
    }
    if (gr)
        agclose(gr);
    if (gvc)
        gvFreeContext(gvc);
    free(dot);
    return svg;
}

static void node_label(FILE *f, const struct graph_node *nd)
{
    if (nd->name[0]) {
        report_html_escape(f, nd->name);
        if (nd->addrs[0]) {
            fputs(" (", f);
            report_html_escape(f, nd->addrs);
            fputc(')', f);
        }
    } else {
        report_html_escape(f, nd->addrs);
    }
}

static void write_finding(FILE *f, const struct hop_graph *g, size_t i)
{
    const struct graph_finding *gf = &g->findings[i];
    const struct hs_finding *h = &gf->f;
    fprintf(f, "<div class=\"finding sev-");
    report_html_escape(f, h->severity);
    fprintf(f, "\" id=\"finding-%zu\" data-finding=\"f%zu\" data-id=\"", i, i);
    report_html_escape(f, h->id);
    fputs("\" data-edges=\"", f);
    for (uint32_t j = 0; j < gf->nedges; j++)
        fprintf(f, "%se%u", j ? " " : "", gf->edges[j]);
    fputs("\" tabindex=\"0\">\n<h3><span class=\"badge ", f);
    report_html_escape(f, h->severity);
    fputs("\">", f);
    report_html_escape(f, h->severity);
    fputs("</span>", f);
    report_html_escape(f, h->title);
    fputs("</h3>\n<p><code>", f);
    report_html_escape(f, h->id);
    fputs("</code> &middot; ", f);
    report_html_escape(f, h->confidence);
    if (h->user[0]) {
        fputs(" &middot; user <b>", f);
        report_html_escape(f, h->user);
        fputs("</b>", f);
    }
    fputs("</p>\n<p>Hosts: ", f);
    const char *addr[3] = {h->client, h->first_hop, h->second_hop};
    const char *name[3] = {h->client_name, h->first_hop_name, h->second_hop_name};
    for (int k = 0, first = 1; k < 3; k++) {
        if (!addr[k][0])
            continue;
        if (!first)
            fputs(" &rarr; ", f);
        first = 0;
        if (name[k][0] && strcmp(name[k], addr[k])) {
            report_html_escape(f, name[k]);
            fputs(" (", f);
            report_html_escape(f, addr[k]);
            fputc(')', f);
        } else {
            report_html_escape(f, addr[k]);
        }
    }
    fputs("</p>\n<p><b>Why.</b> ", f);
    report_html_escape(f, h->explanation);
    fputs("</p>\n<p><b>Evidence.</b> frames", f);
    const struct finding_sensors *sn = h->sensors; /* hopscope --records: "sensor:frame", "sensor#id" */
    for (uint32_t j = 0; sn && j < sn->nframes; j++) {
        fputc(' ', f);
        report_html_escape(f, sn->frames[j].sensor);
        fprintf(f, ":%llu", (unsigned long long)sn->frames[j].n);
    }
    for (uint32_t j = 0; !sn && j < h->nframes; j++)
        fprintf(f, " %llu", (unsigned long long)h->frames[j]);
    fputs("; records", f);
    for (uint32_t j = 0; sn && j < sn->nrecords; j++) {
        fputc(' ', f);
        report_html_escape(f, sn->records[j].sensor);
        fprintf(f, "#%llu", (unsigned long long)sn->records[j].n);
    }
    for (uint32_t j = 0; !sn && j < h->nrecords; j++)
        fprintf(f, " %llu", (unsigned long long)h->records[j]);
    fputs("</p>\n<p><b>Fix.</b> ", f);
    report_html_escape(f, h->remediation);
    fputs("</p>\n</div>\n", f);
}

static void write_row(FILE *f, const struct hop_graph *g, size_t i, char gp, uint32_t gi)
{
    const struct graph_edge *e = &g->edges[i];
    char ts[32];
    format_ts(&e->ts, ts);
    fprintf(f, "<tr data-edge=\"e%zu\" data-gedge=\"%c%u\" data-from=\"n%u\" data-to=\"n%u\"%s>", i, gp, gi,
            e->from, e->to, e->failed ? " class=\"failed\"" : "");
    fprintf(f, "<td data-sort=\"%s\">%s</td>", ts, ts);
    if (e->id && e->sensor) { /* hopscope --records: the sensor whose record it is */
        fputs("<td>", f);
        report_html_escape(f, e->sensor);
        fprintf(f, "#%llu</td>", (unsigned long long)e->id);
    } else if (e->id) {
        fprintf(f, "<td>%llu</td>", (unsigned long long)e->id);
    }
    else
        fputs("<td data-sort=\"0\"></td>", f);
    fputs("<td>", f);
    node_label(f, &g->nodes[e->from]);
    fputs("</td><td>", f);
    node_label(f, &g->nodes[e->to]);
    fputs("</td><td>", f);
    if (e->kind == GEDGE_KDC_SUMMARY)
        fprintf(f, "(%u KDC exchanges)", e->count);
    else
        report_html_escape(f, e->anonymous ? "(anonymous)" : e->user);
    fputs("</td><td>", f);
    report_html_escape(f, e->mech);
    fputs("</td><td>", f);
    report_html_escape(f, e->transport);
    if (e->service[0]) {
        fputc('/', f);
        report_html_escape(f, e->service);
    }
    fprintf(f, "</td><td>%s</td><td>", e->kind == GEDGE_NO_SESSION ? "not started" : auth_result_name(e->result));
    report_html_escape(f, e->status);
    if (e->use_denied[0]) {
        fputs("; ", f);
        report_html_escape(f, e->use_denied);
    }
    fputs("</td><td>", f);
    if (e->second_hop)
        fprintf(f, "delegation: %s", graph_deleg_name(e->deleg));
    fputs("</td><td>", f);
    for (uint32_t j = 0; j < e->nfindings; j++) {
        fputs(j ? " " : "", f);
        report_html_escape(f, g->findings[e->findings[j]].f.id);
    }
    fputs("</td><td>", f);
    if (e->f_first)
        fprintf(f, "%llu", (unsigned long long)e->f_first);
    if (e->f_verdict && e->f_verdict != e->f_first)
        fprintf(f, "&ndash;%llu", (unsigned long long)e->f_verdict);
    fputs("</td></tr>\n", f);
}

int report_write_html(const struct hop_graph *g, FILE *f, const char *input)
{
    size_t nsess = 0, nfailed = 0;
    for (size_t i = 0; i < g->n_edges; i++)
        if (g->edges[i].kind == GEDGE_SESSION) {
            nsess++;
            nfailed += g->edges[i].failed;
        }
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "script-src 'unsafe-inline'\">\n<meta name=\"viewport\" content=\"width=device-width\">\n"
          "<title>hopscope report",
          f);
    if (input) {
        fputs(": ", f);
        report_html_escape(f, input);
    }
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>hopscope report</h1>\n<p class=\"meta\">", STYLE);
    if (input) {
        fputs("Capture <code>", f);
        report_html_escape(f, input);
        fputs("</code> &middot; ", f);
    }
    fprintf(f, "%zu hosts &middot; %zu sessions (%zu failed) &middot; %zu findings</p>\n", g->n_nodes, nsess,
            nfailed, g->n_findings);
    if (g->edges_dropped || g->findings_dropped)
        fprintf(f, "<p class=\"meta\">Left out at the caps: %llu edges, %llu findings.</p>\n",
                (unsigned long long)g->edges_dropped, (unsigned long long)g->findings_dropped);

    fprintf(f, "<section id=\"findings\">\n<h2>Findings (%zu)</h2>\n", g->n_findings);
    if (!g->n_findings)
        fputs("<p>No findings.</p>\n", f);
    else
        fputs("<p class=\"meta\">Click a finding to highlight its sessions in the graph and the table.</p>\n", f);
    for (size_t i = 0; i < g->n_findings; i++)
        write_finding(f, g, i);
    fputs("</section>\n", f);

    /* the drawing: every edge, or past REPORT_SVG_EDGES_DIRECT those between two hosts merged by kind/outcome */
    char why[256] = "";
    uint32_t *gmap = malloc((g->n_edges ? g->n_edges : 1) * sizeof *gmap);
    struct hop_graph merged;
    memset(&merged, 0, sizeof merged);
    char gp = 'e';
    char *svg = NULL;
    if (!gmap) {
        snprintf(why, sizeof why, "Out of memory.");
    } else if (g->n_edges > REPORT_SVG_EDGES_DIRECT && merge_edges(g, &merged, gmap) == 0) {
        gp = 'g';
        svg = render_svg(&merged, gp, why, sizeof why);
    } else if (g->n_edges > REPORT_SVG_EDGES_DIRECT) {
        snprintf(why, sizeof why, "Out of memory.");
    } else {
        for (size_t i = 0; i < g->n_edges; i++)
            gmap[i] = (uint32_t)i;
        svg = render_svg(g, gp, why, sizeof why);
    }
    free(merged.edges);
    fputs("<section id=\"graph-section\">\n<h2>Hop graph</h2>\n", f);
    if (svg) {
        fputs("<p class=\"meta\">Red: failed. Dashed: KDC exchanges, or a second hop that never started. "
              "Click a host to highlight its sessions.",
              f);
        if (gp == 'g')
            fprintf(f, " With %zu edges, those of one kind and outcome between two hosts are drawn as one.",
                    g->n_edges);
        fputs("</p>\n<div id=\"graph\">\n", f);
        fputs(svg, f);
        fputs("</div>\n", f);
        free(svg);
    } else {
        fputs("<p id=\"graph-missing\">", f);
        report_html_escape(f, why);
        fputs("</p>\n", f);
    }
    fputs("</section>\n", f);

    fprintf(f, "<section id=\"hosts\">\n<h2>Hosts (%zu)</h2>\n<table id=\"hosts-table\"><thead><tr><th>Name</th>"
               "<th>Addresses</th><th>Sessions in</th><th>out</th><th>failed in</th></tr></thead><tbody>\n",
            g->n_nodes);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const struct graph_node *nd = &g->nodes[i];
        fprintf(f, "<tr class=\"host\" data-node=\"n%zu\"><td>", i);
        report_html_escape(f, nd->name);
        if (nd->kdc_realm[0]) {
            fputs(" (KDC of ", f);
            report_html_escape(f, nd->kdc_realm);
            fputc(')', f);
        }
        fputs("</td><td>", f);
        report_html_escape(f, nd->addrs[0] ? nd->addrs : "(no address seen)");
        fprintf(f, "</td><td>%u</td><td>%u</td><td>%u</td></tr>\n", nd->nsessions_in, nd->nsessions_out,
                nd->nfailed_in);
    }
    fputs("</tbody></table>\n</section>\n", f);

    fprintf(f, "<section id=\"sessions\">\n<h2>Sessions (%zu edges)</h2>\n"
               "<input id=\"filter\" type=\"search\" placeholder=\"Filter rows (any text)\" "
               "aria-label=\"Filter sessions\">\n<table id=\"sessions-table\"><thead><tr><th>Time (UTC)</th>"
               "<th>Record</th><th>Client</th><th>Server</th><th>User</th><th>Mechanism</th>"
               "<th>Transport/service</th><th>Result</th><th>Status</th><th>Second hop</th><th>Findings</th>"
               "<th>Frames</th></tr></thead><tbody>\n",
            g->n_edges);
    for (size_t i = 0; i < g->n_edges; i++)
        write_row(f, g, i, gp, gmap ? gmap[i] : 0);
    free(gmap);
    fputs("</tbody></table>\n</section>\n<script>\n", f);
    fputs(SCRIPT, f);
    fputs("</script>\n</body>\n</html>\n", f);
    return ferror(f) ? -1 : 0;
}
