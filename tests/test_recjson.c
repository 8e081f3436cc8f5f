/*
 * Unit tests for the JSON Lines record reader (src/correlate/recjson.c, hopscope --records): records back into
 * the summaries the findings rules read, Kerberos tickets linked across sensors in any order, findings whose
 * evidence names its sensors, and hostile lines (not JSON, wrong types, missing fields, huge strings, deep
 * nesting) counted and never fatal.
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

#include "decode.h"
#include "recjson.h"

/* ---- a sink that keeps what reaches it -------------------------------------------------------------------- */

struct got_finding {
    char id[40], title[160], user[160];
    uint64_t records[FINDING_EVIDENCE_MAX];
    uint32_t nrecords;
    struct finding_sensors s;
    bool have_sensors;
};

struct catcher {
    struct hs_sink sink; /* first */
    struct got_finding f[16];
    int nf;
    struct records_input_stats in;
    int stats_calls, end_calls;
};

static void c_finding(struct hs_sink *self, const struct hs_finding *f)
{
    struct catcher *c = (struct catcher *)self;
    if (c->nf == 16)
        return;
    struct got_finding *g = &c->f[c->nf++];
    snprintf(g->id, sizeof g->id, "%s", f->id);
    snprintf(g->title, sizeof g->title, "%s", f->title);
    snprintf(g->user, sizeof g->user, "%s", f->user);
    memcpy(g->records, f->records, sizeof g->records);
    g->nrecords = f->nrecords;
    if ((g->have_sensors = f->sensors != NULL))
        g->s = *f->sensors; /* the names live as long as the reader */
}

static void c_stats(struct hs_sink *self, const struct hs_stats_view *v)
{
    struct catcher *c = (struct catcher *)self;
    c->stats_calls++;
    if (v->st->input)
        c->in = *v->st->input;
}

static void c_end(struct hs_sink *self)
{
    ((struct catcher *)self)->end_calls++;
}

struct fx {
    struct catcher out;
    struct recjson *r;
};

static int fx_setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->out.sink.finding = c_finding;
    x->out.sink.stats = c_stats;
    x->out.sink.end = c_end;
    x->r = recjson_new(&x->out.sink, 0, false, NULL);
    assert_non_null(x->r);
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *x = *state;
    recjson_free(x->r);
    free(x);
    return 0;
}

static enum recjson_kind line(struct fx *x, const char *s)
{
    return recjson_line(x->r, s, strlen(s), "test.jsonl", 1, NULL);
}

static void end(struct fx *x)
{
    struct hs_stats st;
    struct decode_stats dec;
    memset(&st, 0, sizeof st);
    memset(&dec, 0, sizeof dec);
    recjson_end(x->r, &st, &dec);
}

static struct hs_correlate *corr(struct fx *x)
{
    return recjson_correlate(x->r);
}

/* An auth record with the fields every one has, and `more` (JSON members, may be "") after them. */
static char *auth_rec(uint64_t id, const char *sensor, const char *cli, const char *srv, int sport, const char *ts,
                      const char *transport, const char *result, const char *more)
{
    size_t n = strlen(more) + strlen(sensor) + 512;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n,
             "{\"type\":\"auth\",\"id\":%llu,\"ts\":\"%s\",\"sensor\":\"%s\",\"community_id\":\"1:x\","
             "\"client\":{\"ip\":\"%s\",\"port\":49152},\"server\":{\"ip\":\"%s\",\"port\":%d},"
             "\"transport\":\"%s\",\"result\":\"%s\"%s%s}",
             (unsigned long long)id, ts, sensor, cli, srv, sport, transport, result, more[0] ? "," : "", more);
    return s;
}

static void feed(struct fx *x, char *s, enum recjson_kind want)
{
    assert_int_equal(line(x, s), want);
    free(s);
}

/* ---- fields back into summaries ----------------------------------------------------------------------------- */

static void test_recjson_ntlm_smb2_record_fills_the_summary(void **state)
{
    struct fx *x = *state;
    feed(x,
         auth_rec(7, "edge", "10.0.0.30", "10.0.0.20", 445, "2026-11-21T22:52:06.767123Z", "smb2", "success",
                  "\"frames\":{\"negotiate\":3,\"challenge\":5,\"authenticate\":8,\"verdict\":9},"
                  "\"service\":\"cifs\",\"mechanism\":\"negotiate/ntlm\",\"user\":\"HOP\\\\alice\","
                  "\"ntlm\":{\"response_type\":\"ntlmv1\",\"user\":\"alice\",\"domain\":\"HOP\","
                  "\"workstation\":\"WS1\",\"lm_response\":\"lm\",\"flags_hex\":{\"negotiate\":\"0x00000001\","
                  "\"authenticate\":\"0x00000281\"}},"
                  "\"smb2\":{\"tree_connects\":[{\"share\":\"\\\\\\\\web\\\\IPC$\",\"status\":{\"name\":"
                  "\"STATUS_SUCCESS\",\"code\":\"0x00000000\"},\"frames\":[10,11]},{\"share\":\"\\\\\\\\web\\\\c$\","
                  "\"status\":{\"name\":\"STATUS_ACCESS_DENIED\",\"code\":\"0xc0000022\"},\"frames\":[12,13]}]},"
                  "\"status\":{\"name\":\"STATUS_SUCCESS\",\"code\":\"0x00000000\"}"),
         RECJSON_AUTH);
    struct hs_correlate *c = corr(x);
    assert_int_equal(c->n_auth, 1);
    const struct fsum_auth *s = &c->auth[0];
    assert_int_equal(s->id, 1); /* internal: the sensor's 7 is kept for the output */
    assert_int_equal(s->ts.tv_usec, 767123);
    assert_int_equal(s->ts.tv_sec, 1795301526);
    assert_int_equal(s->af, 4);
    uint8_t want_cli[16] = {10, 0, 0, 30};
    assert_memory_equal(s->cli, want_cli, 16);
    assert_int_equal(s->cport, 49152);
    assert_int_equal(s->sport, 445);
    assert_int_equal(s->transport, TRANSPORT_SMB2);
    assert_int_equal(s->mech, AMECH_NEGOTIATE_NTLM);
    assert_int_equal(s->result, RESULT_SUCCESS);
    assert_int_equal(s->status.space, STATUS_NTSTATUS);
    assert_string_equal(s->service, "cifs");
    assert_string_equal(s->user, "HOP\\alice");
    assert_true(s->ntlm);
    assert_false(s->anonymous);
    assert_int_equal(s->ntlm_version, NTLM_VER_NTLMV1);
    assert_int_equal(s->lm_kind, NTLM_LM_LM);
    assert_int_equal(s->ntlm_flags, 0x281); /* the AUTHENTICATE's */
    assert_string_equal(s->cli_workstation, "WS1");
    assert_string_equal(s->tree, "\\\\web\\IPC$");
    assert_int_equal(s->f_first, 3);
    assert_int_equal(s->f_auth, 8);
    assert_int_equal(s->f_verdict, 9);
    assert_true(s->use_denied); /* the second tree connect */
    assert_int_equal(s->f_use_req, 12);
    assert_int_equal(s->f_use_resp, 13);
    assert_string_equal(s->use_name, "\\\\web\\c$");
    assert_int_equal(s->use_status.space, STATUS_NTSTATUS);
    assert_int_equal(s->use_status.code, 0xc0000022u);
    assert_int_equal(recjson_stats(x->r)->auth, 1);
    assert_int_equal(recjson_stats(x->r)->sensors, 1);
}

static void test_recjson_status_space_told_by_its_name(void **state)
{
    struct fx *x = *state;
    /* DCE/RPC: a fault's NCA status, a DCOM call's HRESULT, an OXID resolver's Win32 error */
    feed(x,
         auth_rec(1, "s", "10.0.0.1", "10.0.0.2", 135, "2026-01-01T00:00:00Z", "dcerpc", "failure",
                  "\"status\":{\"name\":\"nca_s_fault_access_denied\",\"code\":\"0x00000005\"},"
                  "\"dcerpc\":{\"auth_level\":\"integrity\",\"verdict_from\":\"first_call\",\"calls\":["
                  "{\"op\":\"SamrConnect5\",\"result\":\"fault\",\"status\":{\"name\":\"nca_s_fault_access_denied\","
                  "\"code\":\"0x00000005\"},\"frames\":[21,24]}]}"),
         RECJSON_AUTH);
    feed(x,
         auth_rec(2, "s", "10.0.0.1", "10.0.0.2", 49700, "2026-01-01T00:00:00Z", "dcerpc", "success",
                  "\"dcerpc\":{\"auth_level\":6,\"calls\":[{\"op\":\"ExecMethod\",\"result\":\"response\","
                  "\"status\":{\"name\":\"E_ACCESSDENIED\",\"code\":\"0x80070005\"},\"frames\":[30,31]}]}"),
         RECJSON_AUTH);
    feed(x,
         auth_rec(3, "s", "10.0.0.1", "10.0.0.2", 135, "2026-01-01T00:00:00Z", "dcerpc", "success",
                  "\"dcerpc\":{\"calls\":[{\"op\":\"ResolveOxid2\",\"result\":\"response\",\"status\":{\"name\":"
                  "\"ERROR_ACCESS_DENIED\",\"code\":\"0x00000005\"},\"frames\":[40,41]}]}"),
         RECJSON_AUTH);
    /* HTTP: the code is a number, the requests' status a bare number */
    feed(x,
         auth_rec(4, "s", "10.0.0.1", "10.0.0.2", 5985, "2026-01-01T00:00:00Z", "http", "success",
                  "\"status\":{\"name\":\"OK\",\"code\":200},\"http\":{\"requests\":[{\"method\":\"POST\","
                  "\"path\":\"/wsman\",\"status\":401,\"frames\":[50,51]}]}"),
         RECJSON_AUTH);
    /* SMB1 without NT status: a DOS error */
    feed(x,
         auth_rec(5, "s", "10.0.0.1", "10.0.0.2", 139, "2026-01-01T00:00:00Z", "smb1", "failure",
                  "\"status\":{\"name\":\"ERRSRV/ERRbadpw\",\"code\":\"0x00020002\"}"),
         RECJSON_AUTH);
    struct hs_correlate *c = corr(x);
    assert_int_equal(c->n_auth, 5);
    assert_int_equal(c->auth[0].status.space, STATUS_NCA);
    assert_int_equal(c->auth[0].verdict_source, VERDICT_FIRST_CALL);
    assert_int_equal(c->auth[0].dcerpc_auth_level, 5);
    assert_true(c->auth[0].use_denied);
    assert_int_equal(c->auth[0].use_status.space, STATUS_NCA);
    assert_int_equal(c->auth[1].dcerpc_auth_level, 6); /* a number when the writer knew no name */
    assert_true(c->auth[1].use_denied);
    assert_int_equal(c->auth[1].use_status.space, STATUS_HRESULT);
    assert_true(c->auth[2].use_denied);
    assert_int_equal(c->auth[2].use_status.space, STATUS_WIN32);
    assert_int_equal(c->auth[3].status.space, STATUS_HTTP);
    assert_int_equal(c->auth[3].status.code, 200);
    assert_true(c->auth[3].use_denied);
    assert_string_equal(c->auth[3].use_name, "/wsman");
    assert_int_equal(c->auth[4].status.space, STATUS_DOS);
    assert_int_equal(c->auth[4].status.code, 0x00020002);
}

static void test_recjson_kerberos_record_fills_the_summary(void **state)
{
    struct fx *x = *state;
    assert_int_equal(line(x,
                          "{\"type\":\"kerberos\",\"id\":10,\"ts\":\"2026-01-01T00:00:01.5Z\",\"frames\":{\"request\":"
                          "61,\"reply\":63},\"client\":{\"ip\":\"fd00::20\",\"port\":50000},\"server\":{\"ip\":"
                          "\"fd00::10\",\"port\":88},\"transport\":\"udp\",\"kind\":\"s4u2proxy\",\"cname\":"
                          "\"websvc2@HOP.TEST\",\"sname\":\"cifs/dc1.hop.test@HOP.TEST\",\"impersonated\":{\"user\":"
                          "\"alice@HOP.TEST\",\"via\":\"evidence-ticket\"},\"result\":\"failure\",\"error\":{\"code\":"
                          "13,\"name\":\"KDC_ERR_BADOPTION\"},\"decrypted\":{\"reply\":{\"decrypted\":true,\"flags\":"
                          "[\"forwardable\",\"renewable\",\"bit31\"]}}}"),
                     RECJSON_KERBEROS);
    const struct fsum_kdc *k = &corr(x)->kdc[0];
    assert_int_equal(k->af, 6);
    assert_int_equal(k->ts.tv_usec, 500000);
    assert_true(k->udp);
    assert_int_equal(k->kind, KDC_KIND_S4U2PROXY);
    assert_string_equal(k->cname, "websvc2@HOP.TEST");
    assert_string_equal(k->sname, "cifs/dc1.hop.test@HOP.TEST");
    assert_string_equal(k->impersonated, "alice@HOP.TEST");
    assert_true(k->failed);
    assert_int_equal(k->error_code, 13);
    assert_int_equal(k->f_req, 61);
    assert_int_equal(k->f_rep, 63);
    assert_true(k->reply_decrypted);
    assert_int_equal(k->reply_flags, (0x80000000u >> 1) | (0x80000000u >> 8) | 1u);
}

/* ---- tickets across sensors -------------------------------------------------------------------------------- */

#define D1 "00112233445566778899aabbccddeeff"
#define D2 "ffeeddccbbaa99887766554433221100"
#define D3 "0123456789abcdef0123456789abcdef"

static const char *const AS_REC = "{\"type\":\"kerberos\",\"id\":1,\"sensor\":\"dc\",\"ts\":\"2026-01-01T00:00:00Z\","
                                  "\"frames\":{\"request\":1,\"reply\":2},\"client\":{\"ip\":\"10.0.0.30\",\"port\":"
                                  "50000},\"server\":{\"ip\":\"10.0.0.10\",\"port\":88},\"kind\":\"as\",\"request\":"
                                  "\"AS-REQ\",\"cname\":\"alice@HOP.TEST\",\"cname_from\":\"request\",\"result\":"
                                  "\"success\",\"tickets\":{\"reply\":{\"digest\":\"" D1 "\",\"client\":"
                                  "\"alice@HOP.TEST\",\"issued_frame\":2}}}";
/* FAST-armored: the reply's cname is anonymous, so its ticket's client is the TGT's holder */
static const char *const TGS_REC = "{\"type\":\"kerberos\",\"id\":1,\"sensor\":\"dc2\",\"ts\":\"2026-01-01T00:00:01Z\","
                                   "\"frames\":{\"request\":3,\"reply\":4},\"client\":{\"ip\":\"10.0.0.30\",\"port\":"
                                   "50001},\"server\":{\"ip\":\"10.0.0.11\",\"port\":88},\"kind\":\"tgs\",\"request\":"
                                   "\"TGS-REQ\",\"result\":\"success\",\"sname\":\"http/web.hop.test@HOP.TEST\","
                                   "\"tickets\":{\"tgt\":{\"digest\":\"" D1 "\"},\"reply\":{\"digest\":\"" D2 "\","
                                   "\"issued_frame\":4}}}";
static const char *const AP_REC =
    "{\"type\":\"auth\",\"id\":1,\"sensor\":\"web\",\"ts\":\"2026-01-01T00:00:02Z\","
    "\"frames\":{\"ap_req\":7,\"verdict\":8},\"client\":{\"ip\":\"10.0.0.30\",\"port\":"
    "50002},\"server\":{\"ip\":\"10.0.0.20\",\"port\":5985},\"transport\":\"http\","
    "\"mechanism\":\"kerberos\",\"result\":\"failure\",\"status\":{\"name\":"
    "\"Unauthorized\",\"code\":401},\"kerberos\":{\"ap_req\":true,\"ap_rep\":false,"
    "\"krb_error\":false,\"spn\":\"http/web.hop.test\",\"ticket\":{\"digest\":\"" D2 "\"}}}";

static void check_chain(struct fx *x)
{
    struct hs_correlate *c = corr(x);
    const struct fsum_kdc *tgs = NULL;
    for (size_t i = 0; i < c->n_kdc; i++)
        if (c->kdc[i].kind == KDC_KIND_TGS)
            tgs = &c->kdc[i];
    assert_non_null(tgs);
    assert_string_equal(tgs->cname, "alice@HOP.TEST"); /* the TGT's holder, named by another sensor */
    assert_int_equal(c->n_auth, 1);
    assert_string_equal(c->auth[0].user, "alice@HOP.TEST");
    assert_int_equal(c->auth[0].ticket_issued_frame, 4);
    assert_int_equal(recjson_stats(x->r)->tickets_linked, 2);
    assert_int_equal(recjson_stats(x->r)->sensors, 3);
}

static void test_recjson_tickets_linked_across_sensors_in_reading_order(void **state)
{
    struct fx *x = *state;
    assert_int_equal(line(x, AS_REC), RECJSON_KERBEROS);
    assert_int_equal(line(x, TGS_REC), RECJSON_KERBEROS);
    assert_int_equal(line(x, AP_REC), RECJSON_AUTH);
    assert_string_equal(corr(x)->auth[0].user, "alice@HOP.TEST"); /* at once */
    end(x);
    check_chain(x);
}

static void test_recjson_tickets_linked_across_sensors_read_backwards(void **state)
{
    struct fx *x = *state;
    assert_int_equal(line(x, AP_REC), RECJSON_AUTH);
    assert_int_equal(line(x, TGS_REC), RECJSON_KERBEROS);
    assert_int_equal(line(x, AS_REC), RECJSON_KERBEROS);
    assert_string_equal(corr(x)->auth[0].user, ""); /* not yet */
    end(x);
    check_chain(x);
    assert_int_equal(x->out.stats_calls, 1);
    assert_int_equal(x->out.end_calls, 1);
    assert_int_equal(x->out.in.tickets_linked, 2);
}

static void test_recjson_unknown_ticket_stays_unnamed(void **state)
{
    struct fx *x = *state;
    assert_int_equal(line(x, AP_REC), RECJSON_AUTH);
    end(x);
    assert_string_equal(corr(x)->auth[0].user, "");
    assert_int_equal(corr(x)->auth[0].ticket_issued_frame, 0);
    assert_int_equal(recjson_stats(x->r)->tickets_linked, 0);
}

/* ---- findings name their sensors --------------------------------------------------------------------------- */

static void test_recjson_double_hop_across_sensors_names_both(void **state)
{
    struct fx *x = *state;
    /* alice reaches web with NTLM (sensor "web"); web's onward connection to dc is refused (sensor "dc") */
    feed(x,
         auth_rec(3, "web", "10.0.0.30", "10.0.0.20", 5985, "2026-01-01T00:00:00Z", "http", "success",
                  "\"frames\":{\"negotiate\":5,\"challenge\":6,\"authenticate\":8,\"verdict\":8},"
                  "\"mechanism\":\"negotiate/ntlm\",\"ntlm\":{\"response_type\":\"ntlmv2\",\"user\":\"alice\","
                  "\"domain\":\"HOP\"}"),
         RECJSON_AUTH);
    feed(x,
         auth_rec(3, "dc", "10.0.0.20", "10.0.0.10", 445, "2026-01-01T00:00:01Z", "smb2", "failure",
                  "\"frames\":{\"negotiate\":5,\"authenticate\":8,\"verdict\":9},\"mechanism\":\"negotiate/ntlm\","
                  "\"ntlm\":{\"response_type\":\"ntlmv2\",\"user\":\"www-data\",\"domain\":\"HOP\"},"
                  "\"status\":{\"name\":\"STATUS_LOGON_FAILURE\",\"code\":\"0xc000006d\"}"),
         RECJSON_AUTH);
    end(x);
    assert_int_equal(x->out.nf, 1);
    struct got_finding *f = &x->out.f[0];
    assert_string_equal(f->id, "double_hop_failed");
    assert_string_equal(f->user, "HOP\\alice");
    assert_true(f->have_sensors);
    /* the ids the sensors wrote (both 3), each with its sensor, sorted by sensor */
    assert_int_equal(f->nrecords, 2);
    assert_int_equal(f->records[0], 3);
    assert_int_equal(f->records[1], 3);
    assert_int_equal(f->s.nrecords, 2);
    assert_string_equal(f->s.records[0].sensor, "dc");
    assert_string_equal(f->s.records[1].sensor, "web");
    /* frame 8 of each capture, both kept although the plain frame list has it once */
    int eights = 0, nine_dc = 0;
    for (uint32_t i = 0; i < f->s.nframes; i++) {
        eights += f->s.frames[i].n == 8;
        nine_dc += f->s.frames[i].n == 9 && !strcmp(f->s.frames[i].sensor, "dc");
    }
    assert_int_equal(eights, 2);
    assert_int_equal(nine_dc, 1);
}

static void test_recjson_records_without_sensor_are_their_files(void **state)
{
    struct fx *x = *state;
    char *a = auth_rec(1, "", "10.0.0.1", "10.0.0.2", 445, "2026-01-01T00:00:00Z", "smb2", "success", "");
    assert_int_equal(recjson_line(x->r, a, strlen(a), "/var/log/a.jsonl", 1, NULL), RECJSON_AUTH);
    assert_int_equal(recjson_line(x->r, a, strlen(a), "/var/log/b\x1b[2J.jsonl", 1, NULL), RECJSON_AUTH);
    free(a);
    assert_int_equal(recjson_stats(x->r)->sensors, 2);
}

/* ---- hostile lines ------------------------------------------------------------------------------------------ */

static void test_recjson_not_json_and_not_records_counted(void **state)
{
    struct fx *x = *state;
    static const struct {
        const char *s;
        enum recjson_kind k;
    } cases[] = {
        {"", RECJSON_SKIPPED},
        {"   \r", RECJSON_SKIPPED},
        {"not json", RECJSON_MALFORMED},
        {"{\"type\":\"auth\"", RECJSON_MALFORMED},
        {"[1,2,3]", RECJSON_MALFORMED},
        {"42", RECJSON_MALFORMED},
        {"\"auth\"", RECJSON_MALFORMED},
        {"null", RECJSON_MALFORMED},
        {"{\"type\":\"stats\",\"packets\":5}", RECJSON_SKIPPED},
        {"{\"type\":\"finding\",\"id\":\"double_hop_failed\"}", RECJSON_SKIPPED},
        {"{\"type\":\"conn\",\"uid\":\"C1\"}", RECJSON_SKIPPED},
        {"{\"uid\":\"C1\"}", RECJSON_SKIPPED},
        {"{\"type\":7}", RECJSON_SKIPPED},
        {"{\"type\":\"auth\",\"id\":1,\"id\":2}", RECJSON_MALFORMED},      /* duplicate key */
        {"{\"type\":\"auth\",\"user\":\"a\\u0000b\"}", RECJSON_MALFORMED}, /* NUL inside a string */
        {"{\"type\":\"auth\",\"user\":\"\xff\xfe\"}", RECJSON_MALFORMED},  /* not UTF-8 */
        {"{\"type\":\"auth\"} trailing", RECJSON_MALFORMED},
        {"{\"type\":\"auth\",\"id\":99999999999999999999999}", RECJSON_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *o = (json_t *)1;
        assert_int_equal(recjson_line(x->r, cases[i].s, strlen(cases[i].s), "t", i, &o), cases[i].k);
        assert_null(o);
    }
    const struct records_input_stats *in = recjson_stats(x->r);
    assert_int_equal(in->lines, sizeof cases / sizeof *cases);
    assert_int_equal(in->malformed, 11);
    assert_int_equal(in->stats, 1);
    assert_int_equal(in->findings, 1);
    assert_int_equal(in->other_types, 3);
    assert_int_equal(corr(x)->n_auth + corr(x)->n_kdc, 0);
}

static void test_recjson_wrong_types_and_missing_fields(void **state)
{
    struct fx *x = *state;
    static const char *const bad[] = {
        "{\"type\":\"auth\"}",
        "{\"type\":\"auth\",\"id\":\"7\",\"ts\":\"2026-01-01T00:00:00Z\"}",
        "{\"type\":\"auth\",\"id\":-1,\"ts\":\"2026-01-01T00:00:00Z\"}",
        "{\"type\":\"auth\",\"id\":0,\"ts\":\"2026-01-01T00:00:00Z\"}",
        "{\"type\":\"auth\",\"id\":1.5,\"ts\":\"2026-01-01T00:00:00Z\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":1767225600}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-13-01T00:00:00Z\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00.Z\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00.1234567890Z\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"1969-12-31T23:59:59Z\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"client\":[],\"server\":{}}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"client\":{\"ip\":\"10.0.0.1\",\"port\":1},"
        "\"server\":{\"ip\":\"10.0.0.300\",\"port\":445},\"transport\":\"smb2\",\"result\":\"success\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"client\":{\"ip\":\"10.0.0.1\",\"port\":1},"
        "\"server\":{\"ip\":\"10.0.0.2\",\"port\":70000},\"transport\":\"smb2\",\"result\":\"success\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"client\":{\"ip\":\"10.0.0.1\",\"port\":1},"
        "\"server\":{\"ip\":\"::1\",\"port\":445},\"transport\":\"smb2\",\"result\":\"success\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"client\":{\"ip\":\"10.0.0.1\",\"port\":1},"
        "\"server\":{\"ip\":\"10.0.0.2\",\"port\":\"445\"},\"transport\":\"smb2\",\"result\":\"success\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"client\":{\"ip\":\"10.0.0.1\",\"port\":1},"
        "\"server\":{\"ip\":\"10.0.0.2\",\"port\":445},\"transport\":\"smb9\",\"result\":\"success\"}",
        "{\"type\":\"auth\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"client\":{\"ip\":\"10.0.0.1\",\"port\":1},"
        "\"server\":{\"ip\":\"10.0.0.2\",\"port\":445},\"transport\":\"smb2\",\"result\":true}",
        "{\"type\":\"kerberos\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"client\":{\"ip\":\"10.0.0.1\",\"port\":1},"
        "\"server\":{\"ip\":\"10.0.0.2\",\"port\":88},\"kind\":\"golden\",\"result\":\"success\"}",
        "{\"type\":\"kerberos\",\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"client\":{\"ip\":\"10.0.0.1\",\"port\":1},"
        "\"server\":{\"ip\":\"10.0.0.2\",\"port\":88},\"kind\":\"as\"}",
        "{\"type\":\"dcom\",\"id\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(recjson_line(x->r, bad[i], strlen(bad[i]), "t", i, NULL), RECJSON_MALFORMED);
    }
    assert_int_equal(recjson_stats(x->r)->malformed, sizeof bad / sizeof *bad);
    assert_int_equal(corr(x)->n_auth + corr(x)->n_kdc, 0);
    /* optional parts of the wrong type are absent, not fatal */
    feed(x,
         auth_rec(1, "s", "10.0.0.1", "10.0.0.2", 445, "2026-01-01T00:00:00+02:00", "smb2", "failure",
                  "\"frames\":[1,2],\"ntlm\":5,\"kerberos\":\"x\",\"status\":{\"name\":7,\"code\":[]},"
                  "\"smb2\":{\"tree_connects\":{\"share\":1}},\"service\":{},\"mechanism\":null,"
                  "\"server\":{\"names\":3}"),
         RECJSON_MALFORMED); /* "server" given twice: a duplicate key */
    feed(x,
         auth_rec(1, "s", "10.0.0.1", "10.0.0.2", 445, "2026-01-01T00:00:00+02:00", "smb2", "failure",
                  "\"frames\":[1,2],\"ntlm\":5,\"kerberos\":\"x\",\"status\":{\"name\":7,\"code\":[]},"
                  "\"smb2\":{\"tree_connects\":[7,{\"status\":\"no\"},{\"share\":1,\"status\":{\"name\":\"x\","
                  "\"code\":\"0xzz\"},\"frames\":\"x\"}]},\"service\":{},\"mechanism\":null"),
         RECJSON_AUTH);
    const struct fsum_auth *s = &corr(x)->auth[0];
    assert_int_equal(s->ts.tv_sec, 1767225600 - 7200);
    assert_int_equal(s->status.space, STATUS_NONE);
    assert_string_equal(s->service, "");
    assert_int_equal(s->mech, AMECH_UNKNOWN);
    assert_false(s->ntlm);
    assert_false(s->krb);
    assert_false(s->use_denied);
    assert_int_equal(s->f_first, 0);
}

static void test_recjson_huge_strings_are_cut(void **state)
{
    struct fx *x = *state;
    size_t big = 1u << 20;
    char *user = malloc(big + 1);
    assert_non_null(user);
    memset(user, 'u', big);
    user[big] = '\0';
    char *more = malloc(2 * big + 256);
    assert_non_null(more);
    snprintf(more, 2 * big + 256, "\"mechanism\":\"basic\",\"basic\":{\"user\":\"%s\"},\"service\":\"%s\"", user, user);
    char *sensor = malloc(300);
    assert_non_null(sensor);
    memset(sensor, 's', 299);
    sensor[299] = '\0';
    memcpy(sensor + 63, "\xc3\xa9", 2); /* a 2-byte character across the 64-byte cut */
    feed(x, auth_rec(1, sensor, "10.0.0.1", "10.0.0.2", 80, "2026-01-01T00:00:00Z", "http", "success", more),
         RECJSON_AUTH);
    const struct fsum_auth *s = &corr(x)->auth[0];
    assert_int_equal(strlen(s->user), 127);
    assert_int_equal(strlen(s->service), 31);
    end(x);
    /* cleartext_basic_auth names the record, and its sensor cut before the character that does not fit */
    assert_int_equal(x->out.nf, 1);
    assert_string_equal(x->out.f[0].id, "cleartext_basic_auth");
    assert_int_equal(x->out.f[0].s.nrecords, 1);
    assert_int_equal(strlen(x->out.f[0].s.records[0].sensor), 63);
    free(user);
    free(more);
    free(sensor);
}

static void test_recjson_deep_nesting_is_malformed(void **state)
{
    struct fx *x = *state;
    size_t depth = 100000;
    char *s = malloc(2 * depth + 64);
    assert_non_null(s);
    size_t n = (size_t)sprintf(s, "{\"type\":\"auth\",\"x\":");
    memset(s + n, '[', depth);
    memset(s + n + depth, ']', depth);
    strcpy(s + n + 2 * depth, "}");
    assert_int_equal(line(x, s), RECJSON_MALFORMED);
    /* nested just within jansson's depth limit, in a field nobody reads: the record stands */
    char *r = auth_rec(1, "s", "10.0.0.1", "10.0.0.2", 445, "2026-01-01T00:00:00Z", "smb2", "success",
                       "\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    feed(x, r, RECJSON_AUTH);
    free(s);
}

static void test_recjson_read_skips_lines_too_long(void **state)
{
    struct fx *x = *state;
    char *rec = auth_rec(1, "s", "10.0.0.1", "10.0.0.2", 445, "2026-01-01T00:00:00Z", "smb2", "success", "");
    size_t long_len = RECJSON_LINE_MAX + 10;
    size_t total = long_len + 3 * (strlen(rec) + 2) + 16;
    char *buf = malloc(total);
    assert_non_null(buf);
    size_t n = (size_t)sprintf(buf, "%s\r\n", rec);
    memset(buf + n, 'x', long_len);
    n += long_len;
    buf[n++] = '\n';
    n += (size_t)sprintf(buf + n, "\n%s", rec); /* the last line has no newline */
    FILE *f = fmemopen(buf, n, "r");
    assert_non_null(f);
    assert_int_equal(recjson_read(x->r, f, "mem", NULL, NULL), 0);
    fclose(f);
    const struct records_input_stats *in = recjson_stats(x->r);
    assert_int_equal(in->lines, 4);
    assert_int_equal(in->too_long, 1);
    assert_int_equal(in->malformed, 1);
    assert_int_equal(in->auth, 2);
    free(buf);
    free(rec);
}

static void test_recjson_sensor_names_capped(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < RECJSON_SENSORS_MAX + 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        feed(x, auth_rec(1, name, "10.0.0.1", "10.0.0.2", 445, "2026-01-01T00:00:00Z", "smb2", "success", ""),
             RECJSON_AUTH);
    }
    feed(x, auth_rec(2, "s0", "10.0.0.1", "10.0.0.2", 445, "2026-01-01T00:00:00Z", "smb2", "success", ""),
         RECJSON_AUTH);
    assert_int_equal(recjson_stats(x->r)->sensors, RECJSON_SENSORS_MAX);
    assert_int_equal(recjson_stats(x->r)->sensors_over_cap, 4);
}

static void test_recjson_summaries_capped_like_live(void **state)
{
    struct fx *x = *state;
    char *rec = auth_rec(1, "s", "10.0.0.1", "10.0.0.2", 445, "2026-01-01T00:00:00Z", "smb2", "success", "");
    size_t len = strlen(rec);
    for (size_t i = 0; i < CORRELATE_SUMMARIES_MAX + 5; i++)
        assert_int_equal(recjson_line(x->r, rec, len, "t", i, NULL), RECJSON_AUTH);
    free(rec);
    end(x);
    assert_int_equal(corr(x)->n_auth, CORRELATE_SUMMARIES_MAX);
    assert_int_equal(x->out.in.auth, CORRELATE_SUMMARIES_MAX + 5);
    assert_int_equal(x->out.in.not_kept, 5);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_recjson_ntlm_smb2_record_fills_the_summary),
        T(test_recjson_status_space_told_by_its_name),
        T(test_recjson_kerberos_record_fills_the_summary),
        T(test_recjson_tickets_linked_across_sensors_in_reading_order),
        T(test_recjson_tickets_linked_across_sensors_read_backwards),
        T(test_recjson_unknown_ticket_stays_unnamed),
        T(test_recjson_double_hop_across_sensors_names_both),
        T(test_recjson_records_without_sensor_are_their_files),
        T(test_recjson_not_json_and_not_records_counted),
        T(test_recjson_wrong_types_and_missing_fields),
        T(test_recjson_huge_strings_are_cut),
        T(test_recjson_deep_nesting_is_malformed),
        T(test_recjson_read_skips_lines_too_long),
        T(test_recjson_sensor_names_capped),
        T(test_recjson_summaries_capped_like_live),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
