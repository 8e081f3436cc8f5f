/* Evidence pcapng files: for each finding, the packets of the connections and frames it rests on (--evidence DIR). */
#ifndef HOPSCOPE_EVIDENCE_H
#define HOPSCOPE_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "correlate.h"

#define EVIDENCE_FINDINGS_MAX 128        /* findings given a pcap (one file open for each during the pass) */
#define EVIDENCE_PACKETS_MAX 100000u     /* packets written per finding; the rest are counted in index.txt */
#define EVIDENCE_FRAMES_LISTED 4096u     /* original frame numbers listed per finding in index.txt */

/*
 * Reads the capture file `input` again (pcap or pcapng through libpcap) and writes, for each finding the run
 * made (c->findings: the correlation stage must have had want_graph set), DIR/NNN-<id>.pcapng with every packet
 * of the connections of the records it rests on (by IP addresses, protocol and ports, found with the engine's
 * decoder, tunnels included) and every frame it names: original timestamps (nanosecond precision kept), the
 * file's link type and snap length, and a packet comment "frame N of INPUT" (pcapng opt_comment). DIR/index.txt lists per file the finding's title, records and evidence
 * frames, and which original frame each packet is (frame numbers as Wireshark counts them, every frame of the
 * file counted). DIR is created if missing. At most EVIDENCE_FINDINGS_MAX findings and EVIDENCE_PACKETS_MAX
 * packets per finding (the rest counted in index.txt). O(packets * log(connections + frames)) time.
 * Returns 0; or -1 with a one-line reason in err[cap] (the file cannot be reopened, DIR cannot be made, a
 * file cannot be written).
 */
int evidence_write(const struct hs_correlate *c, const char *input, const char *dir, char *err, size_t cap);

#endif
