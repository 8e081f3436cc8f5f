/*
 * JSON writers compared on hopscope's own records: a jansson tree + json_dumps (what json.c did until 2026-12),
 * yajl's yajl_gen (Debian's libyajl-dev), yajl_gen with the UTF-8 check hopscope needs before it, and jw.c.
 * Each line of a JSON Lines file (hopscope's output) becomes a list of events (begin object, key, string, ...),
 * then each writer writes every line from its events, REPS times; the output must be the same bytes for all.
 *
 *   apt-get install libyajl-dev   (only for this program; hopscope does not use yajl)
 *   cc -O2 -Isrc/output -o /tmp/json_writers bench/json_writers.c src/output/jw.c -ljansson -lyajl
 *   build-rel/hopscope -r /tmp/bench-64.pcap -o /tmp/bench-64.jsonl
 *   /tmp/json_writers /tmp/bench-64.jsonl jw 50 /dev/null          (jansson, yajl, yajl+utf8, jw)
 *   valgrind --tool=callgrind /tmp/json_writers /tmp/bench-64.jsonl jw 10 /dev/null
 *
 * For instructions per line, subtract a run with REPS 0 (reading the file) and divide by REPS x lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <yajl/yajl_gen.h>

#include "jw.h"

enum ev { OB, OE, AB, AE, KEY, STR, INT, TRU, FAL, NUL };

struct event {
    enum ev t;
    const char *s;
    size_t n;
    long long v;
};

static struct event *evs;
static size_t nev, capev;
static FILE *out;

static void add(enum ev t, const char *s, long long v)
{
    if (nev == capev) {
        capev = capev ? capev * 2 : 1024;
        evs = realloc(evs, capev * sizeof *evs);
        if (!evs)
            exit(1);
    }
    evs[nev++] = (struct event){t, s ? strdup(s) : NULL, s ? strlen(s) : 0, v};
}

static void flatten(json_t *j)
{
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        add(OB, NULL, 0);
        json_object_foreach(j, k, v)
        {
            add(KEY, k, 0);
            flatten(v);
        }
        add(OE, NULL, 0);
    } else if (json_is_array(j)) {
        add(AB, NULL, 0);
        for (size_t i = 0; i < json_array_size(j); i++)
            flatten(json_array_get(j, i));
        add(AE, NULL, 0);
    } else if (json_is_string(j)) {
        add(STR, json_string_value(j), 0);
    } else if (json_is_integer(j)) {
        add(INT, NULL, json_integer_value(j));
    } else {
        add(json_is_true(j) ? TRU : json_is_false(j) ? FAL : NUL, NULL, 0);
    }
}

/* As json.c did: a tree (json_string checks UTF-8), json_dumps, fputs, free. */
static void run_jansson(size_t a, size_t b)
{
    json_t *stack[64], *root = NULL;
    const char *keys[64], *key = NULL;
    int sp = 0;
    for (size_t i = a; i < b; i++) {
        const struct event *x = &evs[i];
        json_t *v = NULL;
        switch (x->t) {
        case KEY:
            key = x->s;
            continue;
        case OB:
        case AB:
            keys[sp] = key;
            stack[sp++] = x->t == OB ? json_object() : json_array();
            continue;
        case OE:
        case AE:
            v = stack[--sp];
            key = keys[sp];
            break;
        case STR:
            v = json_string(x->s);
            break;
        case INT:
            v = json_integer(x->v);
            break;
        case TRU:
            v = json_true();
            break;
        case FAL:
            v = json_false();
            break;
        case NUL:
            v = json_null();
            break;
        }
        if (!sp) {
            root = v;
            break;
        }
        if (json_is_object(stack[sp - 1]))
            json_object_set_new(stack[sp - 1], key, v);
        else
            json_array_append_new(stack[sp - 1], v);
    }
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputs(s, out);
    fputc('\n', out);
    free(s);
    json_decref(root);
}

static yajl_gen g;
static int check_utf8;

/* The check json.c's jstr() made before json_string: what hopscope would still do before yajl_gen_string. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0], cp, min;
    size_t k;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        k = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        k = 4, cp = c & 7, min = 0x10000;
    else
        return 0;
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    return cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : k;
}

static int utf8_valid(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(p + i, n - i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

static void run_yajl(size_t a, size_t b)
{
    for (size_t i = a; i < b; i++) {
        const struct event *x = &evs[i];
        switch (x->t) {
        case KEY:
        case STR:
            if (check_utf8 && !utf8_valid((const unsigned char *)x->s, x->n))
                abort(); /* hopscope's records are valid UTF-8 by then: the repair is never needed here */
            yajl_gen_string(g, (const unsigned char *)x->s, x->n);
            break;
        case OB:
            yajl_gen_map_open(g);
            break;
        case OE:
            yajl_gen_map_close(g);
            break;
        case AB:
            yajl_gen_array_open(g);
            break;
        case AE:
            yajl_gen_array_close(g);
            break;
        case INT:
            yajl_gen_integer(g, x->v);
            break;
        case TRU:
        case FAL:
            yajl_gen_bool(g, x->t == TRU);
            break;
        case NUL:
            yajl_gen_null(g);
            break;
        }
    }
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    fwrite(buf, 1, len, out);
    fputc('\n', out);
    yajl_gen_clear(g);
    yajl_gen_reset(g, NULL);
}

static struct jw w;

static void run_jw(size_t a, size_t b)
{
    for (size_t i = a; i < b; i++) {
        const struct event *x = &evs[i];
        switch (x->t) {
        case KEY:
            jw_key(&w, x->s);
            break;
        case STR:
            jw_stringn(&w, x->s, x->n);
            break;
        case OB:
            jw_object_begin(&w);
            break;
        case OE:
            jw_object_end(&w);
            break;
        case AB:
            jw_array_begin(&w);
            break;
        case AE:
            jw_array_end(&w);
            break;
        case INT:
            jw_int(&w, x->v);
            break;
        case TRU:
        case FAL:
            jw_bool(&w, x->t == TRU);
            break;
        case NUL:
            jw_null(&w);
            break;
        }
    }
    jw_raw(&w, "\n", 1);
    fwrite(w.buf, 1, w.len, out);
    jw_reset(&w);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s FILE.jsonl jansson|yajl|yajl+utf8|jw REPS OUT\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t *lines = NULL, nlines = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
            continue;
        if (nlines + 2 > cap) {
            cap = cap ? cap * 2 : 1024;
            lines = realloc(lines, cap * sizeof *lines);
            if (!lines)
                return 1;
        }
        lines[nlines++] = nev;
        flatten(j);
        json_decref(j);
    }
    if (!nlines)
        return 1;
    lines[nlines] = nev;
    int reps = atoi(argv[3]);
    out = fopen(argv[4], "w");
    if (!out) {
        perror(argv[4]);
        return 1;
    }
    g = yajl_gen_alloc(NULL);
    check_utf8 = !strcmp(argv[2], "yajl+utf8");
    void (*fn)(size_t, size_t) = !strcmp(argv[2], "jansson")    ? run_jansson
                                 : !strncmp(argv[2], "yajl", 4) ? run_yajl
                                                                : run_jw;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < nlines; i++)
            fn(lines[i], lines[i + 1]);
    fflush(out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    if (reps)
        fprintf(stderr, "%s: %zu lines x %d: %.2f us a line\n", argv[2], nlines, reps, ns / 1e3 / reps / nlines);
    return 0;
}
