/* Writers as the last stage of the sink chain; output is written out in whole lines. */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

/* The offset just past the last newline of the file between good_off and size, when it can be read (through
 * fd if it was opened for reading too, else a read-only descriptor of the same file); else good_off, the end
 * of the last line a flush of ours completed. */
static off_t last_line_end(int fd, off_t good_off, off_t size)
{
    char buf[4096], path[64];
    int rfd = fd;
    if (pread(fd, buf, 0, 0) < 0) { /* write-only (standard output redirected to a file) */
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        rfd = open(path, O_RDONLY | O_CLOEXEC);
        if (rfd < 0)
            return good_off;
    }
    off_t end = good_off;
    while (size > good_off) {
        off_t from = size - (off_t)sizeof buf > good_off ? size - (off_t)sizeof buf : good_off;
        ssize_t n = pread(rfd, buf, (size_t)(size - from), from);
        if (n != size - from)
            break;
        while (n > 0 && buf[n - 1] != '\n')
            n--;
        if (n > 0) {
            end = from + n;
            break;
        }
        size = from;
    }
    if (rfd != fd)
        close(rfd);
    return end;
}

/* A write failed: the error is kept, what is still buffered dropped, and a regular file cut back to the end
 * of its last complete line (the failed write may have put part of a line there). */
static void cut(struct hs_writer *w)
{
    w->cut = true;
    int fd = fileno(w->f);
    struct stat sb;
    if (w->good_off >= 0 && fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > w->good_off)
        (void)!ftruncate(fd, last_line_end(fd, (off_t)w->good_off, sb.st_size));
    __fpurge(w->f);
}

/* After each line: flushed when enough is pending (live: always), so that flushes fall between lines. */
static void settle(struct hs_writer *w)
{
    int e = errno;
    if (!w->failed && ferror(w->f))
        w->failed = true;
    if (!w->failed && __fpending(w->f) && (w->flush_each || __fpending(w->f) >= WRITER_FLUSH_AT)) {
        if (fflush(w->f) == 0) {
            w->good_off = lseek(fileno(w->f), 0, SEEK_CUR);
            return;
        }
        e = errno;
        w->failed = true;
    }
    if (w->failed && !w->cut) {
        w->err = w->err ? w->err : e;
        cut(w);
    }
}

static void on_record(struct hs_sink *self, struct rec_hdr *r)
{
    struct hs_writer *w = (struct hs_writer *)self;
    if (r->phase == REC_PEEK)
        return; /* for the correlation stage alone; written whole when it completes */
    if (w->ops->record && !w->failed) {
        errno = 0;
        w->ops->record(w, r);
        settle(w);
    }
}

static void on_finding(struct hs_sink *self, const struct hs_finding *f)
{
    struct hs_writer *w = (struct hs_writer *)self;
    if (w->ops->finding && !w->failed) {
        errno = 0;
        w->ops->finding(w, f);
        settle(w);
    }
}

static void on_stats(struct hs_sink *self, const struct hs_stats_view *v)
{
    struct hs_writer *w = (struct hs_writer *)self;
    if (w->ops->stats && !w->failed) {
        errno = 0;
        w->ops->stats(w, v);
        settle(w);
    }
}

static void on_end(struct hs_sink *self)
{
    struct hs_writer *w = (struct hs_writer *)self;
    if (w->failed)
        return;
    errno = 0;
    if (w->ops->end)
        w->ops->end(w);
    if (fflush(w->f) != 0) {
        w->failed = true;
        w->err = errno;
    }
    if (w->failed && !w->cut)
        cut(w);
    else if (!w->failed)
        w->good_off = lseek(fileno(w->f), 0, SEEK_CUR);
}

int writer_flush(struct hs_writer *w)
{
    if (!w->failed) {
        bool each = w->flush_each;
        w->flush_each = true;
        errno = 0;
        settle(w);
        w->flush_each = each;
    }
    return w->failed ? -1 : 0;
}

void writer_stream(struct hs_writer *w)
{
    w->stream = true;
    w->hold_off = true;
}

void writer_set_file(struct hs_writer *w, FILE *f)
{
    w->f = f;
    /* what the file holds already: lines of an earlier run (a file opened for appending, after SIGHUP or
     * with `>>`, reports offset 0 until its first write) */
    struct stat sb;
    w->good_off = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) ? (long long)sb.st_size : -1;
}

struct hs_writer *writer_new(enum output_format fmt, FILE *f)
{
    struct hs_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->ops = fmt == OUTPUT_TEXT ? &text_writer_ops : &json_writer_ops;
    writer_set_file(w, f);
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
