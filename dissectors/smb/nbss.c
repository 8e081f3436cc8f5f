/* NetBIOS session service framing — RFC 1002 4.3.1 (port 139) and MS-SMB2 2.1 direct TCP (port 445). */
#include <stdlib.h>
#include <string.h>

#include "pipe.h"
#include "reader.h"
#include "smb1.h"
#include "smb2.h"

/*
 *  0        1                       4
 *  +--------+-----------------------+----------------------
 *  |  type  |   length (24-bit BE)  |  payload (length bytes)
 *  +--------+-----------------------+----------------------
 * RFC 1002 gives 17 bits of length (a flags byte, then 1 + 16); direct TCP uses all 24.
 */
enum nbss_type {
    NBSS_SESSION_MESSAGE = 0x00,
    NBSS_SESSION_REQUEST = 0x81,
    NBSS_POSITIVE_RESPONSE = 0x82,
    NBSS_NEGATIVE_RESPONSE = 0x83,
    NBSS_RETARGET_RESPONSE = 0x84,
    NBSS_KEEP_ALIVE = 0x85,
};

/* Per connection: the state of the SMB dialect parsers the frames go to, and the named pipes open on it
 * (a connection speaks SMB1 or SMB2, never both, so one set serves either). */
struct nbss_state {
    struct smb2_state *smb2;
    struct smb1_state *smb1;
    struct smb_pipes *pipes; /* named pipes (DCE/RPC), created on the first one */
};

static bool smb_magic(const uint8_t *p)
{
    return (p[0] == 0xFE || p[0] == 0xFF || p[0] == 0xFD || p[0] == 0xFC) && p[1] == 'S' && p[2] == 'M' &&
           p[3] == 'B';
}

int nbss_probe(const uint8_t *p, size_t n)
{
    if (n >= 8 && p[0] == NBSS_SESSION_MESSAGE && smb_magic(p + 4))
        return 100;
    if (n >= 4 && p[0] == NBSS_SESSION_REQUEST && ld_u16be(p + 2) >= 68 && p[1] == 0)
        return 80;
    return 0;
}

/* Offset of the first plausible frame start in p[0..n), or -1. */
static long find_frame(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i++) {
        if (p[i] == NBSS_SESSION_MESSAGE && smb_magic(p + i + 4)) {
            uint32_t len = (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 | p[i + 3];
            if (len >= 4)
                return (long)i;
        }
    }
    return -1;
}

/*
 * Frames NBSS messages from n in-order bytes at p and hands SMB2 messages to smb2_message() and SMB1 ones to
 * smb1_message(): whole when the parser wants them (up to lim.max_pdu, buffered with their header), else read
 * as far as their header (SMB1: smb1_header_only()) and the rest skipped. TRANSFORM (counted) and
 * COMPRESSION_TRANSFORM messages are skipped whole. Returns the bytes consumed; 0 when a frame is incomplete.
 * In resync mode it hunts for a plausible frame start first. Malformed frames are counted (DIS_NBSS,
 * DIS_SMB1, DIS_SMB2).
 */
static size_t nbss_parse(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n, struct hs_stream *s)
{
    struct nbss_state *ns = state;
    size_t used = 0;
    if (s->resync) {
        long at = find_frame(p, n);
        if (at < 0)
            return n > 7 ? n - 7 : 0; /* keep a tail that may hold the start of a header */
        s->resync = false;
        used = (size_t)at;
    }
    while (n - used >= 4) {
        const uint8_t *f = p + used;
        uint8_t type = f[0];
        uint32_t len = (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
        size_t avail = n - used - 4;
        if (type != NBSS_SESSION_MESSAGE) {
            if (type < NBSS_SESSION_REQUEST || type > NBSS_KEEP_ALIVE || len > 1024) {
                ctx->st->malformed[DIS_NBSS]++;
                s->resync = true;
                return used + 1;
            }
            if (avail < len)
                return used;
            used += 4 + len;
            continue;
        }
        if (len == 0) { /* empty session message: legal keep-alive-like filler */
            used += 4;
            continue;
        }
        if (avail < 4 && len >= 4)
            return used;
        const uint8_t *m = f + 4;
        if (len < 4 || !smb_magic(m)) {
            ctx->st->malformed[DIS_NBSS]++;
            s->resync = true;
            return used + 1;
        }
        if (m[0] == 0xFE || m[0] == 0xFF) {
            bool v1 = m[0] == 0xFF;
            size_t hlen = v1 ? SMB1_HEADER_LEN : SMB2_HEADER_LEN;
            if (len < hlen) {
                ctx->st->malformed[v1 ? DIS_SMB1 : DIS_SMB2]++;
                if (avail < len)
                    return used;
                used += 4 + len;
                continue;
            }
            if (avail < hlen)
                return used;
            bool whole = v1 ? smb1_wants_whole(ns->smb1, m, len) : smb2_wants_whole(ns->smb2, m);
            if (whole && 4 + (size_t)len <= ctx->lim->max_pdu) {
                if (avail < len)
                    return used;
                if (v1)
                    smb1_message(ctx, &ns->smb1, &ns->pipes, dir, m, len);
                else
                    smb2_message(ctx, &ns->smb2, &ns->pipes, dir, m, len);
                used += 4 + len;
                continue;
            }
            if (whole)
                ctx->st->pdu_oversize++;
            if (v1)
                smb1_header_only(ctx, &ns->smb1, dir, m);
            /* Bulk (READ/WRITE/...): the header was enough; skip the rest without buffering it. */
            if (avail >= len) {
                used += 4 + len;
                continue;
            }
            s->skip = len - avail;
            return n;
        }
        if (m[0] == 0xFD)
            ctx->st->smb2_encrypted++;
        /* TRANSFORM and COMPRESSION_TRANSFORM: skipped whole. */
        if (avail >= len) {
            used += 4 + len;
            continue;
        }
        s->skip = len - avail;
        return n;
    }
    return used;
}

static void *nbss_state_new(struct hs_ctx *ctx)
{
    (void)ctx;
    return calloc(1, sizeof(struct nbss_state));
}

/* The connection ended: the pipes' DCE/RPC streams end with it (their buffers count in the context's budget). */
static void nbss_eof(struct hs_ctx *ctx, void *state)
{
    struct nbss_state *ns = state;
    smb_pipes_free(ns->pipes, ctx);
    ns->pipes = NULL;
}

/* Called after nbss_eof (the engine always ends a connection so), which freed the pipes. */
static void nbss_state_free(void *state)
{
    struct nbss_state *ns = state;
    if (ns) {
        smb2_state_free(ns->smb2);
        smb1_state_free(ns->smb1);
    }
    free(ns);
}

static const uint16_t nbss_ports[] = {139, 445, 0};

const struct hs_dissector dis_nbss = {
    .name = "nbss",
    .transport = 6,
    .ports = nbss_ports,
    .probe = nbss_probe,
    .threshold = 80,
    .state_new = nbss_state_new,
    .state_free = nbss_state_free,
    .parse = nbss_parse,
    .eof = nbss_eof,
};
