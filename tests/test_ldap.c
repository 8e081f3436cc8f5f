/* LDAP binds through the engine: simple, SASL (GSS-SPNEGO, GSSAPI, NTLM, PLAIN) and sicily binds, AD's
 * diagnostic codes, framing over segments, SASL security layers, StartTLS, malformed input and the probe. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ldap.h"
#include "pcapgen.h"

/* ---- LDAPMessage builders (RFC 4511 4.1.1, 4.2) ------------------------------------------------------- */

/* A TLV with Active Directory's length form: always 0x84 and four octets. */
static void der84(struct pg_buf *b, uint8_t id, const void *v, size_t n)
{
    pg_u8(b, id);
    pg_u8(b, 0x84);
    pg_u32be(b, (uint32_t)n);
    pg_put(b, v, n);
}

/* LDAPMessage { messageID, protocolOp (op_id, contents) }, lengths in the shortest form, or AD's (ad). */
static struct pg_buf ldap_msg_ex(uint32_t mid, uint8_t op_id, const struct pg_buf *op, bool ad)
{
    struct pg_buf m = {0}, out = {0};
    uint8_t id[4] = {(uint8_t)(mid >> 24), (uint8_t)(mid >> 16), (uint8_t)(mid >> 8), (uint8_t)mid};
    size_t k = 0;
    while (k < 3 && id[k] == 0 && !(id[k + 1] & 0x80))
        k++;
    pg_der(&m, 0x02, id + k, 4 - k);
    if (ad)
        der84(&m, op_id, op->p, op->len);
    else
        pg_der(&m, op_id, op->p, op->len);
    if (ad)
        der84(&out, 0x30, m.p, m.len);
    else
        pg_der(&out, 0x30, m.p, m.len);
    pg_free(&m);
    return out;
}

static struct pg_buf ldap_msg(uint32_t mid, uint8_t op_id, const struct pg_buf *op)
{
    return ldap_msg_ex(mid, op_id, op, false);
}

static void put_str(struct pg_buf *b, uint8_t id, const char *s)
{
    pg_der(b, id, s, strlen(s));
}

/* BindRequest with the simple choice: version 3, name dn, password pw. */
static struct pg_buf bind_simple(uint32_t mid, const char *dn, const char *pw, bool ad)
{
    struct pg_buf op = {0};
    pg_der(&op, 0x02, "\x03", 1);
    put_str(&op, 0x04, dn);
    put_str(&op, 0x80, pw);
    struct pg_buf m = ldap_msg_ex(mid, 0x60, &op, ad);
    pg_free(&op);
    return m;
}

/* BindRequest with the sasl choice; cred NULL for no credentials. */
static struct pg_buf bind_sasl(uint32_t mid, const char *dn, const char *mech, const struct pg_buf *cred)
{
    struct pg_buf op = {0}, sc = {0};
    pg_der(&op, 0x02, "\x03", 1);
    put_str(&op, 0x04, dn);
    put_str(&sc, 0x04, mech);
    if (cred)
        pg_der(&sc, 0x04, cred->p, cred->len);
    pg_der(&op, 0xa3, sc.p, sc.len);
    struct pg_buf m = ldap_msg(mid, 0x60, &op);
    pg_free(&op);
    pg_free(&sc);
    return m;
}

/* BindRequest with a sicily choice (MS-ADTS 5.1.1.1.3): tag 9, 10 or 11. */
static struct pg_buf bind_sicily(uint32_t mid, const char *dn, uint8_t tag, const struct pg_buf *cred)
{
    struct pg_buf op = {0};
    pg_der(&op, 0x02, "\x03", 1);
    put_str(&op, 0x04, dn);
    pg_der(&op, (uint8_t)(0x80 | tag), cred ? cred->p : NULL, cred ? cred->len : 0);
    struct pg_buf m = ldap_msg(mid, 0x60, &op);
    pg_free(&op);
    return m;
}

/* BindResponse: resultCode, matchedDN (md bytes), diagnosticMessage, serverSaslCreds when creds. */
static struct pg_buf bind_resp_ex(uint32_t mid, uint8_t code, const void *md, size_t mdlen, const char *diag,
                                  const struct pg_buf *creds, bool ad)
{
    struct pg_buf op = {0};
    pg_der(&op, 0x0a, &code, 1);
    pg_der(&op, 0x04, md, mdlen);
    pg_der(&op, 0x04, diag, strlen(diag));
    if (creds)
        pg_der(&op, 0x87, creds->p, creds->len);
    struct pg_buf m = ldap_msg_ex(mid, 0x61, &op, ad);
    pg_free(&op);
    return m;
}

static struct pg_buf bind_resp(uint32_t mid, uint8_t code, const char *diag, const struct pg_buf *creds)
{
    return bind_resp_ex(mid, code, "", 0, diag, creds, false);
}

/* SearchRequest for the root DSE (4.5.1): baseObject "", scope base, filter (objectClass=*). */
static struct pg_buf search_root(uint32_t mid)
{
    struct pg_buf op = {0};
    put_str(&op, 0x04, "");
    pg_der(&op, 0x0a, "\x00", 1);
    pg_der(&op, 0x0a, "\x00", 1);
    pg_der(&op, 0x02, "\x00", 1);
    pg_der(&op, 0x02, "\x00", 1);
    pg_der(&op, 0x01, "\x00", 1);
    put_str(&op, 0x87, "objectClass");
    pg_der(&op, 0x30, NULL, 0);
    struct pg_buf m = ldap_msg(mid, 0x63, &op);
    pg_free(&op);
    return m;
}

/* SearchResultDone (4.5.2) success. */
static struct pg_buf search_done(uint32_t mid)
{
    struct pg_buf op = {0};
    pg_der(&op, 0x0a, "\x00", 1);
    pg_der(&op, 0x04, NULL, 0);
    pg_der(&op, 0x04, NULL, 0);
    struct pg_buf m = ldap_msg(mid, 0x65, &op);
    pg_free(&op);
    return m;
}

/* ExtendedRequest StartTLS (4.14.1) and its response (4.14.2). */
static struct pg_buf starttls_req(uint32_t mid)
{
    struct pg_buf op = {0};
    put_str(&op, 0x80, "1.3.6.1.4.1.1466.20037");
    struct pg_buf m = ldap_msg(mid, 0x77, &op);
    pg_free(&op);
    return m;
}

static struct pg_buf starttls_resp(uint32_t mid, uint8_t code)
{
    struct pg_buf op = {0};
    pg_der(&op, 0x0a, &code, 1);
    pg_der(&op, 0x04, NULL, 0);
    pg_der(&op, 0x04, NULL, 0);
    put_str(&op, 0x8a, "1.3.6.1.4.1.1466.20037");
    struct pg_buf m = ldap_msg(mid, 0x78, &op);
    pg_free(&op);
    return m;
}

/* A SASL buffer (RFC 4422 3.7): length, then a token starting as `tok` says, filled to n bytes. */
static struct pg_buf sasl_buffer(const char *tok, size_t toklen, size_t n)
{
    struct pg_buf b = {0};
    pg_u32be(&b, (uint32_t)n);
    pg_put(&b, tok, toklen);
    pg_fill(&b, 0x30, n - toklen); /* 0x30 bytes inside: never taken for an LDAPMessage */
    return b;
}

#define WRAP_CFX "\x05\x04\x06\xff\x00\x00\x00\x1c\x00\x00\x00\x00\x20\x10\x6d\xad"
#define NTLM_SIG "\x01\x00\x00\x00\x8a\x12\x7c\x55\x3b\x14\x6d\x92\x00\x00\x00\x00"

/* ---- Kerberos GSS tokens (RFC 4121 4.1, RFC 4120 5.5.1-5.5.2) --------------------------------------- */

static void ctx_int(struct pg_buf *b, uint8_t tag, uint8_t v)
{
    struct pg_buf f = {0};
    pg_der(&f, 0x02, &v, 1);
    pg_der(b, (uint8_t)(0xa0 | tag), f.p, f.len);
    pg_free(&f);
}

static void enc_data(struct pg_buf *b, uint8_t tag, uint8_t etype, size_t cipher_len)
{
    struct pg_buf e = {0}, c = {0};
    ctx_int(&e, 0, etype);
    ctx_int(&e, 1, 2);
    pg_fill(&c, 0xC1, cipher_len);
    struct pg_buf o = {0};
    pg_der(&o, 0x04, c.p, c.len);
    pg_der(&e, 0xa2, o.p, o.len);
    pg_der_wrap(&e, 0x30);
    pg_der(b, (uint8_t)(0xa0 | tag), e.p, e.len);
    pg_free(&e);
    pg_free(&c);
    pg_free(&o);
}

/* GSS krb5 InitialContextToken: 60 { krb5 OID, TOK_ID, AP-REQ for ldap/dc1.hoplab.test@HOPLAB.TEST }. */
static struct pg_buf krb5_ap_req_token(void)
{
    struct pg_buf sn = {0}, names = {0}, tkt = {0}, ap = {0}, f = {0}, out = {0};
    ctx_int(&sn, 0, 2); /* NT-SRV-INST */
    put_str(&names, 0x1b, "ldap");
    put_str(&names, 0x1b, "dc1.hoplab.test");
    pg_der_wrap(&names, 0x30);
    pg_der(&sn, 0xa1, names.p, names.len);
    pg_der_wrap(&sn, 0x30);
    ctx_int(&tkt, 0, 5);
    put_str(&f, 0x1b, "HOPLAB.TEST");
    pg_der(&tkt, 0xa1, f.p, f.len);
    pg_der(&tkt, 0xa2, sn.p, sn.len);
    enc_data(&tkt, 3, 18, 64);
    pg_der_wrap(&tkt, 0x30);
    pg_der_wrap(&tkt, 0x61);
    ctx_int(&ap, 0, 5);
    ctx_int(&ap, 1, 14);
    pg_free(&f);
    pg_der(&f, 0x03, "\x00\x20\x00\x00\x00", 5); /* mutual-required */
    pg_der(&ap, 0xa2, f.p, f.len);
    pg_der(&ap, 0xa3, tkt.p, tkt.len);
    enc_data(&ap, 4, 18, 48);
    pg_der_wrap(&ap, 0x30);
    pg_der_wrap(&ap, 0x6e);
    pg_der(&out, 0x06, PG_OID_KRB5, sizeof PG_OID_KRB5 - 1);
    pg_put(&out, "\x01\x00", 2);
    pg_put(&out, ap.p, ap.len);
    pg_der_wrap(&out, 0x60);
    pg_free(&sn);
    pg_free(&names);
    pg_free(&tkt);
    pg_free(&ap);
    pg_free(&f);
    return out;
}

/* GSS krb5 token with an AP-REP (RFC 4120 5.5.2). */
static struct pg_buf krb5_ap_rep_token(void)
{
    struct pg_buf ap = {0}, out = {0};
    ctx_int(&ap, 0, 5);
    ctx_int(&ap, 1, 15);
    enc_data(&ap, 2, 18, 40);
    pg_der_wrap(&ap, 0x30);
    pg_der_wrap(&ap, 0x6f);
    pg_der(&out, 0x06, PG_OID_KRB5, sizeof PG_OID_KRB5 - 1);
    pg_put(&out, "\x02\x00", 2);
    pg_put(&out, ap.p, ap.len);
    pg_der_wrap(&out, 0x60);
    pg_free(&ap);
    return out;
}

/* ---- helpers ------------------------------------------------------------------------------------------ */

static void open_ldap(struct pg_run *r, struct pg_conn *c, uint16_t port)
{
    pg_conn_init(c, 50389, port);
    pg_handshake(r, c);
}

/* Sends b from dir and frees it; returns the frame of its last segment. */
static uint64_t send_free(struct pg_run *r, struct pg_conn *c, int dir, struct pg_buf *b)
{
    uint64_t f = pg_sendb(r, c, dir, b);
    pg_free(b);
    return f;
}

/* ---- tests -------------------------------------------------------------------------------------------- */

static void test_ldap_probe_takes_ldap_and_nothing_else(void **state)
{
    (void)state;
    struct pg_buf m = bind_simple(1, "cn=alice,dc=hoplab,dc=test", "pw", false);
    assert_int_equal(ldap_probe(m.p, m.len), 100);
    pg_free(&m);
    m = bind_simple(7, "", "", true); /* AD's 30 84 ... 60 84 ... */
    assert_int_equal(ldap_probe(m.p, m.len), 100);
    assert_int_equal(ldap_probe(m.p, 16), 100);
    pg_free(&m);
    m = search_root(0x55d5a961); /* four-octet messageID, as Windows sends */
    assert_int_equal(ldap_probe(m.p, m.len), 100);
    pg_free(&m);
    /* cut after a valid protocolOp tag: enough to take it */
    static const uint8_t cut[] = {0x30, 0x84, 0x00, 0x00, 0x01, 0x00, 0x02, 0x04,
                                  0x12, 0x34, 0x56, 0x78, 0x60, 0x84, 0x00, 0x00};
    assert_int_equal(ldap_probe(cut, sizeof cut), 90);

    static const char *const others[] = {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n",
        "SSH-2.0-OpenSSH_9.2p1\r\n",
    };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        assert_int_equal(ldap_probe((const uint8_t *)others[i], strlen(others[i])), 0);
    static const uint8_t nbss_smb2[] = {0x00, 0x00, 0x00, 0x40, 0xfe, 'S', 'M', 'B', 64, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t krb_tcp[] = {0x00, 0x00, 0x01, 0x00, 0x6a, 0x81, 0xfc, 0x30,
                                      0x81, 0xf9, 0xa1, 0x03, 0x02, 0x01, 0x05, 0xa2};
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0, 0, 0, 0, 0};
    static const uint8_t dcerpc[] = {0x05, 0x00, 0x0b, 0x03, 0x10, 0x00, 0x00, 0x00,
                                     0x74, 0x00, 0x00, 0x00, 0x01, 0,    0,    0};
    static const uint8_t zeros[16] = {0};
    /* SEQUENCEs that are not LDAPMessages */
    static const uint8_t bad_op[] = {0x30, 0x0e, 0x02, 0x01, 0x01, 0x91, 0x09, 0x0a,
                                     0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0,    0};
    static const uint8_t negative_id[] = {0x30, 0x0e, 0x02, 0x01, 0x81, 0x61, 0x09, 0x0a,
                                          0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0,    0};
    static const uint8_t op_past_seq[] = {0x30, 0x08, 0x02, 0x01, 0x01, 0x61, 0x09, 0x0a,
                                          0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0,    0};
    static const uint8_t unused_app_tag[] = {0x30, 0x0e, 0x02, 0x01, 0x01, 0x71, 0x09, 0x0a,
                                             0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0,    0};
    static const uint8_t primitive_bind[] = {0x30, 0x0e, 0x02, 0x01, 0x01, 0x40, 0x09, 0x0a,
                                             0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0,    0};
    static const uint8_t indefinite[] = {0x30, 0x80, 0x02, 0x01, 0x01, 0x60, 0x80, 0x02,
                                         0x01, 0x03, 0x04, 0x00, 0x80, 0x00, 0,    0};
    static const uint8_t snmp[] = {0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, 'p',
                                   'u',  'b',  'l',  'i',  'c',  0xa0, 0x19, 0x02};
    const struct {
        const uint8_t *p;
        size_t n;
    } bytes[] = {
        {nbss_smb2, sizeof nbss_smb2},
        {krb_tcp, sizeof krb_tcp},
        {tls, sizeof tls},
        {dcerpc, sizeof dcerpc},
        {zeros, sizeof zeros},
        {bad_op, sizeof bad_op},
        {negative_id, sizeof negative_id},
        {op_past_seq, sizeof op_past_seq},
        {unused_app_tag, sizeof unused_app_tag},
        {primitive_bind, sizeof primitive_bind},
        {indefinite, sizeof indefinite},
        {snmp, sizeof snmp},
    };
    for (size_t i = 0; i < sizeof bytes / sizeof *bytes; i++) {
        if (ldap_probe(bytes[i].p, bytes[i].n) != 0)
            fail_msg("probe took case %zu", i);
    }
    assert_int_equal(ldap_probe(NULL, 0), 0);
}

static void test_simple_bind_success_password_never_output(void **state)
{
    (void)state;
    static const char pw[] = "Tr0ub4dor&3-ldap";
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_ldap(&r, &c, 389);
    struct pg_buf q = bind_simple(1, "CN=Alice Liddell,CN=Users,DC=hoplab,DC=test", pw, true);
    uint64_t fq = send_free(&r, &c, 0, &q);
    struct pg_buf a = bind_resp_ex(1, 0, "", 0, "", NULL, true);
    uint64_t fa = send_free(&r, &c, 1, &a);
    struct pg_buf s = search_root(2), d = search_done(2);
    send_free(&r, &c, 0, &s);
    send_free(&r, &c, 1, &d);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);

    assert_int_equal(pg_nrecs(&r), 1);
    json_t *j = pg_rec(&r, 0);
    assert_jstr(j, "transport", "ldap");
    assert_jstr(j, "service", "ldap");
    assert_jstr(j, "mechanism", "simple");
    assert_jint(j, "server.port", 389);
    assert_jint(j, "ldap.version", 3);
    assert_jstr(j, "ldap.bind_dn", "CN=Alice Liddell,CN=Users,DC=hoplab,DC=test");
    assert_jstr(j, "ldap.auth", "simple");
    assert_jbool(j, "ldap.simple_anonymous", false);
    assert_jstr(j, "ldap.simple_method", "password");
    assert_jabsent(j, "ldap.sasl_mechanism");
    assert_jint(j, "ldap.binds[0].message_id", 1);
    assert_jint(j, "ldap.binds[0].request", (long long)fq);
    assert_jint(j, "ldap.binds[0].response", (long long)fa);
    assert_jstr(j, "ldap.binds[0].result_code.name", "success");
    assert_jstr(j, "result", "success");
    assert_jstr(j, "status.name", "success");
    assert_jint(j, "status.code", 0);
    assert_jint(j, "frames.verdict", (long long)fa);
    assert_jabsent(j, "ntlm");
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    /* the password, and any part of it, nowhere in the output; nor its length */
    assert_null(strstr(r.text, pw));
    assert_null(strstr(r.text, "Tr0ub"));
    assert_null(strstr(r.text, "password_len"));
    pg_run_free(&r);
}

static void test_simple_bind_failure_ad_data_code(void **state)
{
    (void)state;
    static const char diag52e[] =
        "80090308: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 52e, v4563";
    static const char diag775[] =
        "80090308: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 775, v4563";
    struct pg_run r;
    pg_run_init(&r, NULL);
    r.w->ops = &text_writer_ops; /* the text table too: user column, status name */
    struct pg_conn c;
    open_ldap(&r, &c, 389);
    struct pg_buf q = bind_simple(1, "alice@hoplab.test", "wrong-Passw0rd", false);
    send_free(&r, &c, 0, &q);
    /* AD ends the diagnostic with a NUL byte */
    struct pg_buf a = {0}, op = {0};
    pg_der(&op, 0x0a, "\x31", 1);
    pg_der(&op, 0x04, NULL, 0);
    pg_der(&op, 0x04, diag52e, sizeof diag52e);
    a = ldap_msg(1, 0x61, &op);
    pg_free(&op);
    send_free(&r, &c, 1, &a);
    q = bind_simple(2, "bob@hoplab.test", "An0ther-pw", false);
    send_free(&r, &c, 0, &q);
    a = bind_resp(2, 49, diag775, NULL);
    send_free(&r, &c, 1, &a);
    pg_close(&r, &c, 0);
    engine_finish(&r.e);
    const char *text = pg_output_now(&r);
    assert_non_null(strstr(text, "ldap/ldap"));
    assert_non_null(strstr(text, "alice@hoplab.test"));
    assert_non_null(strstr(text, "failure invalidCredentials"));
    assert_null(strstr(text, "wrong-Passw0rd"));
    assert_null(strstr(text, "An0ther-pw"));
    pg_run_free(&r);

    pg_run_init(&r, NULL);
    open_ldap(&r, &c, 389);
    q = bind_simple(1, "alice@hoplab.test", "wrong-Passw0rd", false);
    send_free(&r, &c, 0, &q);
    a = bind_resp(1, 49, diag52e, NULL);
    uint64_t fa = send_free(&r, &c, 1, &a);
    q = bind_simple(2, "bob@hoplab.test", "An0ther-pw", false);
    send_free(&r, &c, 0, &q);
    a = bind_resp(2, 49, diag775, NULL);
    send_free(&r, &c, 1, &a);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 2);
    json_t *j = pg_rec(&r, 0);
    assert_jstr(j, "result", "failure");
    assert_jstr(j, "status.name", "invalidCredentials");
    assert_jint(j, "status.code", 49);
    assert_jint(j, "frames.verdict", (long long)fa);
    assert_jstr(j, "ldap.bind_dn", "alice@hoplab.test");
    assert_jstr(j, "ldap.diagnostic_message", diag52e);
    assert_jstr(j, "ldap.ad_error.code", "52e");
    assert_jstr(j, "ldap.ad_error.name", "ERROR_LOGON_FAILURE");
    assert_jstr(j, "ldap.ad_error.meaning", "invalid credentials");
    assert_jstr(j, "ldap.result_code.name", "invalidCredentials");
    j = pg_rec(&r, 1);
    assert_jstr(j, "ldap.bind_dn", "bob@hoplab.test");
    assert_jstr(j, "ldap.ad_error.code", "775");
    assert_jstr(j, "ldap.ad_error.name", "ERROR_ACCOUNT_LOCKED_OUT");
    assert_jstr(j, "ldap.ad_error.meaning", "account locked out");
    assert_null(strstr(r.text, "wrong-Passw0rd"));
    assert_null(strstr(r.text, "An0ther-pw"));
    pg_run_free(&r);
}

static void test_anonymous_and_unauthenticated_simple_binds(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_ldap(&r, &c, 389);
    /* RFC 4513 5.1.1: empty name, empty password. Both messages are 14 bytes, fewer than the engine wants
     * for a probe: the LDAP probe is sure of them, so each is parsed in its own frame. */
    struct pg_buf q = bind_simple(1, "", "", false), s = search_root(2);
    assert_int_equal(q.len, 14);
    uint64_t fq = send_free(&r, &c, 0, &q);
    struct pg_buf a = bind_resp(1, 0, "", NULL), d = search_done(2);
    assert_int_equal(a.len, 14);
    uint64_t fa = send_free(&r, &c, 1, &a);
    send_free(&r, &c, 0, &s);
    send_free(&r, &c, 1, &d);
    /* 5.1.2: a name without a password, refused as RFC 4513 6.3.1 lets a server do */
    q = bind_simple(3, "cn=nobody,dc=hoplab,dc=test", "", false);
    send_free(&r, &c, 0, &q);
    a = bind_resp(3, 53, "unauthenticated bind (DN with no password) disallowed", NULL);
    send_free(&r, &c, 1, &a);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);

    assert_int_equal(pg_nrecs(&r), 2);
    json_t *j = pg_rec(&r, 0);
    assert_jstr(j, "mechanism", "simple");
    assert_jstr(j, "ldap.bind_dn", "");
    assert_jbool(j, "ldap.simple_anonymous", true);
    assert_jstr(j, "ldap.simple_method", "anonymous");
    assert_jstr(j, "result", "success");
    assert_jint(j, "ldap.binds[0].request", (long long)fq);
    assert_jint(j, "ldap.binds[0].response", (long long)fa);
    assert_jint(j, "frames.verdict", (long long)fa);
    j = pg_rec(&r, 1);
    assert_jbool(j, "ldap.simple_anonymous", true);
    assert_jstr(j, "ldap.simple_method", "unauthenticated");
    assert_jstr(j, "result", "failure");
    assert_jstr(j, "status.name", "unwillingToPerform");
    assert_jabsent(j, "ldap.ad_error");
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    pg_run_free(&r);
}

/* Windows' GSS-SPNEGO bind with NTLM: bare NTLMSSP messages as the credentials (MS-ADTS 5.1.1.1.2). */
static void test_sasl_gss_spnego_ntlm_two_legs(void **state)
{
    (void)state;
    for (int wrapped = 0; wrapped < 2; wrapped++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        open_ldap(&r, &c, 389);
        struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                      auth = pg_ntlm_authenticate("alice", "HOPLAB", "WS01");
        if (wrapped) { /* the same inside SPNEGO */
            struct pg_buf x = pg_spnego_init(&neg, true), y = pg_spnego_resp(1, true, &chal),
                          z = pg_spnego_resp(-1, false, &auth);
            pg_free(&neg);
            pg_free(&chal);
            pg_free(&auth);
            neg = x;
            chal = y;
            auth = z;
        }
        struct pg_buf m = bind_sasl(5, "", "GSS-SPNEGO", &neg);
        uint64_t f1 = send_free(&r, &c, 0, &m);
        m = bind_resp(5, 14, "", &chal);
        uint64_t f2 = send_free(&r, &c, 1, &m);
        m = bind_sasl(6, "", "GSS-SPNEGO", &auth);
        uint64_t f3 = send_free(&r, &c, 0, &m);
        struct pg_buf done = pg_spnego_resp(0, false, NULL);
        m = bind_resp(6, 0, "", wrapped ? &done : NULL);
        uint64_t f4 = send_free(&r, &c, 1, &m);
        pg_free(&done);
        pg_close(&r, &c, 0);
        pg_run_finish(&r);

        assert_int_equal(pg_nrecs(&r), 1);
        json_t *j = pg_rec(&r, 0);
        assert_jstr(j, "mechanism", "negotiate/ntlm");
        assert_jstr(j, "ldap.auth", "sasl");
        assert_jstr(j, "ldap.sasl_mechanism", "GSS-SPNEGO");
        assert_jstr(j, "ntlm.user", "alice");
        assert_jstr(j, "ntlm.domain", "HOPLAB");
        assert_jstr(j, "ntlm.workstation", "WS01");
        assert_jstr(j, "ntlm.response_type", "ntlmv2");
        assert_jstr(j, "server.names.dns_computer", "srv1.hoplab.test");
        assert_jint(j, "frames.negotiate", (long long)f1);
        assert_jint(j, "frames.challenge", (long long)f2);
        assert_jint(j, "frames.authenticate", (long long)f3);
        assert_jint(j, "frames.verdict", (long long)f4);
        assert_jint(j, "ldap.binds[0].message_id", 5);
        assert_jstr(j, "ldap.binds[0].result_code.name", "saslBindInProgress");
        assert_jint(j, "ldap.binds[0].result_code.code", 14);
        assert_jint(j, "ldap.binds[1].request", (long long)f3);
        assert_jint(j, "ldap.binds[1].response", (long long)f4);
        assert_jstr(j, "result", "success");
        if (wrapped)
            assert_jstr(j, "spnego.neg_state", "accept-completed");
        assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
        assert_int_equal(pg_stat(&r, "malformed.spnego"), 0);
        assert_int_equal(pg_stat(&r, "malformed.ntlmssp"), 0);
        pg_free(&neg);
        pg_free(&chal);
        pg_free(&auth);
        pg_run_free(&r);
    }
}

/* MS-ADTS 5.1.1.1.3: package discovery, then NEGOTIATE answered with the CHALLENGE where matchedDN is. */
static void test_sicily_discovery_negotiate_response(void **state)
{
    (void)state;
    for (int fail = 0; fail < 2; fail++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        open_ldap(&r, &c, 389);
        struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                      auth = pg_ntlm_authenticate("bob", "HOPLAB", "WS02");
        struct pg_buf m = bind_sicily(1, "", 9, NULL);
        uint64_t f0 = send_free(&r, &c, 0, &m);
        m = bind_resp_ex(1, 0, "NTLM", 4, "", NULL, false);
        send_free(&r, &c, 1, &m);
        m = bind_sicily(2, "NTLM", 10, &neg);
        uint64_t f1 = send_free(&r, &c, 0, &m);
        m = bind_resp_ex(2, 0, chal.p, chal.len, "", NULL, true);
        uint64_t f2 = send_free(&r, &c, 1, &m);
        m = bind_sicily(3, "", 11, &auth);
        uint64_t f3 = send_free(&r, &c, 0, &m);
        m = bind_resp(3, fail ? 49 : 0,
                      fail ? "80090308: LdapErr: DSID-0C0906A1, comment: AcceptSecurityContext error, data 52e, v4563"
                           : "",
                      NULL);
        uint64_t f4 = send_free(&r, &c, 1, &m);
        pg_close(&r, &c, 0);
        pg_run_finish(&r);

        assert_int_equal(pg_nrecs(&r), 1);
        json_t *j = pg_rec(&r, 0);
        assert_jstr(j, "mechanism", "ntlm");
        assert_jstr(j, "ldap.auth", "sicily");
        assert_jstr(j, "ldap.sicily_packages", "NTLM");
        assert_jabsent(j, "ldap.matched_dn");
        assert_jstr(j, "ntlm.user", "bob");
        assert_jabsent(j, "ntlm.server_challenge"); /* the CHALLENGE was read (frames.challenge), its challenge never written */
        assert_jint(j, "frames.negotiate", (long long)f1);
        assert_jint(j, "frames.challenge", (long long)f2);
        assert_jint(j, "frames.authenticate", (long long)f3);
        assert_jint(j, "frames.verdict", (long long)f4);
        assert_jint(j, "ldap.binds[0].request", (long long)f0);
        assert_int_equal(json_array_size(pg_j(j, "ldap.binds")), 3);
        assert_jstr(j, "result", fail ? "failure" : "success");
        if (fail) {
            assert_jstr(j, "status.name", "invalidCredentials");
            assert_jstr(j, "ldap.ad_error.code", "52e");
        }
        assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
        assert_int_equal(pg_stat(&r, "malformed.ntlmssp"), 0);
        pg_free(&neg);
        pg_free(&chal);
        pg_free(&auth);
        pg_run_free(&r);
    }
}

/* RFC 4752 3.1: AP-REQ, then two legs of security-layer negotiation (wrap tokens, not for the dispatch), then
 * every PDU in a SASL buffer. */
static void test_kerberos_gssapi_bind_then_sealed(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_ldap(&r, &c, 389);
    struct pg_buf apreq = krb5_ap_req_token(), aprep = krb5_ap_rep_token();
    struct pg_buf wrap1 = pg_copy("\x05\x04\x05\xff\x00\x0c\x00\x0c\x00\x00\x00\x00\x36\x63\xdf\x32\x07\x01\x00\x00"
                                  "\x35\x02\x0f\x9a\xb3\xbf\xa1\x68\x6a\x98\x4e\xc7",
                                  32);
    struct pg_buf wrap2 = pg_copy("\x05\x04\x04\xff\x00\x0c\x00\x00\x00\x00\x00\x00\x2d\x36\x72\x31\x04\xff\xff\xff"
                                  "\x66\x20\xed\x6b\x61\x07\x7b\x95\x0f\xac\xd2\x86",
                                  32);
    struct pg_buf m = bind_sasl(1, "", "GSSAPI", &apreq);
    uint64_t f1 = send_free(&r, &c, 0, &m);
    m = bind_resp(1, 14, "", &aprep);
    uint64_t f2 = send_free(&r, &c, 1, &m);
    m = bind_sasl(2, "", "GSSAPI", NULL);
    send_free(&r, &c, 0, &m);
    m = bind_resp(2, 14, "", &wrap1);
    send_free(&r, &c, 1, &m);
    m = bind_sasl(3, "", "GSSAPI", &wrap2);
    send_free(&r, &c, 0, &m);
    struct pg_buf empty = {0};
    m = bind_resp(3, 0, "", &empty);
    uint64_t f6 = send_free(&r, &c, 1, &m);
    /* sealed: a search, its results over three segments, an unbind */
    struct pg_buf b = sasl_buffer(WRAP_CFX, 16, 120);
    send_free(&r, &c, 0, &b);
    b = sasl_buffer(WRAP_CFX, 16, 3000);
    const size_t cuts[] = {2, 1500};
    pg_send_cuts(&r, &c, 1, b.p, b.len, cuts, 2);
    pg_free(&b);
    b = sasl_buffer(WRAP_CFX, 16, 40);
    send_free(&r, &c, 0, &b);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);

    assert_int_equal(pg_nrecs(&r), 1);
    json_t *j = pg_rec(&r, 0);
    assert_jstr(j, "mechanism", "kerberos");
    assert_jstr(j, "ldap.sasl_mechanism", "GSSAPI");
    assert_jbool(j, "kerberos.ap_req", true);
    assert_jbool(j, "kerberos.ap_rep", true);
    assert_jstr(j, "kerberos.spn", "ldap/dc1.hoplab.test");
    assert_jstr(j, "kerberos.realm", "HOPLAB.TEST");
    assert_jint(j, "frames.ap_req", (long long)f1);
    assert_jint(j, "frames.ap_rep", (long long)f2);
    assert_jint(j, "frames.verdict", (long long)f6);
    assert_int_equal(json_array_size(pg_j(j, "ldap.binds")), 3);
    assert_jstr(j, "ldap.binds[1].result_code.name", "saslBindInProgress");
    assert_jstr(j, "result", "success");
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    assert_int_equal(pg_stat(&r, "malformed.spnego"), 0);
    assert_int_equal(pg_stat(&r, "malformed.kerberos"), 0);
    assert_int_equal(pg_stat(&r, "dropped.pdu_oversize"), 0);
    pg_free(&apreq);
    pg_free(&aprep);
    pg_free(&wrap1);
    pg_free(&wrap2);
    pg_run_free(&r);
}

/* Windows' GSS-SPNEGO Kerberos bind, then NTLM-signed and Kerberos-sealed SASL buffers in both directions. */
static void test_sealed_traffic_after_spnego_bind_not_malformed(void **state)
{
    (void)state;
    struct pg_run r;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.max_pdu = 2048; /* SASL buffers are skipped, never buffered: their size does not matter */
    pg_run_init(&r, &lim);
    struct pg_conn c;
    open_ldap(&r, &c, 3268);
    struct pg_buf apreq = krb5_ap_req_token();
    struct pg_buf init = {0}, mt = {0}, seq = {0};
    /* NegTokenInit { mechTypes {MS krb5, krb5}, mechToken AP-REQ } in GSS framing */
    pg_der(&mt, 0x06, "\x2a\x86\x48\x82\xf7\x12\x01\x02\x02", 9);
    pg_der(&mt, 0x06, PG_OID_KRB5, sizeof PG_OID_KRB5 - 1);
    pg_der_wrap(&mt, 0x30);
    pg_der_wrap(&mt, 0xa0);
    pg_put(&seq, mt.p, mt.len);
    struct pg_buf tok = {0};
    pg_der(&tok, 0x04, apreq.p, apreq.len);
    pg_der_wrap(&tok, 0xa2);
    pg_put(&seq, tok.p, tok.len);
    pg_der_wrap(&seq, 0x30);
    pg_der_wrap(&seq, 0xa0);
    pg_der(&init, 0x06, PG_OID_SPNEGO, sizeof PG_OID_SPNEGO - 1);
    pg_put(&init, seq.p, seq.len);
    pg_der_wrap(&init, 0x60);
    struct pg_buf m = bind_sasl(3, "", "GSS-SPNEGO", &init);
    send_free(&r, &c, 0, &m);
    struct pg_buf resp = pg_spnego_resp(0, false, NULL);
    m = bind_resp_ex(3, 0, "", 0, "", &resp, true);
    send_free(&r, &c, 1, &m);
    for (int i = 0; i < 4; i++) {
        struct pg_buf b = sasl_buffer(i & 1 ? NTLM_SIG : WRAP_CFX, 16, i == 3 ? 9000 : 100 + 10 * (size_t)i);
        if (i == 3) {
            const size_t cuts[] = {1, 3, 5, 2000, 7000};
            pg_send_cuts(&r, &c, 1, b.p, b.len, cuts, 5);
            pg_free(&b);
        } else {
            send_free(&r, &c, i & 1, &b);
        }
    }
    pg_close(&r, &c, 0);
    pg_run_finish(&r);

    assert_int_equal(pg_nrecs(&r), 1);
    json_t *j = pg_rec(&r, 0);
    assert_jstr(j, "mechanism", "negotiate/kerberos");
    assert_jint(j, "server.port", 3268);
    assert_jstr(j, "result", "success");
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    assert_int_equal(pg_stat(&r, "dropped.pdu_oversize"), 0);
    pg_free(&apreq);
    pg_free(&init);
    pg_free(&mt);
    pg_free(&seq);
    pg_free(&tok);
    pg_free(&resp);
    pg_run_free(&r);
}

/* A connection picked up mid-way through sealed traffic: SASL buffers are recognised by their wrap tokens. */
static void test_sealed_midstream_pickup(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 52220, 389); /* no handshake */
    struct pg_buf b = sasl_buffer(WRAP_CFX, 16, 220);
    send_free(&r, &c, 0, &b);
    b = sasl_buffer(WRAP_CFX, 16, 500);
    send_free(&r, &c, 1, &b);
    b = sasl_buffer(NTLM_SIG, 16, 64);
    send_free(&r, &c, 0, &b);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 0);
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    pg_run_free(&r);
}

/* A capture that starts after the BindRequest: the response alone is an attempt, named by its GSS token. */
static void test_response_without_request(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 52220, 389);
    struct pg_buf mech = {0}, seq = {0}, t = {0};
    pg_der(&seq, 0x0a, "\x00", 1);
    pg_der_wrap(&seq, 0xa0);
    pg_der(&mech, 0x06, "\x2a\x86\x48\x82\xf7\x12\x01\x02\x02", 9);
    pg_der_wrap(&mech, 0xa1);
    pg_put(&seq, mech.p, mech.len);
    pg_der_wrap(&seq, 0x30);
    pg_der_wrap(&seq, 0xa1);
    struct pg_buf m = bind_resp_ex(38, 0, "", 0, "", &seq, true);
    uint64_t f = send_free(&r, &c, 1, &m);
    t = sasl_buffer(WRAP_CFX, 16, 200);
    send_free(&r, &c, 0, &t);
    t = sasl_buffer(WRAP_CFX, 16, 300);
    send_free(&r, &c, 1, &t);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *j = pg_rec(&r, 0);
    assert_jstr(j, "mechanism", "negotiate/kerberos");
    assert_jstr(j, "ldap.auth", "sasl");
    assert_jabsent(j, "ldap.bind_dn");
    assert_jabsent(j, "ldap.binds[0].request");
    assert_jint(j, "ldap.binds[0].response", (long long)f);
    assert_jint(j, "ldap.binds[0].message_id", 38);
    assert_jstr(j, "result", "success");
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    pg_free(&mech);
    pg_free(&seq);
    pg_run_free(&r);
}

static void test_message_split_across_segments(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_ldap(&r, &c, 389);
    struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                  auth = pg_ntlm_authenticate("carol", "HOPLAB", "WS03");
    struct pg_buf m = bind_sasl(1, "", "GSS-SPNEGO", &neg);
    const size_t c1[] = {1, 2, 3, 7, 20};
    uint64_t f1 = pg_send_cuts(&r, &c, 0, m.p, m.len, c1, 5);
    pg_free(&m);
    m = bind_resp(1, 14, "", &chal);
    const size_t c2[] = {5, 100};
    uint64_t f2 = pg_send_cuts(&r, &c, 1, m.p, m.len, c2, 2);
    pg_free(&m);
    m = bind_sasl(2, "", "GSS-SPNEGO", &auth);
    uint64_t f3 = pg_send_mss(&r, &c, 0, m.p, m.len, 50);
    pg_free(&m);
    /* the response and a search result in one segment, then a second search in two */
    m = bind_resp(2, 0, "", NULL);
    struct pg_buf d = search_done(3);
    pg_put(&m, d.p, d.len);
    uint64_t f4 = send_free(&r, &c, 1, &m);
    pg_free(&d);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);

    assert_int_equal(pg_nrecs(&r), 1);
    json_t *j = pg_rec(&r, 0);
    assert_jstr(j, "ntlm.user", "carol");
    assert_jint(j, "frames.negotiate", (long long)f1);
    assert_jint(j, "frames.challenge", (long long)f2);
    assert_jint(j, "frames.authenticate", (long long)f3);
    assert_jint(j, "frames.verdict", (long long)f4);
    assert_jint(j, "ldap.binds[0].request", (long long)f1);
    assert_jstr(j, "result", "success");
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    pg_free(&neg);
    pg_free(&chal);
    pg_free(&auth);
    pg_run_free(&r);
}

/* Runs one connection whose client sends a search (so that the probe takes the connection), `bad`, then a
 * valid simple bind; returns the run (finished). */
static void run_bad_then_bind(struct pg_run *r, const struct hs_limits *lim, const void *bad, size_t n)
{
    pg_run_init(r, lim);
    struct pg_conn c;
    open_ldap(r, &c, 389);
    struct pg_buf q = search_root(1);
    pg_put(&q, bad, n);
    struct pg_buf b = bind_simple(9, "cn=after,dc=hoplab,dc=test", "pw-after-garbage", false);
    pg_put(&q, b.p, b.len);
    pg_free(&b);
    send_free(r, &c, 0, &q);
    b = bind_resp(9, 0, "", NULL);
    send_free(r, &c, 1, &b);
    pg_close(r, &c, 0);
    pg_run_finish(r);
}

static void test_malformed_messages_counted_and_resynchronised(void **state)
{
    (void)state;
    struct pg_run r;
    /* each: bytes that start like an LDAPMessage but are not one; a valid bind follows */
    static const uint8_t zero_len[] = {0x30, 0x00, 0x11, 0x22};
    static const uint8_t empty_bind[] = {0x30, 0x05, 0x02, 0x01, 0x01, 0x60, 0x00};
    static const uint8_t version_not_int[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07,
                                              0x04, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00};
    static const uint8_t simple_constructed[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07,
                                                 0x02, 0x01, 0x03, 0x04, 0x00, 0xa0, 0x00};
    static const uint8_t result_not_enum[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07,
                                              0x02, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
    static const uint8_t inner_past_op[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07,
                                            0x02, 0x01, 0x03, 0x04, 0x40, 0x80, 0x00};
    static const uint8_t huge_len[] = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01,
                                       0x01, 0x60, 0x84, 0x7f, 0xff, 0xff, 0xf0, 0x02};
    static const uint8_t indefinite[] = {0x30, 0x80, 0x02, 0x01, 0x01, 0x42, 0x00, 0x00, 0x00};
    static const uint8_t five_octet_len[] = {0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x07, 0x02, 0x01, 0x01, 0x42, 0x00};
    static const uint8_t sasl_mech_nested[] = {0x30, 0x12, 0x02, 0x01, 0x01, 0x60, 0x0d, 0x02, 0x01, 0x03,
                                               0x04, 0x00, 0xa3, 0x06, 0x30, 0x04, 0x30, 0x02, 0x30, 0x00};
    const struct {
        const uint8_t *p;
        size_t n;
        const char *what;
    } cases[] = {
        {zero_len, sizeof zero_len, "zero-length SEQUENCE"},
        {empty_bind, sizeof empty_bind, "empty BindRequest"},
        {version_not_int, sizeof version_not_int, "version an OCTET STRING"},
        {simple_constructed, sizeof simple_constructed, "constructed simple"},
        {result_not_enum, sizeof result_not_enum, "resultCode an INTEGER"},
        {inner_past_op, sizeof inner_past_op, "name longer than the BindRequest"},
        {huge_len, sizeof huge_len, "2 GiB length"},
        {indefinite, sizeof indefinite, "indefinite length"},
        {five_octet_len, sizeof five_octet_len, "five length octets"},
        {sasl_mech_nested, sizeof sasl_mech_nested, "nested SEQUENCEs for the mechanism"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run_bad_then_bind(&r, NULL, cases[i].p, cases[i].n);
        if (pg_stat(&r, "malformed.ldap") < 1)
            fail_msg("%s: not counted", cases[i].what);
        /* the bind after it is found again */
        size_t k = 0;
        for (size_t x = 0; x < pg_nrecs(&r); x++)
            if (json_is_string(pg_j(pg_rec(&r, x), "ldap.bind_dn")) &&
                strcmp(json_string_value(pg_j(pg_rec(&r, x), "ldap.bind_dn")), "cn=after,dc=hoplab,dc=test") == 0)
                k++;
        if (k != 1)
            fail_msg("%s: bind after it found %zu times", cases[i].what, k);
        assert_null(strstr(r.text, "pw-after-garbage"));
        pg_run_free(&r);
    }
}

static void test_nested_depth_in_credentials_bounded(void **state)
{
    (void)state;
    /* GSS-SPNEGO credentials of 3000 nested SEQUENCEs: the dispatch refuses them (counted), the bind stands. */
    struct pg_buf deep = {0};
    for (int i = 0; i < 3000; i++)
        pg_put(&deep, "\x30\x80", 2);
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_ldap(&r, &c, 389);
    struct pg_buf m = bind_sasl(1, "", "GSS-SPNEGO", &deep);
    send_free(&r, &c, 0, &m);
    m = bind_resp(1, 49, "", NULL);
    send_free(&r, &c, 1, &m);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    assert_jstr(pg_rec(&r, 0), "mechanism", "negotiate");
    assert_jstr(pg_rec(&r, 0), "result", "failure");
    assert_int_equal(pg_stat(&r, "malformed.spnego"), 1);
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    pg_free(&deep);
    pg_run_free(&r);
}

static void test_truncated_message_at_close(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_ldap(&r, &c, 389);
    struct pg_buf m = bind_simple(1, "cn=cut,dc=hoplab,dc=test", "cut-password", false);
    pg_send_at(&r, &c, 0, 0, m.p, m.len - 5); /* the rest never comes: length past the data */
    pg_advance(&c, 0, m.len - 5);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 0);
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    assert_null(strstr(r.text, "cut-password"));
    pg_free(&m);
    pg_run_free(&r);
}

static void test_message_over_pdu_cap_skipped(void **state)
{
    (void)state;
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.max_pdu = 2048;
    struct pg_run r;
    pg_run_init(&r, &lim);
    struct pg_conn c;
    open_ldap(&r, &c, 389);
    struct pg_buf m = bind_simple(1, "cn=big,dc=hoplab,dc=test", "pw", false);
    send_free(&r, &c, 0, &m);
    /* a SearchResultEntry of 6000 bytes (an entry with a big attribute) before the BindResponse */
    struct pg_buf op = {0}, val = {0};
    put_str(&op, 0x04, "cn=big");
    pg_fill(&val, 'x', 6000);
    pg_der(&op, 0x30, val.p, val.len);
    m = ldap_msg(2, 0x64, &op);
    send_free(&r, &c, 1, &m);
    m = bind_resp(1, 0, "", NULL);
    uint64_t f = send_free(&r, &c, 1, &m);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    assert_jint(pg_rec(&r, 0), "frames.verdict", (long long)f);
    assert_jstr(pg_rec(&r, 0), "result", "success");
    assert_int_equal(pg_stat(&r, "dropped.pdu_oversize"), 1);
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    pg_free(&op);
    pg_free(&val);
    pg_run_free(&r);
}

static void test_starttls_stops_parsing(void **state)
{
    (void)state;
    static const uint8_t client_hello[] = {0x16, 0x03, 0x01, 0x00, 0x30, 0x01, 0x00, 0x00, 0x2c, 0x03, 0x03,
                                           0x30, 0x84, 0x00, 0x00, 0x00, 0x10, 0x02, 0x01, 0x01, 0x60, 0x0b};
    static const uint8_t server_hello[] = {0x16, 0x03, 0x03, 0x00, 0x30, 0x02, 0x00, 0x00, 0x2c, 0x03, 0x03,
                                           0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04};
    for (int seen = 0; seen < 2; seen++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        open_ldap(&r, &c, 389);
        struct pg_buf m = starttls_req(1);
        send_free(&r, &c, 0, &m);
        if (seen) {
            m = starttls_resp(1, 0);
            send_free(&r, &c, 1, &m);
        }
        pg_send(&r, &c, 0, client_hello, sizeof client_hello);
        pg_send(&r, &c, 1, server_hello, sizeof server_hello);
        /* application data inside TLS that happens to hold LDAP-looking bytes */
        m = bind_simple(2, "cn=inside-tls", "x", false);
        pg_prepend(&m, "\x17\x03\x03\x00\x40", 5);
        send_free(&r, &c, 0, &m);
        pg_close(&r, &c, 0);
        pg_run_finish(&r);
        assert_int_equal(pg_nrecs(&r), 0);
        assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
        pg_run_free(&r);
    }
}

static void test_sasl_plain_and_digest_credentials_never_read(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_ldap(&r, &c, 389);
    struct pg_buf cred = {0};
    pg_put(&cred, "\0dave\0PlainS3cret!", 18);
    struct pg_buf m = bind_sasl(1, "", "PLAIN", &cred);
    send_free(&r, &c, 0, &m);
    m = bind_resp(1, 0, "", NULL);
    send_free(&r, &c, 1, &m);
    pg_free(&cred);
    m = bind_sasl(2, "", "DIGEST-MD5", NULL);
    send_free(&r, &c, 0, &m);
    struct pg_buf ch = pg_copy("nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",charset=utf-8,algorithm=md5-sess", 66);
    m = bind_resp(2, 14, "", &ch);
    send_free(&r, &c, 1, &m);
    pg_free(&ch);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 2);
    assert_jstr(pg_rec(&r, 0), "mechanism", "sasl");
    assert_jstr(pg_rec(&r, 0), "ldap.sasl_mechanism", "PLAIN");
    assert_jstr(pg_rec(&r, 0), "result", "success");
    assert_jstr(pg_rec(&r, 1), "ldap.sasl_mechanism", "DIGEST-MD5");
    assert_jstr(pg_rec(&r, 1), "result", "unknown"); /* saslBindInProgress is no verdict */
    assert_jstr(pg_rec(&r, 1), "ldap.result_code.name", "saslBindInProgress");
    assert_jabsent(pg_rec(&r, 1), "status");
    assert_null(strstr(r.text, "PlainS3cret"));
    assert_int_equal(pg_stat(&r, "malformed.spnego"), 0);
    assert_int_equal(pg_stat(&r, "malformed.ldap"), 0);
    pg_run_free(&r);
}

/* LDAP found by its content on a port nobody registered. */
static void test_found_by_content_on_any_port(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_ldap(&r, &c, 10389);
    struct pg_buf m = bind_simple(1, "uid=erin,ou=people,dc=hoplab,dc=test", "pw-on-10389", false);
    send_free(&r, &c, 0, &m);
    m = bind_resp(1, 0, "", NULL);
    send_free(&r, &c, 1, &m);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    assert_jstr(pg_rec(&r, 0), "transport", "ldap");
    assert_jint(pg_rec(&r, 0), "server.port", 10389);
    pg_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ldap_probe_takes_ldap_and_nothing_else),
        cmocka_unit_test(test_simple_bind_success_password_never_output),
        cmocka_unit_test(test_simple_bind_failure_ad_data_code),
        cmocka_unit_test(test_anonymous_and_unauthenticated_simple_binds),
        cmocka_unit_test(test_sasl_gss_spnego_ntlm_two_legs),
        cmocka_unit_test(test_sicily_discovery_negotiate_response),
        cmocka_unit_test(test_kerberos_gssapi_bind_then_sealed),
        cmocka_unit_test(test_sealed_traffic_after_spnego_bind_not_malformed),
        cmocka_unit_test(test_sealed_midstream_pickup),
        cmocka_unit_test(test_response_without_request),
        cmocka_unit_test(test_message_split_across_segments),
        cmocka_unit_test(test_malformed_messages_counted_and_resynchronised),
        cmocka_unit_test(test_nested_depth_in_credentials_bounded),
        cmocka_unit_test(test_truncated_message_at_close),
        cmocka_unit_test(test_message_over_pdu_cap_skipped),
        cmocka_unit_test(test_starttls_stops_parsing),
        cmocka_unit_test(test_sasl_plain_and_digest_credentials_never_read),
        cmocka_unit_test(test_found_by_content_on_any_port),
    };
    pg_apply_filters();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
