/*
 * Unit tests for the correlation stage (src/correlate/): ticket linking across records (RFC 4120 3.1.3 and
 * 3.3.3, MS-SFU 3.2.5, RFC 6113 5.4.3 FAST's anonymous reply cname). Records are built by hand and handed to
 * the stage with sink_record(); a recording sink after it copies what reaches it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "ntlmssp.h"

#define REALM "HOP.TEST"
#define ANON_NAME "WELLKNOWN/ANONYMOUS"
#define ANON_REALM "WELLKNOWN:ANONYMOUS"

/* ---- a recording sink ------------------------------------------------------------------------------ */

struct seen {
    const struct rec_hdr *ptr;
    uint64_t id;
    enum rec_type type;
    char ticket_client[256]; /* auth: gss.krb.ticket; kerberos: the issued ticket */
    uint64_t ticket_issued;
    char tgt_client[256];
    uint64_t tgt_issued;
    char addl0_client[256];
    uint64_t addl0_issued;
};

struct recorder {
    struct hs_sink sink; /* first: the chain calls back with this pointer */
    struct seen *seen;
    size_t n, cap;
    int stats_calls, end_calls;
    char findings[16][40]; /* ids of the first findings */
    int nfindings;
};

static void copy_ref(char *client, uint64_t *issued, const struct kdc_ticket_ref *t)
{
    memcpy(client, t->client, sizeof t->client);
    *issued = t->issued_frame;
}

static void on_record(struct hs_sink *self, struct rec_hdr *r)
{
    struct recorder *o = (struct recorder *)self;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 64;
        o->seen = realloc(o->seen, o->cap * sizeof *o->seen);
        assert_non_null(o->seen);
    }
    struct seen *s = &o->seen[o->n++];
    memset(s, 0, sizeof *s);
    s->ptr = r;
    s->id = r->id;
    s->type = r->type;
    if (r->type == REC_AUTH) {
        copy_ref(s->ticket_client, &s->ticket_issued, &((const struct auth_rec *)r)->gss.krb.ticket);
    } else {
        const struct kdc_rec *k = (const struct kdc_rec *)r;
        copy_ref(s->ticket_client, &s->ticket_issued, &k->ticket);
        copy_ref(s->tgt_client, &s->tgt_issued, &k->tgt);
        copy_ref(s->addl0_client, &s->addl0_issued, &k->addl[0]);
    }
}

static void on_stats(struct hs_sink *self, const struct hs_stats_view *v)
{
    (void)v;
    ((struct recorder *)self)->stats_calls++;
}

static void on_finding(struct hs_sink *self, const struct hs_finding *f)
{
    struct recorder *o = (struct recorder *)self;
    if (o->nfindings < 16)
        snprintf(o->findings[o->nfindings], sizeof o->findings[0], "%s", f->id);
    o->nfindings++;
}

static bool found(const struct recorder *o, const char *id)
{
    for (int i = 0; i < o->nfindings && i < 16; i++)
        if (!strcmp(o->findings[i], id))
            return true;
    return false;
}

static void on_end(struct hs_sink *self)
{
    ((struct recorder *)self)->end_calls++;
}

struct fx {
    struct recorder out;
    struct hs_correlate *corr;
    uint64_t next_id;
};

static int fx_setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->out.sink.record = on_record;
    x->out.sink.stats = on_stats;
    x->out.sink.end = on_end;
    x->out.sink.finding = on_finding;
    x->corr = correlate_new(&x->out.sink);
    assert_non_null(x->corr);
    x->next_id = 1;
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *x = *state;
    correlate_free(x->corr);
    free(x->out.seen);
    free(x);
    return 0;
}

static const struct seen *last(const struct fx *x)
{
    assert_true(x->out.n > 0);
    return &x->out.seen[x->out.n - 1];
}

/* ---- records by hand ------------------------------------------------------------------------------ */

static void digest(char out[33], unsigned tag, unsigned i)
{
    snprintf(out, 33, "%08x%024x", tag, i);
}

/* A KDC exchange of kind `kind` whose reply (in frame `frame`) issued ticket `dig` for sname, to cname. */
static struct kdc_rec *kdc_reply(struct fx *x, enum kdc_kind kind, const char *cname, const char *crealm,
                                 const char *dig, const char *sname, uint64_t frame)
{
    struct kdc_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->h.id = x->next_id++;
    r->h.type = REC_KERBEROS;
    r->kind = kind;
    r->req_type = kind == KDC_KIND_AS ? KRB_AS_REQ : KRB_TGS_REQ;
    r->rep_type = kind == KDC_KIND_AS ? KRB_AS_REP : KRB_TGS_REP;
    r->frame_req = frame - 1;
    r->frame_rep = frame;
    if (kind == KDC_KIND_AS) {
        snprintf(r->cname, sizeof r->cname, "%s", cname);
        snprintf(r->crealm, sizeof r->crealm, "%s", crealm);
    }
    snprintf(r->rep_cname, sizeof r->rep_cname, "%s", cname);
    snprintf(r->rep_crealm, sizeof r->rep_crealm, "%s", crealm);
    snprintf(r->sname, sizeof r->sname, "%s", sname);
    snprintf(r->realm, sizeof r->realm, "%s", REALM);
    r->has_ticket = true;
    snprintf(r->ticket.digest, sizeof r->ticket.digest, "%s", dig);
    snprintf(r->ticket.sname, sizeof r->ticket.sname, "%s@%s", sname, REALM);
    r->ticket.issued_frame = frame;
    return r;
}

/* The same, a TGS exchange that presented the TGT `tgt`. */
static struct kdc_rec *tgs_reply(struct fx *x, enum kdc_kind kind, const char *tgt, const char *cname,
                                 const char *crealm, const char *dig, const char *sname, uint64_t frame)
{
    struct kdc_rec *r = kdc_reply(x, kind, cname, crealm, dig, sname, frame);
    r->has_tgt = true;
    snprintf(r->tgt.digest, sizeof r->tgt.digest, "%s", tgt);
    snprintf(r->tgt.sname, sizeof r->tgt.sname, "krbtgt/%s@%s", REALM, REALM);
    return r;
}

/* An authentication record whose AP-REQ (when ap_req) carried ticket `dig`. */
static struct auth_rec *auth_with_ticket(struct fx *x, const char *dig, bool ap_req)
{
    struct auth_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->h.id = x->next_id++;
    r->h.type = REC_AUTH;
    r->gss.mech = AMECH_NEGOTIATE_KERBEROS;
    r->gss.krb.ap_req = ap_req;
    snprintf(r->gss.krb.ticket.digest, sizeof r->gss.krb.ticket.digest, "%s", dig);
    return r;
}

/* Hands r to the stage, then frees it (a record is the record layer's, valid for the call only). */
static void pass(struct fx *x, struct rec_hdr *r)
{
    size_t n = x->out.n;
    sink_record(&x->corr->sink, r);
    assert_int_equal(x->out.n, n + 1);
    assert_ptr_equal(last(x)->ptr, r);
    free(r);
}

/* ---- plain replies ------------------------------------------------------------------------------- */

static void test_corr_tgs_rep_ticket_named_for_reply_client(void **state)
{
    struct fx *x = *state;
    char d1[33];
    digest(d1, 1, 1);
    pass(x, &kdc_reply(x, KDC_KIND_TGS, "alice", REALM, d1, "cifs/srv1.hop.test", 10)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    assert_int_equal(last(x)->ticket_issued, 10);
    const struct ticket_info *ti = tickets_get(&x->corr->tickets, d1);
    assert_non_null(ti);
    assert_string_equal(ti->client, "alice@" REALM);
    assert_string_equal(ti->sname, "cifs/srv1.hop.test@" REALM);
    assert_int_equal(ti->frame, 10);
    assert_string_equal(ti->kind, "tgs");
    /* An AP-REQ with that ticket, later and on another connection, is named by it. */
    pass(x, &auth_with_ticket(x, d1, true)->h);
    assert_int_equal(last(x)->type, REC_AUTH);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    assert_int_equal(last(x)->ticket_issued, 10);
}

static void test_corr_ticket_digest_without_ap_req_not_resolved(void **state)
{
    struct fx *x = *state;
    char d1[33];
    digest(d1, 1, 1);
    pass(x, &kdc_reply(x, KDC_KIND_TGS, "alice", REALM, d1, "cifs/srv1.hop.test", 10)->h);
    pass(x, &auth_with_ticket(x, d1, false)->h);
    assert_string_equal(last(x)->ticket_client, "");
    assert_int_equal(last(x)->ticket_issued, 0);
}

static void test_corr_unknown_digest_leaves_client_empty(void **state)
{
    struct fx *x = *state;
    char d1[33], unknown[33];
    digest(d1, 1, 1);
    digest(unknown, 9, 9);
    pass(x, &kdc_reply(x, KDC_KIND_TGS, "alice", REALM, d1, "cifs/srv1.hop.test", 10)->h);
    pass(x, &auth_with_ticket(x, unknown, true)->h);
    assert_string_equal(last(x)->ticket_client, "");
    assert_int_equal(last(x)->ticket_issued, 0);
    /* A TGS-REQ whose TGT was issued out of sight: its tgt is not named, a clear reply still names its ticket. */
    char d2[33];
    digest(d2, 1, 2);
    pass(x, &tgs_reply(x, KDC_KIND_TGS, unknown, "bob", REALM, d2, "http/web.hop.test", 20)->h);
    assert_string_equal(last(x)->tgt_client, "");
    assert_int_equal(last(x)->tgt_issued, 0);
    assert_string_equal(last(x)->ticket_client, "bob@" REALM);
    /* Behind FAST the same leaves the ticket unnamed. */
    char d3[33];
    digest(d3, 1, 3);
    pass(x, &tgs_reply(x, KDC_KIND_TGS, unknown, ANON_NAME, ANON_REALM, d3, "http/web.hop.test", 30)->h);
    assert_string_equal(last(x)->ticket_client, "");
    pass(x, &auth_with_ticket(x, d3, true)->h);
    assert_string_equal(last(x)->ticket_client, "");
    /* An empty digest is never looked up (nor matches another empty one). */
    pass(x, &auth_with_ticket(x, "", true)->h);
    assert_string_equal(last(x)->ticket_client, "");
}

static void test_corr_first_reply_for_digest_wins(void **state)
{
    struct fx *x = *state;
    char d1[33];
    digest(d1, 1, 1);
    pass(x, &kdc_reply(x, KDC_KIND_TGS, "alice", REALM, d1, "cifs/srv1.hop.test", 10)->h);
    /* The same ticket in a later reply naming someone else: a copy, or a forgery around a seen ticket. */
    pass(x, &kdc_reply(x, KDC_KIND_TGS, "mallory", REALM, d1, "cifs/srv1.hop.test", 20)->h);
    pass(x, &auth_with_ticket(x, d1, true)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    assert_int_equal(last(x)->ticket_issued, 10);
    assert_int_equal(x->corr->tickets.n, 1);
}

/* ---- FAST: the reply's cname is the anonymous principal ------------------------------------------- */

static void test_corr_fast_tgs_names_tgt_holder(void **state)
{
    struct fx *x = *state;
    char tgt[33], svc[33];
    digest(tgt, 2, 1);
    digest(svc, 2, 2);
    pass(x, &kdc_reply(x, KDC_KIND_AS, "alice", REALM, tgt, "krbtgt/" REALM, 4)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    pass(x, &tgs_reply(x, KDC_KIND_TGS, tgt, ANON_NAME, ANON_REALM, svc, "cifs/srv1.hop.test", 8)->h);
    assert_string_equal(last(x)->tgt_client, "alice@" REALM);
    assert_int_equal(last(x)->tgt_issued, 4);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    assert_int_equal(last(x)->ticket_issued, 8);
    pass(x, &auth_with_ticket(x, svc, true)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    assert_int_equal(last(x)->ticket_issued, 8);
    /* Only both halves make the anonymous principal: a reply naming "WELLKNOWN/ANONYMOUS" in a real realm
     * is taken at its word. */
    char other[33];
    digest(other, 2, 3);
    pass(x, &tgs_reply(x, KDC_KIND_TGS, tgt, ANON_NAME, REALM, other, "cifs/srv2.hop.test", 9)->h);
    assert_string_equal(last(x)->ticket_client, ANON_NAME "@" REALM);
}

static void test_corr_fast_s4u2self_names_for_user(void **state)
{
    struct fx *x = *state;
    char svc_tgt[33], s4u[33];
    digest(svc_tgt, 3, 1);
    digest(s4u, 3, 2);
    pass(x, &kdc_reply(x, KDC_KIND_AS, "websvc", REALM, svc_tgt, "krbtgt/" REALM, 3)->h);
    struct kdc_rec *r = tgs_reply(x, KDC_KIND_S4U2SELF, svc_tgt, ANON_NAME, ANON_REALM, s4u, "websvc", 7);
    snprintf(r->for_user, sizeof r->for_user, "alice");
    snprintf(r->for_user_realm, sizeof r->for_user_realm, REALM);
    pass(x, &r->h);
    assert_string_equal(last(x)->tgt_client, "websvc@" REALM); /* who asked */
    assert_string_equal(last(x)->ticket_client, "alice@" REALM); /* whom the ticket is for */
    pass(x, &auth_with_ticket(x, s4u, true)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    assert_int_equal(last(x)->ticket_issued, 7);
}

static void test_corr_fast_s4u2proxy_names_evidence_holder(void **state)
{
    struct fx *x = *state;
    char svc_tgt[33], evidence[33], proxy[33];
    digest(svc_tgt, 4, 1);
    digest(evidence, 4, 2);
    digest(proxy, 4, 3);
    pass(x, &kdc_reply(x, KDC_KIND_AS, "websvc", REALM, svc_tgt, "krbtgt/" REALM, 3)->h);
    /* The evidence ticket: alice's service ticket to websvc, from a clear reply. */
    pass(x, &kdc_reply(x, KDC_KIND_TGS, "alice", REALM, evidence, "websvc", 5)->h);
    struct kdc_rec *r = tgs_reply(x, KDC_KIND_S4U2PROXY, svc_tgt, ANON_NAME, ANON_REALM, proxy,
                                  "cifs/files.hop.test", 9);
    r->n_addl = 1;
    snprintf(r->addl[0].digest, sizeof r->addl[0].digest, "%s", evidence);
    pass(x, &r->h);
    assert_string_equal(last(x)->tgt_client, "websvc@" REALM);
    assert_string_equal(last(x)->addl0_client, "alice@" REALM);
    assert_int_equal(last(x)->addl0_issued, 5);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    pass(x, &auth_with_ticket(x, proxy, true)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    assert_int_equal(last(x)->ticket_issued, 9);
}

/* ---- the stage passes everything on ---------------------------------------------------------------- */

static void test_corr_passes_records_on_in_order_otherwise_unchanged(void **state)
{
    struct fx *x = *state;
    char tgt[33], svc[33];
    digest(tgt, 5, 1);
    digest(svc, 5, 2);
    struct kdc_rec *as = kdc_reply(x, KDC_KIND_AS, "alice", REALM, tgt, "krbtgt/" REALM, 2);
    as->n_etypes = 2, as->etypes[0] = 18, as->etypes[1] = 23;
    as->nonce = 0x1234;
    struct kdc_rec *tgs = tgs_reply(x, KDC_KIND_TGS, tgt, ANON_NAME, ANON_REALM, svc, "cifs/srv1.hop.test", 6);
    struct kdc_rec *err = calloc(1, sizeof *err); /* a KRB-ERROR: nothing to link */
    assert_non_null(err);
    err->h.id = x->next_id++;
    err->h.type = REC_KERBEROS;
    err->rep_type = KRB_ERROR;
    err->error_code = 25;
    struct auth_rec *ntlm = calloc(1, sizeof *ntlm); /* NTLM: nothing to link */
    assert_non_null(ntlm);
    ntlm->h.id = x->next_id++;
    ntlm->h.type = REC_AUTH;
    ntlm->gss.mech = AMECH_NTLM;
    ntlm->result = RESULT_SUCCESS;
    struct auth_rec *ap = auth_with_ticket(x, svc, true);
    ap->frames.ap_req = 11;
    struct rec_hdr *in[] = {&as->h, &tgs->h, &err->h, &ntlm->h, &ap->h};
    /* What each should look like afterwards: the same bytes, but for the clients and frames filled in. */
    struct kdc_rec *want_as = malloc(sizeof *want_as), *want_tgs = malloc(sizeof *want_tgs),
                   *want_err = malloc(sizeof *want_err);
    struct auth_rec *want_ntlm = malloc(sizeof *want_ntlm), *want_ap = malloc(sizeof *want_ap);
    assert_true(want_as && want_tgs && want_err && want_ntlm && want_ap);
    memcpy(want_as, as, sizeof *as);
    memcpy(want_tgs, tgs, sizeof *tgs);
    memcpy(want_err, err, sizeof *err);
    memcpy(want_ntlm, ntlm, sizeof *ntlm);
    memcpy(want_ap, ap, sizeof *ap);
    strcpy(want_as->ticket.client, "alice@" REALM);
    strcpy(want_tgs->tgt.client, "alice@" REALM);
    want_tgs->tgt.issued_frame = 2;
    strcpy(want_tgs->ticket.client, "alice@" REALM);
    strcpy(want_ap->gss.krb.ticket.client, "alice@" REALM);
    want_ap->gss.krb.ticket.issued_frame = 6;
    for (size_t i = 0; i < 5; i++)
        sink_record(&x->corr->sink, in[i]);
    assert_int_equal(x->out.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_ptr_equal(x->out.seen[i].ptr, in[i]);
        assert_int_equal(x->out.seen[i].id, in[i]->id);
    }
    assert_memory_equal(as, want_as, sizeof *as);
    assert_memory_equal(tgs, want_tgs, sizeof *tgs);
    assert_memory_equal(err, want_err, sizeof *err);
    assert_memory_equal(ntlm, want_ntlm, sizeof *ntlm);
    assert_memory_equal(ap, want_ap, sizeof *ap);
    free(want_as), free(want_tgs), free(want_err), free(want_ntlm), free(want_ap);
    free(as), free(tgs), free(err), free(ntlm), free(ap);
}

static void test_corr_passes_stats_and_end_on(void **state)
{
    struct fx *x = *state;
    struct hs_stats st;
    memset(&st, 0, sizeof st);
    struct hs_stats_view v = {.st = &st};
    sink_stats(&x->corr->sink, &v);
    sink_end(&x->corr->sink);
    assert_int_equal(x->out.stats_calls, 1);
    assert_int_equal(x->out.end_calls, 1);
}

/* ---- chains and scale ------------------------------------------------------------------------------- */

static void test_corr_three_hop_delegation_chain_names_alice(void **state)
{
    struct fx *x = *state;
    char alice_tgt[33], to_a[33], a_tgt[33], self_tkt[33], proxy_tkt[33];
    digest(alice_tgt, 6, 1);
    digest(to_a, 6, 2);
    digest(a_tgt, 6, 3);
    digest(self_tkt, 6, 4);
    digest(proxy_tkt, 6, 5);
    /* alice logs on, and asks (behind FAST) for a ticket to service A, which she uses. */
    pass(x, &kdc_reply(x, KDC_KIND_AS, "alice", REALM, alice_tgt, "krbtgt/" REALM, 10)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    pass(x, &tgs_reply(x, KDC_KIND_TGS, alice_tgt, ANON_NAME, ANON_REALM, to_a, "http/a.hop.test", 20)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    pass(x, &auth_with_ticket(x, to_a, true)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    /* Service A, with its own TGT, gets a ticket to itself for alice (S4U2Self)... */
    pass(x, &kdc_reply(x, KDC_KIND_AS, "svc_a", REALM, a_tgt, "krbtgt/" REALM, 30)->h);
    struct kdc_rec *self = tgs_reply(x, KDC_KIND_S4U2SELF, a_tgt, ANON_NAME, ANON_REALM, self_tkt, "svc_a", 40);
    snprintf(self->for_user, sizeof self->for_user, "alice");
    snprintf(self->for_user_realm, sizeof self->for_user_realm, REALM);
    pass(x, &self->h);
    assert_string_equal(last(x)->tgt_client, "svc_a@" REALM);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    /* ...uses it as evidence for a ticket to B (S4U2Proxy)... */
    struct kdc_rec *proxy = tgs_reply(x, KDC_KIND_S4U2PROXY, a_tgt, ANON_NAME, ANON_REALM, proxy_tkt,
                                      "cifs/b.hop.test", 50);
    proxy->n_addl = 1;
    snprintf(proxy->addl[0].digest, sizeof proxy->addl[0].digest, "%s", self_tkt);
    pass(x, &proxy->h);
    assert_string_equal(last(x)->tgt_client, "svc_a@" REALM);
    assert_string_equal(last(x)->addl0_client, "alice@" REALM);
    assert_int_equal(last(x)->addl0_issued, 40);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    /* ...and reaches B as alice. */
    pass(x, &auth_with_ticket(x, proxy_tkt, true)->h);
    assert_string_equal(last(x)->ticket_client, "alice@" REALM);
    assert_int_equal(last(x)->ticket_issued, 50);
    assert_int_equal(x->out.n, 7);
}

static void test_corr_thousand_users_each_named(void **state)
{
    struct fx *x = *state;
    enum { USERS = 1000 };
    char user[32], tgt[33], svc[33];
    for (unsigned i = 0; i < USERS; i++) {
        snprintf(user, sizeof user, "user%u", i);
        digest(tgt, 7, i);
        pass(x, &kdc_reply(x, KDC_KIND_AS, user, REALM, tgt, "krbtgt/" REALM, 1 + 3 * (uint64_t)i)->h);
    }
    for (unsigned i = 0; i < USERS; i++) {
        digest(tgt, 7, i);
        digest(svc, 8, i);
        pass(x, &tgs_reply(x, KDC_KIND_TGS, tgt, ANON_NAME, ANON_REALM, svc, "cifs/srv1.hop.test",
                           2 + 3 * (uint64_t)i)->h);
    }
    for (unsigned i = USERS; i-- > 0;) { /* in the reverse order */
        digest(svc, 8, i);
        pass(x, &auth_with_ticket(x, svc, true)->h);
    }
    assert_int_equal(x->out.n, 3 * USERS);
    assert_int_equal(x->corr->tickets.n, 2 * USERS);
    for (unsigned i = 0; i < USERS; i++) {
        char want[64];
        snprintf(want, sizeof want, "user%u@" REALM, i);
        const struct seen *tgs = &x->out.seen[USERS + i];
        assert_string_equal(tgs->tgt_client, want);
        assert_string_equal(tgs->ticket_client, want);
        const struct seen *ap = &x->out.seen[3 * USERS - 1 - i];
        assert_string_equal(ap->ticket_client, want);
        assert_int_equal(ap->ticket_issued, 2 + 3 * (uint64_t)i);
    }
}

static void test_corr_ticket_table_forgets_oldest_beyond_capacity(void **state)
{
    struct fx *x = *state;
    /* More than twice the capacity: the eviction ring turns over entirely, through every probe-chain repair. */
    enum { EXTRA = TICKET_TABLE_SIZE + 100, N = TICKET_TABLE_SIZE + EXTRA };
    char d[33], user[32];
    for (unsigned i = 0; i < N; i++) {
        digest(d, 9, i);
        snprintf(user, sizeof user, "u%u", i);
        pass(x, &kdc_reply(x, KDC_KIND_TGS, user, REALM, d, "cifs/srv1.hop.test", 1 + (uint64_t)i)->h);
        x->out.n = 0; /* only the table is looked at here */
    }
    assert_int_equal(x->corr->tickets.n, TICKET_TABLE_SIZE);
    /* The oldest EXTRA were evicted; every later one is still found, wherever probing moved it. */
    for (unsigned i = 0; i < N; i++) {
        digest(d, 9, i);
        const struct ticket_info *ti = tickets_get(&x->corr->tickets, d);
        if (i < EXTRA) {
            assert_null(ti);
            continue;
        }
        assert_non_null(ti);
        snprintf(user, sizeof user, "u%u@" REALM, i);
        assert_string_equal(ti->client, user);
        assert_int_equal(ti->frame, 1 + (uint64_t)i);
    }
    digest(d, 9, N - 1);
    pass(x, &auth_with_ticket(x, d, true)->h);
    snprintf(user, sizeof user, "u%u@" REALM, N - 1);
    assert_string_equal(last(x)->ticket_client, user);
    digest(d, 9, 0);
    pass(x, &auth_with_ticket(x, d, true)->h);
    assert_string_equal(last(x)->ticket_client, "");
}

/* ---- summaries and findings from records ------------------------------------------------------------ */

/* An NTLM session cli -> srv (10.0.0.x) at second t by user (anonymous when ""), decided with res. */
static struct auth_rec *ntlm_session(struct fx *x, uint8_t cli, uint8_t srv, long t, const char *user,
                                     enum auth_result res, struct ntlm_msg *m)
{
    struct auth_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->h.id = x->next_id++;
    r->h.type = REC_AUTH;
    r->h.ts.tv_sec = t;
    r->h.flow.af = 4;
    r->h.flow.cli.ip[0] = r->h.flow.srv.ip[0] = 10;
    r->h.flow.cli.ip[3] = cli;
    r->h.flow.srv.ip[3] = srv;
    r->h.flow.srv.port = 445;
    r->transport = TRANSPORT_SMB2;
    r->gss.mech = AMECH_NEGOTIATE_NTLM;
    memset(m, 0, sizeof *m);
    m->type = 3;
    snprintf(m->domain, sizeof m->domain, "%s", user[0] ? "HOP" : "");
    snprintf(m->user, sizeof m->user, "%s", user);
    m->ntlm_version = user[0] ? NTLM_VER_NTLMV2 : NTLM_VER_ANONYMOUS;
    r->gss.ntlm.auth = m;
    r->frames.authenticate = r->h.id * 10;
    r->frames.verdict = r->h.id * 10 + 1;
    r->result = res;
    return r;
}

static void test_corr_dcom_access_denied_on_onward_session_fails_the_hop(void **state)
{
    struct fx *x = *state;
    struct ntlm_msg m1, m2;
    struct auth_rec *first = ntlm_session(x, 30, 20, 100, "alice", RESULT_SUCCESS, &m1);
    struct auth_rec *onward = ntlm_session(x, 20, 10, 101, "", RESULT_SUCCESS, &m2);
    onward->transport = TRANSPORT_DCERPC;
    struct auth_use u;
    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "ExecMethod");
    u.answered = true;
    u.status = hs_status_of(STATUS_HRESULT, 0x80070005u); /* E_ACCESSDENIED inside a DCOM response */
    u.frame_req = 31;
    u.frame_resp = 32;
    onward->uses = &u;
    onward->nuses = 1;
    sink_record(&x->corr->sink, &first->h);
    sink_record(&x->corr->sink, &onward->h);
    struct hs_stats st;
    memset(&st, 0, sizeof st);
    struct hs_stats_view v = {.st = &st};
    sink_stats(&x->corr->sink, &v);
    assert_true(found(&x->out, "double_hop_failed"));
    /* the same call answered without a refusal: no failed hop */
    struct fx *y = calloc(1, sizeof *y);
    assert_non_null(y);
    y->out.sink.finding = on_finding;
    y->corr = correlate_new(&y->out.sink);
    assert_non_null(y->corr);
    u.status = hs_status_of(STATUS_HRESULT, 0);
    sink_record(&y->corr->sink, &first->h);
    sink_record(&y->corr->sink, &onward->h);
    sink_stats(&y->corr->sink, &v);
    assert_false(found(&y->out, "double_hop_failed"));
    correlate_free(y->corr);
    free(y->out.seen);
    free(y);
    free(first);
    free(onward);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_corr_tgs_rep_ticket_named_for_reply_client),
        T(test_corr_ticket_digest_without_ap_req_not_resolved),
        T(test_corr_unknown_digest_leaves_client_empty),
        T(test_corr_first_reply_for_digest_wins),
        T(test_corr_fast_tgs_names_tgt_holder),
        T(test_corr_fast_s4u2self_names_for_user),
        T(test_corr_fast_s4u2proxy_names_evidence_holder),
        T(test_corr_passes_records_on_in_order_otherwise_unchanged),
        T(test_corr_passes_stats_and_end_on),
        T(test_corr_three_hop_delegation_chain_names_alice),
        T(test_corr_thousand_users_each_named),
        T(test_corr_ticket_table_forgets_oldest_beyond_capacity),
        T(test_corr_dcom_access_denied_on_onward_session_fails_the_hop),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
