/* hopscope command line: read a capture or an interface, write authentication records. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "engine.h"
#include "krbcrypt.h"
#include "output.h"

/* Exit codes (README "Exit status"). */
enum {
    EXIT_OK = 0,
    EXIT_INPUT = 1,     /* input could not be opened or used: missing, not a capture, link type, filter */
    EXIT_USAGE = 2,
    EXIT_TRUNCATED = 3, /* the capture ended in a damaged/truncated record; what came before was reported */
    EXIT_OUTPUT = 4,    /* writing the output failed */
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
            "  -h, --help         show this help\n"
            "  -V, --version      show the version\n"
            "\n"
            "A trailing filter expression is a BPF filter, as in tcpdump.\n"
            "Exit status: 0 success, 1 input unusable, 2 usage, 3 capture truncated or damaged\n"
            "(records up to that point were written), 4 output could not be written.\n");
}

struct run {
    struct hs_engine *e;
    int dlt;
    uint64_t frame;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct run *r = (struct run *)user;
    r->frame++;
    engine_packet(r->e, r->dlt, r->frame, &h->ts, data, h->caplen);
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

int main(int argc, char **argv)
{
    const char *rfile = NULL, *iface = NULL, *wfile = NULL;
    struct kc_keys keys = {0};
    char kerr[256];
    long count = -1;
    enum output_format fmt = OUTPUT_JSON;
    struct hs_limits lim;
    hs_limits_default(&lim);

    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"format", required_argument, NULL, 'F'},
        {"idle-timeout", required_argument, NULL, 1},
        {"max-flows", required_argument, NULL, 2},
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
        case 2: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v == 0 || v > 0xFFFFFFFFul) {
                fprintf(stderr, "hopscope: %s: not a positive number: %s\n", opt == 1 ? "--idle-timeout" : "--max-flows",
                        optarg);
                return finish(&keys, EXIT_USAGE);
            }
            if (opt == 1)
                lim.idle_timeout = (uint32_t)v;
            else
                lim.max_flows = (uint32_t)v;
            break;
        }
        case 'h': usage(stdout); return finish(&keys, EXIT_OK);
        case 'V': printf("hopscope %s (%s)\n", HOPSCOPE_VERSION, pcap_lib_version()); return finish(&keys, EXIT_OK);
        default: usage(stderr); return finish(&keys, EXIT_USAGE);
        }
    }
    if (!!rfile == !!iface) {
        fprintf(stderr, "hopscope: give exactly one of -r FILE or -i INTERFACE (see --help)\n");
        return finish(&keys, EXIT_USAGE);
    }

    char errbuf[PCAP_ERRBUF_SIZE] = "";
    const char *src = rfile ? rfile : iface;
    pcap_t *p;
    if (rfile) {
        p = pcap_open_offline_with_tstamp_precision(rfile, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
        if (!p) {
            /* libpcap's message often starts with the file name already. */
            if (!strncmp(errbuf, rfile, strlen(rfile)))
                fprintf(stderr, "hopscope: %s\n", errbuf);
            else
                fprintf(stderr, "hopscope: %s: %s\n", rfile, errbuf);
            return finish(&keys, EXIT_INPUT);
        }
    } else {
        p = pcap_create(iface, errbuf);
        if (!p || pcap_set_snaplen(p, 262144) || pcap_set_promisc(p, 1) || pcap_set_immediate_mode(p, 1) ||
            pcap_set_timeout(p, 100) || pcap_activate(p) < 0) {
            fprintf(stderr, "hopscope: %s: %s\n", iface, p ? pcap_geterr(p) : errbuf);
            if (p)
                pcap_close(p);
            return finish(&keys, EXIT_INPUT);
        }
    }
    int dlt = pcap_datalink(p);
    if (!decode_link_supported(dlt)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        fprintf(stderr, "hopscope: %s: unsupported link type %d (%s)\n", src, dlt, name ? name : "unknown");
        pcap_close(p);
        return finish(&keys, EXIT_INPUT);
    }
    if (optind < argc) {
        char *expr = join_args(argc - optind, argv + optind);
        struct bpf_program prog;
        if (!expr || pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(p, &prog) < 0) {
            fprintf(stderr, "hopscope: filter '%s': %s\n", expr ? expr : "", pcap_geterr(p));
            free(expr);
            pcap_close(p);
            return finish(&keys, EXIT_INPUT);
        }
        pcap_freecode(&prog);
        free(expr);
    }

    struct output out = {stdout, fmt, false, false};
    if (wfile && strcmp(wfile, "-") != 0) {
        out.f = fopen(wfile, "w");
        if (!out.f) {
            fprintf(stderr, "hopscope: %s: %s\n", wfile, strerror(errno));
            pcap_close(p);
            return finish(&keys, EXIT_OUTPUT);
        }
    }

    struct hs_engine *e = malloc(sizeof *e);
    if (!e || engine_init(e, &lim, &out) != 0) {
        fprintf(stderr, "hopscope: out of memory\n");
        free(e);
        pcap_close(p);
        return finish(&keys, EXIT_INPUT);
    }
    if (keys.n)
        e->keys = &keys;
    struct run run = {e, dlt, 0};
    if (iface) {
        live_handle = p;
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    int rc = pcap_loop(p, (int)(count > 0 && count < INT32_MAX ? count : -1), on_packet, (u_char *)&run);
    int status = EXIT_OK;
    if (rc == PCAP_ERROR) {
        /* e.g. "truncated dump file; tried to read 1514 captured bytes, only got 800" */
        fprintf(stderr, "hopscope: %s: %s (after %llu packets; records up to there are reported)\n", src,
                pcap_geterr(p), (unsigned long long)run.frame);
        status = EXIT_TRUNCATED;
    }
    engine_finish(e);
    engine_free(e);
    free(e);
    kc_free(&keys);
    pcap_close(p);
    if (fflush(out.f) != 0 || out.failed || (out.f != stdout && fclose(out.f) != 0)) {
        fprintf(stderr, "hopscope: %s: write failed: %s\n", wfile ? wfile : "standard output", strerror(errno));
        return EXIT_OUTPUT;
    }
    return status;
}
