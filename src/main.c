/* hopscope command line: read a capture or an interface, write authentication records. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include <pcap/pcap.h>

#include "correlate.h"
#include "engine.h"
#include "evidence.h"
#include "expect.h"
#include "krbcrypt.h"
#include "netmon.h"
#include "report.h"
#include "writer.h"

/* Exit codes (README "Exit status"). */
enum {
    EXIT_OK = 0,
    EXIT_INPUT = 1,     /* input could not be opened or used: missing, not a capture, link type, filter */
    EXIT_USAGE = 2,
    EXIT_TRUNCATED = 3, /* the capture ended in a damaged/truncated record; what came before was reported */
    EXIT_OUTPUT = 4,    /* writing the output failed */
    EXIT_EXPECT = 5,    /* --expect: the capture does not meet the expectations */
};

static pcap_t *volatile live_handle;

static void on_signal(int sig)
{
    (void)sig;
    if (live_handle)
        pcap_breakloop(live_handle);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: hopscope [options] (-r FILE | -i INTERFACE) [filter expression]\n"
            "Explains Windows network authentication in traffic: who authenticated to what, how,\n"
            "and whether it worked. Writes one JSON object per line (docs/RECORDS.md).\n"
            "\n"
            "  -r FILE            read packets from a pcap or pcapng file ('-' for standard input)\n"
            "  -i INTERFACE       capture live from INTERFACE (e.g. a span port); stop with Ctrl-C\n"
            "  -w FILE            write records to FILE instead of standard output\n"
            "  -k KEYTAB          decrypt Kerberos tickets and authenticators with the keys of KEYTAB\n"
            "                     (repeatable: service keytabs, the krbtgt keytab, ...)\n"
            "  -c COUNT           stop after COUNT packets\n"
            "  -F, --format FMT   'json' (default, JSON Lines) or 'text' (a readable table)\n"
            "      --idle-timeout SECONDS   expire connections idle this long (default 600)\n"
            "      --max-flows N  connections tracked at once (default 1048576)\n"
            "      --hop-window SECONDS  how long after a first hop starts an onward connection from its\n"
            "                     server counts as a second hop (default 600)\n"
            "      --dot FILE     write the hop graph in Graphviz DOT to FILE at the end of the run\n"
            "      --html FILE    write a self-contained HTML report (findings, hop graph, sessions) to FILE\n"
            "      --expect FILE  check the records and findings against FILE's expectations (JSON Lines,\n"
            "                     docs/REPORTS.md); say what differs and exit 5 when they are not met\n"
            "      --write-expect FILE  write expectations of this run's records and findings to FILE\n"
            "      --evidence DIR for each finding, a pcap in DIR of the packets it rests on (with -r FILE)\n"
            "  -h, --help         show this help\n"
            "  -V, --version      show the version\n"
            "\n"
            "A trailing filter expression is a BPF filter, as in tcpdump.\n"
            "Exit status: 0 success, 1 input unusable, 2 usage, 3 capture truncated or damaged\n"
            "(records up to that point were written), 4 output could not be written,\n"
            "5 expectations (--expect) not met.\n");
}

struct run {
    struct hs_engine *e;
    int dlt;
    uint64_t frame;
    const struct bpf_program *prog; /* a file's filter, run here (see open_input), or NULL */
    pcap_t *p;
    long left;                      /* with -c and prog: packets still to pass the filter; else -1 */
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct run *r = (struct run *)user;
    r->frame++; /* every frame of the file, filtered out or not: frame numbers are Wireshark's */
    if (r->prog && !pcap_offline_filter(r->prog, h, data))
        return;
    engine_packet(r->e, r->dlt, r->frame, &h->ts, data, h->caplen);
    if (r->left > 0 && --r->left == 0)
        pcap_breakloop(r->p);
}

/* Frees what main holds for the whole run and passes the exit status through. */
static int finish(struct kc_keys *keys, int status)
{
    kc_free(keys);
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

/* The input: a libpcap handle (pcap, pcapng, live), or a Network Monitor file libpcap cannot read. */
struct input {
    const char *name;
    pcap_t *p;              /* libpcap input, or a dead handle holding the filter for NetMon */
    struct netmon nm;       /* nm.f set for a NetMon file */
    struct bpf_program prog;
    bool have_prog;
    bool offline;           /* a file (libpcap or NetMon), not a live interface */
    int dlt;
};

static void close_input(struct input *in)
{
    if (in->have_prog)
        pcap_freecode(&in->prog);
    if (in->p)
        pcap_close(in->p);
    if (in->nm.f)
        netmon_close(&in->nm);
}

/* Opens -r FILE or -i IFACE and compiles the filter; one error line and an exit status on failure. */
static int open_input(struct input *in, const char *rfile, const char *iface, int nexpr, char **expr_words)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    memset(in, 0, sizeof *in);
    in->name = rfile ? rfile : iface;
    in->offline = rfile != NULL;
    if (rfile && strcmp(rfile, "-") != 0 && netmon_is(rfile)) {
        if (netmon_open(&in->nm, rfile) != 0) {
            fprintf(stderr, "hopscope: %s: %s\n", rfile, in->nm.err);
            close_input(in);
            return EXIT_INPUT;
        }
        in->dlt = DLT_EN10MB;
        in->p = pcap_open_dead(DLT_EN10MB, NETMON_MAX_FRAME); /* only to compile and run the filter */
    } else if (rfile) {
        in->p = pcap_open_offline_with_tstamp_precision(rfile, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
        if (!in->p) {
            /* libpcap's message often starts with the file name already. */
            if (!strncmp(errbuf, rfile, strlen(rfile)))
                fprintf(stderr, "hopscope: %s\n", errbuf);
            else
                fprintf(stderr, "hopscope: %s: %s\n", rfile, errbuf);
            return EXIT_INPUT;
        }
        in->dlt = pcap_datalink(in->p);
    } else {
        in->p = pcap_create(iface, errbuf);
        if (!in->p || pcap_set_snaplen(in->p, 262144) || pcap_set_promisc(in->p, 1) ||
            pcap_set_immediate_mode(in->p, 1) || pcap_set_timeout(in->p, 100) || pcap_activate(in->p) < 0) {
            fprintf(stderr, "hopscope: %s: %s\n", iface, in->p ? pcap_geterr(in->p) : errbuf);
            close_input(in);
            return EXIT_INPUT;
        }
        in->dlt = pcap_datalink(in->p);
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
        char *expr = join_args(nexpr, expr_words);
        if (!expr || pcap_compile(in->p, &in->prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            fprintf(stderr, "hopscope: filter '%s': %s\n", expr ? expr : "", pcap_geterr(in->p));
            free(expr);
            close_input(in);
            return EXIT_INPUT;
        }
        free(expr);
        in->have_prog = true;
        /* A file's filter runs in on_packet(), after the frame is counted: libpcap would drop filtered-out
         * frames unseen, and every frame number after the first one dropped would be off. */
        if (!in->offline && pcap_setfilter(in->p, &in->prog) < 0) {
            fprintf(stderr, "hopscope: filter: %s\n", pcap_geterr(in->p));
            close_input(in);
            return EXIT_INPUT;
        }
    }
    return EXIT_OK;
}

static int run_pcap(struct input *in, struct hs_engine *e, long count)
{
    bool own_filter = in->have_prog && in->offline;
    struct run run = {e, in->dlt, 0, own_filter ? &in->prog : NULL, in->p, own_filter && count > 0 ? count : -1};
    /* SIGINT/SIGTERM end the loop cleanly (a live capture's normal end): every record is flushed. */
    live_handle = in->p;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    /* -c counts packets that pass the filter (as tcpdump's does); with a file's filter on_packet() counts. */
    int cnt = !own_filter && count > 0 && count < INT32_MAX ? (int)count : -1;
    int rc = pcap_loop(in->p, cnt, on_packet, (u_char *)&run);
    live_handle = NULL;
    if (rc == PCAP_ERROR) {
        /* e.g. "truncated dump file; tried to read 1514 captured bytes, only got 800" */
        fprintf(stderr, "hopscope: %s: %s (after %llu packets; records up to there are reported)\n", in->name,
                pcap_geterr(in->p), (unsigned long long)run.frame);
        return EXIT_TRUNCATED;
    }
    return EXIT_OK;
}

/* NetMon frames are numbered as Wireshark numbers them (every frame, events included); frames that are
 * not Ethernet (NetMon's own event records) are counted and not decoded. */
static int run_netmon(struct input *in, struct hs_engine *e, long count)
{
    uint64_t frame = 0;
    struct timeval ts;
    const uint8_t *data;
    uint32_t caplen, wirelen;
    int dlt, rc;
    while ((count <= 0 || (long)frame < count) && (rc = netmon_next(&in->nm, &dlt, &ts, &data, &caplen, &wirelen)) == 1) {
        frame++;
        if (dlt < 0) {
            engine_frame_undecoded(e, caplen);
            continue;
        }
        if (in->have_prog) {
            struct pcap_pkthdr h = {ts, caplen, wirelen};
            if (!pcap_offline_filter(&in->prog, &h, data))
                continue;
        }
        engine_packet(e, dlt, frame, &ts, data, caplen);
    }
    if (rc < 0) {
        fprintf(stderr, "hopscope: %s: %s (after %llu frames; records up to there are reported)\n", in->name,
                in->nm.err, (unsigned long long)frame);
        return EXIT_TRUNCATED;
    }
    return EXIT_OK;
}

/* What is drawn from the hop graph at the end of the run (--dot, --html). */
struct reports {
    const char *dot, *html;
    const char *expect, *write_expect; /* --expect, --write-expect */
    const char *evidence;              /* --evidence DIR */
    FILE *wexpect;
    struct hs_expect *x;
};

/* Writes one report to path with fn; 0, or -1 after saying on stderr what failed. */
static int write_report(const char *path, int (*fn)(const struct hop_graph *, FILE *, const char *),
                        const struct hop_graph *g, const char *arg)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "hopscope: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = fn(g, f, arg);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "hopscope: %s: write failed: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

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
    if (rep->dot && write_report(rep->dot, report_write_dot, g, title) != 0)
        rc = -1;
    if (rep->html && write_report(rep->html, report_write_html, g, input) != 0)
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
    if (rep->wexpect && (expect_write_failed(rep->x) | (fclose(rep->wexpect) != 0))) {
        fprintf(stderr, "hopscope: %s: write failed\n", rep->write_expect);
        st = EXIT_OUTPUT;
    }
    expect_free(rep->x);
    rep->x = NULL;
    return st;
}

int main(int argc, char **argv)
{
    const char *rfile = NULL, *iface = NULL, *wfile = NULL;
    struct kc_keys keys = {0};
    char kerr[256];
    long count = -1;
    enum output_format fmt = OUTPUT_JSON;
    struct hs_limits lim;
    hs_limits_default(&lim);
    uint32_t hop_window = 0; /* 0: the correlation stage's default */
    struct reports rep = {0};

    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"format", required_argument, NULL, 'F'},
        {"idle-timeout", required_argument, NULL, 1},
        {"max-flows", required_argument, NULL, 2},
        {"hop-window", required_argument, NULL, 3},
        {"dot", required_argument, NULL, 20},
        {"html", required_argument, NULL, 21},
        {"expect", required_argument, NULL, 22},
        {"write-expect", required_argument, NULL, 23},
        {"evidence", required_argument, NULL, 24},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "+r:i:w:c:F:k:hV", longopts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'r': rfile = optarg; break;
        case 'i': iface = optarg; break;
        case 'w': wfile = optarg; break;
        case 'k':
            if (kc_load_keytab(&keys, optarg, kerr, sizeof kerr) != 0) {
                fprintf(stderr, "hopscope: %s: %s\n", optarg, kerr);
                return finish(&keys, EXIT_INPUT);
            }
            break;
        case 'c':
            count = strtol(optarg, &end, 10);
            if (*end || count <= 0) {
                fprintf(stderr, "hopscope: -c: not a positive number: %s\n", optarg);
                return finish(&keys, EXIT_USAGE);
            }
            break;
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
        case 20: rep.dot = optarg; break;
        case 21: rep.html = optarg; break;
        case 22: rep.expect = optarg; break;
        case 23: rep.write_expect = optarg; break;
        case 24: rep.evidence = optarg; break;
        case 'h': usage(stdout); return finish(&keys, EXIT_OK);
        case 'V': printf("hopscope %s (%s)\n", HOPSCOPE_VERSION, pcap_lib_version()); return finish(&keys, EXIT_OK);
        default: usage(stderr); return finish(&keys, EXIT_USAGE);
        }
    }
    if (!!rfile == !!iface) {
        fprintf(stderr, "hopscope: give exactly one of -r FILE or -i INTERFACE (see --help)\n");
        return finish(&keys, EXIT_USAGE);
    }
    if (rep.evidence && (!rfile || !strcmp(rfile, "-") || netmon_is(rfile))) {
        fprintf(stderr, "hopscope: --evidence reads the capture a second time: it needs -r with a pcap or pcapng "
                        "file\n");
        return finish(&keys, EXIT_USAGE);
    }

    struct input in;
    int st = open_input(&in, rfile, iface, argc - optind, argv + optind);
    if (st != EXIT_OK)
        return finish(&keys, st);

    FILE *outf = stdout;
    if (wfile && strcmp(wfile, "-") != 0) {
        outf = fopen(wfile, "w");
        if (!outf) {
            fprintf(stderr, "hopscope: %s: %s\n", wfile, strerror(errno));
            close_input(&in);
            return finish(&keys, EXIT_OUTPUT);
        }
    }

    /* Records flow: engine (dissectors, record layer) → correlation → [expectations] → writer. */
    struct hs_writer *w = writer_new(fmt, outf);
    int xst = w ? open_expect(&rep, writer_sink(w)) : EXIT_OK;
    if (xst != EXIT_OK) {
        writer_free(w);
        close_input(&in);
        if (outf != stdout)
            fclose(outf);
        return finish(&keys, xst);
    }
    struct hs_correlate *corr = w ? correlate_new(rep.x ? expect_sink(rep.x) : writer_sink(w)) : NULL;
    if (corr && hop_window)
        corr->cfg.hop_window = hop_window;
    if (corr && (rep.dot || rep.html || rep.evidence))
        corr->want_graph = true;
    struct hs_engine *e = corr ? malloc(sizeof *e) : NULL;
    if (!e || engine_init(e, &lim, &corr->sink) != 0) {
        fprintf(stderr, "hopscope: out of memory\n");
        free(e);
        correlate_free(corr);
        close_expect(&rep);
        writer_free(w);
        close_input(&in);
        return finish(&keys, EXIT_INPUT);
    }
    if (keys.n)
        e->keys = &keys;
    int status = in.nm.f ? run_netmon(&in, e, count) : run_pcap(&in, e, count);
    engine_finish(e);
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
    bool failed = w->failed;
    writer_free(w);
    close_input(&in);
    if (fflush(outf) != 0 || failed || (outf != stdout && fclose(outf) != 0)) {
        fprintf(stderr, "hopscope: %s: write failed: %s\n", wfile ? wfile : "standard output", strerror(errno));
        return finish(&keys, EXIT_OUTPUT);
    }
    return finish(&keys, status);
}
