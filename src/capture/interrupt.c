/* Ending a run on SIGINT/SIGTERM in every input mode: a self-pipe that input reads wait on with poll(2). */
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a signal handler may touch: written by the handler, read by the main loop. */
static volatile sig_atomic_t got_signal;
static pcap_t *volatile intr_pcap;
static int self_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    if (!got_signal)
        got_signal = sig;
    if (self_pipe[1] >= 0) {
        char c = 1;
        ssize_t r = write(self_pipe[1], &c, 1); /* non-blocking: a full pipe already says it */
        (void)r;
    }
    if (intr_pcap)
        pcap_breakloop(intr_pcap);
    errno = saved;
}

int intr_install(void)
{
    if (self_pipe[0] < 0 && pipe2(self_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking call returns EINTR */
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

void intr_set_pcap(pcap_t *p)
{
    intr_pcap = p;
}

int intr_signal(void)
{
    return got_signal;
}

/* The cookie of an intr_fopen() stream: the descriptor read, and whether it is ours to close. */
struct intr_file {
    int fd;
    int own;
};

ssize_t intr_read_fd(int fd, void *buf, size_t n)
{
    for (;;) {
        if (got_signal) {
            errno = EINTR;
            return -1;
        }
        struct pollfd pf[2] = {{fd, POLLIN, 0}, {self_pipe[0], POLLIN, 0}};
        int r = poll(pf, self_pipe[0] >= 0 ? 2 : 1, -1);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0 || got_signal)
            continue; /* the signal is seen at the top */
        if (pf[0].revents) {
            ssize_t k = read(fd, buf, n);
            if (k >= 0 || (errno != EINTR && errno != EAGAIN))
                return k;
        }
    }
}

static ssize_t intr_read(void *cookie, char *buf, size_t n)
{
    return intr_read_fd(((struct intr_file *)cookie)->fd, buf, n);
}

static int intr_close(void *cookie)
{
    struct intr_file *f = cookie;
    int r = f->own ? close(f->fd) : 0;
    free(f);
    return r;
}

FILE *intr_fopen(const char *path)
{
    struct intr_file *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    f->own = strcmp(path, "-") != 0;
    f->fd = f->own ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    if (f->fd < 0) {
        free(f);
        return NULL;
    }
    cookie_io_functions_t io = {.read = intr_read, .close = intr_close};
    FILE *fp = fopencookie(f, "rb", io);
    if (!fp) {
        int e = errno;
        if (f->own)
            close(f->fd);
        free(f);
        errno = e;
    }
    return fp;
}
