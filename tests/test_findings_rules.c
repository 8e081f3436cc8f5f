/* The findings rules driven with synthetic record summaries and a recording sink: second hops by window,
 * ordering, delegation that worked, refused S4U2Proxy, chains of three hops, a thousand users. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "findings.h"
#include "ntlmssp.h"
#include "strpool.h"

/* The summaries' strings are pointers, as the correlation stage interns them: the tests' own copies. */
static struct strpool pool;

static const char *keep(const char *s)
{
    return strpool_get(&pool, s, 127);
}

#define MAXF 4096

struct rec_sink {
    struct hs_sink sink;
    struct hs_finding f[MAXF];
    size_t n;
};

static void on_finding(struct hs_sink *self, const struct hs_finding *f)
{
    struct rec_sink *r = (struct rec_sink *)self;
    if (r->n < MAXF)
        r->f[r->n] = *f;
    r->n++;
}

static struct rec_sink *sink_new(void)
{
    struct rec_sink *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->sink.finding = on_finding;
    return r;
}

static void ip4(uint8_t *ip, uint8_t last)
{
    memset(ip, 0, 16);
    ip[0] = 10;
    ip[3] = last;
}

/* A session from host c to host s at time t (seconds) by user, with mechanism m and result res. */
static struct fsum_auth sess(uint64_t id, uint8_t c, uint8_t s, long t, const char *user, enum auth_mech m,
                             enum auth_result res)
{
    struct fsum_auth a;
    fsum_auth_init(&a);
    a.id = id;
    a.af = 4;
    ip4(a.cli, c);
    ip4(a.srv, s);
    a.ts.tv_sec = t;
    a.user = keep(user);
    a.mech = m;
    a.result = res;
    a.ntlm = m == AMECH_NTLM || m == AMECH_NEGOTIATE_NTLM;
    a.ntlm_version = NTLM_VER_NTLMV2;
    a.anonymous = !user[0];
    a.f_first = a.f_auth = id * 10;
    a.f_verdict = id * 10 + 1;
    a.service = "cifs";
    return a;
}

static const struct hs_finding *find(const struct rec_sink *r, const char *id)
{
    for (size_t i = 0; i < r->n && i < MAXF; i++)
        if (!strcmp(r->f[i].id, id))
            return &r->f[i];
    return NULL;
}

static bool cites(const struct hs_finding *f, uint64_t rec)
{
    for (uint32_t i = 0; i < f->nrecords; i++)
        if (f->records[i] == rec)
            return true;
    return false;
}

static const struct findings_cfg cfg = {.hop_window = 600};

static void test_ntlm_first_hop_then_anonymous_denied_is_double_hop(void **state)
{
    (void)state;
    struct fsum_auth a[2] = {sess(1, 30, 20, 100, "HOP\\alice", AMECH_NEGOTIATE_NTLM, RESULT_SUCCESS),
                             sess(2, 20, 10, 105, "", AMECH_NEGOTIATE_NTLM, RESULT_SUCCESS)};
    a[1].use_denied = true;
    a[1].f_use_req = 33;
    a[1].f_use_resp = 34;
    a[1].use_name = "\\\\dc\\netlogon";
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 2, NULL, 0, &r->sink);
    const struct hs_finding *f = find(r, "double_hop_failed");
    assert_non_null(f);
    assert_string_equal(f->confidence, "proven");
    assert_string_equal(f->client, "10.0.0.30");
    assert_string_equal(f->first_hop, "10.0.0.20");
    assert_string_equal(f->second_hop, "10.0.0.10");
    assert_true(cites(f, 1) && cites(f, 2));
    assert_non_null(strstr(f->explanation, "NTLM"));
    assert_non_null(strstr(f->remediation, "msDS-AllowedToDelegateTo"));
    bool has34 = false;
    for (uint32_t i = 0; i < f->nframes; i++)
        has34 |= f->frames[i] == 34;
    assert_true(has34);
    free(r);
}

static void test_onward_outside_window_is_not_a_hop(void **state)
{
    (void)state;
    struct fsum_auth a[2] = {sess(1, 30, 20, 100, "HOP\\alice", AMECH_NTLM, RESULT_SUCCESS),
                             sess(2, 20, 10, 100 + 601, "", AMECH_NTLM, RESULT_FAILURE)};
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 2, NULL, 0, &r->sink);
    assert_null(find(r, "double_hop_failed"));
    /* before the first hop started: not a second hop either */
    a[1].ts.tv_sec = 99;
    r->n = 0;
    findings_run(&cfg, a, 2, NULL, 0, &r->sink);
    assert_null(find(r, "double_hop_failed"));
    free(r);
}

static void test_order_of_summaries_does_not_matter(void **state)
{
    (void)state;
    struct fsum_auth a[2] = {sess(2, 20, 10, 105, "HOP\\web$", AMECH_NTLM, RESULT_FAILURE),
                             sess(1, 30, 20, 100, "HOP\\alice", AMECH_NTLM, RESULT_SUCCESS)};
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 2, NULL, 0, &r->sink);
    assert_non_null(find(r, "double_hop_failed"));
    free(r);
}

static void test_delegation_that_worked_is_not_a_finding(void **state)
{
    (void)state;
    /* A reached B as alice (and also made an unrelated failed attempt): the hop worked */
    struct fsum_auth a[3] = {sess(1, 30, 20, 100, "alice@HOP.TEST", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(2, 20, 10, 101, "alice@HOP.TEST", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(3, 20, 10, 102, "", AMECH_NTLM, RESULT_FAILURE)};
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 3, NULL, 0, &r->sink);
    assert_null(find(r, "double_hop_failed"));
    free(r);
}

static void test_refused_s4u2proxy_without_onward_session(void **state)
{
    (void)state;
    struct fsum_auth a[1] = {sess(1, 30, 20, 100, "alice@HOP.TEST", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS)};
    struct fsum_kdc k[1];
    fsum_kdc_init(&k[0]);
    k[0].id = 7;
    k[0].af = 4;
    ip4(k[0].cli, 20);
    k[0].ts.tv_sec = 102;
    k[0].kind = KDC_KIND_S4U2PROXY;
    k[0].failed = true;
    k[0].error_code = 13;
    k[0].cname = "websvc2@HOP.TEST";
    k[0].sname = "cifs/dc1.hop.test@HOP.TEST";
    k[0].impersonated = "alice@HOP.TEST";
    k[0].f_req = 61;
    k[0].f_rep = 63;
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 1, k, 1, &r->sink);
    const struct hs_finding *f = find(r, "double_hop_failed");
    assert_non_null(f);
    assert_string_equal(f->second_hop, "dc1.hop.test");
    assert_true(cites(f, 1) && cites(f, 7));
    const struct hs_finding *p = find(r, "s4u2proxy_denied");
    assert_non_null(p);
    /* the values msDS-AllowedToDelegateTo takes: both forms, no realm */
    assert_non_null(strstr(p->remediation, "cifs/dc1.hop.test and cifs/DC1"));
    assert_null(strstr(p->remediation, "cifs/dc1.hop.test@"));
    free(r);
}

/* A busy service host refused S4U2Proxy for 5,000 other users in the same minutes, before and after alice's: her
 * refusal is still found (the look-up is by host and account, HOP_SCAN_MAX counts only her refusals), so the
 * finding is the proven s4u2proxy_denied, not a "likely" delegation_missing. */
static void test_refused_s4u2proxy_found_among_other_users_refusals(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct fsum_auth a[1] = {sess(1, 30, 20, 100, "alice@HOP.TEST", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS)};
    struct fsum_kdc *k = calloc(N + 1, sizeof *k);
    assert_non_null(k);
    for (int i = 0; i <= N; i++) {
        char u[32];
        snprintf(u, sizeof u, "user%d@HOP.TEST", i);
        fsum_kdc_init(&k[i]);
        k[i].id = 100 + (uint64_t)i;
        k[i].af = 4;
        ip4(k[i].cli, 20);
        k[i].ts.tv_sec = i < N ? 90 + i % 20 : 150; /* the others from 10 s before the first hop; alice's last */
        k[i].ts.tv_usec = i;
        k[i].kind = KDC_KIND_S4U2PROXY;
        k[i].failed = true;
        k[i].error_code = 13;
        k[i].cname = "websvc2@HOP.TEST";
        k[i].sname = "cifs/dc1.hop.test@HOP.TEST";
        k[i].impersonated = i < N ? keep(u) : "alice@HOP.TEST";
        k[i].f_req = 1000 + 2 * (uint64_t)i;
        k[i].f_rep = 1001 + 2 * (uint64_t)i;
    }
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 1, k, N + 1, &r->sink);
    const struct hs_finding *f = find(r, "double_hop_failed");
    assert_non_null(f);
    assert_true(cites(f, 1) && cites(f, 100 + N));
    assert_non_null(find(r, "s4u2proxy_denied"));
    assert_null(find(r, "delegation_missing"));
    free(r);
    free(k);
}

/* findings_cfg.forgotten: a first hop started before it and seen by an earlier run (born before seen_before) is
 * not judged again, its onward connections being possibly forgotten; one new to the rules (read late) is. */
static void test_judge_from_skips_only_what_was_seen(void **state)
{
    (void)state;
    struct fsum_auth a[2] = {sess(1, 30, 20, 100, "HOP\\alice", AMECH_NTLM, RESULT_SUCCESS),
                             sess(2, 20, 10, 105, "", AMECH_NTLM, RESULT_FAILURE)};
    a[0].born = a[0].made = 5;
    a[1].born = a[1].made = 6;
    struct findings_cfg c = cfg;
    c.forgotten.from = 1000;
    c.forgotten.seen = 9; /* both seen by an earlier run */
    struct rec_sink *r = sink_new();
    findings_run(&c, a, 2, NULL, 0, &r->sink);
    assert_null(find(r, "double_hop_failed"));
    a[0].made = 12; /* changed since (its session ended): still not judged again */
    r->n = 0;
    findings_run(&c, a, 2, NULL, 0, &r->sink);
    assert_null(find(r, "double_hop_failed"));
    a[0].born = 11; /* new to the rules: judged with what is kept */
    r->n = 0;
    findings_run(&c, a, 2, NULL, 0, &r->sink);
    assert_non_null(find(r, "double_hop_failed"));
    a[0].born = 5;
    c.forgotten.epoch = 6; /* born before a clock reset: held to what the old time forgot */
    r->n = 0;
    findings_run(&c, a, 2, NULL, 0, &r->sink);
    assert_non_null(find(r, "double_hop_failed")); /* old_from 0: it had forgotten nothing */
    c.forgotten.old_from = 1000;
    r->n = 0;
    findings_run(&c, a, 2, NULL, 0, &r->sink);
    assert_null(find(r, "double_hop_failed"));
    c.forgotten = (struct findings_forgotten){0, 0, 0, 0}; /* nothing forgotten: judged */
    r->n = 0;
    findings_run(&c, a, 2, NULL, 0, &r->sink);
    assert_non_null(find(r, "double_hop_failed"));
    free(r);
}

static void test_chain_of_three_hops_blames_the_last_hop(void **state)
{
    (void)state;
    /* C -> A by Kerberos, A -> B as alice (delegated), B -> D anonymous and refused */
    struct fsum_auth a[3] = {sess(1, 30, 20, 100, "alice@HOP.TEST", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(2, 20, 10, 101, "alice@HOP.TEST", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(3, 10, 40, 102, "", AMECH_NTLM, RESULT_FAILURE)};
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 3, NULL, 0, &r->sink);
    assert_int_equal(r->n, 2); /* the failed hop, and B's missing delegation behind it */
    assert_non_null(find(r, "delegation_missing"));
    const struct hs_finding *f = find(r, "double_hop_failed");
    assert_non_null(f);
    assert_string_equal(f->client, "10.0.0.20");
    assert_string_equal(f->first_hop, "10.0.0.10");
    assert_string_equal(f->second_hop, "10.0.0.40");
    assert_string_equal(f->confidence, "likely");
    free(r);
}

static void test_a_thousand_users_through_one_server(void **state)
{
    (void)state;
    enum { N = 1000 };
    struct fsum_auth *a = calloc(2 * N, sizeof *a);
    assert_non_null(a);
    for (int i = 0; i < N; i++) {
        char u[32];
        snprintf(u, sizeof u, "HOP\\user%d", i);
        a[i] = sess((uint64_t)i + 1, (uint8_t)(100 + i % 100), 20, 1000 + i, u, AMECH_NTLM, RESULT_SUCCESS);
        a[N + i] = sess((uint64_t)N + i + 1, 20, 10, 1000 + i, "", AMECH_NTLM, RESULT_FAILURE);
    }
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 2 * N, NULL, 0, &r->sink);
    assert_int_equal(r->n, N); /* one per first hop, each citing at most FINDING_EVIDENCE_MAX records */
    /* held packed (records, frames and text back to back) and unpacked: the evidence comes back whole, sorted
     * as emit() left it, naming records of this run */
    size_t full = 0;
    for (size_t i = 0; i < MAXF && i < r->n; i++) {
        const struct hs_finding *f = &r->f[i];
        assert_true(f->nrecords <= FINDING_EVIDENCE_MAX);
        assert_true(f->nframes <= FINDING_EVIDENCE_MAX);
        full += f->nrecords == FINDING_EVIDENCE_MAX;
        for (uint32_t k = 0; k < f->nrecords; k++) {
            assert_true(f->records[k] >= 1 && f->records[k] <= 2 * N);
            if (k)
                assert_true(f->records[k - 1] < f->records[k]);
        }
        for (uint32_t k = 0; k < f->nframes; k++) {
            assert_true(f->frames[k] >= 10 && f->frames[k] <= 2 * N * 10 + 9); /* sess(): frames id * 10 (+ 1) */
            if (k)
                assert_true(f->frames[k - 1] <= f->frames[k]);
        }
        assert_non_null(strstr(f->title, "HOP\\user"));
    }
    assert_true(full > 0);
    free(a);
    free(r);
}

/* The account a hop is made as is compared in any of its forms: DOMAIN\\User on the first hop and
 * user@REALM onward is the same user, and the hop worked; another user's onward session is not. */
static void test_same_account_in_other_forms_is_the_same_user(void **state)
{
    (void)state;
    struct fsum_auth a[3] = {sess(1, 30, 20, 100, "HOP\\Alice", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(2, 20, 10, 101, "alice@HOP.TEST", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(3, 20, 10, 102, "", AMECH_NTLM, RESULT_FAILURE)};
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 3, NULL, 0, &r->sink);
    assert_null(find(r, "double_hop_failed"));
    a[1].user = keep("bob@HOP.TEST");
    r->n = 0;
    findings_run(&cfg, a, 3, NULL, 0, &r->sink);
    assert_non_null(find(r, "double_hop_failed"));
    free(r);
}

/* A sink that checks, as they come, that findings are handed on most severe first and whole. */
struct order_sink {
    struct hs_sink sink;
    size_t n, high, out_of_order, bad_text;
    int last;
};

static int rank_of(const char *s)
{
    return !strcmp(s, "high") ? 0 : !strcmp(s, "medium") ? 1 : !strcmp(s, "low") ? 2 : 3;
}

static void on_ordered(struct hs_sink *self, const struct hs_finding *f)
{
    struct order_sink *o = (struct order_sink *)self;
    int k = rank_of(f->severity);
    o->out_of_order += k < o->last;
    o->last = k;
    o->n++;
    if (!strcmp(f->id, "double_hop_failed")) {
        o->high++;
        /* the texts survive being held: the title names the user the record's id says it is */
        char want[48];
        snprintf(want, sizeof want, "HOP\\user%llu", (unsigned long long)(f->records[0] - 1));
        o->bad_text += !strstr(f->title, want) || !strstr(f->user, want) || !f->explanation[0] ||
                       !f->remediation[0] || strcmp(f->client, "10.0.0.30") != 0;
    }
}

/* n users' first hops from 10.0.0.30 (NTLMv1: medium findings, made first), each followed by a second hop that
 * failed (high), 2n summaries, calloc'd. mixed: the frames of the first hops fall as they go, one in three is
 * NTLMv2, one in two also sent an LM response, and one second hop in two succeeded. */
static struct fsum_auth *first_and_second_hops(int n, bool mixed)
{
    struct fsum_auth *a = calloc(2 * (size_t)n, sizeof *a);
    assert_non_null(a);
    for (int i = 0; i < n; i++) {
        char u[32];
        snprintf(u, sizeof u, "HOP\\user%d", i);
        a[i] = sess((uint64_t)i + 1, 30, (uint8_t)(100 + i % 100), 1000 + 1000 * i, u, AMECH_NTLM,
                    RESULT_SUCCESS);
        a[i].ntlm_version = NTLM_VER_NTLMV1;
        a[n + i] = sess((uint64_t)n + i + 1, (uint8_t)(100 + i % 100), 10, 1001 + 1000 * i, "", AMECH_NTLM,
                        RESULT_FAILURE);
        if (mixed) {
            a[i].f_first = a[i].f_auth = (uint64_t)(n - i) * 10 + 100000;
            a[i].ntlm_version = i % 3 ? NTLM_VER_NTLMV1 : NTLM_VER_NTLMV2;
            if (i % 2)
                a[i].lm_kind = NTLM_LM_LM;
            else
                a[n + i].result = RESULT_SUCCESS;
        }
    }
    return a;
}

/* More findings than were ever held at once before (4,096): every one is still handed on, most severe
 * first, with its texts whole. */
static void test_thousands_of_findings_come_most_severe_first(void **state)
{
    (void)state;
    enum { N = 6000 };
    struct fsum_auth *a = first_and_second_hops(N, false);
    struct order_sink o = {.sink.finding = on_ordered};
    findings_run(&cfg, a, 2 * N, NULL, 0, &o.sink);
    assert_int_equal(o.high, N);
    assert_true(o.n > N);
    assert_int_equal(o.out_of_order, 0);
    assert_int_equal(o.bad_text, 0);
    free(a);
}

/* A sink that keeps a digest of every finding handed on (all its fields), in order. */
struct digest_sink {
    struct hs_sink sink;
    uint64_t *d;
    size_t n, cap;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ull;
    return h;
}

static void on_digest(struct hs_sink *self, const struct hs_finding *f)
{
    struct digest_sink *s = (struct digest_sink *)self;
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, f->id, strlen(f->id));
    h = fnv(h, f->severity, strlen(f->severity));
    h = fnv(h, f->records, f->nrecords * sizeof *f->records);
    h = fnv(h, f->frames, f->nframes * sizeof *f->frames);
    h = fnv(h, f->confidence, strlen(f->confidence));
    h = fnv(h, f->title, strlen(f->title));
    h = fnv(h, f->user, strlen(f->user));
    h = fnv(h, f->client, strlen(f->client));
    h = fnv(h, f->first_hop, strlen(f->first_hop));
    h = fnv(h, f->second_hop, strlen(f->second_hop));
    h = fnv(h, f->client_name, strlen(f->client_name));
    h = fnv(h, f->first_hop_name, strlen(f->first_hop_name));
    h = fnv(h, f->second_hop_name, strlen(f->second_hop_name));
    h = fnv(h, f->explanation, strlen(f->explanation));
    h = fnv(h, f->remediation, strlen(f->remediation));
    if (s->n < s->cap)
        s->d[s->n] = h;
    s->n++;
}

/* pread(2) as the findings see it (linked with --wrap=pread): fails with EIO from the pread_fail_at-th call on
 * (0: never). */
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);
static unsigned pread_calls, pread_fail_at;

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
    if (pread_fail_at && ++pread_calls >= pread_fail_at) {
        errno = EIO;
        return -1;
    }
    return __real_pread(fd, buf, n, off);
}

static uint64_t last_lost; /* what the last digests_of() run lost */

/* The findings of the spill test, run with held_bytes (0: the default) and TMPDIR set to tmpdir (NULL: left
 * as it is), into s (emptied first); returns the sorted runs the rules spilled. */
static uint64_t digests_of(const struct fsum_auth *a, size_t n, size_t held_bytes, const char *tmpdir,
                           struct digest_sink *s)
{
    char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    if (tmpdir)
        setenv("TMPDIR", tmpdir, 1);
    struct findings_work work = {0};
    struct findings_cfg c = cfg;
    c.held_bytes = held_bytes;
    c.work = &work;
    s->n = 0;
    findings_run(&c, a, n, NULL, 0, &s->sink);
    findings_work_free(&work);
    last_lost = work.sort.lost;
    if (old) {
        setenv("TMPDIR", old, 1);
        free(old);
    } else {
        unsetenv("TMPDIR");
    }
    return work.sort.runs_spilled;
}

/* Findings that do not fit the memory held go to a temporary file in sorted runs and are merged: the order is
 * exactly the one holding them all gives, whatever the runs' size, past the cap on runs, and without a file.
 * The rules make them in another order than the sorted one (frames falling, severities mixed), so that handing
 * the runs on one after the other would not pass. (Findings equal in severity, first frame and id would come in
 * qsort's order: glibc's keeps them as made, and so does the merge; there are none here.) */
static void test_findings_spilled_in_runs_come_in_the_same_order(void **state)
{
    (void)state;
    enum { N = 3000 };
    struct fsum_auth *a = first_and_second_hops(N, true);
    struct digest_sink all = {.sink.finding = on_digest, .cap = 4 * N}, part = all;
    all.d = calloc(all.cap, sizeof *all.d);
    part.d = calloc(part.cap, sizeof *part.d);
    assert_non_null(all.d);
    assert_non_null(part.d);
    /* all held at once (64 MiB): no run spilled */
    assert_int_equal(digests_of(a, 2 * N, 64u << 20, NULL, &all), 0);
    assert_true(all.n > N && all.n <= all.cap);
    /* the default, 1 MiB held: a few runs */
    assert_true(digests_of(a, 2 * N, 0, NULL, &part) >= 1);
    assert_int_equal(part.n, all.n);
    assert_memory_equal(part.d, all.d, all.n * sizeof *all.d);
    /* 16 KiB held: runs of a dozen findings, merged */
    assert_true(digests_of(a, 2 * N, 16u << 10, NULL, &part) > 100);
    assert_int_equal(part.n, all.n);
    assert_memory_equal(part.d, all.d, all.n * sizeof *all.d);
    /* one finding a run: past the 1,024 runs the file takes, the rest is held in memory and merged with them */
    assert_int_equal(digests_of(a, 2 * N, 1, NULL, &part), 1024);
    assert_int_equal(part.n, all.n);
    assert_memory_equal(part.d, all.d, all.n * sizeof *all.d);
    /* no temporary file can be made: held in memory (up to 16 MiB), the same order */
    assert_int_equal(digests_of(a, 2 * N, 16u << 10, "/nonexistent/hopscope-test", &part), 0);
    assert_int_equal(part.n, all.n);
    assert_memory_equal(part.d, all.d, all.n * sizeof *all.d);
    assert_int_equal(last_lost, 0);
    /* the file cannot be read back after a few reads: what it holds is lost, and counted, never made up */
    pread_calls = 0;
    pread_fail_at = 20;
    uint64_t runs = digests_of(a, 2 * N, 16u << 10, NULL, &part);
    pread_fail_at = 0;
    assert_true(runs > 100);
    assert_true(last_lost > 0);
    assert_int_equal(part.n + last_lost, all.n);
    free(all.d);
    free(part.d);
    free(a);
}

static void test_ntlmv1_lm_and_lm_key_failure(void **state)
{
    (void)state;
    struct fsum_auth a[2] = {sess(1, 30, 10, 100, "HOP\\alice", AMECH_NTLM, RESULT_FAILURE),
                             sess(2, 30, 10, 200, "HOP\\bob", AMECH_NTLM, RESULT_SUCCESS)};
    a[0].ntlm_version = NTLM_VER_NTLMV1;
    a[0].lm_kind = NTLM_LM_LM;
    a[0].ntlm_flags = NTLMSSP_NEGOTIATE_LM_KEY | NTLMSSP_NEGOTIATE_SIGN;
    a[0].transport = TRANSPORT_DCERPC;
    a[0].verdict_source = VERDICT_FIRST_CALL;
    a[0].dcerpc_auth_level = 5;
    a[0].status = hs_status_of(STATUS_NCA, 0x721);
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 2, NULL, 0, &r->sink);
    assert_non_null(find(r, "lm_session_key_mismatch"));
    assert_non_null(find(r, "lm_response_sent"));
    assert_non_null(find(r, "ntlmv1_used"));
    assert_int_equal(r->n, 3); /* bob's NTLMv2 raises nothing */
    /* with ESS, LM_KEY does not apply */
    a[0].ntlm_flags |= NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY;
    r->n = 0;
    findings_run(&cfg, a, 2, NULL, 0, &r->sink);
    assert_null(find(r, "lm_session_key_mismatch"));
    free(r);
}


/* A refused TGS-REQ by host c at time t for SPN sname. */
static struct fsum_kdc tgs_refused(uint64_t id, uint8_t c, long t, const char *sname, int32_t err)
{
    struct fsum_kdc k;
    fsum_kdc_init(&k);
    k.id = id;
    k.af = 4;
    ip4(k.cli, c);
    k.ts.tv_sec = t;
    k.kind = KDC_KIND_TGS;
    k.failed = true;
    k.error_code = err;
    k.cname = "alice@HOP.TEST";
    k.sname = keep(sname);
    k.f_req = id * 10;
    k.f_rep = id * 10 + 1;
    return k;
}

static void test_refused_ticket_then_ntlm_to_that_host_is_a_fallback(void **state)
{
    (void)state;
    struct fsum_auth a[1] = {sess(1, 30, 20, 100, "HOP\\alice", AMECH_NEGOTIATE_NTLM, RESULT_SUCCESS)};
    a[0].srv_dns = "web.hop.test";
    struct fsum_kdc k[1] = {tgs_refused(7, 30, 99, "HTTP/web.hop.test@HOP.TEST", 7)};
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 1, k, 1, &r->sink);
    const struct hs_finding *f = find(r, "kerberos_fell_back_to_ntlm");
    assert_non_null(f);
    assert_true(cites(f, 1) && cites(f, 7));
    assert_non_null(strstr(f->explanation, "KDC_ERR_S_PRINCIPAL_UNKNOWN"));
    assert_non_null(strstr(f->remediation, "HTTP/web.hop.test@HOP.TEST"));
    assert_string_equal(f->first_hop_name, "web.hop.test");
    /* another host's SPN, a refusal after the NTLM logon, or one long before it: no fallback */
    const char *other[] = {"HTTP/mail.hop.test@HOP.TEST"};
    k[0] = tgs_refused(7, 30, 99, other[0], 7);
    r->n = 0;
    findings_run(&cfg, a, 1, k, 1, &r->sink);
    assert_null(find(r, "kerberos_fell_back_to_ntlm"));
    k[0] = tgs_refused(7, 30, 101, "HTTP/web.hop.test@HOP.TEST", 7);
    r->n = 0;
    findings_run(&cfg, a, 1, k, 1, &r->sink);
    assert_null(find(r, "kerberos_fell_back_to_ntlm"));
    k[0] = tgs_refused(7, 30, 100 - 121, "HTTP/web.hop.test@HOP.TEST", 7);
    r->n = 0;
    findings_run(&cfg, a, 1, k, 1, &r->sink);
    assert_null(find(r, "kerberos_fell_back_to_ntlm"));
    free(r);
}

static void test_kerberos_hop_without_delegation_names_delegation_missing(void **state)
{
    (void)state;
    struct fsum_auth a[2] = {sess(1, 30, 20, 100, "alice@HOP.TEST", AMECH_NEGOTIATE_KERBEROS, RESULT_SUCCESS),
                             sess(2, 20, 10, 105, "", AMECH_NEGOTIATE_NTLM, RESULT_SUCCESS)};
    a[0].krb = true;
    a[0].dec_auth = true; /* the authenticator was read: no DELEG flag, no forwarded TGT */
    a[1].use_denied = true;
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 2, NULL, 0, &r->sink);
    assert_non_null(find(r, "double_hop_failed"));
    const struct hs_finding *f = find(r, "delegation_missing");
    assert_non_null(f);
    assert_string_equal(f->confidence, "proven");
    assert_true(cites(f, 1) && cites(f, 2));
    assert_non_null(strstr(f->remediation, "msDS-AllowedToDelegateTo"));
    /* an NTLM first hop has nothing to delegate: double hop, but not "delegation missing" */
    a[0] = sess(1, 30, 20, 100, "HOP\\alice", AMECH_NEGOTIATE_NTLM, RESULT_SUCCESS);
    r->n = 0;
    findings_run(&cfg, a, 2, NULL, 0, &r->sink);
    assert_non_null(find(r, "double_hop_failed"));
    assert_null(find(r, "delegation_missing"));
    free(r);
}

static void test_two_addresses_of_one_server_are_one_host(void **state)
{
    (void)state;
    /* C -> A on 10.0.0.20; A connects onward from its other address 10.0.0.21. A's CHALLENGEs (server-
     * asserted names) say both addresses are web.hop.test. */
    struct fsum_auth a[3] = {sess(1, 30, 20, 100, "HOP\\alice", AMECH_NEGOTIATE_NTLM, RESULT_SUCCESS),
                             sess(2, 21, 10, 105, "", AMECH_NEGOTIATE_NTLM, RESULT_SUCCESS),
                             sess(3, 40, 21, 50, "HOP\\bob", AMECH_NEGOTIATE_NTLM, RESULT_FAILURE)};
    a[0].srv_dns = "web.hop.test";
    a[2].srv_dns = "WEB.hop.test";
    a[1].use_denied = true;
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 3, NULL, 0, &r->sink);
    const struct hs_finding *f = find(r, "double_hop_failed");
    assert_non_null(f);
    assert_string_equal(f->first_hop_name, "web.hop.test");
    assert_non_null(strstr(f->title, "web.hop.test (10.0.0.20)"));
    /* a client that names itself after the server (Workstation "WEB") merges nothing and is not called so */
    a[2].srv_dns = keep("");
    a[1].cli_workstation = "WEB";
    r->n = 0;
    findings_run(&cfg, a, 3, NULL, 0, &r->sink);
    assert_null(find(r, "double_hop_failed"));
    free(r);
}

/* With --creds the same evidence plus verified responses is proof; the signature's frame is evidence. */
static void test_lm_key_failure_with_credentials_is_proven(void **state)
{
    (void)state;
    struct fsum_auth a[1] = {sess(1, 30, 10, 100, "HOP\\alice", AMECH_NTLM, RESULT_FAILURE)};
    a[0].ntlm_version = NTLM_VER_NTLMV1;
    a[0].lm_kind = NTLM_LM_LM;
    a[0].ntlm_flags = NTLMSSP_NEGOTIATE_LM_KEY | NTLMSSP_NEGOTIATE_SIGN;
    a[0].transport = TRANSPORT_DCERPC;
    a[0].verdict_source = VERDICT_FIRST_CALL;
    a[0].dcerpc_auth_level = 5;
    a[0].status = hs_status_of(STATUS_NCA, 0x721);
    struct rec_sink *r = sink_new();
    findings_run(&cfg, a, 1, NULL, 0, &r->sink);
    const struct hs_finding *f = find(r, "lm_session_key_mismatch");
    assert_non_null(f);
    assert_string_equal(f->confidence, "likely");
    a[0].creds_verified = true;
    a[0].f_sig = 21;
    a[0].sig_matched = "none";
    r->n = 0;
    findings_run(&cfg, a, 1, NULL, 0, &r->sink);
    f = find(r, "lm_session_key_mismatch");
    assert_non_null(f);
    assert_string_equal(f->confidence, "proven");
    bool has21 = false;
    for (uint32_t i = 0; i < f->nframes; i++)
        has21 |= f->frames[i] == 21;
    assert_true(has21);
    assert_non_null(strstr(f->explanation, "matches no key derivable"));
    /* a wrong password (responses not verified) proves nothing more than the wire shows */
    a[0].creds_verified = false;
    r->n = 0;
    findings_run(&cfg, a, 1, NULL, 0, &r->sink);
    assert_string_equal(find(r, "lm_session_key_mismatch")->confidence, "likely");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntlm_first_hop_then_anonymous_denied_is_double_hop),
        cmocka_unit_test(test_onward_outside_window_is_not_a_hop),
        cmocka_unit_test(test_order_of_summaries_does_not_matter),
        cmocka_unit_test(test_delegation_that_worked_is_not_a_finding),
        cmocka_unit_test(test_refused_s4u2proxy_without_onward_session),
        cmocka_unit_test(test_refused_s4u2proxy_found_among_other_users_refusals),
        cmocka_unit_test(test_judge_from_skips_only_what_was_seen),
        cmocka_unit_test(test_chain_of_three_hops_blames_the_last_hop),
        cmocka_unit_test(test_a_thousand_users_through_one_server),
        cmocka_unit_test(test_ntlmv1_lm_and_lm_key_failure),
        cmocka_unit_test(test_same_account_in_other_forms_is_the_same_user),
        cmocka_unit_test(test_thousands_of_findings_come_most_severe_first),
        cmocka_unit_test(test_findings_spilled_in_runs_come_in_the_same_order),
        cmocka_unit_test(test_refused_ticket_then_ntlm_to_that_host_is_a_fallback),
        cmocka_unit_test(test_kerberos_hop_without_delegation_names_delegation_missing),
        cmocka_unit_test(test_two_addresses_of_one_server_are_one_host),
        cmocka_unit_test(test_lm_key_failure_with_credentials_is_proven),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    strpool_free(&pool);
    return rc;
}
