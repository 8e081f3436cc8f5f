/* SMB2/3 — MS-SMB2 2.2.1 (header), 2.2.3-2.2.10 (NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT). */
#include "smb2.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "engine.h"
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
#define SMB2_PENDING_MAX 64

struct smb2_pending {
    bool used;
    uint16_t cmd;
    uint64_t mid;
    uint64_t sid;
    uint64_t frame;
    struct auth_rec *rec;
    char *path; /* TREE_CONNECT: the share path (UTF-8, allocated), or NULL */
};

struct smb2_state {
    uint16_t dialect;
    uint32_t next_slot;
    struct smb2_pending pend[SMB2_PENDING_MAX];
};

static struct smb2_state *state(struct hs_conn *c)
{
    if (!c->smb2)
        c->smb2 = calloc(1, sizeof *c->smb2);
    return c->smb2;
}

void smb2_free(struct hs_conn *c)
{
    if (c->smb2)
        for (int i = 0; i < SMB2_PENDING_MAX; i++)
            free(c->smb2->pend[i].path);
    free(c->smb2);
    c->smb2 = NULL;
}

void smb2_forget_rec(struct hs_conn *c, struct auth_rec *r)
{
    if (!c->smb2)
        return;
    for (int i = 0; i < SMB2_PENDING_MAX; i++)
        if (c->smb2->pend[i].rec == r)
            c->smb2->pend[i].rec = NULL;
}

/* Remembers a request until its response; the oldest entry gives way when all are in use. */
static struct smb2_pending *pend_add(struct smb2_state *s, uint16_t cmd, uint64_t mid, uint64_t sid, uint64_t frame)
{
    struct smb2_pending *p = NULL;
    for (int i = 0; i < SMB2_PENDING_MAX; i++)
        if (!s->pend[i].used) {
            p = &s->pend[i];
            break;
        }
    if (!p) {
        p = &s->pend[s->next_slot];
        s->next_slot = (s->next_slot + 1) % SMB2_PENDING_MAX;
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
    for (int i = 0; i < SMB2_PENDING_MAX; i++)
        if (s->pend[i].used && s->pend[i].mid == mid && s->pend[i].cmd == cmd)
            return &s->pend[i];
    return NULL;
}

/* The newest record of c for session sid; in_progress_only restricts to unfinished ones. */
static struct auth_rec *rec_by_sid(struct hs_conn *c, uint64_t sid, bool in_progress_only)
{
    struct auth_rec *found = NULL;
    for (struct auth_rec *r = c->recs; r; r = r->next)
        if (r->transport == TRANSPORT_SMB2 && r->smb2_session_id == sid && (!in_progress_only || r->in_progress))
            found = r;
    return found;
}

/* Reads the security buffer at (off, len) relative to the header start; NULL when empty/bad. */
static const uint8_t *sec_buffer(struct hs_engine *e, const uint8_t *h, size_t msg_len, uint16_t off,
                                 uint16_t len)
{
    if (len == 0)
        return NULL;
    if (!range_ok(msg_len, off, len)) {
        e->st.malformed[DIS_SMB2]++;
        return NULL;
    }
    return h + off;
}

static void new_rec_fields(struct hs_conn *c, struct auth_rec *r, uint64_t sid)
{
    r->smb2_session_id = sid;
    r->smb2_dialect = c->smb2 ? c->smb2->dialect : 0;
}

static void session_setup_request(struct hs_engine *e, struct hs_conn *c, const uint8_t *h, size_t len,
                                  uint64_t mid, uint64_t sid)
{
    /* 2.2.5: StructureSize(25) Flags SecurityMode Capabilities(4) Channel(4)
     *        SecurityBufferOffset(2) SecurityBufferLength(2) PreviousSessionId(8) */
    struct rd r = rd_make(h + 64, len - 64);
    rd_skip(&r, 12);
    uint16_t off = rd_u16le(&r);
    uint16_t blen = rd_u16le(&r);
    if (r.err) {
        e->st.malformed[DIS_SMB2]++;
        return;
    }
    const uint8_t *blob = sec_buffer(e, h, len, off, blen);
    struct gss_token t;
    bool have = blob && gss_token_parse(blob, blen, &t) == 0;
    if (blob && !have)
        e->st.malformed[DIS_SPNEGO]++;

    struct auth_rec *rec = NULL;
    if (!(have && auth_token_starts(&t)))
        rec = rec_by_sid(c, sid, true);
    if (!rec) {
        rec = auth_new(e, c, TRANSPORT_SMB2);
        if (rec)
            new_rec_fields(c, rec, sid);
    }
    struct smb2_state *s = state(c);
    if (!s)
        return;
    struct smb2_pending *p = pend_add(s, SMB2_SESSION_SETUP, mid, sid, e->frame);
    p->rec = rec;
    if (rec && have)
        auth_apply_token(e, rec, &t, 0, false);
}

static void session_setup_response(struct hs_engine *e, struct hs_conn *c, const uint8_t *h, size_t len,
                                   uint64_t mid, uint64_t sid, uint32_t status)
{
    struct smb2_state *s = state(c);
    if (!s)
        return;
    struct smb2_pending *p = pend_find(s, SMB2_SESSION_SETUP, mid);
    struct auth_rec *rec = p ? p->rec : NULL;
    if (p)
        p->used = false;
    if (!p) {
        rec = rec_by_sid(c, sid, true);
        if (!rec && (rec = auth_new(e, c, TRANSPORT_SMB2)))
            new_rec_fields(c, rec, sid);
    }
    if (!rec)
        return;
    if (sid)
        rec->smb2_session_id = sid;
    if (status == STATUS_SUCCESS || status == STATUS_MORE_PROCESSING_REQUIRED) {
        /* 2.2.6: StructureSize(9) SessionFlags(2) SecurityBufferOffset(2) SecurityBufferLength(2) */
        struct rd r = rd_make(h + 64, len - 64);
        rd_skip(&r, 2);
        uint16_t flags = rd_u16le(&r);
        uint16_t off = rd_u16le(&r);
        uint16_t blen = rd_u16le(&r);
        if (r.err) {
            e->st.malformed[DIS_SMB2]++;
        } else {
            const uint8_t *blob = sec_buffer(e, h, len, off, blen);
            struct gss_token t;
            if (blob) {
                if (gss_token_parse(blob, blen, &t) == 0)
                    auth_apply_token(e, rec, &t, 1, false);
                else
                    e->st.malformed[DIS_SPNEGO]++;
            }
            if (status == STATUS_SUCCESS) {
                rec->smb2_session_flags = flags;
                rec->smb2_session_flags_seen = true;
            }
        }
    }
    if (status == STATUS_MORE_PROCESSING_REQUIRED)
        return;
    auth_verdict(e, rec, status == STATUS_SUCCESS ? RESULT_SUCCESS : RESULT_FAILURE, status);
}

static void tree_connect_request(struct hs_engine *e, struct hs_conn *c, const uint8_t *h, size_t len,
                                 uint64_t mid, uint64_t sid)
{
    /* 2.2.9: StructureSize(9) Flags(2) PathOffset(2) PathLength(2), path in UTF-16LE */
    struct rd r = rd_make(h + 64, len - 64);
    rd_skip(&r, 4);
    uint16_t off = rd_u16le(&r);
    uint16_t plen = rd_u16le(&r);
    if (r.err) {
        e->st.malformed[DIS_SMB2]++;
        return;
    }
    struct smb2_state *s = state(c);
    if (!s)
        return;
    struct smb2_pending *p = pend_add(s, SMB2_TREE_CONNECT, mid, sid, e->frame);
    const uint8_t *path = sec_buffer(e, h, len, off, plen);
    if (path) {
        /* Allocated only here: a path in every entry would make each connection's table 19 KiB. */
        char name[USE_NAME_MAX];
        utf16le_to_utf8(path, plen, name, sizeof name);
        p->path = strdup(name);
    }
}

static void tree_connect_response(struct hs_engine *e, struct hs_conn *c, uint64_t mid, uint64_t sid,
                                  uint32_t status)
{
    struct smb2_state *s = state(c);
    struct smb2_pending *p = s ? pend_find(s, SMB2_TREE_CONNECT, mid) : NULL;
    if (!p)
        return;
    p->used = false;
    char *path = p->path;
    p->path = NULL;
    struct auth_rec *rec = rec_by_sid(c, sid ? sid : p->sid, false);
    struct auth_use *u = rec ? auth_add_use(e, rec) : NULL;
    if (!u) {
        free(path);
        return;
    }
    strlcpy_n(u->name, sizeof u->name, path ? path : "", USE_NAME_MAX);
    free(path);
    u->frame_req = p->frame;
    u->frame_resp = e->frame;
    u->status = status;
    u->answered = true;
}

static void logoff_response(struct hs_engine *e, struct hs_conn *c, uint64_t sid, uint32_t status)
{
    if (status != STATUS_SUCCESS)
        return;
    struct auth_rec *r;
    while ((r = rec_by_sid(c, sid, false)) != NULL)
        auth_emit(e, c, r);
}

void smb2_message(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *msg, size_t n)
{
    (void)dir;
    size_t off = 0;
    uint64_t prev_sid = 0;
    for (int guard = 0; guard < 128; guard++) {
        if (n - off < 64 || msg[off] != 0xFE || memcmp(msg + off + 1, "SMB", 3) != 0 ||
            ld_u16le(msg + off + 4) != 64) {
            e->st.malformed[DIS_SMB2]++;
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
        if (next && (next < 64 || next > n - off)) {
            e->st.malformed[DIS_SMB2]++;
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
                if (resp && status == STATUS_SUCCESS && len >= 64 + 6 && state(c))
                    c->smb2->dialect = ld_u16le(h + 64 + 4);
                break;
            case SMB2_SESSION_SETUP:
                if (resp)
                    session_setup_response(e, c, h, len, mid, sid, status);
                else
                    session_setup_request(e, c, h, len, mid, sid);
                break;
            case SMB2_TREE_CONNECT:
                if (resp)
                    tree_connect_response(e, c, mid, sid, status);
                else
                    tree_connect_request(e, c, h, len, mid, sid);
                break;
            case SMB2_LOGOFF:
                if (resp)
                    logoff_response(e, c, sid, status);
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
