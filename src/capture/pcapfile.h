/* Classic pcap files read in large blocks by hopscope itself, after libpcap has checked the file header: a
 * regular file in 1 MiB pread(2) calls made by a read-ahead thread into a ring of PCAPFILE_AHEAD blocks the
 * packets are handed out from (no stdio copy, no per-packet copy; the kernel's copy out of the page cache
 * overlaps the analysis), a stream through its FILE. Without a thread (HOPSCOPE_READAHEAD=0 in the environment,
 * a process allowed on one CPU only, or when none can be started) a regular file is read the same way in the
 * caller's thread. The format is
 * libpcap's savefile (pcap-savefile(5); draft-ietf-opsawg-pcap): a 24-byte file header, then per packet a
 * 16-byte record header (ts_sec, ts_usec or ts_nsec, incl_len, orig_len) in the file's byte order. */
#ifndef HOPSCOPE_PCAPFILE_H
#define HOPSCOPE_PCAPFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#define PCAPFILE_BLOCK      (1u << 20)    /* bytes asked of each read */
#define PCAPFILE_MAX_CAPLEN 262144u       /* libpcap's MAXIMUM_SNAPLEN: a longer record is a damaged file */
#define PCAPFILE_AHEAD      4             /* blocks a regular file is read ahead by */

struct pcapfile_ahead;

struct pcapfile {
    FILE *f;                           /* not owned: libpcap's handle owns and closes it */
    bool swapped;                      /* the file's byte order is not the host's */
    bool nsec;                         /* ts in nanoseconds (magic 0xa1b23c4d), handed out in microseconds */
    uint32_t snaplen;                  /* the header's snapshot length as libpcap took it (pcap_snapshot) */
    uint8_t *buf;                      /* [off, len) read and not yet handed out */
    size_t cap, off, len;
    bool eof;                          /* f has no more bytes */
    bool exact;                        /* f is a stream: read what the next record needs, not a block */
    uint64_t pos;                      /* bytes of f consumed, the 24-byte file header included */
    uint64_t read_pos;                 /* a regular file: the offset of the next pread */
    char err[160];
    struct pcapfile_ahead *ahead; /* a regular file: the read-ahead thread and its blocks (NULL: read here) */
};

/*
 * True when hopscope can read the packets of the pcap file libpcap opened as p from FILE f itself: a
 * version 2.4 file with the standard magic (microsecond 0xa1b2c3d4 or nanosecond 0xa1b23c4d, either byte
 * order; magic = the file's first 4 bytes). Files in older versions or the modified (Kuznetzov) format are left
 * to libpcap.
 */
bool pcapfile_can_read(pcap_t *p, const uint8_t magic[4]);

/*
 * Starts reading f, which libpcap has read the 24-byte file header of, with p's byte order and snapshot
 * length. A regular file (exact false) is read by offset from byte 24 with pread(2) on fileno(f), whatever f's
 * own position; exact: f is a stream (a pipe, a decompressor), where fread would wait
 * for a whole block: each read then asks only what the next record needs (f's own stdio buffer should be
 * large). A regular file gets a read-ahead thread (signals blocked) and PCAPFILE_AHEAD blocks of PCAPFILE_BLOCK
 * bytes plus one of PCAPFILE_MAX_CAPLEN + 16 for a record that straddles two; otherwise one buffer of
 * PCAPFILE_BLOCK + PCAPFILE_MAX_CAPLEN + 16 bytes. Returns 0, or -1 with a reason in r->err (out of memory).
 */
int pcapfile_open(struct pcapfile *r, FILE *f, pcap_t *p, const uint8_t magic[4], bool exact);

/*
 * The next packet: h its time (microseconds), captured and original length, *data its bytes (valid until the
 * next call). As libpcap does: a record longer than the snapshot length but within PCAPFILE_MAX_CAPLEN is cut
 * to the snapshot length. Returns 1 with a packet, 0 at the end of the file (at a record boundary), -1 when
 * the file is damaged or truncated or a read fails (reason in r->err, worded as libpcap words it).
 */
int pcapfile_next(struct pcapfile *r, struct pcap_pkthdr *h, const uint8_t **data);

/* Stops the read-ahead thread (waiting for the read it is in), frees the buffers; f stays open. */
void pcapfile_free(struct pcapfile *r);

#endif
