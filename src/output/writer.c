/* Writers as the last stage of the sink chain. */
#include "writer.h"

#include <stdlib.h>

static void on_record(struct hs_sink *self, struct rec_hdr *r)
{
    struct hs_writer *w = (struct hs_writer *)self;
    if (w->ops->record)
        w->ops->record(w, r);
}

static void on_finding(struct hs_sink *self, const struct hs_finding *f)
{
    struct hs_writer *w = (struct hs_writer *)self;
    if (w->ops->finding)
        w->ops->finding(w, f);
}

static void on_stats(struct hs_sink *self, const struct hs_stats_view *v)
{
    struct hs_writer *w = (struct hs_writer *)self;
    if (w->ops->stats)
        w->ops->stats(w, v);
}

static void on_end(struct hs_sink *self)
{
    struct hs_writer *w = (struct hs_writer *)self;
    if (w->ops->end)
        w->ops->end(w);
    if (fflush(w->f) != 0)
        w->failed = true;
}

struct hs_writer *writer_new(enum output_format fmt, FILE *f)
{
    struct hs_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->ops = fmt == OUTPUT_TEXT ? &text_writer_ops : &json_writer_ops;
    w->f = f;
    w->sink.record = on_record;
    w->sink.finding = on_finding;
    w->sink.stats = on_stats;
    w->sink.end = on_end;
    if (w->ops->begin)
        w->ops->begin(w);
    return w;
}

void writer_free(struct hs_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nrows; i++) /* text rows never released (a run cut short) */
        free(w->rows[i].s);
    free(w->rows);
    jw_free(&w->jw);
    free(w);
}
