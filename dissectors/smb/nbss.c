/* NetBIOS session service framing — RFC 1002 4.3.1 (port 139) and MS-SMB2 2.1 direct TCP (port 445). */
#include <string.h>

#include "engine.h"
#include "reader.h"
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

#define SMB2_HEADER_LEN 64

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

/* Is the SMB2 message whose header starts at h worth reading whole? */
static bool smb2_wanted(const uint8_t *h)
{
    uint16_t cmd = ld_u16le(h + 12);
    uint32_t next = ld_u32le(h + 20);
    return cmd <= SMB2_TREE_CONNECT || next != 0;
}

size_t nbss_parse(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n,
                  struct app_dir *ad)
{
    size_t used = 0;
    if (ad->resync) {
        long at = find_frame(p, n);
        if (at < 0)
            return n > 7 ? n - 7 : 0; /* keep a tail that may hold the start of a header */
        ad->resync = false;
        used = (size_t)at;
    }
    while (n - used >= 4) {
        const uint8_t *f = p + used;
        uint8_t type = f[0];
        uint32_t len = (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
        size_t avail = n - used - 4;
        if (type != NBSS_SESSION_MESSAGE) {
            if (type < NBSS_SESSION_REQUEST || type > NBSS_KEEP_ALIVE || len > 1024) {
                e->st.malformed[DIS_NBSS]++;
                ad->resync = true;
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
            e->st.malformed[DIS_NBSS]++;
            ad->resync = true;
            return used + 1;
        }
        if (m[0] == 0xFE) {
            if (len < SMB2_HEADER_LEN) {
                e->st.malformed[DIS_SMB2]++;
                if (avail < len)
                    return used;
                used += 4 + len;
                continue;
            }
            if (avail < SMB2_HEADER_LEN)
                return used;
            if (smb2_wanted(m) && 4 + (size_t)len <= e->lim.max_pdu) { /* buffered with its header */
                if (avail < len)
                    return used;
                smb2_message(e, c, dir, m, len);
                used += 4 + len;
                continue;
            }
            if (4 + (size_t)len > e->lim.max_pdu && smb2_wanted(m))
                e->st.pdu_oversize++;
            /* Bulk (READ/WRITE/...): the header was enough; skip the rest without buffering it. */
            if (avail >= len) {
                used += 4 + len;
                continue;
            }
            ad->skip = len - avail;
            return n;
        }
        if (m[0] == 0xFD)
            e->st.smb2_encrypted++;
        /* SMB1 (not dissected yet), TRANSFORM and COMPRESSION_TRANSFORM: skipped whole. */
        if (avail >= len) {
            used += 4 + len;
            continue;
        }
        ad->skip = len - avail;
        return n;
    }
    return used;
}
