/* SMB2/3 — MS-SMB2 2.2.1 (header), 2.2.3-2.2.10 (NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT),
 * 2.2.13-2.2.22, 2.2.31-2.2.32 (CREATE, CLOSE, READ, WRITE, IOCTL on the named pipes of IPC$). */
#include "smb2.h"

#include <stdlib.h>
#include <string.h>

#include "mech.h"
#include "pipe.h"
#include "names.h"
#include "reader.h"
#include "spnego.h"
#include "util.h"

/*
 * SMB2 SYNC header (MS-SMB2 2.2.1.2), all little-endian:
 *   0 ProtocolId "\xFESMB"   4 StructureSize(64)  6 CreditCharge   8 Status
 *  12 Command  14 CreditRequest/Response  16 Flags  20 NextCommand  24 MessageId
 *  32 Reserved(4) TreeId(4) — or AsyncId(8) when SMB2_FLAGS_ASYNC_COMMAND
 *  40 SessionId  48 Signature(16)
 */
#define SMB2_PENDING_MAX 64  /* requests awaiting their response; the table grows to this from ... */
#define SMB2_PENDING_FIRST 4 /* ... this many, so that a connection costs what it has shown */
#define SMB2_IPC_TREES_MAX 8 /* IPC$ tree connects remembered per connection */

#define SMB2_CREATE  0x0005
#define SMB2_CLOSE   0x0006
#define SMB2_READ    0x0008
#define SMB2_WRITE   0x0009
#define SMB2_IOCTL   0x000B
#define FSCTL_PIPE_TRANSCEIVE 0x0011C017u
#define STATUS_BUFFER_OVERFLOW 0x80000005u

struct smb2_pending {
    bool used;
    uint16_t cmd;
    uint64_t mid;
    uint64_t sid;
    uint64_t frame;
    uint64_t rec;  /* id of the record the request belongs to, 0 if none */
    uint64_t pipe; /* READ/IOCTL on a pipe: its key (folded FileId), 0 if none */
    char *path; /* TREE_CONNECT: the share path; CREATE on IPC$: the pipe name (UTF-8, allocated), or NULL */
};

struct smb2_state {
    uint16_t dialect;
    uint32_t next_slot;
    uint32_t ipc_trees[SMB2_IPC_TREES_MAX]; /* TreeIds of IPC$ connects (0: free) */
    uint32_t ipc_next;
    uint32_t npend;                /* entries of pend (0 until the first request is remembered) */
    struct smb2_pending *pend;
};

static struct smb2_state *state(struct smb2_state **s)
{
    if (!*s)
        *s = calloc(1, sizeof **s);
    return *s;
}

void smb2_state_free(struct smb2_state *s)
{
    if (s) {
        for (uint32_t i = 0; i < s->npend; i++)
            free(s->pend[i].path);
        free(s->pend);
    }
    free(s);
}

static bool is_ipc_tree(const struct smb2_state *s, uint32_t tid)
{
    for (int i = 0; i < SMB2_IPC_TREES_MAX; i++)
        if (tid && s->ipc_trees[i] == tid)
            return true;
    return false;
}

bool smb2_wants_whole(const struct smb2_state *s, const uint8_t *h)
{
    uint16_t cmd = ld_u16le(h + 12);
    uint32_t next = ld_u32le(h + 20);
    if (cmd <= SMB2_TREE_CONNECT || next != 0)
        return true;
    if (!s || (cmd != SMB2_CREATE && cmd != SMB2_CLOSE && cmd != SMB2_READ && cmd != SMB2_WRITE && cmd != SMB2_IOCTL))
        return false;
    /* Named pipes carry DCE/RPC: their messages are small and read whole; file I/O stays bulk. */
    uint32_t flags = ld_u32le(h + 16);
    if (!(flags & SMB2_FLAGS_ASYNC_COMMAND))
        return is_ipc_tree(s, ld_u32le(h + 36));
    uint64_t mid = ld_u32le(h + 24) | (uint64_t)ld_u32le(h + 28) << 32;
    for (uint32_t i = 0; i < s->npend; i++)
        if (s->pend[i].used && s->pend[i].mid == mid && s->pend[i].cmd == cmd && s->pend[i].pipe)
            return true;
    return false;
}

/* Remembers a request until its response; when all entries are in use the table doubles, up to
 * SMB2_PENDING_MAX, after which the oldest entry gives way. NULL only when memory is short and the table is
 * still empty. */
static struct smb2_pending *pend_add(struct smb2_state *s, uint16_t cmd, uint64_t mid, uint64_t sid, uint64_t frame)
{
    struct smb2_pending *p = NULL;
    for (uint32_t i = 0; i < s->npend; i++)
        if (!s->pend[i].used) {
            p = &s->pend[i];
            break;
        }
    if (!p && s->npend < SMB2_PENDING_MAX) {
        uint32_t n = s->npend ? s->npend * 2 : SMB2_PENDING_FIRST;
        struct smb2_pending *np = realloc(s->pend, n * sizeof *np);
        if (np) {
            memset(np + s->npend, 0, (n - s->npend) * sizeof *np);
            p = &np[s->npend];
            s->pend = np;
            s->npend = n;
        }
    }
    if (!p && !s->npend)
        return NULL;
    if (!p) { /* SMB2_PENDING_MAX in use (or memory short): next_slot runs over them oldest first */
        p = &s->pend[s->next_slot % s->npend];
        s->next_slot = (s->next_slot + 1) % s->npend;
    }
    free(p->path);
    memset(p, 0, sizeof *p);
    p->used = true;
    p->cmd = cmd;
    p->mid = mid;
    p->sid = sid;
    p->frame = frame;
    return p;
}

static struct smb2_pending *pend_find(struct smb2_state *s, uint16_t cmd, uint64_t mid)
{
    for (uint32_t i = 0; i < s->npend; i++)
        if (s->pend[i].used && s->pend[i].mid == mid && s->pend[i].cmd == cmd)
            return &s->pend[i];
    return NULL;
}

struct sid_match {
    uint64_t sid;
    bool open_only;
};

static bool sid_matches(const struct auth_rec *r, const void *arg)
{
    const struct sid_match *m = arg;
    return r->transport == TRANSPORT_SMB2 && r->smb2.session_id == m->sid && (!m->open_only || r->h.open);
}

/* The connection's newest record for session sid; open_only restricts to unfinished ones. */
static struct auth_rec *rec_by_sid(struct hs_ctx *ctx, uint64_t sid, bool open_only)
{
    struct sid_match m = {sid, open_only};
    return rec_auth_newest(ctx->rc, sid_matches, &m);
}

/* Reads the security buffer at (off, len) relative to the header start; NULL when empty/bad. */
static const uint8_t *sec_buffer(struct hs_ctx *ctx, const uint8_t *h, size_t msg_len, uint16_t off,
                                 uint16_t len)
{
    if (len == 0)
        return NULL;
    if (!range_ok(msg_len, off, len)) {
        ctx->st->malformed[DIS_SMB2]++;
        return NULL;
    }
    return h + off;
}

static void new_rec_fields(const struct smb2_state *s, struct auth_rec *r, uint64_t sid)
{
    r->smb2.session_id = sid;
    r->smb2.dialect = s ? s->dialect : 0;
}

static void session_setup_request(struct hs_ctx *ctx, struct smb2_state **ss, const uint8_t *h, size_t len,
                                  uint64_t mid, uint64_t sid)
{
    /* 2.2.5: StructureSize(25) Flags SecurityMode Capabilities(4) Channel(4)
     *        SecurityBufferOffset(2) SecurityBufferLength(2) PreviousSessionId(8) */
    struct rd r = rd_make(h + 64, len - 64);
    rd_skip(&r, 12);
    uint16_t off = rd_u16le(&r);
    uint16_t blen = rd_u16le(&r);
    if (r.err) {
        ctx->st->malformed[DIS_SMB2]++;
        return;
    }
    const uint8_t *blob = sec_buffer(ctx, h, len, off, blen);
    struct gss_token t;
    bool have = blob && gss_blob_parse(ctx, blob, blen, &t) == 0;

    struct auth_rec *rec = NULL;
    if (!(have && gss_token_starts(&t)))
        rec = rec_by_sid(ctx, sid, true);
    if (!rec) {
        rec = ctx_auth_new(ctx, TRANSPORT_SMB2);
        if (rec)
            new_rec_fields(*ss, rec, sid);
    }
    struct smb2_state *s = state(ss);
    if (!s)
        return;
    struct smb2_pending *p = pend_add(s, SMB2_SESSION_SETUP, mid, sid, ctx->frame);
    if (p)
        p->rec = rec ? rec->h.id : 0;
    if (rec && have)
        gss_apply(ctx, rec, &t, 0, false);
}

static void session_setup_response(struct hs_ctx *ctx, struct smb2_state **ss, const uint8_t *h, size_t len,
                                   uint64_t mid, uint64_t sid, uint32_t status)
{
    struct smb2_state *s = state(ss);
    if (!s)
        return;
    struct smb2_pending *p = pend_find(s, SMB2_SESSION_SETUP, mid);
    struct auth_rec *rec = p ? ctx_auth_get(ctx, p->rec) : NULL;
    if (p)
        p->used = false;
    if (!p) {
        rec = rec_by_sid(ctx, sid, true);
        if (!rec && (rec = ctx_auth_new(ctx, TRANSPORT_SMB2)))
            new_rec_fields(s, rec, sid);
    }
    if (!rec)
        return;
    if (sid)
        rec->smb2.session_id = sid;
    if (status == STATUS_SUCCESS || status == STATUS_MORE_PROCESSING_REQUIRED) {
        /* 2.2.6: StructureSize(9) SessionFlags(2) SecurityBufferOffset(2) SecurityBufferLength(2) */
        struct rd r = rd_make(h + 64, len - 64);
        rd_skip(&r, 2);
        uint16_t flags = rd_u16le(&r);
        uint16_t off = rd_u16le(&r);
        uint16_t blen = rd_u16le(&r);
        if (r.err) {
            ctx->st->malformed[DIS_SMB2]++;
        } else {
            const uint8_t *blob = sec_buffer(ctx, h, len, off, blen);
            struct gss_token t;
            if (blob && gss_blob_parse(ctx, blob, blen, &t) == 0)
                gss_apply(ctx, rec, &t, 1, false);
            if (status == STATUS_SUCCESS) {
                rec->smb2.session_flags = flags;
                rec->smb2.session_flags_seen = true;
            }
        }
    }
    if (status == STATUS_MORE_PROCESSING_REQUIRED)
        return;
    rec_auth_verdict(rec, ctx->frame, status == STATUS_SUCCESS ? RESULT_SUCCESS : RESULT_FAILURE,
                     hs_status_of(STATUS_NTSTATUS, status), VERDICT_SESSION_SETUP);
}

static void tree_connect_request(struct hs_ctx *ctx, struct smb2_state **ss, const uint8_t *h, size_t len,
                                 uint64_t mid, uint64_t sid)
{
    /* 2.2.9: StructureSize(9) Flags(2) PathOffset(2) PathLength(2), path in UTF-16LE */
    struct rd r = rd_make(h + 64, len - 64);
    rd_skip(&r, 4);
    uint16_t off = rd_u16le(&r);
    uint16_t plen = rd_u16le(&r);
    if (r.err) {
        ctx->st->malformed[DIS_SMB2]++;
        return;
    }
    struct smb2_state *s = state(ss);
    if (!s)
        return;
    struct smb2_pending *p = pend_add(s, SMB2_TREE_CONNECT, mid, sid, ctx->frame);
    const uint8_t *path = p ? sec_buffer(ctx, h, len, off, plen) : NULL;
    if (path) {
        /* Allocated only here: a path in every entry would make each connection's table 19 KiB. */
        char name[USE_NAME_MAX];
        utf16le_to_utf8(path, plen, name, sizeof name);
        p->path = strdup(name);
    }
}

/* Is the share path "\\server\IPC$"? */
static bool path_is_ipc(const char *path)
{
    size_t n = strlen(path);
    return n >= 5 && path[n - 5] == '\\' && has_prefix_ci(path + n - 4, 4, "IPC$");
}

static void tree_connect_response(struct hs_ctx *ctx, struct smb2_state **ss, uint64_t mid, uint64_t sid,
                                  uint32_t tid, uint32_t status)
{
    struct smb2_state *s = state(ss);
    struct smb2_pending *p = s ? pend_find(s, SMB2_TREE_CONNECT, mid) : NULL;
    if (!p)
        return;
    p->used = false;
    char *path = p->path;
    p->path = NULL;
    if (status == STATUS_SUCCESS && path && path_is_ipc(path) && !is_ipc_tree(s, tid))
        s->ipc_trees[s->ipc_next++ % SMB2_IPC_TREES_MAX] = tid;
    struct auth_rec *rec = rec_by_sid(ctx, sid ? sid : p->sid, false);
    struct auth_use *u = rec ? rec_use_add(ctx->recs, rec, ctx->frame) : NULL;
    if (!u) {
        free(path);
        return;
    }
    strlcpy_n(u->name, sizeof u->name, path ? path : "", USE_NAME_MAX);
    free(path);
    u->frame_req = p->frame;
    u->frame_resp = ctx->frame;
    u->status = hs_status_of(STATUS_NTSTATUS, status);
    u->answered = true;
}

/* A session that logged off is over: its records are written now. */
static void logoff_response(struct hs_ctx *ctx, uint64_t sid, uint32_t status)
{
    if (status != STATUS_SUCCESS)
        return;
    struct auth_rec *r;
    while ((r = rec_by_sid(ctx, sid, false)) != NULL)
        rec_write(ctx->recs, &r->h);
}

/* A FileId (MS-SMB2 2.2.14.1: Persistent, Volatile) folded into the pipe key; never 0. */
static uint64_t file_key(const uint8_t *fid)
{
    uint64_t p = ld_u32le(fid) | (uint64_t)ld_u32le(fid + 4) << 32;
    uint64_t v = ld_u32le(fid + 8) | (uint64_t)ld_u32le(fid + 12) << 32;
    return (p ^ (v << 1 | v >> 63)) | 1;
}

static struct smb_pipes *pipes_of(struct smb_pipes **pipes)
{
    if (!*pipes)
        *pipes = smb_pipes_new();
    return *pipes;
}

/* The body of a message (after the 64-byte header) as a reader, or err set when shorter than need. */
static struct rd body(const uint8_t *h, size_t len)
{
    return rd_make(h + SMB2_HEADER_LEN, len - SMB2_HEADER_LEN);
}

/* 2.2.13 CREATE request on IPC$: NameOffset u16 at 44, NameLength u16 at 46 of the body; the name is the pipe's. */
static void create_request(struct hs_ctx *ctx, struct smb2_state *s, const uint8_t *h, size_t len, uint64_t mid,
                           uint64_t sid)
{
    struct rd r = body(h, len);
    rd_skip(&r, 44);
    uint16_t off = rd_u16le(&r), nlen = rd_u16le(&r);
    const uint8_t *name = r.err ? NULL : sec_buffer(ctx, h, len, off, nlen);
    if (r.err) {
        ctx->st->malformed[DIS_SMB2]++;
        return;
    }
    struct smb2_pending *p = pend_add(s, SMB2_CREATE, mid, sid, ctx->frame);
    if (!p)
        return;
    char buf[64];
    buf[0] = '\0';
    if (name)
        utf16le_to_utf8(name, nlen, buf, sizeof buf);
    p->path = strdup(buf);
}

/* 2.2.14 CREATE response: FileId at 64 of the body. */
static void create_response(struct hs_ctx *ctx, struct smb2_state *s, struct smb_pipes **pipes, const uint8_t *h,
                            size_t len, uint64_t mid, uint64_t sid, uint32_t status)
{
    struct smb2_pending *p = pend_find(s, SMB2_CREATE, mid);
    if (!p)
        return;
    p->used = false;
    char *name = p->path;
    p->path = NULL;
    struct rd r = body(h, len);
    rd_skip(&r, 64);
    const uint8_t *fid = rd_bytes(&r, 16);
    if (status == STATUS_SUCCESS && fid && pipes_of(pipes)) {
        struct auth_rec *carrier = rec_by_sid(ctx, sid ? sid : p->sid, false);
        smb_pipe_open(ctx, *pipes, file_key(fid), name ? name : "", carrier ? carrier->h.id : 0);
    } else if (status == STATUS_SUCCESS) {
        ctx->st->malformed[DIS_SMB2]++;
    }
    free(name);
}

/* 2.2.15 CLOSE request: FileId at 8 of the body. */
static void close_request(struct hs_ctx *ctx, struct smb_pipes *pipes, const uint8_t *h, size_t len)
{
    struct rd r = body(h, len);
    rd_skip(&r, 8);
    const uint8_t *fid = rd_bytes(&r, 16);
    if (fid && pipes)
        smb_pipe_close(ctx, pipes, file_key(fid));
}

/* 2.2.21 WRITE request: DataOffset u16 at 2, Length u32 at 4, FileId at 16 of the body; the data goes to the
 * pipe's client-to-server stream. */
static void write_request(struct hs_ctx *ctx, struct smb_pipes **pipes, const uint8_t *h, size_t len)
{
    struct rd r = body(h, len);
    rd_skip(&r, 2);
    uint16_t off = rd_u16le(&r);
    uint32_t dlen = rd_u32le(&r);
    rd_skip(&r, 8);
    const uint8_t *fid = rd_bytes(&r, 16);
    if (!fid || !range_ok(len, off, dlen)) {
        ctx->st->malformed[DIS_SMB2]++;
        return;
    }
    if (dlen && pipes_of(pipes))
        smb_pipe_data(ctx, *pipes, file_key(fid), 0, h + off, dlen);
}

/* 2.2.19 READ request: FileId at 16 of the body, remembered for the response (which carries none). */
static void read_request(struct hs_ctx *ctx, struct smb2_state *s, const uint8_t *h, size_t len, uint64_t mid,
                         uint64_t sid)
{
    struct rd r = body(h, len);
    rd_skip(&r, 16);
    const uint8_t *fid = rd_bytes(&r, 16);
    if (!fid) {
        ctx->st->malformed[DIS_SMB2]++;
        return;
    }
    struct smb2_pending *p = pend_add(s, SMB2_READ, mid, sid, ctx->frame);
    if (p)
        p->pipe = file_key(fid);
}

/* 2.2.20 READ response: DataOffset u8 at 2, DataLength u32 at 4 of the body; to the server-to-client stream. */
static void read_response(struct hs_ctx *ctx, struct smb2_state *s, struct smb_pipes **pipes, const uint8_t *h,
                          size_t len, uint64_t mid, uint32_t status)
{
    struct smb2_pending *p = pend_find(s, SMB2_READ, mid);
    if (!p)
        return;
    p->used = false;
    if (status != STATUS_SUCCESS && status != STATUS_BUFFER_OVERFLOW)
        return;
    struct rd r = body(h, len);
    rd_skip(&r, 2);
    uint8_t off = rd_u8(&r);
    rd_skip(&r, 1);
    uint32_t dlen = rd_u32le(&r);
    if (r.err || !range_ok(len, off, dlen)) {
        ctx->st->malformed[DIS_SMB2]++;
        return;
    }
    if (dlen && pipes_of(pipes))
        smb_pipe_data(ctx, *pipes, p->pipe, 1, h + off, dlen);
}

/* 2.2.31 IOCTL request: CtlCode u32 at 4, FileId at 8, InputOffset u32 at 24, InputCount u32 at 28 of the
 * body. FSCTL_PIPE_TRANSCEIVE writes its input to the pipe and reads the answer in the response. */
static void ioctl_request(struct hs_ctx *ctx, struct smb2_state *s, struct smb_pipes **pipes, const uint8_t *h,
                          size_t len, uint64_t mid, uint64_t sid)
{
    struct rd r = body(h, len);
    rd_skip(&r, 4);
    uint32_t code = rd_u32le(&r);
    const uint8_t *fid = rd_bytes(&r, 16);
    uint32_t off = rd_u32le(&r), cnt = rd_u32le(&r);
    if (r.err || !range_ok(len, off, cnt)) {
        ctx->st->malformed[DIS_SMB2]++;
        return;
    }
    if (code != FSCTL_PIPE_TRANSCEIVE)
        return;
    uint64_t key = file_key(fid);
    struct smb2_pending *p = pend_add(s, SMB2_IOCTL, mid, sid, ctx->frame);
    if (p)
        p->pipe = key;
    if (cnt && pipes_of(pipes))
        smb_pipe_data(ctx, *pipes, key, 0, h + off, cnt);
}

/* 2.2.32 IOCTL response: OutputOffset u32 at 32, OutputCount u32 at 36 of the body. */
static void ioctl_response(struct hs_ctx *ctx, struct smb2_state *s, struct smb_pipes **pipes, const uint8_t *h,
                           size_t len, uint64_t mid, uint32_t status)
{
    struct smb2_pending *p = pend_find(s, SMB2_IOCTL, mid);
    if (!p)
        return;
    p->used = false;
    if (status != STATUS_SUCCESS && status != STATUS_BUFFER_OVERFLOW)
        return;
    struct rd r = body(h, len);
    rd_skip(&r, 32);
    uint32_t off = rd_u32le(&r), cnt = rd_u32le(&r);
    if (r.err || !range_ok(len, off, cnt)) {
        ctx->st->malformed[DIS_SMB2]++;
        return;
    }
    if (cnt && pipes_of(pipes))
        smb_pipe_data(ctx, *pipes, p->pipe, 1, h + off, cnt);
}

void smb2_message(struct hs_ctx *ctx, struct smb2_state **ss, struct smb_pipes **pipes, int dir, const uint8_t *msg,
                  size_t n)
{
    (void)dir;
    size_t off = 0;
    uint64_t prev_sid = 0;
    for (int guard = 0; guard < 128; guard++) {
        if (n - off < 64 || msg[off] != 0xFE || memcmp(msg + off + 1, "SMB", 3) != 0 ||
            ld_u16le(msg + off + 4) != 64) {
            ctx->st->malformed[DIS_SMB2]++;
            return;
        }
        const uint8_t *h = msg + off;
        uint32_t status = ld_u32le(h + 8);
        uint16_t cmd = ld_u16le(h + 12);
        uint32_t flags = ld_u32le(h + 16);
        uint32_t next = ld_u32le(h + 20);
        struct rd hr = rd_make(h + 24, 40);
        uint64_t mid = rd_u64le(&hr);
        rd_skip(&hr, 8);
        uint64_t sid = rd_u64le(&hr);
        uint32_t tid = (flags & SMB2_FLAGS_ASYNC_COMMAND) ? 0 : ld_u32le(h + 36);
        if (next && (next < 64 || next > n - off)) {
            ctx->st->malformed[DIS_SMB2]++;
            return;
        }
        size_t len = next ? next : n - off;
        if ((flags & SMB2_FLAGS_RELATED_OPERATIONS) && sid == UINT64_MAX)
            sid = prev_sid;
        prev_sid = sid;
        /* The header's own flag says request or response; it outranks our guess of which side
         * is the client (a connection picked up mid-stream on unusual ports). */
        bool resp = (flags & SMB2_FLAGS_SERVER_TO_REDIR) != 0;
        bool interim = resp && (flags & SMB2_FLAGS_ASYNC_COMMAND) && status == STATUS_PENDING;
        if (!interim && len > 64) {
            switch (cmd) {
            case SMB2_NEGOTIATE:
                if (resp && status == STATUS_SUCCESS && len >= 64 + 6 && state(ss))
                    (*ss)->dialect = ld_u16le(h + 64 + 4);
                break;
            case SMB2_SESSION_SETUP:
                if (resp)
                    session_setup_response(ctx, ss, h, len, mid, sid, status);
                else
                    session_setup_request(ctx, ss, h, len, mid, sid);
                break;
            case SMB2_TREE_CONNECT:
                if (resp)
                    tree_connect_response(ctx, ss, mid, sid, tid, status);
                else
                    tree_connect_request(ctx, ss, h, len, mid, sid);
                break;
            case SMB2_LOGOFF:
                if (resp)
                    logoff_response(ctx, sid, status);
                break;
            case SMB2_CREATE:
                if (!state(ss))
                    break;
                if (resp)
                    create_response(ctx, *ss, pipes, h, len, mid, sid, status);
                else if (is_ipc_tree(*ss, tid))
                    create_request(ctx, *ss, h, len, mid, sid);
                break;
            case SMB2_CLOSE:
                if (!resp && *ss && is_ipc_tree(*ss, tid))
                    close_request(ctx, *pipes, h, len);
                break;
            case SMB2_WRITE:
                if (!resp && *ss && is_ipc_tree(*ss, tid))
                    write_request(ctx, pipes, h, len);
                break;
            case SMB2_READ:
                if (!*ss)
                    break;
                if (resp)
                    read_response(ctx, *ss, pipes, h, len, mid, status);
                else if (is_ipc_tree(*ss, tid))
                    read_request(ctx, *ss, h, len, mid, sid);
                break;
            case SMB2_IOCTL:
                if (!*ss)
                    break;
                if (resp)
                    ioctl_response(ctx, *ss, pipes, h, len, mid, status);
                else if (is_ipc_tree(*ss, tid))
                    ioctl_request(ctx, *ss, pipes, h, len, mid, sid);
                break;
            default:
                break;
            }
        }
        if (!next)
            return;
        off += next;
    }
}
