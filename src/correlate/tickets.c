/* Ticket table: open addressing on the ticket digest, bounded, oldest entry evicted first. */
#include "tickets.h"

#include "hugepage.h"

#include <stdlib.h>
#include <string.h>

static uint32_t slot_of(const char *digest)
{
    uint32_t h = 2166136261u;
    for (const char *p = digest; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h & (TICKET_SLOTS - 1);
}

int tickets_init(struct ticket_table *t)
{
    memset(t, 0, sizeof *t);
    return 0; /* the table is allocated by the first tickets_put() */
}

void tickets_free(struct ticket_table *t)
{
    /* entries were written from 0 to next, and all of them once the ring is full (no entry leaves before) */
    uint32_t written = t->n == TICKET_TABLE_SIZE ? TICKET_TABLE_SIZE : t->next;
    for (uint32_t i = 0; i < written && i < t->cap; i++)
        free(t->ent[i].long_names);
    hugepage_free(t->ent, (size_t)t->cap * sizeof *t->ent);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* The slot holding digest (*found), or the empty slot where it would go. The index is never full (at most
 * TICKET_TABLE_SIZE of TICKET_SLOTS slots are used), so the probe ends. */
static uint32_t find(const struct ticket_table *t, const char *digest, bool *found)
{
    uint32_t i = slot_of(digest);
    for (;; i = (i + 1) & (TICKET_SLOTS - 1)) {
        uint32_t e = t->slots[i];
        if (!e) {
            *found = false;
            return i;
        }
        if (!strcmp(t->ent[e - 1].digest, digest)) {
            *found = true;
            return i;
        }
    }
}

/* Empties slot i and re-inserts the rest of its cluster (linear probing deletion). Entries do not move. */
static void erase(struct ticket_table *t, uint32_t i)
{
    t->slots[i] = 0;
    for (uint32_t j = (i + 1) & (TICKET_SLOTS - 1); t->slots[j]; j = (j + 1) & (TICKET_SLOTS - 1)) {
        uint32_t e = t->slots[j];
        t->slots[j] = 0;
        bool f;
        t->slots[find(t, t->ent[e - 1].digest, &f)] = e;
    }
}

void tickets_put(struct ticket_table *t, const struct ticket_info *ti)
{
    if (!ti->digest[0])
        return;
    if (!t->slots && !(t->slots = calloc(TICKET_SLOTS, sizeof *t->slots)))
        return;
    bool found;
    uint32_t i = find(t, ti->digest, &found);
    if (found) {
        /* The first reply that carried this ticket names its client. A ticket's bytes include a fresh
         * session key, so a second reply with the same ticket is a copy (a retransmission) -- or a forgery:
         * a KDC reply's cname is not integrity-protected, and a reply replayed with another cname around a
         * ticket seen on the wire must not rename who later AP-REQs with that ticket are attributed to. */
        return;
    }
    size_t cl = strnlen(ti->client, sizeof ti->client - 1), sl = strnlen(ti->sname, sizeof ti->sname - 1);
    char *long_names = NULL;
    if (cl + sl > TICKET_NAMES_INLINE && !(long_names = malloc(cl + sl)))
        return;
    if (t->n == TICKET_TABLE_SIZE) { /* full: the oldest entry, at next, leaves */
        bool f;
        uint32_t old = find(t, t->ent[t->next].digest, &f);
        if (f)
            erase(t, old);
        free(t->ent[t->next].long_names);
        t->n--;
        i = find(t, ti->digest, &found);
    } else if (t->next == t->cap) { /* not yet full: the ring grows */
        uint32_t cap = t->cap ? 2 * t->cap : 256;
        if (cap > TICKET_TABLE_SIZE)
            cap = TICKET_TABLE_SIZE;
        struct ticket_ent *v = hugepage_realloc(t->ent, (size_t)t->cap * sizeof *v, (size_t)cap * sizeof *v);
        if (!v) {
            free(long_names);
            return;
        }
        t->ent = v;
        t->cap = cap;
    }
    struct ticket_ent *e = &t->ent[t->next];
    memcpy(e->digest, ti->digest, sizeof e->digest);
    e->digest[sizeof e->digest - 1] = '\0';
    memcpy(e->kind, ti->kind, sizeof e->kind);
    e->kind[sizeof e->kind - 1] = '\0';
    e->client_len = (uint8_t)cl;
    e->sname_len = (uint8_t)sl;
    e->frame = ti->frame;
    e->sensor = ti->sensor;
    e->long_names = long_names;
    char *to = long_names ? long_names : e->names;
    memcpy(to, ti->client, cl);
    memcpy(to + cl, ti->sname, sl);
    t->slots[i] = t->next + 1;
    t->next = (t->next + 1) % TICKET_TABLE_SIZE;
    t->n++;
}

const struct ticket_info *tickets_get(struct ticket_table *t, const char *digest)
{
    if (!t->slots || !digest[0])
        return NULL;
    bool found;
    uint32_t i = find(t, digest, &found);
    if (!found)
        return NULL;
    const struct ticket_ent *e = &t->ent[t->slots[i] - 1];
    struct ticket_info *v = &t->view;
    memcpy(v->digest, e->digest, sizeof v->digest);
    memcpy(v->kind, e->kind, sizeof v->kind);
    const char *from = e->long_names ? e->long_names : e->names;
    memcpy(v->client, from, e->client_len);
    v->client[e->client_len] = '\0';
    memcpy(v->sname, from + e->client_len, e->sname_len);
    v->sname[e->sname_len] = '\0';
    v->frame = e->frame;
    v->sensor = e->sensor;
    return v;
}
