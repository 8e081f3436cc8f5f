/* Flow table: connections keyed by 5-tuple (both directions), LRU idle expiry, a cap on count. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "engine.h"
#include "kdc.h"

/* Ports that identify the server side when no SYN was seen. */
static bool is_server_port(uint16_t p)
{
    switch (p) {
    case 88: case 135: case 139: case 445: case 80: case 443: case 8080: case 5985: case 5986:
    case 389: case 636: case 3268: case 593:
        return true;
    default:
        return false;
    }
}

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u;
    return h;
}

/* Symmetric hash: both directions of a connection land in one bucket. */
static uint32_t flow_hash(const struct hs_pkt *p)
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

static bool ep_eq(const struct hs_endpoint *e, const uint8_t *ip, uint16_t port)
{
    return e->port == port && memcmp(e->ip, ip, 16) == 0;
}

static void lru_unlink(struct hs_engine *e, struct hs_conn *c)
{
    if (c->lru_prev)
        c->lru_prev->lru_next = c->lru_next;
    else
        e->lru_head = c->lru_next;
    if (c->lru_next)
        c->lru_next->lru_prev = c->lru_prev;
    else
        e->lru_tail = c->lru_prev;
    c->lru_prev = c->lru_next = NULL;
}

static void lru_append(struct hs_engine *e, struct hs_conn *c)
{
    c->lru_prev = e->lru_tail;
    c->lru_next = NULL;
    if (e->lru_tail)
        e->lru_tail->lru_next = c;
    else
        e->lru_head = c;
    e->lru_tail = c;
}

void flow_close(struct hs_engine *e, struct hs_conn *c)
{
    if (c->closed)
        return;
    for (int d = 0; d < 2; d++)
        reasm_flush(e, c, d);
    c->closed = true;
    auth_flush_conn(e, c);
    kdc_flush(e, c);
    /* Nothing more is dissected on a closed connection (it stays in the table until it expires, so that
     * its late packets are recognised): what only dissection needed is freed now, not at expiry. */
    app_free(e, c);
    auth_free_conn_state(e, c);
}

void flow_remove(struct hs_engine *e, struct hs_conn *c)
{
    flow_close(e, c);
    struct hs_conn **pp = &e->buckets[c->hash & (e->nbuckets - 1)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    lru_unlink(e, c);
    app_free(e, c);
    auth_free_conn_state(e, c);
    e->nconns--;
    free(c);
}

void flow_touch(struct hs_engine *e, struct hs_conn *c)
{
    c->last_ts = e->now;
    if (e->lru_tail != c) {
        lru_unlink(e, c);
        lru_append(e, c);
    }
    while (e->lru_head && e->lru_head != c &&
           e->now.tv_sec - e->lru_head->last_ts.tv_sec > (time_t)e->lim.idle_timeout) {
        e->st.flows_expired++;
        flow_remove(e, e->lru_head);
    }
}

struct hs_conn *flow_get(struct hs_engine *e, const struct hs_pkt *p, int *dir)
{
    uint32_t h = flow_hash(p);
    for (struct hs_conn *c = e->buckets[h & (e->nbuckets - 1)]; c; c = c->hnext) {
        if (c->hash != h || c->proto != p->proto || c->af != p->af)
            continue;
        if (ep_eq(&c->cli, p->src, p->sport) && ep_eq(&c->srv, p->dst, p->dport)) {
            *dir = 0;
            return c;
        }
        if (ep_eq(&c->srv, p->src, p->sport) && ep_eq(&c->cli, p->dst, p->dport)) {
            *dir = 1;
            return c;
        }
    }
    if (e->nconns >= e->lim.max_flows && e->lru_head) {
        e->st.flows_evicted++;
        flow_remove(e, e->lru_head);
    }
    struct hs_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->hash = h;
    c->af = p->af;
    c->proto = p->proto;
    /* Client: the SYN sender; without a SYN, the side not on a well-known server port, else the
     * side with the higher port, else the sender of the first packet. */
    bool swap = false;
    if (p->proto == 6 && (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN)
        swap = false;
    else if (p->proto == 6 && (p->tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
        swap = true;
    else if (is_server_port(p->sport) != is_server_port(p->dport))
        swap = is_server_port(p->sport);
    else if (p->sport != p->dport && (p->sport < 1024) != (p->dport < 1024))
        swap = p->sport < 1024;
    c->saw_syn = p->proto == 6 && (p->tcp_flags & TH_SYN);
    memcpy(c->cli.ip, swap ? p->dst : p->src, 16);
    memcpy(c->srv.ip, swap ? p->src : p->dst, 16);
    c->cli.port = swap ? p->dport : p->sport;
    c->srv.port = swap ? p->sport : p->dport;
    c->id = e->next_conn_id++;
    c->first_frame = e->frame;
    c->first_ts = e->now;
    c->last_ts = e->now;
    c->hnext = e->buckets[h & (e->nbuckets - 1)];
    e->buckets[h & (e->nbuckets - 1)] = c;
    lru_append(e, c);
    e->nconns++;
    e->st.flows++;
    *dir = swap ? 1 : 0;
    return c;
}
