#!/usr/bin/env python3
"""Command-line behaviour on bad input: one line on stderr naming the file and the problem, the documented
exit status, and everything analysed before a truncation still reported.

  test_cli.py --hopscope build/hopscope --captures captures
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

results = []


def check(name, cond, detail=""):
    results.append(cond)
    print("%s %s%s" % ("PASS" if cond else "FAIL", name, "" if cond else ": " + detail))


def run(hs, *args, stdin=None):
    return subprocess.run([hs, *args], capture_output=True, text=True, input=stdin)


def one_line(err):
    return len(err.strip().splitlines()) == 1


def pcap_header(linktype, snaplen=65535):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    ap.add_argument("--captures", required=True)
    a = ap.parse_args()
    hs = a.hopscope
    good = os.path.join(a.captures, "lab", "smb2_ntlmv2_ok.pcap")
    tmp = tempfile.mkdtemp(prefix="hopscope-cli-")

    p = run(hs, "--version")
    check("version", p.returncode == 0 and p.stdout.startswith("hopscope "), p.stdout)
    p = run(hs, "--help")
    check("help", p.returncode == 0 and "-r FILE" in p.stdout and "Exit status" in p.stdout, p.stdout[:200])
    p = run(hs)
    check("no input is a usage error", p.returncode == 2 and one_line(p.stderr), p.stderr)
    p = run(hs, "--format", "xml", "-r", good)
    check("bad --format is a usage error", p.returncode == 2 and "xml" in p.stderr, p.stderr)
    p = run(hs, "-c", "zero", "-r", good)
    check("bad -c is a usage error", p.returncode == 2 and one_line(p.stderr), p.stderr)
    p = run(hs, "--hop-window", "0", "-r", good)
    check("bad --hop-window is a usage error", p.returncode == 2 and "--hop-window" in p.stderr, p.stderr)
    hop = os.path.join(a.captures, "lab", "double_hop_ntlm.pcap")
    p = run(hs, "--hop-window", "1", "-r", hop)
    check("--hop-window 1 still sees a hop 54 ms later", p.returncode == 0 and "double_hop_failed" in p.stdout,
          p.stderr)

    missing = os.path.join(tmp, "does-not-exist.pcap")
    p = run(hs, "-r", missing)
    check("missing file", p.returncode == 1 and one_line(p.stderr) and missing in p.stderr
          and "No such file" in p.stderr and p.stdout == "", p.stderr)

    notpcap = os.path.join(tmp, "notes.txt")
    with open(notpcap, "w") as f:
        f.write("this is not a capture file, it is a text file with enough bytes\n" * 4)
    p = run(hs, "-r", notpcap)
    check("not a capture", p.returncode == 1 and one_line(p.stderr) and notpcap in p.stderr, p.stderr)

    empty = os.path.join(tmp, "empty.pcap")
    open(empty, "wb").close()
    p = run(hs, "-r", empty)
    check("empty file", p.returncode == 1 and one_line(p.stderr) and empty in p.stderr, p.stderr)

    wifi = os.path.join(tmp, "wifi.pcap")
    with open(wifi, "wb") as f:
        f.write(pcap_header(105))  # LINKTYPE_IEEE802_11
        f.write(struct.pack("<IIII", 0, 0, 4, 4) + b"\x00" * 4)
    p = run(hs, "-r", wifi)
    check("unsupported link type", p.returncode == 1 and one_line(p.stderr) and wifi in p.stderr
          and "unsupported link type 105" in p.stderr, p.stderr)

    p = run(hs, "-r", good, "port", "and", "and")
    check("bad filter", p.returncode == 1 and one_line(p.stderr) and "filter" in p.stderr, p.stderr)

    # A truncated capture: the file cut in the middle of its last packet. Everything before the cut is
    # reported (the authentication completes in frame 11 of 38), then exit 3 with one line.
    with open(good, "rb") as f:
        data = f.read()
    trunc = os.path.join(tmp, "truncated.pcap")
    with open(trunc, "wb") as f:
        f.write(data[:-40])
    p = run(hs, "-r", trunc)
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    auth = [l for l in lines if l["type"] == "auth"]
    stats = [l for l in lines if l["type"] == "stats"]
    check("truncated capture exits 3 with one line", p.returncode == 3 and one_line(p.stderr) and trunc in p.stderr,
          "rc=%d %s" % (p.returncode, p.stderr))
    check("truncated capture still reports what came before",
          len(auth) == 1 and auth[0]["ntlm"]["user"] == "alice" and auth[0]["result"] == "success"
          and len(stats) == 1 and stats[0]["packets"] == 37, p.stdout[:300])

    # Malformed packets inside a valid file never stop the run: a garbage Ethernet frame is counted.
    mal = os.path.join(tmp, "malformed.pcap")
    with open(mal, "wb") as f:
        f.write(pcap_header(1))
        frame = b"\x00" * 12 + b"\x08\x00" + b"\x45\x00\x00\x05"  # IPv4 with total length < header
        f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)
        f.write(data[24:])  # the good capture's packets after it
    p = run(hs, "-r", mal)
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    stats = lines[-1]
    check("malformed packet counted, run continues",
          p.returncode == 0 and stats["malformed"]["ip"] + stats["decode"]["truncated"] >= 1
          and any(l["type"] == "auth" and l["result"] == "success" for l in lines), p.stdout[-300:])

    kt_missing = os.path.join(tmp, "missing.keytab")
    p = run(hs, "-k", kt_missing, "-r", good)
    check("missing keytab", p.returncode == 1 and one_line(p.stderr) and kt_missing in p.stderr
          and "No such file" in p.stderr and p.stdout == "", p.stderr)
    p = run(hs, "-k", notpcap, "-r", good)
    check("not a keytab", p.returncode == 1 and one_line(p.stderr) and notpcap in p.stderr
          and "not a keytab" in p.stderr, p.stderr)
    kt = os.path.join(a.captures, "lab", "keytabs", "dc_cifs.keytab")
    with open(kt, "rb") as f:
        ktdata = f.read()
    kt_trunc = os.path.join(tmp, "truncated.keytab")
    with open(kt_trunc, "wb") as f:
        f.write(ktdata[:len(ktdata) // 2])
    p = run(hs, "-k", kt_trunc, "-r", good)
    check("truncated keytab", p.returncode == 1 and one_line(p.stderr) and kt_trunc in p.stderr, p.stderr)
    krb = os.path.join(a.captures, "lab", "smb2_kerberos_ok.pcap")
    p = run(hs, "-k", kt, "-r", krb)
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    auth = [r for r in recs if r["type"] == "auth"]
    check("a good keytab decrypts the service ticket",
          p.returncode == 0 and auth and auth[0]["kerberos"]["decrypted"]["ticket"]["decrypted"] is True
          and auth[0]["kerberos"]["decrypted"]["ticket"]["client"] == "bob@HOPLAB.TEST", p.stdout[:300])
    wrong = os.path.join(a.captures, "lab", "keytabs", "websvc2.keytab")
    p = run(hs, "-k", wrong, "-r", krb)
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    auth = [r for r in recs if r["type"] == "auth"]
    check("a wrong keytab is said per record, never fatal",
          p.returncode == 0 and auth and auth[0]["kerberos"]["decrypted"]["ticket"]["decrypted"] is False
          and "why" in auth[0]["kerberos"]["decrypted"]["ticket"] and auth[0]["result"] == "success", p.stdout[:300])
    check("no key material in the output", all(w not in p.stdout for w in ('"key":"', "keyvalue", "session_key\":")),
          "")

    out = os.path.join(tmp, "out.jsonl")
    p = run(hs, "-r", good, "-o", out)
    with open(out) as f:
        written = f.read()
    check("-o writes the records to a file", p.returncode == 0 and p.stdout == "" and '"user":"alice"' in written,
          written[:200])
    p = run(hs, "-r", good, "-o", os.path.join(tmp, "no-such-dir", "out.jsonl"))
    check("unwritable -o is exit 4 with one line", p.returncode == 4 and one_line(p.stderr), p.stderr)
    p = run(hs, "-r", good, "-w", os.path.join(tmp, "no-such-dir", "out.pcap"))
    check("unwritable -w is exit 4 with one line", p.returncode == 4 and one_line(p.stderr), p.stderr)

    # Capture options as tcpdump names them: bad values are usage errors in one line naming the option.
    for args, what in ((["-B", "0"], "-B"), (["-B", "64k"], "-B"), (["-B", "99999999999"], "-B"),
                       (["--time-stamp-precision=milli"], "--time-stamp-precision")):
        p = run(hs, "-i", "lo", *args)
        check("%s is a usage error naming %s" % (" ".join(args), what),
              p.returncode == 2 and one_line(p.stderr) and what in p.stderr, p.stderr)
    p = run(hs, *sum((["-i", "if%d" % i] for i in range(17)), []))
    check("more than 16 -i is a usage error", p.returncode == 2 and one_line(p.stderr) and "16" in p.stderr, p.stderr)
    p = run(hs, "-i", "lo", "-i", "lo")
    check("the same -i twice is refused in one line", p.returncode == 1 and one_line(p.stderr) and "lo" in p.stderr,
          p.stderr)
    p = run(hs, "-i", "lo", "-i", "hopscope-no-such0")
    check("an interface that is not there: one line naming it, exit 1",
          p.returncode == 1 and one_line(p.stderr) and "hopscope-no-such0" in p.stderr, p.stderr)
    p = run(hs, "-r", good, "-p", "-B", "4096", "--immediate-mode", "--time-stamp-precision", "nano")
    check("capture options are accepted (and change nothing) with -r", p.returncode == 0 and '"user":"alice"' in p.stdout,
          p.stderr)
    p = run(hs, "--help")
    check("--help lists -B, -p, --time-stamp-precision, --immediate-mode, --stats-interval",
          all(o in p.stdout for o in ("-B SIZE", "  -p ", "--time-stamp-precision", "--immediate-mode",
                                      "--stats-interval")), p.stdout[:300])

    p = run(hs, "-r", "-", stdin=None)
    check("-r - with empty stdin is an input error", p.returncode == 1 and one_line(p.stderr), p.stderr)

    p = run(hs, "-F", "text", "-r", good)
    check("text format", p.returncode == 0 and "HOPLAB\\alice" in p.stdout and "STATUS_SUCCESS" in p.stdout
          and "SUMMARY" in p.stdout and "packets" in p.stdout, p.stdout[:300])
    # the report of a double hop: findings first (within 80 columns), then the sessions in time order (the
    # first hop before the second, though the second completed first), the anonymous session named so,
    # every line within 100 columns, a summary instead of raw JSON
    p = run(hs, "-F", "text", "-r", os.path.join(a.captures, "lab", "double_hop_ntlm.pcap"))
    out = p.stdout
    fi, se, su = out.find("FINDINGS"), out.find("SESSIONS"), out.find("SUMMARY")
    rows = [l for l in out[se:su].splitlines() if l[:2].isdigit()]
    check("text report order and shape",
          p.returncode == 0 and 0 <= fi < se < su and "double_hop_failed" in out[fi:se]
          and all(len(l) <= 80 for l in out[fi:se].splitlines())
          and all(len(l) <= 100 for l in out.splitlines())
          and len(rows) == 3 and rows == sorted(rows) and "5985" in rows[0]
          and "(anonymous)" in out and not re.search(r"^\s+\\\s", out, re.M) and "{" not in out[su:], out[:400])

    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
