/* -w FILE: a pcap of the packets of the connections that carried authentication (pcap-savefile(5)). */
#include "authpcap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t id;         /* connection id held here, 0 for none */
    uint8_t *buf;        /* held packets: struct pcap_pkthdr, then caplen bytes, each */
    uint32_t len, cap;
    uint32_t held;       /* packets in buf */
    uint32_t dropped;    /* packets not held (caps) */
};

struct authpcap {
    char *path;
    int dlt, snaplen;
    pcap_t *dead;
    pcap_dumper_t *d;    /* NULL after a failed reopen */
    bool failed;
    struct slot *slots;
    uint64_t total;      /* bytes allocated to slot buffers */
    struct authpcap_stats st;
};

struct authpcap *authpcap_open(const char *path, int dlt, int snaplen, char *err, size_t errlen)
{
    return authpcap_open_precision(path, dlt, snaplen, PCAP_TSTAMP_PRECISION_MICRO, err, errlen);
}

struct authpcap *authpcap_open_precision(const char *path, int dlt, int snaplen, int precision, char *err,
                                         size_t errlen)
{
    struct authpcap *a = calloc(1, sizeof *a);
    if (a) {
        a->slots = calloc(AUTHPCAP_SLOTS, sizeof *a->slots);
        a->path = strdup(path);
        a->dead = pcap_open_dead_with_tstamp_precision(dlt, snaplen, (u_int)precision);
    }
    if (!a || !a->slots || !a->path || !a->dead) {
        snprintf(err, errlen, "out of memory");
        authpcap_close(a);
        return NULL;
    }
    a->dlt = dlt;
    a->snaplen = snaplen;
    a->d = pcap_dump_open(a->dead, path);
    if (!a->d) {
        snprintf(err, errlen, "%s", pcap_geterr(a->dead));
        authpcap_close(a);
        return NULL;
    }
    return a;
}

static void slot_clear(struct authpcap *a, struct slot *s)
{
    /* Given back: memory follows the connections still undecided (one allocation per connection, not per packet). */
    a->total -= s->cap;
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
    s->id = 0;
    s->len = s->held = s->dropped = 0;
}

static void dump(struct authpcap *a, const struct pcap_pkthdr *h, const uint8_t *data)
{
    if (!a->d) {
        a->st.lost++;
        return;
    }
    struct pcap_pkthdr c = *h;
    if (c.caplen > (bpf_u_int32)a->snaplen)
        c.caplen = (bpf_u_int32)a->snaplen;
    pcap_dump((u_char *)a->d, &c, data);
    a->st.written++;
    if (ferror(pcap_dump_file(a->d)))
        a->failed = true; /* a stdio flush inside pcap_dump failed (disk full) */
}

bool authpcap_failed(const struct authpcap *a)
{
    return a->failed;
}

static void slot_flush(struct authpcap *a, struct slot *s)
{
    size_t off = 0;
    while (off + sizeof(struct pcap_pkthdr) <= s->len) {
        struct pcap_pkthdr h;
        memcpy(&h, s->buf + off, sizeof h);
        off += sizeof h;
        dump(a, &h, s->buf + off);
        off += h.caplen;
    }
    a->st.lost += s->dropped;
}

/* Makes room for need more bytes in s; false at a cap. */
static bool slot_room(struct authpcap *a, struct slot *s, size_t need)
{
    if ((size_t)s->len + need <= s->cap)
        return true;
    if ((size_t)s->len + need > AUTHPCAP_CONN_MAX)
        return false;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < (size_t)s->len + need)
        cap *= 2;
    if (cap > AUTHPCAP_CONN_MAX)
        cap = AUTHPCAP_CONN_MAX;
    if (a->total - s->cap + cap > AUTHPCAP_TOTAL_MAX)
        return false;
    uint8_t *b = realloc(s->buf, cap);
    if (!b)
        return false;
    a->total = a->total - s->cap + cap;
    s->buf = b;
    s->cap = (uint32_t)cap;
    return true;
}

void authpcap_packet(struct authpcap *a, int dlt, const struct pcap_pkthdr *h, const uint8_t *data,
                     uint64_t conn_id, bool auth, bool ignored)
{
    if (!conn_id)
        return;
    if (dlt != a->dlt) {
        /* A pcap file has one link type; a multi-link pcapng's other interfaces cannot go in. */
        if (auth)
            a->st.other_link++;
        return;
    }
    struct slot *s = &a->slots[conn_id & (AUTHPCAP_SLOTS - 1)];
    if (auth) {
        if (s->id == conn_id) {
            slot_flush(a, s);
            slot_clear(a, s);
        }
        dump(a, h, data);
        return;
    }
    if (ignored) {
        if (s->id == conn_id)
            slot_clear(a, s);
        return;
    }
    if (s->id != conn_id) {
        if (s->id)
            slot_clear(a, s); /* an older connection never known to authenticate gives way */
        s->id = conn_id;
    }
    uint32_t caplen = h->caplen < (bpf_u_int32)a->snaplen ? h->caplen : (uint32_t)a->snaplen;
    if (s->dropped || !slot_room(a, s, sizeof *h + caplen)) {
        s->dropped++; /* once a packet is missing, later ones are not held either: no holes in the middle */
        return;
    }
    struct pcap_pkthdr c = *h;
    c.caplen = caplen;
    memcpy(s->buf + s->len, &c, sizeof c);
    memcpy(s->buf + s->len + sizeof c, data, caplen);
    s->len += (uint32_t)(sizeof c + caplen);
    s->held++;
}

int authpcap_reopen(struct authpcap *a, char *err, size_t errlen)
{
    if (a->d) {
        if (pcap_dump_flush(a->d) != 0)
            a->failed = true;
        pcap_dump_close(a->d);
    }
    a->d = pcap_dump_open_append(a->dead, a->path);
    if (!a->d) {
        snprintf(err, errlen, "%s", pcap_geterr(a->dead));
        return -1;
    }
    return 0;
}

const struct authpcap_stats *authpcap_stats(const struct authpcap *a)
{
    return &a->st;
}

int authpcap_close(struct authpcap *a)
{
    if (!a)
        return 0;
    int rc = a->failed ? -1 : 0;
    if (a->d) {
        FILE *f = pcap_dump_file(a->d);
        if (pcap_dump_flush(a->d) != 0 || ferror(f))
            rc = -1;
        pcap_dump_close(a->d);
    }
    if (a->slots)
        for (uint32_t i = 0; i < AUTHPCAP_SLOTS; i++)
            free(a->slots[i].buf);
    free(a->slots);
    if (a->dead)
        pcap_close(a->dead);
    free(a->path);
    free(a);
    return rc;
}
