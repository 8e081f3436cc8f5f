/* Authentication in protocols hopscope does not dissect (TDS, SMTP/IMAP/POP3 AUTH NTLM or GSSAPI, ...): the
 * first OTHER_SCAN_MAX bytes of each direction of an undissected TCP stream are searched for NTLMSSP messages
 * and GSS-API initial context tokens (SPNEGO or Kerberos), raw or base64; each NEGOTIATE or initial token
 * starts an `auth` record with transport `other`, CHALLENGE and AUTHENTICATE join it. The protocol around
 * them is unknown, so no verdict: the result stays `unknown`. */
#include "other.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "mech.h"
#include "stream.h"
#include "util.h"

static const uint8_t sig_raw[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
static const char sig_b64[] = "TlRMTVNTUA"; /* base64 of "NTLMSSP\0", the first ten characters */

struct other_state {
    uint64_t rec;        /* the current attempt's record id, 0 none */
    uint32_t scanned[2]; /* bytes searched per direction */
};

static bool is_b64(uint8_t c);
static bool gss_b64_start(const uint8_t *p, size_t n);

size_t other_find_gss(const uint8_t *p, size_t n, int *b64)
{
    /* candidates by memchr (vectorised): every stream of an undissected protocol passes here */
    const uint8_t *raw = memchr(p, 0x60, n), *y = memchr(p, 'Y', n);
    while (raw || y) {
        if (raw && (!y || raw < y)) {
            size_t i = (size_t)(raw - p);
            if (other_gss_extent(raw, n - i) != 0) {
                *b64 = 0;
                return i;
            }
            raw = i + 1 < n ? memchr(raw + 1, 0x60, n - i - 1) : NULL;
        } else {
            size_t i = (size_t)(y - p);
            if ((i == 0 || !is_b64(p[i - 1])) && gss_b64_start(y, n - i)) {
                *b64 = 1;
                return i;
            }
            y = i + 1 < n ? memchr(y + 1, 'Y', n - i - 1) : NULL;
        }
    }
    return n;
}

size_t other_find_ntlmssp(const uint8_t *p, size_t n, int *b64)
{
    const uint8_t *r = n >= sizeof sig_raw ? memmem(p, n, sig_raw, sizeof sig_raw) : NULL;
    const uint8_t *b = n >= sizeof sig_b64 - 1 ? memmem(p, n, sig_b64, sizeof sig_b64 - 1) : NULL;
    if (!r && !b)
        return n;
    if (r && (!b || r < b)) {
        *b64 = 0;
        return (size_t)(r - p);
    }
    *b64 = 1;
    return (size_t)(b - p);
}

/* The mechanism OIDs an InitialContextToken names (DER, tag and length included): SPNEGO 1.3.6.1.5.5.2
 * (RFC 4178), Kerberos V5 1.2.840.113554.1.2.2 (RFC 4121) and Microsoft's 1.2.840.48018.1.2.2 (MS-KILE). */
static const uint8_t oid_spnego[] = {0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
static const uint8_t oid_krb5[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_mskrb5[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};

size_t other_gss_extent(const uint8_t *p, size_t n)
{
    if (n < 2 || p[0] != 0x60)
        return 0;
    size_t len, hdr;
    if (p[1] < 0x80) {
        len = p[1], hdr = 2;
    } else if (p[1] >= 0x81 && p[1] <= 0x83) {
        hdr = 2 + (size_t)(p[1] - 0x80);
        if (n < hdr)
            return SIZE_MAX;
        len = 0;
        for (size_t i = 2; i < hdr; i++)
            len = len << 8 | p[i];
        if (len < 128) /* DER: the short form would have done; not a token */
            return 0;
    } else {
        return 0;
    }
    const uint8_t *oids[] = {oid_spnego, oid_krb5, oid_mskrb5};
    const size_t lens[] = {sizeof oid_spnego, sizeof oid_krb5, sizeof oid_mskrb5};
    for (size_t i = 0; i < 3; i++) {
        if (len < lens[i])
            continue;
        size_t have = n - hdr < lens[i] ? n - hdr : lens[i];
        if (!memcmp(p + hdr, oids[i], have))
            return have < lens[i] ? SIZE_MAX : hdr + len;
    }
    return 0;
}

/* Could a base64 run starting at p be an InitialContextToken? Its first byte 0x60 makes 'Y'; the next
 * character holds the length byte's high bits: 'C'..'H' for a short length of 32..127 bytes (shorter is no
 * real token), 'I' for the long forms 0x81..0x83. */
static bool gss_b64_start(const uint8_t *p, size_t n)
{
    return n >= 2 && p[0] == 'Y' && p[1] >= 'C' && p[1] <= 'I';
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t other_ntlmssp_extent(const uint8_t *p, size_t n)
{
    if (n < 12)
        return 0;
    uint32_t type = le32(p + 8);
    static const size_t header[4] = {0, 32, 48, 64};
    static const uint8_t fields1[] = {16, 24}, fields2[] = {12, 40}, fields3[] = {12, 20, 28, 36, 44, 52};
    const uint8_t *f;
    size_t nf;
    switch (type) {
    case 1: f = fields1, nf = sizeof fields1; break;
    case 2: f = fields2, nf = sizeof fields2; break;
    case 3: f = fields3, nf = sizeof fields3; break;
    default: return 0;
    }
    if (n < header[type])
        return 0;
    size_t end = header[type];
    for (size_t i = 0; i < nf; i++) {
        size_t len = (size_t)p[f[i]] | (size_t)p[f[i] + 1] << 8;
        size_t off = le32(p + f[i] + 4);
        if (len && off + len > end)
            end = off + len;
    }
    return end;
}

static bool is_b64(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}

/* One NTLMSSP message (blob) seen in direction dir: into the current record, or a new one. */
static void on_token(struct hs_ctx *ctx, struct other_state *st, int dir, const uint8_t *blob, size_t len)
{
    struct gss_token t;
    if (blob[0] != 0x60) {
        size_t need = other_ntlmssp_extent(blob, len);
        if (need == 0 || need > len) { /* a signature without a whole message after it: nothing to record */
            ctx->st->malformed[DIS_NTLMSSP]++;
            return;
        }
    }
    if (gss_blob_parse(ctx, blob, len, &t) != 0)
        return;
    struct auth_rec *r = st->rec ? ctx_auth_get(ctx, st->rec) : NULL;
    if (!r || (dir == 0 && gss_token_starts(&t))) {
        r = ctx_auth_new(ctx, TRANSPORT_OTHER);
        if (!r)
            return;
        st->rec = r->h.id;
    }
    gss_apply(ctx, r, &t, dir, true);
}

static size_t other_parse(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n, struct hs_stream *s)
{
    struct other_state *st = state;
    size_t done = 0;
    while (done < n) {
        int b64 = 0, gb64 = 0;
        size_t at = done + other_find_ntlmssp(p + done, n - done, &b64);
        size_t gat = done + other_find_gss(p + done, (at < n ? at : n) - done, &gb64);
        bool gss = gat < at;
        if (gss) {
            at = gat;
            b64 = gb64;
        }
        if (at >= n)
            break;
        const uint8_t *m = p + at;
        size_t avail = n - at;
        if (gss && !b64) {
            size_t need = other_gss_extent(m, avail);
            if (need == SIZE_MAX) /* the token's header is still coming */
                return st->scanned[dir] + at < OTHER_SCAN_MAX ? at : n;
            /* no token after all: the search saw fewer bytes (up to an NTLMSSP signature) than are here, and
             * what looked like a cut-off header is none; or too long to hold */
            if (need == 0 || need > ctx->lim->max_pdu) {
                done = at + 1;
                continue;
            }
            if (need > avail) /* the rest of the token is still coming (buffered by the stream) */
                return at;
            on_token(ctx, st, dir, m, need);
            done = at + need;
        } else if (!b64) {
            size_t need = other_ntlmssp_extent(m, avail);
            if (need == 0 && avail < 64) /* the header is still coming */
                return st->scanned[dir] + at < OTHER_SCAN_MAX ? at : n;
            if (need == 0 || need > ctx->lim->max_pdu) { /* not an NTLMSSP message after all */
                done = at + sizeof sig_raw;
                continue;
            }
            if (need > avail) /* the rest of the message is still coming (buffered by the stream) */
                return at;
            on_token(ctx, st, dir, m, need);
            done = at + need;
        } else {
            size_t len = 0;
            while (len < avail && is_b64(m[len]))
                len++;
            if (len == avail && len < ctx->scratch_cap / 4 * 3 - 4) /* the token may go on in the next bytes */
                return at;
            long k = base64_decode((const char *)m, len, ctx->scratch, ctx->scratch_cap);
            if (k > 0 && (!gss || other_gss_extent(ctx->scratch, (size_t)k) == (size_t)k))
                on_token(ctx, st, dir, ctx->scratch, (size_t)k);
            done = at + (len ? len : 1);
        }
    }
    /* keep the last bytes: a signature may go on in the next delivery ("NTLMS" | "SP\0", "Y" | "II...") */
    size_t keep = sizeof sig_b64 - 2;
    size_t used = done > n - (n < keep ? n : keep) ? done : n - (n < keep ? n : keep);
    st->scanned[dir] += (uint32_t)(used < OTHER_SCAN_MAX ? used : OTHER_SCAN_MAX);
    if (st->scanned[dir] >= OTHER_SCAN_MAX) {
        s->dead = true; /* past the login phase: the rest of this direction is not searched */
        return n;
    }
    return used;
}

static void *other_new(struct hs_ctx *ctx)
{
    (void)ctx;
    return calloc(1, sizeof(struct other_state));
}

const struct hs_dissector dis_other = {
    .name = "other",
    .transport = 6,
    .state_new = other_new,
    .state_free = free,
    .parse = other_parse,
};
