/* The progress line on standard error: bytes and packets read, rate, ETA (files) or drops (interfaces). */
#include "progress.h"

#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1536 -> "1.5 KiB" */
static void human(char *b, size_t n, double v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(b, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* 1234567 -> "1,234,567" */
static void grouped(char *b, size_t n, uint64_t v)
{
    char d[32];
    int len = snprintf(d, sizeof d, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            b[o++] = ',';
        b[o++] = d[i];
    }
    b[o] = '\0';
}

size_t progress_format(char *buf, size_t n, const struct progress_sample *s)
{
    char bytes[32], total[32], pk[32], rate[32] = "", eta[32] = "";
    human(bytes, sizeof bytes, (double)s->bytes);
    grouped(pk, sizeof pk, s->packets);
    double r = s->elapsed >= 0.1 ? (double)s->bytes / s->elapsed : 0;
    if (r > 0) {
        human(rate, sizeof rate - 2, r);
        strcat(rate, "/s");
    }
    int len;
    if (s->live) {
        char dr[32];
        grouped(dr, sizeof dr, s->drops);
        len = snprintf(buf, n, "%s packets, %s dropped%s%s", pk, dr, rate[0] ? ", " : "", rate);
    } else if (s->total) {
        human(total, sizeof total, (double)s->total);
        unsigned pct = (unsigned)(s->bytes >= s->total ? 100 : (double)s->bytes * 100.0 / (double)s->total);
        if (r > 0 && s->bytes <= s->total) {
            unsigned long left = (unsigned long)((double)(s->total - s->bytes) / r + 0.5);
            if (left >= 3600)
                snprintf(eta, sizeof eta, ", ETA %lu:%02lu:%02lu", left / 3600, left / 60 % 60, left % 60);
            else
                snprintf(eta, sizeof eta, ", ETA %lu:%02lu", left / 60, left % 60);
        }
        len = snprintf(buf, n, "%s of %s (%u%%), %s packets%s%s%s", bytes, total, pct, pk, rate[0] ? ", " : "", rate,
                       eta);
    } else {
        len = snprintf(buf, n, "%s, %s packets%s%s", bytes, pk, rate[0] ? ", " : "", rate);
    }
    if (len < 0)
        return 0;
    return (size_t)len < n ? (size_t)len : n ? n - 1 : 0;
}

void progress_start(struct progress *p, FILE *f, bool on, const char *name)
{
    memset(p, 0, sizeof *p);
    p->f = on ? f : NULL;
    p->name = name;
    p->start = now();
    p->last = p->start - 10; /* the first update draws at once */
}

void progress_update(struct progress *p, struct progress_sample *s, bool force)
{
    if (!p->f)
        return;
    double t = now();
    if (!force && t - p->last < 1.0)
        return;
    p->last = t;
    s->elapsed = t - p->start;
    char line[160];
    progress_format(line, sizeof line, s);
    fprintf(p->f, "\r%s: %s\033[K", p->name, line);
    fflush(p->f);
    p->shown = true;
}

void progress_end(struct progress *p)
{
    if (p->f && p->shown) {
        fputs("\r\033[K", p->f);
        fflush(p->f);
    }
    p->shown = false;
}
