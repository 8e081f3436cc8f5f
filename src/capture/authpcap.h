/* -w FILE: a pcap of the packets of the connections that carried authentication, bulk left out. */
#ifndef HOPSCOPE_AUTHPCAP_H
#define HOPSCOPE_AUTHPCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

/*
 * Which connections: those on which hopscope started a record (an authentication attempt or a KDC
 * exchange, TCP or UDP), as the engine says after each packet (hs_engine.last). Until a connection is known
 * to carry authentication its packets are held in memory, in a slot of a table indexed by connection id
 * (AUTHPCAP_SLOTS slots; a newer connection on the same slot takes it), up to AUTHPCAP_CONN_MAX bytes per
 * connection and AUTHPCAP_TOTAL_MAX bytes in all; past either cap the connection's later packets are not
 * held (counted in `lost` if it then turns out to carry authentication). Once known, its held packets are
 * written, then every later packet as it comes: so the file is in arrival order per connection, not
 * across connections. A connection the engine ignores (TLS, unknown) or has closed is let go at once.
 * Packets that belong to no connection (ARP, ICMP, IPv4 fragments before the last) are not written.
 */
#define AUTHPCAP_SLOTS 16384u
#define AUTHPCAP_CONN_MAX (256u * 1024u)
#define AUTHPCAP_TOTAL_MAX (64u * 1024u * 1024u)

struct authpcap_stats {
    uint64_t written;        /* packets written */
    uint64_t lost;           /* packets of connections that carried authentication not kept (caps, slot taken) */
    uint64_t other_link;     /* packets of another link type than the file's (multi-link pcapng) */
};

struct authpcap;

/*
 * Creates path as a pcap file of link type dlt (DLT_*) with snaplen (packets longer are cut to it when
 * written), microsecond timestamps. Returns NULL with a one-line reason in err (errlen bytes) when the file
 * cannot be created or memory is short.
 */
struct authpcap *authpcap_open(const char *path, int dlt, int snaplen, char *err, size_t errlen);

/* authpcap_open() with timestamps of the given precision (PCAP_TSTAMP_PRECISION_MICRO or _NANO: the
 * packets handed over then carry ns in tv_usec, as a capture opened with that precision gives them). */
struct authpcap *authpcap_open_precision(const char *path, int dlt, int snaplen, int precision, char *err,
                                         size_t errlen);

/*
 * Hands over one packet of link type dlt (header h, h->caplen bytes at data) and what the engine made of it:
 * conn_id (0: no connection), auth (the connection started a record, now or before), ignored (it never
 * will). The packet is written, held or let go as described above. No allocation except a slot's buffer
 * growing (doubling, up to AUTHPCAP_CONN_MAX).
 */
void authpcap_packet(struct authpcap *a, int dlt, const struct pcap_pkthdr *h, const uint8_t *data,
                     uint64_t conn_id, bool auth, bool ignored);

/*
 * Reopens the file (SIGHUP after a log rotation): what was written is flushed and closed, then path is
 * opened again, appended to when it is still a pcap of the same link type, else created. Held packets
 * stay held. Returns 0, or -1 with a reason in err (the old file is then closed: later packets are lost
 * until the next successful reopen, and counted).
 */
int authpcap_reopen(struct authpcap *a, char *err, size_t errlen);

/* Counters so far. */
const struct authpcap_stats *authpcap_stats(const struct authpcap *a);

/* True once a write to the file failed (e.g. the disk is full): the run should stop reading. */
bool authpcap_failed(const struct authpcap *a);

/* Flushes and closes the file and frees a (NULL is fine). Returns 0, or -1 when a write failed. */
int authpcap_close(struct authpcap *a);

#endif
