/* SMB1 through the engine: NEGOTIATE, SESSION_SETUP_ANDX with and without extended security (LM/NT
 * responses, anonymous, plaintext, guest), DOS errors, AndX chains and their malformed forms, signing,
 * LOGOFF, named pipes, truncated and random input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pcapgen.h"
#include "pipe.h"
#include "smb1.h"

#define UID 0x0801
#define PID 0x4242
#define STATUS_MPR 0xC0000016u
#define STATUS_LOGON_FAILURE 0xC000006Du
#define STATUS_ACCESS_DENIED 0xC0000022u
#define DOS(cls, code) ((uint32_t)(cls) << 16 | (code))
#define ERRSRV_ERRBADPW DOS(2, 2)
#define ERRDOS_ERRNOACCESS DOS(1, 5)

#define F2_NT (SMB_FLAGS2_NT_STATUS | SMB_FLAGS2_UNICODE | 0x0003)
#define F2_NT_EXT (F2_NT | SMB_FLAGS2_EXTENDED_SECURITY)
#define F2_DOS 0x0003 /* OEM strings, DOS error codes */

static const uint8_t sig_zero[8] = {0};
static const uint8_t sig_placeholder[8] = {'B', 'S', 'R', 'S', 'P', 'Y', 'L', ' '};
static const uint8_t sig_mac[8] = {0x24, 0x46, 0xed, 0x96, 0x02, 0xd3, 0xd0, 0xc5};

/* ---- the pipe layer, observed: these wrap pipe.h's functions (tests/CMakeLists.txt, --wrap) ---- */

struct pipe_call {
    char what;    /* 'o'pen, 'd'ata, 'c'lose */
    uint64_t key;
    int dir;
    char text[64]; /* name (open) or data (data) */
    uint64_t carrier;
};
static struct pipe_call g_calls[32];
static size_t g_ncalls;

void __real_smb_pipe_open(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, const char *name, uint64_t carrier);
void __real_smb_pipe_data(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, int dir, const uint8_t *data,
                          size_t n);
void __real_smb_pipe_close(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key);
void __wrap_smb_pipe_open(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, const char *name, uint64_t carrier);
void __wrap_smb_pipe_data(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, int dir, const uint8_t *data,
                          size_t n);
void __wrap_smb_pipe_close(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key);

static struct pipe_call *call_add(char what, uint64_t key)
{
    assert_true(g_ncalls < sizeof g_calls / sizeof *g_calls);
    struct pipe_call *c = &g_calls[g_ncalls++];
    memset(c, 0, sizeof *c);
    c->what = what;
    c->key = key;
    return c;
}

void __wrap_smb_pipe_open(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, const char *name, uint64_t carrier)
{
    struct pipe_call *c = call_add('o', key);
    snprintf(c->text, sizeof c->text, "%s", name);
    c->carrier = carrier;
    __real_smb_pipe_open(ctx, p, key, name, carrier);
}

void __wrap_smb_pipe_data(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, int dir, const uint8_t *data,
                          size_t n)
{
    struct pipe_call *c = call_add('d', key);
    c->dir = dir;
    memcpy(c->text, data, n < sizeof c->text - 1 ? n : sizeof c->text - 1);
    __real_smb_pipe_data(ctx, p, key, dir, data, n);
}

void __wrap_smb_pipe_close(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key)
{
    call_add('c', key);
    __real_smb_pipe_close(ctx, p, key);
}

/* ---- building SMB1 messages (MS-CIFS 2.2.3) ------------------------------------------------------ */

/* The 32-byte header. status is an NTSTATUS when flags2 has NT_STATUS, else DOS(class, code). */
static void hdr(struct pg_buf *b, uint8_t cmd, bool resp, uint32_t status, uint16_t flags2, uint16_t tid,
                uint16_t uid, uint16_t mid, const uint8_t sig[8])
{
    pg_put(b, "\xffSMB", 4);
    pg_u8(b, cmd);
    if (flags2 & SMB_FLAGS2_NT_STATUS) {
        pg_u32le(b, status);
    } else {
        pg_u8(b, (uint8_t)(status >> 16));
        pg_u8(b, 0);
        pg_u16le(b, (uint16_t)status);
    }
    pg_u8(b, resp ? 0x88 : 0x08);
    pg_u16le(b, flags2);
    pg_u16le(b, 0); /* PIDHigh */
    pg_put(b, sig ? sig : sig_zero, 8);
    pg_u16le(b, 0);
    pg_u16le(b, tid);
    pg_u16le(b, PID);
    pg_u16le(b, uid);
    pg_u16le(b, mid);
}

/* WordCount and words; returns where ByteCount goes (written by blk_end). */
static size_t blk_start(struct pg_buf *m, const struct pg_buf *words)
{
    assert_true(words->len % 2 == 0);
    pg_u8(m, (uint8_t)(words->len / 2));
    pg_put(m, words->p, words->len);
    size_t at = m->len;
    pg_u16le(m, 0);
    return at;
}

static void blk_end(struct pg_buf *m, size_t bc_at) { pg_set_u16le(m, bc_at, (uint16_t)(m->len - bc_at - 2)); }

/* An SMB_STRING: Unicode aligned to 2 from the header, or OEM; NUL-terminated. */
static void put_str(struct pg_buf *m, const char *s, bool unicode)
{
    if (unicode) {
        if (m->len & 1)
            pg_u8(m, 0);
        pg_utf16(m, s);
        pg_u16le(m, 0);
    } else {
        pg_str(m, s);
        pg_u8(m, 0);
    }
}

/* Points the AndX block whose WordCount is at blk to the next command at next_off. */
static void andx_link(struct pg_buf *m, size_t blk, uint8_t next_cmd, size_t next_off)
{
    m->p[blk + 1] = next_cmd;
    pg_set_u16le(m, blk + 3, (uint16_t)next_off);
}

static void andx_words(struct pg_buf *w)
{
    pg_u8(w, SMB_COM_NO_ANDX_COMMAND);
    pg_u8(w, 0);
    pg_u16le(w, 0);
}

static struct pg_buf negotiate_req(const char *const *dialects, size_t n)
{
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_NEGOTIATE, false, 0, F2_NT_EXT, 0, 0, 0, NULL);
    size_t bc = blk_start(&m, &w);
    for (size_t i = 0; i < n; i++) {
        pg_u8(&m, 0x02);
        put_str(&m, dialects[i], false);
    }
    blk_end(&m, bc);
    return m;
}

static const char *const g_dialects[] = {"PC NETWORK PROGRAM 1.0", "LANMAN1.0", "LM1.2X002", "LANMAN2.1", "NT LM 0.12"};

/* The NT LM 0.12 response (17 words): with extended security a GUID and a blob, else the 8-byte challenge,
 * DomainName and ServerName (Unicode, not aligned). */
static struct pg_buf negotiate_resp(uint16_t idx, uint8_t security_mode, bool ext)
{
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_NEGOTIATE, true, 0, ext ? F2_NT_EXT : F2_NT, 0, 0, 0, NULL);
    pg_u16le(&w, idx);
    pg_u8(&w, security_mode);
    pg_u16le(&w, 50);
    pg_u16le(&w, 1);
    pg_u32le(&w, 16644);
    pg_u32le(&w, 65536);
    pg_u32le(&w, 0x6330);
    pg_u32le(&w, 0x0000f3fcu | (ext ? CAP_EXTENDED_SECURITY : 0));
    pg_u64le(&w, 0x01dd000000000000ull);
    pg_u16le(&w, 0);
    pg_u8(&w, ext ? 0 : 8);
    assert_int_equal(w.len, 34);
    size_t bc = blk_start(&m, &w);
    if (ext) {
        pg_fill(&m, 0x77, 16);
        struct pg_buf blob = pg_spnego_init(NULL, true);
        pg_put(&m, blob.p, blob.len);
        pg_free(&blob);
    } else {
        pg_put(&m, "\xe3\xb2\x97\x15\x8e\xa6\xcf\x7e", 8);
        pg_utf16(&m, "HOPLAB");
        pg_u16le(&m, 0);
        pg_utf16(&m, "DC1");
        pg_u16le(&m, 0);
    }
    blk_end(&m, bc);
    pg_free(&w);
    return m;
}

/* SESSION_SETUP_ANDX request with extended security (12 words), blob as given. Returns the block's offset
 * through *blk (for chaining). */
static void ss_req_ext_block(struct pg_buf *m, const struct pg_buf *blob, uint16_t flags2)
{
    struct pg_buf w = {0};
    andx_words(&w);
    pg_u16le(&w, 65535);
    pg_u16le(&w, 2);
    pg_u16le(&w, 1);
    pg_u32le(&w, 0);
    pg_u16le(&w, (uint16_t)blob->len);
    pg_u32le(&w, 0);
    pg_u32le(&w, 0x8000d05cu);
    size_t bc = blk_start(m, &w);
    pg_put(m, blob->p, blob->len);
    put_str(m, "Unix", flags2 & SMB_FLAGS2_UNICODE);
    put_str(m, "Samba", flags2 & SMB_FLAGS2_UNICODE);
    blk_end(m, bc);
    pg_free(&w);
}

static struct pg_buf ss_req_ext(uint16_t uid, uint16_t mid, const struct pg_buf *blob, uint16_t flags2)
{
    struct pg_buf m = {0};
    hdr(&m, SMB_COM_SESSION_SETUP_ANDX, false, 0, flags2, 0, uid, mid, sig_placeholder);
    ss_req_ext_block(&m, blob, flags2);
    return m;
}

static struct pg_buf ss_resp_ext(uint16_t uid, uint16_t mid, uint32_t status, uint16_t action,
                                 const struct pg_buf *blob, const uint8_t sig[8])
{
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_SESSION_SETUP_ANDX, true, status, F2_NT_EXT, 0, uid, mid, sig);
    if (status != 0 && status != STATUS_MPR) {
        size_t bc = blk_start(&m, &w);
        blk_end(&m, bc);
        return m;
    }
    andx_words(&w);
    pg_u16le(&w, action);
    pg_u16le(&w, blob ? (uint16_t)blob->len : 0);
    size_t bc = blk_start(&m, &w);
    if (blob)
        pg_put(&m, blob->p, blob->len);
    put_str(&m, "Windows 6.1", true);
    put_str(&m, "Samba 4.17", true);
    blk_end(&m, bc);
    pg_free(&w);
    return m;
}

/* SESSION_SETUP_ANDX request without extended security (13 words): the responses and the names. */
static void ss_req_raw_block(struct pg_buf *m, const uint8_t *lm, size_t lm_len, const uint8_t *nt, size_t nt_len,
                             const char *user, const char *domain, bool unicode)
{
    struct pg_buf w = {0};
    andx_words(&w);
    pg_u16le(&w, 65535);
    pg_u16le(&w, 2);
    pg_u16le(&w, 1);
    pg_u32le(&w, 0x6330);
    pg_u16le(&w, (uint16_t)lm_len);
    pg_u16le(&w, (uint16_t)nt_len);
    pg_u32le(&w, 0);
    pg_u32le(&w, 0x0000c054u);
    size_t bc = blk_start(m, &w);
    pg_put(m, lm, lm_len);
    pg_put(m, nt, nt_len);
    put_str(m, user, unicode);
    put_str(m, domain, unicode);
    put_str(m, "Unix", unicode);
    put_str(m, "Samba", unicode);
    blk_end(m, bc);
    pg_free(&w);
}

static struct pg_buf ss_req_raw(uint16_t mid, const uint8_t *lm, size_t lm_len, const uint8_t *nt, size_t nt_len,
                                const char *user, const char *domain)
{
    struct pg_buf m = {0};
    hdr(&m, SMB_COM_SESSION_SETUP_ANDX, false, 0, F2_NT, 0, 0, mid, sig_placeholder);
    ss_req_raw_block(&m, lm, lm_len, nt, nt_len, user, domain, true);
    return m;
}

/* The 3-word response (Action, then NativeOS, NativeLanMan, PrimaryDomain), or an error with no words. */
static void ss_resp_raw_block(struct pg_buf *m, uint32_t status, uint16_t action, bool unicode)
{
    struct pg_buf w = {0};
    if (status == 0) {
        andx_words(&w);
        pg_u16le(&w, action);
    }
    size_t bc = blk_start(m, &w);
    if (status == 0) {
        put_str(m, "Windows 6.1", unicode);
        put_str(m, "Samba 4.17", unicode);
        put_str(m, "HOPLAB", unicode);
    }
    blk_end(m, bc);
    pg_free(&w);
}

static struct pg_buf ss_resp_raw(uint16_t uid, uint16_t mid, uint32_t status, uint16_t flags2, uint16_t action,
                                 const uint8_t sig[8])
{
    struct pg_buf m = {0};
    hdr(&m, SMB_COM_SESSION_SETUP_ANDX, true, status, flags2, 0, uid, mid, sig);
    ss_resp_raw_block(&m, status, action, flags2 & SMB_FLAGS2_UNICODE);
    return m;
}

static void tc_req_block(struct pg_buf *m, const char *path, bool unicode)
{
    struct pg_buf w = {0};
    andx_words(&w);
    pg_u16le(&w, 0x0008);
    pg_u16le(&w, 1); /* PasswordLength: one NUL */
    size_t bc = blk_start(m, &w);
    pg_u8(m, 0);
    put_str(m, path, unicode);
    put_str(m, "?????", false);
    blk_end(m, bc);
    pg_free(&w);
}

static struct pg_buf tc_req(uint16_t uid, uint16_t mid, const char *path)
{
    struct pg_buf m = {0};
    hdr(&m, SMB_COM_TREE_CONNECT_ANDX, false, 0, F2_NT, 0xFFFF, uid, mid, NULL);
    tc_req_block(&m, path, true);
    return m;
}

static void tc_resp_block(struct pg_buf *m, bool ok, const char *service)
{
    struct pg_buf w = {0};
    if (ok) {
        andx_words(&w);
        pg_u16le(&w, 1);
    }
    size_t bc = blk_start(m, &w);
    if (ok) {
        put_str(m, service, false);
        put_str(m, "", false);
    }
    blk_end(m, bc);
    pg_free(&w);
}

static struct pg_buf tc_resp(uint16_t uid, uint16_t tid, uint16_t mid, uint32_t status, uint16_t flags2,
                             const char *service)
{
    struct pg_buf m = {0};
    hdr(&m, SMB_COM_TREE_CONNECT_ANDX, true, status, flags2, tid, uid, mid, NULL);
    tc_resp_block(&m, status == 0, service);
    return m;
}

/* Any command with wc zero words and n filler bytes. */
static struct pg_buf other_msg(uint8_t cmd, bool resp, uint16_t tid, uint16_t uid, uint16_t mid, size_t n,
                               const uint8_t sig[8])
{
    struct pg_buf m = {0}, w = {0};
    hdr(&m, cmd, resp, 0, F2_NT, tid, uid, mid, sig);
    size_t bc = blk_start(&m, &w);
    pg_fill(&m, 0x33, n);
    blk_end(&m, bc);
    return m;
}

static void nbss(struct pg_buf *b)
{
    uint8_t h[4] = {0, (uint8_t)(b->len >> 16), (uint8_t)(b->len >> 8), (uint8_t)b->len};
    pg_prepend(b, h, 4);
}

/* Sends message m (freed) NBSS-framed on direction dir; returns the frame of its last byte. */
static uint64_t send_msg(struct pg_run *r, struct pg_conn *c, int dir, struct pg_buf m)
{
    nbss(&m);
    uint64_t f = pg_sendb(r, c, dir, &m);
    pg_free(&m);
    return f;
}

static void open_445(struct pg_run *r, struct pg_conn *c)
{
    pg_conn_init(c, 49800, 445);
    pg_handshake(r, c);
}

/* NEGOTIATE for NT LM 0.12 (index 4 of g_dialects). */
static uint64_t negotiate(struct pg_run *r, struct pg_conn *c, uint8_t security_mode, bool ext)
{
    send_msg(r, c, 0, negotiate_req(g_dialects, 5));
    return send_msg(r, c, 1, negotiate_resp(4, security_mode, ext));
}

static const uint8_t LM24[24] = {0x9d, 0xae, 0x8e, 0x30, 0x98, 0x50, 0x81, 0x03, 0xbd, 0xc4, 0xcd, 0xcc,
                                 0x6a, 0x2c, 0xff, 0xf0, 0x92, 0x74, 0xa4, 0xbe, 0x3b, 0xb4, 0xdb, 0x46};
static const uint8_t NT24[24] = {0x9d, 0x2a, 0xbb, 0x88, 0xbe, 0x57, 0x15, 0x41, 0xbc, 0x08, 0x97, 0x5f,
                                 0x74, 0xfa, 0xc7, 0x5c, 0xd7, 0x32, 0xfb, 0xe5, 0xf9, 0x48, 0x7b, 0x84};

#define SECMODE_USER_ENCRYPT (NEGOTIATE_USER_SECURITY | NEGOTIATE_ENCRYPT_PASSWORDS)

struct raw_run {
    uint64_t chal, req, resp;
};

/* NEGOTIATE (no extended security) and one raw SESSION_SETUP_ANDX answered by status; the record is the
 * only one. */
static struct raw_run raw_logon(struct pg_run *r, uint8_t security_mode, const uint8_t *lm, size_t lm_len,
                                const uint8_t *nt, size_t nt_len, const char *user, const char *domain,
                                uint32_t status, uint16_t flags2, uint16_t action)
{
    struct pg_conn c;
    struct raw_run x;
    open_445(r, &c);
    x.chal = negotiate(r, &c, security_mode, false);
    x.req = send_msg(r, &c, 0, ss_req_raw(1, lm, lm_len, nt, nt_len, user, domain));
    x.resp = send_msg(r, &c, 1, ss_resp_raw(UID, 1, status, flags2, action, sig_mac));
    pg_close(r, &c, 0);
    pg_run_finish(r);
    assert_int_equal(pg_nrecs(r), 1);
    return x;
}

/* ---------------------------------------------------------------------------------------------------- */

static void test_negotiate_without_extended_security(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct raw_run x = raw_logon(&r, SECMODE_USER_ENCRYPT | NEGOTIATE_SECURITY_SIGNATURES_ENABLED, LM24, 24, NT24,
                                 24, "alice", "HOPLAB", 0, F2_NT, 0);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "transport", "smb1");
    assert_jstr(rec, "service", "cifs");
    assert_jstr(rec, "smb1.dialect", "NT LM 0.12");
    assert_int_equal(json_array_size(pg_j(rec, "smb1.dialects_offered")), 5);
    assert_jstr(rec, "smb1.dialects_offered[0]", "PC NETWORK PROGRAM 1.0");
    assert_jstr(rec, "smb1.dialects_offered[4]", "NT LM 0.12");
    assert_jbool(rec, "smb1.extended_security", false);
    assert_jstr(rec, "smb1.security_mode[0]", "NEGOTIATE_USER_SECURITY");
    assert_jstr(rec, "smb1.security_mode[1]", "NEGOTIATE_ENCRYPT_PASSWORDS");
    assert_jstr(rec, "smb1.security_mode[2]", "NEGOTIATE_SECURITY_SIGNATURES_ENABLED");
    assert_int_equal(json_array_size(pg_j(rec, "smb1.security_mode")), 3);
    assert_jbool(rec, "smb1.signing.server_enabled", true);
    assert_jbool(rec, "smb1.signing.server_required", false);
    /* the NEGOTIATE's EncryptionKey is the challenge (not written); DomainName and ServerName name the server */
    assert_jabsent(rec, "ntlm.server_challenge"); /* kept for verification (--creds), never written */
    assert_jstr(rec, "ntlm.target_name", "HOPLAB");
    assert_jstr(rec, "server.names.nb_domain", "HOPLAB");
    assert_jstr(rec, "server.names.nb_computer", "DC1");
    assert_jint(rec, "frames.challenge", (long long)x.chal);
    assert_jint(rec, "frames.authenticate", (long long)x.req);
    assert_jint(rec, "frames.verdict", (long long)x.resp);
    assert_jabsent(rec, "frames.negotiate");
    assert_jint(rec, "smb1.uid", UID);
    assert_jstr(rec, "smb1.client_native_os", "Unix");
    assert_jstr(rec, "smb1.client_native_lanman", "Samba");
    assert_jstr(rec, "smb1.server_native_os", "Windows 6.1");
    assert_jstr(rec, "smb1.server_native_lanman", "Samba 4.17");
    assert_int_equal(pg_stat(&r, "malformed.smb1"), 0);
    assert_int_equal(pg_stat(&r, "malformed.nbss"), 0);
    pg_run_free(&r);
}

static void test_raw_lm_and_ntlmv1(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    raw_logon(&r, SECMODE_USER_ENCRYPT, LM24, 24, NT24, 24, "alice", "HOPLAB", 0, F2_NT, 0);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "mechanism", "ntlm");
    assert_jstr(rec, "ntlm.response_type", "ntlmv1");
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "ntlm.domain", "HOPLAB");
    assert_jstr(rec, "ntlm.workstation", "");
    assert_jstr(rec, "ntlm.lm_response", "lm");
    assert_jint(rec, "ntlm.lm_response_len", 24);
    assert_jint(rec, "ntlm.nt_response_len", 24);
    assert_int_equal(json_array_size(pg_j(rec, "ntlm.flags")), 0);
    assert_jbool(rec, "smb1.plaintext_password", false);
    assert_jstr(rec, "result", "success");
    assert_jstr(rec, "status.name", "STATUS_SUCCESS");
    pg_run_free(&r);
}

static void test_raw_lm_only(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    raw_logon(&r, SECMODE_USER_ENCRYPT, LM24, 24, NULL, 0, "alice", "HOPLAB", 0, F2_NT, 0);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.response_type", "lm");
    assert_jstr(rec, "ntlm.lm_response", "lm");
    assert_jint(rec, "ntlm.nt_response_len", 0);
    pg_run_free(&r);
}

static void test_raw_lm_is_nt_copy(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    raw_logon(&r, SECMODE_USER_ENCRYPT, NT24, 24, NT24, 24, "bob", "HOPLAB", 0, F2_NT, 0);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.response_type", "ntlmv1");
    assert_jstr(rec, "ntlm.lm_response", "nt-copy");
    assert_jstr(rec, "ntlm.user", "bob");
    pg_run_free(&r);
}

static void test_raw_anonymous(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    /* Windows sends one zero byte as the OEM password and no Unicode one */
    raw_logon(&r, SECMODE_USER_ENCRYPT, (const uint8_t *)"", 1, NULL, 0, "", "", 0, F2_NT, 0);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.response_type", "anonymous");
    assert_jstr(rec, "ntlm.user", "");
    assert_jstr(rec, "ntlm.lm_response", "zero");
    assert_jbool(rec, "smb1.plaintext_password", false);
    pg_run_free(&r);
}

static void test_raw_plaintext_never_written(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    /* User-level security without NEGOTIATE_ENCRYPT_PASSWORDS: the password goes in the clear */
    const char *pw = "Secr3tPassw0rd";
    struct pg_buf u = {0};
    pg_utf16(&u, pw);
    raw_logon(&r, NEGOTIATE_USER_SECURITY, (const uint8_t *)pw, strlen(pw), u.p, u.len, "alice", "HOPLAB", 0, F2_NT,
              0);
    json_t *rec = pg_rec(&r, 0);
    assert_jbool(rec, "smb1.plaintext_password", true);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "ntlm.response_type", "unknown");
    /* neither the bytes nor the length */
    assert_jint(rec, "ntlm.lm_response_len", 0);
    assert_jint(rec, "ntlm.nt_response_len", 0);
    assert_null(strstr(r.text, "Secr3t"));
    assert_null(strstr(r.text, "5365637233")); /* nor as hex */
    assert_jabsent(rec, "ntlm.server_challenge");
    pg_free(&u);
    pg_run_free(&r);
}

static void test_raw_plaintext_to_a_server_that_encrypts(void **state)
{
    (void)state;
    /* The server asks for responses; the client sends a 4-byte password in the OEM field anyway: no LM
     * response is 4 bytes long, so it is the password itself */
    struct pg_run r;
    pg_run_init(&r, NULL);
    raw_logon(&r, SECMODE_USER_ENCRYPT, (const uint8_t *)"Pass", 4, NULL, 0, "GUEST", "", 0, F2_NT, 0);
    json_t *rec = pg_rec(&r, 0);
    assert_jbool(rec, "smb1.plaintext_password", true);
    assert_jstr(rec, "ntlm.response_type", "unknown");
    assert_jstr(rec, "ntlm.lm_response", "absent");
    assert_jint(rec, "ntlm.lm_response_len", 0);
    assert_null(strstr(r.text, "Pass"));
    assert_null(strstr(r.text, "\"lm_response_sent\""));
    pg_run_free(&r);

    /* a 2-byte all-zero Unicode password (smbclient, share-level) is no password, not a plaintext one */
    pg_run_init(&r, NULL);
    raw_logon(&r, SECMODE_USER_ENCRYPT, NULL, 0, (const uint8_t *)"\0\0", 2, "user", "WORKGROUP", 0, F2_NT, 0);
    assert_jbool(pg_rec(&r, 0), "smb1.plaintext_password", false);
    pg_run_free(&r);
}

static void test_raw_guest(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    raw_logon(&r, SECMODE_USER_ENCRYPT, LM24, 24, NT24, 24, "nobody", "HOPLAB", 0, F2_NT, SMB_SETUP_GUEST);
    json_t *rec = pg_rec(&r, 0);
    assert_int_equal(json_array_size(pg_j(rec, "smb1.action")), 1);
    assert_jstr(rec, "smb1.action[0]", "SMB_SETUP_GUEST");
    assert_jstr(rec, "result", "success");
    pg_run_free(&r);
}

static void test_dos_error_codes(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    raw_logon(&r, SECMODE_USER_ENCRYPT, LM24, 24, NT24, 24, "alice", "HOPLAB", ERRSRV_ERRBADPW, F2_DOS, 0);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "result", "failure");
    assert_jstr(rec, "status.name", "ERRSRV/ERRbadpw");
    assert_jstr(rec, "status.code", "0x00020002");
    assert_jabsent(rec, "smb1.action");
    assert_jabsent(rec, "smb1.signing.signatures");
    pg_run_free(&r);

    /* a DOS success, and a tree connect refused with ERRDOS/ERRnoaccess; an unknown code is its hex */
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    negotiate(&r, &c, SECMODE_USER_ENCRYPT, false);
    send_msg(&r, &c, 0, ss_req_raw(1, LM24, 24, NT24, 24, "alice", "HOPLAB"));
    send_msg(&r, &c, 1, ss_resp_raw(UID, 1, 0, F2_DOS, 0, NULL));
    send_msg(&r, &c, 0, tc_req(UID, 2, "\\\\DC1\\SECRET"));
    send_msg(&r, &c, 1, tc_resp(UID, 0, 2, ERRDOS_ERRNOACCESS, F2_DOS, NULL));
    send_msg(&r, &c, 0, tc_req(UID, 3, "\\\\DC1\\ODD"));
    send_msg(&r, &c, 1, tc_resp(UID, 0, 3, DOS(7, 0x1234), F2_DOS, NULL));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    rec = pg_rec(&r, 0);
    assert_jstr(rec, "result", "success");
    assert_jstr(rec, "status.name", "SUCCESS");
    assert_jstr(rec, "status.code", "0x00000000");
    assert_jstr(rec, "smb1.tree_connects[0].share", "\\\\DC1\\SECRET");
    assert_jstr(rec, "smb1.tree_connects[0].status.name", "ERRDOS/ERRnoaccess");
    assert_jstr(rec, "smb1.tree_connects[0].status.code", "0x00010005");
    assert_jstr(rec, "smb1.tree_connects[0].service", "?????");
    assert_jstr(rec, "smb1.tree_connects[1].status.name", "0x00071234");
    pg_run_free(&r);
}

struct login {
    uint64_t neg, chal, auth, verdict;
};

/* NEGOTIATE with extended security and a two-leg NTLMSSP SESSION_SETUP_ANDX (in SPNEGO when spnego). */
static struct login ntlmssp_login(struct pg_run *r, struct pg_conn *c, bool spnego, uint32_t final,
                                  const uint8_t final_sig[8], uint16_t flags2)
{
    struct login l;
    negotiate(r, c, SECMODE_USER_ENCRYPT | NEGOTIATE_SECURITY_SIGNATURES_ENABLED, true);
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
    l.neg = send_msg(r, c, 0, ss_req_ext(0, 1, &neg, flags2));
    l.chal = send_msg(r, c, 1, ss_resp_ext(UID, 1, STATUS_MPR, 0, &chal, sig_placeholder));
    l.auth = send_msg(r, c, 0, ss_req_ext(UID, 2, &auth, flags2));
    struct pg_buf done = pg_spnego_resp(0, false, NULL);
    l.verdict = send_msg(r, c, 1, ss_resp_ext(UID, 2, final, 0, spnego ? &done : NULL, final_sig));
    pg_free(&done);
    pg_free(&neg);
    pg_free(&chal);
    pg_free(&auth);
    return l;
}

static void test_negotiate_with_extended_security(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    ntlmssp_login(&r, &c, true, 0, sig_mac, F2_NT_EXT);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jbool(rec, "smb1.extended_security", true);
    json_t *caps = pg_j(rec, "smb1.capabilities");
    assert_int_equal(json_array_size(caps), 13);
    assert_jstr(caps, "[0]", "CAP_UNICODE");
    assert_jstr(caps, "[12]", "CAP_EXTENDED_SECURITY");
    /* with extended security there is no EncryptionKey: the challenge is the NTLMSSP one */
    assert_jabsent(rec, "ntlm.server_challenge"); /* kept for verification (--creds), never written */
    assert_jstr(rec, "server.names.dns_computer", "srv1.hoplab.test");
    pg_run_free(&r);
}

static void test_ntlmssp_two_legs(void **state)
{
    (void)state;
    for (int spnego = 0; spnego < 2; spnego++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        open_445(&r, &c);
        struct login l = ntlmssp_login(&r, &c, spnego, 0, sig_mac, F2_NT_EXT);
        pg_close(&r, &c, 0);
        pg_run_finish(&r);
        assert_int_equal(pg_nrecs(&r), 1);
        json_t *rec = pg_rec(&r, 0);
        assert_jstr(rec, "mechanism", spnego ? "negotiate/ntlm" : "ntlm");
        assert_jstr(rec, "ntlm.response_type", "ntlmv2");
        assert_jstr(rec, "ntlm.user", "alice");
        assert_jstr(rec, "ntlm.domain", "HOPLAB");
        assert_jstr(rec, "ntlm.workstation", "WS01");
        assert_jint(rec, "frames.negotiate", (long long)l.neg);
        assert_jint(rec, "frames.challenge", (long long)l.chal);
        assert_jint(rec, "frames.authenticate", (long long)l.auth);
        assert_jint(rec, "frames.verdict", (long long)l.verdict);
        assert_jint(rec, "smb1.uid", UID);
        assert_jstr(rec, "result", "success");
        assert_jstr(rec, "smb1.client_native_os", "Unix");
        if (spnego)
            assert_jstr(rec, "spnego.neg_state", "accept-completed");
        assert_int_equal(pg_stat(&r, "malformed.smb1"), 0);
        pg_run_free(&r);
    }
}

static void test_ntlmssp_logon_failure(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    struct login l = ntlmssp_login(&r, &c, true, STATUS_LOGON_FAILURE, sig_zero, F2_NT_EXT);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "result", "failure");
    assert_jstr(rec, "status.name", "STATUS_LOGON_FAILURE");
    assert_jint(rec, "frames.verdict", (long long)l.verdict);
    assert_jabsent(rec, "smb1.signing.signatures"); /* only a success starts signing */
    pg_run_free(&r);
}

static void test_signing_placeholder_after_logon(void **state)
{
    (void)state;
    /* smb1_ntlmssp_lmkey_signed: the client requires signing, the server's final response carries
     * "BSRSPYL " (it did not start signing) and the client gives up */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    uint16_t f2 = F2_NT_EXT | SMB_FLAGS2_SMB_SECURITY_SIGNATURE | SMB_FLAGS2_SMB_SECURITY_SIGNATURE_REQUIRED;
    struct login l = ntlmssp_login(&r, &c, true, 0, sig_placeholder, f2);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    json_t *sg = pg_j(pg_rec(&r, 0), "smb1.signing");
    assert_jbool(sg, "client_enabled", true);
    assert_jbool(sg, "client_required", true);
    assert_jbool(sg, "signed_after", false);
    assert_jabsent(sg, "first_signed_frame");
    assert_jabsent(sg, "first_signed_response");
    assert_int_equal(json_array_size(pg_j(sg, "signatures")), 1);
    assert_jint(sg, "signatures[0].frame", (long long)l.verdict);
    assert_jstr(sg, "signatures[0].from", "server");
    assert_jstr(sg, "signatures[0].command", "SESSION_SETUP_ANDX");
    assert_jstr(sg, "signatures[0].signature", "placeholder");
    assert_jstr(sg, "signatures[0].status.name", "STATUS_SUCCESS");
    pg_run_free(&r);
}

static void test_signing_mac_after_logon(void **state)
{
    (void)state;
    /* The client signs a tree connect the server refuses (a session key the server does not share), then a
     * bulk TRANSACTION2 read only to its header: four messages noted, the fifth not. */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    struct login l = ntlmssp_login(&r, &c, false, 0, sig_zero, F2_NT_EXT);
    struct pg_buf q = tc_req(UID, 3, "\\\\DC1\\IPC$");
    memcpy(q.p + 14, sig_mac, 8);
    uint64_t fq = send_msg(&r, &c, 0, q);
    struct pg_buf p = tc_resp(UID, 0, 3, STATUS_ACCESS_DENIED, F2_NT, NULL);
    memcpy(p.p + 14, sig_mac, 8);
    uint64_t fp = send_msg(&r, &c, 1, p);
    /* a message read only to its header is numbered by the frame that carried the header */
    uint64_t ft = r.frame + 1;
    send_msg(&r, &c, 0, other_msg(0x32, false, 1, UID, 4, 9000, sig_mac));
    send_msg(&r, &c, 1, other_msg(0x32, true, 1, UID, 4, 9000, sig_mac));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    json_t *sg = pg_j(pg_rec(&r, 0), "smb1.signing");
    assert_jbool(sg, "signed_after", true);
    assert_jint(sg, "first_signed_frame", (long long)fq);
    assert_jint(sg, "first_signed_response.frame", (long long)fp);
    assert_jstr(sg, "first_signed_response.status.name", "STATUS_ACCESS_DENIED");
    assert_int_equal(json_array_size(pg_j(sg, "signatures")), 4);
    assert_jint(sg, "signatures[0].frame", (long long)l.verdict);
    assert_jstr(sg, "signatures[0].signature", "zero");
    assert_jstr(sg, "signatures[1].from", "client");
    assert_jstr(sg, "signatures[1].command", "TREE_CONNECT_ANDX");
    assert_jabsent(sg, "signatures[1].status");
    assert_jint(sg, "signatures[3].frame", (long long)ft);
    assert_jstr(sg, "signatures[3].command", "TRANSACTION2");
    assert_jstr(sg, "signatures[3].signature", "mac");
    pg_run_free(&r);
}

/* SESSION_SETUP_ANDX (raw) + TREE_CONNECT_ANDX in one request, and in one response whose header status is
 * the tree connect's. */
static void send_chained_logon(struct pg_run *r, struct pg_conn *c, uint32_t status, uint64_t *freq, uint64_t *fresp)
{
    struct pg_buf m = {0};
    hdr(&m, SMB_COM_SESSION_SETUP_ANDX, false, 0, F2_NT, 0xFFFF, 0, 7, NULL);
    size_t b1 = m.len;
    ss_req_raw_block(&m, LM24, 24, NT24, 24, "alice", "HOPLAB", true);
    andx_link(&m, b1, SMB_COM_TREE_CONNECT_ANDX, m.len);
    tc_req_block(&m, "\\\\DC1\\IPC$", true);
    *freq = send_msg(r, c, 0, m);
    struct pg_buf p = {0};
    hdr(&p, SMB_COM_SESSION_SETUP_ANDX, true, status, F2_NT, 0x2a, UID, 7, NULL);
    b1 = p.len;
    ss_resp_raw_block(&p, 0, 0, true);
    andx_link(&p, b1, SMB_COM_TREE_CONNECT_ANDX, p.len);
    tc_resp_block(&p, status == 0, "IPC");
    *fresp = send_msg(r, c, 1, p);
}

static void test_andx_session_setup_and_tree_connect(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    negotiate(&r, &c, SECMODE_USER_ENCRYPT, false);
    uint64_t fq, fp;
    send_chained_logon(&r, &c, 0, &fq, &fp);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "ntlm.user", "alice");
    assert_jstr(rec, "result", "success");
    assert_jint(rec, "frames.authenticate", (long long)fq);
    assert_jint(rec, "frames.verdict", (long long)fp);
    assert_jint(rec, "smb1.uid", UID);
    assert_int_equal(json_array_size(pg_j(rec, "smb1.tree_connects")), 1);
    assert_jstr(rec, "smb1.tree_connects[0].share", "\\\\DC1\\IPC$");
    assert_jstr(rec, "smb1.tree_connects[0].service", "IPC");
    assert_jstr(rec, "smb1.tree_connects[0].status.name", "STATUS_SUCCESS");
    assert_jint(rec, "smb1.tree_connects[0].frames[0]", (long long)fq);
    assert_jint(rec, "smb1.tree_connects[0].frames[1]", (long long)fp);
    assert_int_equal(pg_stat(&r, "malformed.smb1"), 0);
    pg_run_free(&r);
}

static void test_andx_chain_status_is_the_last_commands(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    negotiate(&r, &c, SECMODE_USER_ENCRYPT, false);
    uint64_t fq, fp;
    send_chained_logon(&r, &c, STATUS_ACCESS_DENIED, &fq, &fp);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "result", "success");
    assert_jstr(rec, "status.name", "STATUS_SUCCESS");
    assert_jstr(rec, "smb1.tree_connects[0].status.name", "STATUS_ACCESS_DENIED");
    pg_run_free(&r);
}

/* A raw SESSION_SETUP_ANDX request whose AndX points at `next_off` (a second block is appended after it). */
static struct pg_buf chain_to(size_t next_off_or_zero, bool to_itself)
{
    struct pg_buf m = {0};
    hdr(&m, SMB_COM_SESSION_SETUP_ANDX, false, 0, F2_NT, 0xFFFF, 0, 9, NULL);
    size_t b1 = m.len;
    ss_req_raw_block(&m, LM24, 24, NT24, 24, "alice", "HOPLAB", true);
    size_t b2 = m.len;
    tc_req_block(&m, "\\\\DC1\\IPC$", true);
    andx_link(&m, b1, SMB_COM_TREE_CONNECT_ANDX, b2);
    /* the tree connect chains on to next_off (or back to the session setup) */
    andx_link(&m, b2, to_itself ? SMB_COM_TREE_CONNECT_ANDX : SMB_COM_SESSION_SETUP_ANDX,
              to_itself ? b2 : next_off_or_zero);
    return m;
}

static void test_andx_loop_and_backward_offsets_are_malformed(void **state)
{
    (void)state;
    const struct {
        size_t off;
        bool self;
    } cases[] = {{32, false}, {0, true}, {40, false}, {0xFFFF, false}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        open_445(&r, &c);
        negotiate(&r, &c, SECMODE_USER_ENCRYPT, false);
        send_msg(&r, &c, 0, chain_to(cases[i].off, cases[i].self));
        send_msg(&r, &c, 1, ss_resp_raw(UID, 9, 0, F2_NT, 0, NULL));
        pg_close(&r, &c, 0);
        pg_run_finish(&r);
        /* the chain stops where it goes wrong, counted once; what came before it stands */
        assert_int_equal(pg_stat(&r, "malformed.smb1"), 1);
        assert_int_equal(pg_nrecs(&r), 1);
        assert_jstr(pg_rec(&r, 0), "ntlm.user", "alice");
        assert_jstr(pg_rec(&r, 0), "result", "success");
        pg_run_free(&r);
    }
}

static void test_andx_chain_length_capped(void **state)
{
    (void)state;
    /* 40 forward-moving LOGOFF_ANDX links: followed to the cap, counted, and no hang */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_LOGOFF_ANDX, false, 0, F2_NT, 0, UID, 5, NULL);
    andx_words(&w);
    size_t prev = 0;
    for (int i = 0; i < 40; i++) {
        size_t at = m.len;
        if (i)
            andx_link(&m, prev, SMB_COM_LOGOFF_ANDX, at);
        blk_end(&m, blk_start(&m, &w));
        prev = at;
    }
    send_msg(&r, &c, 0, m);
    pg_free(&w);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.smb1"), 1);
    pg_run_free(&r);
}

static void test_truncated_and_overlong_counts(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    negotiate(&r, &c, SECMODE_USER_ENCRYPT, false);
    long long bad = 0;
    /* 1. a message shorter than the header */
    struct pg_buf m = {0};
    pg_put(&m, "\xffSMB\x73", 5);
    pg_zero(&m, 10);
    send_msg(&r, &c, 0, m);
    bad++;
    /* 2. a header and nothing else (no WordCount) */
    m = (struct pg_buf){0};
    hdr(&m, SMB_COM_SESSION_SETUP_ANDX, false, 0, F2_NT, 0, 0, 2, NULL);
    send_msg(&r, &c, 0, m);
    bad++;
    /* 3. WordCount past the message */
    m = ss_req_raw(3, LM24, 24, NT24, 24, "alice", "HOPLAB");
    m.p[32] = 200;
    send_msg(&r, &c, 0, m);
    bad++;
    /* 4. ByteCount past the message */
    m = ss_req_raw(4, LM24, 24, NT24, 24, "alice", "HOPLAB");
    pg_set_u16le(&m, 32 + 1 + 26, 0xFFF0);
    send_msg(&r, &c, 0, m);
    bad++;
    /* 5. password lengths past ByteCount */
    m = ss_req_raw(5, LM24, 24, NT24, 24, "alice", "HOPLAB");
    pg_set_u16le(&m, 32 + 1 + 16, 60000);
    send_msg(&r, &c, 0, m);
    bad++;
    /* 6. a security blob longer than the bytes */
    struct pg_buf neg = pg_ntlm_negotiate();
    m = ss_req_ext(0, 6, &neg, F2_NT_EXT);
    pg_set_u16le(&m, 32 + 1 + 14, 5000);
    send_msg(&r, &c, 0, m);
    pg_free(&neg);
    bad++;
    /* 7. an unknown SESSION_SETUP_ANDX word count */
    m = other_msg(SMB_COM_SESSION_SETUP_ANDX, false, 0, 0, 7, 4, NULL);
    send_msg(&r, &c, 0, m);
    bad++;
    /* 8. a TRANSACTION whose SetupCount runs past its words */
    struct pg_buf w = {0};
    pg_zero(&w, 28);
    w.p[26] = 5;
    m = (struct pg_buf){0};
    hdr(&m, SMB_COM_TRANSACTION, false, 0, F2_NT, 1, UID, 8, NULL);
    blk_end(&m, blk_start(&m, &w));
    send_msg(&r, &c, 0, m);
    pg_free(&w);
    bad++;
    /* strings without terminators at the end of the bytes are read to the end, not past it */
    m = ss_req_raw(9, LM24, 24, NT24, 24, "alice", "HOPLAB");
    m.len -= 12 + 10 + 2 + 1; /* NativeLanMan, NativeOS, PrimaryDomain's terminator and half its 'B' */
    pg_set_u16le(&m, 32 + 1 + 26, (uint16_t)(m.len - (32 + 1 + 26 + 2)));
    send_msg(&r, &c, 0, m);
    send_msg(&r, &c, 1, ss_resp_raw(UID, 9, 0, F2_NT, 0, NULL));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.smb1"), bad);
    assert_int_equal(pg_stat(&r, "malformed.nbss"), 0);
    /* only the last one made a record: its strings stop at the end of the bytes, an odd byte dropped */
    assert_int_equal(pg_nrecs(&r), 1);
    json_t *last = pg_rec(&r, 0);
    assert_jstr(last, "ntlm.user", "alice");
    assert_jstr(last, "ntlm.domain", "HOPLA");
    assert_jstr(last, "result", "success");
    pg_run_free(&r);
}

static void test_logoff_writes_the_session(void **state)
{
    (void)state;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    ntlmssp_login(&r, &c, true, 0, sig_mac, F2_NT_EXT);
    assert_int_equal(pg_count_auth_now(&r), 0);
    struct pg_buf w = {0};
    andx_words(&w);
    struct pg_buf q = {0}, p = {0};
    hdr(&q, SMB_COM_LOGOFF_ANDX, false, 0, F2_NT, 0, UID, 9, NULL);
    blk_end(&q, blk_start(&q, &w));
    hdr(&p, SMB_COM_LOGOFF_ANDX, true, 0, F2_NT, 0, UID, 9, NULL);
    blk_end(&p, blk_start(&p, &w));
    send_msg(&r, &c, 0, q);
    send_msg(&r, &c, 1, p);
    pg_free(&w);
    assert_int_equal(pg_count_auth_now(&r), 1);
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_nrecs(&r), 1);
    pg_run_free(&r);
}

static void test_lanman_dialect(void **state)
{
    (void)state;
    /* LANMAN2.1: a 13-word NEGOTIATE response, a 10-word SESSION_SETUP_ANDX with one OEM password */
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    send_msg(&r, &c, 0, negotiate_req(g_dialects, 4));
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_NEGOTIATE, true, 0, F2_DOS, 0, 0, 0, NULL);
    pg_u16le(&w, 3);
    pg_u16le(&w, SECMODE_USER_ENCRYPT);
    pg_zero(&w, 18);
    pg_u16le(&w, 8); /* EncryptionKeyLength */
    pg_u16le(&w, 0);
    size_t bc = blk_start(&m, &w);
    pg_put(&m, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    put_str(&m, "WORKGROUP", false);
    blk_end(&m, bc);
    pg_free(&w);
    send_msg(&r, &c, 1, m);
    m = (struct pg_buf){0};
    w = (struct pg_buf){0};
    hdr(&m, SMB_COM_SESSION_SETUP_ANDX, false, 0, F2_DOS, 0, 0, 1, NULL);
    andx_words(&w);
    pg_u16le(&w, 4356);
    pg_u16le(&w, 2);
    pg_u16le(&w, 0);
    pg_u32le(&w, 0);
    pg_u16le(&w, 24);
    pg_u32le(&w, 0);
    bc = blk_start(&m, &w);
    pg_put(&m, LM24, 24);
    put_str(&m, "MARTIN", false);
    put_str(&m, "WORKGROUP", false);
    put_str(&m, "Windows 4.0", false);
    put_str(&m, "Windows 4.0", false);
    blk_end(&m, bc);
    pg_free(&w);
    send_msg(&r, &c, 0, m);
    send_msg(&r, &c, 1, ss_resp_raw(UID, 1, 0, F2_DOS, 0, NULL));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    json_t *rec = pg_rec(&r, 0);
    assert_jstr(rec, "smb1.dialect", "LANMAN2.1");
    assert_jstr(rec, "ntlm.user", "MARTIN");
    assert_jstr(rec, "ntlm.domain", "WORKGROUP");
    assert_jstr(rec, "ntlm.response_type", "lm");
    assert_jabsent(rec, "ntlm.server_challenge"); /* kept for verification (--creds), never written */
    assert_jstr(rec, "smb1.client_native_os", "Windows 4.0");
    assert_int_equal(json_array_size(pg_j(rec, "smb1.security_mode")), 2);
    assert_jabsent(rec, "smb1.capabilities[0]");
    assert_int_equal(pg_stat(&r, "malformed.smb1"), 0);
    pg_run_free(&r);
}

/* ---- pipes ------------------------------------------------------------------------------------------ */

static struct pg_buf nt_create_req(uint16_t tid, uint16_t mid, const char *name)
{
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_NT_CREATE_ANDX, false, 0, F2_NT, tid, UID, mid, NULL);
    andx_words(&w);
    pg_u8(&w, 0);
    pg_u16le(&w, (uint16_t)(2 * strlen(name)));
    pg_zero(&w, 41);
    assert_int_equal(w.len, 48);
    size_t bc = blk_start(&m, &w);
    put_str(&m, name, true);
    blk_end(&m, bc);
    pg_free(&w);
    return m;
}

static struct pg_buf nt_create_resp(uint16_t tid, uint16_t mid, uint16_t fid)
{
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_NT_CREATE_ANDX, true, 0, F2_NT, tid, UID, mid, NULL);
    andx_words(&w);
    pg_u8(&w, 0);
    pg_u16le(&w, fid);
    pg_zero(&w, 61);
    assert_int_equal(w.len, 68);
    blk_end(&m, blk_start(&m, &w));
    pg_free(&w);
    return m;
}

/* TRANSACTION with Setup {TransactNmPipe, fid} (request) or no setup (response), data at DataOffset. */
static struct pg_buf trans_msg(bool resp, uint16_t tid, uint16_t mid, uint16_t fid, const char *data)
{
    struct pg_buf m = {0}, w = {0};
    uint16_t n = (uint16_t)strlen(data);
    hdr(&m, SMB_COM_TRANSACTION, resp, 0, F2_NT, tid, UID, mid, NULL);
    size_t wc = resp ? 10 : 16;
    size_t data_off = 32 + 1 + 2 * wc + 2 + (resp ? 0 : 14) + 1; /* Name "\PIPE\" in Unicode, aligned */
    data_off += data_off & 1;
    if (resp) {
        pg_u16le(&w, 0);
        pg_u16le(&w, n);
        pg_u16le(&w, 0);
        pg_u16le(&w, 0);
        pg_u16le(&w, 0);
        pg_u16le(&w, 0);
        pg_u16le(&w, n);
        pg_u16le(&w, (uint16_t)data_off);
        pg_u16le(&w, 0);
        pg_u8(&w, 0);
        pg_u8(&w, 0);
    } else {
        pg_u16le(&w, 0);
        pg_u16le(&w, n);
        pg_u16le(&w, 0);
        pg_u16le(&w, 1024);
        pg_u8(&w, 0);
        pg_u8(&w, 0);
        pg_u16le(&w, 0);
        pg_u32le(&w, 0);
        pg_u16le(&w, 0);
        pg_u16le(&w, 0);
        pg_u16le(&w, 0);
        pg_u16le(&w, n);
        pg_u16le(&w, (uint16_t)data_off);
        pg_u8(&w, 2);
        pg_u8(&w, 0);
        pg_u16le(&w, TRANS_TRANSACT_NMPIPE);
        pg_u16le(&w, fid);
    }
    size_t bc = blk_start(&m, &w);
    if (!resp)
        put_str(&m, "\\PIPE\\", true);
    while (m.len < data_off)
        pg_u8(&m, 0);
    pg_str(&m, data);
    blk_end(&m, bc);
    pg_free(&w);
    return m;
}

static struct pg_buf write_andx(uint16_t tid, uint16_t mid, uint16_t fid, uint16_t mode, const char *data)
{
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_WRITE_ANDX, false, 0, F2_NT, tid, UID, mid, NULL);
    andx_words(&w);
    pg_u16le(&w, fid);
    pg_u32le(&w, 0);
    pg_u32le(&w, 0);
    pg_u16le(&w, mode);
    pg_u16le(&w, 0);
    pg_u16le(&w, 0);
    pg_u16le(&w, (uint16_t)strlen(data));
    pg_u16le(&w, 32 + 1 + 28 + 2 + 1);
    pg_u32le(&w, 0);
    size_t bc = blk_start(&m, &w);
    pg_u8(&m, 0);
    pg_str(&m, data);
    blk_end(&m, bc);
    pg_free(&w);
    return m;
}

static struct pg_buf read_andx(bool resp, uint16_t tid, uint16_t mid, uint16_t fid, const char *data)
{
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_READ_ANDX, resp, 0, F2_NT, tid, UID, mid, NULL);
    andx_words(&w);
    if (resp) {
        pg_u16le(&w, 0);
        pg_u16le(&w, 0);
        pg_u16le(&w, 0);
        pg_u16le(&w, (uint16_t)strlen(data));
        pg_u16le(&w, 32 + 1 + 24 + 2 + 1);
        pg_zero(&w, 10);
    } else {
        pg_u16le(&w, fid);
        pg_u32le(&w, 0);
        pg_u16le(&w, 1024);
        pg_u16le(&w, 1024);
        pg_u32le(&w, 0);
        pg_u16le(&w, 0);
        pg_u32le(&w, 0);
    }
    size_t bc = blk_start(&m, &w);
    if (resp) {
        pg_u8(&m, 0);
        pg_str(&m, data);
    }
    blk_end(&m, bc);
    pg_free(&w);
    return m;
}

static struct pg_buf close_msg(bool resp, uint16_t tid, uint16_t mid, uint16_t fid)
{
    struct pg_buf m = {0}, w = {0};
    hdr(&m, SMB_COM_CLOSE, resp, 0, F2_NT, tid, UID, mid, NULL);
    if (!resp) {
        pg_u16le(&w, fid);
        pg_u32le(&w, 0);
    }
    blk_end(&m, blk_start(&m, &w));
    pg_free(&w);
    return m;
}

static void test_pipes_on_ipc(void **state)
{
    (void)state;
    g_ncalls = 0;
    struct pg_run r;
    pg_run_init(&r, NULL);
    struct pg_conn c;
    open_445(&r, &c);
    ntlmssp_login(&r, &c, true, 0, sig_mac, F2_NT_EXT);
    const uint16_t IPC = 0x0802, SHARE = 0x0803;
    send_msg(&r, &c, 0, tc_req(UID, 3, "\\\\DC1\\IPC$"));
    send_msg(&r, &c, 1, tc_resp(UID, IPC, 3, 0, F2_NT, "IPC"));
    send_msg(&r, &c, 0, tc_req(UID, 4, "\\\\DC1\\data"));
    send_msg(&r, &c, 1, tc_resp(UID, SHARE, 4, 0, F2_NT, "A:"));
    /* a file on the share is not a pipe */
    send_msg(&r, &c, 0, nt_create_req(SHARE, 5, "\\notes.txt"));
    send_msg(&r, &c, 1, nt_create_resp(SHARE, 5, 0x4001));
    send_msg(&r, &c, 0, write_andx(SHARE, 6, 0x4001, 0, "file bytes"));
    /* \PIPE\samr on IPC$ */
    send_msg(&r, &c, 0, nt_create_req(IPC, 7, "\\PIPE\\samr"));
    send_msg(&r, &c, 1, nt_create_resp(IPC, 7, 0x4002));
    send_msg(&r, &c, 0, write_andx(IPC, 8, 0x4002, 0x000C, "LLbind"));
    send_msg(&r, &c, 0, read_andx(false, IPC, 9, 0x4002, ""));
    send_msg(&r, &c, 1, read_andx(true, IPC, 9, 0, "bind_ack"));
    send_msg(&r, &c, 0, trans_msg(false, IPC, 10, 0x4002, "request"));
    send_msg(&r, &c, 1, trans_msg(true, IPC, 10, 0, "response"));
    send_msg(&r, &c, 0, close_msg(false, IPC, 11, 0x4002));
    send_msg(&r, &c, 1, close_msg(true, IPC, 11, 0));
    pg_close(&r, &c, 0);
    pg_run_finish(&r);
    assert_int_equal(pg_stat(&r, "malformed.smb1"), 0);
    json_t *rec = pg_rec(&r, 0);
    assert_int_equal(json_array_size(pg_j(rec, "smb1.tree_connects")), 2);
    long long id = json_integer_value(pg_j(rec, "id"));
    assert_int_equal(g_ncalls, 6);
    assert_int_equal(g_calls[0].what, 'o');
    assert_int_equal(g_calls[0].key, 0x4002);
    assert_string_equal(g_calls[0].text, "samr");
    assert_int_equal(g_calls[0].carrier, id);
    assert_int_equal(g_calls[1].what, 'd');
    assert_int_equal(g_calls[1].dir, 0);
    assert_string_equal(g_calls[1].text, "bind"); /* the raw-mode length prefix is not data */
    assert_int_equal(g_calls[2].what, 'd');
    assert_int_equal(g_calls[2].dir, 1);
    assert_string_equal(g_calls[2].text, "bind_ack");
    assert_int_equal(g_calls[2].key, 0x4002);
    assert_string_equal(g_calls[3].text, "request");
    assert_int_equal(g_calls[3].dir, 0);
    assert_string_equal(g_calls[4].text, "response");
    assert_int_equal(g_calls[4].dir, 1);
    assert_int_equal(g_calls[4].key, 0x4002);
    assert_int_equal(g_calls[5].what, 'c');
    assert_int_equal(g_calls[5].key, 0x4002);
    pg_run_free(&r);
}

static void test_random_after_valid_header_no_crash(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int round = 0; round < 300; round++) {
        struct pg_run r;
        pg_run_init(&r, NULL);
        struct pg_conn c;
        open_445(&r, &c);
        negotiate(&r, &c, SECMODE_USER_ENCRYPT, round & 1);
        static const uint8_t cmds[] = {0x72, 0x73, 0x74, 0x75, 0x71, 0xA2, 0x25, 0x26, 0x2E, 0x2F, 0x04, 0x24};
        for (int k = 0; k < 6; k++) {
            struct pg_buf m = {0};
            seed = seed * 1103515245u + 12345u;
            hdr(&m, cmds[seed % sizeof cmds], (seed >> 8) & 1, seed & 0x100 ? STATUS_MPR : 0,
                (seed >> 9) & 1 ? F2_NT : F2_NT_EXT, 1, UID, (uint16_t)k, NULL);
            size_t n = (seed >> 12) % 200;
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                pg_u8(&m, (uint8_t)(seed >> 16));
            }
            send_msg(&r, &c, (int)((seed >> 20) & 1), m);
        }
        pg_close(&r, &c, 0);
        pg_run_finish(&r);
        /* every frame was read and counted, and whatever the garbage made is an SMB1 record */
        assert_int_equal(pg_stat(&r, "packets"), (long long)r.frame);
        for (size_t i = 0; i < pg_nrecs(&r); i++)
            assert_jstr(pg_rec(&r, i), "transport", "smb1");
        pg_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate_without_extended_security),
        cmocka_unit_test(test_negotiate_with_extended_security),
        cmocka_unit_test(test_raw_lm_and_ntlmv1),
        cmocka_unit_test(test_raw_lm_only),
        cmocka_unit_test(test_raw_lm_is_nt_copy),
        cmocka_unit_test(test_raw_anonymous),
        cmocka_unit_test(test_raw_plaintext_never_written),
        cmocka_unit_test(test_raw_plaintext_to_a_server_that_encrypts),
        cmocka_unit_test(test_raw_guest),
        cmocka_unit_test(test_dos_error_codes),
        cmocka_unit_test(test_ntlmssp_two_legs),
        cmocka_unit_test(test_ntlmssp_logon_failure),
        cmocka_unit_test(test_signing_placeholder_after_logon),
        cmocka_unit_test(test_signing_mac_after_logon),
        cmocka_unit_test(test_andx_session_setup_and_tree_connect),
        cmocka_unit_test(test_andx_chain_status_is_the_last_commands),
        cmocka_unit_test(test_andx_loop_and_backward_offsets_are_malformed),
        cmocka_unit_test(test_andx_chain_length_capped),
        cmocka_unit_test(test_truncated_and_overlong_counts),
        cmocka_unit_test(test_logoff_writes_the_session),
        cmocka_unit_test(test_lanman_dialect),
        cmocka_unit_test(test_pipes_on_ipc),
        cmocka_unit_test(test_random_after_valid_header_no_crash),
    };
    pg_apply_filters();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
