/*
 * Unit tests for src/keys/creds.c: the lab's tab-separated credentials.txt, pwdump/secretsdump lines,
 * lookups by user and domain, and every malformed line named by file and line.
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
#include <sys/stat.h>
#include <unistd.h>

#include "creds.h"

static char path[64];

/* Writes text to a fresh private temporary file (its name in path). */
static void write_file(const char *text)
{
    strcpy(path, "/tmp/hopscope_creds_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fchmod(fd, 0600);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static int load(const char *text, struct hs_creds *c, char *err, size_t errlen)
{
    write_file(text);
    int rc = creds_load(c, path, err, errlen);
    unlink(path);
    return rc;
}

static void test_creds_reads_lab_file(void **state)
{
    (void)state;
    struct hs_creds c = {0};
    char err[256];
    const char *text = "# user\tdomain\trealm\tpassword\tnt_hash\tlm_hash\n"
                       "alice\tHOPLAB\tHOPLAB.TEST\tAlic3pw!\t5e1c00dfb0f18ef96c39c1d1417a45fa\t3c6e6d2c908f15a4695109ab020e401c\n"
                       "\n"
                       "bob\tHOPLAB\tHOPLAB.TEST\tCorrectHorseBattery9!\t82106a7dd10aba3da475891cce8e9708\t-\n"
                       "carol\tHOPLAB\t-\tShortPw1\t-\t-\n";
    assert_int_equal(load(text, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 3);
    const struct hs_cred *a = creds_find(&c, "ALICE", "hoplab");
    assert_non_null(a);
    assert_true(a->has_nt && a->has_lm && a->lm_stored);
    const struct hs_cred *b = creds_find(&c, "bob", "HOPLAB.TEST");
    assert_non_null(b);
    assert_true(b->has_nt);
    assert_false(b->has_lm); /* 21 characters: no LM hash exists */
    const struct hs_cred *cr = creds_find(&c, "carol", "HOPLAB");
    assert_non_null(cr);
    assert_true(cr->has_lm);     /* the client computes it from the password */
    assert_false(cr->lm_stored); /* the DC does not keep it */
    assert_null(creds_find(&c, "dave", "HOPLAB"));
    creds_free(&c);
    assert_int_equal(c.n, 0);
    assert_null(c.v);
}

static void test_creds_reads_pwdump_lines(void **state)
{
    (void)state;
    struct hs_creds c = {0};
    char err[256];
    const char *text = "HOPLAB\\alice:1104:3c6e6d2c908f15a4695109ab020e401c:5e1c00dfb0f18ef96c39c1d1417a45fa:::\n"
                       "bob:1105:aad3b435b51404eeaad3b435b51404ee:82106a7dd10aba3da475891cce8e9708:::\n";
    assert_int_equal(load(text, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 2);
    const struct hs_cred *a = creds_find(&c, "alice", "HOPLAB");
    assert_non_null(a);
    assert_true(a->has_lm);
    assert_int_equal(a->nt[0], 0x5e);
    const struct hs_cred *b = creds_find(&c, "bob", "ANY"); /* the only bob */
    assert_non_null(b);
    assert_false(b->has_lm); /* the empty LM hash is none */
    creds_free(&c);
}

static void test_creds_same_user_two_domains_needs_the_domain(void **state)
{
    (void)state;
    struct hs_creds c = {0};
    char err[256];
    const char *text = "A\\bob:1:-:82106a7dd10aba3da475891cce8e9708:::\n"
                       "B\\bob:2:-:5e1c00dfb0f18ef96c39c1d1417a45fa:::\n";
    assert_int_equal(load(text, &c, err, sizeof err), 0);
    assert_int_equal(creds_find(&c, "bob", "B")->nt[0], 0x5e);
    assert_null(creds_find(&c, "bob", "C"));
    creds_free(&c);
}

static void expect_error(const char *text, const char *want_suffix)
{
    struct hs_creds c = {0};
    char err[256] = "";
    assert_int_equal(load(text, &c, err, sizeof err), -1);
    assert_int_equal(c.n, 0);
    assert_non_null(strstr(err, path)); /* names the file */
    assert_non_null(strstr(err, want_suffix));
    creds_free(&c);
}

static void test_creds_malformed_lines_name_file_and_line(void **state)
{
    (void)state;
    expect_error("# ok\nalice\tHOPLAB\t-\tpw\n", ":2: expected 6 tab-separated fields");
    expect_error("alice\tHOPLAB\t-\t-\t5e1c00dfb0f18ef96c39c1d1417a45f\t-\n", ":1: bad NT hash");
    expect_error("alice\tHOPLAB\t-\t-\t5e1c00dfb0f18ef96c39c1d1417a45fa\txyz\n", ":1: bad LM hash");
    expect_error("alice\tHOPLAB\t-\t-\t-\t-\n", ":1: no password and no NT hash");
    expect_error("-\tHOPLAB\t-\tpw\t-\t-\n", ":1: empty user");
    expect_error("alice\tHOPLAB\t-\tWrongPw\t5e1c00dfb0f18ef96c39c1d1417a45fa\t-\n",
                 ":1: NT hash does not match the password");
    expect_error("\n\nalice:x:-:5e1c00dfb0f18ef96c39c1d1417a45fa:::\n", ":3: bad rid");
    expect_error("alice:1104\n", ":1: expected a tab-separated line");
    expect_error("alice\tHOPLAB\t-\t\xff\xfe\t-\t-\n", ":1: password not valid UTF-8");
}

static void test_creds_bad_line_keeps_nothing_of_the_file(void **state)
{
    (void)state;
    struct hs_creds c = {0};
    char err[256];
    assert_int_equal(load("bob:1:-:82106a7dd10aba3da475891cce8e9708:::\n", &c, err, sizeof err), 0);
    assert_int_equal(load("alice:2:-:5e1c00dfb0f18ef96c39c1d1417a45fa:::\ncarol:3\n", &c, err, sizeof err), -1);
    assert_int_equal(c.n, 1); /* bob from the first file only */
    assert_null(creds_find(&c, "alice", NULL));
    creds_free(&c);
}

static void test_creds_unreadable_file_is_an_error(void **state)
{
    (void)state;
    struct hs_creds c = {0};
    char err[256];
    assert_int_equal(creds_load(&c, "/nonexistent/creds.txt", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/creds.txt: cannot read"));
    creds_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creds_reads_lab_file),
        cmocka_unit_test(test_creds_reads_pwdump_lines),
        cmocka_unit_test(test_creds_same_user_two_domains_needs_the_domain),
        cmocka_unit_test(test_creds_malformed_lines_name_file_and_line),
        cmocka_unit_test(test_creds_bad_line_keeps_nothing_of_the_file),
        cmocka_unit_test(test_creds_unreadable_file_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
