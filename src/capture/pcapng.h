/* pcapng files read by hopscope itself, so that each interface keeps its own link type (libpcap refuses a
 * file whose interfaces differ) -- draft-ietf-opsawg-pcapng (the PCAP Next Generation capture file format). */
#ifndef HOPSCOPE_PCAPNG_H
#define HOPSCOPE_PCAPNG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#define PCAPNG_MAX_IFACES 256          /* interfaces per section; packets of later ones are counted, not read */
#define PCAPNG_MAX_BLOCK (16u * 1024u * 1024u) /* a longer block is a damaged file */
#define PCAPNG_MAX_SNAP (256u * 1024u) /* packet data handed out is cut to this */

struct pcapng_iface {
    int dlt;                           /* the IDB's LinkType (LINKTYPE_* values are libpcap's DLT_* here) */
    uint32_t snaplen;
    bool res_pow2;                     /* if_tsresol: units of 2^-res seconds, else 10^-res */
    uint8_t res;
    int64_t tsoffset;                  /* if_tsoffset, seconds */
};

struct pcapng {
    FILE *f;                           /* not owned */
    bool be;                           /* the section's byte order is big-endian */
    uint32_t nif;
    struct pcapng_iface ifs[PCAPNG_MAX_IFACES];
    uint8_t *buf;                      /* the current block's body, grown up to PCAPNG_MAX_BLOCK */
    uint32_t cap;
    uint64_t bad_iface;                /* packets naming an interface not described (counted, skipped) */
    char err[160];
};

/* True when the 4 bytes at m are a Section Header Block's type (0x0A0D0D0A, the same in both orders). */
bool pcapng_is(const uint8_t *m, size_t n);

/*
 * Starts reading f (positioned at the file's start): the Section Header Block (byte-order magic 0x1A2B3C4D,
 * major version 1) and the blocks up to the first Interface Description Block, whose link type is put in
 * *first_dlt (-1 when the file has no packet before its end). Returns 0, or -1 with a reason in g->err.
 */
int pcapng_open(struct pcapng *g, FILE *f, int *first_dlt);

/*
 * The next packet (Enhanced, Simple or obsolete Packet Block), skipping other blocks and taking in new
 * sections and interfaces as they come: *dlt its interface's link type, h its time (if_tsresol and
 * if_tsoffset applied, to microseconds), captured length (cut to PCAPNG_MAX_SNAP) and original length,
 * *data the bytes (valid until the next call). A packet of an interface never described is counted in
 * bad_iface and skipped. Returns 1 with a packet, 0 at the end of the file (at a block boundary), -1 when
 * the file is damaged or truncated (reason in g->err).
 */
int pcapng_next(struct pcapng *g, int *dlt, struct pcap_pkthdr *h, const uint8_t **data);

/* Frees the block buffer (f stays open). */
void pcapng_free(struct pcapng *g);

#endif
