/* Capture input as a byte stream: a file or standard input, gzip/zstd/lz4 decompressed, its first bytes peekable. */
#ifndef HOPSCOPE_INSTREAM_H
#define HOPSCOPE_INSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define INSTREAM_BUFFER (1u << 20) /* f's stdio buffer: reads of 1 MiB, not the 4 KiB of st_blksize */

enum instream_codec { INSTREAM_PLAIN = 0, INSTREAM_GZIP, INSTREAM_ZSTD, INSTREAM_LZ4 };

struct instream {
    FILE *f;                    /* the (decompressed) bytes; NULL when the open failed */
    enum instream_codec codec;
    uint8_t magic[4];           /* the first 4 bytes of f's content (zero-filled when shorter) */
    size_t nmagic;              /* how many of them there are */
    int seekable;               /* f is the file itself (plain regular file): fseek works */
    uint64_t size;              /* the file's size on disk when known (regular file), else 0 */
    void *cookie;               /* the decompressor behind f, when wrapped (freed when f is closed) */
    void *vbuf;                 /* f's stdio buffer (INSTREAM_BUFFER bytes), freed after f is closed */
};

/*
 * Opens path ("-": standard input) for reading. The codec is told by the first bytes (RFC 1952 gzip
 * 1f 8b; zstd frame 28 b5 2f fd; LZ4 frame 04 22 4d 18), and f then yields the decompressed bytes through a
 * fopencookie(3) stream (concatenated members and frames followed; a corrupt stream is a read error, its
 * reason in instream_error()). A plain regular file is returned as is (seekable); a plain stream (a pipe) is
 * wrapped so that its first bytes could be peeked. magic holds the first bytes of the content in all cases.
 * Returns 0, or -1 with a one-line reason in err (errlen bytes).
 */
int instream_open(struct instream *s, const char *path, char *err, size_t errlen);

/* The decompression error that ended the stream, or NULL. */
const char *instream_error(const struct instream *s);

/* Bytes read from the underlying file so far (compressed size: for progress against s->size). */
uint64_t instream_raw_pos(const struct instream *s);

/* Closes f, which frees the decompressor too, and frees f's buffer. Whoever f was handed to
 * (pcap_fopen_offline: pcap_close) may close it instead; instream_forget() then frees what is left. */
void instream_close(struct instream *s);

/* After f was closed by whoever it was handed to: frees f's buffer and forgets f. */
void instream_forget(struct instream *s);

#endif
