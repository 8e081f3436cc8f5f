/* The JSON of a run on several sensors' records: evidence by sensor, and what was read (docs/RECORDS.md). */
#include "sensorjson.h"

static void refs(struct jw *w, const char *key, const struct finding_sensor_ref *v, uint32_t n, const char *nkey)
{
    jw_key(w, key);
    jw_array_begin(w);
    for (uint32_t i = 0; i < n; i++) {
        jw_object_begin(w);
        jw_key(w, "sensor");
        jw_string(w, v[i].sensor);
        jw_key(w, nkey);
        jw_uint(w, v[i].n);
        jw_object_end(w);
    }
    jw_array_end(w);
}

void sensorjson_evidence(struct jw *w, const struct finding_sensors *s)
{
    refs(w, "sensor_records", s->records, s->nrecords, "id");
    refs(w, "sensor_frames", s->frames, s->nframes, "frame");
}

void sensorjson_input(struct jw *w, const struct records_input_stats *in)
{
    const struct {
        const char *name;
        uint64_t v;
    } c[] = {
        {"files", in->files},
        {"lines", in->lines},
        {"auth", in->auth},
        {"kerberos", in->kerberos},
        {"dcom", in->dcom},
        {"stats", in->stats},
        {"findings", in->findings},
        {"other_types", in->other_types},
        {"uses", in->uses},
        {"uses_unmatched", in->uses_unmatched},
        {"malformed", in->malformed},
        {"too_long", in->too_long},
        {"not_kept", in->not_kept},
        {"tickets_linked", in->tickets_linked},
        {"sensors", in->sensors},
        {"sensors_over_cap", in->sensors_over_cap},
    };
    jw_object_begin(w);
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        jw_key(w, c[i].name);
        jw_uint(w, c[i].v);
    }
    jw_object_end(w);
}
