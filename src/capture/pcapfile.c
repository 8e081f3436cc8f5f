/* Classic pcap files read in large blocks (pcap-savefile(5)); see pcapfile.h. */
#include "pcapfile.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Read-ahead for a regular file: a thread reads the file in PCAPFILE_BLOCK blocks into a ring of
 * PCAPFILE_AHEAD slots while the caller analyses the packets of the slot it holds; on two cores the kernel's
 * copy out of the page cache (as long as `cat`'s) then overlaps the analysis. Packets are handed out from the
 * slot itself; only a record that straddles two blocks is copied, into `stitch`. The counts only grow: the
 * reader may fill a slot while filled - given_back < PCAPFILE_AHEAD, the caller take one while taken < filled,
 * and the caller holds at most one (taken - given_back <= 1). Slot k is slot[k % PCAPFILE_AHEAD].
 *
 * The caller never wakes the reader: when the ring is full the reader looks again every 250 µs until half of it
 * is free. A wake-up is a futex system call on the caller's path and, on a virtual machine, an interrupt sent to
 * the other vCPU: ~40 µs each on the benchmark machine, 10% of the run when the caller woke the reader for every
 * second block. The reader wakes the caller only when it waits for a block (the disk is the slower).
 */
struct ahead_slot {
    uint8_t *data;
    size_t len;
    int err;  /* errno of a failed read: the reader stopped */
    bool eof; /* the end of the file: len is 0 and the reader stopped */
};

struct pcapfile_ahead {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t filled_cv, given_back_cv;
    struct ahead_slot slot[PCAPFILE_AHEAD];
    uint64_t filled, taken, given_back; /* under mu */
    bool stop;                          /* under mu: pcapfile_free() asks the reader to end */
    bool caller_waits;                  /* under mu: the caller sleeps until a slot is filled */
    int fd;
    uint64_t off; /* the reader's: the offset of its next pread */
    /* the caller's */
    bool holding;     /* slot[(taken - 1) % PCAPFILE_AHEAD] is the caller's */
    size_t hold_off;  /* bytes of the held slot consumed (into the view or the stitch) */
    bool view_stitch; /* the caller's view (buf, off, len) is the stitch buffer, not the held slot */
    uint8_t *stitch;  /* PCAPFILE_MAX_CAPLEN + 16 bytes: a record that straddles two blocks */
};

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

static void *ahead_main(void *arg)
{
    struct pcapfile_ahead *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        if (a->filled - a->given_back == PCAPFILE_AHEAD) { /* full */
            while (!a->stop && a->filled - a->given_back > PCAPFILE_AHEAD / 2) {
                struct timespec t;
                clock_gettime(CLOCK_MONOTONIC, &t);
                t.tv_nsec += 250000;
                if (t.tv_nsec >= 1000000000) {
                    t.tv_sec++;
                    t.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&a->given_back_cv, &a->mu, &t);
            }
        }
        if (a->stop)
            break;
        struct ahead_slot *s = &a->slot[a->filled % PCAPFILE_AHEAD];
        pthread_mutex_unlock(&a->mu);
        ssize_t got;
        do
            got = pread(a->fd, s->data, PCAPFILE_BLOCK, (off_t)a->off);
        while (got < 0 && errno == EINTR);
        s->err = got < 0 ? errno : 0;
        s->len = got > 0 ? (size_t)got : 0;
        s->eof = got == 0;
        if (got > 0)
            a->off += (uint64_t)got;
        pthread_mutex_lock(&a->mu);
        a->filled++;
        if (a->caller_waits)
            pthread_cond_signal(&a->filled_cv);
        if (got <= 0)
            break;
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static void ahead_free(struct pcapfile_ahead *a, bool started)
{
    if (started) {
        pthread_mutex_lock(&a->mu);
        a->stop = true;
        pthread_cond_signal(&a->given_back_cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
    }
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->filled_cv);
    pthread_cond_destroy(&a->given_back_cv);
    for (int i = 0; i < PCAPFILE_AHEAD; i++)
        free(a->slot[i].data);
    free(a->stitch);
    free(a);
}

/* Starts the read-ahead thread on fd from offset off; NULL (then the caller reads itself) without memory or a
 * thread. The thread blocks every signal: they are the main thread's to take. */
static struct pcapfile_ahead *ahead_start(int fd, uint64_t off)
{
    struct pcapfile_ahead *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->fd = fd;
    a->off = off;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->filled_cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->given_back_cv, &ca);
    pthread_condattr_destroy(&ca);
    bool ok = (a->stitch = malloc(PCAPFILE_MAX_CAPLEN + 16)) != NULL;
    for (int i = 0; ok && i < PCAPFILE_AHEAD; i++)
        ok = (a->slot[i].data = malloc(PCAPFILE_BLOCK)) != NULL;
    if (ok) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        ok = pthread_create(&a->thread, NULL, ahead_main, a) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (!ok) {
        ahead_free(a, false);
        return NULL;
    }
    return a;
}

/* Gives the held slot back to the reader. */
static void ahead_give_back(struct pcapfile_ahead *a)
{
    if (!a->holding)
        return;
    a->holding = false;
    pthread_mutex_lock(&a->mu);
    a->given_back++;
    pthread_mutex_unlock(&a->mu);
}

/* Takes the next slot the reader filled (waiting for it). Returns it with data, or NULL at the end of the file
 * (r->eof set) or on a read error (r->eof set, *failed true, reason in r->err). */
static struct ahead_slot *ahead_take(struct pcapfile *r, bool *failed)
{
    struct pcapfile_ahead *a = r->ahead;
    if (r->eof)
        return NULL;
    pthread_mutex_lock(&a->mu);
    while (a->taken == a->filled) {
        a->caller_waits = true;
        pthread_cond_wait(&a->filled_cv, &a->mu);
        a->caller_waits = false;
    }
    struct ahead_slot *s = &a->slot[a->taken % PCAPFILE_AHEAD];
    a->taken++;
    pthread_mutex_unlock(&a->mu);
    a->holding = true;
    a->hold_off = 0;
    if (s->err || s->eof) {
        if (s->err) {
            snprintf(r->err, sizeof r->err, "error reading dump file: %s", strerror(s->err));
            *failed = true;
        }
        r->eof = true;
        ahead_give_back(a);
        return NULL;
    }
    return s;
}

/* fill() for a file read ahead: the view is the held slot while records lie inside it, the stitch buffer for a
 * record that straddles two slots. */
static long fill_ahead(struct pcapfile *r, size_t need)
{
    struct pcapfile_ahead *a = r->ahead;
    bool failed = false;
    for (;;) {
        size_t have = r->len - r->off;
        if (have >= need)
            return (long)have;
        struct ahead_slot *held = a->holding ? &a->slot[(a->taken - 1) % PCAPFILE_AHEAD] : NULL;
        if (!a->view_stitch) {
            if (have == 0) { /* the held slot is used up: the next one */
                ahead_give_back(a);
                struct ahead_slot *s = ahead_take(r, &failed);
                if (!s)
                    return failed ? -1 : 0;
                r->buf = s->data;
                r->off = 0;
                r->len = a->hold_off = s->len;
                continue;
            }
            /* a record straddles the end of the held slot: its start to the stitch buffer */
            memcpy(a->stitch, r->buf + r->off, have);
            a->hold_off = r->len;
            r->buf = a->stitch;
            r->off = 0;
            r->len = have;
            a->view_stitch = true;
            continue;
        }
        if (have == 0 && held && a->hold_off < held->len) { /* the stitched record is used: back to the slot */
            r->buf = held->data;
            r->off = a->hold_off;
            r->len = a->hold_off = held->len;
            a->view_stitch = false;
            continue;
        }
        if (r->off > 0) {
            memmove(a->stitch, a->stitch + r->off, have);
            r->off = 0;
            r->len = have;
        }
        if (!held || a->hold_off == held->len) {
            ahead_give_back(a);
            held = ahead_take(r, &failed);
            if (!held)
                return failed ? -1 : (long)have;
        }
        size_t take = held->len - a->hold_off;
        if (take > need - have)
            take = need - have;
        memcpy(a->stitch + r->len, held->data + a->hold_off, take);
        r->len += take;
        a->hold_off += take;
    }
}

/* Read ahead unless HOPSCOPE_READAHEAD is "0" or the process may run on one CPU only (the thread would then only
 * take turns with the analysis). */
static bool want_ahead(void)
{
    const char *ra = getenv("HOPSCOPE_READAHEAD");
    if (ra && !strcmp(ra, "0"))
        return false;
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) > 1;
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
    if (!exact && want_ahead() && (r->ahead = ahead_start(fileno(f), r->read_pos)) != NULL) {
        r->buf = r->ahead->stitch; /* an empty view: the first fill takes the first slot */
        r->ahead->view_stitch = true;
        return 0;
    }
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
    if (r->ahead)
        return fill_ahead(r, need);
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
    if (r->ahead && r->len - r->off >= 192) { /* the next record's headers: written by the reader's core */
        __builtin_prefetch(r->buf + r->off);
        __builtin_prefetch(r->buf + r->off + 64);
        __builtin_prefetch(r->buf + r->off + 128);
    }
    r->pos += 16 + (uint64_t)caplen;
    return 1;
}

void pcapfile_free(struct pcapfile *r)
{
    if (r->ahead) {
        ahead_free(r->ahead, true);
        r->ahead = NULL;
    } else {
        free(r->buf);
    }
    r->buf = NULL;
}
