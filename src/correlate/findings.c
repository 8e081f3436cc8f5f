/* Findings — the double hop (MS-KILE 3.3.5.7.5 delegation, MS-SFU 3.2.5 S4U), SPN problems, NTLM weaknesses
 * (MS-NLMP 3.3.1, 3.4.5.1 LM_KEY). Each rule reads record summaries only, never bytes. */
#include "findings.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "format.h"
#include "hosts.h"
#include "hugepage.h"
#include "kerberos.h"
#include "ntlmssp.h"
#include "util.h"

#define KDC_ERR_S_PRINCIPAL_UNKNOWN 7
#define KDC_ERR_BADOPTION 13
#define KRB_AP_ERR_MODIFIED 41
#define TKT_FORWARDABLE (0x80000000u >> 1) /* RFC 4120 5.3 TicketFlags bit 1 */
#define HOP_SCAN_MAX 4096 /* onward connections looked at per first hop */

/* snprintf that cuts to fit, on purpose: a finding's texts are bounded, and a long user or SPN name shortens
 * them rather than failing (vsnprintf, so the compiler does not warn of the cut it is meant to make). */
__attribute__((format(printf, 3, 4))) static void cutf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static void ip_str(uint8_t af, const uint8_t *ip, char *out, size_t cap)
{
    char b[INET6_ADDRSTRLEN];
    format_ip(af, ip, b);
    cutf(out, cap, "%s", b);
}

static bool ip_eq(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, 16) == 0;
}

void account_of(const char *u, char *out, size_t cap)
{
    const char *s = strrchr(u, '\\');
    s = s ? s + 1 : u;
    size_t i = 0;
    for (; s[i] && s[i] != '@' && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

/* A 64-bit FNV-1a hash of account_of(u), 0 when u names no account: equal accounts hash equal, so a
 * difference rules same_user() out without building the two accounts (a filter, not a test). */
static uint64_t account_hash(const char *u)
{
    char x[128];
    account_of(u, x, sizeof x);
    if (!x[0])
        return 0;
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = x; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
    return h ? h : 1;
}

bool same_user(const char *a, const char *b)
{
    char x[128], y[128];
    account_of(a, x, sizeof x);
    account_of(b, y, sizeof y);
    return x[0] && strcmp(x, y) == 0;
}

static void add_rec(struct hs_finding *f, uint64_t id)
{
    for (uint32_t i = 0; i < f->nrecords; i++)
        if (f->records[i] == id)
            return;
    if (id && f->nrecords < FINDING_EVIDENCE_MAX)
        f->records[f->nrecords++] = id;
}

static void add_frame(struct hs_finding *f, uint64_t fr)
{
    for (uint32_t i = 0; i < f->nframes; i++)
        if (f->frames[i] == fr)
            return;
    if (fr && f->nframes < FINDING_EVIDENCE_MAX)
        f->frames[f->nframes++] = fr;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The sorter (findings.h, struct findings_sorter): findings packed (struct held) into a buffer of held_max bytes
 * (FINDINGS_HELD_BYTES by default). When it is full its findings are sorted and written as a run to a temporary
 * file (spill()), and at the flush the runs and what is still held are merged (merge_runs()), the way sort(1)
 * sorts what does not fit: memory stays flat however many findings a capture makes. Without a temporary file the
 * buffer grows to FINDINGS_HELD_MAX_BYTES, and beyond that findings are handed on in the order they come. */
#define FINDINGS_HELD_BYTES (1u << 20)
#define FINDINGS_HELD_MAX_BYTES (16u << 20)
#define FINDINGS_RUNS_MAX 1024           /* runs in the temporary file; beyond, held in memory up to
                                           FINDINGS_HELD_MAX_BYTES, then handed on in the order made */
#define FINDINGS_MERGE_BUF (8u << 10)   /* read buffer per run while merging (a held finding is < 4 KiB) */
#define FINDINGS_SPILL_BUF (64u << 10)  /* write buffer while spilling */
struct spill_run {
    off_t off, end;          /* the run's bytes in the temporary file */
    size_t n;                /* the findings in it */
};
/* A run of the rules: where findings go, and the host names that label their addresses. */
struct frun {
    struct hs_sink *sink;
    const struct host_table *ht;
    struct findings_sorter *sort; /* where the findings made are held to be handed on most severe first */
    time_t decided_before;   /* findings_cfg's */
    uint64_t judged_before;
    struct findings_forgotten forgotten;
};

/* A held finding: what struct hs_finding holds, its evidence (nrecords records, then nframes frames) and its text
 * fields packed back to back (each with its NUL) after the fixed part. A finding's text fields are sized for the
 * longest (~2.9 KB in all) and its evidence for 16 + 16; packed, a typical one (3 records, 4 frames) takes
 * ~0.9 KB, which is what made holding them cost page faults and copies. */
struct held {
    const char *id, *severity, *confidence;
    const struct finding_sensors *sensors;
    uint64_t anchor;
    uint32_t nrecords, nframes;
    uint32_t size; /* of the whole entry, bytes, a multiple of 8 */
    uint64_t ev[]; /* records[nrecords], frames[nframes], then the text */
};
/* a held finding is never larger than this, so one always fits in a merge buffer */
_Static_assert(sizeof(struct held) + sizeof(struct hs_finding) <= FINDINGS_MERGE_BUF, "merge buffer too small");

static const uint64_t *held_frames(const struct held *h)
{
    return h->ev + h->nrecords;
}

static const char *held_text(const struct held *h)
{
    return (const char *)(h->ev + h->nrecords + h->nframes);
}

/* The text fields of struct hs_finding, in the order they are packed. */
#define HELD_TEXT(X) X(title) X(user) X(client) X(first_hop) X(second_hop) X(client_name) X(first_hop_name) \
    X(second_hop_name) X(explanation) X(remediation)

static bool spill(struct findings_sorter *s);

/* Packs f at the end of s->held, spilling what is held first when f would not fit in s->held_max. Returns
 * false (nothing held) when neither that nor holding more (up to FINDINGS_HELD_MAX_BYTES) can be done, or the
 * buffer cannot grow. */
bool findings_sort_add(struct findings_sorter *s, const struct hs_finding *f)
{
    uint32_t nr = f->nrecords < FINDING_EVIDENCE_MAX ? f->nrecords : FINDING_EVIDENCE_MAX;
    uint32_t nf = f->nframes < FINDING_EVIDENCE_MAX ? f->nframes : FINDING_EVIDENCE_MAX;
    size_t need = sizeof(struct held) + (size_t)(nr + nf) * sizeof(uint64_t);
#define LEN(m) need += strnlen(f->m, sizeof f->m - 1) + 1;
    HELD_TEXT(LEN)
#undef LEN
    need = (need + 7) & ~(size_t)7;
    size_t held_max = s->held_max ? s->held_max : FINDINGS_HELD_BYTES;
    if (s->used + need > held_max && s->used && !spill(s) && s->used + need > FINDINGS_HELD_MAX_BYTES)
        return false;
    if (s->used + need > s->cap) {
        size_t cap = s->cap ? s->cap : 64u << 10;
        while (cap < s->used + need)
            cap *= 2;
        unsigned char *b = hugepage_realloc(s->held, s->cap, cap);
        if (!b)
            return false;
        s->held = b;
        s->cap = cap;
    }
    struct held *h = (struct held *)(void *)(s->held + s->used);
    h->id = f->id;
    h->severity = f->severity;
    h->confidence = f->confidence;
    h->sensors = f->sensors;
    h->anchor = f->anchor;
    h->nrecords = nr;
    h->nframes = nf;
    memcpy(h->ev, f->records, nr * sizeof *h->ev);
    memcpy(h->ev + nr, f->frames, nf * sizeof *h->ev);
    h->size = (uint32_t)need;
    char *t = (char *)(h->ev + nr + nf);
#define PUT(m) { size_t l = strnlen(f->m, sizeof f->m - 1); memcpy(t, f->m, l); t[l] = '\0'; t += l + 1; }
    HELD_TEXT(PUT)
#undef PUT
    s->used += need;
    s->n++;
    return true;
}

/* Unpacks h into f (every field of f written). */
static void unhold(const struct held *h, struct hs_finding *f)
{
    f->id = h->id;
    f->severity = h->severity;
    f->confidence = h->confidence;
    f->sensors = h->sensors;
    f->anchor = h->anchor;
    f->nrecords = h->nrecords;
    f->nframes = h->nframes;
    memset(f->records, 0, sizeof f->records);
    memset(f->frames, 0, sizeof f->frames);
    memcpy(f->records, h->ev, h->nrecords * sizeof *h->ev);
    memcpy(f->frames, held_frames(h), h->nframes * sizeof *h->ev);
    const char *t = held_text(h);
#define GET(m) { size_t l = strlen(t); memcpy(f->m, t, l + 1); t += l + 1; }
    HELD_TEXT(GET)
#undef GET
}

/* Was what a per-record rule makes of a record started at ts, summarized at `made` (first at `born`), decided by an
 * earlier run (streaming, or judging early), or may it, judged before, not be judged again (findings_cfg.forgotten)? */
static bool decided(const struct frun *run, const struct timeval *ts, uint64_t made, uint64_t born)
{
    if (findings_forgotten_skip(&run->forgotten, ts->tv_sec, born))
        return true;
    return run->decided_before && ts->tv_sec < run->decided_before && made < run->judged_before;
}

static int severity_rank(const char *s)
{
    return !strcmp(s, "high") ? 0 : !strcmp(s, "medium") ? 1 : !strcmp(s, "low") ? 2 : 3;
}

/* Most severe first; within a severity, the order the rules made them (the seq in records[] is not it:
 * compare the held position, which qsort does not keep, so ties fall back to the first evidence frame). */
static int by_severity(const void *a, const void *b)
{
    const struct held *x = *(const struct held *const *)a, *y = *(const struct held *const *)b;
    int d = severity_rank(x->severity) - severity_rank(y->severity);
    if (d)
        return d;
    uint64_t fx = x->nframes ? held_frames(x)[0] : 0, fy = y->nframes ? held_frames(y)[0] : 0;
    if (fx != fy)
        return fx < fy ? -1 : 1;
    d = strcmp(x->id, y->id);
    if (d)
        return d;
    return x < y ? -1 : x > y; /* equal: in the order they came (packed one after the other in s->held) */
}

/* The held findings, most severe first: pointers into s->held, malloc'd (NULL when none are held or without
 * memory). */
static const struct held **sorted_held(const struct findings_sorter *s)
{
    const struct held **order = s->n ? malloc(s->n * sizeof *order) : NULL;
    size_t n = 0;
    for (size_t at = 0; at < s->used && order; at += ((const struct held *)(const void *)(s->held + at))->size)
        order[n++] = (const struct held *)(const void *)(s->held + at);
    if (order)
        qsort(order, n, sizeof *order, by_severity);
    return order;
}

/* Writes len bytes of b at offset off of fd, whole. Returns false on a write error or a full disk. */
static bool pwrite_all(int fd, const unsigned char *b, size_t len, off_t off)
{
    while (len) {
        ssize_t w = pwrite(fd, b, len, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        len -= (size_t)w;
        off += w;
    }
    return true;
}

/* Writes the held findings, sorted, as one run at the end of the temporary file (made at the first run) and
 * empties the buffer. Returns false, holding them still, when no file can be made or written, at
 * FINDINGS_RUNS_MAX runs, or without memory; after a failure to make or write the file it is not tried again. */
static bool spill(struct findings_sorter *s)
{
    if (s->spill_failed || s->n_runs == FINDINGS_RUNS_MAX)
        return false;
    if (!s->spill_open) {
        s->runs = malloc(FINDINGS_RUNS_MAX * sizeof *s->runs);
        s->spill_fd = s->runs ? tmpfd() : -1; /* in $TMPDIR, unlinked (util.h) */
        if (s->spill_fd < 0) {
            free(s->runs);
            s->runs = NULL;
            s->spill_failed = true;
            return false;
        }
        s->spill_open = true;
    }
    const struct held **order = sorted_held(s);
    unsigned char *buf = order ? malloc(FINDINGS_SPILL_BUF) : NULL;
    if (!buf) { /* without memory: not tried again (each try would sort everything held once more) */
        free(order);
        s->spill_failed = true;
        return false;
    }
    off_t at = s->spill_end;
    size_t fill = 0;
    bool ok = true;
    for (size_t i = 0; i < s->n && ok; i++) {
        if (fill + order[i]->size > FINDINGS_SPILL_BUF) {
            ok = pwrite_all(s->spill_fd, buf, fill, at);
            at += (off_t)fill;
            fill = 0;
        }
        memcpy(buf + fill, order[i], order[i]->size); /* size <= FINDINGS_MERGE_BUF < FINDINGS_SPILL_BUF */
        fill += order[i]->size;
    }
    if (ok && fill) {
        ok = pwrite_all(s->spill_fd, buf, fill, at);
        at += (off_t)fill;
    }
    free(buf);
    free(order);
    if (!ok) { /* a full disk: the file's runs stay, these stay held */
        s->spill_failed = true;
        return false;
    }
    s->runs[s->n_runs++] = (struct spill_run){s->spill_end, at, s->n};
    s->spill_end = at;
    s->runs_spilled++;
    s->n = 0;
    s->used = 0;
    return true;
}

/* One input of the merge: a run in the temporary file read through buf, or the findings still held (mem). */
struct merge_src {
    const struct held **mem;
    size_t mem_i, mem_n;
    off_t off, end;          /* what is left of the run in the file */
    unsigned char *buf;      /* FINDINGS_MERGE_BUF, 8-byte aligned */
    size_t pos, len;         /* the head's offset in buf, the bytes in buf */
    size_t left;             /* findings of the run not handed out yet */
    const struct held *head; /* the next finding, NULL when the input is done */
    size_t ix;               /* the input's rank: among equal findings, the earlier run's go first */
};

/* A held finding of a run in the temporary file: whole in the n bytes at p, its size sane. */
static bool held_ok(const unsigned char *p, size_t n)
{
    const struct held *h = (const struct held *)(const void *)p;
    return n >= sizeof *h && h->size >= sizeof *h && h->size % 8 == 0 && h->size <= n;
}

/* Moves src to its next finding: head NULL at its end, or when the file cannot be read back or is damaged;
 * the findings then left are counted in s->lost (and the first error in s->lost_errno). */
static void merge_next(struct findings_sorter *s, struct merge_src *m, bool first)
{
    m->head = NULL;
    if (m->mem) {
        if (m->mem_i < m->mem_n)
            m->head = m->mem[m->mem_i++];
        return;
    }
    if (!first) {
        m->pos += ((const struct held *)(const void *)(m->buf + m->pos))->size;
        m->left--;
    }
    if (!m->left)
        return;
    if (!held_ok(m->buf + m->pos, m->len - m->pos)) { /* refill: what is left to the front, then read */
        size_t have = m->len - m->pos;
        memmove(m->buf, m->buf + m->pos, have);
        m->pos = 0;
        m->len = have;
        while (m->len < FINDINGS_MERGE_BUF && m->off < m->end) {
            size_t want = FINDINGS_MERGE_BUF - m->len;
            if ((off_t)want > m->end - m->off)
                want = (size_t)(m->end - m->off);
            ssize_t r = pread(s->spill_fd, m->buf + m->len, want, m->off);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                if (r < 0 && !s->lost_errno)
                    s->lost_errno = errno;
                break;
            }
            m->len += (size_t)r;
            m->off += r;
        }
        if (!held_ok(m->buf, m->len)) {
            s->lost += m->left;
            m->left = 0;
            return;
        }
    }
    m->head = (const struct held *)(const void *)(m->buf + m->pos);
}

/* Does input a come before input b (a binary heap's order)? */
static bool merge_before(const struct merge_src *a, const struct merge_src *b)
{
    int d = by_severity(&a->head, &b->head);
    return d < 0 || (d == 0 && a->ix < b->ix);
}

static void sift_down(struct merge_src **heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && merge_before(heap[l], heap[m]))
            m = l;
        if (r < n && merge_before(heap[r], heap[m]))
            m = r;
        if (m == i)
            return;
        struct merge_src *t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

/* Hands on, most severe first, the spilled runs merged with what is still held (sorted through pointers).
 * Returns false, handing nothing on, without memory for the merge. */
static bool merge_runs(struct findings_sorter *s, struct hs_sink *sink)
{
    size_t k = s->n_runs + 1;
    struct merge_src *src = calloc(k, sizeof *src);
    struct merge_src **heap = calloc(k, sizeof *heap);
    unsigned char *bufs = malloc(s->n_runs * (size_t)FINDINGS_MERGE_BUF);
    const struct held **order = sorted_held(s);
    bool ok = src && heap && bufs && (order || !s->n);
    size_t n = 0;
    for (size_t i = 0; ok && i < k; i++) {
        struct merge_src *m = &src[i];
        m->ix = i;
        if (i < s->n_runs) {
            m->off = s->runs[i].off;
            m->end = s->runs[i].end;
            m->left = s->runs[i].n;
            m->buf = bufs + i * (size_t)FINDINGS_MERGE_BUF;
        } else if (s->n) {
            m->mem = order;
            m->mem_n = s->n;
        } else {
            continue; /* nothing held besides the runs */
        }
        merge_next(s, m, true);
        if (m->head)
            heap[n++] = m;
    }
    for (size_t i = n / 2; ok && i-- > 0;)
        sift_down(heap, n, i);
    struct hs_finding f;
    while (ok && n) {
        unhold(heap[0]->head, &f);
        sink_finding(sink, &f);
        merge_next(s, heap[0], false);
        if (!heap[0]->head)
            heap[0] = heap[--n];
        sift_down(heap, n, 0);
    }
    free(order);
    free(bufs);
    free(heap);
    free(src);
    return ok;
}

/* Without memory to merge: the spilled runs one after the other, through one buffer on the stack (each run most
 * severe first, not the whole). */
static void runs_in_turn(struct findings_sorter *s, struct hs_sink *sink)
{
    uint64_t buf[FINDINGS_MERGE_BUF / sizeof(uint64_t)];
    struct hs_finding f;
    for (size_t i = 0; i < s->n_runs; i++) {
        struct merge_src m = {.off = s->runs[i].off, .end = s->runs[i].end, .left = s->runs[i].n,
                              .buf = (unsigned char *)buf};
        for (merge_next(s, &m, true); m.head; merge_next(s, &m, false)) {
            unhold(m.head, &f);
            sink_finding(sink, &f);
        }
    }
}

/* Closes the temporary file and forgets its runs. */
static void spill_close(struct findings_sorter *s)
{
    if (s->spill_open)
        close(s->spill_fd);
    s->spill_open = false;
    free(s->runs);
    s->runs = NULL;
    s->n_runs = 0;
    s->spill_end = 0;
}

/* Hands the findings on, most severe first — the held ones sorted through pointers, merged with the runs
 * spilled — and empties the buffer and the temporary file. */
void findings_sort_flush(struct findings_sorter *s, struct hs_sink *sink)
{
    bool merged = s->n_runs && merge_runs(s, sink);
    if (s->n_runs && !merged)
        runs_in_turn(s, sink);
    if (!merged) {
        /* the held ones; without memory for the order, in the order the rules made them */
        const struct held **order = sorted_held(s);
        struct hs_finding f;
        for (size_t i = 0, at = 0; i < s->n; i++) {
            const struct held *h = order ? order[i] : (const struct held *)(const void *)(s->held + at);
            at += h->size;
            unhold(h, &f);
            sink_finding(sink, &f);
        }
        free(order);
    }
    s->n = 0;
    s->used = 0;
    if (s->lost > s->lost_said) { /* the temporary file failed us: say so, once a flush (findings.h) */
        fprintf(stderr, "hopscope: %llu findings lost: their temporary file could not be read back (%s)\n",
                (unsigned long long)(s->lost - s->lost_said),
                s->lost_errno ? strerror(s->lost_errno) : "short or damaged");
        s->lost_said = s->lost;
    }
    spill_close(s);
}

/* The name of the host at address text ip ("" when ip is not an address or has no name) into out[cap]. */
static void host_name_of(const struct host_table *ht, const char *ip, char *out, size_t cap)
{
    uint8_t b[16] = {0};
    out[0] = '\0';
    if (inet_pton(AF_INET, ip, b) == 1)
        cutf(out, cap, "%s", hosts_name(ht, 4, b));
    else if (inet_pton(AF_INET6, ip, b) == 1)
        cutf(out, cap, "%s", hosts_name(ht, 6, b));
}

static void emit(struct frun *run, struct hs_finding *f)
{
    qsort(f->frames, f->nframes, sizeof *f->frames, cmp_u64);
    qsort(f->records, f->nrecords, sizeof *f->records, cmp_u64);
    host_name_of(run->ht, f->client, f->client_name, sizeof f->client_name);
    host_name_of(run->ht, f->first_hop, f->first_hop_name, sizeof f->first_hop_name);
    host_name_of(run->ht, f->second_hop, f->second_hop_name, sizeof f->second_hop_name);
    if (!findings_sort_add(run->sort, f))
        sink_finding(run->sink, f);
}

static void evidence_auth(struct hs_finding *f, const struct fsum_auth *a)
{
    if (f->nrecords == FINDING_EVIDENCE_MAX && f->nframes == FINDING_EVIDENCE_MAX)
        return; /* full: nothing more is taken (a busy host's onward hops come here thousands of times) */
    add_rec(f, a->id);
    add_frame(f, a->f_auth ? a->f_auth : a->f_first);
    add_frame(f, a->f_verdict);
    if (a->use_denied) {
        add_frame(f, a->f_use_req);
        add_frame(f, a->f_use_resp);
    }
}

static bool is_ntlm(const struct fsum_auth *a)
{
    return a->mech == AMECH_NTLM || a->mech == AMECH_NEGOTIATE_NTLM;
}

static bool is_kerberos(const struct fsum_auth *a)
{
    return a->mech == AMECH_KERBEROS || a->mech == AMECH_NEGOTIATE_KERBEROS;
}

/* Did the onward connection fail to act for the user: refused, anonymous and then denied, or denied a use? */
static bool hop_failed(const struct fsum_auth *y)
{
    return y->result == RESULT_FAILURE || y->use_denied;
}

static double tv_sec(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

static const char *status_text(struct hs_status s, char *buf, size_t cap)
{
    const char *n = hs_status_name(s);
    if (n)
        return n;
    cutf(buf, cap, "0x%08x", (unsigned)s.code);
    return buf;
}

/* ---- double_hop_failed, delegation_missing ----------------------------------------------------------- */

/* An authentication by the host it came from: the onward connections of a first hop's server are found by
 * binary search on (client host, start time). */
struct hop_ref {
    const struct fsum_auth *p;
    uint32_t cli_host, srv_host;    /* hosts_id() of its client and server, looked up once */
    double t;
    uint64_t acct;                  /* account_hash() of its user */
};

/* An SPN as msDS-AllowedToDelegateTo lists it: "cifs/dc1.hoplab.test" (no realm) into fq, and its NetBIOS form
 * "cifs/DC1" (first label, upper case) into nb; nb is fq again when the host has no dot. */
static void spn_forms(const char *spn, char *fq, size_t fqcap, char *nb, size_t nbcap)
{
    size_t n = strcspn(spn, "@");
    cutf(fq, fqcap, "%.*s", (int)n, spn);
    const char *slash = memchr(fq, '/', strlen(fq));
    if (!slash) {
        cutf(nb, nbcap, "%s", fq);
        return;
    }
    size_t svc = (size_t)(slash - fq) + 1, hl = strcspn(slash + 1, ".:/");
    cutf(nb, nbcap, "%.*s", (int)svc, fq);
    size_t o = strlen(nb);
    for (size_t i = 0; i < hl && o + 1 < nbcap; i++)
        nb[o++] = (char)toupper((unsigned char)slash[1 + i]);
    nb[o] = '\0';
}

static int by_client_host(const void *a, const void *b)
{
    const struct hop_ref *x = a, *y = b;
    if (x->cli_host != y->cli_host)
        return x->cli_host < y->cli_host ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* The refused S4U2Proxy exchanges, sorted by the requesting host and the account asked for, for look-ups by
 * address and user (a scan of all KDC exchanges per first hop would be quadratic in a large capture). */
struct s4u_entry {
    const struct fsum_kdc *k;
    uint64_t acct; /* account_hash() of the user it was asked for */
};

struct s4u_index {
    struct s4u_entry *v;
    size_t n;
};

/* By client address, then the account asked for (its hash), then start time, then id. */
static int by_kdc_client(const void *a, const void *b)
{
    const struct s4u_entry *p = a, *q = b;
    const struct fsum_kdc *x = p->k, *y = q->k;
    int c = memcmp(x->cli, y->cli, 16);
    if (c)
        return c;
    if (p->acct != q->acct)
        return p->acct < q->acct ? -1 : 1;
    if (timercmp(&x->ts, &y->ts, !=))
        return timercmp(&x->ts, &y->ts, <) ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void s4u_index_build(struct s4u_index *ix, const struct fsum_kdc *k, size_t n)
{
    ix->n = 0;
    ix->v = malloc((n ? n : 1) * sizeof *ix->v);
    if (!ix->v)
        return;
    for (size_t i = 0; i < n; i++)
        if (k[i].kind == KDC_KIND_S4U2PROXY && k[i].failed)
            ix->v[ix->n++] = (struct s4u_entry){&k[i], account_hash(k[i].impersonated)};
    qsort(ix->v, ix->n, sizeof *ix->v, by_kdc_client);
}

/* The first S4U2Proxy that host a_ip was refused on behalf of user u from FINDINGS_FALLBACK_WINDOW (at most a hop
 * window) before first hop x's start to a hop window after it — after it, the delegation x's second hop needed;
 * just before it, a retry or two sensors' clocks apart —, or NULL; a refusal at another time belongs to another
 * session (and may no longer be kept when x is judged: correlate.c, prune_cutoff). A binary search on (address,
 * account, time), then at most HOP_SCAN_MAX of that account's refusals looked at (other accounts' refusals by the
 * same host, however many, are not in the way). */
static const struct fsum_kdc *s4u_refused(const struct s4u_index *ix, const uint8_t *a_ip, const char *u,
                                          const struct fsum_auth *x, uint32_t hop_window)
{
    uint64_t acct = account_hash(u);
    if (!acct)
        return NULL; /* no account: same_user() matches nothing */
    double back = hop_window < FINDINGS_FALLBACK_WINDOW ? hop_window : FINDINGS_FALLBACK_WINDOW;
    double xt = tv_sec(&x->ts);
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct s4u_entry *m = &ix->v[mid];
        int c = memcmp(m->k->cli, a_ip, 16);
        if (c < 0 || (c == 0 && (m->acct < acct || (m->acct == acct && tv_sec(&m->k->ts) < xt - back))))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, seen = 0; i < ix->n && ix->v[i].acct == acct && ip_eq(ix->v[i].k->cli, a_ip) &&
                                   seen < HOP_SCAN_MAX;
         i++, seen++) {
        if (tv_sec(&ix->v[i].k->ts) - xt > hop_window)
            break;
        if (same_user(ix->v[i].k->impersonated, u)) /* the hash's verdict, made certain */
            return ix->v[i].k;
    }
    return NULL;
}

/*
 * delegation_missing: the companion of a Kerberos double hop that no S4U2Proxy explains. A held no
 * delegable credential for U: the AP-REQ to A carried no forwarded TGT (MS-KILE 3.2.5.2: only with
 * ok-as-delegate / unconstrained delegation does the client forward one) and A asked for no S4U2Proxy
 * ticket (MS-SFU 3.2.5.2: constrained delegation). hop is the double_hop_failed finding it goes with.
 */
static void delegation_missing(struct frun *run, const struct hs_finding *hop, const struct fsum_auth *x,
                               const char *ah, const char *b)
{
    struct hs_finding f;
    memset(&f, 0, sizeof f);
    memcpy(f.records, hop->records, sizeof f.records);
    f.nrecords = hop->nrecords;
    memcpy(f.frames, hop->frames, sizeof f.frames);
    f.nframes = hop->nframes;
    memcpy(f.client, hop->client, sizeof f.client);
    memcpy(f.first_hop, hop->first_hop, sizeof f.first_hop);
    memcpy(f.second_hop, hop->second_hop, sizeof f.second_hop);
    memcpy(f.user, hop->user, sizeof f.user);
    f.anchor = hop->anchor;
    f.id = "delegation_missing";
    f.severity = "high";
    f.confidence = x->dec_auth ? "proven" : "likely";
    cutf(f.title, sizeof f.title, "No delegation for %s on %s", x->user, ah);
    if (x->dec_auth)
        cutf(f.explanation, sizeof f.explanation,
             "The Kerberos authenticator %s sent to %s (frame %llu, decrypted with the service key) carries %s and "
             "no forwarded TGT, and %s asked the KDC for no ticket on the user's behalf (no S4U2Proxy): it had "
             "no credential of %s to present to %s.",
             x->user, ah, (unsigned long long)x->f_auth,
             x->deleg_flag ? "GSS_C_DELEG_FLAG" : "no GSS_C_DELEG_FLAG", ah, x->user, b);
    else
        cutf(f.explanation, sizeof f.explanation,
             "%s reached %s with Kerberos (frame %llu), but %s asked the KDC for no ticket on the user's behalf "
             "(no S4U2Proxy was seen) before its onward connection to %s failed; without a forwarded TGT (which "
             "a keytab for %s would show, -k) it had no credential of %s to present.",
             x->user, ah, (unsigned long long)x->f_auth, ah, b, ah, x->user);
    cutf(f.remediation, sizeof f.remediation,
         "Give A's account (the one running the service) delegation to B: Kerberos constrained delegation "
         "(msDS-AllowedToDelegateTo listing B's SPNs in both NetBIOS and FQDN form, e.g. cifs/B and "
         "cifs/B.domain, \"Microsoft Virtual System Migration Service/B\" for live migration), or resource-based "
         "constrained delegation on B (msDS-AllowedToActOnBehalfOfOtherIdentity = A); check that the user is not "
         "'Account is sensitive and cannot be delegated' or in Protected Users; then klist purge on A (or "
         "reboot A if its own account changed) and retry.");
    emit(run, &f);
}

/* The labels of first hop x's client and server: c and ah "name (address)" (112 bytes each), cip and aip the
 * addresses alone (48 bytes each). */
static void hop_labels(const struct host_table *ht, const struct fsum_auth *x, char *c, char *ah, char *cip, char *aip)
{
    hosts_label(ht, x->af, x->cli, c, 112);
    hosts_label(ht, x->af, x->srv, ah, 112);
    ip_str(x->af, x->cli, cip, 48);
    ip_str(x->af, x->srv, aip, 48);
}

static void double_hop(const struct findings_cfg *cfg, const struct host_table *ht, const struct fsum_auth *a,
                       size_t n, const struct fsum_kdc *k, size_t nk, struct frun *run)
{
    struct hop_ref *byc = malloc((n ? n : 1) * sizeof *byc);
    struct s4u_index ix;
    s4u_index_build(&ix, k, nk);
    if (!byc || !ix.v) {
        free(byc);
        free(ix.v);
        return;
    }
    /* host ids looked up once per record (a binary search each), then compared as integers; srv_of[i] and
     * cli_of[i] are a[i]'s */
    uint32_t *srv_of = malloc((n ? n : 1) * 2 * sizeof *srv_of);
    if (!srv_of) {
        free(byc);
        free(ix.v);
        return;
    }
    uint32_t *cli_of = srv_of + n;
    for (size_t i = 0; i < n; i++) {
        srv_of[i] = hosts_id(ht, a[i].af, a[i].srv);
        cli_of[i] = hosts_id(ht, a[i].af, a[i].cli);
        byc[i].p = &a[i];
        byc[i].cli_host = cli_of[i];
        byc[i].srv_host = srv_of[i];
        byc[i].t = tv_sec(&a[i].ts);
        byc[i].acct = account_hash(a[i].user);
    }
    qsort(byc, n, sizeof *byc, by_client_host);
    /* a first hop's findings rest on it and on records up to a hop window after it */
    time_t x_decided = cfg->hop_decided_before;
    for (size_t i = 0; i < n; i++) {
        const struct fsum_auth *x = &a[i]; /* the first hop C -> A by user U */
        if (x->result != RESULT_SUCCESS || x->anonymous || !x->user[0] ||
            (x_decided && x->ts.tv_sec < x_decided && x->made < cfg->judged_before) ||
            findings_forgotten_skip(&cfg->forgotten, x->ts.tv_sec, x->born))
            continue;
        /* the onward connections A -> B that start within the window: binary search on (client host, start
         * time), a host being all the addresses it is known by (hosts.h); at most HOP_SCAN_MAX of them are
         * looked at per first hop, so a busy host cannot make this quadratic */
        uint32_t a_host = srv_of[i], c_host = cli_of[i];
        uint64_t x_acct = account_hash(x->user);
        double xt = tv_sec(&x->ts);
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (byc[mid].cli_host < a_host || (byc[mid].cli_host == a_host && byc[mid].t < xt))
                lo = mid + 1;
            else
                hi = mid;
        }
        struct hs_finding f;
        memset(&f, 0, sizeof f);
        f.anchor = x->id;
        evidence_auth(&f, x); /* first: kept when many failed onward connections fill the evidence */
        bool any = false, worked = false;
        const struct fsum_auth *first_y = NULL;
        for (size_t j = lo; j < n && j - lo < HOP_SCAN_MAX && byc[j].cli_host == a_host; j++) {
            const struct fsum_auth *y = byc[j].p;
            double dt = byc[j].t - xt;
            if (dt > cfg->hop_window)
                break;
            if (y == x || dt < 0 || byc[j].srv_host == c_host)
                continue;
            if (!hop_failed(y)) {
                if (byc[j].acct == x_acct && x_acct && same_user(y->user, x->user)) {
                    worked = true; /* A reached B as U: delegation worked, and nothing is found for x */
                    break;
                }
                continue;
            }
            if (!any)
                first_y = y;
            any = true;
            evidence_auth(&f, y);
        }
        if (worked)
            continue;
        char c[112], ah[112], b[112], st[16], cip[48], aip[48];
        /* The hosts' labels (c, ah: name and address; cip, aip: address) once a finding is certain: most first
         * hops make none. */
        if (!any) {
            /* No onward session at all, because A had nothing to present: its S4U2Proxy for U was refused. */
            const struct fsum_kdc *px = s4u_refused(&ix, x->srv, x->user, x, cfg->hop_window);
            if (!px)
                continue;
            hop_labels(ht, x, c, ah, cip, aip);
            add_rec(&f, px->id);
            add_frame(&f, px->f_req);
            add_frame(&f, px->f_rep);
            hosts_spn_host(px->sname, b, sizeof b);
            cutf(f.client, sizeof f.client, "%s", cip);
            cutf(f.first_hop, sizeof f.first_hop, "%s", aip);
            cutf(f.second_hop, sizeof f.second_hop, "%s", b);
            cutf(f.user, sizeof f.user, "%s", x->user);
            f.id = "double_hop_failed";
            f.severity = "high";
            f.confidence = "proven";
            cutf(f.title, sizeof f.title, "Second hop %s -> %s failed for %s", ah, b, x->user);
            const char *en = krb_error_name(px->error_code);
            cutf(f.explanation, sizeof f.explanation,
                     "%s reached %s with Kerberos (frame %llu). To go on to %s as %s, %s asked the KDC for a ticket "
                     "to %s on the user's behalf (S4U2Proxy, frame %llu) and was refused with %s (frame %llu); with "
                     "no ticket it could not even start an authenticated session to %s.",
                     x->user, ah, (unsigned long long)x->f_auth, b, x->user, ah, px->sname,
                     (unsigned long long)px->f_req, en ? en : "an error", (unsigned long long)px->f_rep, b);
            cutf(f.remediation, sizeof f.remediation,
                     "Add %s to msDS-AllowedToDelegateTo of %s (both the NetBIOS and FQDN forms of the host; cifs/ "
                     "for SMB), with 'Use any authentication protocol' if the first hop was not Kerberos; or "
                     "configure resource-based constrained delegation on %s.",
                     px->sname, px->cname, b);
            emit(run, &f);
            continue;
        }
        hop_labels(ht, x, c, ah, cip, aip);
        hosts_label(ht, first_y->af, first_y->srv, b, sizeof b);
        cutf(f.client, sizeof f.client, "%s", cip);
        cutf(f.first_hop, sizeof f.first_hop, "%s", aip);
        ip_str(first_y->af, first_y->srv, f.second_hop, sizeof f.second_hop);
        cutf(f.user, sizeof f.user, "%s", x->user);
        f.id = "double_hop_failed";
        f.severity = "high";
        cutf(f.title, sizeof f.title, "Second hop %s -> %s failed for %s", ah, b, x->user);
        const char *how = first_y->anonymous ? "as an anonymous (NULL) session"
                        : first_y->result == RESULT_FAILURE ? "and was refused"
                        : "and was denied access";
        char why[600];
        const char *fix;
        if (is_ntlm(x)) {
            f.confidence = "proven";
            cutf(why, sizeof why,
                     "%s authenticated to %s with NTLM (%s, frame %llu). NTLM proves the user's identity to that "
                     "one server only: %s receives no credentials and no ticket it could present to another "
                     "machine, so its onward connection to %s could not act as %s",
                     x->user, ah, x->service, (unsigned long long)(x->f_auth ? x->f_auth : x->f_first), ah, b, x->user);
            fix = "Make the first hop Kerberos (connect to A by its DNS name, with an SPN registered for the service) "
                  "and let A delegate: Kerberos constrained delegation on A's account listing B's SPNs in "
                  "msDS-AllowedToDelegateTo (both the NetBIOS and FQDN forms, cifs/ for SMB shares, "
                  "e.g. cifs/B and cifs/B.domain), or resource-based constrained delegation on B "
                  "(msDS-AllowedToActOnBehalfOfOtherIdentity); with PowerShell remoting, CredSSP "
                  "(Enable-WSManCredSSP) at a security cost; or run the command locally on B instead of via A.";
        } else if (is_kerberos(x)) {
            const struct fsum_kdc *px = s4u_refused(&ix, x->srv, x->user, x, cfg->hop_window);
            if (px) {
                f.confidence = "proven";
                add_rec(&f, px->id);
                add_frame(&f, px->f_req);
                add_frame(&f, px->f_rep);
                char e[16];
                const char *en = krb_error_name(px->error_code);
                if (!en) {
                    cutf(e, sizeof e, "%d", px->error_code);
                    en = e;
                }
                cutf(why, sizeof why,
                         "%s reached %s with Kerberos; %s then asked the KDC for a ticket to %s on %s's behalf "
                         "(S4U2Proxy, frame %llu) and was refused with %s, so it had nothing to present to %s",
                         x->user, ah, ah, px->sname, x->user, (unsigned long long)px->f_req, en, b);
                fix = "Add the SPN the service asked for to msDS-AllowedToDelegateTo of the service account on A "
                      "(both the NetBIOS and FQDN forms; cifs/ for SMB shares), or configure resource-based "
                      "constrained delegation on B; for protocol transition the account needs \"Use any "
                      "authentication protocol\".";
            } else if (x->dec_auth && !x->deleg_flag) {
                f.confidence = "proven";
                cutf(why, sizeof why,
                         "%s authenticated to %s with Kerberos, but the authenticator (decrypted with the service "
                         "key) carries no GSS_C_DELEG_FLAG and no forwarded TGT: %s received nothing to act as %s "
                         "towards %s",
                         x->user, ah, ah, x->user, b);
                fix = "Allow delegation: mark A's account trusted for delegation to B's services (constrained "
                      "delegation, msDS-AllowedToDelegateTo with B's SPNs in NetBIOS and FQDN form) so the ticket "
                      "to A is ok-as-delegate, or use resource-based constrained delegation on B; make sure the "
                      "user is not 'sensitive and cannot be delegated' (Protected Users).";
            } else {
                f.confidence = "likely";
                cutf(why, sizeof why,
                         "%s authenticated to %s with Kerberos, but %s obtained no ticket for %s on the user's "
                         "behalf: no forwarded TGT was used and no S4U2Proxy request was seen, and the onward "
                         "connection to %s failed. The ticket to %s was most likely not delegable "
                         "(no ok-as-delegate / forwardable, or no GSS_C_DELEG_FLAG); a keytab for %s (-k) proves it",
                         x->user, ah, ah, b, b, ah, ah);
                fix = "Configure Kerberos constrained delegation on A's account for B's SPNs (NetBIOS and FQDN "
                      "forms; cifs/ for SMB), or resource-based constrained delegation on B, or unconstrained "
                      "delegation (not recommended); then purge tickets (klist purge) and retry.";
            }
        } else {
            f.confidence = "likely";
            cutf(why, sizeof why, "%s authenticated to %s (%s), and %s's onward connection to %s failed",
                     x->user, ah, x->service, ah, b);
            fix = "Check how A authenticates onward: Basic and CredSSP hand A the password, NTLM and Kerberos "
                  "without delegation do not.";
        }
        char stb[64] = "";
        if (first_y->result == RESULT_FAILURE && first_y->status.space != STATUS_NONE)
            cutf(stb, sizeof stb, " (%s)", status_text(first_y->status, st, sizeof st));
        else if (first_y->use_denied)
            cutf(stb, sizeof stb, " (%s)", status_text(first_y->use_status, st, sizeof st));
        cutf(f.explanation, sizeof f.explanation, "%s. The connection %s -> %s (frame %llu) ran %s%s%s%s%s.", why,
                 ah, b, (unsigned long long)(first_y->f_auth ? first_y->f_auth : first_y->f_first), how,
                 first_y->use_denied ? ": " : "", first_y->use_denied ? first_y->use_name : "",
                 first_y->use_denied ? " was refused" : "", stb);
        cutf(f.remediation, sizeof f.remediation, "%s", fix);
        emit(run, &f);
        if (is_kerberos(x) && !s4u_refused(&ix, x->srv, x->user, x, cfg->hop_window))
            delegation_missing(run, &f, x, ah, b);
    }
    free(byc);
    free(srv_of);
    free(ix.v);
}

/* ---- Kerberos KDC problems ---------------------------------------------------------------------------- */

static bool spn_unknown_err(const struct fsum_kdc *r)
{
    return r->failed && r->error_code == KDC_ERR_S_PRINCIPAL_UNKNOWN && r->kind != KDC_KIND_AS && strchr(r->sname, '/');
}

static int by_sname(const void *a, const void *b)
{
    const struct fsum_kdc *x = *(const struct fsum_kdc *const *)a, *y = *(const struct fsum_kdc *const *)b;
    int c = strcmp(x->sname, y->sname);
    return c ? c : x->id < y->id ? -1 : x->id > y->id;
}

static void kdc_findings(const struct fsum_kdc *k, size_t n, struct frun *run)
{
    /* KDC_ERR_S_PRINCIPAL_UNKNOWN grouped by SPN in O(n log n): one finding per SPN, at the group's first
     * exchange (is_head), whose chain (spn_next) links the retries */
    bool *is_head = calloc(n ? n : 1, sizeof *is_head);
    size_t *spn_next = malloc((n ? n : 1) * sizeof *spn_next);
    const struct fsum_kdc **errs = malloc((n ? n : 1) * sizeof *errs);
    if (!is_head || !spn_next || !errs) {
        free(is_head);
        free(spn_next);
        free(errs);
        return;
    }
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) {
        spn_next[i] = SIZE_MAX;
        if (spn_unknown_err(&k[i]))
            errs[ne++] = &k[i];
    }
    qsort(errs, ne, sizeof *errs, by_sname);
    for (size_t g = 0; g < ne;) {
        size_t e = g + 1;
        while (e < ne && !strcmp(errs[e]->sname, errs[g]->sname))
            e++;
        is_head[errs[g] - k] = true;
        for (size_t m = g; m + 1 < e; m++)
            spn_next[errs[m] - k] = (size_t)(errs[m + 1] - k);
        g = e;
    }
    free(errs);
    for (size_t i = 0; i < n; i++) {
        const struct fsum_kdc *r = &k[i];
        if (decided(run, &r->ts, r->made, r->made)) {
            /* a group's finding (spn_unknown, made at its head) is made again while a member is undecided (what
             * the head makes by itself was written already: the written set drops it) */
            bool all = true;
            for (size_t j = spn_next[i]; is_head[i] && all && j != SIZE_MAX; j = spn_next[j])
                all = decided(run, &k[j].ts, k[j].made, k[j].made);
            if (all)
                continue;
        }
        bool badoption = r->kind == KDC_KIND_S4U2PROXY && r->failed && r->error_code == KDC_ERR_BADOPTION;
        bool not_fwd = r->kind == KDC_KIND_S4U2SELF && !r->failed && r->reply_decrypted &&
                       !(r->reply_flags & TKT_FORWARDABLE);
        if (!badoption && !not_fwd && !(spn_unknown_err(r) && is_head[i]))
            continue; /* none of the findings below: nothing built */
        struct hs_finding f;
        memset(&f, 0, sizeof f);
        add_rec(&f, r->id);
        add_frame(&f, r->f_req);
        add_frame(&f, r->f_rep);
        ip_str(r->af, r->cli, f.client, sizeof f.client);
        if (badoption) {
            f.id = "s4u2proxy_denied";
            f.severity = "high";
            f.confidence = "proven";
            cutf(f.user, sizeof f.user, "%s", r->impersonated);
            cutf(f.title, sizeof f.title, "S4U2Proxy to %s refused for %s", r->sname, r->cname);
            cutf(f.explanation, sizeof f.explanation,
                     "%s asked the KDC (frame %llu) for a ticket to %s on behalf of %s (S4U2Proxy, constrained "
                     "delegation) and got KDC_ERR_BADOPTION (frame %llu): the SPN %s is not in the "
                     "msDS-AllowedToDelegateTo list of %s, or the evidence ticket was not forwardable.",
                     r->cname, (unsigned long long)r->f_req, r->sname, r->impersonated[0] ? r->impersonated : "a user",
                     (unsigned long long)r->f_rep, r->sname, r->cname);
            char fq[128], nb[128], acct[128];
            spn_forms(r->sname, fq, sizeof fq, nb, sizeof nb);
            account_of(r->cname, acct, sizeof acct);
            cutf(f.remediation, sizeof f.remediation,
                     "Add %s and %s (the FQDN and NetBIOS forms; cifs/ for SMB storage) to msDS-AllowedToDelegateTo "
                     "of %s: Active Directory Users and Computers, %s, Delegation tab, 'Trust this user for "
                     "delegation to specified services only' (with 'Use any authentication protocol' for protocol "
                     "transition), or Set-ADUser %s -Add @{'msDS-AllowedToDelegateTo'='%s','%s'}. Or allow it on "
                     "the target instead (resource-based constrained delegation). Then purge tickets on the "
                     "service host (klist purge) or restart the service.",
                     fq, nb, r->cname, acct, acct, fq, nb);
            emit(run, &f);
        } else if (not_fwd) {
            f.id = "s4u2self_not_forwardable";
            f.severity = "medium";
            f.confidence = "proven";
            cutf(f.user, sizeof f.user, "%s", r->impersonated);
            cutf(f.title, sizeof f.title, "S4U2Self ticket for %s is not forwardable", r->impersonated);
            cutf(f.explanation, sizeof f.explanation,
                     "%s obtained a ticket to itself on behalf of %s (S4U2Self, frame %llu), but the ticket "
                     "(decrypted with the service key) is not forwardable, so it cannot serve as evidence for "
                     "S4U2Proxy: constrained delegation with protocol transition is not allowed for this "
                     "account, or the user is sensitive and cannot be delegated.",
                     r->cname, r->impersonated, (unsigned long long)r->f_rep);
            cutf(f.remediation, sizeof f.remediation,
                     "On %s's account choose 'Trust this user for delegation to specified services only' with "
                     "'Use any authentication protocol' (TRUSTED_TO_AUTH_FOR_DELEGATION), and check that %s is "
                     "not in Protected Users or marked 'Account is sensitive and cannot be delegated'.",
                     r->cname, r->impersonated);
            emit(run, &f);
        } else if (spn_unknown_err(r)) {
            /* a service principal (svc/host); a user-to-user request for a user's name is another story */
            /* one finding per SPN: retries of the same request add evidence (grouped by spn_groups()) */
            if (!is_head[i])
                continue;
            for (size_t j = spn_next[i]; j != SIZE_MAX; j = spn_next[j]) {
                add_rec(&f, k[j].id);
                add_frame(&f, k[j].f_rep);
            }
            f.id = "spn_unknown";
            f.severity = "high";
            f.confidence = "proven";
            cutf(f.user, sizeof f.user, "%s", r->cname);
            cutf(f.title, sizeof f.title, "No account has the SPN %s", r->sname);
            cutf(f.explanation, sizeof f.explanation,
                     "The KDC answered the request for a ticket to %s with KDC_ERR_S_PRINCIPAL_UNKNOWN (frame "
                     "%llu): no account in the directory has that service principal name, so Kerberos to it is "
                     "impossible and the client falls back to NTLM or fails.",
                     r->sname, (unsigned long long)r->f_rep);
            cutf(f.remediation, sizeof f.remediation,
                     "Register the SPN on the account that runs the service: setspn -S %s <account> (check the "
                     "host name form the client uses: NetBIOS, FQDN, alias, and any port); look for typos and "
                     "for DNS aliases (CNAME) that resolve to a name without an SPN.",
                     r->sname);
            emit(run, &f);
        }
    }
    free(is_head);
    free(spn_next);
}

/* ---- authentication-level findings --------------------------------------------------------------------- */

static void auth_findings(const struct fsum_auth *a, size_t n, struct frun *run)
{
    for (size_t i = 0; i < n; i++) {
        const struct fsum_auth *r = &a[i];
        if (decided(run, &r->ts, r->made, r->born))
            continue;
        bool spn_wrong = r->krb && (r->krb_error_code == KRB_AP_ERR_MODIFIED ||
                                    (r->result == RESULT_FAILURE && (r->dec_ticket_failed || r->ticket_issued_frame)));
        bool v1 = r->ntlm_version == NTLM_VER_NTLMV1 || r->ntlm_version == NTLM_VER_NTLMV1_ESS ||
                  r->ntlm_version == NTLM_VER_LM;
        /* most records make none of these findings: the finding (3 KB) is not built for them */
        if (!spn_wrong && !(r->ntlm && !r->anonymous && (v1 || r->lm_kind == NTLM_LM_LM)))
            continue;
        char c[48], s[48];
        ip_str(r->af, r->cli, c, sizeof c);
        ip_str(r->af, r->srv, s, sizeof s);
        struct hs_finding f;
        memset(&f, 0, sizeof f);
        cutf(f.client, sizeof f.client, "%s", c);
        cutf(f.first_hop, sizeof f.first_hop, "%s", s);
        cutf(f.user, sizeof f.user, "%s", r->user);
        /* spn_wrong_account: a Kerberos AP-REQ the server refused although the KDC issued the ticket */
        if (spn_wrong) {
            f.id = "spn_wrong_account";
            f.severity = "high";
            f.confidence = r->krb_error_code == KRB_AP_ERR_MODIFIED || r->dec_ticket_failed ? "proven" : "likely";
            evidence_auth(&f, r);
            add_frame(&f, r->ticket_issued_frame);
            cutf(f.title, sizeof f.title, "Ticket for %s rejected by %s", r->krb_spn, s);
            cutf(f.explanation, sizeof f.explanation,
                     "The KDC issued a ticket for %s (frame %llu), encrypted with the key of the account that "
                     "holds that SPN; %s refused it (frame %llu)%s. The service on %s runs under another account "
                     "than the one the SPN is registered on (e.g. HTTP/%s on an application-pool account while "
                     "WinRM runs as the computer), so it cannot decrypt tickets for that name.",
                     r->krb_spn, (unsigned long long)r->ticket_issued_frame, s, (unsigned long long)r->f_verdict,
                     r->krb_error_code == KRB_AP_ERR_MODIFIED ? " with KRB_AP_ERR_MODIFIED"
                     : r->dec_ticket_failed ? "; the service's keytab does not open the ticket either" : "",
                     s, s);
            cutf(f.remediation, sizeof f.remediation,
                     "Find the account holding the SPN (setspn -Q %s) and move the SPN to the account that runs "
                     "the service (setspn -D on the old one, setspn -S on the right one), or run the service (or "
                     "its application pool) under the account that holds it; for WinRM behind IIS, use a "
                     "different host name (a CNAME or the NetBIOS name) for the application pool's SPN.",
                     r->krb_spn);
            emit(run, &f);
            f.nrecords = f.nframes = 0;
        }
        if (!r->ntlm || r->anonymous)
            continue;
        bool lm_key = (r->ntlm_flags & NTLMSSP_NEGOTIATE_LM_KEY) && !(r->ntlm_flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY);
        bool rpc_refused = r->transport == TRANSPORT_DCERPC && r->verdict_source == VERDICT_FIRST_CALL &&
                           r->result == RESULT_FAILURE && r->dcerpc_auth_level >= 5;
        /* "no use followed" is known only once the session is over (streaming: not while it is open) */
        if (lm_key && v1 && (rpc_refused || (r->smb1_unsigned_reply && !r->open))) {
            char st[16], proof[400] = "";
            f.id = "lm_session_key_mismatch";
            f.severity = "high";
            /* With the account's credentials the cause is shown, not inferred: the responses verify (the password
             * is right), and the client's signature fits no key a DC can derive, or the server signed with none. */
            f.confidence = r->creds_verified ? "proven" : "likely";
            evidence_auth(&f, r);
            add_frame(&f, r->f_smb1_unsigned);
            add_frame(&f, r->f_sig);
            if (r->creds_verified && r->f_sig)
                cutf(proof, sizeof proof,
                     " With the account's credentials (--creds) the responses verify, so the password is right; "
                     "the client's first signature (frame %llu) %s%s. The DC %s for the account.",
                     (unsigned long long)r->f_sig, strcmp(r->sig_matched, "none") ? "matches the key " : "",
                     strcmp(r->sig_matched, "none") ? r->sig_matched
                                                    : "matches no key derivable from the account's hashes (neither "
                                                      "MS-NLMP's LM_KEY key nor the NT-hash key)",
                     r->creds_dc_lm ? "keeps an LM hash" : "keeps no LM hash");
            else if (r->creds_verified)
                cutf(proof, sizeof proof,
                     " With the account's credentials (--creds) the responses verify, so the password is right, "
                     "yet the server signed its reply with no key. The DC %s for the account.",
                     r->creds_dc_lm ? "keeps an LM hash" : "keeps no LM hash");
            cutf(f.title, sizeof f.title, "Signed traffic of %s fails after an LM_KEY session", r->user);
            cutf(f.explanation, sizeof f.explanation,
                     "%s authenticated with NTLMv1 and NTLMSSP_NEGOTIATE_LM_KEY (frame %llu): the session key is "
                     "derived from the LM hash (MS-NLMP 3.4.5.1). %s (%s, frame %llu). A domain controller that stores no LM hash (NoLMHash, or a password of 15 "
                     "characters or more) derives a different key, so every signature fails%s",
                     r->user, (unsigned long long)r->f_auth,
                     rpc_refused ? "The first signed call was then refused"
                                 : "The server's SMB1 reply after the logon carried no valid signature and the "
                                   "client abandoned the session",
                     rpc_refused ? status_text(r->status, st, sizeof st) : "placeholder signature",
                     (unsigned long long)(rpc_refused ? r->f_verdict : r->f_smb1_unsigned),
                     proof[0] ? "." : "; credentials (--creds) would prove which key each side used.");
            if (proof[0]) {
                size_t used = strlen(f.explanation);
                cutf(f.explanation + used, sizeof f.explanation - used, "%s", proof);
            }
            cutf(f.remediation, sizeof f.remediation,
                     "Raise LmCompatibilityLevel to 3 or more on the client (Network security: LAN Manager "
                     "authentication level = Send NTLMv2 response only), which stops LM_KEY; or, where old "
                     "systems need it, keep the LM hash (NoLMHash=0) and a password shorter than 15 characters "
                     "(KB828861); better, move the service to Kerberos.");
            emit(run, &f);
            f.nrecords = f.nframes = 0;
        }
        if (r->lm_kind == NTLM_LM_LM) {
            f.id = "lm_response_sent";
            f.severity = "medium";
            f.confidence = "proven";
            add_rec(&f, r->id);
            add_frame(&f, r->f_auth);
            cutf(f.title, sizeof f.title, "LM response sent by %s", r->user);
            cutf(f.explanation, sizeof f.explanation,
                     "The AUTHENTICATE of %s (frame %llu) carries a real LM response (DES of the LM hash, "
                     "MS-NLMP 3.3.1): LmCompatibilityLevel is 0 or 1 on %s. The LM response can be cracked "
                     "quickly, and LM-based session keys break signing when the DC holds no LM hash.",
                     r->user, (unsigned long long)r->f_auth, c);
            cutf(f.remediation, sizeof f.remediation,
                     "Set LmCompatibilityLevel to 3 or more (5 on domain controllers) by Group Policy (Network "
                     "security: LAN Manager authentication level) and NoLMHash=1; change the passwords so no LM "
                     "hash remains.");
            emit(run, &f);
            f.nrecords = f.nframes = 0;
        }
        if (v1) {
            f.id = "ntlmv1_used";
            f.severity = "medium";
            f.confidence = "proven";
            add_rec(&f, r->id);
            add_frame(&f, r->f_auth);
            cutf(f.title, sizeof f.title, "NTLMv1 used by %s", r->user);
            cutf(f.explanation, sizeof f.explanation,
                     "%s authenticated to %s with %s (frame %llu): the NT response is DES of the NT hash, "
                     "crackable and relayable, and without extended session security its session key is weak.",
                     r->user, s, r->ntlm_version == NTLM_VER_LM ? "an LM response only"
                                 : r->ntlm_version == NTLM_VER_NTLMV1_ESS ? "NTLMv1 (with ESS)" : "NTLMv1",
                     (unsigned long long)r->f_auth);
            cutf(f.remediation, sizeof f.remediation,
                     "Set LmCompatibilityLevel to 3 or more on clients and 5 on domain controllers; audit and "
                     "then block NTLMv1 (Network security: Restrict NTLM).");
            emit(run, &f);
            f.nrecords = f.nframes = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct fsum_auth *r = &a[i];
        if (decided(run, &r->ts, r->made, r->born))
            continue;
        if (r->mech != AMECH_BASIC && !(r->mech == AMECH_CREDSSP && r->result == RESULT_SUCCESS))
            continue; /* neither finding below: nothing built */
        struct hs_finding f;
        memset(&f, 0, sizeof f);
        ip_str(r->af, r->cli, f.client, sizeof f.client);
        ip_str(r->af, r->srv, f.first_hop, sizeof f.first_hop);
        cutf(f.user, sizeof f.user, "%s", r->user);
        evidence_auth(&f, r);
        if (r->mech == AMECH_BASIC) {
            f.id = "cleartext_basic_auth";
            f.severity = "high";
            f.confidence = "proven";
            cutf(f.title, sizeof f.title, "HTTP Basic credentials of %s sent in the clear", r->user);
            cutf(f.explanation, sizeof f.explanation,
                     "%s sent HTTP Basic credentials to %s:%u without TLS (frame %llu): the password crosses the "
                     "network in base64, readable by anyone on the path (hopscope never prints it).",
                     f.client, f.first_hop, r->sport, (unsigned long long)r->f_first);
            cutf(f.remediation, sizeof f.remediation,
                     "Use HTTPS, or Negotiate (Kerberos) authentication; on WinRM keep AllowUnencrypted=false and "
                     "Basic disabled.");
            emit(run, &f);
        } else if (r->mech == AMECH_CREDSSP && r->result == RESULT_SUCCESS) {
            f.id = "credssp_delegation";
            f.severity = "medium";
            f.confidence = "proven";
            cutf(f.title, sizeof f.title, "CredSSP hands %s's credentials to %s", r->user[0] ? r->user : "the user",
                     f.first_hop);
            cutf(f.explanation, sizeof f.explanation,
                     "The client authenticated to %s with CredSSP (frame %llu): it delegates the user's plain "
                     "credentials to the server, which can then reach any machine as the user (this solves the "
                     "double hop, but a compromised server gets the password).",
                     f.first_hop, (unsigned long long)r->f_first);
            cutf(f.remediation, sizeof f.remediation,
                     "Prefer Kerberos constrained or resource-based delegation; if CredSSP stays, limit it to "
                     "trusted servers (Allow delegating fresh credentials, WSMan/host list) and disable it after use.");
            emit(run, &f);
        }
    }
}

/* ---- Kerberos that fell back to NTLM ------------------------------------------------------------------ */

#define FALLBACK_WINDOW ((double)FINDINGS_FALLBACK_WINDOW)

/* The refused TGS-REQs for a host-based SPN, by the requesting host and time. */
struct tgs_ref {
    const struct fsum_kdc *p;
    uint32_t host;
    double t;
};

static int by_tgs_host(const void *a, const void *b)
{
    const struct tgs_ref *x = a, *y = b;
    if (x->host != y->host)
        return x->host < y->host ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* Do the first labels of two host names agree ("web" and "web.hoplab.test")? */
static bool same_host_name(const char *a, const char *b)
{
    size_t la = strcspn(a, "."), lb = strcspn(b, ".");
    return la && la == lb && strncasecmp(a, b, la) == 0;
}

/* Is spn_host a name of the server of NTLM authentication x? */
static bool names_server(const struct host_table *ht, const struct fsum_auth *x, const char *spn_host)
{
    char t[HOST_NAME_MAX_LEN];
    hosts_spn_host(x->srv_target, t, sizeof t);
    return same_host_name(spn_host, x->srv_dns) || same_host_name(spn_host, x->srv_nb) ||
           same_host_name(spn_host, t) || same_host_name(spn_host, hosts_name(ht, x->af, x->srv));
}

/*
 * kerberos_fell_back_to_ntlm: a client asked the KDC for a ticket to a service on host S and was refused
 * (KDC_ERR_S_PRINCIPAL_UNKNOWN: no account has the SPN; or another error), then authenticated to S with
 * NTLM within FALLBACK_WINDOW: Negotiate (MS-SPNG) fell back to NTLM, which cannot be delegated.
 */
static void kerberos_fell_back(struct frun *run, const struct fsum_auth *a, size_t n, const struct fsum_kdc *k,
                               size_t nk)
{
    struct tgs_ref *v = malloc((nk ? nk : 1) * sizeof *v);
    if (!v)
        return;
    size_t nv = 0;
    for (size_t i = 0; i < nk; i++)
        if (k[i].kind == KDC_KIND_TGS && k[i].failed && strchr(k[i].sname, '/')) {
            v[nv].p = &k[i];
            v[nv].host = hosts_id(run->ht, k[i].af, k[i].cli);
            v[nv].t = tv_sec(&k[i].ts);
            nv++;
        }
    qsort(v, nv, sizeof *v, by_tgs_host);
    for (size_t i = 0; i < n && nv; i++) {
        const struct fsum_auth *x = &a[i];
        if (!is_ntlm(x) || x->anonymous)
            continue;
        uint32_t h = hosts_id(run->ht, x->af, x->cli);
        double xt = tv_sec(&x->ts);
        /* the last refusal at or before x, then backwards while inside the window */
        size_t lo = 0, hi = nv;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (v[mid].host < h || (v[mid].host == h && v[mid].t <= xt))
                lo = mid + 1;
            else
                hi = mid;
        }
        const struct fsum_kdc *hit = NULL;
        char sh[HOST_NAME_MAX_LEN];
        for (size_t j = lo, seen = 0; j-- > 0 && seen < HOP_SCAN_MAX && v[j].host == h; seen++) {
            if (xt - v[j].t > FALLBACK_WINDOW)
                break;
            hosts_spn_host(v[j].p->sname, sh, sizeof sh);
            if (names_server(run->ht, x, sh)) {
                hit = v[j].p;
                break;
            }
        }
        if (!hit)
            continue;
        struct hs_finding f;
        memset(&f, 0, sizeof f);
        f.anchor = x->id; /* the fallback judged; the refusal it follows may be shared by several */
        add_rec(&f, hit->id);
        add_frame(&f, hit->f_req);
        add_frame(&f, hit->f_rep);
        evidence_auth(&f, x);
        ip_str(x->af, x->cli, f.client, sizeof f.client);
        ip_str(x->af, x->srv, f.first_hop, sizeof f.first_hop);
        cutf(f.user, sizeof f.user, "%s", x->user);
        f.id = "kerberos_fell_back_to_ntlm";
        f.severity = "medium";
        f.confidence = "likely";
        char c[112], srv[112], e[16];
        hosts_label(run->ht, x->af, x->cli, c, sizeof c);
        hosts_label(run->ht, x->af, x->srv, srv, sizeof srv);
        const char *en = krb_error_name(hit->error_code);
        if (!en) {
            cutf(e, sizeof e, "%d", hit->error_code);
            en = e;
        }
        cutf(f.title, sizeof f.title, "Kerberos to %s fell back to NTLM for %s", srv, x->user);
        cutf(f.explanation, sizeof f.explanation,
             "%s asked the KDC for a ticket to %s (frame %llu) and was refused with %s (frame %llu); %llu s later "
             "it authenticated %s to %s with NTLM (%s, frame %llu). Negotiate fell back to NTLM, whose logon "
             "cannot be delegated: any second hop from %s as this user will fail.",
             c, hit->sname, (unsigned long long)hit->f_req, en, (unsigned long long)hit->f_rep,
             (unsigned long long)(xt - tv_sec(&hit->ts)), x->user, srv, x->service,
             (unsigned long long)(x->f_auth ? x->f_auth : x->f_first), srv);
        cutf(f.remediation, sizeof f.remediation,
             "Register the SPN %s on the account that runs the service (setspn -S), once, in the forms clients use "
             "(NetBIOS and FQDN); connect by that name rather than by IP address or an alias without SPN; "
             "check with klist get %s on the client.",
             hit->sname, hit->sname);
        emit(run, &f);
    }
    free(v);
}

void findings_run(const struct findings_cfg *cfg, const struct fsum_auth *a, size_t n_a, const struct fsum_kdc *k,
                  size_t n_k, struct hs_sink *sink)
{
    struct host_table ht;
    hosts_build(&ht, a, n_a, k, n_k); /* without memory: empty, every host is its address */
    struct findings_work own = {0};
    struct findings_work *w = cfg->work ? cfg->work : &own;
    w->sort.held_max = cfg->held_bytes;
    struct frun run = {.sink = sink, .ht = &ht, .sort = &w->sort, .decided_before = cfg->decided_before,
                       .judged_before = cfg->judged_before, .forgotten = cfg->forgotten};
    double_hop(cfg, &ht, a, n_a, k, n_k, &run);
    kdc_findings(k, n_k, &run);
    auth_findings(a, n_a, &run);
    kerberos_fell_back(&run, a, n_a, k, n_k);
    findings_sort_flush(&w->sort, sink);
    findings_work_free(&own);
    hosts_free(&ht);
}

void findings_sorter_free(struct findings_sorter *s)
{
    spill_close(s);
    hugepage_free(s->held, s->cap);
    s->held = NULL;
    s->cap = s->used = s->n = 0;
}

void findings_work_free(struct findings_work *w)
{
    findings_sorter_free(&w->sort);
}
