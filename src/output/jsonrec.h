/* Records and findings as jansson objects: what the JSON Lines writer writes, for stages that compare them. */
#ifndef HOPSCOPE_JSONREC_H
#define HOPSCOPE_JSONREC_H

#include <jansson.h>

#include "records.h"

/* The object the JSON writer writes for record r (docs/RECORDS.md), new reference; NULL without memory. */
json_t *json_of_record(const struct rec_hdr *r);

/* ... and for finding f. */
json_t *json_of_finding(const struct hs_finding *f);

#endif
