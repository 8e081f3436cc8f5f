/* Ticket table: what the clear-text KDC replies said about each ticket, found again by the ticket's digest. */
#ifndef HOPSCOPE_TICKETS_H
#define HOPSCOPE_TICKETS_H

#include <stdbool.h>
#include <stdint.h>

#define TICKET_TABLE_SIZE 16384 /* entries (~10 MiB); the oldest is overwritten beyond it */

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

struct ticket_slot {
    struct ticket_info info;
    uint32_t ring; /* its position in the eviction ring */
};

struct ticket_table {
    struct ticket_slot *slots; /* open addressing by digest */
    uint32_t *order;           /* ring of slot indexes in insertion order, for eviction */
    uint32_t n, next;
};

/* Allocates the table (TICKET_TABLE_SIZE entries). Returns 0, or -1 when memory is short. */
int tickets_init(struct ticket_table *t);
void tickets_free(struct ticket_table *t);

/* Remembers ti (copied); an entry with the same digest is kept as it is (the first reply wins). */
void tickets_put(struct ticket_table *t, const struct ticket_info *ti);

/* The entry for digest, or NULL. */
const struct ticket_info *tickets_get(const struct ticket_table *t, const char *digest);

#endif
