/* Microsoft Network Monitor 2.x capture files (NetMon 3.x, Message Analyzer ".cap"), which libpcap cannot read. */
#ifndef HOPSCOPE_NETMON_H
#define HOPSCOPE_NETMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

/* Largest frame read; a longer captured length is treated as a damaged record. */
#define NETMON_MAX_FRAME (256u * 1024u)

struct netmon {
    FILE *f;
    uint8_t ver_major, ver_minor;
    uint16_t network;          /* the file's network type; 0 means per-frame (version 2.1+) */
    struct timeval start;      /* capture start (UTC) from the header's SYSTEMTIME */
    uint32_t *offsets;         /* frame table */
    uint32_t nframes, next;
    uint64_t size;             /* file size */
    uint8_t *buf;              /* NETMON_MAX_FRAME bytes */
    char err[160];
};

/* True when the file at path starts with the NetMon 2.x signature "GMBU". */
bool netmon_is(const char *path);

/*
 * Opens a NetMon 2.x file: reads the 72-byte header (little-endian: "GMBU", minor, major, network u16,
 * SYSTEMTIME, then offset/length pairs of which the frame table's is first) and the frame table, checking
 * that the table lies inside the file. Returns 0, or -1 with a one-line reason in n->err.
 */
int netmon_open(struct netmon *n, const char *path);

/* As netmon_open, on f (a seekable regular file, read from its start), which n then owns (netmon_close). */
int netmon_fopen(struct netmon *n, FILE *f);

/*
 * Reads the next frame: *dlt is the libpcap link type for it (DLT_EN10MB for Ethernet) or -1 for a frame
 * hopscope does not decode (NetMon events, other media: still a frame, as Wireshark numbers them);
 * ts is its UTC time (the per-frame FILETIME of versions 2.2+, else start + the record's microsecond delta).
 * Record layout: delta u64 (µs), original length u32, captured length u32, data, then for 2.1+ a trailer
 * (network u16, process info index u32, [2.2+] UTC FILETIME u64, [2.3+] time zone index u8).
 * Returns 1 with a frame, 0 at the end, -1 on a damaged record (offset or length outside the file; n->err).
 */
int netmon_next(struct netmon *n, int *dlt, struct timeval *ts, const uint8_t **data, uint32_t *caplen,
                uint32_t *wirelen);

void netmon_close(struct netmon *n);

#endif
