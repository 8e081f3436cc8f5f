/* Live capture (-i, repeatable): libpcap handles opened as tcpdump opens them, polled together. */
#ifndef HOPSCOPE_LIVE_H
#define HOPSCOPE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "stats.h"

#define LIVE_MAX_IFACES HS_CAPTURE_IFACES_MAX

/* How to open each interface (tcpdump's options of the same names). */
struct live_opts {
    int snaplen;            /* -s: bytes kept per packet */
    bool promisc;           /* false with -p */
    int buffer_kib;         /* -B: the kernel buffer in KiB (1024 bytes, as tcpdump); 0: libpcap's default */
    bool nano;              /* --time-stamp-precision=nano: timestamps in ns (tv_usec holds nanoseconds) */
    const char *filter;     /* the BPF filter expression, or NULL */
};

struct live_iface {
    const char *name;       /* as given to -i (the caller's string, kept for the run) */
    pcap_t *p;
    int fd;                 /* pcap_get_selectable_fd(), polled */
    int dlt;                /* the link type */
    /* pcap_stats() counters are 32 bits and wrap: the last values read, and their 64-bit sums */
    unsigned last_recv, last_drop, last_ifdrop;
    uint64_t recv, drop, ifdrop;
};

struct live {
    struct live_iface ifs[LIVE_MAX_IFACES];
    unsigned n;
    bool nano;
};

/*
 * Opens the n interfaces names[0..n) (n from 1 to LIVE_MAX_IFACES) with options o: snapshot length,
 * promiscuous mode, immediate mode (packets are handed over as they arrive, not when a kernel buffer block
 * fills), a 100 ms read timeout, kernel buffer size, timestamp precision, non-blocking, the filter compiled for
 * and set on each (each interface may have its own link type). Returns 0, or -1 with one line in err (errlen
 * bytes) naming the interface and the problem (everything opened so far is closed).
 */
int live_open(struct live *l, const char *const *names, unsigned n, const struct live_opts *o, char *err,
              size_t errlen);

/* What live_dispatch() hands over for each packet: the interface it came from, its header and bytes. */
typedef void (*live_handler)(void *arg, const struct live_iface *li, const struct pcap_pkthdr *h,
                             const uint8_t *data);

/*
 * Waits up to timeout_ms for packets on any of l's interfaces, then hands every packet ready on each to cb
 * (at most `batch` per interface and call; -1: all that are ready). Returns the number of packets handed over,
 * 0 when none came in time or a signal interrupted the wait, or -1 after a capture error (the interface went
 * away), with one line in err naming the interface.
 */
int live_dispatch(struct live *l, int timeout_ms, int batch, live_handler cb, void *arg, char *err, size_t errlen);

/* Stops a live_dispatch() in progress (pcap_breakloop on every interface): safe in a signal handler. */
void live_breakloop(struct live *l);

/*
 * Reads pcap_stats() of each interface into its 64-bit sums (wrap-safe as long as fewer than 2^32 packets
 * pass between two calls: call it at least every few seconds) and fills cs with the sums and each interface's
 * figures. An interface whose stats cannot be read keeps its last figures.
 */
void live_stats(struct live *l, struct hs_capture_stats *cs);

/* Closes every interface (a zeroed or closed l is fine). */
void live_close(struct live *l);

#endif
