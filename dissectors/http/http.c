/* HTTP/1.1 — RFC 9112 (framing, chunked), RFC 9110 11 (authentication), RFC 4559 (Negotiate), MS-WSMV. */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mech.h"
#include "reader.h"
#include "spnego.h"
#include "util.h"

#define HTTP_QUEUE_MAX 32
#define HTTP_LINE_MAX 4096 /* a chunk-size or trailer line longer than this is malformed */
/* A Content-Length above this (1 TiB) is a lie, not a body to skip: counted as malformed, and the direction
 * hunts for its next message instead of taking the rest of the connection for body. */
#define HTTP_CLEN_MAX (1ull << 40)

enum body_state {
    BODY_NONE = 0,       /* expecting a header block */
    BODY_CHUNK_SIZE,     /* expecting a chunk-size line */
    BODY_CHUNK_DATA_END, /* expecting the CRLF after chunk data */
    BODY_TRAILER,        /* trailer fields until an empty line */
    BODY_UNTIL_CLOSE,    /* response without length: the rest of the direction */
};

/* What a request's Authorization header did to its record. */
enum auth_leg {
    LEG_NONE = 0,
    LEG_START,   /* a first leg: NTLM NEGOTIATE, SPNEGO init without a final token */
    LEG_FINAL,   /* NTLM AUTHENTICATE, Kerberos AP-REQ, Basic credentials */
    LEG_CREDSSP, /* one CredSSP (TLS-wrapped) leg */
};

struct http_req {
    char method[16];
    char path[USE_NAME_MAX];
    uint64_t frame;
    uint64_t rec;  /* id of its record, 0 if none */
    enum auth_leg leg;
    bool is_use;
};

struct http_state {
    /* Requests awaiting their response, a ring of qcap entries grown on demand up to HTTP_QUEUE_MAX (most
     * connections never have more than one: a fixed ring of 32 made every connection cost 9.6 KB). */
    struct http_req *q;
    uint32_t qcap, qhead, qlen;
    uint64_t cur; /* id of the connection's latest record (NTLM over HTTP is connection-bound) */
    enum body_state body[2];
    /* Bytes of an incomplete header block already searched for its end. The engine calls again from
     * the same message start with more bytes, so the search resumes there: rescanning from the start
     * would cost O(n^2) for a block fed a few bytes per segment up to the PDU cap. */
    size_t hdr_scanned[2];
    bool upgraded; /* 101 Switching Protocols: the rest of both directions is skipped */
    /* A message whose body is still to come. Wireshark numbers an HTTP message by the segment that
     * completes it, body included (http.desegment_body), so what its header stamped moves there. */
    struct {
        uint64_t frame;       /* the frame that completed the header block; 0: nothing pending */
        uint64_t rec;         /* id of the record whose frames it stamped */
        struct http_req *q;   /* the request (dir 0) */
        uint32_t use;         /* the use it answered (dir 1): its index in rec->uses + 1, or 0 (an index,
                                 as the array moves when it grows) */
    } pend[2];
};

static const char *const methods[] = {
    "GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL",
    "COPY", "MOVE", "LOCK", "UNLOCK", "TRACE", "CONNECT", "SEARCH", "REPORT", "RPC_IN_DATA",
    "RPC_OUT_DATA", NULL,
};


/* Length of the method token at p if it is a known method followed by a space, else 0. */
static size_t method_len(const uint8_t *p, size_t n)
{
    for (int i = 0; methods[i]; i++) {
        size_t k = strlen(methods[i]);
        if (n > k && memcmp(p, methods[i], k) == 0 && p[k] == ' ')
            return k;
    }
    return 0;
}

int http_probe(const uint8_t *p, size_t n)
{
    if (n >= 8 && memcmp(p, "HTTP/1.", 7) == 0)
        return 100;
    if (method_len(p, n))
        return 90;
    return 0;
}

/* Is p[0..n) a whole, well-formed start line of direction dir ("METHOD SP target SP HTTP/1.x"
 * or "HTTP/1.x SP 3DIGIT ...")? 1 yes, 0 no, -1 cut short before its end of line. */
static int start_line_ok(const uint8_t *p, size_t n, int dir)
{
    size_t lim = n < HTTP_LINE_MAX ? n : HTTP_LINE_MAX;
    const uint8_t *nl = memchr(p, '\n', lim);
    if (!nl)
        return n < HTTP_LINE_MAX ? -1 : 0;
    size_t l = (size_t)(nl - p);
    if (l && p[l - 1] == '\r')
        l--;
    if (dir == 1)
        return l >= 12 && memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1') && p[8] == ' ' &&
               p[9] >= '0' && p[9] <= '9' && p[10] >= '0' && p[10] <= '9' && p[11] >= '0' && p[11] <= '9' &&
               (l == 12 || p[12] == ' ');
    size_t m = method_len(p, l), i = m + 1;
    if (!m)
        return 0;
    while (i < l && p[i] > ' ' && p[i] < 0x7f)
        i++;
    return i > m + 1 && l - i == 9 && memcmp(p + i, " HTTP/1.", 8) == 0 && (p[i + 8] == '0' || p[i + 8] == '1');
}

/*
 * Offset of the first message start of direction dir in p[0..n), or -1. A start at a line start
 * (0 or after '\n') is taken on its first word; elsewhere (a message right after a body that
 * did not end with a newline) only a whole, well-formed start line counts. With -1, *keep is
 * where the unconsumed tail begins: a start line that may still be cut short, or the last 16 bytes.
 */
static long find_message(const uint8_t *p, size_t n, int dir, size_t *keep)
{
    *keep = n > 16 ? n - 16 : 0;
    for (size_t i = 0; i < n; i++) {
        bool cand = dir == 1 ? (n - i >= 8 && memcmp(p + i, "HTTP/1.", 7) == 0) : method_len(p + i, n - i) > 0;
        if (!cand)
            continue;
        if (i == 0 || p[i - 1] == '\n')
            return (long)i;
        int ok = start_line_ok(p + i, n - i, dir);
        if (ok > 0)
            return (long)i;
        if (ok < 0) {
            /* keep the byte before it too, so it is not taken for a line start next time */
            if (i - 1 < *keep)
                *keep = i - 1;
            break;
        }
    }
    return -1;
}

/* Finds the end of the header block, searching from offset from: returns the length including the blank
 * line, or 0. */
static size_t header_end(const uint8_t *p, size_t n, size_t from)
{
    for (size_t i = from; i + 1 < n; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n')
            return i + 2;
        if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* One header line "name: value", trimmed. */
struct hline {
    const char *name;
    size_t nlen;
    const char *val;
    size_t vlen;
};

/* Splits the block into lines; calls back per field. Returns false on a malformed field line. */
static bool next_line(const char **cur, const char *end, const char **line, size_t *len)
{
    if (*cur >= end)
        return false;
    const char *nl = memchr(*cur, '\n', (size_t)(end - *cur));
    const char *e = nl ? nl : end;
    *line = *cur;
    *len = (size_t)(e - *cur);
    if (*len && (*line)[*len - 1] == '\r')
        (*len)--;
    *cur = nl ? nl + 1 : end;
    return true;
}

static bool parse_field(const char *l, size_t n, struct hline *h)
{
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l)
        return false;
    h->name = l;
    h->nlen = (size_t)(colon - l);
    const char *v = colon + 1, *ve = l + n;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    h->val = v;
    h->vlen = (size_t)(ve - v);
    return true;
}

/* A Content-Length value (RFC 9110 8.6: 1*DIGIT) of n bytes at s; false if empty, not all digits,
 * or over HTTP_CLEN_MAX. The value is not NUL-terminated, so it must not go to strtoull(), which would run
 * past the line (and skip the CRLF after an empty value into the next message or past the buffer). */
static bool parse_content_length(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > HTTP_CLEN_MAX)
        return false;
    *out = v;
    return true;
}

static bool name_is(const struct hline *h, const char *name)
{
    return h->nlen == strlen(name) && strncasecmp(h->name, name, h->nlen) == 0;
}

/* Decodes a base64 token into the context's scratch buffer and parses it as a GSS token. */
static bool decode_token(struct hs_ctx *ctx, const char *b64, size_t n, struct gss_token *t)
{
    long k = base64_decode(b64, n, ctx->scratch, ctx->scratch_cap);
    if (k <= 0) {
        ctx->st->malformed[DIS_HTTP]++;
        return false;
    }
    return gss_blob_parse(ctx, ctx->scratch, (size_t)k, t) == 0;
}

static bool scheme_is_gss(const char *s, size_t n)
{
    return (n == 4 && !strncasecmp(s, "NTLM", 4)) || (n == 9 && !strncasecmp(s, "Negotiate", 9)) ||
           (n == 8 && !strncasecmp(s, "Kerberos", 8));
}

static bool is_winrm(const struct hs_flow *f, const char *path)
{
    return f->srv.port == 5985 || f->srv.port == 5986 || has_prefix_ci(path, strlen(path), "/wsman");
}

static void on_authorization(struct hs_ctx *ctx, struct http_state *s, struct http_req *q,
                             const struct hline *h)
{
    const char *sp = memchr(h->val, ' ', h->vlen);
    size_t slen = sp ? (size_t)(sp - h->val) : h->vlen;
    const char *tok = sp ? sp + 1 : h->val + h->vlen;
    size_t tlen = h->vlen - (size_t)(tok - h->val);
    while (tlen && *tok == ' ') {
        tok++;
        tlen--;
    }
    struct auth_rec *r = NULL;
    if (scheme_is_gss(h->val, slen)) {
        struct gss_token t;
        if (!tlen || !decode_token(ctx, tok, tlen, &t))
            return;
        r = ctx_auth_get(ctx, s->cur);
        if (!r || !r->h.open || gss_token_starts(&t))
            r = ctx_auth_new(ctx, TRANSPORT_HTTP);
        if (!r)
            return;
        strlcpy_n(r->http.scheme, sizeof r->http.scheme, h->val, slen);
        gss_apply(ctx, r, &t, 0, slen == 4);
        q->leg = gss_token_is_final(&t) ? LEG_FINAL : LEG_START;
    } else if (slen == 5 && !strncasecmp(h->val, "Basic", 5)) {
        r = ctx_auth_new(ctx, TRANSPORT_HTTP);
        if (!r)
            return;
        strlcpy_n(r->http.scheme, sizeof r->http.scheme, "Basic", 5);
        r->gss.mech = AMECH_BASIC;
        long k = base64_decode(tok, tlen, ctx->scratch, ctx->scratch_cap);
        if (k > 0) {
            /* user-id ":" password (RFC 7617 2): keep the user-id only, never the password. */
            const uint8_t *colon = memchr(ctx->scratch, ':', (size_t)k);
            size_t ulen = colon ? (size_t)(colon - ctx->scratch) : 0;
            oem_to_utf8(ctx->scratch, ulen, r->gss.basic_user, sizeof r->gss.basic_user);
            memset(ctx->scratch, 0, (size_t)k);
        } else {
            ctx->st->malformed[DIS_HTTP]++;
        }
        q->leg = LEG_FINAL;
    } else if (slen == 7 && !strncasecmp(h->val, "CredSSP", 7)) {
        r = ctx_auth_get(ctx, s->cur);
        if (!r || !r->h.open || r->gss.mech != AMECH_CREDSSP)
            r = ctx_auth_new(ctx, TRANSPORT_HTTP);
        if (!r)
            return;
        strlcpy_n(r->http.scheme, sizeof r->http.scheme, "CredSSP", 7);
        r->gss.mech = AMECH_CREDSSP;
        q->leg = LEG_CREDSSP;
    } else {
        return; /* Bearer, Digest, ...: not authentication hopscope reports (yet) */
    }
    if (is_winrm(ctx->flow, q->path))
        r->http.winrm = true;
    q->rec = r->h.id;
    s->cur = r->h.id;
}

/* The body of the message in direction dir is complete in this frame: renumber what its header stamped. */
static void restamp(struct hs_ctx *ctx, struct http_state *s, int dir)
{
    uint64_t f = s->pend[dir].frame;
    struct auth_rec *r = ctx_auth_get(ctx, s->pend[dir].rec);
    if (r)
        r->h.hold &= (uint8_t)~(1u << dir);
    if (f && f != ctx->frame) {
        if (r) {
            uint64_t *fr[] = {&r->frames.negotiate, &r->frames.challenge, &r->frames.authenticate,
                              &r->frames.verdict, &r->frames.ap_req, &r->frames.ap_rep};
            for (size_t i = 0; i < sizeof fr / sizeof *fr; i++)
                if (*fr[i] == f)
                    *fr[i] = ctx->frame;
        }
        if (s->pend[dir].q && s->pend[dir].q->frame == f)
            s->pend[dir].q->frame = ctx->frame;
        if (r && s->pend[dir].use && s->pend[dir].use <= r->nuses && r->uses[s->pend[dir].use - 1].frame_resp == f)
            r->uses[s->pend[dir].use - 1].frame_resp = ctx->frame;
    }
    memset(&s->pend[dir], 0, sizeof s->pend[dir]);
}

static void body_done(struct hs_ctx *ctx, void *state, int dir)
{
    restamp(ctx, state, dir);
}

/* The header block of a message with a body was just parsed: what it stamped waits for the body. */
/* What a message whose body was being read had stamped is left as it is (a gap or a resync lost the body's end):
 * its record is not held back any more. */
static void pend_drop(struct hs_ctx *ctx, struct http_state *s, int dir)
{
    struct auth_rec *pr = s->pend[dir].rec ? ctx_auth_get(ctx, s->pend[dir].rec) : NULL;
    if (pr)
        pr->h.hold &= (uint8_t)~(1u << dir);
    memset(&s->pend[dir], 0, sizeof s->pend[dir]);
}

static void pend_body(struct hs_ctx *ctx, struct http_state *s, int dir, struct auth_rec *r, struct http_req *q,
                      struct auth_use *u)
{
    pend_drop(ctx, s, dir); /* an earlier one never finished */
    s->pend[dir].frame = ctx->frame;
    s->pend[dir].rec = r ? r->h.id : 0;
    if (r)
        r->h.hold |= (uint8_t)(1u << dir); /* not streamed before its frames are renumbered (restamp) */
    s->pend[dir].q = q;
    s->pend[dir].use = u && r ? (uint32_t)(u - r->uses) + 1 : 0;
}

/* Doubles the request ring (2 entries at first) up to HTTP_QUEUE_MAX, keeping its order and the pending
 * body's pointer into it. False at the cap or without memory (the ring is then unchanged). */
static bool queue_grow(struct http_state *s)
{
    if (s->qcap >= HTTP_QUEUE_MAX)
        return false;
    uint32_t nc = s->qcap ? 2 * s->qcap : 2;
    struct http_req *nq = malloc(nc * sizeof *nq);
    if (!nq)
        return false;
    struct http_req *pq = s->pend[0].q;
    for (uint32_t i = 0; i < s->qlen; i++) {
        struct http_req *old = &s->q[(s->qhead + i) % s->qcap];
        nq[i] = *old;
        if (pq == old)
            s->pend[0].q = &nq[i];
    }
    if (pq && s->pend[0].q == pq) /* it pointed at a slot no longer queued: nothing left to restamp there */
        s->pend[0].q = NULL;
    free(s->q);
    s->q = nq;
    s->qcap = nc;
    s->qhead = 0;
    return true;
}

static void on_request(struct hs_ctx *ctx, struct http_state *s, const char *blk, size_t n,
                       struct hs_stream *ad)
{
    const char *cur = blk, *end = blk + n, *line = blk;
    size_t llen = 0;
    next_line(&cur, end, &line, &llen);
    size_t ml = method_len((const uint8_t *)line, llen);
    const char *tgt = line + ml + 1;
    const char *tend = memchr(tgt, ' ', llen - ml - 1);
    if (!ml || !tend) {
        ctx->st->malformed[DIS_HTTP]++;
        return;
    }
    if (s->qlen == s->qcap && !queue_grow(s) && !s->qcap)
        return; /* no memory for even one: the request goes untracked */
    if (s->qlen == s->qcap) { /* unanswered pipelining beyond the cap: oldest forgotten */
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
    }
    struct http_req *q = &s->q[(s->qhead + s->qlen++) % s->qcap];
    memset(q, 0, sizeof *q);
    strlcpy_n(q->method, sizeof q->method, line, ml);
    strlcpy_n(q->path, sizeof q->path, tgt, (size_t)(tend - tgt));
    q->frame = ctx->frame;

    uint64_t clen = 0;
    bool chunked = false, bad_clen = false;
    struct hline h;
    while (next_line(&cur, end, &line, &llen)) {
        if (llen == 0)
            break;
        if (!parse_field(line, llen, &h))
            continue;
        if (name_is(&h, "Authorization"))
            on_authorization(ctx, s, q, &h);
        else if (name_is(&h, "Content-Length") && !parse_content_length(h.val, h.vlen, &clen))
            bad_clen = true, ctx->st->malformed[DIS_HTTP]++;
        else if (name_is(&h, "Transfer-Encoding") && h.vlen >= 7 &&
                 !strncasecmp(h.val + h.vlen - 7, "chunked", 7))
            chunked = true;
    }
    struct auth_rec *last = ctx_auth_get(ctx, s->cur);
    if (!q->rec && last && last->result == RESULT_SUCCESS) {
        q->rec = last->h.id;
        q->is_use = true;
    }
    if (bad_clen) { /* where this message ends is unknown: hunt for the next one */
        ad->resync = true;
        return;
    }
    if (chunked || clen)
        pend_body(ctx, s, 0, ctx_auth_get(ctx, q->rec), q, NULL);
    if (chunked) {
        s->body[0] = BODY_CHUNK_SIZE;
    } else if (clen) {
        ad->skip = clen;
        ad->skip_done = body_done;
    }
}

static struct auth_use *record_use(struct hs_ctx *ctx, struct auth_rec *r, const struct http_req *q,
                                   uint32_t status)
{
    struct auth_use *u = rec_use_add(ctx->recs, r, ctx->frame);
    if (!u)
        return NULL;
    strlcpy_n(u->name, sizeof u->name, q->path, sizeof q->path);
    strlcpy_n(u->method, sizeof u->method, q->method, sizeof q->method);
    u->frame_req = q->frame;
    u->frame_resp = ctx->frame;
    u->status = hs_status_of(STATUS_HTTP, status);
    u->answered = true;
    return u;
}

static void on_response(struct hs_ctx *ctx, struct http_state *s, const char *blk, size_t n,
                        struct hs_stream *ad)
{
    const char *cur = blk, *end = blk + n, *line = blk;
    size_t llen = 0;
    next_line(&cur, end, &line, &llen);
    /* status-line = HTTP-version SP status-code SP [reason-phrase] */
    uint32_t status = 0;
    bool ok = llen >= 12 && line[8] == ' ';
    for (int i = 9; ok && i < 12; i++) {
        ok = line[i] >= '0' && line[i] <= '9';
        status = status * 10 + (uint32_t)(line[i] - '0');
    }
    if (!ok) {
        ctx->st->malformed[DIS_HTTP]++;
        /* Still a response: it answered the oldest request, which must not pair with the next. */
        if (s->qlen) {
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qlen--;
        }
        return;
    }
    struct http_req none = {0};
    struct http_req *q = &none;
    bool interim = status >= 100 && status < 200 && status != 101;
    if (s->qlen)
        q = &s->q[s->qhead];
    if (!interim && s->qlen) {
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
    }
    struct auth_rec *r = ctx_auth_get(ctx, q->rec ? q->rec : (s->qlen == 0 && q == &none ? s->cur : 0));

    uint64_t clen = 0;
    bool chunked = false, have_clen = false, bad_clen = false, challenge = false;
    struct hline h;
    while (next_line(&cur, end, &line, &llen)) {
        if (llen == 0)
            break;
        if (!parse_field(line, llen, &h))
            continue;
        if (name_is(&h, "WWW-Authenticate")) {
            const char *sp = memchr(h.val, ' ', h.vlen);
            size_t slen = sp ? (size_t)(sp - h.val) : h.vlen;
            if (!sp || !r)
                continue;
            const char *tok = sp + 1;
            size_t tlen = h.vlen - slen - 1;
            if (scheme_is_gss(h.val, slen)) {
                struct gss_token t;
                if (decode_token(ctx, tok, tlen, &t)) {
                    gss_apply(ctx, r, &t, 1, slen == 4);
                    challenge = true;
                }
            } else if (slen == 7 && !strncasecmp(h.val, "CredSSP", 7)) {
                challenge = true;
            }
        } else if (name_is(&h, "Content-Length")) {
            if (parse_content_length(h.val, h.vlen, &clen))
                have_clen = true;
            else
                bad_clen = true, ctx->st->malformed[DIS_HTTP]++;
        } else if (name_is(&h, "Transfer-Encoding") && h.vlen >= 7 &&
                   !strncasecmp(h.val + h.vlen - 7, "chunked", 7)) {
            chunked = true;
        }
    }

    struct auth_use *u = NULL;
    if (!interim && r && r->h.open && (q->leg != LEG_NONE || q == &none)) {
        bool rejected = r->gss.spnego.neg_state == NEG_STATE_REJECT || r->gss.krb.error;
        if (q->leg == LEG_FINAL || q == &none) {
            rec_auth_verdict(r, ctx->frame, status == 401 || rejected ? RESULT_FAILURE : RESULT_SUCCESS, hs_status_of(STATUS_HTTP, status), VERDICT_HTTP_STATUS);
            if (q != &none)
                u = record_use(ctx, r, q, status);
        } else if (!(status == 401 && challenge)) {
            /* A first leg the server did not answer with a challenge: the attempt ended here. */
            rec_auth_verdict(r, ctx->frame, status == 401 || rejected ? RESULT_FAILURE : RESULT_SUCCESS, hs_status_of(STATUS_HTTP, status), VERDICT_HTTP_STATUS);
            if (status != 401)
                u = record_use(ctx, r, q, status);
        }
    } else if (!interim && r && q->is_use) {
        u = record_use(ctx, r, q, status);
    }

    bool no_body = interim || status == 204 || status == 304 || strcmp(q->method, "HEAD") == 0;
    if (status == 101) {
        /* The connection now speaks something else: neither direction is HTTP any more. */
        s->body[0] = s->body[1] = BODY_UNTIL_CLOSE;
        s->upgraded = true;
    } else if (no_body) {
        return;
    } else if (bad_clen) { /* where this message ends is unknown: hunt for the next one */
        ad->resync = true;
    } else if (chunked) {
        pend_body(ctx, s, 1, r, NULL, u);
        s->body[1] = BODY_CHUNK_SIZE;
    } else if (have_clen) {
        if (clen) {
            pend_body(ctx, s, 1, r, NULL, u);
            ad->skip = clen;
            ad->skip_done = body_done;
        }
    } else {
        s->body[1] = BODY_UNTIL_CLOSE;
    }
}

/*
 * chunk-size (RFC 9112 7.1: 1*HEXDIG, then optional chunk extensions after ";" or whitespace) from the
 * line p[0..n). False for no digit, a sign, "0x", or a size that does not fit 60 bits (a body no capture
 * holds). strtoull() would take "-1" (all ones: the direction blinded) and "0x10".
 */
static bool parse_chunk_size(const uint8_t *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n; i++) {
        int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0'
              : p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10
              : p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 10 : -1;
        if (d < 0)
            break;
        if (v >> 60)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    if (i == 0 || (i < n && p[i] != ';' && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n'))
        return false;
    *out = v;
    return true;
}

/* Finds '\n' in p[0..n): returns the line length including it, or 0. */
static size_t line_len(const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);
    return nl ? (size_t)(nl - p) + 1 : 0;
}

/*
 * Parses HTTP/1.x messages from n in-order bytes at p, direction dir (0 requests, 1 responses): the header
 * block is parsed whole (it must fit lim.max_pdu); bodies, whether Content-Length, chunked or
 * read-until-close, are skipped without buffering. Returns the bytes consumed, 0 when a header block or
 * chunk-size line is incomplete. Malformed messages are counted (DIS_HTTP) and the stream resynchronised.
 */
static size_t http_parse(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n,
                         struct hs_stream *ad)
{
    struct http_state *s = state;
    size_t used = 0;
    if (s->upgraded) {
        ad->skip = UINT64_MAX;
        return n;
    }
    if (ad->resync) {
        size_t keep;
        long at = find_message(p, n, dir, &keep);
        if (at < 0)
            return keep;
        ad->resync = false;
        s->body[dir] = BODY_NONE;
        s->hdr_scanned[dir] = 0;
        pend_drop(ctx, s, dir);
        used = (size_t)at;
    }
    while (used < n && ad->skip == 0) {
        const uint8_t *q = p + used;
        size_t left = n - used;
        switch (s->body[dir]) {
        case BODY_UNTIL_CLOSE:
            ad->skip = UINT64_MAX;
            return n;
        case BODY_CHUNK_SIZE: {
            size_t l = line_len(q, left);
            if (!l) {
                if (left > HTTP_LINE_MAX)
                    goto malformed;
                return used;
            }
            uint64_t sz;
            if (!parse_chunk_size(q, l, &sz))
                goto malformed;
            used += l;
            if (sz == 0) {
                s->body[dir] = BODY_TRAILER;
            } else {
                s->body[dir] = BODY_CHUNK_DATA_END;
                ad->skip = sz;
            }
            break;
        }
        case BODY_CHUNK_DATA_END:
        case BODY_TRAILER: {
            size_t l = line_len(q, left);
            if (!l) {
                if (left > HTTP_LINE_MAX)
                    goto malformed;
                return used;
            }
            bool empty = l == 1 || (l == 2 && q[0] == '\r');
            used += l;
            if (s->body[dir] == BODY_CHUNK_DATA_END) {
                if (!empty)
                    goto malformed;
                s->body[dir] = BODY_CHUNK_SIZE;
            } else if (empty) {
                s->body[dir] = BODY_NONE;
                restamp(ctx, s, dir); /* the last chunk's trailer: the message is complete */
            }
            break;
        }
        case BODY_NONE: {
            /* "\n\r\n" starting up to 2 bytes before the end of the last search may not have been seen */
            size_t from = s->hdr_scanned[dir] > 2 && s->hdr_scanned[dir] - 2 < left ? s->hdr_scanned[dir] - 2 : 0;
            size_t l = header_end(q, left, from);
            if (!l) {
                s->hdr_scanned[dir] = left;
                return used;
            }
            s->hdr_scanned[dir] = 0;
            if (dir == 0 ? !method_len(q, left) : memcmp(q, "HTTP/1.", left < 7 ? left : 7) != 0)
                goto malformed;
            used += l;
            if (dir == 0)
                on_request(ctx, s, (const char *)q, l, ad);
            else
                on_response(ctx, s, (const char *)q, l, ad);
            break;
        }
        }
    }
    return used;
malformed:
    ctx->st->malformed[DIS_HTTP]++;
    ad->resync = true;
    s->body[dir] = BODY_NONE;
    s->hdr_scanned[dir] = 0;
    pend_drop(ctx, s, dir);
    return used + 1;
}

static void *http_state_new(struct hs_ctx *ctx)
{
    (void)ctx;
    return calloc(1, sizeof(struct http_state));
}

static void http_state_free(void *state)
{
    struct http_state *s = state;
    if (s)
        free(s->q);
    free(s);
}

static const uint16_t http_ports[] = {80, 5985, 8080, 0};

const struct hs_dissector dis_http = {
    .name = "http",
    .transport = 6,
    .ports = http_ports,
    .probe = http_probe,
    .threshold = 90,
    .state_new = http_state_new,
    .state_free = http_state_free,
    .parse = http_parse,
};
