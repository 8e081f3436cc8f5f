/* Flow table: connections keyed by 5-tuple (both directions), LRU order, a cap on count. */
#include "flow.h"

#include <stdlib.h>
#include <string.h>

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u;
    return h;
}

uint32_t flow_hash(const struct hs_pkt *p)
{
    uint32_t a = 0x811c9dc5u, b = 0x811c9dc5u;
    size_t n = p->af == 4 ? 4 : 16;
    for (size_t i = 0; i < n; i += 4) {
        a = mix(a, (uint32_t)p->src[i] | (uint32_t)p->src[i + 1] << 8 | (uint32_t)p->src[i + 2] << 16 |
                       (uint32_t)p->src[i + 3] << 24);
        b = mix(b, (uint32_t)p->dst[i] | (uint32_t)p->dst[i + 1] << 8 | (uint32_t)p->dst[i + 2] << 16 |
                       (uint32_t)p->dst[i + 3] << 24);
    }
    a = mix(a, p->sport);
    b = mix(b, p->dport);
    uint32_t h = (a ^ b) * 0x9E3779B1u;
    return h ^ p->proto ^ (h >> 15);
}

int flow_table_init(struct flow_table *t, uint32_t max_flows)
{
    memset(t, 0, sizeof *t);
    t->max_buckets = 1u << 6; /* max_flows / 4: a small table (tests, fuzzing) stays small */
    while (t->max_buckets < max_flows / 4 && t->max_buckets < (1u << 22))
        t->max_buckets <<= 1;
    t->nbuckets = t->max_buckets < FLOW_BUCKETS_START ? t->max_buckets : FLOW_BUCKETS_START;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    return t->buckets ? 0 : -1;
}

/* Doubles the hash when it holds more connections than buckets (up to max_buckets): a table sized for the
 * connections a run has, not for the cap, stays in the cache. Without memory it keeps its size (longer
 * chains, nothing lost). Amortised O(1) per insert. */
static void grow(struct flow_table *t)
{
    uint32_t nb = t->nbuckets * 2;
    struct hs_conn **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (uint32_t i = 0; i < t->nbuckets; i++) {
        struct hs_conn *c = t->buckets[i], *next;
        for (; c; c = next) {
            next = c->hnext;
            c->hnext = b[c->hash & (nb - 1)];
            b[c->hash & (nb - 1)] = c;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

void flow_table_free(struct flow_table *t)
{
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

static bool ep_eq(const struct hs_endpoint *e, const uint8_t *ip, uint16_t port)
{
    return e->port == port && memcmp(e->ip, ip, 16) == 0;
}

static void lru_unlink(struct flow_table *t, struct hs_conn *c)
{
    if (c->lru_prev)
        c->lru_prev->lru_next = c->lru_next;
    else
        t->lru_head = c->lru_next;
    if (c->lru_next)
        c->lru_next->lru_prev = c->lru_prev;
    else
        t->lru_tail = c->lru_prev;
    c->lru_prev = c->lru_next = NULL;
}

static void lru_append(struct flow_table *t, struct hs_conn *c)
{
    c->lru_prev = t->lru_tail;
    c->lru_next = NULL;
    if (t->lru_tail)
        t->lru_tail->lru_next = c;
    else
        t->lru_head = c;
    t->lru_tail = c;
}

void flow_unlink(struct flow_table *t, struct hs_conn *c)
{
    struct hs_conn **pp = &t->buckets[c->hash & (t->nbuckets - 1)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    lru_unlink(t, c);
    t->n--;
}

void flow_lru_move(struct flow_table *t, struct hs_conn *c)
{
    lru_unlink(t, c);
    lru_append(t, c);
}

struct hs_conn *flow_find(struct flow_table *t, const struct hs_pkt *p, uint32_t h, int *dir)
{
    for (struct hs_conn *c = t->buckets[h & (t->nbuckets - 1)]; c; c = c->hnext) {
        if (c->hash != h || c->flow.proto != p->proto || c->flow.af != p->af)
            continue;
        if (ep_eq(&c->flow.cli, p->src, p->sport) && ep_eq(&c->flow.srv, p->dst, p->dport)) {
            *dir = 0;
            return c;
        }
        if (ep_eq(&c->flow.srv, p->src, p->sport) && ep_eq(&c->flow.cli, p->dst, p->dport)) {
            *dir = 1;
            return c;
        }
    }
    return NULL;
}

struct hs_conn *flow_insert(struct flow_table *t, const struct hs_pkt *p, uint32_t h, int *dir, uint64_t now)
{
    struct hs_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->hash = h;
    c->flow.af = p->af;
    c->flow.proto = p->proto;
    bool swap = false;
    if (p->proto == 6 && (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN)
        swap = false;
    else if (p->proto == 6 && (p->tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
        swap = true;
    else if (registry_server_port(p->sport) != registry_server_port(p->dport))
        swap = registry_server_port(p->sport);
    else if (p->sport != p->dport && (p->sport < 1024) != (p->dport < 1024))
        swap = p->sport < 1024;
    c->saw_syn = p->proto == 6 && (p->tcp_flags & TH_SYN);
    c->dissect = true;
    memcpy(c->flow.cli.ip, swap ? p->dst : p->src, 16);
    memcpy(c->flow.srv.ip, swap ? p->src : p->dst, 16);
    c->flow.cli.port = swap ? p->dport : p->sport;
    c->flow.srv.port = swap ? p->sport : p->dport;
    c->flow.id = t->next_id++;
    c->last_seen = now;
    c->hnext = t->buckets[h & (t->nbuckets - 1)];
    t->buckets[h & (t->nbuckets - 1)] = c;
    lru_append(t, c);
    t->n++;
    if (t->n > t->nbuckets && t->nbuckets < t->max_buckets)
        grow(t);
    *dir = swap ? 1 : 0;
    return c;
}

struct by_id {
    uint64_t id;
    struct hs_conn *c;
};

static int cmp_by_id(const void *a, const void *b)
{
    uint64_t x = ((const struct by_id *)a)->id, y = ((const struct by_id *)b)->id;
    return x < y ? -1 : x > y;
}

/* Relinks the LRU list as list (linked by lru_next), setting lru_prev and the tail. */
static void relink(struct flow_table *t, struct hs_conn *list)
{
    struct hs_conn *prev = NULL;
    for (struct hs_conn *c = list; c; c = c->lru_next) {
        c->lru_prev = prev;
        prev = c;
    }
    t->lru_head = list;
    t->lru_tail = prev;
}

void flow_lru_sort_by_id(struct flow_table *t)
{
    /* Sorting (id, connection) pairs visits each connection twice; merging the list in place visits them all
     * log2(n) times, a cache miss each (1.4% of a run on the 2 GiB bench mix). */
    size_t n = 0;
    for (struct hs_conn *c = t->lru_head; c; c = c->lru_next)
        n++;
    struct by_id *v = n > 1 ? malloc(n * sizeof *v) : NULL;
    if (v) {
        size_t i = 0;
        for (struct hs_conn *c = t->lru_head; c; c = c->lru_next)
            v[i++] = (struct by_id){c->flow.id, c};
        qsort(v, n, sizeof *v, cmp_by_id);
        for (i = 0; i + 1 < n; i++)
            v[i].c->lru_next = v[i + 1].c;
        v[n - 1].c->lru_next = NULL;
        struct hs_conn *list = v[0].c;
        free(v);
        relink(t, list);
        return;
    }
    flow_lru_sort_by_id_in_place(t); /* without memory (or nothing to sort) */
}

void flow_lru_sort_by_id_in_place(struct flow_table *t)
{
    struct hs_conn *list = t->lru_head;
    for (size_t width = 1;; width *= 2) {
        struct hs_conn *head = NULL, **tail = &head, *p = list;
        size_t merges = 0;
        while (p) {
            merges++;
            struct hs_conn *q = p;
            size_t np = 0, nq = width;
            while (q && np < width) {
                np++;
                q = q->lru_next;
            }
            while (np || (nq && q)) {
                struct hs_conn *take;
                if (!np || (nq && q && q->flow.id < p->flow.id)) {
                    take = q;
                    q = q->lru_next;
                    nq--;
                } else {
                    take = p;
                    p = p->lru_next;
                    np--;
                }
                *tail = take;
                tail = &take->lru_next;
            }
            p = q;
        }
        *tail = NULL;
        list = head;
        if (merges <= 1)
            break;
    }
    relink(t, list);
}
