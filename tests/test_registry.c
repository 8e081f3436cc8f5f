/* The dissector registry (dissectors/registry.c): which dissector a stream gets by content, by port, and when
 * nothing claims it; which ports name the server side. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "dissector.h"

static void test_every_dissector_is_named_with_a_transport(void **state)
{
    (void)state;
    size_t n = 0;
    for (; hs_dissectors[n]; n++) {
        const struct hs_dissector *d = hs_dissectors[n];
        assert_non_null(d->name);
        assert_true(d->transport == 6 || d->transport == 17);
    }
    assert_true(n >= 7);
}

static void test_ports_pick_their_dissector(void **state)
{
    (void)state;
    assert_string_equal(registry_by_port(6, 445)->name, "nbss");
    assert_string_equal(registry_by_port(6, 88)->name, "kerberos");
    assert_string_equal(registry_by_port(17, 88)->name, "kerberos-udp");
    assert_string_equal(registry_by_port(6, 389)->name, "ldap");
    assert_string_equal(registry_by_port(6, 135)->name, "dcerpc");
    assert_null(registry_by_port(6, 1433)); /* no dissector: the fallback's */
    assert_true(registry_server_port(445) && registry_server_port(5985) && registry_server_port(3268));
    assert_false(registry_server_port(50000));
}

static void test_content_wins_over_port(void **state)
{
    (void)state;
    static const uint8_t get[] = "GET /wsman HTTP/1.1\r\nHost: x\r\n\r\n";
    const struct hs_dissector *d = registry_probe(6, get, sizeof get - 1);
    assert_non_null(d);
    assert_string_equal(d->name, "http");
    static const uint8_t junk[32] = {0};
    assert_null(registry_probe(6, junk, sizeof junk));
}

static void test_fallback_is_tcp_only(void **state)
{
    (void)state;
    const struct hs_dissector *f = registry_fallback(6);
    assert_non_null(f);
    assert_string_equal(f->name, "other");
    assert_non_null(f->parse);
    assert_null(registry_fallback(17));
    /* the fallback is not in the probe list: it would take every stream before the port hints */
    for (size_t i = 0; hs_dissectors[i]; i++)
        assert_ptr_not_equal(hs_dissectors[i], f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_dissector_is_named_with_a_transport),
        cmocka_unit_test(test_ports_pick_their_dissector),
        cmocka_unit_test(test_content_wins_over_port),
        cmocka_unit_test(test_fallback_is_tcp_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
