/* Capture input as a byte stream: gzip (RFC 1952), zstd (RFC 8878) and LZ4 frame inputs decompressed on the fly. */
#include "instream.h"

#include "interrupt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#define IN_CHUNK (64u * 1024u)
#define OUT_CHUNK (256u * 1024u)

struct cookie {
    FILE *raw;
    enum instream_codec codec;
    uint64_t raw_pos;
    uint8_t *in;                  /* compressed bytes read, [in_off, in_len) not yet used */
    size_t in_len, in_off;
    bool raw_eof;
    uint8_t *out;                 /* decompressed bytes, [out_off, out_len) not yet handed out */
    size_t out_len, out_off;
    bool end;                     /* no more output: end of input, or an error */
    bool frame_open;              /* inside a gzip member / zstd frame / lz4 frame (EOF here is truncation) */
    char err[96];
    z_stream z;
    bool z_init;
    ZSTD_DStream *zs;
    LZ4F_dctx *lz;
};

static bool refill_in(struct cookie *c)
{
    if (c->in_off < c->in_len)
        return true;
    if (c->raw_eof)
        return false;
    /* read(2), not fread: from a pipe, what is there now (a live `tcpdump -w - | hopscope -r -`). */
    ssize_t n;
    n = intr_read_fd(fileno(c->raw), c->in, IN_CHUNK); /* a signal ends the wait on an idle pipe */
    c->in_len = n > 0 ? (size_t)n : 0;
    c->in_off = 0;
    if (n <= 0) {
        c->raw_eof = true;
        if (n < 0)
            snprintf(c->err, sizeof c->err, "read error: %s", strerror(errno));
        return false;
    }
    c->raw_pos += (uint64_t)n;
    return true;
}

/* Decompresses (or copies) into out until some output is there or the input ends. */
static void fill(struct cookie *c)
{
    c->out_off = c->out_len = 0;
    while (!c->end && c->out_len == 0) {
        if (!refill_in(c)) {
            c->end = true;
            if (c->frame_open && !c->err[0])
                snprintf(c->err, sizeof c->err, "compressed data ends in the middle of a frame");
            break;
        }
        size_t avail = c->in_len - c->in_off;
        const uint8_t *src = c->in + c->in_off;
        switch (c->codec) {
        case INSTREAM_PLAIN: {
            size_t n = avail < OUT_CHUNK ? avail : OUT_CHUNK;
            memcpy(c->out, src, n);
            c->in_off += n;
            c->out_len = n;
            break;
        }
        case INSTREAM_GZIP: {
            if (!c->frame_open) {
                if (inflateReset(&c->z) != Z_OK) {
                    snprintf(c->err, sizeof c->err, "gzip: cannot start a member");
                    c->end = true;
                    break;
                }
                c->frame_open = true;
            }
            c->z.next_in = (Bytef *)src;
            c->z.avail_in = (uInt)avail;
            c->z.next_out = c->out;
            c->z.avail_out = OUT_CHUNK;
            int rc = inflate(&c->z, Z_NO_FLUSH);
            c->in_off += avail - c->z.avail_in;
            c->out_len = OUT_CHUNK - c->z.avail_out;
            if (rc == Z_STREAM_END) {
                c->frame_open = false; /* another member may follow (concatenated gzip) */
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                snprintf(c->err, sizeof c->err, "gzip: %s", c->z.msg ? c->z.msg : "corrupt data");
                c->end = true;
            }
            break;
        }
        case INSTREAM_ZSTD: {
            ZSTD_inBuffer ib = {src, avail, 0};
            ZSTD_outBuffer ob = {c->out, OUT_CHUNK, 0};
            size_t rc = ZSTD_decompressStream(c->zs, &ob, &ib);
            c->in_off += ib.pos;
            c->out_len = ob.pos;
            if (ZSTD_isError(rc)) {
                snprintf(c->err, sizeof c->err, "zstd: %s", ZSTD_getErrorName(rc));
                c->end = true;
            } else {
                c->frame_open = rc != 0;
            }
            break;
        }
        case INSTREAM_LZ4: {
            size_t dst = OUT_CHUNK, used = avail;
            size_t rc = LZ4F_decompress(c->lz, c->out, &dst, src, &used, NULL);
            c->in_off += used;
            c->out_len = dst;
            if (LZ4F_isError(rc)) {
                snprintf(c->err, sizeof c->err, "lz4: %s", LZ4F_getErrorName(rc));
                c->end = true;
            } else {
                c->frame_open = rc != 0;
            }
            break;
        }
        }
    }
}

static ssize_t cookie_read(void *p, char *buf, size_t size)
{
    struct cookie *c = p;
    size_t done = 0;
    while (done < size) {
        if (c->out_off == c->out_len) {
            if (c->end || done > 0) /* what is there now; the caller asks again */
                break;
            fill(c);
            if (c->out_len == 0)
                break;
        }
        size_t n = c->out_len - c->out_off;
        if (n > size - done)
            n = size - done;
        memcpy(buf + done, c->out + c->out_off, n);
        c->out_off += n;
        done += n;
    }
    if (done == 0 && c->err[0]) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)done;
}

static void cookie_free(struct cookie *c)
{
    if (!c)
        return;
    if (c->z_init)
        inflateEnd(&c->z);
    ZSTD_freeDStream(c->zs);
    if (c->lz)
        LZ4F_freeDecompressionContext(c->lz);
    if (c->raw && c->raw != stdin)
        fclose(c->raw);
    free(c->in);
    free(c->out);
    free(c);
}

static int cookie_close(void *p)
{
    cookie_free(p);
    return 0;
}

static enum instream_codec codec_of(const uint8_t *m, size_t n)
{
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        return INSTREAM_GZIP;
    if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        return INSTREAM_ZSTD;
    if (n >= 4 && m[0] == 0x04 && m[1] == 0x22 && m[2] == 0x4d && m[3] == 0x18)
        return INSTREAM_LZ4;
    return INSTREAM_PLAIN;
}

static const char *codec_name(enum instream_codec k)
{
    return k == INSTREAM_GZIP ? "gzip" : k == INSTREAM_ZSTD ? "zstd" : k == INSTREAM_LZ4 ? "lz4" : "plain";
}

/* Gives f a buffer of INSTREAM_BUFFER bytes (kept in s->vbuf); without memory, f keeps stdio's own. */
static void set_buffer(struct instream *s, FILE *f)
{
    s->vbuf = malloc(INSTREAM_BUFFER);
    if (s->vbuf && setvbuf(f, s->vbuf, _IOFBF, INSTREAM_BUFFER) != 0) {
        free(s->vbuf);
        s->vbuf = NULL;
    }
}

int instream_open(struct instream *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *raw = is_stdin ? stdin : fopen(path, "rb");
    if (!raw) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    bool regular = fstat(fileno(raw), &st) == 0 && S_ISREG(st.st_mode);
    if (regular)
        s->size = (uint64_t)st.st_size;
    uint8_t m[4] = {0};
    size_t nm = 0;
    if (regular) {
        /* pread: the FILE is not touched before its buffer is set. */
        ssize_t got = pread(fileno(raw), m, 4, 0);
        nm = got > 0 ? (size_t)got : 0;
        if (codec_of(m, nm) == INSTREAM_PLAIN) {
            set_buffer(s, raw); /* before the first read: 1 MiB read(2) calls, not st_blksize's 4 KiB */
            if (fseek(raw, 0, SEEK_SET) != 0) {
                snprintf(err, errlen, "%s", strerror(errno));
                if (raw != stdin)
                    fclose(raw);
                instream_forget(s);
                return -1;
            }
            s->f = raw;
            s->seekable = 1;
            memcpy(s->magic, m, 4);
            s->nmagic = nm;
            return 0;
        }
        if (lseek(fileno(raw), 0, SEEK_SET) != 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            if (raw != stdin)
                fclose(raw);
            return -1;
        }
        nm = 0;
    }
    /* A stream (or a compressed file): wrapped. The codec comes from the first raw bytes, which the cookie
     * then hands to the decompressor as its first input. */
    struct cookie *c = calloc(1, sizeof *c);
    if (c) {
        c->in = malloc(IN_CHUNK);
        c->out = malloc(OUT_CHUNK);
    }
    if (!c || !c->in || !c->out) {
        snprintf(err, errlen, "out of memory");
        cookie_free(c);
        if (!c && raw != stdin)
            fclose(raw);
        return -1;
    }
    c->raw = raw;
    /* Read up to 4 raw bytes (a pipe may give them in pieces), with read(2) as refill_in() does. */
    while (c->in_len < 4) {
        ssize_t n = intr_read_fd(fileno(raw), c->in + c->in_len, 4 - c->in_len);
        if (n <= 0)
            break;
        c->in_len += (size_t)n;
    }
    c->raw_pos = c->in_len;
    c->codec = codec_of(c->in, c->in_len);
    bool ok = true;
    switch (c->codec) {
    case INSTREAM_GZIP:
        ok = inflateInit2(&c->z, 15 + 16) == Z_OK; /* 15 + 16: a gzip wrapper, not zlib's */
        c->z_init = ok;
        break;
    case INSTREAM_ZSTD:
        c->zs = ZSTD_createDStream();
        ok = c->zs && !ZSTD_isError(ZSTD_initDStream(c->zs));
        break;
    case INSTREAM_LZ4:
        ok = !LZ4F_isError(LZ4F_createDecompressionContext(&c->lz, LZ4F_VERSION));
        break;
    case INSTREAM_PLAIN: break;
    }
    if (!ok) {
        snprintf(err, errlen, "%s: cannot set up the decompressor", codec_name(c->codec));
        cookie_free(c);
        return -1;
    }
    /* The first decompressed bytes: the format's magic. */
    fill(c);
    if (c->out_len == 0 && c->err[0]) {
        snprintf(err, errlen, "%s", c->err);
        cookie_free(c);
        return -1;
    }
    nm = c->out_len < 4 ? c->out_len : 4;
    memcpy(s->magic, c->out, nm);
    s->nmagic = nm;
    cookie_io_functions_t io = {.read = cookie_read, .write = NULL, .seek = NULL, .close = cookie_close};
    s->f = fopencookie(c, "rb", io);
    if (!s->f) {
        snprintf(err, errlen, "%s", strerror(errno));
        cookie_free(c);
        return -1;
    }
    s->codec = c->codec;
    s->cookie = c;
    set_buffer(s, s->f); /* reads of up to 1 MiB from the decompressor, or what a pipe has */
    return 0;
}

const char *instream_error(const struct instream *s)
{
    const struct cookie *c = s->cookie;
    return c && c->err[0] ? c->err : NULL;
}

uint64_t instream_raw_pos(const struct instream *s)
{
    const struct cookie *c = s->cookie;
    if (c)
        return c->raw_pos;
    if (s->f) {
        long p = ftell(s->f);
        return p > 0 ? (uint64_t)p : 0;
    }
    return 0;
}

void instream_close(struct instream *s)
{
    if (s->f && s->f != stdin)
        fclose(s->f);
    instream_forget(s);
}

void instream_forget(struct instream *s)
{
    if (s->f == stdin && s->vbuf)
        setvbuf(stdin, NULL, _IONBF, 0); /* stdin stays open: it must not keep a buffer about to be freed */
    free(s->vbuf);
    s->vbuf = NULL;
    s->f = NULL;
    s->cookie = NULL;
}
