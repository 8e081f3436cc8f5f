/* Expectations: a JSON Lines subset match of records and findings (--expect), and writing one (--write-expect). */
#include "expect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonrec.h"
#include "writer.h"

#define UNEXPECTED_SHOWN 32   /* unexpected findings described; the rest are counted */
#define DIFF_LINES_MAX 12     /* differences shown per expectation */

struct expectation {
    json_t *want;
    size_t line;
    size_t leaves;            /* how specific it is: leaf values it names */
    bool matched;
    json_t *best;             /* the closest output object of its type so far (a reference), or NULL */
    size_t best_score;
};

struct hs_expect {
    struct hs_sink sink;      /* must stay first */
    struct expectation *v;
    size_t n;
    bool ignore_other_findings;
    FILE *wf;
    bool wfailed;
    json_t *unexpected[UNEXPECTED_SHOWN];
    size_t n_unexpected;
};

/* ---- matching --------------------------------------------------------------------------------------- */

static size_t leaves(const json_t *j)
{
    size_t n = 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) n += leaves(v);
        return n;
    }
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            n += leaves(json_array_get(j, i));
        return n ? n : 1;
    }
    return 1;
}

/*
 * Does got have what want lists? Objects: every key of want, matching (other keys are free). Arrays: every
 * element of want matches a distinct element of got, in any order (others are free). Anything else: equal.
 * The depth is that of the expectation file's JSON (jansson limits its nesting on load).
 */
static bool match(const json_t *want, const json_t *got)
{
    if (json_is_object(want)) {
        if (!json_is_object(got))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            if (!match(v, json_object_get(got, k)))
                return false;
        }
        return true;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got))
            return false;
        size_t ng = json_array_size(got);
        bool stack[64], *used = ng <= 64 ? stack : calloc(ng, 1);
        if (!used)
            return false;
        memset(used, 0, ng <= 64 ? sizeof stack : 0);
        bool ok = true;
        for (size_t i = 0; ok && i < json_array_size(want); i++) {
            ok = false;
            for (size_t j = 0; j < ng && !ok; j++)
                if (!used[j] && match(json_array_get(want, i), json_array_get(got, j)))
                    used[j] = ok = true;
        }
        if (used != stack)
            free(used);
        return ok;
    }
    return got && json_equal((json_t *)want, (json_t *)got);
}

/* How many of want's leaves got has (for naming the closest object when none matches). */
static size_t score(const json_t *want, const json_t *got)
{
    if (!got)
        return 0;
    if (json_is_object(want)) {
        size_t s = 0;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v) s += score(v, json_object_get(got, k));
        return s;
    }
    if (json_is_array(want))
        return match(want, got) ? leaves(want) : 0;
    return json_equal((json_t *)want, (json_t *)got) ? 1 : 0;
}

static const char *type_of(const json_t *o)
{
    const char *t = json_string_value(json_object_get(o, "type"));
    return t ? t : "";
}

static void on_object(struct hs_expect *x, json_t *o)
{
    const char *type = type_of(o);
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < x->n; i++) {
        struct expectation *e = &x->v[i];
        if (e->matched || strcmp(type_of(e->want), type) != 0)
            continue;
        if (match(e->want, o)) {
            /* the most specific expectation it meets takes it; ties go to the earlier line */
            if (best == SIZE_MAX || e->leaves > x->v[best].leaves)
                best = i;
        } else {
            size_t s = score(e->want, o);
            if (!e->best || s > e->best_score) {
                json_decref(e->best);
                e->best = json_incref(o);
                e->best_score = s;
            }
        }
    }
    if (best != SIZE_MAX) {
        x->v[best].matched = true;
        json_decref(x->v[best].best);
        x->v[best].best = NULL;
    } else if (!strcmp(type, "finding") && !x->ignore_other_findings) {
        if (x->n_unexpected < UNEXPECTED_SHOWN)
            x->unexpected[x->n_unexpected] = json_incref(o);
        x->n_unexpected++;
    }
}

/* ---- writing expectations --------------------------------------------------------------------------- */

/* The fields --write-expect keeps, by type; dotted paths into the object. A path the object lacks is skipped,
 * so names from other schema versions may stand side by side (ntlm.version / ntlm.response_type, the
 * top-level user). */
static const char *const AUTH_FIELDS[] = {"type", "user", "transport", "service", "mechanism", "result",
                                          "status.name", "client.ip", "server.ip", "server.port", "ntlm.version",
                                          "ntlm.response_type", "ntlm.user", "ntlm.domain", "basic.user", NULL};
static const char *const KDC_FIELDS[] = {"type", "user", "kind", "request", "reply", "cname", "sname", "realm",
                                         "result", "error.name", "client.ip", "server.ip", "impersonated.user",
                                         NULL};
static const char *const DCOM_FIELDS[] = {"type", "user", "interface", "op", "auth_level", "clsid", "class",
                                          "result", "status.name", "client.ip", "server.ip", NULL};
static const char *const FINDING_FIELDS[] = {"type", "id", "severity", "confidence", "user", "hosts.client",
                                             "hosts.first_hop", "hosts.second_hop", "evidence.frames", NULL};

static void copy_path(json_t *out, const json_t *in, const char *path)
{
    char key[64];
    const char *dot = strchr(path, '.');
    size_t l = dot ? (size_t)(dot - path) : strlen(path);
    if (l >= sizeof key)
        return;
    memcpy(key, path, l);
    key[l] = '\0';
    json_t *v = json_object_get(in, key);
    if (!v)
        return;
    if (!dot) {
        json_object_set(out, key, v);
        return;
    }
    json_t *sub = json_object_get(out, key);
    if (!sub) {
        sub = json_object();
        json_object_set_new(out, key, sub);
    }
    copy_path(sub, v, dot + 1);
    if (!json_object_size(sub))
        json_object_del(out, key);
}

static void write_reduced(struct hs_expect *x, const json_t *o)
{
    const char *t = type_of(o);
    const char *const *fields = !strcmp(t, "auth") ? AUTH_FIELDS : !strcmp(t, "kerberos") ? KDC_FIELDS
                              : !strcmp(t, "dcom") ? DCOM_FIELDS : !strcmp(t, "finding") ? FINDING_FIELDS : NULL;
    if (!fields)
        return;
    json_t *r = json_object();
    for (size_t i = 0; fields[i]; i++)
        copy_path(r, o, fields[i]);
    char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s || fputs(s, x->wf) == EOF || fputc('\n', x->wf) == EOF)
        x->wfailed = true;
    free(s);
    json_decref(r);
}

/* ---- the stage -------------------------------------------------------------------------------------- */

static void take(struct hs_expect *x, json_t *o)
{
    if (!o)
        return;
    if (x->n)
        on_object(x, o);
    if (x->wf)
        write_reduced(x, o);
    json_decref(o);
}

void expect_object(struct hs_expect *x, json_t *o)
{
    take(x, json_incref(o));
}

static void on_record(struct hs_sink *self, struct rec_hdr *r)
{
    struct hs_expect *x = (struct hs_expect *)self;
    if (r->phase == REC_WHOLE || r->phase == REC_END) /* streaming: the record once, complete */
        take(x, json_of_record(r));
    sink_record(self->next, r);
}

static void on_finding(struct hs_sink *self, const struct hs_finding *f)
{
    struct hs_expect *x = (struct hs_expect *)self;
    take(x, json_of_finding(f));
    sink_finding(self->next, f);
}

/* The closing (or a periodic) stats record: expectations may name its counters ({"type":"stats", "malformed":
 * {"smb2":0}}), and the golden traces pin it whole. */
static void on_stats(struct hs_sink *self, const struct hs_stats_view *v)
{
    struct hs_expect *x = (struct hs_expect *)self;
    if (x->n) {
        char *line = stats_json_line(v);
        json_t *o = line ? json_loads(line, 0, NULL) : NULL;
        free(line);
        if (o)
            on_object(x, o);
        json_decref(o);
    }
    sink_stats(self->next, v);
}

static int load(struct hs_expect *x, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(EXPECT_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, EXPECT_FILE_MAX + 1, f) : 0;
    bool rerr = ferror(f);
    fclose(f);
    if (!buf || rerr || n > EXPECT_FILE_MAX) {
        snprintf(err, cap, "%s: %s", path, !buf ? "out of memory" : rerr ? "read error" : "larger than 16 MiB");
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    x->v = calloc(EXPECT_MAX, sizeof *x->v);
    if (!x->v) {
        free(buf);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    size_t lineno = 0;
    int rc = 0;
    for (char *p = buf, *next; p && rc == 0; p = next) {
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *s = p + strspn(p, " \t\r");
        if (!*s || *s == '#')
            continue; /* blank lines and comments */
        json_error_t je;
        json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, &je);
        if (!o || !json_is_object(o) || !json_is_string(json_object_get(o, "type"))) {
            snprintf(err, cap, "%s:%zu: %s", path, lineno,
                     !o ? je.text : "not a JSON object with a string \"type\"");
            json_decref(o);
            rc = -1;
        } else if (!strcmp(type_of(o), "expect")) {
            const char *of = json_string_value(json_object_get(o, "other_findings"));
            x->ignore_other_findings = of && !strcmp(of, "ignore");
            json_decref(o);
        } else if (x->n == EXPECT_MAX) {
            snprintf(err, cap, "%s:%zu: more than %d expectations", path, lineno, EXPECT_MAX);
            json_decref(o);
            rc = -1;
        } else {
            x->v[x->n].want = o;
            x->v[x->n].line = lineno;
            x->v[x->n].leaves = leaves(o);
            x->n++;
        }
    }
    free(buf);
    return rc;
}

struct hs_expect *expect_new(struct hs_sink *next, const char *path, FILE *wf, char *err, size_t cap)
{
    struct hs_expect *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    x->sink.record = on_record;
    x->sink.finding = on_finding;
    x->sink.stats = on_stats;
    x->sink.next = next;
    x->wf = wf;
    if (path && load(x, path, err, cap) != 0) {
        expect_free(x);
        return NULL;
    }
    return x;
}

struct hs_sink *expect_sink(struct hs_expect *x)
{
    return &x->sink;
}

size_t expect_count(const struct hs_expect *x)
{
    return x->n;
}

bool expect_write_failed(const struct hs_expect *x)
{
    return x->wfailed;
}

/* ---- the account of what differs -------------------------------------------------------------------- */

static void put_json(FILE *out, const json_t *j, size_t max)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!s) {
        fputs("?", out);
        return;
    }
    if (strlen(s) > max)
        fprintf(out, "%.*s...", (int)max, s);
    else
        fputs(s, out);
    free(s);
}

/* Lines "  path: expected X, got Y" for what want names and got does not have; *budget lines at most. */
static void diff(FILE *out, const json_t *want, const json_t *got, char *path, size_t cap, int *budget)
{
    if (*budget <= 0 || match(want, got))
        return;
    if (json_is_object(want) && json_is_object(got)) {
        size_t l = strlen(path);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            snprintf(path + l, cap - l, "%s%s", l ? "." : "", k);
            diff(out, v, json_object_get(got, k), path, cap, budget);
            path[l] = '\0';
        }
        return;
    }
    (*budget)--;
    fprintf(out, "    %s: expected ", path[0] ? path : "(object)");
    put_json(out, want, 200);
    if (!got) {
        fputs(", missing\n", out);
        return;
    }
    fputs(json_is_array(want) ? " among " : ", got ", out);
    put_json(out, got, 200);
    fputc('\n', out);
}

/* A one-line name for an output object: its type, id and the fields people know it by. */
static void describe(FILE *out, const json_t *o)
{
    static const char *const keys[] = {"id", "ts", "transport", "service", "kind", "mechanism", "result", "title"};
    fputs(type_of(o), out);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const json_t *v = json_object_get(o, keys[i]);
        if (v) {
            fprintf(out, " %s=", keys[i]);
            put_json(out, v, 100);
        }
    }
}

size_t expect_finish(struct hs_expect *x, FILE *out)
{
    size_t failures = 0;
    for (size_t i = 0; i < x->n; i++) {
        const struct expectation *e = &x->v[i];
        if (e->matched)
            continue;
        failures++;
        fprintf(out, "expectation at line %zu not met: ", e->line);
        put_json(out, e->want, 400);
        fputc('\n', out);
        if (!e->best) {
            fprintf(out, "    no %s object in the output%s\n", type_of(e->want),
                    strcmp(type_of(e->want), "finding") ? "" : " (no such finding)");
            continue;
        }
        const char *wid = json_string_value(json_object_get(e->want, "id"));
        const char *bid = json_string_value(json_object_get(e->best, "id"));
        if (!strcmp(type_of(e->want), "finding") && wid && (!bid || strcmp(wid, bid))) {
            fprintf(out, "    no %s finding in the output\n", wid);
            continue;
        }
        fputs("  closest: ", out);
        describe(out, e->best);
        fputc('\n', out);
        char path[512] = "";
        int budget = DIFF_LINES_MAX;
        diff(out, e->want, e->best, path, sizeof path, &budget);
    }
    for (size_t i = 0; i < x->n_unexpected; i++) {
        failures++;
        if (i < UNEXPECTED_SHOWN) {
            fputs("unexpected finding (no expectation names it): ", out);
            describe(out, x->unexpected[i]);
            fputc('\n', out);
        }
    }
    if (x->n_unexpected > UNEXPECTED_SHOWN)
        fprintf(out, "... and %zu more unexpected findings\n", x->n_unexpected - UNEXPECTED_SHOWN);
    return failures;
}

void expect_free(struct hs_expect *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++) {
        json_decref(x->v[i].want);
        json_decref(x->v[i].best);
    }
    for (size_t i = 0; i < x->n_unexpected && i < UNEXPECTED_SHOWN; i++)
        json_decref(x->unexpected[i]);
    free(x->v);
    free(x);
}
