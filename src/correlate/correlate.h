/* The correlation stage: what records say about each other across connections, from records alone. */
#ifndef HOPSCOPE_CORRELATE_H
#define HOPSCOPE_CORRELATE_H

#include "records.h"
#include "tickets.h"

/*
 * The stage sits first in the sink chain and sees every completed record in the order the record layer
 * writes them. Today it links tickets: a KDC reply's ticket is remembered by digest with whom it was issued
 * to (the reply's cname, or behind FAST's anonymous cname the TGT's holder, the S4U2Self user, or the
 * evidence ticket's holder); a later TGS-REQ's TGT, S4U2Proxy evidence ticket or AP-REQ's ticket is then
 * named by it (`client`, `issued_frame`). It never parses bytes. Hop graphs and findings will live here.
 */
struct hs_correlate {
    struct hs_sink sink;        /* must stay first: the chain calls it with this pointer */
    struct ticket_table tickets;
};

/* A correlation stage passing records on to next. NULL when memory is short. */
struct hs_correlate *correlate_new(struct hs_sink *next);

/* Frees the stage (not the stages after it). */
void correlate_free(struct hs_correlate *c);

#endif
