/* Host identity from record summaries: addresses, the names they are known by, and which are one host. */
#include "hosts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

/* One thing a record says about an address. */
struct obs {
    uint8_t af;
    uint8_t ip[16];
    uint8_t src;
    const char *name; /* into the summaries; NULL: the address only */
    uint32_t seq;     /* the order it was added in: ties between observations of one address keep it */
};

static int cmp_addr(uint8_t af1, const uint8_t *a, uint8_t af2, const uint8_t *b)
{
    if (af1 != af2)
        return af1 < af2 ? -1 : 1;
    return memcmp(a, b, 16);
}

static int by_obs_addr(const void *x, const void *y)
{
    const struct obs *a = x, *b = y;
    return cmp_addr(a->af, a->ip, b->af, b->ip);
}

/* By address, then in the order added (qsort need not be stable: the first name of a kind wins). */
static int by_obs_addr_seq(const void *x, const void *y)
{
    const struct obs *a = x, *b = y;
    int c = by_obs_addr(a, b);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* A name that is really an address ("\\10.0.0.1\IPC$") names nothing. */
static bool is_address(const char *s)
{
    uint8_t buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Lower-cases name into out[cap]; false when the result is empty or an address. Printable ASCII only: a
 * name with anything else (it came off the wire) is not used. */
static bool clean_name(const char *name, char *out, size_t cap)
{
    size_t i = 0;
    for (; name[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
        out[i] = (char)tolower(c);
    }
    out[i] = '\0';
    return i > 0 && !is_address(out);
}

void hosts_spn_host(const char *spn, char *out, size_t cap)
{
    out[0] = '\0';
    const char *s = strchr(spn, '/');
    if (!s || cap == 0)
        return;
    s++;
    size_t i = 0;
    for (; s[i] && s[i] != '/' && s[i] != ':' && s[i] != '@' && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

/* "\\host\share" -> "host" into out[cap]. */
static void tree_host(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    while (*path == '\\' || *path == '/')
        path++;
    size_t i = 0;
    for (; path[i] && path[i] != '\\' && path[i] != '/' && i + 1 < cap; i++)
        out[i] = path[i];
    out[i] = '\0';
}

void hosts_machine_name(const char *cname, char *out, size_t cap)
{
    out[0] = '\0';
    size_t len = strcspn(cname, "@");
    if (len < 2 || cname[len - 1] != '$' || len - 1 >= cap || memchr(cname, '/', len))
        return;
    memcpy(out, cname, len - 1);
    out[len - 1] = '\0';
}

/* Adds what a record says about an address: a name, or (name NULL or "") the address alone. Returns
 * whether it added a name. */
static bool add(struct obs *o, size_t *n, uint8_t af, const uint8_t *ip, uint8_t src, const char *name)
{
    struct obs *x = &o[*n];
    x->seq = (uint32_t)(*n)++;
    x->af = af;
    memcpy(x->ip, ip, 16);
    x->src = src;
    x->name = name && name[0] ? name : NULL;
    return x->name != NULL;
}

/* Adds a name (nothing when name is NULL or ""); *any is set when it did. The address alone is added once
 * per record and side, when none of the record's names was (so that every address has an entry). */
static void add_name(struct obs *o, size_t *n, uint8_t af, const uint8_t *ip, uint8_t src, const char *name,
                     bool *any)
{
    if (name && name[0])
        *any |= add(o, n, af, ip, src, name);
}

/* Length of a name's first label ("dc1" of "dc1.hoplab.test"). */
static size_t label_len(const char *s)
{
    return strcspn(s, ".");
}

static int label_cmp(const char *a, const char *b)
{
    size_t la = label_len(a), lb = label_len(b);
    int c = strncmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int by_label_only(const void *x, const void *y)
{
    const struct host_entry *const *a = x, *const *b = y;
    return label_cmp((*a)->name, (*b)->name);
}

static int by_label(const void *x, const void *y)
{
    int c = by_label_only(x, y);
    const struct host_entry *const *a = x, *const *b = y;
    return c ? c : ((*a) < (*b) ? -1 : (*a) > (*b));
}

static int by_dns(const void *x, const void *y)
{
    const struct host_entry *const *a = x, *const *b = y;
    int c = strcmp((*a)->dns, (*b)->dns);
    return c ? c : ((*a) < (*b) ? -1 : (*a) > (*b));
}

/* Names derived from summaries live here while the table is built (tree hosts, machine names). */
#define OBS_PER_AUTH 7
#define OBS_PER_KDC 1

int hosts_build(struct host_table *t, const struct fsum_auth *a, size_t n, const struct fsum_kdc *k, size_t nk)
{
    t->v = NULL;
    t->n = 0;
    size_t cap = n * OBS_PER_AUTH + nk * OBS_PER_KDC;
    if (cap == 0)
        return 0;
    struct obs *o = malloc(cap * sizeof *o);
    /* derived names: one tree host or SPN host per auth, one machine name per KDC exchange */
    char (*derived)[HOST_NAME_MAX_LEN] = malloc((3 * n + nk + 1) * sizeof *derived);
    if (!o || !derived) {
        free(o);
        free(derived);
        return -1;
    }
    size_t no = 0, nd = 0;
    /* a derived name takes its slot only when it is not empty */
    for (size_t i = 0; i < n; i++) {
        const struct fsum_auth *r = &a[i];
        bool cli = false, srv = false;
        add_name(o, &no, r->af, r->cli, HNAME_WORKSTATION, r->cli_workstation, &cli);
        add_name(o, &no, r->af, r->cli, HNAME_NETLOGON, r->cli_netlogon, &cli);
        add_name(o, &no, r->af, r->srv, HNAME_DNS_COMPUTER, r->srv_dns, &srv);
        add_name(o, &no, r->af, r->srv, HNAME_NB_COMPUTER, r->srv_nb, &srv);
        hosts_spn_host(r->krb_spn, derived[nd], HOST_NAME_MAX_LEN);
        add_name(o, &no, r->af, r->srv, HNAME_SPN, derived[nd], &srv);
        nd += derived[nd][0] != '\0';
        tree_host(r->tree, derived[nd], HOST_NAME_MAX_LEN);
        add_name(o, &no, r->af, r->srv, HNAME_TREE, derived[nd], &srv);
        nd += derived[nd][0] != '\0';
        hosts_spn_host(r->srv_target, derived[nd], HOST_NAME_MAX_LEN);
        add_name(o, &no, r->af, r->srv, HNAME_SPN, derived[nd], &srv);
        nd += derived[nd][0] != '\0';
        if (!cli)
            add(o, &no, r->af, r->cli, HNAME_NONE, NULL);
        if (!srv)
            add(o, &no, r->af, r->srv, HNAME_NONE, NULL);
    }
    for (size_t i = 0; i < nk; i++) {
        hosts_machine_name(k[i].cname, derived[nd], HOST_NAME_MAX_LEN);
        if (!add(o, &no, k[i].af, k[i].cli, HNAME_MACHINE, derived[nd]))
            continue;
        nd++;
    }
    qsort(o, no, sizeof *o, by_obs_addr_seq);
    /* one entry per address */
    size_t ne = 0;
    for (size_t i = 0; i < no; i++)
        if (i == 0 || by_obs_addr(&o[i - 1], &o[i]) != 0)
            ne++;
    struct host_entry *v = calloc(ne ? ne : 1, sizeof *v);
    struct host_entry **byname = malloc((ne ? ne : 1) * sizeof *byname);
    if (!v || !byname) {
        free(o);
        free(derived);
        free(v);
        free(byname);
        return -1;
    }
    size_t e = (size_t)-1;
    for (size_t i = 0; i < no; i++) {
        if (i == 0 || by_obs_addr(&o[i - 1], &o[i]) != 0) {
            e++;
            v[e].af = o[i].af;
            memcpy(v[e].ip, o[i].ip, 16);
            v[e].group = (uint32_t)e;
        }
        char nm[HOST_NAME_MAX_LEN];
        if (!o[i].name || !clean_name(o[i].name, nm, sizeof nm))
            continue;
        if (o[i].src > v[e].src) {
            memcpy(v[e].name, nm, sizeof nm);
            v[e].src = o[i].src;
        }
        if (o[i].src == HNAME_DNS_COMPUTER && !v[e].dns[0])
            memcpy(v[e].dns, nm, sizeof nm);
    }
    /* a name a client gave itself that is another address's better-founded name (a lab client configured
     * with the server's NetBIOS name, or a lie) labels nothing: compare first labels ("dc1" of
     * "dc1.hoplab.test") against those of the names learned otherwise */
    size_t ns = 0;
    for (size_t i = 0; i < ne; i++)
        if (v[i].src >= HNAME_MACHINE)
            byname[ns++] = &v[i];
    qsort(byname, ns, sizeof *byname, by_label);
    for (size_t i = 0; i < ne; i++) {
        if (v[i].src == HNAME_NONE || v[i].src >= HNAME_MACHINE)
            continue;
        struct host_entry key, *kp = &key;
        memcpy(key.name, v[i].name, sizeof key.name);
        struct host_entry **hit = bsearch(&kp, byname, ns, sizeof *byname, by_label_only);
        if (hit && *hit != &v[i]) {
            v[i].name[0] = '\0';
            v[i].src = HNAME_NONE;
        }
    }
    /* group the addresses a server named itself the same DNS computer name from */
    size_t nb = 0;
    for (size_t i = 0; i < ne; i++)
        if (v[i].dns[0])
            byname[nb++] = &v[i];
    qsort(byname, nb, sizeof *byname, by_dns);
    for (size_t i = 1; i < nb; i++)
        if (!strcmp(byname[i]->dns, byname[i - 1]->dns))
            byname[i]->group = byname[i - 1]->group;
    /* a group's addresses share its best name */
    for (size_t i = 0; i < ne; i++) {
        struct host_entry *g = &v[v[i].group];
        if (v[i].src > g->src) {
            memcpy(g->name, v[i].name, sizeof g->name);
            g->src = v[i].src;
        }
    }
    free(byname);
    free(o);
    free(derived);
    t->v = v;
    t->n = ne;
    return 0;
}

static const struct host_entry *find(const struct host_table *t, uint8_t af, const uint8_t ip[16])
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_addr(t->v[mid].af, t->v[mid].ip, af, ip);
        if (c == 0)
            return &t->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

uint32_t hosts_id(const struct host_table *t, uint8_t af, const uint8_t ip[16])
{
    const struct host_entry *h = find(t, af, ip);
    return h ? h->group : UINT32_MAX;
}

const char *hosts_name(const struct host_table *t, uint8_t af, const uint8_t ip[16])
{
    const struct host_entry *h = find(t, af, ip);
    return h ? t->v[h->group].name : "";
}

void hosts_label(const struct host_table *t, uint8_t af, const uint8_t ip[16], char *out, size_t cap)
{
    char b[INET6_ADDRSTRLEN];
    format_ip(af, ip, b);
    const char *nm = hosts_name(t, af, ip);
    if (nm[0])
        snprintf(out, cap, "%s (%s)", nm, b);
    else
        snprintf(out, cap, "%s", b);
}

void hosts_free(struct host_table *t)
{
    free(t->v);
    t->v = NULL;
    t->n = 0;
}
