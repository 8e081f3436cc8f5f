/* hopscope command line: read a capture or an interface, write authentication records. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>

#include "authpcap.h"
#include "correlate.h"
#include "creds.h"
#include "engine.h"
#include "pipeline.h"
#include "evidence.h"
#include "expect.h"
#include "hugepage.h"
#include "instream.h"
#include "interrupt.h"
#include "krbcrypt.h"
#include "live.h"
#include "netmon.h"
#include "pcapfile.h"
#include "pcapng.h"
#include "progress.h"
#include "recmode.h"
#include "report.h"
#include "util.h"
#include "writer.h"

/* Exit codes (README "Exit status"). */
enum {
    EXIT_OK = 0,
    EXIT_INPUT = 1,     /* input could not be opened or used: missing, not a capture, link type, filter */
    EXIT_USAGE = 2,
    EXIT_TRUNCATED = 3, /* the capture ended in a damaged/truncated record; what came before was reported */
    EXIT_OUTPUT = 4,    /* writing the output failed */
    EXIT_EXPECT = 5,    /* --expect: the capture does not meet the expectations */
    EXIT_SIGNAL = 128,  /* + the signal's number: a file or pipe's reading cut short by SIGINT/SIGTERM */
};

/* The records' stdio buffer: whole lines reach the file (writer.h). Static because stdio keeps using the
 * buffer of standard output until exit, after main returns. */
static char out_buffer[WRITER_BUFFER];

static volatile sig_atomic_t hup_pending; /* SIGHUP: reopen -o and -w at the next packet */
static volatile sig_atomic_t usr1_pending; /* SIGUSR1: print the stats so far at the next packet */

static void on_usr1(int sig)
{
    (void)sig;
    usr1_pending = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    hup_pending = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: hopscope [options] (-r FILE | -i INTERFACE) [filter expression] [options]\n"
            "       hopscope [options] --records FILE...\n"
            "Explains Windows network authentication in traffic: who authenticated to what, how,\n"
            "and whether it worked. Writes one JSON object per line (docs/RECORDS.md).\n"
            "\n"
            "  -r FILE            read packets from a pcap, pcapng or NetMon file ('-' for standard input)\n"
            "  -i INTERFACE       capture live from INTERFACE (e.g. a span port); stop with Ctrl-C;\n"
            "                     repeat it for several interfaces (at most 16)\n"
            "  -B SIZE            with -i: the kernel capture buffer, in KiB (default libpcap's 2 MiB)\n"
            "  -p                 with -i: do not put the interface into promiscuous mode\n"
            "      --time-stamp-precision micro|nano  with -i: timestamp precision (-w keeps it)\n"
            "      --immediate-mode  accepted: -i always hands packets over as they arrive\n"
            "  -o FILE            write the records to FILE instead of standard output\n"
            "  -w FILE            write a pcap of the packets of the connections that carried\n"
            "                     authentication (bulk traffic left out) to FILE\n"
            "  -k KEYTAB          decrypt Kerberos tickets and authenticators with the keys of KEYTAB\n"
            "                     (repeatable: service keytabs, the krbtgt keytab, ...)\n"
            "      --creds FILE   verify NTLM responses and signatures with the accounts of FILE\n"
            "                     (repeatable; docs/CREDENTIALS.md: the lab's credentials.txt, pwdump)\n"
            "  -c COUNT           stop after COUNT packets\n"
            "  -s SNAPLEN         capture (-i) and write (-w) at most SNAPLEN bytes a packet (default 262144)\n"
            "  -D                 list the interfaces -i can capture on, and exit\n"
            "  -Z USER            drop root privileges to USER once the capture is open\n"
            "  -q                 quiet: no summary, no progress line\n"
            "  -v                 a summary of the run on standard error at its end\n"
            "  -n, -f             accepted as tcpdump accepts them (hopscope resolves no names)\n"
            "  -F, --format FMT   'json' (default, JSON Lines) or 'text' (a readable table)\n"
            "      --idle-timeout SECONDS   expire connections idle this long (default 600)\n"
            "      --max-flows N  connections tracked at once (default 1048576)\n"
            "      --hop-window SECONDS  how long after a first hop starts an onward connection from its\n"
            "                     server counts as a second hop (default 600)\n"
            "      --max-memory MIB   memory connections may hold (default 512); the least recently\n"
            "                     seen are evicted beyond\n"
            "      --stream       write each authentication when its verdict is known, what the session is\n"
            "                     used for as `use` records as it comes, findings as they are decided\n"
            "                     (the default with -i; docs/RECORDS.md, \"Streaming\")\n"
            "      --no-stream    write each authentication whole when its connection ends, findings at the end\n"
            "                     (the default with -r)\n"
            "      --stats-interval SECONDS  also write a stats record every SECONDS (packet time; on a\n"
            "                     live capture the wall clock too): packets, drops, flows, memory\n"
            "      --threads N    follow connections in N worker threads (1-64; default: none, one thread\n"
            "                     does everything); the same records whatever N (docs/ARCHITECTURE.md)\n"
            "      --dot FILE     write the hop graph in Graphviz DOT to FILE at the end of the run\n"
            "      --html FILE    write a self-contained HTML report (findings, hop graph, sessions) to FILE\n"
            "      --expect FILE  check the records and findings against FILE's expectations (JSON Lines,\n"
            "                     docs/REPORTS.md); say what differs and exit 5 when they are not met\n"
            "      --write-expect FILE  write expectations of this run's records and findings to FILE\n"
            "      --evidence DIR for each finding, a pcapng in DIR of the packets it rests on (with -r FILE)\n"
            "      --sensor NAME  stamp what this run writes with \"sensor\": NAME (letters, digits, '.', '_',\n"
            "                     '-'; at most 64): records of several sensors stay apart (docs/DEPLOYMENT.md)\n"
            "      --records      read no packets: the FILEs (arguments, '-' for standard input) are JSON Lines\n"
            "                     of hopscope sensors; report the findings across them as from one capture\n"
            "  -h, --help         show this help\n"
            "  -V, --version      show the version and those of the libraries\n"
            "\n"
            "A filter expression is a BPF filter, as in tcpdump; options may also follow it.\n"
            "SIGHUP reopens the -o and -w files (after a log rotation); SIGUSR1 prints the stats so far.\n"
            "On a terminal, a progress line is kept on standard error (off with -q).\n"
            "Exit status: 0 success, 1 input unusable, 2 usage, 3 capture truncated or damaged\n"
            "(records up to that point were written), 4 output could not be written,\n"
            "5 expectations (--expect) not met,\n"
            "128+N reading of a file or pipe ended by signal N (SIGINT 130, SIGTERM 143).\n");
}

/* --version: hopscope's and the libraries' (libpcap, OpenSSL, jansson at run time; MIT krb5 has no
 * run-time version call, so the one built against). */
static void version(void)
{
    printf("hopscope %s\n%s\nMIT krb5 %s\n%s\njansson %s\n", HOPSCOPE_VERSION, pcap_lib_version(),
           HOPSCOPE_KRB5_VERSION, OpenSSL_version(OPENSSL_VERSION), jansson_version_str());
}

/* -D: the interfaces, numbered, as tcpdump -D lists them. */
static int list_interfaces(void)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, errbuf) < 0) {
        fprintf(stderr, "hopscope: %s\n", errbuf);
        return EXIT_INPUT;
    }
    int i = 0;
    for (pcap_if_t *d = all; d; d = d->next) {
        printf("%d.%s", ++i, d->name);
        if (d->description)
            printf(" (%s)", d->description);
        printf(" [%s%s%s]\n", d->flags & PCAP_IF_UP ? "Up" : "Down", d->flags & PCAP_IF_RUNNING ? ", Running" : "",
               d->flags & PCAP_IF_LOOPBACK ? ", Loopback" : "");
    }
    pcap_freealldevs(all);
    if (!i) {
        fprintf(stderr, "hopscope: no interfaces to capture on (are you allowed to capture?)\n");
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

/* -Z USER: as tcpdump, only when running as root, after the capture is open and before any output file is
 * created. Returns 0, or -1 after one line on stderr. */
static int drop_privileges(const char *user)
{
    if (getuid() != 0 && geteuid() != 0)
        return 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        fprintf(stderr, "hopscope: -Z: no such user: %s\n", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "hopscope: -Z %s: %s\n", user, strerror(errno));
        return -1;
    }
    return 0;
}

/* The output files, reopened on SIGHUP. */
struct input;

/* What the run reports to: the output files (reopened on SIGHUP) and standard error (progress, SIGUSR1). */
struct outputs {
    const char *opath;      /* -o, or NULL for standard output */
    FILE *outf;
    struct hs_writer *w;
    const char *wpath;      /* -w, or NULL */
    struct authpcap *pcap;
    struct progress prog;   /* the progress line (off unless stderr is a terminal and no -q) */
    struct input *in;
    uint64_t analysed;      /* packets handed to the engine */
    bool stop;              /* a write failed (-o or -w): read no further */
    int64_t stats_every;    /* --stats-interval, µs; 0: none */
    int64_t next_stats;     /* the engine time (µs) of the next periodic stats record; 0: not yet set */
    struct live *live;      /* -i: the interfaces, whose counters are read into *cap before a stats record */
    bool nano;              /* -i --time-stamp-precision=nano: packet timestamps' tv_usec holds ns */
    struct hs_capture_stats *cap;
    struct hs_pipeline *pipe; /* --threads N: the workers behind the engine (pipeline.h), or NULL */
};

static void reopen_outputs(struct outputs *o)
{
    hup_pending = 0;
    if (o->pipe) /* what was read before the signal goes to the old files */
        pipeline_flush(o->pipe);
    char err[PCAP_ERRBUF_SIZE + 64];
    if (o->opath && o->w) {
        FILE *nf = fopen(o->opath, "a+"); /* read too: a failed write cuts back to the last whole line */
        if (!nf) {
            fprintf(stderr, "hopscope: SIGHUP: %s: %s (still writing to the old file)\n", o->opath, strerror(errno));
        } else {
            writer_flush(o->w);
            if (fclose(o->outf) != 0 && !o->w->failed) {
                o->w->failed = true;
                o->w->err = errno;
            }
            o->outf = nf;
            setvbuf(nf, out_buffer, _IOFBF, sizeof out_buffer);
            writer_set_file(o->w, nf);
        }
    }
    if (o->pcap && authpcap_reopen(o->pcap, err, sizeof err) != 0)
        fprintf(stderr, "hopscope: SIGHUP: %s: %s\n", o->wpath, err);
}

struct run {
    struct hs_engine *e;
    int dlt;
    uint64_t frame;
    const struct bpf_program *prog; /* a file's filter, run here (see open_input), or NULL */
    pcap_t *p;
    long left;                      /* with -c and prog: packets still to pass the filter; else -1 */
    struct outputs *out;
};

static void show_progress(struct hs_engine *e, struct outputs *o, bool force);

/* SIGUSR1: the stats so far, as the closing stats record has them, on one line of standard error. */
static void print_stats(struct hs_engine *e, struct outputs *o)
{
    usr1_pending = 0;
    struct hs_stats_view view;
    if (o->live)
        live_stats(o->live, o->cap);
    if (o->pipe)
        pipeline_stats_view(o->pipe, &view);
    else
        engine_stats_view(e, &view);
    view.periodic = true;
    char *line = stats_json_line(&view);
    progress_end(&o->prog);
    fprintf(stderr, "hopscope: %s\n", line ? line : "out of memory");
    free(line);
}

/* --stats-interval: a periodic stats record once the time now (µs: the engine's, that is packet time; on a
 * live capture moved on by the monotonic clock while idle) reaches the next one due, then the next is due an
 * interval later — one record for a longer gap, none while time steps back. Offline this depends on the
 * capture alone. */
static void maybe_stats(struct hs_engine *e, struct outputs *o, int64_t now)
{
    if (!o->stats_every)
        return;
    if (!o->next_stats) {
        o->next_stats = now + o->stats_every;
        return;
    }
    if (now < o->next_stats)
        return;
    if (o->live)
        live_stats(o->live, o->cap);
    if (o->pipe)
        pipeline_stats(o->pipe, now);
    else
        engine_stats(e, now);
    o->next_stats += o->stats_every * ((now - o->next_stats) / o->stats_every + 1);
}

/* --threads: -w's packets, in frame order once processed (pipeline.h). */
static void on_frame(void *arg, int dlt, const struct pcap_pkthdr *h, const uint8_t *data, const struct hs_pkt_conn *last)
{
    struct outputs *o = arg;
    if (o->pcap)
        authpcap_packet(o->pcap, dlt, h, data, last->conn_id, last->auth, last->ignored);
}

/* engine_idle(), or the workers' with --threads. */
static void idle(struct hs_engine *e, struct outputs *o, int64_t now_us)
{
    if (o->pipe)
        pipeline_idle(o->pipe, now_us);
    else
        engine_idle(e, now_us);
}

/* One packet that passed the filter: to the engine, then (with -w) to the pcap of authenticated connections;
 * signals that arrived since the last packet are acted on first. */
static void analyse(struct hs_engine *e, struct outputs *o, int dlt, uint64_t frame, const struct pcap_pkthdr *h,
                    const u_char *data)
{
    if (hup_pending)
        reopen_outputs(o);
    if (usr1_pending)
        print_stats(e, o);
    struct timeval ts = h->ts;
    if (o->nano) /* the engine and the records count µs; -w keeps the capture's ns */
        ts.tv_usec /= 1000;
    if (o->pipe) { /* -w: on_frame(), once the frame is processed */
        pipeline_packet(o->pipe, dlt, frame, &ts, h, data);
    } else {
        engine_packet(e, dlt, frame, &ts, data, h->caplen);
        if (o->pcap)
            authpcap_packet(o->pcap, dlt, h, data, e->last.conn_id, e->last.auth, e->last.ignored);
    }
    int64_t now;
    if (o->stats_every && engine_now(e, &now))
        maybe_stats(e, o, now);
    o->stop = o->w->failed || (o->pcap && authpcap_failed(o->pcap));
    /* The clock is read every 256 packets only; a live capture's line is drawn by run_live(), once a second. */
    if (o->prog.f && ((++o->analysed & 255) == 0 || !o->prog.shown) && !o->prog.live)
        show_progress(e, o, false);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct run *r = (struct run *)user;
    r->frame++; /* every frame of the file, filtered out or not: frame numbers are Wireshark's */
    if (r->prog && !pcap_offline_filter(r->prog, h, data))
        return;
    analyse(r->e, r->out, r->dlt, r->frame, h, data);
    if ((r->left > 0 && --r->left == 0) || r->out->stop)
        pcap_breakloop(r->p);
}

static struct hs_creds creds; /* --creds: wiped by finish() */

/* Frees what main holds for the whole run (keys and credentials wiped) and passes the exit status through. */
static int finish(struct kc_keys *keys, int status)
{
    kc_free(keys);
    creds_free(&creds);
    return status;
}

static char *join_args(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *s = calloc(1, n);
    if (!s)
        return NULL;
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

/* The input: a libpcap handle (pcap file, live), a pcapng file read by hopscope (each interface its own link
 * type), or a Network Monitor file libpcap cannot read; files gzip/zstd/lz4-compressed or not. */
#define MAX_FILTER_LINKS 16

struct link_filter {
    int dlt;
    bool ok;                /* compiled; false: that link type's packets are dropped (the filter cannot apply) */
    struct bpf_program prog;
};

struct input {
    const char *name;
    pcap_t *p;              /* libpcap input, or a dead handle holding the filter for NetMon/pcapng; NULL live */
    struct live live;       /* -i: the interfaces (live.n of them) */
    struct hs_capture_stats cap; /* -i: their counters, as last read */
    char names[256];        /* several -i: their names, joined by commas (what `name` points to) */
    struct netmon nm;       /* nm.f set for a NetMon file */
    struct pcapng ng;       /* ng.f set for a pcapng file */
    struct instream is;     /* the file's bytes (decompressed); is.f handed to libpcap, NetMon or pcapng */
    struct bpf_program prog;
    bool have_prog;
    bool offline;           /* a file, not a live interface */
    bool pcap_file;         /* libpcap opened is.f (and closes it) */
    struct pcapfile pf;     /* pf.buf set: hopscope reads that pcap file's packets itself, in large blocks */
    int dlt;                /* the link type (pcapng: the first interface's) */
    char *expr;             /* the filter expression, or NULL */
    struct link_filter lf[MAX_FILTER_LINKS]; /* pcapng: the filter compiled per link type, as they come */
    unsigned nlf;
    uint64_t filter_dropped; /* pcapng: packets of a link type the filter could not be compiled for */
};

static void close_input(struct input *in)
{
    if (in->have_prog)
        pcap_freecode(&in->prog);
    for (unsigned i = 0; i < in->nlf; i++)
        if (in->lf[i].ok)
            pcap_freecode(&in->lf[i].prog);
    free(in->expr);
    if (in->p)
        pcap_close(in->p); /* closes is.f when libpcap was reading it */
    live_close(&in->live);
    if (in->pcap_file)
        instream_forget(&in->is); /* f closed by libpcap: only its buffer is left */
    else if (in->is.f)
        instream_close(&in->is);
    pcapfile_free(&in->pf);
    pcapng_free(&in->ng);
    if (in->nm.f)
        netmon_close(&in->nm);
    instream_forget(&in->is); /* the buffer of a file NetMon's reader was given (and closed) */
    in->p = NULL;
}

/* The filter for packets of link type dlt (pcapng), compiled the first time that type is seen. NULL when the
 * filter cannot be compiled for it (said once on stderr) or too many link types came. */
static const struct bpf_program *filter_for(struct input *in, int dlt)
{
    if (dlt == in->dlt)
        return &in->prog;
    for (unsigned i = 0; i < in->nlf; i++)
        if (in->lf[i].dlt == dlt)
            return in->lf[i].ok ? &in->lf[i].prog : NULL;
    if (in->nlf == MAX_FILTER_LINKS)
        return NULL;
    struct link_filter *f = &in->lf[in->nlf++];
    f->dlt = dlt;
    pcap_t *dead = pcap_open_dead(dlt, 262144);
    f->ok = dead && pcap_compile(dead, &f->prog, in->expr, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (!f->ok)
        fprintf(stderr, "hopscope: filter '%s' does not apply to link type %d: its packets are skipped\n", in->expr,
                dlt);
    if (dead)
        pcap_close(dead);
    return f->ok ? &f->prog : NULL;
}

/* NetMon needs to seek (its frame table is at the end): a stream (standard input, a compressed file) is copied
 * into an anonymous temporary file first (tmpfd(): in $TMPDIR). Returns that file, or NULL with errno. */
static FILE *spool(FILE *src)
{
    int fd = tmpfd();
    FILE *t = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!t) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, src)) > 0)
        if (fwrite(buf, 1, n, t) != n) {
            fclose(t);
            return NULL;
        }
    if (ferror(src) || fflush(t) != 0 || fseek(t, 0, SEEK_SET) != 0) {
        fclose(t);
        errno = errno ? errno : EIO;
        return NULL;
    }
    return t;
}

/* Opens -r FILE: NetMon, pcapng or (libpcap) pcap, told by the first bytes of the content. */
static int open_file(struct input *in, const char *rfile)
{
    char errbuf[PCAP_ERRBUF_SIZE + 64] = "";
    if (instream_open(&in->is, rfile, errbuf, sizeof errbuf) != 0) {
        fprintf(stderr, "hopscope: %s: %s\n", rfile, errbuf);
        return EXIT_INPUT;
    }
    if (in->is.nmagic == 4 && !memcmp(in->is.magic, "GMBU", 4)) {
        FILE *f = in->is.f;
        if (!in->is.seekable) {
            f = spool(in->is.f);
            int e = errno;
            instream_close(&in->is);
            if (!f) {
                fprintf(stderr, "hopscope: %s: cannot copy to a temporary file: %s\n", rfile, strerror(e));
                return EXIT_INPUT;
            }
        }
        in->is.f = NULL;
        if (netmon_fopen(&in->nm, f) != 0) {
            fprintf(stderr, "hopscope: %s: %s\n", rfile, in->nm.err);
            return EXIT_INPUT;
        }
        in->dlt = DLT_EN10MB;
        in->p = pcap_open_dead(DLT_EN10MB, NETMON_MAX_FRAME); /* only to compile and run the filter */
        return EXIT_OK;
    }
    if (pcapng_is(in->is.magic, in->is.nmagic)) {
        int dlt;
        if (pcapng_open(&in->ng, in->is.f, &dlt) != 0) {
            fprintf(stderr, "hopscope: %s: %s\n", rfile, in->ng.err);
            return EXIT_INPUT;
        }
        in->dlt = dlt >= 0 ? dlt : DLT_EN10MB;
        in->p = pcap_open_dead(in->dlt, 262144); /* the filter for the first interface's link type */
        return EXIT_OK;
    }
    in->p = pcap_fopen_offline_with_tstamp_precision(in->is.f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!in->p) {
        instream_close(&in->is);
        /* libpcap's message often starts with the file name already. */
        if (!strncmp(errbuf, rfile, strlen(rfile)))
            fprintf(stderr, "hopscope: %s\n", errbuf);
        else
            fprintf(stderr, "hopscope: %s: %s\n", rfile, errbuf);
        return EXIT_INPUT;
    }
    in->pcap_file = true;
    in->dlt = pcap_datalink(in->p);
    /* The packets of a standard file are read here in large blocks; libpcap keeps the unusual variants. */
    if (pcapfile_can_read(in->p, in->is.magic) &&
        pcapfile_open(&in->pf, in->is.f, in->p, in->is.magic, !in->is.seekable) != 0) {
        fprintf(stderr, "hopscope: %s: %s\n", rfile, in->pf.err);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

/* Opens the interfaces of -i (live.h does; the filter is compiled for each). */
static int open_live(struct input *in, const char *const *ifaces, unsigned nifaces, struct live_opts lo, int nexpr,
                     char **expr_words)
{
    char err[PCAP_ERRBUF_SIZE + 512];
    if (nexpr > 0 && !(in->expr = join_args(nexpr, expr_words))) {
        fprintf(stderr, "hopscope: out of memory\n");
        return EXIT_INPUT;
    }
    lo.filter = in->expr;
    if (nifaces > 1) {
        size_t k = 0;
        for (unsigned i = 0; i < nifaces && k < sizeof in->names; i++) {
            int w = snprintf(in->names + k, sizeof in->names - k, "%s%s", i ? "," : "", ifaces[i]);
            k += w > 0 ? (size_t)w : 0;
        }
        in->name = in->names;
    }
    if (live_open(&in->live, ifaces, nifaces, &lo, err, sizeof err) != 0) {
        fprintf(stderr, "hopscope: %s\n", err);
        return EXIT_INPUT;
    }
    for (unsigned i = 0; i < in->live.n; i++)
        if (!decode_link_supported(in->live.ifs[i].dlt)) {
            const char *name = pcap_datalink_val_to_name(in->live.ifs[i].dlt);
            fprintf(stderr, "hopscope: %s: unsupported link type %d (%s)\n", in->live.ifs[i].name,
                    in->live.ifs[i].dlt, name ? name : "unknown");
            return EXIT_INPUT;
        }
    in->dlt = in->live.ifs[0].dlt; /* -w's link type: packets of other interfaces' types are left out of it */
    return EXIT_OK;
}

/* Opens -r FILE or -i IFACE... and compiles the filter; one error line and an exit status on failure. */
static int open_input(struct input *in, const char *rfile, const char *const *ifaces, unsigned nifaces,
                      const struct live_opts *lo, int nexpr, char **expr_words)
{
    memset(in, 0, sizeof *in);
    in->name = rfile ? rfile : ifaces[0];
    in->offline = rfile != NULL;
    if (!rfile) {
        int st = open_live(in, ifaces, nifaces, *lo, nexpr, expr_words);
        if (st != EXIT_OK)
            close_input(in);
        return st;
    }
    int st = open_file(in, rfile);
    if (st != EXIT_OK) {
        close_input(in);
        return st;
    }
    if (!in->p) {
        fprintf(stderr, "hopscope: out of memory\n");
        close_input(in);
        return EXIT_INPUT;
    }
    if (!decode_link_supported(in->dlt)) {
        const char *name = pcap_datalink_val_to_name(in->dlt);
        fprintf(stderr, "hopscope: %s: unsupported link type %d (%s)\n", in->name, in->dlt, name ? name : "unknown");
        close_input(in);
        return EXIT_INPUT;
    }
    if (nexpr > 0) {
        in->expr = join_args(nexpr, expr_words);
        if (!in->expr || pcap_compile(in->p, &in->prog, in->expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            fprintf(stderr, "hopscope: filter '%s': %s\n", in->expr ? in->expr : "", pcap_geterr(in->p));
            close_input(in);
            return EXIT_INPUT;
        }
        /* A file's filter runs in on_packet(), after the frame is counted: libpcap would drop filtered-out
         * frames unseen, and every frame number after the first one dropped would be off. */
        in->have_prog = true;
    }
    return EXIT_OK;
}

/* Bytes of the input read so far: of the file on disk (compressed bytes for a compressed file). */
static uint64_t input_pos(const struct input *in)
{
    long pos = -1;
    if (in->is.cookie)
        return instream_raw_pos(&in->is);
    if (in->pf.buf)
        return in->pf.pos;
    if (in->pcap_file)
        pos = ftell(pcap_file(in->p));
    else if (in->ng.f)
        pos = ftell(in->ng.f);
    else if (in->nm.f)
        pos = ftell(in->nm.f);
    return pos > 0 ? (uint64_t)pos : 0;
}

static void show_progress(struct hs_engine *e, struct outputs *o, bool force)
{
    const struct input *in = o->in;
    struct progress_sample s = {0};
    s.packets = e->st.packets;
    if (in->offline) {
        s.bytes = input_pos(in);
        s.total = in->nm.f ? in->nm.size : in->is.size;
    } else {
        s.live = true;
        s.bytes = e->st.bytes;
        live_stats(&o->in->live, &o->in->cap);
        s.drops = in->cap.kernel_drops + in->cap.interface_drops;
    }
    progress_update(&o->prog, &s, force);
}

static int run_pcap(struct input *in, struct hs_engine *e, struct outputs *o, long count)
{
    bool own_filter = in->have_prog && in->offline;
    struct run run = {e, in->dlt, 0, own_filter ? &in->prog : NULL, in->p, own_filter && count > 0 ? count : -1, o};
    /* SIGINT/SIGTERM end the loop cleanly (a live capture's normal end): every record is flushed. */
    intr_set_pcap(in->p);
    /* -c counts packets that pass the filter (as tcpdump's does); with a file's filter on_packet() counts. */
    int cnt = !own_filter && count > 0 && count < INT32_MAX ? (int)count : -1;
    int rc = pcap_loop(in->p, cnt, on_packet, (u_char *)&run);
    intr_set_pcap(NULL);
    if (rc == PCAP_ERROR && !intr_signal()) { /* a read a signal interrupted is no damage */
        /* e.g. "truncated dump file; tried to read 1514 captured bytes, only got 800", or the decompressor's
         * reason ("gzip: invalid distance too far back") when it was that which failed */
        const char *why = in->pcap_file ? instream_error(&in->is) : NULL;
        fprintf(stderr, "hopscope: %s: %s (after %llu packets; records up to there are reported)\n", in->name,
                why ? why : pcap_geterr(in->p), (unsigned long long)run.frame);
        return EXIT_TRUNCATED;
    }
    return EXIT_OK;
}

/* A pcap file read by pcapfile: the same per-packet path as pcap_loop's callback, without its copies. */
static int run_pcapfile(struct input *in, struct hs_engine *e, struct outputs *o, long count)
{
    bool own_filter = in->have_prog;
    struct run run = {e, in->dlt, 0, own_filter ? &in->prog : NULL, in->p, count > 0 ? count : -1, o};
    struct pcap_pkthdr h;
    const uint8_t *data;
    int rc = 0;
    while (run.left != 0 && !o->stop && !intr_signal() && (rc = pcapfile_next(&in->pf, &h, &data)) == 1) {
        run.frame++; /* every frame of the file, filtered out or not: frame numbers are Wireshark's */
        if (own_filter && !pcap_offline_filter(&in->prog, &h, data))
            continue;
        analyse(e, o, run.dlt, run.frame, &h, data);
        if (run.left > 0)
            run.left--;
    }
    if (rc < 0 && !intr_signal()) {
        const char *why = instream_error(&in->is);
        fprintf(stderr, "hopscope: %s: %s (after %llu packets; records up to there are reported)\n", in->name,
                why ? why : in->pf.err, (unsigned long long)run.frame);
        return EXIT_TRUNCATED;
    }
    return EXIT_OK;
}

static int64_t clock_us(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* A live capture as it runs: frames numbered across the interfaces; -c counted down. */
struct live_run {
    struct hs_engine *e;
    struct outputs *o;
    uint64_t frame;
    long left;                      /* -c: packets still to analyse; -1 without */
};

static void on_live_packet(void *arg, const struct live_iface *li, const struct pcap_pkthdr *h, const uint8_t *data)
{
    struct live_run *r = arg;
    if (r->left == 0 || r->o->stop) /* the rest of a batch after -c was reached or a write failed */
        return;
    analyse(r->e, r->o, li->dlt, ++r->frame, h, data);
    if (r->left > 0)
        r->left--;
}

/*
 * -i: packets from every interface as they come, until SIGINT/SIGTERM, -c, a write error or a capture error
 * (EXIT_INPUT after one line). When 100 ms pass with no packet the engine's clock is moved on by the time
 * elapsed since the last packet, measured on the monotonic clock (a step of the wall clock moves nothing):
 * idle connections expire and their records are written while the link is quiet.
 */
static int run_live(struct input *in, struct hs_engine *e, struct outputs *o, long count)
{
    struct live_run r = {e, o, 0, count > 0 ? count : -1};
    char err[PCAP_ERRBUF_SIZE + 256];
    int64_t mono_last = clock_us(CLOCK_MONOTONIC); /* when the engine's time was last set by packets */
    int64_t real_start = clock_us(CLOCK_REALTIME); /* the time before the first packet: the start, moved on
                                                     * by the monotonic clock */
    int64_t mono_start = mono_last;
    int64_t mono_polled = mono_last;
    int status = EXIT_OK;
    while (!intr_signal() && !o->stop && r.left != 0) {
        if (hup_pending)
            reopen_outputs(o);
        if (usr1_pending)
            print_stats(e, o);
        int batch = r.left > 0 && r.left < 4096 ? (int)r.left : 4096;
        int n = live_dispatch(&in->live, 100, batch, on_live_packet, &r, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "hopscope: %s\n", err);
            status = EXIT_INPUT;
            break;
        }
        int64_t mono = clock_us(CLOCK_MONOTONIC);
        if (n > 0 && o->pipe) /* what the capture had goes to the workers, and what they had before is handed
                               * on: a live record waits for the next read (at most 100 ms, then idle() below
                               * processes everything), never for a batch to fill */
            pipeline_submit(o->pipe);
        if (n > 0)
            mono_last = mono;
        else if (e->have_ts) {
            idle(e, o, e->last_ts_us + (mono - mono_last));
            maybe_stats(e, o, e->last_ts_us + (mono - mono_last));
        } else {
            maybe_stats(e, o, real_start + (mono - mono_start)); /* stats from the start, even before a packet */
        }
        if (mono - mono_polled >= 1000000) { /* libpcap's 32-bit counters read often enough not to wrap unseen */
            live_stats(&in->live, &in->cap);
            mono_polled = mono;
            if (o->prog.f) /* the progress line, idle or not, once a second (it reads the counters too) */
                show_progress(e, o, false);
        }
    }
    live_stats(&in->live, &in->cap);
    if (e->have_ts) /* the closing stats' time: now */
        idle(e, o, e->last_ts_us + (clock_us(CLOCK_MONOTONIC) - mono_last));
    return status;
}

/* NetMon frames are numbered as Wireshark numbers them (every frame, events included); frames that are
 * not Ethernet (NetMon's own event records) are counted and not decoded. */
static int run_netmon(struct input *in, struct hs_engine *e, struct outputs *o, long count)
{
    uint64_t frame = 0;
    struct timeval ts;
    const uint8_t *data;
    uint32_t caplen, wirelen;
    int dlt, rc = 0;
    while (!intr_signal() && !o->stop && (count <= 0 || (long)frame < count) &&
           (rc = netmon_next(&in->nm, &dlt, &ts, &data, &caplen, &wirelen)) == 1) {
        frame++;
        if (dlt < 0) {
            engine_frame_undecoded(e, caplen);
            continue;
        }
        struct pcap_pkthdr h = {ts, caplen, wirelen};
        if (in->have_prog && !pcap_offline_filter(&in->prog, &h, data))
            continue;
        analyse(e, o, dlt, frame, &h, data);
    }
    if (rc < 0 && !intr_signal()) {
        fprintf(stderr, "hopscope: %s: %s (after %llu frames; records up to there are reported)\n", in->name,
                in->nm.err, (unsigned long long)frame);
        return EXIT_TRUNCATED;
    }
    return EXIT_OK;
}

/* pcapng read by hopscope: each packet decoded by its own interface's link type; packets of a link type hopscope
 * does not decode are counted as frames and not decoded. */
static int run_pcapng(struct input *in, struct hs_engine *e, struct outputs *o, long count)
{
    uint64_t frame = 0;
    long passed = 0;
    struct pcap_pkthdr h;
    const uint8_t *data;
    int dlt, rc = 0;
    while (!intr_signal() && !o->stop && (count <= 0 || passed < count) && (rc = pcapng_next(&in->ng, &dlt, &h, &data)) == 1) {
        frame++;
        if (in->have_prog) {
            const struct bpf_program *prog = filter_for(in, dlt);
            if (!prog) {
                in->filter_dropped++;
                continue;
            }
            if (!pcap_offline_filter(prog, &h, data))
                continue;
        }
        passed++;
        if (!decode_link_supported(dlt)) {
            engine_frame_undecoded(e, h.caplen);
            continue;
        }
        analyse(e, o, dlt, frame, &h, data);
    }
    if (rc < 0) {
        const char *why = instream_error(&in->is);
        fprintf(stderr, "hopscope: %s: %s (after %llu packets; records up to there are reported)\n", in->name,
                why ? why : in->ng.err, (unsigned long long)frame);
        return EXIT_TRUNCATED;
    }
    return EXIT_OK;
}

/* -v: what the run saw, on standard error at its end. */
static void summary(const struct hs_engine *e, const struct outputs *o)
{
    fprintf(stderr, "hopscope: %llu packets (%llu bytes), %llu connections, %llu authentication records, "
                    "%llu KDC exchanges\n",
            (unsigned long long)e->st.packets, (unsigned long long)e->st.bytes, (unsigned long long)e->st.flows,
            (unsigned long long)e->st.records, (unsigned long long)e->st.kdc_records);
    if (o->pcap) {
        const struct authpcap_stats *ps = authpcap_stats(o->pcap);
        fprintf(stderr, "hopscope: -w %s: %llu packets written", o->wpath, (unsigned long long)ps->written);
        if (ps->lost)
            fprintf(stderr, ", %llu of authenticated connections not kept (buffer limits)", (unsigned long long)ps->lost);
        if (ps->other_link)
            fprintf(stderr, ", %llu of another link type than the first interface's left out",
                    (unsigned long long)ps->other_link);
        fputc('\n', stderr);
    }
}

/* What is drawn from the hop graph at the end of the run (--dot, --html). */
struct reports {
    const char *dot, *html;
    const char *expect, *write_expect; /* --expect, --write-expect */
    const char *evidence;              /* --evidence DIR */
    FILE *wexpect;
    struct hs_expect *x;
};

/* Writes the reports asked for; 0, or -1 after saying on stderr what failed. */
static int write_reports(const struct reports *rep, const struct hop_graph *g, const char *input)
{
    if (!rep->dot && !rep->html)
        return 0;
    if (!g) {
        fprintf(stderr, "hopscope: out of memory building the hop graph\n");
        return -1;
    }
    char title[512];
    snprintf(title, sizeof title, "hopscope: %s", input ? input : "");
    int rc = 0;
    if (rep->dot && report_write_file(rep->dot, report_write_dot, g, title) != 0)
        rc = -1;
    if (rep->html && report_write_file(rep->html, report_write_html, g, input) != 0)
        rc = -1;
    return rc;
}

/* Sets up --expect / --write-expect in front of next: EXIT_OK, or after one line on stderr EXIT_OUTPUT (the
 * --write-expect file cannot be created) or EXIT_INPUT (the --expect file cannot be used). */
static int open_expect(struct reports *rep, struct hs_sink *next)
{
    if (!rep->expect && !rep->write_expect)
        return EXIT_OK;
    char err[512];
    if (rep->write_expect) {
        rep->wexpect = fopen(rep->write_expect, "w");
        if (!rep->wexpect) {
            fprintf(stderr, "hopscope: %s: %s\n", rep->write_expect, strerror(errno));
            return EXIT_OUTPUT;
        }
    }
    rep->x = expect_new(next, rep->expect, rep->wexpect, err, sizeof err);
    if (!rep->x) {
        fprintf(stderr, "hopscope: --expect: %s\n", err);
        if (rep->wexpect)
            fclose(rep->wexpect);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

/* Ends --expect / --write-expect: says what differs; EXIT_OK, EXIT_EXPECT or EXIT_OUTPUT. */
static int close_expect(struct reports *rep)
{
    if (!rep->x)
        return EXIT_OK;
    int st = EXIT_OK;
    if (rep->expect) {
        size_t n = expect_finish(rep->x, stderr);
        if (n) {
            fprintf(stderr, "hopscope: %s: %zu difference%s from the expectations\n", rep->expect, n,
                    n == 1 ? "" : "s");
            st = EXIT_EXPECT;
        } else {
            fprintf(stderr, "hopscope: %s: all %zu expectations met\n", rep->expect, expect_count(rep->x));
        }
    }
    bool wfail = rep->wexpect && expect_write_failed(rep->x);
    if (rep->wexpect && fclose(rep->wexpect) != 0) /* closed whatever happened before */
        wfail = true;
    if (wfail) {
        fprintf(stderr, "hopscope: %s: write failed\n", rep->write_expect);
        st = EXIT_OUTPUT;
    }
    expect_free(rep->x);
    rep->x = NULL;
    return st;
}

/* Temporary arrays up to 4 MiB (the correlation rules sort and index the summaries each time they run: every
 * period of a streaming run) come from the heap and are reused, rather than mapped afresh and faulted in
 * page by page each time: glibc maps anything over 128 KiB until a large free raises its threshold. Larger
 * arrays (the summaries of a whole offline run) are still mapped, so that they grow by mremap without copies
 * or holes; the arrays that grow large (the summaries, the findings held) are such mappings with transparent
 * huge pages (hugepage_realloc). The heap's first 16 MiB ask for huge pages too (hugepage.h): a 1 GiB capture
 * then takes ~1,300 page faults instead of ~4,900, which on a virtual machine is ~10% of the run, for ~2 MB
 * more resident at 4 GiB. The heap grows in 16 MiB steps, and free memory above 16 MiB at its top is given
 * back. */
#define HEAP_HUGE ((size_t)16 << 20)

static void malloc_policy(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    hugepage_heap(HEAP_HUGE);
#endif
}

int main(int argc, char **argv)
{
    malloc_policy();
    const char *rfile = NULL, *ofile = NULL, *wfile = NULL, *zuser = NULL;
    const char *ifaces[LIVE_MAX_IFACES];
    unsigned nifaces = 0;
    struct live_opts lo = {.promisc = true}; /* -i's options as tcpdump names them */
    struct kc_keys keys = {0};
    char kerr[256];
    long count = -1;
    int snaplen = 262144;
    bool quiet = false, verbose = false, list = false;
    enum output_format fmt = OUTPUT_JSON;
    struct hs_limits lim;
    hs_limits_default(&lim);
    uint32_t hop_window = 0; /* 0: the correlation stage's default */
    unsigned long stats_interval = 0; /* --stats-interval, seconds; 0: none */
    unsigned long threads = 0;        /* --threads; 0: one engine in the reading thread */
    struct reports rep = {0};
    bool records = false;       /* --records */
    const char *sensor = NULL;  /* --sensor */
    int stream = -1;            /* --stream 1, --no-stream 0; -1: streaming on a live capture only */

    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"format", required_argument, NULL, 'F'},
        {"idle-timeout", required_argument, NULL, 1},
        {"max-flows", required_argument, NULL, 2},
        {"hop-window", required_argument, NULL, 3},
        {"creds", required_argument, NULL, 4},
        {"max-memory", required_argument, NULL, 5},
        {"stats-interval", required_argument, NULL, 6},
        {"time-stamp-precision", required_argument, NULL, 7},
        {"immediate-mode", no_argument, NULL, 8},
        {"stream", no_argument, NULL, 9},
        {"no-stream", no_argument, NULL, 10},
        {"dot", required_argument, NULL, 20},
        {"html", required_argument, NULL, 21},
        {"expect", required_argument, NULL, 22},
        {"write-expect", required_argument, NULL, 23},
        {"evidence", required_argument, NULL, 24},
        {"records", no_argument, NULL, 25},
        {"sensor", required_argument, NULL, 26},
        {"threads", required_argument, NULL, 27},
        {NULL, 0, NULL, 0},
    };
    /* From the start, so that a SIGHUP or SIGUSR1 sent early (a rotation script, a curious user) cannot end
     * the run: they only set a flag, acted on at the next packet. */
    signal(SIGHUP, on_hup);
    signal(SIGUSR1, on_usr1);
    int opt;
    /* No leading '+': GNU getopt permutes, so options may follow the filter expression (as tcpdump's on Linux). */
    while ((opt = getopt_long(argc, argv, "r:i:o:w:c:s:F:k:Z:B:DnfpqvhV", longopts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'r': rfile = optarg; break;
        case 'i':
            if (nifaces == LIVE_MAX_IFACES) {
                fprintf(stderr, "hopscope: -i: at most %d interfaces in one run\n", LIVE_MAX_IFACES);
                return finish(&keys, EXIT_USAGE);
            }
            ifaces[nifaces++] = optarg;
            break;
        case 'p': lo.promisc = false; break;
        case 'B': {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (*end || !*optarg || v <= 0 || v > INT32_MAX / 1024 || errno) {
                fprintf(stderr, "hopscope: -B: not a buffer size in KiB from 1 to %d: %s\n", INT32_MAX / 1024, optarg);
                return finish(&keys, EXIT_USAGE);
            }
            lo.buffer_kib = (int)v;
            break;
        }
        case 7:
            if (!strcmp(optarg, "micro"))
                lo.nano = false;
            else if (!strcmp(optarg, "nano"))
                lo.nano = true;
            else {
                fprintf(stderr, "hopscope: --time-stamp-precision: expected 'micro' or 'nano', got '%s'\n", optarg);
                return finish(&keys, EXIT_USAGE);
            }
            break;
        case 8: /* --immediate-mode: always on for -i (live.c) */
            break;
        case 'o': ofile = optarg; break;
        case 'w': wfile = optarg; break;
        case 'Z': zuser = optarg; break;
        case 'D': list = true; break;
        case 'n': /* hopscope resolves no names: -n is what it always does */
        case 'f': /* tcpdump's "foreign addresses numerically": likewise */
            break;
        case 'q': quiet = true; break;
        case 'v': verbose = true; break;
        case 'k':
            if (kc_load_keytab(&keys, optarg, kerr, sizeof kerr) != 0) {
                fprintf(stderr, "hopscope: %s: %s\n", optarg, kerr);
                return finish(&keys, EXIT_INPUT);
            }
            break;
        case 4:
            if (creds_load(&creds, optarg, kerr, sizeof kerr) != 0) {
                fprintf(stderr, "hopscope: %s\n", kerr);
                return finish(&keys, EXIT_INPUT);
            }
            break;
        case 'c':
            errno = 0;
            count = strtol(optarg, &end, 10);
            if (*end || count <= 0 || errno) {
                fprintf(stderr, "hopscope: -c: not a positive number: %s\n", optarg);
                return finish(&keys, EXIT_USAGE);
            }
            break;
        case 's': {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (*end || !*optarg || v < 0 || errno) {
                fprintf(stderr, "hopscope: -s: not a snapshot length: %s\n", optarg);
                return finish(&keys, EXIT_USAGE);
            }
            /* As tcpdump: 0 means the default; more than the default is the default. */
            snaplen = v == 0 || v > 262144 ? 262144 : (int)v;
            break;
        }
        case 'F':
            if (!strcmp(optarg, "json"))
                fmt = OUTPUT_JSON;
            else if (!strcmp(optarg, "text"))
                fmt = OUTPUT_TEXT;
            else {
                fprintf(stderr, "hopscope: --format: expected 'json' or 'text', got '%s'\n", optarg);
                return finish(&keys, EXIT_USAGE);
            }
            break;
        case 1:
        case 2:
        case 3: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v == 0 || v > 0xFFFFFFFFul) {
                fprintf(stderr, "hopscope: %s: not a positive number: %s\n",
                        opt == 1 ? "--idle-timeout" : opt == 2 ? "--max-flows" : "--hop-window", optarg);
                return finish(&keys, EXIT_USAGE);
            }
            if (opt == 1)
                lim.idle_timeout = (uint32_t)v;
            else if (opt == 2)
                lim.max_flows = (uint32_t)v;
            else
                hop_window = (uint32_t)v;
            break;
        }
        case 5: {
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end || !isdigit((unsigned char)optarg[0]) || v == 0 || v > (1ull << 40)) {
                fprintf(stderr, "hopscope: --max-memory: not a number of MiB from 1 to 2^40: %s\n", optarg);
                return finish(&keys, EXIT_USAGE);
            }
            lim.max_memory = v << 20;
            break;
        }
        case 27:
            errno = 0;
            threads = strtoul(optarg, &end, 10);
            if (*end || !isdigit((unsigned char)optarg[0]) || threads == 0 || threads > PIPELINE_THREADS_MAX || errno) {
                fprintf(stderr, "hopscope: --threads: not a number of worker threads from 1 to %d: %s\n",
                        PIPELINE_THREADS_MAX, optarg);
                return finish(&keys, EXIT_USAGE);
            }
            break;
        case 6:
            errno = 0;
            stats_interval = strtoul(optarg, &end, 10);
            if (*end || !isdigit((unsigned char)optarg[0]) || stats_interval == 0 || stats_interval > 86400 * 366 ||
                errno) {
                fprintf(stderr, "hopscope: --stats-interval: not a number of seconds from 1 to a year: %s\n", optarg);
                return finish(&keys, EXIT_USAGE);
            }
            break;
        case 9: stream = 1; break;
        case 10: stream = 0; break;
        case 20: rep.dot = optarg; break;
        case 21: rep.html = optarg; break;
        case 22: rep.expect = optarg; break;
        case 23: rep.write_expect = optarg; break;
        case 24: rep.evidence = optarg; break;
        case 25: records = true; break;
        case 26:
            if (!sensor_name_ok(optarg)) {
                fprintf(stderr, "hopscope: --sensor: letters, digits, '.', '_' and '-' only, 1 to 64 of them: %s\n",
                        optarg);
                return finish(&keys, EXIT_USAGE);
            }
            sensor = optarg;
            break;
        case 'h': usage(stdout); return finish(&keys, EXIT_OK);
        case 'V': version(); return finish(&keys, EXIT_OK);
        default: usage(stderr); return finish(&keys, EXIT_USAGE);
        }
    }
    if (records) { /* findings across the records of several sensors (src/cli/recmode.c) */
        const char *packets_only = rfile ? "-r" : nifaces ? "-i" : wfile ? "-w" : keys.n ? "-k" : creds.n ? "--creds"
                                 : rep.evidence ? "--evidence" : count > 0 ? "-c" : zuser ? "-Z" : list ? "-D" : NULL;
        struct records_args ra = {.files = argv + optind, .nfiles = argc - optind, .fmt = fmt, .ofile = ofile,
                                  .quiet = quiet, .verbose = verbose && !quiet, .hop_window = hop_window,
                                  .dot = rep.dot, .html = rep.html, .expect = rep.expect,
                                  .write_expect = rep.write_expect, .sensor = sensor, .packet_option = packets_only};
        return finish(&keys, records_main(&ra));
    }
    if (list)
        return finish(&keys, list_interfaces());
    if (!!rfile == !!nifaces) {
        fprintf(stderr, "hopscope: give exactly one of -r FILE or -i INTERFACE (see --help)\n");
        return finish(&keys, EXIT_USAGE);
    }
    if (quiet)
        verbose = false;
    if (stats_interval && fmt == OUTPUT_TEXT) {
        fprintf(stderr, "hopscope: --stats-interval writes JSON stats records: not with --format text\n");
        return finish(&keys, EXIT_USAGE);
    }
    if (rep.evidence && (!rfile || !strcmp(rfile, "-") || netmon_is(rfile))) {
        fprintf(stderr, "hopscope: --evidence reads the capture a second time: it needs -r with a pcap or pcapng "
                        "file\n");
        return finish(&keys, EXIT_USAGE);
    }

    if (intr_install() != 0) {
        fprintf(stderr, "hopscope: signal handlers: %s\n", strerror(errno));
        return finish(&keys, EXIT_INPUT);
    }
    struct input in;
    lo.snaplen = snaplen;
    int st = open_input(&in, rfile, ifaces, nifaces, &lo, argc - optind, argv + optind);
    if (st != EXIT_OK)
        return finish(&keys, st);
    if (zuser && drop_privileges(zuser) != 0) {
        close_input(&in);
        return finish(&keys, EXIT_USAGE);
    }

    struct outputs o = {.opath = ofile && strcmp(ofile, "-") != 0 ? ofile : NULL, .outf = stdout, .wpath = wfile};
    if (o.opath) {
        o.outf = fopen(o.opath, "w+"); /* read too: a failed write cuts back to the last whole line */
        if (!o.outf) {
            fprintf(stderr, "hopscope: %s: %s\n", o.opath, strerror(errno));
            close_input(&in);
            return finish(&keys, EXIT_OUTPUT);
        }
    }
    if (wfile) {
        char perr[PCAP_ERRBUF_SIZE + 64];
        int prec = lo.nano && !in.offline ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO;
        o.pcap = authpcap_open_precision(wfile, in.dlt, snaplen, prec, perr, sizeof perr);
        if (!o.pcap) {
            if (!strncmp(perr, wfile, strlen(wfile)))
                fprintf(stderr, "hopscope: %s\n", perr);
            else
                fprintf(stderr, "hopscope: %s: %s\n", wfile, perr);
            if (o.outf != stdout)
                fclose(o.outf);
            close_input(&in);
            return finish(&keys, EXIT_OUTPUT);
        }
    }

    /* Records flow: engine (dissectors, record layer) → correlation → [expectations] → writer. */
    setvbuf(o.outf, out_buffer, _IOFBF, sizeof out_buffer);
    o.w = writer_new(fmt, o.outf);
    if (o.w) /* live, or a person watching: each line as soon as it is written */
        o.w->flush_each = !in.offline || isatty(fileno(o.outf));
    if (o.w)
        o.w->sensor = sensor;
    if (stream < 0)
        stream = !in.offline;
    if (o.w && stream)
        writer_stream(o.w);
    int xst = o.w ? open_expect(&rep, writer_sink(o.w)) : EXIT_OK;
    if (xst != EXIT_OK) {
        writer_free(o.w);
        authpcap_close(o.pcap);
        close_input(&in);
        if (o.outf != stdout)
            fclose(o.outf);
        return finish(&keys, xst);
    }
    struct hs_correlate *corr = o.w ? correlate_new(rep.x ? expect_sink(rep.x) : writer_sink(o.w)) : NULL;
    if (corr && hop_window)
        corr->cfg.hop_window = hop_window;
    if (corr && (rep.dot || rep.html || rep.evidence))
        corr->want_graph = true;
    if (corr)
        corr->stream = stream;
    struct hs_engine *e = corr ? malloc(sizeof *e) : NULL;
    if (!e || engine_init(e, &lim, &corr->sink) != 0) {
        fprintf(stderr, "hopscope: out of memory\n");
        free(e);
        correlate_free(corr);
        close_expect(&rep);
        writer_free(o.w);
        authpcap_close(o.pcap);
        close_input(&in);
        return finish(&keys, EXIT_INPUT);
    }
    e->recs.stream = stream;
    corr->held = &e->recs; /* streaming: findings wait for records not handed over yet */
    if (keys.n)
        e->keys = &keys;
    if (creds.n)
        e->creds = &creds;
    if (threads) {
        char perr[128];
        o.pipe = pipeline_new(e, (unsigned)threads, perr, sizeof perr);
        if (!o.pipe) {
            fprintf(stderr, "hopscope: %s\n", perr);
            engine_free(e);
            free(e);
            correlate_free(corr);
            close_expect(&rep);
            writer_free(o.w);
            authpcap_close(o.pcap);
            close_input(&in);
            return finish(&keys, EXIT_INPUT);
        }
        corr->held_fn = pipeline_oldest_unsent;
        corr->held_arg = o.pipe;
        if (o.pcap)
            pipeline_set_frame_hook(o.pipe, on_frame, &o);
    }
    o.in = &in;
    o.stats_every = (int64_t)stats_interval * 1000000;
    if (!in.offline) {
        e->cap = &in.cap;
        o.live = &in.live;
        o.nano = lo.nano;
        o.cap = &in.cap;
    }
    progress_start(&o.prog, stderr, !quiet && isatty(fileno(stderr)), in.name);
    o.prog.live = !in.offline;
    int status = !in.offline ? run_live(&in, e, &o, count)
                 : in.nm.f   ? run_netmon(&in, e, &o, count)
                 : in.ng.f   ? run_pcapng(&in, e, &o, count)
                 : in.pf.buf ? run_pcapfile(&in, e, &o, count)
                             : run_pcap(&in, e, &o, count);
    if (o.prog.shown)
        show_progress(e, &o, true); /* the final figures, then the line is cleared */
    progress_end(&o.prog);
    int sig = intr_signal();
    if (sig) {
        e->st.interrupted = true;
        if (in.offline && status == EXIT_OK)
            status = EXIT_SIGNAL + sig;
    }
    if (!o.w->failed) { /* else stop at once: records still held are dropped */
        if (o.pipe)
            pipeline_finish(o.pipe);
        else
            engine_finish(e);
    }
    if (verbose)
        summary(e, &o);
    pipeline_free(o.pipe);
    engine_free(e);
    free(e);
    if (write_reports(&rep, corr->graph, in.name) != 0 && status == EXIT_OK)
        status = EXIT_OUTPUT;
    if (rep.evidence) {
        char eerr[512];
        if (evidence_write(corr, rfile, rep.evidence, eerr, sizeof eerr) != 0) {
            fprintf(stderr, "hopscope: --evidence: %s\n", eerr);
            if (status == EXIT_OK)
                status = EXIT_OUTPUT;
        }
    }
    correlate_free(corr);
    xst = close_expect(&rep);
    if (xst != EXIT_OK && status == EXIT_OK)
        status = xst;
    bool failed = o.w->failed;
    int werr = o.w->err;
    writer_free(o.w);
    close_input(&in);
    if (authpcap_close(o.pcap) != 0) {
        fprintf(stderr, "hopscope: %s: write failed\n", wfile);
        status = EXIT_OUTPUT;
    }
    if (!failed && fflush(o.outf) != 0)
        failed = true;
    if (o.outf != stdout && fclose(o.outf) != 0) /* closed in any case: the buffer was dropped after a failure */
        failed = true;
    if (failed) {
        fprintf(stderr, "hopscope: %s: write failed: %s\n", o.opath ? o.opath : "standard output",
                strerror(werr ? werr : errno));
        return finish(&keys, EXIT_OUTPUT);
    }
    return finish(&keys, status);
}
