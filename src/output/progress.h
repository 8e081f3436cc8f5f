/* The progress line on standard error during long runs (a terminal only): bytes and packets read, rate, ETA. */
#ifndef HOPSCOPE_PROGRESS_H
#define HOPSCOPE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What the line shows at one moment. */
struct progress_sample {
    double elapsed;          /* seconds since the start of the run */
    uint64_t bytes;          /* bytes of the input read (the file on disk: compressed bytes for a compressed file) */
    uint64_t total;          /* the input's size in bytes, 0 when unknown (standard input, an interface) */
    uint64_t packets;        /* packets read */
    bool live;               /* an interface: drops instead of an ETA */
    uint64_t drops;          /* live: packets the kernel or the interface dropped (pcap_stats) */
};

/*
 * Formats the line into buf (n bytes, NUL-terminated, cut to fit): for a file "12.3 MiB of 1.2 GiB (1%),
 * 45,678 packets, 8.1 MiB/s, ETA 2:31"; without a size, no percentage and no ETA; live, "45,678 packets,
 * 3 dropped, 1.2 MiB/s". Rates are averages since the start (none before 0.1 s). Returns the length.
 */
size_t progress_format(char *buf, size_t n, const struct progress_sample *s);

struct progress {
    FILE *f;                 /* standard error, or NULL: off */
    const char *name;
    double start, last;      /* CLOCK_MONOTONIC seconds */
    bool shown;              /* a line is on the terminal (to be cleared) */
    bool live;               /* the input is an interface (the caller's note: updates on every packet) */
};

/* Starts the progress line on f when on (the caller decides: a TTY and no -q); name is the input's. */
void progress_start(struct progress *p, FILE *f, bool on, const char *name);

/* Redraws the line (carriage return, the line, erase to the end) when a second has passed since the last
 * one or force. */
void progress_update(struct progress *p, struct progress_sample *s, bool force);

/* Erases the line so that what follows starts on a clean line. */
void progress_end(struct progress *p);

#endif
