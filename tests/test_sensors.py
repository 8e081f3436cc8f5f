#!/usr/bin/env python3
"""Many sensors (hopscope --records, docs/DEPLOYMENT.md, Many sensors).

1. Two sensors: every lab trace of ../shared/captures/lab/FINDINGS.md is split by connection into two captures —
   alternately in the order connections start, by a hash of the connection, and by server (a sensor per
   server's span port, so a double hop's first and second hops, and an AP-REQ and the KDC reply that issued its
   ticket, are on different sensors) — each read by `hopscope --sensor a` / `--sensor b`; `hopscope --records
   a.jsonl b.jsonl` must report the findings of the whole trace (id, severity, confidence, title, user, hosts;
   none where the whole trace has none), each record and frame of their evidence named with the sensor that
   wrote it, and every such record id and frame one that sensor wrote.
2. Round trip: for every lab trace (also with the lab's keytab and credentials), `--records` on hopscope's own
   output gives exactly the findings of the trace, explanation and evidence included.
3. The command line: --sensor stamps every line; a missing file is one line and exit 1; no FILE, '-' twice,
   -r with --records are usage errors (2); malformed lines are counted, described on at most RECJSON_WARN_MAX
   lines, and do not change the findings; gzip'd input and standard input are read; --expect and --dot work.

Prints PASS/FAIL per check and a closing "N passed, M failed, K skipped" line; exit 1 on any failure.
Usage: test_sensors.py --hopscope build/hopscope
"""
import argparse
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

LAB = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "captures",
                                    "lab"))
KEY = ("id", "severity", "confidence", "title", "user", "hosts")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", **kw)


def lines(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def findings(objs):
    return [o for o in objs if o.get("type") == "finding"]


def key(f):
    return json.dumps({k: f.get(k) for k in KEY}, sort_keys=True)


# ---- a pcap splitter: whole connections to one side or the other ------------------------------------------------

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
              b"\xa1\xb2\x3c\x4d": ">"}[magic]
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    pkts, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkts.append((data[off:off + 16], data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return data[:24], linktype, pkts


def conn_key(linktype, frame):
    """(proto, {endpoint, endpoint}) of an Ethernet IPv4/IPv6 TCP/UDP frame, or None."""
    if linktype != 1 or len(frame) < 14:
        return None
    et, off = struct.unpack(">H", frame[12:14])[0], 14
    while et in (0x8100, 0x88a8) and len(frame) >= off + 4:
        et, off = struct.unpack(">H", frame[off + 2:off + 4])[0], off + 4
    if et == 0x0800 and len(frame) >= off + 20:
        ihl = (frame[off] & 15) * 4
        proto, src, dst, l4 = frame[off + 9], frame[off + 12:off + 16], frame[off + 16:off + 20], off + ihl
    elif et == 0x86dd and len(frame) >= off + 40:
        proto, src, dst, l4 = frame[off + 6], frame[off + 8:off + 24], frame[off + 24:off + 40], off + 40
    else:
        return None
    if proto not in (6, 17) or len(frame) < l4 + 4:
        return (proto, frozenset((src, dst)))
    sp, dp = struct.unpack(">HH", frame[l4:l4 + 4])
    return (proto, frozenset(((src, sp), (dst, dp))))


def server_of(k):
    """The server address of a connection: the endpoint on the lower port (88, 445, 80, 135, 5985 ...)."""
    eps = sorted(k[1], key=lambda e: (e[1], e[0])) if isinstance(next(iter(k[1])), tuple) else sorted(k[1])
    return eps[0][0] if isinstance(eps[0], tuple) else eps[0]


def split(path, out_a, out_b, how):
    """Writes the packets of path into out_a and out_b, each connection whole on one side: `alternate` in the
    order connections start; `hash` by a CRC of the connection; `server` by its server, servers alternately in
    the order they are first seen (a sensor per server's span port: a first hop to A on one sensor, A's onward
    connection to B and the KDC exchanges of B on the other). Packets of no connection go to out_a."""
    head, lt, pkts = read_pcap(path)
    side, order, servers = {}, 0, {}
    outs = ([head], [head])
    for rec, frame in pkts:
        k = conn_key(lt, frame)
        if k is None:
            s = 0
        else:
            if k not in side:
                if how == "alternate":
                    side[k] = order % 2
                elif how == "server":
                    side[k] = servers.setdefault(server_of(k), len(servers) % 2)
                else:
                    side[k] = zlib.crc32(repr(sorted(k[1])).encode() + bytes([k[0]])) % 2
                order += 1
            s = side[k]
        outs[s].append(rec + frame)
    for p, parts in ((out_a, outs[0]), (out_b, outs[1])):
        with open(p, "wb") as f:
            f.write(b"".join(parts))
    return len(side)


# ---- checks ------------------------------------------------------------------------------------------------------

class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            print("PASS %s" % name)
        else:
            self.failed += 1
            print("FAIL %s%s" % (name, (": " + why) if why else ""))
        return ok


def lab_traces():
    """The traces of FINDINGS.md's table: (name, whether it must raise a finding)."""
    table = os.path.join(LAB, "FINDINGS.md")
    rows = []
    with open(table) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 3 and cells[0] not in ("trace", "") and not set(cells[0]) <= set("-"):
                rows.append((cells[0], bool(re.search(r"[a-z0-9]+_[a-z0-9_]+", cells[1]))))
    return rows


def evidence_consistent(f, outputs):
    """Every sensor_records entry names a record that sensor wrote; every sensor_frames entry a frame one of that
    sensor's records (or, for an issued ticket, its KDC reply) names. Returns '' or what is wrong."""
    ev = f.get("evidence", {})
    recs = {(s, o["id"]): o for s, objs in outputs.items() for o in objs if o.get("type") in ("auth", "kerberos")}
    if [r["id"] for r in ev.get("sensor_records", [])] != ev.get("records"):
        return "records and sensor_records disagree"
    for r in ev.get("sensor_records", []):
        if (r["sensor"], r["id"]) not in recs:
            return "no record %s of sensor %s" % (r["id"], r["sensor"])
    frames = {}
    for (s, _), o in recs.items():
        fr = o.get("frames", {})
        vals = [v for v in fr.values() if isinstance(v, int)]
        for u in (o.get("smb2") or o.get("smb1") or {}).get("tree_connects", []) + \
                (o.get("http") or {}).get("requests", []) + (o.get("dcerpc") or {}).get("calls", []):
            vals += [v for v in u.get("frames", []) if isinstance(v, int)]
        sg = (o.get("smb1") or {}).get("signing", {})
        vals += [x.get("frame", 0) for x in sg.get("signatures", [])]
        vals += [(o.get("kerberos") or {}).get("ticket", {}).get("issued_frame", 0)]
        frames.setdefault(s, set()).update(vals)
    for x in ev.get("sensor_frames", []):
        if x["frame"] not in frames.get(x["sensor"], set()):
            # an AP-REQ's ticket issued on another sensor: the reply frame of one of that sensor's KDC records
            if not any(o.get("frames", {}).get("reply") == x["frame"] for (s, _), o in recs.items()
                       if s == x["sensor"] and o.get("type") == "kerberos"):
                return "frame %s is not one of sensor %s's" % (x["frame"], x["sensor"])
    if sorted({x["frame"] for x in ev.get("sensor_frames", [])}) != sorted(set(ev.get("frames", []))):
        return "frames and sensor_frames disagree"
    return ""


def two_sensors(t, hopscope, tmp):
    for name, raises in lab_traces():
        pcap = os.path.join(LAB, name + ".pcap")
        if not os.path.exists(pcap):
            t.skipped += 1
            print("SKIP two_sensors %s: no capture" % name)
            continue
        whole = findings(lines(run([hopscope, "-r", pcap]).stdout))
        for how in ("alternate", "hash", "server"):
            a, b = os.path.join(tmp, "a.pcap"), os.path.join(tmp, "b.pcap")
            nconn = split(pcap, a, b, how)
            outs = {}
            for s, p in (("a", a), ("b", b)):
                r = run([hopscope, "--sensor", s, "-r", p])
                outs[s] = lines(r.stdout)
                with open(os.path.join(tmp, s + ".jsonl"), "w") as f:
                    f.write(r.stdout)
            stamped = all(o.get("sensor") == s for s, objs in outs.items() for o in objs)
            r = run([hopscope, "--records", os.path.join(tmp, "a.jsonl"), os.path.join(tmp, "b.jsonl")])
            joined = findings(lines(r.stdout))
            want, got = sorted(key(f) for f in whole), sorted(key(f) for f in joined)
            bad = [e for e in (evidence_consistent(f, outs) for f in joined) if e]
            # a sensor per server: a double hop's evidence lies on both sensors (first hop to A on one, A's
            # onward connection or S4U2Proxy to the DC on the other)
            if how == "server":
                for f in joined:
                    where = {x["sensor"] for x in f["evidence"].get("sensor_records", [])}
                    if f["id"] == "double_hop_failed" and where != {"a", "b"}:
                        bad.append("double_hop_failed rests on sensors %s only" % sorted(where))
            t.check("two_sensors %s (%s, %d connections)" % (name, how, nconn),
                    r.returncode == 0 and want == got and stamped and not bad and (whole or not raises),
                    "exit %d; %s" % (r.returncode, "; ".join(
                        (["not stamped"] if not stamped else []) + bad[:2] +
                        (["whole trace: %s" % [json.loads(k)["id"] for k in want],
                          "--records: %s" % [json.loads(k)["id"] for k in got]] if want != got else []))))


def round_trip(t, hopscope, tmp):
    import glob
    keytab = os.path.join(LAB, "keytabs", "all_accounts.keytab")
    creds = os.path.join(LAB, "credentials.txt")
    n_bad, n = [], 0
    for pcap in sorted(glob.glob(os.path.join(LAB, "*.pcap"))):
        for extra in ([], ["-k", keytab], ["--creds", creds]):
            if len(extra) and not os.path.exists(extra[1]):
                continue
            out = run([hopscope] + extra + ["-r", pcap]).stdout
            p = os.path.join(tmp, "rt.jsonl")
            with open(p, "w") as f:
                f.write(out)
            r = run([hopscope, "--records", p])
            want = findings(lines(out))
            got = findings(lines(r.stdout))
            for f in got:
                f["evidence"].pop("sensor_records", None)
                f["evidence"].pop("sensor_frames", None)
            n += 1
            if r.returncode or want != got:
                n_bad.append("%s %s" % (os.path.basename(pcap), " ".join(extra[:1])))
    t.check("round_trip (%d runs: every lab trace, plain, -k, --creds)" % n, n and not n_bad, ", ".join(n_bad[:5]))


def command_line(t, hopscope, tmp):
    pcap = os.path.join(LAB, "double_hop_ntlm.pcap")
    out = run([hopscope, "--sensor", "edge-1.dc", "-r", pcap]).stdout
    objs = lines(out)
    t.check("--sensor stamps records, findings and stats",
            objs and all(o.get("sensor") == "edge-1.dc" for o in objs) and
            {o["type"] for o in objs} >= {"auth", "finding", "stats"})
    r = run([hopscope, "--sensor", "bad name", "-r", pcap])
    t.check("--sensor with a space is a usage error", r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr)
    good = os.path.join(tmp, "good.jsonl")
    with open(good, "w") as f:
        f.write(out)
    missing = os.path.join(tmp, "no-such.jsonl")
    r = run([hopscope, "--records", good, missing])
    t.check("a missing file: one line naming it, exit 1, nothing written",
            r.returncode == 1 and r.stderr.count("\n") == 1 and missing in r.stderr and not r.stdout, r.stderr)
    r = run([hopscope, "--records"])
    t.check("--records without FILE: usage (2)", r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr)
    r = run([hopscope, "--records", "-", "-"], input="")
    t.check("'-' twice: usage (2)", r.returncode == 2, r.stderr)
    r = run([hopscope, "--records", good, "-r", pcap])
    t.check("-r with --records: usage (2)", r.returncode == 2 and "-r" in r.stderr, r.stderr)
    base = findings(lines(run([hopscope, "--records", good]).stdout))
    # hostile lines between the records: counted, at most 10 one-line warnings, same findings
    junk = ["not json", "{\"type\":\"auth\"}", "[1,2,3]", "{\"type\":\"auth\",\"id\":\"x\",\"ts\":1}",
            "{" * 5000 + "}" * 5000, "{\"type\":\"kerberos\",\"id\":1,\"ts\":\"2020-01-01T00:00:00Z\",\"client\":7}",
            "\"" + "A" * 100000 + "\"", "{\"type\":\"auth\",\"id\":9,\"ts\":\"2020-13-01T00:00:00Z\"}",
            "\x00\x01\x02", "{\"type\":\"zeek\"}", "", "{\"type\":\"auth\",\"id\":1,\"id\":2}"]
    mixed = os.path.join(tmp, "mixed.jsonl")
    with open(mixed, "w") as f:
        for i, l in enumerate(out.splitlines()):
            f.write(l + "\n" + junk[i % len(junk)] + "\n")
        f.write("\n".join(junk) + "\n")
    r = run([hopscope, "--records", mixed])
    got = findings(lines(r.stdout))
    st = [o for o in lines(r.stdout) if o["type"] == "stats"]
    ri = st[0].get("records_input", {}) if st else {}
    warn = [l for l in r.stderr.splitlines() if l]
    t.check("malformed lines: counted, <= 11 warning lines, same findings",
            r.returncode == 0 and got == base and ri.get("malformed", 0) >= 8 and len(warn) <= 11 and
            ri.get("stats") == 1 and ri.get("findings") == len(base) and ri.get("other_types") == 1,
            "exit %d, %d warnings, %s" % (r.returncode, len(warn), ri))
    r = run([hopscope, "-q", "--records", mixed])
    t.check("-q: no warnings", r.returncode == 0 and not r.stderr, r.stderr)
    gz = os.path.join(tmp, "good.jsonl.gz")
    with gzip.open(gz, "wt") as f:
        f.write(out)
    r = run([hopscope, "--records", gz])
    t.check("gzip'd records", r.returncode == 0 and findings(lines(r.stdout)) == base, r.stderr)
    r = run([hopscope, "--records", "-"], input=out)
    t.check("records on standard input", r.returncode == 0 and findings(lines(r.stdout)) == base, r.stderr)
    exp = os.path.join(tmp, "x.expect")
    r = run([hopscope, "--records", good, "--write-expect", exp])
    r2 = run([hopscope, "--records", good, "--expect", exp])
    with open(exp) as f:
        kinds = {json.loads(l)["type"] for l in f if l.strip()}
    t.check("--write-expect then --expect on records", r.returncode == 0 and r2.returncode == 0 and
            kinds >= {"auth", "finding"}, r2.stderr)
    with open(exp, "a") as f:
        f.write('{"type":"finding","id":"spn_unknown"}\n')
    r = run([hopscope, "--records", good, "--expect", exp])
    t.check("--expect on records fails on a changed expectation", r.returncode == 5, r.stderr)
    dot = os.path.join(tmp, "g.dot")
    r = run([hopscope, "--records", good, "--dot", dot])
    with open(dot) as f:
        d = f.read()
    t.check("--dot on records", r.returncode == 0 and "digraph" in d and "edge-1.dc#" in d, r.stderr)
    r = run([hopscope, "-F", "text", "--records", good])
    t.check("-F text on records", r.returncode == 0 and "FINDINGS" in r.stdout and "edge-1.dc:" in r.stdout and
            "records read" in r.stdout, r.stdout[-400:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    args = ap.parse_args()
    t = Tally()
    if not os.path.exists(os.path.join(LAB, "FINDINGS.md")):
        print("SKIP: %s not found" % LAB)
        print("0 passed, 0 failed, 1 skipped")
        return 0
    tmp = tempfile.mkdtemp(prefix="hopscope-sensors-")
    try:
        command_line(t, args.hopscope, tmp)
        two_sensors(t, args.hopscope, tmp)
        round_trip(t, args.hopscope, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed, %d skipped" % (t.passed, t.failed, t.skipped))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
