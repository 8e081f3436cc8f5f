/*
 * Unit tests for src/output/json.c, the JSON Lines writer: one line per record through one reused buffer, the
 * trees json_of_record() gives the expectations stage (a dcom record as a dcom object), the stats line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "decode.h"
#include "jsonrec.h"
#include "stats.h"
#include "writer.h"

static void dcom_record(struct dcom_rec *d, uint64_t id)
{
    memset(d, 0, sizeof *d);
    d->h.type = REC_DCOM;
    d->h.id = id;
    d->h.flow.af = 4;
    d->h.flow.cli.ip[0] = 10;
    d->h.flow.cli.port = 50000;
    d->h.flow.srv.ip[0] = 10;
    d->h.flow.srv.ip[3] = 1;
    d->h.flow.srv.port = 135;
    snprintf(d->h.community_id, sizeof d->h.community_id, "1:test");
    d->iface = "ISystemActivator";
    d->op = "RemoteCreateInstance";
    d->opnum = 4;
    d->frame_req = 7;
    d->frame_resp = 9;
}

/* Before the writer wrote lines itself, json_of_record() gave every record that was not an auth record the
 * kerberos writer, a dcom record included (a kerberos object made of a dcom record's bytes). */
static void test_json_of_record_dcom_is_a_dcom_object(void **state)
{
    (void)state;
    struct dcom_rec d;
    dcom_record(&d, 42);
    json_t *j = json_of_record(&d.h);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "dcom");
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 42);
    assert_string_equal(json_string_value(json_object_get(j, "op")), "RemoteCreateInstance");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "frames"), "response")), 9);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "server"), "ip")), "10.0.0.1");
    json_decref(j);
}

static void test_json_writer_one_line_per_record_through_one_buffer(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    struct hs_writer *w = writer_new(OUTPUT_JSON, f);
    assert_non_null(w);
    struct dcom_rec d;
    dcom_record(&d, 1);
    sink_record(writer_sink(w), &d.h);
    char *buf = w->jw.buf;
    size_t cap = w->jw.cap;
    assert_non_null(buf);
    dcom_record(&d, 2);
    sink_record(writer_sink(w), &d.h);
    /* the second record went through the first one's buffer: no allocation per record */
    assert_ptr_equal(w->jw.buf, buf);
    assert_int_equal(w->jw.cap, cap);
    assert_false(w->failed);
    assert_int_equal(fflush(f), 0);

    /* two lines, each the compact dump of the record's tree */
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    assert_non_null(strchr(nl + 1, '\n'));
    assert_int_equal(strchr(nl + 1, '\n') - out + 1, (long)len);
    json_t *j = json_of_record(&d.h);
    char *want = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(want);
    assert_int_equal(strlen(want), strlen(nl + 1) - 1);
    assert_memory_equal(nl + 1, want, strlen(want));
    assert_memory_equal(out, "{\"type\":\"dcom\",\"id\":1,\"ts\":", 27);
    free(want);
    json_decref(j);
    writer_free(w);
    fclose(f);
    free(out);
}

static void test_stats_json_line_lists_every_group(void **state)
{
    (void)state;
    struct hs_stats st;
    struct decode_stats dec;
    memset(&st, 0, sizeof st);
    memset(&dec, 0, sizeof dec);
    st.packets = 12345678901ull;
    st.interrupted = true;
    st.kdc_written_early = 7;
    dec.vxlan = 3;
    struct hs_stats_view v = {.st = &st, .dec = &dec};
    char *s = stats_json_line(&v);
    assert_non_null(s);
    assert_null(strchr(s, '\n'));
    const char *head = "{\"type\":\"stats\",\"final\":true,\"interrupted\":true,\"packets\":12345678901,\"bytes\":0,";
    assert_memory_equal(s, head, strlen(head)); /* no "ts" before a packet */
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 21); /* + final, flows_tracked, memory; no capture offline */
    assert_null(json_object_get(j, "capture"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "decode"), "vxlan")), 3);
    assert_int_equal(json_object_size(json_object_get(j, "malformed")), 15);
    assert_int_equal(json_object_size(json_object_get(j, "dropped")), 9);
    assert_int_equal(json_object_size(json_object_get(j, "capped")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "capped"), "kdc_requests_written_early")), 7);
    json_decref(j);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_of_record_dcom_is_a_dcom_object),
        cmocka_unit_test(test_json_writer_one_line_per_record_through_one_buffer),
        cmocka_unit_test(test_stats_json_line_lists_every_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
