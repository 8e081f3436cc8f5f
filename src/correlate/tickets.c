/* Ticket table: open addressing on the ticket digest, bounded, oldest entry evicted first. */
#include "tickets.h"

#include <stdlib.h>
#include <string.h>

/* Twice as many slots as entries keeps probe chains short. */
#define SLOTS (2 * TICKET_TABLE_SIZE)

static uint32_t slot_of(const char *digest)
{
    uint32_t h = 2166136261u;
    for (const char *p = digest; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h & (SLOTS - 1);
}

int tickets_init(struct ticket_table *t)
{
    memset(t, 0, sizeof *t);
    return 0; /* the table is allocated by the first tickets_put() */
}

void tickets_free(struct ticket_table *t)
{
    free(t->slots);
    free(t->order);
    memset(t, 0, sizeof *t);
}

static uint32_t find(const struct ticket_table *t, const char *digest, bool *found)
{
    uint32_t i = slot_of(digest);
    for (uint32_t k = 0; k < SLOTS; k++, i = (i + 1) & (SLOTS - 1)) {
        if (!t->slots[i].info.digest[0]) {
            *found = false;
            return i;
        }
        if (!strcmp(t->slots[i].info.digest, digest)) {
            *found = true;
            return i;
        }
    }
    *found = false;
    return UINT32_MAX;
}

/* Removes slot i and re-inserts the rest of its cluster (linear probing deletion). */
static void erase(struct ticket_table *t, uint32_t i)
{
    t->slots[i].info.digest[0] = '\0';
    for (uint32_t j = (i + 1) & (SLOTS - 1); t->slots[j].info.digest[0]; j = (j + 1) & (SLOTS - 1)) {
        struct ticket_slot tmp = t->slots[j];
        t->slots[j].info.digest[0] = '\0';
        bool f;
        uint32_t k = find(t, tmp.info.digest, &f);
        t->slots[k] = tmp;
        t->order[tmp.ring] = k; /* the eviction ring follows the move */
    }
}

void tickets_put(struct ticket_table *t, const struct ticket_info *ti)
{
    if (!ti->digest[0])
        return;
    if (!t->slots) {
        t->slots = calloc(SLOTS, sizeof *t->slots);
        t->order = calloc(TICKET_TABLE_SIZE, sizeof *t->order);
        if (!t->slots || !t->order) {
            tickets_free(t);
            return;
        }
    }
    bool found;
    uint32_t i = find(t, ti->digest, &found);
    if (found) {
        /* The first reply that carried this ticket names its client. A ticket's bytes include a fresh
         * session key, so a second reply with the same ticket is a copy (a retransmission) -- or a forgery:
         * a KDC reply's cname is not integrity-protected, and a reply replayed with another cname around a
         * ticket seen on the wire must not rename who later AP-REQs with that ticket are attributed to. */
        return;
    }
    if (t->n == TICKET_TABLE_SIZE) {
        erase(t, t->order[t->next]);
        t->n--;
        i = find(t, ti->digest, &found);
    }
    t->slots[i].info = *ti;
    t->slots[i].ring = t->next;
    t->order[t->next] = i;
    t->next = (t->next + 1) % TICKET_TABLE_SIZE;
    t->n++;
}

const struct ticket_info *tickets_get(const struct ticket_table *t, const char *digest)
{
    if (!t->slots || !digest[0])
        return NULL;
    bool found;
    uint32_t i = find(t, digest, &found);
    return found ? &t->slots[i].info : NULL;
}
