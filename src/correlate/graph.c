/* The hop graph C -> A -> B: hosts, sessions, delegation on second hops (MS-KILE 3.3.5.7.5, MS-SFU 3.2.5,
 * MS-CSSP), findings tied to their edges. Built from record summaries only. */
#include "graph.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "hosts.h"
#include "kerberos.h"

#define KDC_ERR_PREAUTH_REQUIRED 25
#define KRB_ERR_RESPONSE_TOO_BIG 52
#define SCAN_MAX 4096 /* candidates looked at per session (first hops, KDC exchanges) */

__attribute__((format(printf, 3, 4))) static void cutf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static double tv_sec(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

const char *graph_deleg_name(enum graph_deleg d)
{
    switch (d) {
    case GDELEG_NONE: return "none";
    case GDELEG_FORWARDED_TGT: return "forwarded TGT";
    case GDELEG_S4U2PROXY: return "S4U2Proxy";
    case GDELEG_S4U2PROXY_REFUSED: return "S4U2Proxy refused";
    case GDELEG_CREDSSP: return "CredSSP";
    default: return "";
    }
}

/* ---- nodes ------------------------------------------------------------------------------------------ */

/* An address seen in a summary, with the host it belongs to and (once built) its node. */
struct ep {
    uint32_t host; /* hosts_id(), UINT32_MAX when the host table does not know the address */
    uint8_t af;
    uint8_t ip[16];
    uint32_t node;
};

static int ep_by_addr(const void *a, const void *b)
{
    const struct ep *x = a, *y = b;
    if (x->af != y->af)
        return x->af < y->af ? -1 : 1;
    return memcmp(x->ip, y->ip, 16);
}

static int ep_by_host(const void *a, const void *b)
{
    const struct ep *x = *(const struct ep *const *)a, *y = *(const struct ep *const *)b;
    if (x->host != y->host)
        return x->host < y->host ? -1 : 1;
    return ep_by_addr(x, y);
}

struct builder {
    const struct findings_cfg *cfg;
    struct host_table ht;
    struct ep *eps;           /* unique addresses, sorted by (af, ip) */
    size_t n_eps;
    struct hop_graph *g;
    size_t cap_nodes;
    uint32_t *name_ix;        /* nodes with a name, sorted by name (those made before the missing hops) */
    size_t n_name_ix;
};

static uint32_t node_of(const struct builder *b, uint8_t af, const uint8_t ip[16])
{
    struct ep key;
    memset(&key, 0, sizeof key);
    key.af = af;
    memcpy(key.ip, ip, 16);
    const struct ep *e = bsearch(&key, b->eps, b->n_eps, sizeof *b->eps, ep_by_addr);
    return e ? e->node : UINT32_MAX;
}

static void ep_add(struct ep *v, size_t *n, uint8_t af, const uint8_t ip[16])
{
    v[*n].af = af;
    memcpy(v[*n].ip, ip, 16);
    (*n)++;
}

static struct graph_node *node_new(struct builder *b)
{
    struct hop_graph *g = b->g;
    if (g->n_nodes == b->cap_nodes) {
        size_t nc = b->cap_nodes ? 2 * b->cap_nodes : 16;
        void *nv = realloc(g->nodes, nc * sizeof *g->nodes);
        if (!nv)
            return NULL;
        g->nodes = nv;
        b->cap_nodes = nc;
    }
    struct graph_node *nd = &g->nodes[g->n_nodes++];
    memset(nd, 0, sizeof *nd);
    return nd;
}

/* Appends address text to a node's list, cut with "..." when it no longer fits. */
static void node_addr(struct graph_node *nd, uint8_t af, const uint8_t ip[16])
{
    char s[INET6_ADDRSTRLEN];
    format_ip(af, ip, s);
    size_t l = strlen(nd->addrs);
    nd->naddrs++;
    if (l && !strcmp(nd->addrs + l - 3, "..."))
        return;
    if (l + 2 + strlen(s) + 4 >= sizeof nd->addrs)
        cutf(nd->addrs + l, sizeof nd->addrs - l, "%s...", l ? ", " : "");
    else
        cutf(nd->addrs + l, sizeof nd->addrs - l, "%s%s", l ? ", " : "", s);
}

static int build_nodes(struct builder *b, const struct fsum_auth *a, size_t n_a, const struct fsum_kdc *k, size_t n_k)
{
    size_t cap = 2 * (n_a + n_k) + 1, n = 0;
    b->eps = calloc(cap, sizeof *b->eps);
    struct ep **byh = NULL;
    if (!b->eps)
        return -1;
    for (size_t i = 0; i < n_a; i++) {
        ep_add(b->eps, &n, a[i].af, a[i].cli);
        ep_add(b->eps, &n, a[i].af, a[i].srv);
    }
    for (size_t i = 0; i < n_k; i++) {
        ep_add(b->eps, &n, k[i].af, k[i].cli);
        ep_add(b->eps, &n, k[i].af, k[i].srv);
    }
    qsort(b->eps, n, sizeof *b->eps, ep_by_addr);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || ep_by_addr(&b->eps[u - 1], &b->eps[i]))
            b->eps[u++] = b->eps[i];
    b->n_eps = u;
    byh = malloc((u ? u : 1) * sizeof *byh);
    if (!byh)
        return -1;
    for (size_t i = 0; i < u; i++) {
        b->eps[i].host = hosts_id(&b->ht, b->eps[i].af, b->eps[i].ip);
        byh[i] = &b->eps[i];
    }
    qsort(byh, u, sizeof *byh, ep_by_host);
    for (size_t i = 0; i < u; i++) {
        /* one node per host; an address the host table does not know is a host of its own */
        if (!i || byh[i]->host == UINT32_MAX || byh[i]->host != byh[i - 1]->host) {
            struct graph_node *nd = node_new(b);
            if (!nd) {
                free(byh);
                return -1;
            }
            cutf(nd->name, sizeof nd->name, "%s", hosts_name(&b->ht, byh[i]->af, byh[i]->ip));
        }
        byh[i]->node = (uint32_t)(b->g->n_nodes - 1);
        node_addr(&b->g->nodes[b->g->n_nodes - 1], byh[i]->af, byh[i]->ip);
    }
    free(byh);
    return 0;
}

struct named {
    const char *name;
    uint32_t node;
};

static int named_cmp(const void *x, const void *y)
{
    return strcmp(((const struct named *)x)->name, ((const struct named *)y)->name);
}

static int build_name_index(struct builder *b)
{
    struct named *v = malloc((b->g->n_nodes ? b->g->n_nodes : 1) * sizeof *v);
    b->name_ix = malloc((b->g->n_nodes ? b->g->n_nodes : 1) * sizeof *b->name_ix);
    if (!v || !b->name_ix) {
        free(v);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < b->g->n_nodes; i++)
        if (b->g->nodes[i].name[0])
            v[n++] = (struct named){b->g->nodes[i].name, (uint32_t)i};
    qsort(v, n, sizeof *v, named_cmp);
    for (size_t i = 0; i < n; i++)
        b->name_ix[i] = v[i].node;
    b->n_name_ix = n;
    free(v);
    return 0;
}

/* The node of a host a finding names: an address, or a name (a node is made for a name no address has). */
static uint32_t node_named(struct builder *b, const char *s, bool create)
{
    uint8_t ip[16] = {0};
    if (!s[0])
        return UINT32_MAX;
    if (inet_pton(AF_INET, s, ip) == 1)
        return node_of(b, 4, ip);
    if (inet_pton(AF_INET6, s, ip) == 1)
        return node_of(b, 6, ip);
    char low[64];
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof low; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    low[i] = '\0';
    size_t lo = 0, hi = b->n_name_ix;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(b->g->nodes[b->name_ix[mid]].name, low);
        if (!c)
            return b->name_ix[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* nodes made for names after the index was built: few (one per finding at most) */
    for (size_t j = b->g->n_nodes; j-- > 0 && !b->g->nodes[j].addrs[0];)
        if (!strcmp(b->g->nodes[j].name, low))
            return (uint32_t)j;
    if (!create)
        return UINT32_MAX;
    struct graph_node *nd = node_new(b);
    if (!nd)
        return UINT32_MAX;
    cutf(nd->name, sizeof nd->name, "%s", low);
    return (uint32_t)(b->g->n_nodes - 1);
}

/* ---- edges ------------------------------------------------------------------------------------------ */

static struct graph_edge *edge_new(struct hop_graph *g, size_t cap)
{
    if (g->n_edges >= cap) {
        g->edges_dropped++;
        return NULL;
    }
    struct graph_edge *e = &g->edges[g->n_edges++];
    memset(e, 0, sizeof *e);
    return e;
}

static void status_str(struct hs_status s, char *out, size_t cap)
{
    const char *n = hs_status_name(s);
    if (s.space == STATUS_NONE)
        out[0] = '\0';
    else if (s.space == STATUS_HTTP)
        cutf(out, cap, "%u", (unsigned)s.code);
    else if (n && n[0])
        cutf(out, cap, "%s", n);
    else if (s.space == STATUS_HTTP || s.space == STATUS_LDAP)
        cutf(out, cap, "%u", (unsigned)s.code);
    else
        cutf(out, cap, "0x%08x", (unsigned)s.code);
}

/* A session by (server node, start time), for finding the first hop into a node before a time. */
struct tref {
    uint32_t node;
    double t;
    size_t i;
};

static int tref_cmp(const void *a, const void *b)
{
    const struct tref *x = a, *y = b;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* The first index of v[0..n) at or after (node, t). */
static size_t tref_lower(const struct tref *v, size_t n, uint32_t node, double t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].node < node || (v[mid].node == node && v[mid].t < t))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* What A (node) held to act for user u between t0 (the first hop) and t1 (the onward session). */
static enum graph_deleg deleg_of(const struct fsum_auth *x, const struct tref *kx, size_t nkx, const struct fsum_kdc *k,
                                 uint32_t a_node, double t0, double t1)
{
    if (x->mech == AMECH_CREDSSP)
        return GDELEG_CREDSSP;
    bool tgt = x->deleg_tgt;
    enum graph_deleg s4u = GDELEG_NA;
    size_t j = tref_lower(kx, nkx, a_node, t0);
    for (size_t seen = 0; j < nkx && seen < SCAN_MAX && kx[j].node == a_node && kx[j].t <= t1 + 1.0; j++, seen++) {
        const struct fsum_kdc *r = &k[kx[j].i];
        /* an S4U2Proxy for U, or for a user the capture does not name (the evidence ticket's holder is
         * known only when the reply that issued it was seen, or with the service's keytab) */
        if (r->kind == KDC_KIND_S4U2PROXY && (same_user(r->impersonated, x->user) || !r->impersonated[0]))
            s4u = r->failed && s4u != GDELEG_S4U2PROXY ? GDELEG_S4U2PROXY_REFUSED : GDELEG_S4U2PROXY;
        else if (r->kind == KDC_KIND_TGS && !r->failed && same_user(r->cname, x->user))
            tgt = true; /* A asked the KDC as U: it held U's TGT */
    }
    if (s4u != GDELEG_NA)
        return s4u;
    return tgt ? GDELEG_FORWARDED_TGT : GDELEG_NONE;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool in_set(const uint64_t *v, size_t n, uint64_t id)
{
    return bsearch(&id, v, n, sizeof *v, cmp_u64) != NULL;
}

static void kdc_edge_fill(struct graph_edge *e, const struct fsum_kdc *r)
{
    e->kind = GEDGE_KDC;
    e->id = r->id;
    e->ts = r->ts;
    cutf(e->user, sizeof e->user, "%s", r->impersonated[0] ? r->impersonated : r->cname);
    cutf(e->mech, sizeof e->mech, "%s", kdc_kind_name(r->kind));
    cutf(e->transport, sizeof e->transport, "kerberos");
    cutf(e->service, sizeof e->service, "%s", r->sname);
    e->result = r->failed ? RESULT_FAILURE : r->f_rep ? RESULT_SUCCESS : RESULT_UNKNOWN;
    e->failed = r->failed && r->error_code != KDC_ERR_PREAUTH_REQUIRED && r->error_code != KRB_ERR_RESPONSE_TOO_BIG;
    if (r->failed) {
        const char *en = krb_error_name(r->error_code);
        if (en)
            cutf(e->status, sizeof e->status, "%s", en);
        else
            cutf(e->status, sizeof e->status, "%d", r->error_code);
    }
    e->f_first = r->f_req ? r->f_req : r->f_rep;
    e->f_verdict = r->f_rep;
}

struct pair {
    uint32_t from, to;
    double t;
    size_t i;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

struct idref {
    uint64_t id;
    uint32_t edge;
};

static int idref_cmp(const void *a, const void *b)
{
    const struct idref *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void edge_add_finding(struct graph_edge *e, uint32_t fi)
{
    for (uint32_t i = 0; i < e->nfindings; i++)
        if (e->findings[i] == fi)
            return;
    if (e->nfindings < GRAPH_EDGE_FINDINGS)
        e->findings[e->nfindings++] = fi;
}

static void finding_add_edge(struct graph_finding *gf, uint32_t ei)
{
    for (uint32_t i = 0; i < gf->nedges; i++)
        if (gf->edges[i] == ei)
            return;
    if (gf->nedges < sizeof gf->edges / sizeof *gf->edges)
        gf->edges[gf->nedges++] = ei;
}

static int build(struct builder *b, const struct fsum_auth *a, size_t n_a, const struct fsum_kdc *k, size_t n_k,
                 const struct hs_finding *f, size_t n_f)
{
    struct hop_graph *g = b->g;
    size_t cap = n_a + n_k + n_f + 1;
    if (cap > GRAPH_EDGES_MAX)
        cap = GRAPH_EDGES_MAX;
    g->edges = calloc(cap, sizeof *g->edges);
    size_t nf = n_f < GRAPH_FINDINGS_MAX ? n_f : GRAPH_FINDINGS_MAX;
    g->findings_dropped = n_f - nf;
    g->findings = calloc(nf ? nf : 1, sizeof *g->findings);
    struct tref *by_t = malloc((n_a ? n_a : 1) * sizeof *by_t);  /* sessions by start time */
    struct tref *into = malloc((n_a ? n_a : 1) * sizeof *into);  /* first-hop candidates by (server, time) */
    struct tref *kx = malloc((n_k ? n_k : 1) * sizeof *kx);      /* KDC exchanges by (client, time) */
    struct pair *pairs = malloc((n_k ? n_k : 1) * sizeof *pairs);
    uint64_t *fids = malloc((n_f * FINDING_EVIDENCE_MAX + 1) * sizeof *fids);
    struct idref *ids = NULL;
    int rc = -1;
    if (!g->edges || !g->findings || !by_t || !into || !kx || !pairs || !fids)
        goto out;
    /* the record ids findings rest on: their KDC exchanges are drawn one by one */
    size_t n_fids = 0;
    for (size_t i = 0; i < n_f; i++)
        for (uint32_t j = 0; j < f[i].nrecords; j++)
            fids[n_fids++] = f[i].records[j];
    qsort(fids, n_fids, sizeof *fids, cmp_u64);

    size_t n_into = 0;
    for (size_t i = 0; i < n_a; i++) {
        by_t[i] = (struct tref){0, tv_sec(&a[i].ts), i};
        if (a[i].result == RESULT_SUCCESS && !a[i].anonymous && a[i].user[0])
            into[n_into++] = (struct tref){node_of(b, a[i].af, a[i].srv), tv_sec(&a[i].ts), i};
    }
    qsort(by_t, n_a, sizeof *by_t, tref_cmp);
    qsort(into, n_into, sizeof *into, tref_cmp);
    for (size_t i = 0; i < n_k; i++)
        kx[i] = (struct tref){node_of(b, k[i].af, k[i].cli), tv_sec(&k[i].ts), i};
    qsort(kx, n_k, sizeof *kx, tref_cmp);

    /* sessions, in time order */
    for (size_t s = 0; s < n_a; s++) {
        const struct fsum_auth *y = &a[by_t[s].i];
        struct graph_edge *e = edge_new(g, cap);
        if (!e)
            continue;
        e->kind = GEDGE_SESSION;
        e->from = node_of(b, y->af, y->cli);
        e->to = node_of(b, y->af, y->srv);
        e->id = y->id;
        e->ts = y->ts;
        cutf(e->user, sizeof e->user, "%s", y->user);
        e->anonymous = y->anonymous;
        cutf(e->mech, sizeof e->mech, "%s", auth_mech_name(y->mech));
        cutf(e->transport, sizeof e->transport, "%s", auth_transport_name(y->transport));
        cutf(e->service, sizeof e->service, "%s", y->service);
        e->result = y->result;
        e->failed = y->result == RESULT_FAILURE || y->use_denied;
        status_str(y->status, e->status, sizeof e->status);
        if (y->use_denied) {
            char st[48];
            status_str(y->use_status, st, sizeof st);
            cutf(e->use_denied, sizeof e->use_denied, "%s => %s", y->use_name, st);
        }
        e->f_first = y->f_first;
        e->f_verdict = y->f_verdict;
        g->nodes[e->from].nsessions_out++;
        g->nodes[e->to].nsessions_in++;
        if (e->failed)
            g->nodes[e->to].nfailed_in++;
        /* a second hop: the latest successful named session into this client's host inside the window, from
         * another host; one by the same user is preferred */
        double t = by_t[s].t;
        size_t j = tref_lower(into, n_into, e->from, t + 1e-7);
        const struct fsum_auth *first = NULL;
        for (size_t seen = 0; j-- > 0 && seen < SCAN_MAX && into[j].node == e->from; seen++) {
            if (t - into[j].t > b->cfg->hop_window)
                break;
            const struct fsum_auth *x = &a[into[j].i];
            if (x == y || node_of(b, x->af, x->cli) == e->from || node_of(b, x->af, x->cli) == e->to)
                continue;
            if (!first)
                first = x;
            if (same_user(x->user, y->user)) {
                first = x;
                break;
            }
        }
        if (first) {
            e->second_hop = true;
            e->via = first->id;
            e->deleg = deleg_of(first, kx, n_k, k, e->from, tv_sec(&first->ts), t);
        }
    }

    /* KDC exchanges: S4U, refused, or evidence one by one; the others counted per (client, KDC) */
    size_t np = 0;
    for (size_t i = 0; i < n_k; i++) {
        const struct fsum_kdc *r = &k[i];
        uint32_t from = node_of(b, r->af, r->cli), to = node_of(b, r->af, r->srv);
        const char *realm = strrchr(r->sname, '@');
        if (realm && !g->nodes[to].kdc_realm[0])
            cutf(g->nodes[to].kdc_realm, sizeof g->nodes[to].kdc_realm, "%s", realm + 1);
        bool refused =
            r->failed && r->error_code != KDC_ERR_PREAUTH_REQUIRED && r->error_code != KRB_ERR_RESPONSE_TOO_BIG;
        if (r->kind == KDC_KIND_S4U2SELF || r->kind == KDC_KIND_S4U2PROXY || refused || in_set(fids, n_fids, r->id)) {
            struct graph_edge *e = edge_new(g, cap);
            if (!e)
                continue;
            kdc_edge_fill(e, r);
            e->from = from;
            e->to = to;
        } else {
            pairs[np++] = (struct pair){from, to, tv_sec(&r->ts), i};
        }
    }
    qsort(pairs, np, sizeof *pairs, pair_cmp);
    for (size_t i = 0; i < np;) {
        size_t j = i;
        while (j < np && pairs[j].from == pairs[i].from && pairs[j].to == pairs[i].to)
            j++;
        struct graph_edge *e = edge_new(g, cap);
        if (e) {
            e->kind = GEDGE_KDC_SUMMARY;
            e->from = pairs[i].from;
            e->to = pairs[i].to;
            e->ts = k[pairs[i].i].ts;
            e->count = (uint32_t)(j - i);
            cutf(e->mech, sizeof e->mech, "kerberos");
            cutf(e->transport, sizeof e->transport, "kerberos");
            e->result = RESULT_SUCCESS;
        }
        i = j;
    }

    /* findings: tied to the edges of their records; a second hop that never started gets an edge of its own */
    ids = malloc((g->n_edges ? g->n_edges : 1) * sizeof *ids);
    if (!ids || build_name_index(b) != 0)
        goto out;
    size_t n_ids = 0;
    for (size_t i = 0; i < g->n_edges; i++)
        if (g->edges[i].id)
            ids[n_ids++] = (struct idref){g->edges[i].id, (uint32_t)i};
    qsort(ids, n_ids, sizeof *ids, idref_cmp);
    for (size_t i = 0; i < nf; i++) {
        struct graph_finding *gf = &g->findings[g->n_findings++];
        gf->f = f[i];
        gf->nodes[0] = node_named(b, f[i].client, false);
        gf->nodes[1] = node_named(b, f[i].first_hop, false);
        gf->nodes[2] = node_named(b, f[i].second_hop, true);
        for (uint32_t j = 0; j < f[i].nrecords; j++) {
            struct idref key = {f[i].records[j], 0};
            const struct idref *hit = bsearch(&key, ids, n_ids, sizeof *ids, idref_cmp);
            if (!hit)
                continue;
            finding_add_edge(gf, hit->edge);
            edge_add_finding(&g->edges[hit->edge], (uint32_t)i);
        }
        bool second_is_addr = false;
        uint8_t ip[16];
        second_is_addr = inet_pton(AF_INET, f[i].second_hop, ip) == 1 || inet_pton(AF_INET6, f[i].second_hop, ip) == 1;
        if (!strcmp(f[i].id, "double_hop_failed") && !second_is_addr && gf->nodes[1] != UINT32_MAX &&
            gf->nodes[2] != UINT32_MAX) {
            struct graph_edge *e = edge_new(g, cap);
            if (!e)
                continue;
            e->kind = GEDGE_NO_SESSION;
            e->from = gf->nodes[1];
            e->to = gf->nodes[2];
            cutf(e->user, sizeof e->user, "%s", f[i].user);
            cutf(e->mech, sizeof e->mech, "none");
            cutf(e->transport, sizeof e->transport, "-");
            e->result = RESULT_FAILURE;
            e->failed = true;
            e->second_hop = true;
            e->deleg = GDELEG_S4U2PROXY_REFUSED;
            cutf(e->status, sizeof e->status, "no session");
            /* the time and frames of the refusal: the finding's last KDC edge */
            for (uint32_t j = 0; j < gf->nedges; j++) {
                const struct graph_edge *ke = &g->edges[gf->edges[j]];
                if (ke->kind == GEDGE_KDC) {
                    e->ts = ke->ts;
                    e->f_first = ke->f_first;
                    e->f_verdict = ke->f_verdict;
                }
            }
            finding_add_edge(gf, (uint32_t)(g->n_edges - 1));
            edge_add_finding(e, (uint32_t)i);
        }
    }
    rc = 0;
out:
    free(by_t);
    free(into);
    free(kx);
    free(pairs);
    free(fids);
    free(ids);
    return rc;
}

struct hop_graph *graph_build(const struct findings_cfg *cfg, const struct fsum_auth *a, size_t n_a,
                              const struct fsum_kdc *k, size_t n_k, const struct hs_finding *f, size_t n_f)
{
    struct builder b;
    memset(&b, 0, sizeof b);
    b.cfg = cfg;
    b.g = calloc(1, sizeof *b.g);
    if (!b.g)
        return NULL;
    int rc = hosts_build(&b.ht, a, n_a, k, n_k);
    if (rc == 0)
        rc = build_nodes(&b, a, n_a, k, n_k);
    if (rc == 0)
        rc = build(&b, a, n_a, k, n_k, f, n_f);
    hosts_free(&b.ht);
    free(b.eps);
    free(b.name_ix);
    if (rc != 0) {
        graph_free(b.g);
        return NULL;
    }
    return b.g;
}

void graph_free(struct hop_graph *g)
{
    if (!g)
        return;
    free(g->nodes);
    free(g->edges);
    free(g->findings);
    free(g);
}
