/* SMB1 (CIFS) — MS-CIFS 2.2.3-2.2.4 and MS-SMB 2.2.4: NEGOTIATE, SESSION_SETUP_ANDX, trees, pipes, AndX chains. */
#include "smb1.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mech.h"
#include "ntlmproof.h"
#include "ntlmssp.h"
#include "pipe.h"
#include "reader.h"
#include "spnego.h"
#include "util.h"

/*
 * SMB header (MS-CIFS 2.2.3.1), little-endian:
 *   0 Protocol "\xFFSMB"  4 Command  5 Status (NTSTATUS, or ErrorClass(1) Reserved(1) ErrorCode(2))
 *   9 Flags  10 Flags2  12 PIDHigh  14 SecuritySignature(8)  22 Reserved  24 TID  26 PIDLow  28 UID  30 MID
 * then one block per command of an AndX chain (2.2.3.2-2.2.3.4):
 *   WordCount(1) Words(2*WordCount) ByteCount(2) Bytes(ByteCount)
 * An AndX command's first four parameter bytes are AndXCommand(1) AndXReserved(1) AndXOffset(2): the next
 * command, and the offset of its WordCount from the header's start.
 */

#define SMB1_PENDING_MAX 64
#define SMB1_TREES_MAX 32
#define SMB1_ANDX_MAX 16  /* links followed in one chain; real chains have two or three */
#define SMB1_SMALL 4096   /* other AndX messages up to this size are read whole: their chain may matter */

/* MS-CIFS 3.1.5.1: before signing is active a sender puts this in SecuritySignature. */
static const uint8_t sig_placeholder[8] = {'B', 'S', 'R', 'S', 'P', 'Y', 'L', ' '};

/* The statuses that do not end an exchange (MS-ERREF 2.3.1; MS-CIFS 2.2.2.4 for the DOS one). */
#define NT_MORE_PROCESSING_REQUIRED 0xC0000016u
#define NT_BUFFER_OVERFLOW          0x80000005u
#define DOS_ERRMOREDATA             0x0100EAu /* ERRDOS/ERRmoredata, the same without NT status */

/* A request awaiting its response, keyed by command, MID and PID (MS-CIFS 3.2.5.1). */
struct smb1_pending {
    bool used;
    uint8_t cmd;
    uint16_t mid, uid;
    uint32_t pid;
    uint64_t frame;
    uint64_t rec;   /* SESSION_SETUP_ANDX: the record */
    uint16_t fid;   /* TRANSACTION, READ_ANDX, CLOSE: the pipe */
    char *name;     /* TREE_CONNECT_ANDX: the path; NT_CREATE_ANDX on IPC$: the pipe name (allocated) */
    char service[8]; /* TREE_CONNECT_ANDX: the requested Service */
};

struct smb1_tree {
    bool used;
    bool ipc;
    uint16_t tid;
};

struct smb1_state {
    /* NEGOTIATE */
    bool negotiate_seen;
    uint8_t n_dialects;
    char dialects[SMB1_DIALECTS_MAX][SMB1_DIALECT_NAME_MAX];
    char dialect[SMB1_DIALECT_NAME_MAX];
    uint8_t security_mode;
    uint32_t capabilities;
    bool have_challenge;            /* non-extended security: EncryptionKey */
    uint8_t challenge[8];
    uint64_t challenge_frame;
    char domain[SMB1_NATIVE_MAX], server_name[SMB1_NATIVE_MAX];
    /* the record whose first signatures are being noted (0: none) */
    uint64_t watch_rec;
    uint32_t next_slot;
    struct smb1_pending pend[SMB1_PENDING_MAX];
    struct smb1_tree trees[SMB1_TREES_MAX];
    uint32_t next_tree;
    bool pipe_used[SMB_PIPES_MAX];
    uint16_t pipe_fid[SMB_PIPES_MAX];
    uint32_t next_pipe;
};

/* The header fields read. */
struct smb1_hdr {
    uint8_t cmd;
    bool resp;
    uint16_t flags2;
    struct hs_status status;
    uint16_t tid, uid, mid;
    uint32_t pid;
    const uint8_t *signature;
};

/* One command block of a message: its parameter words and data bytes, both inside the message. */
struct smb1_block {
    uint8_t cmd;
    uint8_t wc;
    const uint8_t *words; /* 2*wc bytes */
    uint16_t bc;
    const uint8_t *bytes; /* bc bytes */
    size_t bytes_off;     /* offset of bytes from the header start (Unicode strings align to it) */
    struct hs_status status; /* responses: this block's status (the header's is the chain's last one's) */
};

/* A message being parsed: its bytes, header, and where pipes go. */
struct smb1_msg {
    struct hs_ctx *ctx;
    struct smb1_state *s;
    struct smb_pipes **pipes;
    const uint8_t *p;
    size_t n;
    struct smb1_hdr h;
};

/* ---- names ------------------------------------------------------------------------------------- */

static const struct tok security_mode_tab[] = {
    {NEGOTIATE_USER_SECURITY, "NEGOTIATE_USER_SECURITY"},
    {NEGOTIATE_ENCRYPT_PASSWORDS, "NEGOTIATE_ENCRYPT_PASSWORDS"},
    {NEGOTIATE_SECURITY_SIGNATURES_ENABLED, "NEGOTIATE_SECURITY_SIGNATURES_ENABLED"},
    {NEGOTIATE_SECURITY_SIGNATURES_REQUIRED, "NEGOTIATE_SECURITY_SIGNATURES_REQUIRED"},
    {0, NULL},
};

/* MS-CIFS 2.2.4.52.2 and MS-SMB 2.2.4.5.2.1 */
static const struct tok capability_tab[] = {
    {0x00000001, "CAP_RAW_MODE"},
    {0x00000002, "CAP_MPX_MODE"},
    {0x00000004, "CAP_UNICODE"},
    {0x00000008, "CAP_LARGE_FILES"},
    {0x00000010, "CAP_NT_SMBS"},
    {0x00000020, "CAP_RPC_REMOTE_APIS"},
    {0x00000040, "CAP_STATUS32"},
    {0x00000080, "CAP_LEVEL_II_OPLOCKS"},
    {0x00000100, "CAP_LOCK_AND_READ"},
    {0x00000200, "CAP_NT_FIND"},
    {0x00001000, "CAP_DFS"},
    {0x00002000, "CAP_INFOLEVEL_PASSTHRU"},
    {0x00004000, "CAP_LARGE_READX"},
    {0x00008000, "CAP_LARGE_WRITEX"},
    {0x00010000, "CAP_LWIO"},
    {0x00800000, "CAP_UNIX"},
    {0x02000000, "CAP_COMPRESSED_DATA"},
    {0x20000000, "CAP_DYNAMIC_REAUTH"},
    {0x40000000, "CAP_PERSISTENT_HANDLES"},
    {0x80000000, "CAP_EXTENDED_SECURITY"},
    {0, NULL},
};

static const struct tok action_tab[] = {
    {SMB_SETUP_GUEST, "SMB_SETUP_GUEST"},
    {SMB_SETUP_USE_LANMAN_KEY, "SMB_SETUP_USE_LANMAN_KEY"},
    {0, NULL},
};

/* MS-CIFS 2.2.2.1 (the commands a client still sends) */
static const struct tok command_tab[] = {
    {0x00, "CREATE_DIRECTORY"}, {0x01, "DELETE_DIRECTORY"}, {0x02, "OPEN"}, {0x03, "CREATE"},
    {0x04, "CLOSE"}, {0x05, "FLUSH"}, {0x06, "DELETE"}, {0x07, "RENAME"}, {0x08, "QUERY_INFORMATION"},
    {0x09, "SET_INFORMATION"}, {0x0A, "READ"}, {0x0B, "WRITE"}, {0x10, "CHECK_DIRECTORY"},
    {0x12, "SEEK"}, {0x24, "LOCKING_ANDX"}, {0x25, "TRANSACTION"}, {0x26, "TRANSACTION_SECONDARY"},
    {0x2B, "ECHO"}, {0x2D, "OPEN_ANDX"}, {0x2E, "READ_ANDX"}, {0x2F, "WRITE_ANDX"}, {0x32, "TRANSACTION2"},
    {0x33, "TRANSACTION2_SECONDARY"}, {0x34, "FIND_CLOSE2"}, {0x70, "TREE_CONNECT"}, {0x71, "TREE_DISCONNECT"},
    {0x72, "NEGOTIATE"}, {0x73, "SESSION_SETUP_ANDX"}, {0x74, "LOGOFF_ANDX"}, {0x75, "TREE_CONNECT_ANDX"},
    {0x80, "QUERY_INFORMATION_DISK"}, {0x81, "SEARCH"}, {0xA0, "NT_TRANSACT"}, {0xA1, "NT_TRANSACT_SECONDARY"},
    {0xA2, "NT_CREATE_ANDX"}, {0xA4, "NT_CANCEL"}, {0xA5, "NT_RENAME"}, {0, NULL},
};

const char *smb1_security_mode_name(uint32_t bit) { return tok_name(security_mode_tab, bit); }
const char *smb1_capability_name(uint32_t bit) { return tok_name(capability_tab, bit); }
const char *smb1_action_name(uint32_t bit) { return tok_name(action_tab, bit); }
const char *smb1_command_name(uint8_t cmd) { return tok_name(command_tab, cmd); }

/* ---- state ------------------------------------------------------------------------------------- */

static struct smb1_state *state(struct smb1_state **s)
{
    if (!*s)
        *s = calloc(1, sizeof **s);
    return *s;
}

void smb1_state_free(struct smb1_state *s)
{
    if (s)
        for (int i = 0; i < SMB1_PENDING_MAX; i++)
            free(s->pend[i].name);
    free(s);
}

static struct smb1_pending *pend_find(struct smb1_state *s, uint8_t cmd, uint16_t mid, uint32_t pid)
{
    for (int i = 0; i < SMB1_PENDING_MAX; i++)
        if (s->pend[i].used && s->pend[i].cmd == cmd && s->pend[i].mid == mid && s->pend[i].pid == pid)
            return &s->pend[i];
    return NULL;
}

/* Remembers a request until its response: a repeated key replaces its entry, and when all are in use the
 * oldest slot gives way. */
static struct smb1_pending *pend_add(struct smb1_state *s, uint8_t cmd, const struct smb1_hdr *h, uint64_t frame)
{
    struct smb1_pending *p = pend_find(s, cmd, h->mid, h->pid);
    for (int i = 0; !p && i < SMB1_PENDING_MAX; i++)
        if (!s->pend[i].used)
            p = &s->pend[i];
    if (!p) {
        p = &s->pend[s->next_slot];
        s->next_slot = (s->next_slot + 1) % SMB1_PENDING_MAX;
    }
    free(p->name);
    memset(p, 0, sizeof *p);
    p->used = true;
    p->cmd = cmd;
    p->mid = h->mid;
    p->pid = h->pid;
    p->uid = h->uid;
    p->frame = frame;
    return p;
}

static void pend_done(struct smb1_pending *p)
{
    free(p->name);
    p->name = NULL;
    p->used = false;
}

static int tree_slot(const struct smb1_state *s, uint16_t tid)
{
    for (int i = 0; i < SMB1_TREES_MAX; i++)
        if (s->trees[i].used && s->trees[i].tid == tid)
            return i;
    return -1;
}

static bool tree_is_ipc(const struct smb1_state *s, uint16_t tid)
{
    int k = s ? tree_slot(s, tid) : -1;
    return k >= 0 && s->trees[k].ipc;
}

static void tree_add(struct smb1_state *s, uint16_t tid, bool ipc)
{
    int k = tree_slot(s, tid);
    for (int i = 0; k < 0 && i < SMB1_TREES_MAX; i++)
        if (!s->trees[i].used)
            k = i;
    if (k < 0) { /* a client with more trees than this at once: the oldest slot gives way */
        k = (int)s->next_tree;
        s->next_tree = (s->next_tree + 1) % SMB1_TREES_MAX;
    }
    s->trees[k].used = true;
    s->trees[k].tid = tid;
    s->trees[k].ipc = ipc;
}

static int pipe_slot(const struct smb1_state *s, uint16_t fid)
{
    for (int i = 0; i < SMB_PIPES_MAX; i++)
        if (s->pipe_used[i] && s->pipe_fid[i] == fid)
            return i;
    return -1;
}

static void pipe_fid_add(struct smb1_state *s, uint16_t fid)
{
    if (pipe_slot(s, fid) >= 0)
        return;
    int k = -1;
    for (int i = 0; k < 0 && i < SMB_PIPES_MAX; i++)
        if (!s->pipe_used[i])
            k = i;
    if (k < 0) { /* the pipe layer closes its oldest beyond SMB_PIPES_MAX too */
        k = (int)s->next_pipe;
        s->next_pipe = (s->next_pipe + 1) % SMB_PIPES_MAX;
    }
    s->pipe_used[k] = true;
    s->pipe_fid[k] = fid;
}

/* Is FID a pipe: opened on IPC$ here, or used on an IPC$ tree (a capture that started after the open)? */
static bool is_pipe(const struct smb1_msg *m, uint16_t fid)
{
    return pipe_slot(m->s, fid) >= 0 || tree_is_ipc(m->s, m->h.tid);
}

static struct smb_pipes *pipes_of(struct smb1_msg *m)
{
    if (!*m->pipes)
        *m->pipes = smb_pipes_new();
    return *m->pipes;
}

/* ---- records ----------------------------------------------------------------------------------- */

struct uid_match {
    uint16_t uid;
    bool open_only;
};

static bool uid_matches(const struct auth_rec *r, const void *arg)
{
    const struct uid_match *m = arg;
    return r->transport == TRANSPORT_SMB1 && r->smb1.uid == m->uid && (!m->open_only || r->h.open);
}

/* The connection's newest record for session uid; open_only restricts to unfinished ones. */
static struct auth_rec *rec_by_uid(struct hs_ctx *ctx, uint16_t uid, bool open_only)
{
    struct uid_match m = {uid, open_only};
    return rec_auth_newest(ctx->rc, uid_matches, &m);
}

/* A new record for session uid, with what the NEGOTIATE said. */
static struct auth_rec *new_rec(struct smb1_msg *m, uint16_t uid)
{
    struct auth_rec *r = ctx_auth_new(m->ctx, TRANSPORT_SMB1);
    if (!r)
        return NULL;
    const struct smb1_state *s = m->s;
    struct auth_smb1 *a = &r->smb1;
    a->uid = uid;
    a->negotiate_seen = s->negotiate_seen;
    memcpy(a->dialect, s->dialect, sizeof a->dialect);
    memcpy(a->dialects_offered, s->dialects, sizeof a->dialects_offered);
    a->n_dialects = s->n_dialects;
    a->security_mode = s->security_mode;
    a->capabilities = s->capabilities;
    return r;
}

/* ---- wire helpers ------------------------------------------------------------------------------ */

static struct hs_status hdr_status(const uint8_t *h, uint16_t flags2)
{
    if (flags2 & SMB_FLAGS2_NT_STATUS)
        return hs_status_of(STATUS_NTSTATUS, ld_u32le(h + 5));
    uint8_t cls = h[5];
    /* 2.2.2.4: class 0 is success whatever the code says */
    return hs_status_of(STATUS_DOS, cls ? (uint32_t)cls << 16 | ld_u16le(h + 7) : 0);
}

static bool status_ok(struct hs_status st) { return st.code == 0; }

/* A pipe read or call whose answer did not fit: the data is there, more is to be read (MS-CIFS 3.3.4.x). */
static bool status_data(struct hs_status st)
{
    return st.code == 0 || (st.space == STATUS_NTSTATUS && st.code == NT_BUFFER_OVERFLOW) ||
           (st.space == STATUS_DOS && st.code == DOS_ERRMOREDATA);
}

static bool status_more(struct hs_status st)
{
    return st.space == STATUS_NTSTATUS ? st.code == NT_MORE_PROCESSING_REQUIRED : st.code == DOS_ERRMOREDATA;
}

static void read_header(const uint8_t *p, struct smb1_hdr *h)
{
    h->cmd = p[4];
    h->resp = (p[9] & SMB_FLAGS_REPLY) != 0;
    h->flags2 = ld_u16le(p + 10);
    h->status = hdr_status(p, h->flags2);
    h->pid = (uint32_t)ld_u16le(p + 12) << 16 | ld_u16le(p + 26);
    h->signature = p + 14;
    h->tid = ld_u16le(p + 24);
    h->uid = ld_u16le(p + 28);
    h->mid = ld_u16le(p + 30);
}

/* Reads the block at off (its WordCount) into b; false when its words or bytes run past the message. */
static bool read_block(const uint8_t *p, size_t n, size_t off, struct smb1_block *b)
{
    if (off >= n)
        return false;
    b->wc = p[off];
    size_t words_off = off + 1;
    size_t bc_off = words_off + 2 * (size_t)b->wc;
    if (!range_ok(n, bc_off, 2))
        return false;
    b->words = p + words_off;
    b->bc = ld_u16le(p + bc_off);
    b->bytes_off = bc_off + 2;
    if (!range_ok(n, b->bytes_off, b->bc))
        return false;
    b->bytes = p + b->bytes_off;
    return true;
}

/*
 * A NUL-terminated SMB_STRING (MS-CIFS 2.2.1.1) at *pos of b's bytes into out[cap] as UTF-8: UTF-16LE when
 * `unicode`, preceded by a pad byte when it would start at an odd offset from the header (unless `nopad`:
 * the NEGOTIATE response's strings are not aligned); else OEM. *pos moves past the terminator, or to the
 * end when there is none. Returns false when the string was cut to fit.
 */
static bool get_string(const struct smb1_block *b, size_t *pos, bool unicode, bool nopad, char *out, size_t cap)
{
    out[0] = '\0';
    size_t i = *pos;
    if (unicode && !nopad && ((b->bytes_off + i) & 1) && i < b->bc)
        i++;
    if (i >= b->bc) {
        *pos = b->bc;
        return true;
    }
    size_t start = i;
    bool ok;
    if (unicode) {
        bool term = false;
        for (; i + 1 < b->bc; i += 2)
            if (!b->bytes[i] && !b->bytes[i + 1]) {
                term = true;
                break;
            }
        size_t end = term ? i : start + ((b->bc - start) & ~(size_t)1);
        ok = utf16le_to_utf8(b->bytes + start, end - start, out, cap);
        *pos = term ? i + 2 : b->bc;
    } else {
        while (i < b->bc && b->bytes[i])
            i++;
        ok = oem_to_utf8(b->bytes + start, i - start, out, cap);
        *pos = i < b->bc ? i + 1 : b->bc;
    }
    return ok;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void malformed(struct smb1_msg *m) { m->ctx->st->malformed[DIS_SMB1]++; }

/* ---- signatures after a session setup (MS-CIFS 3.1.5.1) ------------------------------------------ */

static enum smb1_sig_kind sig_kind(const uint8_t *sig)
{
    if (all_zero(sig, 8))
        return SMB1_SIG_ZERO;
    return memcmp(sig, sig_placeholder, 8) == 0 ? SMB1_SIG_PLACEHOLDER : SMB1_SIG_MAC;
}

#define SMB1_HOLD_SIGS 0x4 /* rec_hdr.hold: the signatures after the logon are being watched */

/* Notes the signature of the message with header h on record r (while it has room); msg[0..n) is the whole
 * message, or NULL when only the header was handed over. */
static void sig_note(struct hs_ctx *ctx, struct auth_rec *r, const struct smb1_hdr *h, const uint8_t *msg, size_t n)
{
    struct auth_smb1 *a = &r->smb1;
    if (a->n_sigs >= SMB1_SIG_WATCH)
        return;
    struct smb1_sig_seen *e = &a->sigs[a->n_sigs++];
    e->frame = ctx->frame;
    e->from_server = h->resp;
    e->command = h->cmd;
    e->kind = sig_kind(h->signature);
    e->status = h->resp ? h->status : hs_status_of(STATUS_NONE, 0);
    if (e->kind != SMB1_SIG_MAC)
        return;
    if (msg && r->gss.ntlm.proof && ctx->creds)
        ntlm_proof_smb1(ctx->creds, r->gss.ntlm.proof, ctx->frame, h->resp, msg, n);
    if (!a->signed_after) {
        a->signed_after = true;
        a->first_signed_frame = ctx->frame;
    }
    if (h->resp && !a->first_signed_resp_frame) {
        a->first_signed_resp_frame = ctx->frame;
        a->first_signed_resp_status = h->status;
    }
}

/* The watch is over: its record may be streamed (rec_hdr.hold). */
static void sig_watch_end(struct hs_ctx *ctx, struct smb1_state *s)
{
    struct auth_rec *r = s->watch_rec ? ctx_auth_get(ctx, s->watch_rec) : NULL;
    if (r)
        r->h.hold &= (uint8_t)~SMB1_HOLD_SIGS;
    s->watch_rec = 0;
}

/* Every message after a successful session setup, until the watch is full. */
static void sig_watch(struct hs_ctx *ctx, struct smb1_state *s, const struct smb1_hdr *h, const uint8_t *msg,
                      size_t n)
{
    if (!s->watch_rec)
        return;
    struct auth_rec *r = ctx_auth_get(ctx, s->watch_rec);
    if (r && r->smb1.n_sigs < SMB1_SIG_WATCH)
        sig_note(ctx, r, h, msg, n);
    if (!r || r->smb1.n_sigs >= SMB1_SIG_WATCH)
        sig_watch_end(ctx, s);
}

/* ---- NEGOTIATE (2.2.4.52) ---------------------------------------------------------------------- */

static void negotiate_request(struct smb1_msg *m, const struct smb1_block *b)
{
    /* Bytes: Dialects[]: BufferFormat 0x02, then a NUL-terminated OEM string */
    struct smb1_state *s = m->s;
    s->n_dialects = 0;
    memset(s->dialects, 0, sizeof s->dialects);
    size_t i = 0;
    while (i < b->bc) {
        if (b->bytes[i] != 0x02) {
            malformed(m);
            return;
        }
        i++;
        char name[SMB1_DIALECT_NAME_MAX];
        get_string(b, &i, false, true, name, sizeof name);
        if (s->n_dialects < SMB1_DIALECTS_MAX)
            memcpy(s->dialects[s->n_dialects++], name, sizeof name);
    }
}

static void negotiate_response(struct smb1_msg *m, const struct smb1_block *b)
{
    struct smb1_state *s = m->s;
    if (b->wc < 1 || !status_ok(b->status))
        return;
    uint16_t idx = ld_u16le(b->words);
    s->negotiate_seen = true;
    if (idx < s->n_dialects)
        memcpy(s->dialect, s->dialects[idx], sizeof s->dialect);
    const uint8_t *w = b->words;
    size_t challenge_len;
    bool unicode = (m->h.flags2 & SMB_FLAGS2_UNICODE) != 0;
    if (b->wc == 17) {
        /* NT LM 0.12: DialectIndex SecurityMode(1) MaxMpxCount MaxNumberVcs MaxBufferSize(4) MaxRawSize(4)
         * SessionKey(4) Capabilities(4) SystemTime(8) ServerTimeZone ChallengeLength(1) */
        s->security_mode = w[2];
        s->capabilities = ld_u32le(w + 19);
        challenge_len = w[33];
        if (s->capabilities & CAP_EXTENDED_SECURITY)
            return; /* MS-SMB 2.2.4.5.2.1: ServerGUID and a security blob (the mechanisms offered) */
    } else if (b->wc == 13) {
        /* LANMAN 2.1 and older: SecurityMode(2) ... EncryptionKeyLength(2) at word 11; OEM strings */
        s->security_mode = (uint8_t)(ld_u16le(w + 2) & (NEGOTIATE_USER_SECURITY | NEGOTIATE_ENCRYPT_PASSWORDS));
        challenge_len = ld_u16le(w + 22);
        unicode = false;
    } else {
        return; /* core protocol, or no dialect chosen (0xFFFF): nothing more */
    }
    /* Bytes: Challenge(ChallengeLength) DomainName [ServerName] — strings not aligned */
    if (challenge_len > b->bc) {
        malformed(m);
        return;
    }
    if (challenge_len == 8) {
        memcpy(s->challenge, b->bytes, 8);
        s->have_challenge = true;
        s->challenge_frame = m->ctx->frame;
    }
    size_t pos = challenge_len;
    get_string(b, &pos, unicode, true, s->domain, sizeof s->domain);
    get_string(b, &pos, unicode, true, s->server_name, sizeof s->server_name);
}

/* ---- SESSION_SETUP_ANDX (2.2.4.53; MS-SMB 2.2.4.6) --------------------------------------------- */

/* The NTLM part of a logon without extended security: the LM and NT responses and the names, classified as
 * an NTLMSSP AUTHENTICATE would be; a plaintext password is noted, never kept. */
static void raw_logon(struct smb1_msg *m, struct auth_rec *r, const uint8_t *lm, size_t lm_len, const uint8_t *nt,
                      size_t nt_len, const char *user, const char *domain, bool cut)
{
    struct ntlm_msg *a = calloc(1, sizeof *a);
    if (!a)
        return;
    const struct smb1_state *s = m->s;
    a->type = NTLMSSP_AUTHENTICATE_MESSAGE;
    a->truncated = cut;
    strlcpy_n(a->user, sizeof a->user, user, NTLM_NAME_MAX);
    strlcpy_n(a->domain, sizeof a->domain, domain, NTLM_NAME_MAX);
    bool empty = all_zero(lm, lm_len) && all_zero(nt, nt_len);
    /* MS-CIFS 3.2.4.2.4: when the server does not encrypt, the fields hold the password itself. So do fields
     * no challenge response fits (an LM response is 24 bytes, an NT one 24 or, NTLMv2, more): a client that
     * sends its password in clear although the server asked for responses. Neither the bytes nor the length
     * of a plaintext password are kept. */
    bool server_clear = s->negotiate_seen && !(s->security_mode & NEGOTIATE_ENCRYPT_PASSWORDS);
    bool no_response = (lm_len && lm_len != 24 && !all_zero(lm, lm_len)) ||
                       (nt_len && nt_len < 24 && !all_zero(nt, nt_len));
    if ((server_clear && !empty) || no_response) {
        r->smb1.plaintext_password = true;
        a->ntlm_version = NTLM_VER_UNKNOWN;
        a->lm_kind = NTLM_LM_ABSENT;
    } else {
        a->lm_len = (uint16_t)lm_len;
        a->nt_len = (uint16_t)nt_len;
        a->ntlm_version = ntlm_classify(lm, lm_len, nt, nt_len, 0, user[0] == '\0', &a->lm_kind);
    }
    free(r->gss.ntlm.auth);
    r->gss.ntlm.auth = a;
    r->gss.ntlm.seen = true;
    struct ntlm_proof *pf = r->smb1.plaintext_password || !s->have_challenge ? NULL : ntlm_proof_get(m->ctx, r);
    if (pf)
        ntlm_proof_raw(m->ctx->creds, pf, a->user, a->domain, lm, a->lm_len, nt, a->nt_len, s->challenge);
    r->gss.mech = AMECH_NTLM;
    r->frames.authenticate = m->ctx->frame;
    if (s->have_challenge && !r->smb1.plaintext_password && !r->gss.ntlm.chal) {
        /* The NEGOTIATE response's EncryptionKey is the challenge these responses answer; its DomainName and
         * ServerName name the server as a CHALLENGE's target info would. */
        struct ntlm_msg *c = calloc(1, sizeof *c);
        if (c) {
            c->type = NTLMSSP_CHALLENGE_MESSAGE;
            memcpy(c->server_challenge, s->challenge, 8);
            strlcpy_n(c->target_name, sizeof c->target_name, s->domain, sizeof s->domain);
            strlcpy_n(c->nb_domain, sizeof c->nb_domain, s->domain, sizeof s->domain);
            strlcpy_n(c->nb_computer, sizeof c->nb_computer, s->server_name, sizeof s->server_name);
            r->gss.ntlm.chal = c;
            r->frames.challenge = s->challenge_frame;
        }
    }
}

static void session_setup_request(struct smb1_msg *m, const struct smb1_block *b)
{
    const uint8_t *w = b->words;
    bool unicode = (m->h.flags2 & SMB_FLAGS2_UNICODE) != 0;
    struct auth_rec *r = NULL;
    size_t pos;
    if (b->wc == 12) {
        /* MS-SMB 2.2.4.6.1: AndX(4) MaxBufferSize MaxMpxCount VcNumber SessionKey(4) SecurityBlobLength
         * Reserved(4) Capabilities(4); Bytes: SecurityBlob Pad NativeOS NativeLanMan */
        uint16_t blen = ld_u16le(w + 14);
        if (blen > b->bc) {
            malformed(m);
            return;
        }
        struct gss_token t;
        bool have = blen && gss_blob_parse(m->ctx, b->bytes, blen, &t) == 0;
        if (!(have && gss_token_starts(&t)))
            r = rec_by_uid(m->ctx, m->h.uid, true);
        if (!r)
            r = new_rec(m, m->h.uid);
        if (r && have)
            gss_apply(m->ctx, r, &t, 0, false);
        if (r)
            r->smb1.extended_security = true;
        pos = blen;
    } else if (b->wc == 13 || b->wc == 10) {
        /* 2.2.4.53.1: AndX(4) MaxBufferSize MaxMpxCount VcNumber SessionKey(4) OEMPasswordLen
         * UnicodePasswordLen Reserved(4) Capabilities(4); Bytes: OEMPassword UnicodePassword Pad AccountName
         * PrimaryDomain NativeOS NativeLanMan. LANMAN dialects (10 words): one PasswordLength, OEM strings. */
        size_t lm_len = ld_u16le(w + 14), nt_len = b->wc == 13 ? ld_u16le(w + 16) : 0;
        if (lm_len + nt_len > b->bc) {
            malformed(m);
            return;
        }
        pos = lm_len + nt_len;
        char user[NTLM_NAME_MAX], domain[NTLM_NAME_MAX];
        bool ok = get_string(b, &pos, unicode, false, user, sizeof user);
        ok &= get_string(b, &pos, unicode, false, domain, sizeof domain);
        r = new_rec(m, m->h.uid);
        if (r)
            raw_logon(m, r, b->bytes, lm_len, b->bytes + lm_len, nt_len, user, domain, !ok);
    } else {
        malformed(m);
        return;
    }
    if (!r)
        return;
    get_string(b, &pos, unicode, false, r->smb1.client_native_os, sizeof r->smb1.client_native_os);
    get_string(b, &pos, unicode, false, r->smb1.client_native_lanman, sizeof r->smb1.client_native_lanman);
    r->smb1.client_signing = (m->h.flags2 & SMB_FLAGS2_SMB_SECURITY_SIGNATURE) != 0;
    r->smb1.client_signing_required = (m->h.flags2 & SMB_FLAGS2_SMB_SECURITY_SIGNATURE_REQUIRED) != 0;
    struct smb1_pending *p = pend_add(m->s, SMB_COM_SESSION_SETUP_ANDX, &m->h, m->ctx->frame);
    p->rec = r->h.id;
}

static void session_setup_response(struct smb1_msg *m, const struct smb1_block *b)
{
    struct smb1_pending *p = pend_find(m->s, SMB_COM_SESSION_SETUP_ANDX, m->h.mid, m->h.pid);
    struct auth_rec *r = p ? ctx_auth_get(m->ctx, p->rec) : NULL;
    if (p)
        pend_done(p);
    else if (!(r = rec_by_uid(m->ctx, m->h.uid, true)))
        r = new_rec(m, m->h.uid);
    if (!r)
        return;
    if (m->h.uid)
        r->smb1.uid = m->h.uid;
    bool ok = status_ok(b->status), more = status_more(b->status);
    if ((ok || more) && b->wc >= 3) {
        /* 2.2.4.53.2: AndX(4) Action; Bytes: Pad NativeOS NativeLanMan PrimaryDomain.
         * MS-SMB 2.2.4.6.2 (4 words): AndX(4) Action SecurityBlobLength; Bytes: SecurityBlob Pad NativeOS
         * NativeLanMan */
        uint16_t action = ld_u16le(b->words + 4);
        size_t pos = 0;
        if (b->wc >= 4) {
            uint16_t blen = ld_u16le(b->words + 6);
            struct gss_token t;
            if (blen > b->bc)
                malformed(m);
            else if (blen && gss_blob_parse(m->ctx, b->bytes, blen, &t) == 0)
                gss_apply(m->ctx, r, &t, 1, false);
            pos = blen <= b->bc ? blen : b->bc;
        }
        if (ok) {
            r->smb1.action = action;
            r->smb1.action_seen = true;
            bool unicode = (m->h.flags2 & SMB_FLAGS2_UNICODE) != 0;
            get_string(b, &pos, unicode, false, r->smb1.server_native_os, sizeof r->smb1.server_native_os);
            get_string(b, &pos, unicode, false, r->smb1.server_native_lanman, sizeof r->smb1.server_native_lanman);
        }
    }
    if (more)
        return;
    rec_auth_verdict(r, m->ctx->frame, ok ? RESULT_SUCCESS : RESULT_FAILURE, b->status, VERDICT_SESSION_SETUP);
    if (ok) {
        /* The messages from here on show whether signing started (MS-CIFS 3.1.5.1): this response is the
         * server's first signed one. */
        struct auth_smb1 *a = &r->smb1;
        a->n_sigs = 0;
        a->signed_after = false;
        a->first_signed_frame = a->first_signed_resp_frame = 0;
        sig_watch_end(m->ctx, m->s); /* an earlier session's watch, if any */
        m->s->watch_rec = r->h.id;
        /* streamed once the watch is over: whether signing started is part of what the logon did */
        r->h.hold |= SMB1_HOLD_SIGS;
        sig_note(m->ctx, r, &m->h, m->p, m->n);
        if (a->n_sigs >= SMB1_SIG_WATCH)
            sig_watch_end(m->ctx, m->s);
    }
}

/* ---- LOGOFF_ANDX (2.2.4.54): the session is over, its records are written -------------------------- */

static void logoff_response(struct smb1_msg *m, const struct smb1_block *b)
{
    if (!status_ok(b->status))
        return;
    struct auth_rec *r;
    while ((r = rec_by_uid(m->ctx, m->h.uid, false)) != NULL)
        rec_write(m->ctx->recs, &r->h);
}

/* ---- TREE_CONNECT_ANDX (2.2.4.55), TREE_DISCONNECT (2.2.4.51) -------------------------------------- */

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static void tree_connect_request(struct smb1_msg *m, const struct smb1_block *b)
{
    /* AndX(4) Flags PasswordLength; Bytes: Password Pad Path Service(OEM) */
    if (b->wc < 4) {
        malformed(m);
        return;
    }
    uint16_t pw_len = ld_u16le(b->words + 6);
    if (pw_len > b->bc) {
        malformed(m);
        return;
    }
    size_t pos = pw_len;
    char path[USE_NAME_MAX];
    get_string(b, &pos, (m->h.flags2 & SMB_FLAGS2_UNICODE) != 0, false, path, sizeof path);
    struct smb1_pending *p = pend_add(m->s, SMB_COM_TREE_CONNECT_ANDX, &m->h, m->ctx->frame);
    get_string(b, &pos, false, true, p->service, sizeof p->service);
    p->name = strdup(path);
}

static void tree_connect_response(struct smb1_msg *m, const struct smb1_block *b)
{
    struct smb1_pending *p = pend_find(m->s, SMB_COM_TREE_CONNECT_ANDX, m->h.mid, m->h.pid);
    if (!p)
        return;
    char service[8];
    memcpy(service, p->service, sizeof service);
    if (status_ok(b->status) && b->wc >= 3) {
        /* AndX(4) OptionalSupport [MaximalShareAccessRights GuestMaximalShareAccessRights]; Bytes: Service */
        size_t pos = 0;
        get_string(b, &pos, false, true, service, sizeof service);
    }
    const char *path = p->name ? p->name : "";
    if (status_ok(b->status))
        tree_add(m->s, m->h.tid, ends_with_ci(path, "\\IPC$") || strcmp(service, "IPC") == 0);
    struct auth_rec *r = rec_by_uid(m->ctx, m->h.uid ? m->h.uid : p->uid, false);
    struct auth_use *u = r ? rec_use_add(m->ctx->recs, r, m->ctx->frame) : NULL;
    if (u) {
        strlcpy_n(u->name, sizeof u->name, path, USE_NAME_MAX);
        strlcpy_n(u->service, sizeof u->service, service, sizeof service);
        u->frame_req = p->frame;
        u->frame_resp = m->ctx->frame;
        u->status = b->status;
        u->answered = true;
    }
    pend_done(p);
}

static void tree_disconnect_response(struct smb1_msg *m, const struct smb1_block *b)
{
    int k = status_ok(b->status) ? tree_slot(m->s, m->h.tid) : -1;
    if (k >= 0)
        m->s->trees[k].used = false;
}

/* ---- pipes: NT_CREATE_ANDX (2.2.4.64), TRANSACTION (2.2.4.33), WRITE/READ_ANDX (2.2.4.42-43), CLOSE -- */

static void nt_create_request(struct smb1_msg *m, const struct smb1_block *b)
{
    /* AndX(4) Reserved NameLength Flags(4) RootDirectoryFID(4) DesiredAccess(4) AllocationSize(8)
     * ExtFileAttributes(4) ShareAccess(4) CreateDisposition(4) CreateOptions(4) ImpersonationLevel(4)
     * SecurityFlags(1); Bytes: Pad FileName */
    if (b->wc < 24) {
        malformed(m);
        return;
    }
    if (!tree_is_ipc(m->s, m->h.tid))
        return;
    char name[USE_NAME_MAX];
    size_t pos = 0;
    get_string(b, &pos, (m->h.flags2 & SMB_FLAGS2_UNICODE) != 0, false, name, sizeof name);
    /* "\samr", "samr" or "\PIPE\samr": the pipe's name alone */
    const char *n = name;
    while (*n == '\\')
        n++;
    if (strncasecmp(n, "PIPE\\", 5) == 0)
        n += 5;
    struct smb1_pending *p = pend_add(m->s, SMB_COM_NT_CREATE_ANDX, &m->h, m->ctx->frame);
    p->name = strdup(n);
}

static void nt_create_response(struct smb1_msg *m, const struct smb1_block *b)
{
    struct smb1_pending *p = pend_find(m->s, SMB_COM_NT_CREATE_ANDX, m->h.mid, m->h.pid);
    if (!p)
        return;
    /* AndX(4) OplockLevel(1) FID ... */
    if (status_ok(b->status) && b->wc >= 4 && p->name) {
        uint16_t fid = ld_u16le(b->words + 5);
        struct auth_rec *r = rec_by_uid(m->ctx, m->h.uid, false);
        struct smb_pipes *pp = pipes_of(m);
        pipe_fid_add(m->s, fid);
        if (pp)
            smb_pipe_open(m->ctx, pp, fid, p->name, r ? r->h.id : 0);
    }
    pend_done(p);
}

/* n bytes at data of pipe fid in direction dir (0 request, 1 response) to the pipe layer. */
static void pipe_data(struct smb1_msg *m, uint16_t fid, int dir, const uint8_t *data, size_t n)
{
    struct smb_pipes *pp = pipes_of(m);
    if (pp && n)
        smb_pipe_data(m->ctx, pp, fid, dir, data, n);
}

/* The data a TRANSACTION message carries at (off, count) from the header's start, or NULL (counted). */
static const uint8_t *trans_data(struct smb1_msg *m, uint16_t off, uint16_t count)
{
    if (!count)
        return NULL;
    if (!range_ok(m->n, off, count)) {
        malformed(m);
        return NULL;
    }
    return m->p + off;
}

static void transaction_request(struct smb1_msg *m, const struct smb1_block *b)
{
    /* TotalParameterCount TotalDataCount MaxParameterCount MaxDataCount MaxSetupCount(1) Reserved1(1) Flags
     * Timeout(4) Reserved2 ParameterCount ParameterOffset DataCount DataOffset SetupCount(1) Reserved3(1)
     * Setup[SetupCount]; a named-pipe call has Setup = {subcommand, FID} (2.2.5) */
    if (b->wc < 14 || b->wc < 14 + b->words[26]) {
        malformed(m);
        return;
    }
    const uint8_t *w = b->words;
    if (w[26] < 2 || ld_u16le(w + 28) != TRANS_TRANSACT_NMPIPE)
        return; /* other pipe calls, mailslots, RAP on \PIPE\LANMAN */
    uint16_t fid = ld_u16le(w + 30);
    struct smb1_pending *p = pend_add(m->s, SMB_COM_TRANSACTION, &m->h, m->ctx->frame);
    p->fid = fid;
    const uint8_t *d = trans_data(m, ld_u16le(w + 24), ld_u16le(w + 22));
    if (d)
        pipe_data(m, fid, 0, d, ld_u16le(w + 22));
}

static void transaction_secondary_request(struct smb1_msg *m, const struct smb1_block *b)
{
    /* 2.2.4.34.1: TotalParameterCount TotalDataCount ParameterCount ParameterOffset ParameterDisplacement
     * DataCount DataOffset DataDisplacement */
    if (b->wc < 8) {
        malformed(m);
        return;
    }
    struct smb1_pending *p = pend_find(m->s, SMB_COM_TRANSACTION, m->h.mid, m->h.pid);
    if (!p)
        return;
    const uint8_t *d = trans_data(m, ld_u16le(b->words + 12), ld_u16le(b->words + 10));
    if (d)
        pipe_data(m, p->fid, 0, d, ld_u16le(b->words + 10));
}

static void transaction_response(struct smb1_msg *m, const struct smb1_block *b)
{
    struct smb1_pending *p = pend_find(m->s, SMB_COM_TRANSACTION, m->h.mid, m->h.pid);
    if (!p)
        return;
    bool ok = status_data(b->status);
    if (ok && b->wc == 0)
        return; /* the interim response to the first part of a request in several (3.3.5.2.x) */
    /* TotalParameterCount TotalDataCount Reserved1 ParameterCount ParameterOffset ParameterDisplacement
     * DataCount DataOffset DataDisplacement SetupCount(1) Reserved2(1) Setup[] */
    if (ok && b->wc >= 10) {
        const uint8_t *w = b->words;
        uint16_t total = ld_u16le(w + 2), count = ld_u16le(w + 12), disp = ld_u16le(w + 16);
        const uint8_t *d = trans_data(m, ld_u16le(w + 14), count);
        if (d)
            pipe_data(m, p->fid, 1, d, count);
        if ((uint32_t)disp + count < total)
            return; /* more parts to come */
    }
    pend_done(p);
}

static void write_andx_request(struct smb1_msg *m, const struct smb1_block *b)
{
    /* AndX(4) FID Offset(4) Timeout(4) WriteMode Remaining DataLengthHigh DataLength DataOffset [OffsetHigh(4)] */
    if (b->wc < 12) {
        malformed(m);
        return;
    }
    const uint8_t *w = b->words;
    uint16_t fid = ld_u16le(w + 4);
    if (!is_pipe(m, fid))
        return;
    uint16_t mode = ld_u16le(w + 14);
    size_t len = (size_t)ld_u16le(w + 18) << 16 | ld_u16le(w + 20), off = ld_u16le(w + 22);
    if (!range_ok(m->n, off, len))
        len &= 0xFFFF; /* DataLengthHigh is MS-SMB's; MS-CIFS calls it Reserved */
    if (!range_ok(m->n, off, len)) {
        malformed(m);
        return;
    }
    /* 2.2.4.43.1: in raw mode the first message of a pipe write starts with its 2-byte length */
    if ((mode & 0x000C) == 0x000C && len >= 2) {
        off += 2;
        len -= 2;
    }
    pipe_data(m, fid, 0, m->p + off, len);
}

static void read_andx_request(struct smb1_msg *m, const struct smb1_block *b)
{
    /* AndX(4) FID Offset(4) MaxCountOfBytesToReturn MinCountOfBytesToReturn Timeout(4) Remaining [OffsetHigh] */
    if (b->wc < 10) {
        malformed(m);
        return;
    }
    uint16_t fid = ld_u16le(b->words + 4);
    if (is_pipe(m, fid))
        pend_add(m->s, SMB_COM_READ_ANDX, &m->h, m->ctx->frame)->fid = fid;
}

static void read_andx_response(struct smb1_msg *m, const struct smb1_block *b)
{
    struct smb1_pending *p = pend_find(m->s, SMB_COM_READ_ANDX, m->h.mid, m->h.pid);
    if (!p)
        return;
    uint16_t fid = p->fid;
    pend_done(p);
    bool ok = status_data(b->status);
    /* AndX(4) Available DataCompactionMode Reserved1 DataLength DataOffset DataLengthHigh Reserved2(8) */
    if (!ok || b->wc < 12)
        return;
    size_t len = (size_t)ld_u16le(b->words + 14) << 16 | ld_u16le(b->words + 10), off = ld_u16le(b->words + 12);
    if (!range_ok(m->n, off, len))
        len &= 0xFFFF; /* DataLengthHigh is MS-SMB's; MS-CIFS calls it Reserved */
    if (!range_ok(m->n, off, len)) {
        malformed(m);
        return;
    }
    pipe_data(m, fid, 1, m->p + off, len);
}

static void close_request(struct smb1_msg *m, const struct smb1_block *b)
{
    /* FID LastTimeModified(4) */
    if (b->wc < 3) {
        malformed(m);
        return;
    }
    uint16_t fid = ld_u16le(b->words);
    if (pipe_slot(m->s, fid) >= 0)
        pend_add(m->s, SMB_COM_CLOSE, &m->h, m->ctx->frame)->fid = fid;
}

static void close_response(struct smb1_msg *m, const struct smb1_block *b)
{
    struct smb1_pending *p = pend_find(m->s, SMB_COM_CLOSE, m->h.mid, m->h.pid);
    if (!p)
        return;
    uint16_t fid = p->fid;
    pend_done(p);
    int k = pipe_slot(m->s, fid);
    if (!status_ok(b->status) || k < 0)
        return;
    m->s->pipe_used[k] = false;
    if (*m->pipes)
        smb_pipe_close(m->ctx, *m->pipes, fid);
}

/* ---- messages ---------------------------------------------------------------------------------- */

static bool is_andx(uint8_t cmd)
{
    switch (cmd) {
    case SMB_COM_LOCKING_ANDX:
    case SMB_COM_OPEN_ANDX:
    case SMB_COM_READ_ANDX:
    case SMB_COM_WRITE_ANDX:
    case SMB_COM_SESSION_SETUP_ANDX:
    case SMB_COM_LOGOFF_ANDX:
    case SMB_COM_TREE_CONNECT_ANDX:
    case SMB_COM_NT_CREATE_ANDX:
        return true;
    default:
        return false;
    }
}

bool smb1_wants_whole(const struct smb1_state *s, const uint8_t *h, size_t len)
{
    switch (h[4]) {
    case SMB_COM_NEGOTIATE:
    case SMB_COM_SESSION_SETUP_ANDX:
    case SMB_COM_LOGOFF_ANDX:
    case SMB_COM_TREE_CONNECT_ANDX:
    case SMB_COM_TREE_DISCONNECT:
    case SMB_COM_NT_CREATE_ANDX:
    case SMB_COM_CLOSE:
    case SMB_COM_TRANSACTION:
    case SMB_COM_TRANSACTION_SECONDARY:
        return true;
    case SMB_COM_READ_ANDX:
    case SMB_COM_WRITE_ANDX:
        return tree_is_ipc(s, ld_u16le(h + 24)) || len <= SMB1_SMALL;
    case SMB_COM_LOCKING_ANDX:
    case SMB_COM_OPEN_ANDX:
        return len <= SMB1_SMALL;
    default:
        return false;
    }
}

static void dispatch(struct smb1_msg *m, const struct smb1_block *b)
{
    bool resp = m->h.resp;
    switch (b->cmd) {
    case SMB_COM_NEGOTIATE:
        resp ? negotiate_response(m, b) : negotiate_request(m, b);
        break;
    case SMB_COM_SESSION_SETUP_ANDX:
        resp ? session_setup_response(m, b) : session_setup_request(m, b);
        break;
    case SMB_COM_LOGOFF_ANDX:
        if (resp)
            logoff_response(m, b);
        break;
    case SMB_COM_TREE_CONNECT_ANDX:
        resp ? tree_connect_response(m, b) : tree_connect_request(m, b);
        break;
    case SMB_COM_TREE_DISCONNECT:
        if (resp)
            tree_disconnect_response(m, b);
        break;
    case SMB_COM_NT_CREATE_ANDX:
        resp ? nt_create_response(m, b) : nt_create_request(m, b);
        break;
    case SMB_COM_TRANSACTION:
        resp ? transaction_response(m, b) : transaction_request(m, b);
        break;
    case SMB_COM_TRANSACTION_SECONDARY:
        if (!resp)
            transaction_secondary_request(m, b);
        break;
    case SMB_COM_WRITE_ANDX:
        if (!resp)
            write_andx_request(m, b);
        break;
    case SMB_COM_READ_ANDX:
        resp ? read_andx_response(m, b) : read_andx_request(m, b);
        break;
    case SMB_COM_CLOSE:
        resp ? close_response(m, b) : close_request(m, b);
        break;
    default:
        break;
    }
}

void smb1_header_only(struct hs_ctx *ctx, struct smb1_state **ss, int dir, const uint8_t *h)
{
    (void)dir;
    if (!*ss || !(*ss)->watch_rec)
        return;
    struct smb1_hdr hd;
    read_header(h, &hd);
    sig_watch(ctx, *ss, &hd, NULL, 0);
}

void smb1_message(struct hs_ctx *ctx, struct smb1_state **ss, struct smb_pipes **pipes, int dir, const uint8_t *msg,
                  size_t n)
{
    (void)dir; /* the header's own reply flag says request or response; it outranks our guess of the client */
    if (n < SMB1_HEADER_LEN || memcmp(msg, "\xFFSMB", 4) != 0) {
        ctx->st->malformed[DIS_SMB1]++;
        return;
    }
    struct smb1_state *s = state(ss);
    if (!s)
        return;
    struct smb1_msg m = {ctx, s, pipes, msg, n, {0}};
    read_header(msg, &m.h);
    sig_watch(ctx, s, &m.h, msg, n);
    /* The chain (2.2.3.4): each AndXOffset must lie past the block that names it, so it only moves forward,
     * and the number of links is capped besides. */
    size_t off = SMB1_HEADER_LEN;
    uint8_t cmd = m.h.cmd;
    for (int link = 0;; link++) {
        struct smb1_block b;
        if (link == SMB1_ANDX_MAX || !read_block(msg, n, off, &b)) {
            malformed(&m);
            return;
        }
        b.cmd = cmd;
        bool more = is_andx(cmd) && b.wc >= 2 && b.words[0] != SMB_COM_NO_ANDX_COMMAND;
        /* A chain's status is its last command's: the ones before it succeeded (3.3.5.2.x). */
        b.status = m.h.resp && more ? hs_status_of(m.h.status.space, 0) : m.h.status;
        dispatch(&m, &b);
        if (!more)
            return;
        size_t next = ld_u16le(b.words + 2);
        if (next < off + 1 + 2 * (size_t)b.wc) { /* back, onto itself, or into its own words */
            malformed(&m);
            return;
        }
        cmd = b.words[0];
        off = next;
    }
}
