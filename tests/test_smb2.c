/* NBSS framing and SMB2 through the engine: dialect, SESSION_SETUP verdicts, TREE_CONNECT,
 * compounding, segmentation, bulk skipping, encryption, malformed input and resynchronisation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pcapgen.h"
#include "smb2.h"

#define SID 0x0000100000000041ull
#define STATUS_LOGON_FAILURE 0xC000006Du
#define STATUS_ACCESS_DENIED 0xC0000022u
#define STATUS_MPR 0xC0000016u

/* SMB2 sync header (MS-SMB2 2.2.1.2). */
static void smb2_hdr(struct pg_buf *b, uint16_t cmd, bool resp, uint32_t status, uint64_t mid, uint64_t sid,
                     uint32_t extra_flags)
{
    pg_put(b, "\xfeSMB", 4);
    pg_u16le(b, 64);
    pg_u16le(b, 1);      /* CreditCharge */
    pg_u32le(b, status);
    pg_u16le(b, cmd);
    pg_u16le(b, 1);      /* Credits */
    pg_u32le(b, (resp ? 1u : 0u) | extra_flags);
    pg_u32le(b, 0);      /* NextCommand */
    pg_u64le(b, mid);
    pg_u32le(b, 0xFEFF); /* Reserved (process id) */
    pg_u32le(b, cmd >= 3 ? 5 : 0); /* TreeId */
    pg_u64le(b, sid);
    pg_zero(b, 16);      /* Signature */
}

/* NBSS session message header in front of b. */
static void nbss(struct pg_buf *b)
{
    uint8_t h[4] = {0, (uint8_t)(b->len >> 16), (uint8_t)(b->len >> 8), (uint8_t)b->len};
    pg_prepend(b, h, 4);
}

static struct pg_buf negotiate_req(uint64_t mid)
{
    struct pg_buf b = {0};
    smb2_hdr(&b, 0, false, 0, mid, 0, 0);
    pg_u16le(&b, 36);
    pg_u16le(&b, 2); /* DialectCount */
    pg_u16le(&b, 1); /* SecurityMode */
    pg_u16le(&b, 0);
    pg_u32le(&b, 0x7f);
    pg_fill(&b, 0x42, 16); /* ClientGuid */
    pg_zero(&b, 8);
    pg_u16le(&b, 0x0302);
    pg_u16le(&b, 0x0311);
    return b;
}

static struct pg_buf negotiate_resp(uint64_t mid, uint16_t dialect)
{
    struct pg_buf b = {0};
    smb2_hdr(&b, 0, true, 0, mid, 0, 0);
    struct pg_buf blob = pg_spnego_init(NULL, true);
    pg_u16le(&b, 65);
    pg_u16le(&b, 1);       /* SecurityMode */
    pg_u16le(&b, dialect); /* DialectRevision */
    pg_u16le(&b, 0);       /* NegotiateContextCount */
    pg_fill(&b, 0x24, 16); /* ServerGuid */
    pg_u32le(&b, 0x2f);    /* Capabilities */
    pg_u32le(&b, 8u << 20);
    pg_u32le(&b, 8u << 20);
    pg_u32le(&b, 8u << 20);
    pg_zero(&b, 16);       /* SystemTime, ServerStartTime */
    pg_u16le(&b, 128);     /* SecurityBufferOffset */
    pg_u16le(&b, (uint16_t)blob.len);
    pg_u32le(&b, 0);
    assert_int_equal(b.len, 128);
    pg_put(&b, blob.p, blob.len);
    pg_free(&blob);
    return b;
}

static struct pg_buf session_setup_req(uint64_t mid, uint64_t sid, const struct pg_buf *blob)
{
    struct pg_buf b = {0};
    smb2_hdr(&b, 1, false, 0, mid, sid, 0);
    pg_u16le(&b, 25);
    pg_u8(&b, 0);
    pg_u8(&b, 1);
    pg_u32le(&b, 1);
    pg_u32le(&b, 0);
    pg_u16le(&b, 88);
    pg_u16le(&b, blob ? (uint16_t)blob->len : 0);
    pg_u64le(&b, 0);
    assert_int_equal(b.len, 88);
    if (blob)
        pg_put(&b, blob->p, blob->len);
    return b;
}

/* SMB2 ERROR response body (2.2.2). */
static void error_body(struct pg_buf *b)
{
    pg_u16le(b, 9);
    pg_u8(b, 0);
    pg_u8(b, 0);
    pg_u32le(b, 0);
    pg_u8(b, 0);
}

static struct pg_buf session_setup_resp(uint64_t mid, uint64_t sid, uint32_t status, uint16_t flags,
                                        const struct pg_buf *blob)
{
    struct pg_buf b = {0};
    smb2_hdr(&b, 1, true, status, mid, sid, 0);
    if (status != 0 && status != STATUS_MPR) {
        error_body(&b);
        return b;
    }
    pg_u16le(&b, 9);
    pg_u16le(&b, flags);
    pg_u16le(&b, 72);
    pg_u16le(&b, blob ? (uint16_t)blob->len : 0);
    if (blob)
        pg_put(&b, blob->p, blob->len);
    return b;
}

static struct pg_buf tree_connect_req(uint64_t mid, uint64_t sid, const char *path)
{
    struct pg_buf b = {0}, p = {0};
    pg_utf16(&p, path);
    smb2_hdr(&b, 3, false, 0, mid, sid, 0);
    pg_u16le(&b, 9);
    pg_u16le(&b, 0);
    pg_u16le(&b, 72);
    pg_u16le(&b, (uint16_t)p.len);
    pg_put(&b, p.p, p.len);
    pg_free(&p);
    return b;
}

static struct pg_buf tree_connect_resp(uint64_t mid, uint64_t sid, uint32_t status)
{
    struct pg_buf b = {0};
    smb2_hdr(&b, 3, true, status, mid, sid, 0);
    if (status) {
        error_body(&b);
        return b;
    }
    pg_u16le(&b, 16);
    pg_u8(&b, 2); /* pipe */
    pg_u8(&b, 0);
    pg_u32le(&b, 0);
    pg_u32le(&b, 0);
    pg_u32le(&b, 0x1f01ff);
    return b;
}

/* Any other command with a body of n filler bytes. */
static struct pg_buf other_msg(uint16_t cmd, bool resp, uint64_t mid, uint64_t sid, size_t n)
{
    struct pg_buf b = {0};
    smb2_hdr(&b, cmd, resp, 0, mid, sid, 0);
    pg_fill(&b, 0x33, n);
    return b;
}

/* Joins messages into one compound (NextCommand set, each padded to 8 bytes but the last). */
static struct pg_buf compound(struct pg_buf *msgs, size_t k)
{
    struct pg_buf out = {0};
    for (size_t i = 0; i < k; i++) {
        size_t start = out.len;
        if (i + 1 < k) {
            while (msgs[i].len % 8)
                pg_u8(&msgs[i], 0);
            pg_set_u32le(&msgs[i], 20, (uint32_t)msgs[i].len);
        }
        pg_put(&out, msgs[i].p, msgs[i].len);
        (void)start;
        pg_free(&msgs[i]);
    }
    return out;
}

/* Sends message m (freed) NBSS-framed on direction dir; returns the frame of its last byte. */
static uint64_t send_msg(struct pg_run *r, struct pg_conn *c, int dir, struct pg_buf m)
{
    nbss(&m);
    uint64_t f = pg_sendb(r, c, dir, &m);
    pg_free(&m);
    return f;
}

/* MessageId of the next smb_login's NEGOTIATE (MessageIds never repeat on a connection). */
static uint64_t g_mid;

struct login {
    uint64_t neg, chal, auth, verdict;
};

/* NEGOTIATE (dialect) and a three-leg SESSION_SETUP ending in final_status. spnego wraps the
 * NTLM messages. */
static struct login smb_login(struct pg_run *r, struct pg_conn *c, uint16_t dialect, uint32_t final_status,
                              bool spnego, uint16_t session_flags)
{
    struct login l;
    uint64_t mid = g_mid;
    g_mid = 0;
    send_msg(r, c, 0, negotiate_req(mid));
    send_msg(r, c, 1, negotiate_resp(mid, dialect));
    struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                  auth = pg_ntlm_authenticate("alice", "HOPLAB", "WS01");
    if (spnego) {
        struct pg_buf a = pg_spnego_init(&neg, true), b = pg_spnego_resp(1, true, &chal),
                      d = pg_spnego_resp(-1, false, &auth);
        pg_free(&neg);
        pg_free(&chal);
        pg_free(&auth);
        neg = a;
        chal = b;
        auth = d;
    }
    l.neg = send_msg(r, c, 0, session_setup_req(mid + 1, 0, &neg));
    l.chal = send_msg(r, c, 1, session_setup_resp(mid + 1, SID, STATUS_MPR, 0, &chal));
    l.auth = send_msg(r, c, 0, session_setup_req(mid + 2, SID, &auth));
    struct pg_buf done = pg_spnego_resp(0, false, NULL);
    l.verdict = send_msg(r, c, 1, session_setup_resp(mid + 2, SID, final_status, session_flags, spnego ? &done : NULL));
    pg_free(&done);
    pg_free(&neg);
    pg_free(&chal);
    pg_free(&auth);
    return l;
}

static void open_445(struct pg_run *r, struct pg_conn *c)
{
    pg_conn_init(c, 49800, 445);
    pg_handshake(r, c);
}

/* ---------------------------------------------------------------------------------------- */

static void test_dialect_311(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    struct login l = smb_login(&r, &c, 0x0311, 0, false, 0);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "transport", "smb2");
    assert_jstr(rec, "service", "cifs");
    assert_jstr(rec, "smb2.dialect", "3.1.1");
    assert_jstr(rec, "smb2.session_id", "0x0000100000000041");
    assert_jstr(rec, "mechanism", "ntlm");
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    assert_jstr(rec, "status.name", "STATUS_SUCCESS");
    assert_jstr(rec, "status.code", "0x00000000");
    assert_jint(rec, "frames.negotiate", (long long)l.neg);
    assert_jint(rec, "frames.challenge", (long long)l.chal);
    assert_jint(rec, "frames.authenticate", (long long)l.auth);
    assert_jint(rec, "frames.verdict", (long long)l.verdict);
    assert_int_equal(json_array_size(pg_j(rec, "smb2.session_flags")), 0);
    assert_int_equal(pg_stat(&r, "malformed.smb2"), 0);
    assert_int_equal(pg_stat(&r, "malformed.nbss"), 0);
    pg_run_free(&r);
}

static void test_other_dialects(void **state)
{
    (void)state;
    const uint16_t d[3] = {0x0202, 0x0210, 0x0300};
    const char *names[3] = {"2.0.2", "2.1", "3.0"};
    for (int i = 0; i < 3; i++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        open_445(&r, &c);
        smb_login(&r, &c, d[i], 0, true, 0x0001);
        pg_close(&r, &c, 0);
        pg_run_finish(&r);
        json_t *rec = pg_rec(&r, 0);
        assert_jstr(rec, "smb2.dialect", names[i]);
        assert_jstr(rec, "smb2.session_flags[0]", "IS_GUEST");
        pg_run_free(&r);
    }
}

static void test_logon_failure(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    struct login l = smb_login(&r, &c, 0x0311, STATUS_LOGON_FAILURE, true, 0);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "mechanism", "negotiate/ntlm");
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "ntlm.domain", "HOPLAB");
    assert_jstr(rec, "result", "failure");
    assert_jstr(rec, "status.name", "STATUS_LOGON_FAILURE");
    assert_jstr(rec, "status.code", "0xc000006d");
    assert_jint(rec, "frames.verdict", (long long)l.verdict);
    assert_jstr(rec, "spnego.neg_state", "accept-incomplete");
    assert_jabsent(rec, "smb2.session_flags");
    pg_run_free(&r);
}

static void test_tree_connects(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    smb_login(&r, &c, 0x0311, 0, true, 0);
    uint64_t q1 = send_msg(&r, &c, 0, tree_connect_req(3, SID, "\\\\srv1\\IPC$"));
    uint64_t p1 = send_msg(&r, &c, 1, tree_connect_resp(3, SID, STATUS_ACCESS_DENIED));
    uint64_t q2 = send_msg(&r, &c, 0, tree_connect_req(4, SID, "\\\\srv1\\data"));
    uint64_t p2 = send_msg(&r, &c, 1, tree_connect_resp(4, SID, 0));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "result", "success");
    json_t *tc = pg_j(rec, "smb2.tree_connects");
    assert_int_equal(json_array_size(tc), 2);
    assert_jstr(tc, "[0].share", "\\\\srv1\\IPC$");
    assert_jstr(tc, "[0].status.name", "STATUS_ACCESS_DENIED");
    assert_jstr(tc, "[0].status.code", "0xc0000022");
    assert_jint(tc, "[0].frames[0]", (long long)q1);
    assert_jint(tc, "[0].frames[1]", (long long)p1);
    assert_jstr(tc, "[1].share", "\\\\srv1\\data");
    assert_jstr(tc, "[1].status.name", "STATUS_SUCCESS");
    assert_jint(tc, "[1].frames[0]", (long long)q2);
    assert_jint(tc, "[1].frames[1]", (long long)p2);
    pg_run_free(&r);
}

static void test_compounded(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    smb_login(&r, &c, 0x0311, 0, false, 0);
    /* TREE_CONNECT + related CREATE (SessionId all ones: "the same session") */
    struct pg_buf m[3];
    m[0] = tree_connect_req(3, SID, "\\\\srv1\\share1");
    m[1] = other_msg(5, false, 4, UINT64_MAX, 57);
    pg_set_u32le(&m[1], 16, 0x4); /* SMB2_FLAGS_RELATED_OPERATIONS */
    send_msg(&r, &c, 0, compound(m, 2));
    m[0] = tree_connect_resp(3, SID, 0);
    m[1] = other_msg(5, true, 4, SID, 88);
    send_msg(&r, &c, 1, compound(m, 2));
    /* An unrelated compound whose TREE_CONNECT comes last, after an ECHO and a CREATE. */
    m[0] = other_msg(0x0d, false, 5, SID, 4);
    m[1] = other_msg(5, false, 6, SID, 60);
    m[2] = tree_connect_req(7, SID, "\\\\srv1\\share2");
    send_msg(&r, &c, 0, compound(m, 3));
    m[0] = other_msg(0x0d, true, 5, SID, 4);
    m[1] = other_msg(5, true, 6, SID, 88);
    m[2] = tree_connect_resp(7, SID, STATUS_ACCESS_DENIED);
    send_msg(&r, &c, 1, compound(m, 3));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *tc = pg_j(pg_rec(&r, 0), "smb2.tree_connects");
    assert_int_equal(json_array_size(tc), 2);
    assert_jstr(tc, "[0].share", "\\\\srv1\\share1");
    assert_jstr(tc, "[0].status.name", "STATUS_SUCCESS");
    assert_jstr(tc, "[1].share", "\\\\srv1\\share2");
    assert_jstr(tc, "[1].status.name", "STATUS_ACCESS_DENIED");
    assert_int_equal(pg_stat(&r, "malformed.smb2"), 0);
    pg_run_free(&r);
}

static void test_nbss_split_across_segments(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    send_msg(&r, &c, 0, negotiate_req(0));
    send_msg(&r, &c, 1, negotiate_resp(0, 0x0311));
    struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                  auth = pg_ntlm_authenticate("alice", "HOPLAB", "WS01");
    struct pg_buf m = session_setup_req(1, 0, &neg);
    nbss(&m);
    /* cut inside the NBSS header, inside the SMB2 header and inside the blob */
    size_t cuts1[3] = {2, 40, 100};
    uint64_t fneg = pg_send_cuts(&r, &c, 0, m.p, m.len, cuts1, 3);
    pg_free(&m);
    m = session_setup_resp(1, SID, STATUS_MPR, 0, &chal);
    nbss(&m);
    uint64_t fchal = pg_send_mss(&r, &c, 1, m.p, m.len, 3); /* 3-byte segments */
    pg_free(&m);
    m = session_setup_req(2, SID, &auth);
    nbss(&m);
    size_t cuts2[4] = {1, 3, 4, 68};
    uint64_t fauth = pg_send_cuts(&r, &c, 0, m.p, m.len, cuts2, 4);
    pg_free(&m);
    /* the verdict; then a tree connect whose NBSS header is split after two bytes */
    struct pg_buf v = session_setup_resp(2, SID, 0, 0, NULL), t = tree_connect_req(3, SID, "\\\\srv1\\c$");
    nbss(&v);
    nbss(&t);
    uint64_t fv = pg_sendb(&r, &c, 1, &v);
    size_t tc_cut = 2;
    pg_send_cuts(&r, &c, 0, t.p, t.len, &tc_cut, 1);
    send_msg(&r, &c, 1, tree_connect_resp(3, SID, 0));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "frames.negotiate", (long long)fneg);
    assert_jint(rec, "frames.challenge", (long long)fchal);
    assert_jint(rec, "frames.authenticate", (long long)fauth);
    assert_jint(rec, "frames.verdict", (long long)fv);
    assert_jstr(rec, "smb2.tree_connects[0].share", "\\\\srv1\\c$");
    assert_int_equal(pg_stat(&r, "malformed.nbss"), 0);
    assert_int_equal(pg_stat(&r, "malformed.smb2"), 0);
    pg_free(&neg);
    pg_free(&chal);
    pg_free(&auth);
    pg_free(&v);
    pg_free(&t);
    pg_run_free(&r);
}

static void test_several_messages_one_segment(void **state)
{
    (void)state;
    /* NEGOTIATE response and the first SESSION_SETUP exchange back to back: frames in one segment. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    struct pg_buf all = {0}, m;
    m = negotiate_req(0);
    nbss(&m);
    pg_put(&all, m.p, m.len);
    pg_free(&m);
    struct pg_buf neg = pg_ntlm_negotiate();
    m = session_setup_req(1, 0, &neg);
    nbss(&m);
    pg_put(&all, m.p, m.len);
    pg_free(&m);
    uint64_t f = pg_sendb(&r, &c, 0, &all);
    send_msg(&r, &c, 1, negotiate_resp(0, 0x0302));
    send_msg(&r, &c, 1, session_setup_resp(1, SID, STATUS_LOGON_FAILURE, 0, NULL));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jint(rec, "frames.negotiate", (long long)f);
    assert_jstr(rec, "result", "failure");
    assert_jstr(rec, "status.name", "STATUS_LOGON_FAILURE");
    pg_free(&all);
    pg_free(&neg);
    pg_run_free(&r);
}

static void test_large_read_skipped(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    smb_login(&r, &c, 0x0311, 0, false, 0);
    send_msg(&r, &c, 0, tree_connect_req(3, SID, "\\\\srv1\\data"));
    send_msg(&r, &c, 1, tree_connect_resp(3, SID, 0));
    /* READ request, and its 1 MiB response: DataOffset 80, the data, in MSS segments; the first
     * segment cut inside the 64-byte header */
    send_msg(&r, &c, 0, other_msg(8, false, 4, SID, 48));
    struct pg_buf rd = {0};
    smb2_hdr(&rd, 8, true, 0, 4, SID, 0);
    pg_u16le(&rd, 17);
    pg_u8(&rd, 80);
    pg_u8(&rd, 0);
    pg_u32le(&rd, 1u << 20);
    pg_u32le(&rd, 0);
    pg_u32le(&rd, 0);
    /* data that contains what looks like an SMB2 TREE_CONNECT response with NBSS framing */
    struct pg_buf fake = tree_connect_resp(9, SID, STATUS_ACCESS_DENIED);
    nbss(&fake);
    for (size_t i = 0; i < (1u << 20); i += fake.len)
        pg_put(&rd, fake.p, (1u << 20) - i < fake.len ? (1u << 20) - i : fake.len);
    pg_free(&fake);
    nbss(&rd);
    assert_int_equal(rd.len, 4 + 80 + (1u << 20));
    pg_send_at(&r, &c, 1, 0, rd.p, 30);
    pg_send_at(&r, &c, 1, 30, rd.p + 30, 1000);
    size_t maxcap = 0;
    for (size_t off = 1030; off < rd.len; off += PG_MSS) {
        size_t k = rd.len - off < PG_MSS ? rd.len - off : PG_MSS;
        pg_send_at(&r, &c, 1, off, rd.p + off, k);
        struct hs_conn *hc = r.e.flows.lru_tail;
        assert_non_null(hc->part);
        if (hc->part->st[1].cap > maxcap)
            maxcap = hc->part->st[1].cap;
        assert_true(hc->part->st[1].len <= 64);
    }
    pg_advance(&c, 1, rd.len);
    pg_free(&rd);
    /* the bulk data was never buffered */
    assert_true(maxcap <= 4096);
    /* the next message still parses */
    uint64_t q = send_msg(&r, &c, 0, tree_connect_req(5, SID, "\\\\srv1\\after"));
    uint64_t p = send_msg(&r, &c, 1, tree_connect_resp(5, SID, STATUS_ACCESS_DENIED));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "dropped.pdu_oversize"), 0);
    assert_int_equal(pg_stat(&r, "malformed.smb2"), 0);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *tc = pg_j(pg_rec(&r, 0), "smb2.tree_connects");
    assert_int_equal(json_array_size(tc), 2);
    assert_jstr(tc, "[1].share", "\\\\srv1\\after");
    assert_jstr(tc, "[1].status.name", "STATUS_ACCESS_DENIED");
    assert_jint(tc, "[1].frames[0]", (long long)q);
    assert_jint(tc, "[1].frames[1]", (long long)p);
    pg_run_free(&r);
}

static void test_large_write_request_skipped(void **state)
{
    (void)state;
    /* A 300 KiB WRITE request (more than the PDU cap) from the client, split unevenly. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    smb_login(&r, &c, 0x0311, 0, false, 0);
    struct pg_buf w = other_msg(9, false, 3, SID, 300u << 10);
    nbss(&w);
    pg_send_mss(&r, &c, 0, w.p, w.len, 7000);
    pg_free(&w);
    send_msg(&r, &c, 1, other_msg(9, true, 3, SID, 16));
    send_msg(&r, &c, 0, tree_connect_req(4, SID, "\\\\srv1\\x"));
    send_msg(&r, &c, 1, tree_connect_resp(4, SID, 0));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "dropped.pdu_oversize"), 0);
    assert_jstr(pg_rec(&r, 0), "smb2.tree_connects[0].share", "\\\\srv1\\x");
    pg_run_free(&r);
}

static void test_oversize_session_setup(void **state)
{
    (void)state;
    /* A SESSION_SETUP larger than the PDU cap is counted and skipped; the next message parses. */
    struct hs_limits lim;
    hs_limits_default(&lim);
    lim.max_pdu = 4096;
    struct pg_run r;
    pg_run_init(&r, &lim);
    struct pg_conn c;
    open_445(&r, &c);
    send_msg(&r, &c, 0, negotiate_req(0));
    send_msg(&r, &c, 1, negotiate_resp(0, 0x0311));
    struct pg_buf big = {0};
    pg_fill(&big, 0x61, 10000);
    send_msg(&r, &c, 0, session_setup_req(1, 0, &big));
    pg_free(&big);
    send_msg(&r, &c, 1, session_setup_resp(1, SID, STATUS_LOGON_FAILURE, 0, NULL));
    g_mid = 10;
    struct login l = smb_login(&r, &c, 0x0311, 0, false, 0);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "dropped.pdu_oversize"), 1);
    /* the oversize attempt's response still yields a (tokenless) failure record; the next one is whole */
    size_t n = pg_nrecs(&r);
    assert_true(n >= 1);
    json_t *last = pg_rec(&r, n - 1);
    assert_jstr(last, "ntlm.user", "alice");
    assert_jstr(last, "result", "success");
    assert_jint(last, "frames.negotiate", (long long)l.neg);
    pg_run_free(&r);
}

static void test_transform_counted(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    smb_login(&r, &c, 0x0311, 0, false, SMB2_SESSION_FLAG_ENCRYPT_DATA);
    for (int i = 0; i < 3; i++) {
        struct pg_buf t = {0};
        pg_put(&t, "\xfdSMB", 4);
        pg_fill(&t, 0x11, 16); /* Signature */
        pg_fill(&t, 0x22, 16); /* Nonce */
        size_t plen = i == 1 ? 5000 : 100;
        pg_u32le(&t, (uint32_t)plen);
        pg_u16le(&t, 0);
        pg_u16le(&t, 1);
        pg_u64le(&t, SID);
        /* the ciphertext, with fake plaintext SMB2 inside to make sure it is not parsed */
        struct pg_buf fake = tree_connect_req(99, SID, "\\\\evil\\x");
        pg_put(&t, fake.p, fake.len < plen ? fake.len : plen);
        if (plen > fake.len)
            pg_fill(&t, 0x99, plen - fake.len);
        pg_free(&fake);
        send_msg(&r, &c, i == 2 ? 1 : 0, t);
    }
    send_msg(&r, &c, 0, tree_connect_req(3, SID, "\\\\srv1\\plain"));
    send_msg(&r, &c, 1, tree_connect_resp(3, SID, 0));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "smb2_encrypted"), 3);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "smb2.session_flags[0]", "ENCRYPT_DATA");
    json_t *tc = pg_j(rec, "smb2.tree_connects");
    assert_int_equal(json_array_size(tc), 1);
    assert_jstr(tc, "[0].share", "\\\\srv1\\plain");
    assert_null(strstr(r.text, "evil"));
    pg_run_free(&r);
}

static void test_malformed_next_command(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    smb_login(&r, &c, 0x0311, 0, false, 0);
    /* NextCommand past the end */
    struct pg_buf m = tree_connect_req(3, SID, "\\\\srv1\\a");
    pg_set_u32le(&m, 20, 0x1000);
    send_msg(&r, &c, 0, m);
    /* NextCommand below a header's size */
    m = tree_connect_req(4, SID, "\\\\srv1\\b");
    pg_set_u32le(&m, 20, 8);
    send_msg(&r, &c, 0, m);
    /* NextCommand to a second "message" that is too short / not SMB2 */
    m = tree_connect_req(5, SID, "\\\\srv1\\c");
    while (m.len % 8)
        pg_u8(&m, 0);
    pg_set_u32le(&m, 20, (uint32_t)m.len);
    pg_put(&m, "\xfeSMB\x40\x00garbage", 13);
    send_msg(&r, &c, 0, m);
    send_msg(&r, &c, 1, tree_connect_resp(5, SID, 0));
    /* a header with the wrong StructureSize */
    m = tree_connect_req(6, SID, "\\\\srv1\\d");
    pg_set_u16le(&m, 4, 65);
    send_msg(&r, &c, 0, m);
    /* a message shorter than a header */
    m = pg_copy("\xfeSMB\x40\x00", 6);
    send_msg(&r, &c, 0, m);
    /* the stream stays usable */
    send_msg(&r, &c, 0, tree_connect_req(7, SID, "\\\\srv1\\ok"));
    send_msg(&r, &c, 1, tree_connect_resp(7, SID, 0));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.smb2"), 5);
    json_t *tc = pg_j(pg_rec(&r, 0), "smb2.tree_connects");
    /* \\srv1\c (parsed before its broken compound tail) and \\srv1\ok */
    assert_int_equal(json_array_size(tc), 2);
    assert_jstr(tc, "[0].share", "\\\\srv1\\c");
    assert_jstr(tc, "[1].share", "\\\\srv1\\ok");
    pg_run_free(&r);
}

static void test_malformed_security_buffer(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    send_msg(&r, &c, 0, negotiate_req(0));
    send_msg(&r, &c, 1, negotiate_resp(0, 0x0311));
    struct pg_buf neg = pg_ntlm_negotiate();
    /* SecurityBufferOffset past the message */
    struct pg_buf m = session_setup_req(1, 0, &neg);
    pg_set_u16le(&m, 64 + 12, 0x4000);
    send_msg(&r, &c, 0, m);
    /* SecurityBufferLength past the message */
    m = session_setup_req(2, 0, &neg);
    pg_set_u16le(&m, 64 + 14, 0xFFFF);
    send_msg(&r, &c, 0, m);
    /* a response whose buffer offset is past the message */
    struct pg_buf chal = pg_ntlm_challenge();
    m = session_setup_resp(2, SID, STATUS_MPR, 0, &chal);
    pg_set_u16le(&m, 64 + 4, 0x3000);
    send_msg(&r, &c, 1, m);
    /* a SESSION_SETUP request whose fixed part is cut short */
    m = other_msg(1, false, 3, SID, 4);
    send_msg(&r, &c, 0, m);
    /* a TREE_CONNECT whose path runs past the message */
    m = tree_connect_req(4, SID, "\\\\srv1\\x");
    pg_set_u16le(&m, 64 + 6, 200);
    send_msg(&r, &c, 0, m);
    /* then a proper logon */
    g_mid = 10;
    struct login l = smb_login(&r, &c, 0x0311, 0, false, 0);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.smb2"), 5);
    size_t n = pg_nrecs(&r);
    assert_true(n >= 1);
    json_t *last = pg_rec(&r, n - 1);
    assert_jstr(last, "ntlm.user", "alice");
    assert_jstr(last, "result", "success");
    assert_jint(last, "frames.negotiate", (long long)l.neg);
    assert_jint(last, "frames.verdict", (long long)l.verdict);
    pg_free(&neg);
    pg_free(&chal);
    pg_run_free(&r);
}

static void test_garbage_resync(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    send_msg(&r, &c, 0, negotiate_req(0));
    send_msg(&r, &c, 1, negotiate_resp(0, 0x0311));
    /* garbage from both sides between messages */
    static const char junk[] = "BOGUS-BYTES-ON-THE-WIRE: no NBSS here, just text.............\x01\x02";
    pg_send(&r, &c, 0, junk, sizeof junk - 1);
    pg_send(&r, &c, 1, junk, sizeof junk - 1);
    /* garbage and a valid message in one segment */
    struct pg_buf neg = pg_ntlm_negotiate();
    struct pg_buf m = session_setup_req(1, 0, &neg);
    nbss(&m);
    pg_prepend(&m, "\x99garbage", 8);
    uint64_t fneg = pg_sendb(&r, &c, 0, &m);
    pg_free(&m);
    pg_free(&neg);
    struct pg_buf chal = pg_ntlm_challenge(), auth = pg_ntlm_authenticate("alice", "HOPLAB", "WS01");
    uint64_t fchal = send_msg(&r, &c, 1, session_setup_resp(1, SID, STATUS_MPR, 0, &chal));
    uint64_t fauth = send_msg(&r, &c, 0, session_setup_req(2, SID, &auth));
    /* a bogus NBSS frame type and an NBSS session message without SMB magic */
    pg_send(&r, &c, 1, "\x86\x00\x00\x10", 4);
    pg_send(&r, &c, 1, "\x00\x00\x00\x08NOTSMB!!", 12);
    uint64_t fv = send_msg(&r, &c, 1, session_setup_resp(2, SID, STATUS_LOGON_FAILURE, 0, NULL));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_true(pg_stat(&r, "malformed.nbss") >= 3);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "failure");
    assert_jstr(rec, "status.name", "STATUS_LOGON_FAILURE");
    assert_jstr(rec, "smb2.dialect", "3.1.1");
    assert_jint(rec, "frames.negotiate", (long long)fneg);
    assert_jint(rec, "frames.challenge", (long long)fchal);
    assert_jint(rec, "frames.authenticate", (long long)fauth);
    assert_jint(rec, "frames.verdict", (long long)fv);
    pg_free(&chal);
    pg_free(&auth);
    pg_run_free(&r);
}

static void test_midstream_pickup_445(void **state)
{
    (void)state;
    /* No SYN: the first bytes each way are the middle of bulk transfers. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 49801, 445);
    struct pg_buf tail = {0};
    pg_fill(&tail, 0x00, 300); /* zeros: NBSS-looking lengths, but no SMB magic */
    pg_fill(&tail, 0x5a, 300);
    pg_sendb(&r, &c, 1, &tail);
    pg_sendb(&r, &c, 0, &tail);
    pg_free(&tail);
    struct login l = smb_login(&r, &c, 0x0311, STATUS_LOGON_FAILURE, true, 0);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "client.ip", "10.0.0.1");
    assert_jint(rec, "server.port", 445);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "failure");
    assert_jstr(rec, "smb2.dialect", "3.1.1");
    assert_jint(rec, "frames.negotiate", (long long)l.neg);
    assert_jint(rec, "frames.verdict", (long long)l.verdict);
    pg_run_free(&r);
}

static void test_logoff_emits_record(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    smb_login(&r, &c, 0x0311, 0, false, 0);
    send_msg(&r, &c, 0, tree_connect_req(3, SID, "\\\\srv1\\IPC$"));
    send_msg(&r, &c, 1, tree_connect_resp(3, SID, 0));
    assert_int_equal(pg_count_auth_now(&r), 0);
    send_msg(&r, &c, 0, other_msg(2, false, 4, SID, 4));
    assert_int_equal(pg_count_auth_now(&r), 0);
    send_msg(&r, &c, 1, other_msg(2, true, 4, SID, 4));
    assert_int_equal(pg_count_auth_now(&r), 1);
    /* a second session on the same connection */
    g_mid = 10;
    struct login l = smb_login(&r, &c, 0x0311, STATUS_LOGON_FAILURE, false, 0);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 2);
    assert_jstr(pg_rec(&r, 0), "result", "success");
    assert_jstr(pg_rec(&r, 0), "smb2.tree_connects[0].share", "\\\\srv1\\IPC$");
    assert_jstr(pg_rec(&r, 1), "result", "failure");
    assert_jint(pg_rec(&r, 1), "frames.verdict", (long long)l.verdict);
    pg_run_free(&r);
}

static void test_session_request_port_139(void **state)
{
    (void)state;
    /* NetBIOS over TCP: a session request and positive response precede SMB2. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    pg_conn_init(&c, 49802, 139);
    pg_handshake(&r, &c);
    struct pg_buf req = {0};
    pg_put(&req, "\x81\x00\x00\x44", 4);
    pg_u8(&req, 0x20);
    pg_fill(&req, 'C', 32); /* encoded called name */
    pg_u8(&req, 0);
    pg_u8(&req, 0x20);
    pg_fill(&req, 'E', 32);
    pg_u8(&req, 0);
    assert_int_equal(req.len, 4 + 68);
    pg_sendb(&r, &c, 0, &req);
    pg_send(&r, &c, 1, "\x82\x00\x00\x00", 4);
    pg_send(&r, &c, 0, "\x85\x00\x00\x00", 4); /* keep-alive */
    smb_login(&r, &c, 0x0210, 0, true, 0);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "smb2.dialect", "2.1");
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jint(rec, "server.port", 139);
    assert_int_equal(pg_stat(&r, "malformed.nbss"), 0);
    pg_free(&req);
    pg_run_free(&r);
}

static void test_random_streams_no_crash(void **state)
{
    (void)state;
    /* Valid framing around mutated SMB2 messages: whatever the content, no crash and the
     * counters stay consistent. */
    uint32_t x = 777;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    smb_login(&r, &c, 0x0311, 0, true, 0);
    for (int iter = 0; iter < 3000; iter++) {
        struct pg_buf m;
        switch (iter % 4) {
        case 0: {
            struct pg_buf a = pg_ntlm_authenticate("alice", "HOPLAB", "WS01");
            m = session_setup_req((uint64_t)iter, SID, &a);
            pg_free(&a);
            break;
        }
        case 1: {
            struct pg_buf ch = pg_ntlm_challenge();
            struct pg_buf w = pg_spnego_resp(1, true, &ch);
            m = session_setup_resp((uint64_t)iter - 1, SID, STATUS_MPR, 0, &w);
            pg_free(&ch);
            pg_free(&w);
            break;
        }
        case 2:
            m = tree_connect_req((uint64_t)iter, SID, "\\\\srv\\share");
            break;
        default:
            m = negotiate_resp((uint64_t)iter, 0x0311);
            break;
        }
        int flips = 1 + (int)((x >> 7) % 4);
        for (int k = 0; k < flips; k++) {
            x = x * 1103515245u + 12345u;
            size_t pos = 4 + (x >> 8) % (m.len - 4); /* keep the magic so it is parsed */
            x = x * 1103515245u + 12345u;
            m.p[pos] = (uint8_t)(x >> 16);
        }
        send_msg(&r, &c, (iter % 4 == 1 || iter % 4 == 3) ? 1 : 0, m);
    }
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "packets"), (long long)r.frame);
    assert_true(pg_nrecs(&r) >= 1);
    assert_int_equal((long long)pg_nrecs(&r), pg_stat(&r, "auth_records"));
    pg_run_free(&r);
}

static void test_nbss_header_alone_first(void **state)
{
    (void)state;
    /* The connection's very first segment is only the 4-byte NBSS header of the NEGOTIATE
     * request (a client writing the header and the message separately). */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    struct pg_buf m = negotiate_req(0);
    nbss(&m);
    size_t cut = 4;
    pg_send_cuts(&r, &c, 0, m.p, m.len, &cut, 1);
    pg_free(&m);
    send_msg(&r, &c, 1, negotiate_resp(0, 0x0311));
    g_mid = 1;
    /* smb_login sends its own NEGOTIATE again with MessageId 1: harmless */
    struct login l = smb_login(&r, &c, 0x0311, STATUS_LOGON_FAILURE, false, 0);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "failure");
    assert_jint(rec, "frames.verdict", (long long)l.verdict);
    pg_run_free(&r);
}

static void test_async_interim_response(void **state)
{
    (void)state;
    /* The final SESSION_SETUP leg answered first by an async STATUS_PENDING interim response. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    send_msg(&r, &c, 0, negotiate_req(0));
    send_msg(&r, &c, 1, negotiate_resp(0, 0x0300));
    struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge(),
                  auth = pg_ntlm_authenticate("alice", "HOPLAB", "WS01");
    send_msg(&r, &c, 0, session_setup_req(1, 0, &neg));
    send_msg(&r, &c, 1, session_setup_resp(1, SID, STATUS_MPR, 0, &chal));
    send_msg(&r, &c, 0, session_setup_req(2, SID, &auth));
    struct pg_buf interim = {0};
    smb2_hdr(&interim, 1, true, 0x00000103u, 2, SID, 0x2); /* ASYNC, STATUS_PENDING */
    error_body(&interim);
    uint64_t fi = send_msg(&r, &c, 1, interim);
    struct pg_buf fin = session_setup_resp(2, SID, 0, 0, NULL);
    pg_set_u32le(&fin, 16, 0x3); /* async response */
    uint64_t fv = send_msg(&r, &c, 1, fin);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "frames.verdict", (long long)fv);
    assert_true(fv != fi);
    assert_jstr(rec, "smb2.dialect", "3.0");
    pg_free(&neg);
    pg_free(&chal);
    pg_free(&auth);
    pg_run_free(&r);
}

static void test_interleaved_sessions(void **state)
{
    (void)state;
    /* Two logons on one connection at once (alice on session A, bobby on session B), their
     * legs interleaved and answered out of order. */
    const uint64_t A = 0x1111, B = 0x2222;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    send_msg(&r, &c, 0, negotiate_req(0));
    send_msg(&r, &c, 1, negotiate_resp(0, 0x0311));
    struct pg_buf neg = pg_ntlm_negotiate(), chal = pg_ntlm_challenge();
    struct pg_buf aa = pg_ntlm_authenticate("alice", "HOPLAB", "WS01"), ab = pg_ntlm_authenticate("bobby", "OTHER", "WS02");
    send_msg(&r, &c, 0, session_setup_req(1, 0, &neg));
    send_msg(&r, &c, 0, session_setup_req(2, 0, &neg));
    send_msg(&r, &c, 1, session_setup_resp(2, B, STATUS_MPR, 0, &chal));
    send_msg(&r, &c, 1, session_setup_resp(1, A, STATUS_MPR, 0, &chal));
    send_msg(&r, &c, 0, session_setup_req(3, B, &ab));
    send_msg(&r, &c, 0, session_setup_req(4, A, &aa));
    uint64_t fa = send_msg(&r, &c, 1, session_setup_resp(4, A, 0, 0, NULL));
    uint64_t fb = send_msg(&r, &c, 1, session_setup_resp(3, B, STATUS_LOGON_FAILURE, 0, NULL));
    send_msg(&r, &c, 0, tree_connect_req(5, B, "\\\\srv1\\b"));
    send_msg(&r, &c, 0, tree_connect_req(6, A, "\\\\srv1\\a"));
    send_msg(&r, &c, 1, tree_connect_resp(6, A, 0));
    send_msg(&r, &c, 1, tree_connect_resp(5, B, 0xC000015Bu)); /* whatever a failed session gets */
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 2);
    json_t *ra = NULL, *rb = NULL;
    for (size_t i = 0; i < 2; i++) {
        const char *u = json_string_value(pg_j(pg_rec(&r, i), "ntlm.user"));
        assert_non_null(u);
        if (strcmp(u, "alice") == 0)
            ra = pg_rec(&r, i);
        else if (strcmp(u, "bobby") == 0)
            rb = pg_rec(&r, i);
    }
    assert_non_null(ra);
    assert_non_null(rb);
    assert_jstr(ra, "smb2.session_id", "0x0000000000001111");
    assert_jstr(ra, "result", "success");
    assert_jint(ra, "frames.verdict", (long long)fa);
    assert_jstr(ra, "smb2.tree_connects[0].share", "\\\\srv1\\a");
    assert_int_equal(json_array_size(pg_j(ra, "smb2.tree_connects")), 1);
    assert_jstr(rb, "smb2.session_id", "0x0000000000002222");
    assert_jstr(rb, "ntlm.domain", "OTHER");
    assert_jstr(rb, "result", "failure");
    assert_jint(rb, "frames.verdict", (long long)fb);
    pg_free(&neg);
    pg_free(&chal);
    pg_free(&aa);
    pg_free(&ab);
    pg_run_free(&r);
}

static void test_smb1_multiprotocol_negotiate(void **state)
{
    (void)state;
    /* An SMB1 NEGOTIATE offering "SMB 2.???" answered with an SMB2 NEGOTIATE response (dialect
     * 0x02FF), then the SMB2 NEGOTIATE for 3.1.1. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    struct pg_buf s1 = {0};
    pg_put(&s1, "\xffSMB\x72", 5);
    pg_zero(&s1, 27);
    pg_u8(&s1, 0);
    pg_u16le(&s1, 24);
    pg_put(&s1, "\x02NT LM 0.12\0\x02SMB 2.002\0", 24);
    send_msg(&r, &c, 0, s1);
    send_msg(&r, &c, 1, negotiate_resp(0, 0x02FF));
    g_mid = 1;
    smb_login(&r, &c, 0x0311, 0, true, 0);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    assert_jstr(pg_rec(&r, 0), "smb2.dialect", "3.1.1");
    assert_jstr(pg_rec(&r, 0), "result", "success");
    assert_int_equal(pg_stat(&r, "malformed.nbss"), 0);
    assert_int_equal(pg_stat(&r, "malformed.smb2"), 0);
    pg_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialect_311),
        cmocka_unit_test(test_other_dialects),
        cmocka_unit_test(test_logon_failure),
        cmocka_unit_test(test_tree_connects),
        cmocka_unit_test(test_compounded),
        cmocka_unit_test(test_nbss_split_across_segments),
        cmocka_unit_test(test_nbss_header_alone_first),
        cmocka_unit_test(test_async_interim_response),
        cmocka_unit_test(test_interleaved_sessions),
        cmocka_unit_test(test_smb1_multiprotocol_negotiate),
        cmocka_unit_test(test_several_messages_one_segment),
        cmocka_unit_test(test_large_read_skipped),
        cmocka_unit_test(test_large_write_request_skipped),
        cmocka_unit_test(test_oversize_session_setup),
        cmocka_unit_test(test_transform_counted),
        cmocka_unit_test(test_malformed_next_command),
        cmocka_unit_test(test_malformed_security_buffer),
        cmocka_unit_test(test_garbage_resync),
        cmocka_unit_test(test_midstream_pickup_445),
        cmocka_unit_test(test_logoff_emits_record),
        cmocka_unit_test(test_session_request_port_139),
        cmocka_unit_test(test_random_streams_no_crash),
    };
    pg_apply_filters();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
