/* Ending a run on SIGINT/SIGTERM in every input mode: a self-pipe that input reads wait on with poll(2). */
#ifndef HOPSCOPE_INTERRUPT_H
#define HOPSCOPE_INTERRUPT_H

#include <stdio.h>
#include <sys/types.h>

#include <pcap/pcap.h>

/*
 * Installs the handlers: SIGINT and SIGTERM are recorded (intr_signal()), written to a self-pipe that
 * wakes any intr_fopen() read, and break the loop of the pcap handle set with intr_set_pcap(); SIGPIPE is
 * ignored, so that writing to a closed pipe fails with EPIPE (reported as a write error) instead of
 * killing the process. Call once, before reading. Returns 0, or -1 (errno set) when the pipe or a handler
 * could not be set up.
 */
int intr_install(void);

/* The handle whose loop a signal breaks (pcap_breakloop), or NULL. */
void intr_set_pcap(pcap_t *p);

/* The number of the first signal received (SIGINT, SIGTERM), or 0. */
int intr_signal(void);

/*
 * Opens path ("-": standard input) for reading through a stream whose reads wait for data or a signal,
 * whichever comes first: a read interrupted by a signal fails (errno EINTR, the stream's error set), so a
 * reader blocked on an idle pipe or FIFO ends at once. Returns the stream (fclose it; for "-" that leaves
 * descriptor 0 open), or NULL with errno set.
 */
FILE *intr_fopen(const char *path);

/*
 * read(2) of at most n bytes from fd into buf that waits for data or a signal, whichever comes first.
 * Returns what read(2) returns, or -1 with errno EINTR once SIGINT/SIGTERM was received.
 */
ssize_t intr_read_fd(int fd, void *buf, size_t n);

#endif
