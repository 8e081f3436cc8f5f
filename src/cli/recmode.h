/* hopscope --records FILE...: the findings and hop graph of records several sensors wrote (docs/DEPLOYMENT.md, "Many sensors"). */
#ifndef HOPSCOPE_RECMODE_H
#define HOPSCOPE_RECMODE_H

#include <stdbool.h>
#include <stdint.h>

#include "writer.h"

/* What the command line gave a --records run. */
struct records_args {
    char *const *files; /* JSON Lines files written by hopscope (-o, or a shipper's copy); "-" is
                                    standard input; gzip/zstd/lz4 compressed or not */
    int nfiles;
    enum output_format fmt;
    const char *ofile;                 /* -o FILE; NULL or "-": standard output */
    bool quiet, verbose;               /* -q: no warnings; -v: a summary of what was read on standard error */
    uint32_t hop_window;               /* --hop-window seconds; 0: the default */
    const char *dot, *html;            /* --dot FILE, --html FILE, or NULL */
    const char *expect, *write_expect; /* --expect FILE, --write-expect FILE, or NULL */
    const char *sensor;                /* --sensor NAME: stamps what this run writes; NULL: not stamped */
    const char *packet_option;         /* an option given that only a run on packets takes (e.g. "-r"), or NULL */
};

/* Is s a sensor name --sensor takes: 1 to 64 of letters, digits, '.', '_', '-'? */
bool sensor_name_ok(const char *s);

/*
 * Reads every file (each record of each line, docs/RECORDS.md), rebuilds the summaries, links Kerberos tickets
 * across sensors and runs the findings rules as on one capture; writes the findings and a closing stats record
 * (records_input says what was read) in a->fmt, and the --dot / --html reports, and checks or writes
 * expectations. Returns the exit status (README "Exit status"): 0; 1 a file missing or unreadable (said on one
 * line, nothing written); 2 usage (no FILE, "-" twice, packet_option set); 3 a file ended in a read error
 * (decompression; what came before was used); 4 an output could not be written; 5 expectations not met.
 * Malformed lines are counted in the stats and described on standard error (at most RECJSON_WARN_MAX, none with
 * quiet); they never end the run.
 */
int records_main(const struct records_args *a);

#endif
