/* Ticket table: what the clear-text KDC replies said about each ticket, found again by the ticket's digest. */
#ifndef HOPSCOPE_TICKETS_H
#define HOPSCOPE_TICKETS_H

#include <stdbool.h>
#include <stdint.h>

#define TICKET_TABLE_SIZE 16384 /* entries (~3 MiB when full); the oldest is overwritten beyond it */
#define TICKET_SLOTS (2 * TICKET_TABLE_SIZE) /* index slots (4 bytes each): twice the entries, short probes */

/* What is known about a ticket from the reply that issued it (AS-REP / TGS-REP), in the clear. */
struct ticket_info {
    char digest[33];     /* first 16 bytes of SHA-256 of the Ticket's DER encoding, hex */
    char client[256];    /* cname@crealm of the reply (cut if longer) */
    char sname[256];     /* the ticket's sname@realm */
    uint64_t frame;      /* frame of the reply */
    char kind[16];       /* the exchange kind: "as", "tgs", "s4u2self", ... */
    const char *sensor;  /* hopscope --records: the sensor whose record issued it (interned, recjson.h); NULL
                            when the reply is in this run's own capture */
};

/* What the table keeps of an entry: struct ticket_info with its two names packed (client then sname, without
 * NULs) in names[] when they fit, else in long_names (malloc'd; rare: principals of over ~90 bytes together).
 * ~180 bytes where a struct ticket_info takes 584. */
#define TICKET_NAMES_INLINE 96
struct ticket_ent {
    char digest[33];
    char kind[16];
    uint8_t client_len, sname_len;
    uint64_t frame;
    const char *sensor;
    char *long_names;
    char names[TICKET_NAMES_INLINE];
};

struct ticket_table {
    struct ticket_ent *ent;    /* entries in insertion order, a ring of TICKET_TABLE_SIZE once full; grown by
                                  doubling until then, so a run holds what it saw, not the cap */
    uint32_t cap;              /* entries allocated in ent */
    uint32_t *slots;           /* open addressing by digest: entry index + 1, 0 = empty (TICKET_SLOTS) */
    uint32_t n, next;          /* entries held; where the next one goes (the oldest, once full) */
    struct ticket_info view;   /* what tickets_get() returns */
};

/* Empties the table; memory is taken by tickets_put() as entries come (none for a run without tickets).
 * Returns 0. */
int tickets_init(struct ticket_table *t);
void tickets_free(struct ticket_table *t);

/* Remembers ti (copied; its client and sname cut to 255 bytes); an entry with the same digest is kept as it is
 * (the first reply wins). Beyond TICKET_TABLE_SIZE entries the oldest is forgotten. Without memory nothing is
 * remembered. */
void tickets_put(struct ticket_table *t, const struct ticket_info *ti);

/* The entry for digest, unpacked into the table's own view, or NULL; valid until the next tickets_get() or
 * tickets_put(). */
const struct ticket_info *tickets_get(struct ticket_table *t, const char *digest);

#endif
