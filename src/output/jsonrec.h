/* Records and findings as jansson objects: what the JSON Lines writer writes, for stages that compare them. */
#ifndef HOPSCOPE_JSONREC_H
#define HOPSCOPE_JSONREC_H

#include <jansson.h>

#include "records.h"

/* The object the JSON writer writes for record r (docs/RECORDS.md): its line read back by jansson, so the same
 * members in the same order. New reference; NULL without memory. Not for the hot path (a parse per call). */
json_t *json_of_record(const struct rec_hdr *r);

/* ... and for finding f. */
json_t *json_of_finding(const struct hs_finding *f);

#endif
