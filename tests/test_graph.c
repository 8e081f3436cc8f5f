/* The hop graph from synthetic summaries: nodes per host, second hops and their delegation kind, findings tied
 * to edges, a second hop that never started; DOT escaping of names from the wire; the caps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "report.h"
#include "strpool.h"

/* The summaries' strings are pointers, as the correlation stage interns them: the tests' own copies. */
static struct strpool pool;

static const char *keep(const char *s)
{
    return strpool_get(&pool, s, 127);
}

static void ip4(uint8_t *ip, uint8_t last)
{
    memset(ip, 0, 16);
    ip[0] = 10;
    ip[3] = last;
}

static struct fsum_auth sess(uint64_t id, uint8_t c, uint8_t s, long t, const char *user, enum auth_mech m,
                             enum auth_result res)
{
    struct fsum_auth a;
    fsum_auth_init(&a);
    a.id = id;
    a.af = 4;
    ip4(a.cli, c);
    ip4(a.srv, s);
    a.ts.tv_sec = t;
    a.user = keep(user);
    a.mech = m;
    a.result = res;
    a.service = "cifs";
    return a;
}

static struct fsum_kdc kdc(uint64_t id, uint8_t c, uint8_t s, long t, enum kdc_kind kind, const char *cname,
                           const char *imp, bool failed)
{
    struct fsum_kdc k;
    fsum_kdc_init(&k);
    k.id = id;
    k.af = 4;
    ip4(k.cli, c);
    ip4(k.srv, s);
    k.ts.tv_sec = t;
    k.kind = kind;
    k.cname = keep(cname);
    k.impersonated = keep(imp);
    k.sname = "cifs/dc1.example.test@EXAMPLE.TEST";
    k.failed = failed;
    k.error_code = failed ? 13 : 0;
    return k;
}

static const struct findings_cfg cfg = {.hop_window = 600};

static char *dot_of(const struct hop_graph *g)
{
    size_t n = 0;
    char *s = report_dot_string(g, "t", &n);
    assert_non_null(s);
    assert_int_equal(strlen(s), n);
    return s;
}

static void test_graph_ntlm_double_hop_is_a_second_hop_without_delegation(void **st)
{
    (void)st;
    struct fsum_auth a[2] = {sess(1, 30, 20, 100, "EX\\alice", AMECH_NEGOTIATE_NTLM, RESULT_SUCCESS),
                             sess(2, 20, 10, 101, "", AMECH_NEGOTIATE_NTLM, RESULT_SUCCESS)};
    a[1].anonymous = true;
    a[1].use_denied = true;
    a[1].use_name = "\\\\dc1\\netlogon";
    struct hs_finding f;
    memset(&f, 0, sizeof f);
    f.id = "double_hop_failed";
    f.severity = "high";
    f.confidence = "proven";
    snprintf(f.client, sizeof f.client, "10.0.0.30");
    snprintf(f.first_hop, sizeof f.first_hop, "10.0.0.20");
    snprintf(f.second_hop, sizeof f.second_hop, "10.0.0.10");
    f.records[0] = 1;
    f.records[1] = 2;
    f.nrecords = 2;
    struct hop_graph *g = graph_build(&cfg, a, 2, NULL, 0, &f, 1);
    assert_non_null(g);
    assert_int_equal(g->n_nodes, 3);
    assert_int_equal(g->n_edges, 2);
    assert_false(g->edges[0].second_hop);
    assert_true(g->edges[1].second_hop);
    assert_true(g->edges[1].failed);
    assert_int_equal(g->edges[1].deleg, GDELEG_NONE);
    assert_int_equal(g->edges[1].via, 1);
    assert_int_equal(g->n_findings, 1);
    assert_int_equal(g->findings[0].nedges, 2);
    assert_int_equal(g->edges[0].nfindings, 1);
    assert_int_equal(g->edges[1].nfindings, 1);
    char *d = dot_of(g);
    assert_non_null(strstr(d, "second hop, delegation: none"));
    assert_non_null(strstr(d, "EX\\\\alice")); /* the backslash escaped */
    assert_non_null(strstr(d, "\\\\\\\\dc1\\\\netlogon"));
    free(d);
    graph_free(g);
}

static void test_graph_s4u2proxy_and_forwarded_tgt_delegation(void **st)
{
    (void)st;
    struct fsum_auth a[4] = {sess(1, 30, 20, 100, "alice@EX", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(4, 20, 10, 102, "alice@EX", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(5, 31, 21, 100, "bob@EX", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(7, 21, 10, 103, "bob@EX", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS)};
    struct fsum_kdc k[2] = {kdc(3, 20, 10, 101, KDC_KIND_S4U2PROXY, "websvc@EX", "alice@EX", false),
                            kdc(6, 21, 10, 101, KDC_KIND_TGS, "bob@EX", "", false)};
    struct hop_graph *g = graph_build(&cfg, a, 4, k, 2, NULL, 0);
    assert_non_null(g);
    int s4u = 0, tgt = 0;
    for (size_t i = 0; i < g->n_edges; i++) {
        if (g->edges[i].id == 4) {
            assert_int_equal(g->edges[i].deleg, GDELEG_S4U2PROXY);
            s4u++;
        }
        if (g->edges[i].id == 7) {
            assert_int_equal(g->edges[i].deleg, GDELEG_FORWARDED_TGT);
            tgt++;
        }
    }
    assert_int_equal(s4u, 1);
    assert_int_equal(tgt, 1);
    /* the S4U2Proxy is drawn on its own, the TGS counted; the DC is the KDC of EX */
    char *d = dot_of(g);
    assert_non_null(strstr(d, "s4u2proxy kerberos/cifs/dc1.example.test@EXAMPLE.TEST"));
    assert_non_null(strstr(d, "Kerberos KDC: 1 exchange"));
    assert_non_null(strstr(d, "KDC of EXAMPLE.TEST"));
    free(d);
    graph_free(g);
}

static void test_graph_refused_s4u2proxy_draws_the_hop_that_never_started(void **st)
{
    (void)st;
    struct fsum_auth a[1] = {sess(1, 30, 20, 100, "alice@EX", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS)};
    struct fsum_kdc k[1] = {kdc(2, 20, 10, 101, KDC_KIND_S4U2PROXY, "websvc@EX", "alice@EX", true)};
    struct hs_finding f;
    memset(&f, 0, sizeof f);
    f.id = "double_hop_failed";
    f.severity = "high";
    f.confidence = "proven";
    snprintf(f.client, sizeof f.client, "10.0.0.30");
    snprintf(f.first_hop, sizeof f.first_hop, "10.0.0.20");
    snprintf(f.second_hop, sizeof f.second_hop, "DC1.example.test");
    f.records[0] = 1;
    f.records[1] = 2;
    f.nrecords = 2;
    struct hop_graph *g = graph_build(&cfg, a, 1, k, 1, &f, 1);
    assert_non_null(g);
    assert_int_equal(g->n_nodes, 4); /* three addresses and a host known only by the SPN's name */
    assert_string_equal(g->nodes[3].name, "dc1.example.test");
    const struct graph_edge *e = &g->edges[g->n_edges - 1];
    assert_int_equal(e->kind, GEDGE_NO_SESSION);
    assert_true(e->failed);
    assert_int_equal(e->to, 3);
    assert_int_equal(e->f_first, 0); /* the KDC edge had no frames in this synthetic summary */
    assert_int_equal(g->findings[0].nedges, 3);
    graph_free(g);
}

static void test_graph_dot_escapes_quotes_controls_and_bad_utf8(void **st)
{
    (void)st;
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    assert_non_null(m);
    report_dot_escape(m, "a\"b\\c\nd\x01<script>\xff\xc3\xa9", 0);
    fclose(m);
    assert_string_equal(buf, "a\\\"b\\\\c d <script>?\xc3\xa9");
    free(buf);
}

static void test_graph_edges_are_capped(void **st)
{
    (void)st;
    size_t n = GRAPH_EDGES_MAX + 100;
    struct fsum_auth *a = calloc(n, sizeof *a);
    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        a[i] = sess(i + 1, (uint8_t)(i % 200), 250, (long)i, "u", AMECH_NTLM, RESULT_SUCCESS);
    struct hop_graph *g = graph_build(&cfg, a, n, NULL, 0, NULL, 0);
    assert_non_null(g);
    assert_int_equal(g->n_edges, GRAPH_EDGES_MAX);
    assert_int_equal(g->edges_dropped, 100);
    assert_int_equal(g->n_nodes, 201);
    graph_free(g);
    free(a);
}

/* A hostile name from the wire renders as text: in the findings, the tables and Graphviz's SVG alike. */
static void test_graph_html_escapes_names_from_the_wire(void **st)
{
    (void)st;
    struct fsum_auth a[2] = {sess(1, 30, 20, 100, "<script>alert(1)</script>", AMECH_NTLM, RESULT_SUCCESS),
                             sess(2, 20, 10, 101, "", AMECH_NTLM, RESULT_FAILURE)};
    a[0].service = "\"><img src=x onerror=alert(2)>";
    struct hs_finding f;
    memset(&f, 0, sizeof f);
    f.id = "double_hop_failed";
    f.severity = "high";
    f.confidence = "proven";
    snprintf(f.title, sizeof f.title, "<script>alert(3)</script>");
    snprintf(f.explanation, sizeof f.explanation, "x' onclick='alert(4)");
    snprintf(f.user, sizeof f.user, "<b>bold</b>");
    snprintf(f.first_hop, sizeof f.first_hop, "10.0.0.20");
    f.records[0] = 1;
    f.nrecords = 1;
    struct hop_graph *g = graph_build(&cfg, a, 2, NULL, 0, &f, 1);
    assert_non_null(g);
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    assert_non_null(m);
    assert_int_equal(report_write_html(g, m, "<script>alert(5)</script>.pcap"), 0);
    fclose(m);
    assert_null(strstr(buf, "<script>alert"));
    assert_null(strstr(buf, "<img"));
    assert_null(strstr(buf, "<b>bold"));
    assert_null(strstr(buf, "' onclick='"));
    assert_non_null(strstr(buf, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(buf, "&lt;b&gt;bold&lt;/b&gt;"));
    assert_non_null(strstr(buf, "<svg")); /* the graph was drawn (Graphviz escaped its text) */
    /* exactly one script element: the page's own */
    const char *p = buf;
    int scripts = 0;
    while ((p = strstr(p, "<script")) != NULL) {
        scripts++;
        p++;
    }
    assert_int_equal(scripts, 1);
    free(buf);
    graph_free(g);
}

/* Past REPORT_SVG_EDGES_DIRECT edges the page draws those between two hosts merged, and still draws. */
static void test_graph_html_merges_many_edges(void **st)
{
    (void)st;
    size_t n = REPORT_SVG_EDGES_DIRECT * 3;
    struct fsum_auth *a = calloc(n, sizeof *a);
    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        a[i] = sess(i + 1, (uint8_t)(30 + i % 3), 20, (long)i, "u", AMECH_NTLM,
                    i % 5 ? RESULT_SUCCESS : RESULT_FAILURE);
    struct hop_graph *g = graph_build(&cfg, a, n, NULL, 0, NULL, 0);
    assert_non_null(g);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(report_write_html(g, m, "x.pcap"), 0);
    fclose(m);
    assert_non_null(strstr(buf, "<svg"));
    assert_non_null(strstr(buf, "drawn as one"));
    assert_non_null(strstr(buf, "id=\"g0\""));           /* merged edges in the SVG */
    assert_non_null(strstr(buf, "data-gedge=\"g"));       /* rows point at them */
    assert_null(strstr(buf, "id=\"e0\""));
    free(buf);
    graph_free(g);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_graph_ntlm_double_hop_is_a_second_hop_without_delegation),
        cmocka_unit_test(test_graph_s4u2proxy_and_forwarded_tgt_delegation),
        cmocka_unit_test(test_graph_refused_s4u2proxy_draws_the_hop_that_never_started),
        cmocka_unit_test(test_graph_dot_escapes_quotes_controls_and_bad_utf8),
        cmocka_unit_test(test_graph_edges_are_capped),
        cmocka_unit_test(test_graph_html_escapes_names_from_the_wire),
        cmocka_unit_test(test_graph_html_merges_many_edges),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    strpool_free(&pool);
    return rc;
}
