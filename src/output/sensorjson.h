/* The JSON of a run on several sensors' records (hopscope --records, docs/DEPLOYMENT.md, "Many sensors"): which sensor each piece
 * of a finding's evidence is of, and what was read. */
#ifndef HOPSCOPE_SENSORJSON_H
#define HOPSCOPE_SENSORJSON_H

#include "jw.h"
#include "records.h"

/*
 * Puts into a finding's `evidence` object (open in w) the members `sensor_records`, [{"sensor": NAME, "id": N}]
 * (the record ids of `records` with their sensors), and `sensor_frames`, [{"sensor": NAME, "frame": N}] (the
 * frames of `frames` with the sensor whose capture numbers them), in s's order.
 */
void sensorjson_evidence(struct jw *w, const struct finding_sensors *s);

/* The stats record's `records_input` object (docs/RECORDS.md), as the value of the member w's caller keyed. */
void sensorjson_input(struct jw *w, const struct records_input_stats *in);

#endif
