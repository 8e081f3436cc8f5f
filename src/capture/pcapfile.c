/* Classic pcap files read in large blocks (pcap-savefile(5)); see pcapfile.h. */
#include "pcapfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t get32(const uint8_t *p, bool swapped)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

static uint32_t magic_host(const uint8_t m[4])
{
    uint32_t v;
    memcpy(&v, m, 4);
    return v;
}

bool pcapfile_can_read(pcap_t *p, const uint8_t magic[4])
{
    uint32_t m = magic_host(magic), s = __builtin_bswap32(m);
    bool std = m == 0xa1b2c3d4u || m == 0xa1b23c4du || s == 0xa1b2c3d4u || s == 0xa1b23c4du;
    return std && pcap_major_version(p) == 2 && pcap_minor_version(p) == 4 && pcap_snapshot(p) > 0;
}

int pcapfile_open(struct pcapfile *r, FILE *f, pcap_t *p, const uint8_t magic[4], bool exact)
{
    memset(r, 0, sizeof *r);
    r->exact = exact;
    uint32_t m = magic_host(magic);
    r->f = f;
    r->swapped = pcap_is_swapped(p) != 0;
    r->nsec = m == 0xa1b23c4du || __builtin_bswap32(m) == 0xa1b23c4du;
    r->snaplen = (uint32_t)pcap_snapshot(p);
    r->pos = r->read_pos = 24;
    /* A block plus room for one record that straddles its end, moved to the front before the next read. */
    r->cap = PCAPFILE_BLOCK + PCAPFILE_MAX_CAPLEN + 16;
    r->buf = malloc(r->cap);
    if (!r->buf) {
        snprintf(r->err, sizeof r->err, "out of memory");
        return -1;
    }
    return 0;
}

/* Makes at least need bytes available at buf + off (need <= PCAPFILE_MAX_CAPLEN + 16), reading a block.
 * Returns the bytes available (fewer than need only at the end of the file), or -1 on a read error. */
static long fill(struct pcapfile *r, size_t need)
{
    size_t have = r->len - r->off;
    if (have >= need || r->eof)
        return (long)have;
    if (r->off > 0) {
        memmove(r->buf, r->buf + r->off, have);
        r->off = 0;
        r->len = have;
    }
    while (r->len < need && !r->eof) {
        size_t room = r->cap - r->len;
        if (room > PCAPFILE_BLOCK)
            room = PCAPFILE_BLOCK;
        if (r->exact) /* a pipe: fread would wait for the whole block; ask what the record needs */
            room = need - r->len;
        size_t n;
        if (!r->exact) {
            /* A regular file: read(2) into this buffer at the file offset reached (stdio would copy once more). */
            ssize_t got;
            do
                got = pread(fileno(r->f), r->buf + r->len, room, (off_t)r->read_pos);
            while (got < 0 && errno == EINTR);
            if (got < 0) {
                snprintf(r->err, sizeof r->err, "error reading dump file: %s", strerror(errno));
                r->eof = true;
                return -1;
            }
            n = (size_t)got;
            r->read_pos += n;
            r->len += n;
            if (n == 0)
                r->eof = true;
            continue;
        }
        n = fread(r->buf + r->len, 1, room, r->f);
        r->len += n;
        if (n < room) {
            if (ferror(r->f)) {
                snprintf(r->err, sizeof r->err, "error reading dump file: %s", strerror(errno ? errno : EIO));
                r->eof = true;
                return -1;
            }
            if (feof(r->f))
                r->eof = true;
        }
    }
    return (long)(r->len - r->off);
}

int pcapfile_next(struct pcapfile *r, struct pcap_pkthdr *h, const uint8_t **data)
{
    if (!r->buf)
        return -1;
    long have = fill(r, 16);
    if (have < 0)
        return -1;
    if (have == 0)
        return 0;
    if (have < 16) {
        snprintf(r->err, sizeof r->err, "truncated dump file; tried to read 16 header bytes, only got %ld", have);
        return -1;
    }
    const uint8_t *p = r->buf + r->off;
    uint32_t sec = get32(p, r->swapped), frac = get32(p + 4, r->swapped);
    uint32_t caplen = get32(p + 8, r->swapped), len = get32(p + 12, r->swapped);
    if (caplen > PCAPFILE_MAX_CAPLEN) {
        if (caplen > r->snaplen)
            snprintf(r->err, sizeof r->err, "invalid packet capture length %u, bigger than snaplen of %u", caplen,
                     r->snaplen);
        else
            snprintf(r->err, sizeof r->err, "invalid packet capture length %u, bigger than maximum of %u", caplen,
                     PCAPFILE_MAX_CAPLEN);
        return -1;
    }
    have = fill(r, 16 + (size_t)caplen);
    if (have < 0)
        return -1;
    if ((size_t)have < 16 + (size_t)caplen) {
        /* libpcap reads a record longer than the snapshot length in two steps, the first snaplen bytes then the
         * rest, and names the step that came up short */
        uint32_t tried = caplen > r->snaplen && (size_t)(have - 16) < r->snaplen ? r->snaplen : caplen;
        snprintf(r->err, sizeof r->err, "truncated dump file; tried to read %u captured bytes, only got %ld", tried,
                 have - 16);
        return -1;
    }
    p = r->buf + r->off;
    /* As libpcap 1.10 takes them: its record header holds signed 32-bit seconds and fractions, copied as they are
     * from a file in the host's byte order (sign-extended) but through an unsigned byte swap from a swapped one
     * (not); nanoseconds are then divided down. Only values of 2^31 and more tell the difference. */
    suseconds_t us;
    if (r->swapped) {
        h->ts.tv_sec = (time_t)sec;
        us = (suseconds_t)frac;
    } else {
        h->ts.tv_sec = (time_t)(int32_t)sec;
        us = (suseconds_t)(int32_t)frac;
    }
    h->ts.tv_usec = r->nsec ? us / 1000 : us;
    /* Longer than the snapshot length: libpcap keeps the first snaplen bytes and skips the rest. */
    h->caplen = caplen > r->snaplen ? r->snaplen : caplen;
    h->len = len;
    *data = p + 16;
    r->off += 16 + (size_t)caplen;
    r->pos += 16 + (uint64_t)caplen;
    return 1;
}

void pcapfile_free(struct pcapfile *r)
{
    free(r->buf);
    r->buf = NULL;
}
