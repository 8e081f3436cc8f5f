/* hopscope --records: records of several sensors → correlation → [expectations] → writer, and the reports. */
#include "recmode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "expect.h"
#include "instream.h"
#include "recjson.h"
#include "report.h"

/* Exit codes, as main.c's (README "Exit status"). */
enum { RX_OK = 0, RX_INPUT = 1, RX_USAGE = 2, RX_TRUNCATED = 3, RX_OUTPUT = 4, RX_EXPECT = 5 };

static char out_buffer[WRITER_BUFFER]; /* the output's stdio buffer: whole lines only (writer.h) */

bool sensor_name_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= 64 || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
                         s[n] == '.' || s[n] == '_' || s[n] == '-'))
            return false;
    return n > 0;
}

/* Every file there and readable before anything is read, so that a typo costs nothing. */
static int check_files(const struct records_args *a)
{
    int stdin_seen = 0;
    for (int i = 0; i < a->nfiles; i++) {
        const char *p = a->files[i];
        if (!strcmp(p, "-")) {
            if (stdin_seen++) {
                fprintf(stderr, "hopscope: --records: standard input ('-') given twice\n");
                return RX_USAGE;
            }
            continue;
        }
        struct stat sb;
        if (stat(p, &sb) != 0) {
            fprintf(stderr, "hopscope: %s: %s\n", p, strerror(errno));
            return RX_INPUT;
        }
        if (S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "hopscope: %s: is a directory\n", p);
            return RX_INPUT;
        }
    }
    return RX_OK;
}

static void each_record(void *arg, json_t *o)
{
    expect_object(arg, o);
}

/* "records: a.jsonl b.jsonl" (cut), what the reports say they were drawn from. */
static void inputs_title(const struct records_args *a, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "records:");
    for (int i = 0; i < a->nfiles && n + 1 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, " %s", a->files[i]);
}

/* Reads one input into r; RX_OK, RX_INPUT (cannot be opened) or RX_TRUNCATED (a read error part way). */
static int read_one(struct recjson *r, const char *path, struct hs_expect *x)
{
    struct instream is;
    char err[256];
    if (instream_open(&is, path, err, sizeof err) != 0) {
        fprintf(stderr, "hopscope: %s: %s\n", path, err);
        return RX_INPUT;
    }
    uint64_t before = recjson_stats(r)->lines;
    errno = 0;
    int rc = recjson_read(r, is.f, path, x ? each_record : NULL, x);
    int e = errno;
    recjson_file_done(r);
    if (rc != 0) {
        const char *why = instream_error(&is);
        fprintf(stderr, "hopscope: %s: %s (after %llu lines; what came before is used)\n", path,
                why ? why : strerror(e ? e : EIO), (unsigned long long)(recjson_stats(r)->lines - before));
    }
    instream_close(&is);
    return rc != 0 ? RX_TRUNCATED : RX_OK;
}

int records_main(const struct records_args *a)
{
    if (a->packet_option) {
        fprintf(stderr, "hopscope: --records reads records, not packets: %s does not apply (see --help)\n",
                a->packet_option);
        return RX_USAGE;
    }
    if (a->nfiles <= 0) {
        fprintf(stderr, "hopscope: --records needs at least one FILE of records ('-' for standard input)\n");
        return RX_USAGE;
    }
    int st = check_files(a);
    if (st != RX_OK)
        return st;
    const char *opath = a->ofile && strcmp(a->ofile, "-") != 0 ? a->ofile : NULL;
    FILE *outf = opath ? fopen(opath, "w+") : stdout; /* read too: a failed write cuts back to the last whole line */
    if (!outf) {
        fprintf(stderr, "hopscope: %s: %s\n", opath, strerror(errno));
        return RX_OUTPUT;
    }
    setvbuf(outf, out_buffer, _IOFBF, sizeof out_buffer);
    struct hs_writer *w = writer_new(a->fmt, outf);
    FILE *wexpect = NULL;
    struct hs_expect *x = NULL;
    struct recjson *r = NULL;
    if (!w)
        goto nomem;
    w->sensor = a->sensor;
    if (a->write_expect && !(wexpect = fopen(a->write_expect, "w"))) {
        fprintf(stderr, "hopscope: %s: %s\n", a->write_expect, strerror(errno));
        st = RX_OUTPUT;
        goto out;
    }
    if (a->expect || a->write_expect) {
        char err[512];
        if (!(x = expect_new(writer_sink(w), a->expect, wexpect, err, sizeof err))) {
            fprintf(stderr, "hopscope: --expect: %s\n", err);
            st = RX_INPUT;
            goto out;
        }
    }
    r = recjson_new(x ? expect_sink(x) : writer_sink(w), a->hop_window, a->dot || a->html, a->quiet ? NULL : stderr);
    if (!r)
        goto nomem;
    for (int i = 0; i < a->nfiles; i++) {
        int rc = read_one(r, a->files[i], x);
        if (rc == RX_INPUT) { /* it was there a moment ago: nothing is written */
            st = RX_INPUT;
            goto out;
        }
        if (rc != RX_OK)
            st = rc;
    }
    struct hs_stats zero;
    struct decode_stats zero_dec;
    memset(&zero, 0, sizeof zero);
    memset(&zero_dec, 0, sizeof zero_dec);
    recjson_end(r, &zero, &zero_dec);
    const struct records_input_stats *in = recjson_stats(r);
    if (!a->quiet && in->malformed > RECJSON_WARN_MAX)
        fprintf(stderr, "hopscope: %llu malformed lines skipped in all (the first %u described)\n",
                (unsigned long long)in->malformed, RECJSON_WARN_MAX);
    if (a->verbose)
        fprintf(stderr,
                "hopscope: %llu files, %llu lines: %llu auth, %llu kerberos, %llu dcom records of %llu "
                "sensors; %llu malformed; %llu tickets linked across records\n",
                (unsigned long long)in->files, (unsigned long long)in->lines, (unsigned long long)in->auth,
                (unsigned long long)in->kerberos, (unsigned long long)in->dcom, (unsigned long long)in->sensors,
                (unsigned long long)in->malformed, (unsigned long long)in->tickets_linked);
    if (a->dot || a->html) {
        const struct hop_graph *g = recjson_graph(r);
        char title[512];
        inputs_title(a, title, sizeof title);
        if (!g) {
            fprintf(stderr, "hopscope: out of memory building the hop graph\n");
            st = st ? st : RX_OUTPUT;
        } else {
            if (a->dot && report_write_file(a->dot, report_write_dot, g, title) != 0)
                st = st ? st : RX_OUTPUT;
            if (a->html && report_write_file(a->html, report_write_html, g, title) != 0)
                st = st ? st : RX_OUTPUT;
        }
    }
    if (x && a->expect) {
        size_t n = expect_finish(x, stderr);
        if (n) {
            fprintf(stderr, "hopscope: %s: %zu difference%s from the expectations\n", a->expect, n, n == 1 ? "" : "s");
            st = st ? st : RX_EXPECT;
        } else {
            fprintf(stderr, "hopscope: %s: all %zu expectations met\n", a->expect, expect_count(x));
        }
    }
    if (wexpect && ((x && expect_write_failed(x)) || ferror(wexpect))) {
        fprintf(stderr, "hopscope: %s: write failed\n", a->write_expect);
        st = RX_OUTPUT;
    }
    goto out;
nomem:
    fprintf(stderr, "hopscope: out of memory\n");
    st = RX_INPUT;
out:
    recjson_free(r);
    expect_free(x);
    bool failed = w && w->failed;
    int werr = w ? w->err : 0;
    writer_free(w);
    if (wexpect && fclose(wexpect) != 0 && st == RX_OK) {
        fprintf(stderr, "hopscope: %s: write failed\n", a->write_expect);
        st = RX_OUTPUT;
    }
    if (!failed && fflush(outf) != 0)
        failed = true;
    if (outf != stdout && fclose(outf) != 0) /* closed in any case: the buffer was dropped after a failure */
        failed = true;
    if (failed) {
        fprintf(stderr, "hopscope: %s: write failed: %s\n", opath ? opath : "standard output",
                strerror(werr ? werr : errno));
        return RX_OUTPUT;
    }
    return st;
}
