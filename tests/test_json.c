/*
 * Unit tests for src/output/json.c, the JSON Lines writer: the trees json_of_record() gives the expectations stage
 * (a dcom record as a dcom object).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "jsonrec.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_of_record_dcom_is_a_dcom_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
