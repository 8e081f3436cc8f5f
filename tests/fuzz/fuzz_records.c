/*
 * hopscope --records fed JSON Lines: the input is the bytes of a records file (what sensors wrote, or anything
 * else), read line by line by recjson_read() (src/correlate/recjson.c) into the correlation stage, then the
 * findings rules, the hop graph and the writer: JSON when the input's size is even, text when odd; the hop graph
 * is also drawn as DOT. Checks what the reader promises: every line is counted once (records, skipped or
 * malformed), a finding's evidence names a sensor for each record (at most RECJSON_SENSOR_NAME_MAX bytes, valid
 * UTF-8, no control bytes) and each frame it lists, and the stats and end reach the writer once.
 * Seeds: hopscope's output on lab traces, one sensor and two (corpus/records/).
 */
#include "decode.h"
#include "fuzz.h"
#include "recjson.h"
#include "report.h"
#include "writer.h"

static FILE *fr_out(void)
{
    static FILE *f;
    if (!f) {
        const char *s = getenv("HOPSCOPE_FUZZ_STDOUT");
        f = s && *s == '1' ? stdout : fopen("/dev/null", "w");
        if (!f)
            abort();
    }
    return f;
}

/* Between the reader and the writer: checks each finding, counts the stats and the end. */
struct fr_check {
    struct hs_sink sink; /* first */
    int stats, ends;
};

static int fr_utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!k || i + k > n || c < 0x20 || c == 0x7f)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

static void fr_finding(struct hs_sink *self, const struct hs_finding *f)
{
    const struct finding_sensors *s = f->sensors;
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(s->nrecords == f->nrecords && s->nrecords <= FINDING_EVIDENCE_MAX);
    FUZZ_CHECK(s->nframes <= FINDING_SENSOR_FRAMES_MAX);
    for (uint32_t i = 0; i < s->nrecords; i++) {
        FUZZ_CHECK(s->records[i].sensor && strlen(s->records[i].sensor) <= RECJSON_SENSOR_NAME_MAX);
        FUZZ_CHECK(fr_utf8_ok(s->records[i].sensor));
        FUZZ_CHECK(s->records[i].n == f->records[i]);
    }
    for (uint32_t i = 0; i < f->nframes; i++) {
        int found = 0;
        for (uint32_t j = 0; j < s->nframes && !found; j++)
            found = s->frames[j].n == f->frames[i];
        FUZZ_CHECK(found || !f->nrecords);
    }
    sink_finding(self->next, f);
}

static void fr_stats(struct hs_sink *self, const struct hs_stats_view *v)
{
    ((struct fr_check *)self)->stats++;
    sink_stats(self->next, v);
}

static void fr_end(struct hs_sink *self)
{
    ((struct fr_check *)self)->ends++;
    sink_end(self->next);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hs_writer *w = writer_new((size & 1) ? OUTPUT_TEXT : OUTPUT_JSON, fr_out());
    if (!w)
        return 0;
    w->sensor = (size & 2) ? "central" : NULL;
    struct fr_check chk = {.sink = {.finding = fr_finding, .stats = fr_stats, .end = fr_end, .next = writer_sink(w)},
                           .stats = 0,
                           .ends = 0};
    struct recjson *r = recjson_new(&chk.sink, (size & 4) ? 5 : 0, true, NULL);
    FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
    if (!r || (size && !f)) {
        if (f)
            fclose(f);
        recjson_free(r);
        writer_free(w);
        return 0;
    }
    if (f) {
        FUZZ_CHECK(recjson_read(r, f, "fuzz.jsonl", NULL, NULL) == 0);
        fclose(f);
    }
    recjson_file_done(r);
    struct hs_stats st;
    struct decode_stats dec;
    memset(&st, 0, sizeof st);
    memset(&dec, 0, sizeof dec);
    recjson_end(r, &st, &dec);
    FUZZ_CHECK(chk.stats == 1 && chk.ends == 1);
    const struct records_input_stats *in = recjson_stats(r);
    /* each line is one of: a record, stats, finding, other type, malformed, empty */
    FUZZ_CHECK(in->auth + in->kerberos + in->dcom + in->stats + in->findings + in->other_types + in->malformed <=
               in->lines);
    FUZZ_CHECK(in->too_long <= in->malformed);
    const struct hop_graph *g = recjson_graph(r);
    if (g)
        report_write_dot(g, fr_out(), "fuzz");
    recjson_free(r);
    writer_free(w);
    return 0;
}
