/* Live capture (-i, repeatable): libpcap handles opened as tcpdump opens them, polled together. */
#include "live.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

/* libpcap's reason for a failed call on p, or the status's generic text when libpcap left none. */
static const char *why(pcap_t *p, int status)
{
    const char *e = pcap_geterr(p);
    return e && *e ? e : pcap_statustostr(status);
}

static int open_one(struct live_iface *li, const char *name, const struct live_opts *o, char *err, size_t errlen)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    memset(li, 0, sizeof *li);
    li->name = name;
    li->fd = -1;
    li->p = pcap_create(name, errbuf);
    if (!li->p) {
        snprintf(err, errlen, "%s: %s", name, errbuf);
        return -1;
    }
    int rc;
    if ((rc = pcap_set_snaplen(li->p, o->snaplen)) != 0 || (rc = pcap_set_promisc(li->p, o->promisc)) != 0 ||
        /* Immediate mode: a packet is handed over when it arrives, not when a buffer block fills (records and
         * stats keep up with the traffic; the 100 ms timeout only paces the idle clock). */
        (rc = pcap_set_immediate_mode(li->p, 1)) != 0 || (rc = pcap_set_timeout(li->p, 100)) != 0 ||
        (o->buffer_kib > 0 && (rc = pcap_set_buffer_size(li->p, o->buffer_kib * 1024)) != 0)) {
        snprintf(err, errlen, "%s: %s", name, why(li->p, rc));
        return -1;
    }
    if (o->nano && (rc = pcap_set_tstamp_precision(li->p, PCAP_TSTAMP_PRECISION_NANO)) != 0) {
        snprintf(err, errlen, "%s: nanosecond timestamps: %s", name,
                 rc == PCAP_ERROR_TSTAMP_PRECISION_NOTSUP ? "not supported on this interface" : why(li->p, rc));
        return -1;
    }
    rc = pcap_activate(li->p);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", name, why(li->p, rc));
        return -1;
    }
    li->dlt = pcap_datalink(li->p);
    if (o->filter) {
        struct bpf_program prog;
        if (pcap_compile(li->p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            snprintf(err, errlen, "filter '%s' on %s: %s", o->filter, name, pcap_geterr(li->p));
            return -1;
        }
        rc = pcap_setfilter(li->p, &prog);
        pcap_freecode(&prog);
        if (rc < 0) {
            snprintf(err, errlen, "%s: filter: %s", name, pcap_geterr(li->p));
            return -1;
        }
    }
    if (pcap_setnonblock(li->p, 1, errbuf) < 0) {
        snprintf(err, errlen, "%s: %s", name, errbuf);
        return -1;
    }
    li->fd = pcap_get_selectable_fd(li->p);
    if (li->fd < 0) {
        snprintf(err, errlen, "%s: this interface cannot be polled (no selectable descriptor)", name);
        return -1;
    }
    return 0;
}

int live_open(struct live *l, const char *const *names, unsigned n, const struct live_opts *o, char *err,
              size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->nano = o->nano;
    if (n == 0 || n > LIVE_MAX_IFACES) {
        snprintf(err, errlen, "-i: from 1 to %d interfaces, not %u", LIVE_MAX_IFACES, n);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(names[i], names[j])) {
                snprintf(err, errlen, "%s: interface given twice", names[i]);
                live_close(l);
                return -1;
            }
        int rc = open_one(&l->ifs[i], names[i], o, err, errlen);
        l->n = i + 1;
        if (rc != 0) {
            live_close(l);
            return -1;
        }
    }
    return 0;
}

/* pcap_dispatch()'s user argument: the caller's handler and the interface being read. */
struct tramp {
    live_handler cb;
    void *arg;
    const struct live_iface *li;
};

static void trampoline(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct tramp *t = (struct tramp *)user;
    t->cb(t->arg, t->li, h, data);
}

int live_dispatch(struct live *l, int timeout_ms, int batch, live_handler cb, void *arg, char *err, size_t errlen)
{
    struct pollfd pf[LIVE_MAX_IFACES];
    for (unsigned i = 0; i < l->n; i++)
        pf[i] = (struct pollfd){l->ifs[i].fd, POLLIN, 0};
    int r = poll(pf, l->n, timeout_ms);
    if (r < 0 && errno != EINTR) {
        snprintf(err, errlen, "%s: poll: %s", l->ifs[0].name, strerror(errno));
        return -1;
    }
    if (r <= 0)
        return 0;
    int total = 0;
    for (unsigned i = 0; i < l->n; i++) {
        if (!pf[i].revents)
            continue;
        struct tramp t = {cb, arg, &l->ifs[i]};
        int k = pcap_dispatch(l->ifs[i].p, batch, trampoline, (u_char *)&t);
        if (k == PCAP_ERROR_BREAK)
            break;
        if (k < 0) {
            snprintf(err, errlen, "%s: %s", l->ifs[i].name, why(l->ifs[i].p, k));
            return -1;
        }
        total += k;
    }
    return total;
}

void live_breakloop(struct live *l)
{
    for (unsigned i = 0; i < l->n; i++)
        if (l->ifs[i].p)
            pcap_breakloop(l->ifs[i].p);
}

void live_stats(struct live *l, struct hs_capture_stats *cs)
{
    memset(cs, 0, sizeof *cs);
    for (unsigned i = 0; i < l->n; i++) {
        struct live_iface *li = &l->ifs[i];
        struct pcap_stat ps;
        if (li->p && pcap_stats(li->p, &ps) == 0) {
            /* unsigned differences: right across a wrap of libpcap's 32-bit counters */
            li->recv += (unsigned)(ps.ps_recv - li->last_recv);
            li->drop += (unsigned)(ps.ps_drop - li->last_drop);
            li->ifdrop += (unsigned)(ps.ps_ifdrop - li->last_ifdrop);
            li->last_recv = ps.ps_recv;
            li->last_drop = ps.ps_drop;
            li->last_ifdrop = ps.ps_ifdrop;
        }
        cs->ifs[i] = (struct hs_capture_iface){li->name, li->recv, li->drop, li->ifdrop};
        cs->received += li->recv;
        cs->kernel_drops += li->drop;
        cs->interface_drops += li->ifdrop;
    }
    cs->n = l->n;
}

void live_close(struct live *l)
{
    for (unsigned i = 0; i < l->n; i++)
        if (l->ifs[i].p)
            pcap_close(l->ifs[i].p);
    memset(l, 0, sizeof *l);
}
