#!/usr/bin/env python3
"""Inputs as tshark reads them: gzip-, zstd- and lz4-compressed captures (pcap, pcapng, NetMon) give the same
records as the plain file; a pcapng whose interfaces have different link types is read whole, frames numbered
as tshark numbers them; NetMon and pcapng from standard input; a corrupt compressed file is one line and exit 3.

  test_inputs.py --hopscope build/hopscope --captures captures
"""
import argparse
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import json

results = []


def check(name, cond, detail=""):
    results.append(cond)
    print("%s %s%s" % ("PASS" if cond else "FAIL", name, "" if cond else ": " + str(detail)[:400]))


def run(hs, *args, stdin=None):
    return subprocess.run([hs, *args], capture_output=True, input=stdin)


def to_raw_ip(src, dst):
    """The Ethernet pcap src rewritten as LINKTYPE_RAW (101): each frame without its 14-byte header."""
    b = open(src, "rb").read()
    out, off = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)], 24
    while off + 16 <= len(b):
        s, us, cl, ol = struct.unpack_from("<IIII", b, off)
        d = b[off + 16:off + 16 + cl]
        off += 16 + cl
        out.append(struct.pack("<IIII", s, us, cl - 14, ol - 14) + d[14:])
    with open(dst, "wb") as f:
        f.write(b"".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    ap.add_argument("--captures", required=True)
    a = ap.parse_args()
    hs = a.hopscope
    tmp = tempfile.mkdtemp(prefix="hopscope-inputs-")
    lab = os.path.join(a.captures, "lab")
    inputs = {
        "pcap": os.path.join(lab, "smb2_ntlmv2_ok.pcap"),
        "pcapng": os.path.join(a.captures, "public", "zeek", "kerberos445_auth.pcapng"),
        "netmon": os.path.join(a.captures, "public", "ntlmrawunhide", "capture.cap"),
    }

    for kind, path in inputs.items():
        plain = run(hs, "-r", path)
        if plain.returncode != 0 or b'"type":"auth"' not in plain.stdout:
            check("%s: the plain file gives records" % kind, False, plain.stderr)
            continue
        data = open(path, "rb").read()
        gz = os.path.join(tmp, os.path.basename(path) + ".gz")
        with open(gz, "wb") as f:
            f.write(gzip.compress(data))
        variants = [("gzip", gz)]
        # two gzip members back to back (as `cat a.gz b.gz` makes): one stream
        gz2 = gz + "2"
        with open(gz2, "wb") as f:
            f.write(gzip.compress(data[:1000]) + gzip.compress(data[1000:]))
        variants.append(("gzip, two members", gz2))
        for tool, ext in (("zstd", ".zst"), ("lz4", ".lz4")):
            if shutil.which(tool):
                out = os.path.join(tmp, os.path.basename(path) + ext)
                cmd = [tool, "-q", "-f", path, "-o", out] if tool == "zstd" else [tool, "-q", "-f", path, out]
                subprocess.run(cmd, check=True)
                variants.append((tool, out))
            else:
                print("SKIP %s: %s not installed" % (kind, tool))
        for name, v in variants:
            p = run(hs, "-r", v)
            check("%s read %s-compressed gives the plain file's records" % (kind, name),
                  p.returncode == 0 and p.stdout == plain.stdout, p.stderr)
        p = run(hs, "-r", "-", stdin=data)
        check("%s from standard input gives the file's records" % kind, p.returncode == 0 and p.stdout == plain.stdout,
              p.stderr)
        p = run(hs, "-r", "-", stdin=open(gz, "rb").read())
        check("%s gzip-compressed from standard input" % kind, p.returncode == 0 and p.stdout == plain.stdout,
              p.stderr)

    # A corrupt and a cut compressed file: one line naming it, exit 3 (what came before is reported).
    data = open(inputs["pcap"], "rb").read()
    z = gzip.compress(data)
    bad = os.path.join(tmp, "cut.pcap.gz")
    with open(bad, "wb") as f:
        f.write(z[:len(z) // 2])
    p = run(hs, "-r", bad)
    err = p.stderr.decode()
    check("a cut gzip file is exit 3 with one line", p.returncode == 3 and len(err.strip().splitlines()) == 1
          and bad in err, "rc=%d %s" % (p.returncode, err))
    bad2 = os.path.join(tmp, "corrupt.pcap.gz")
    with open(bad2, "wb") as f:
        f.write(z[:200] + bytes(b ^ 0x5A for b in z[200:400]) + z[400:])
    p = run(hs, "-r", bad2)
    err = p.stderr.decode()
    check("a corrupt gzip file is an error with one line", p.returncode in (1, 3)
          and len(err.strip().splitlines()) == 1, "rc=%d %s" % (p.returncode, err))

    # pcapng with interfaces of different link types (Ethernet and raw IP), which libpcap refuses: read whole.
    if shutil.which("mergecap") and shutil.which("tshark"):
        raw = os.path.join(tmp, "raw.pcap")
        to_raw_ip(os.path.join(lab, "smb2_kerberos_ok.pcap"), raw)
        multi = os.path.join(tmp, "multi.pcapng")
        subprocess.run(["mergecap", "-F", "pcapng", "-w", multi, inputs["pcap"], raw], check=True)
        p = run(hs, "-r", multi)
        recs = [json.loads(l) for l in p.stdout.decode().splitlines()]
        stats = recs[-1]
        t = subprocess.run(["tshark", "-r", multi], capture_output=True, text=True)
        nframes = len(t.stdout.splitlines())
        check("multi-link pcapng is read whole", p.returncode == 0 and stats["packets"] == nframes == 109,
              "rc=%d packets=%s tshark=%d %s" % (p.returncode, stats.get("packets"), nframes, p.stderr))
        kinds = sorted(r["type"] for r in recs if r["type"] in ("auth", "kerberos"))
        check("multi-link pcapng: records of both interfaces", kinds.count("auth") == 2 and kinds.count("kerberos") == 5,
              kinds)
        t = subprocess.run(["tshark", "-r", multi, "-Y", "kerberos.msg_type", "-T", "fields", "-e", "frame.number"],
                           capture_output=True, text=True)
        tframes = {int(x) for x in t.stdout.split()}
        hframes = {r["frames"][k] for r in recs if r["type"] == "kerberos" for k in ("request", "reply")}
        check("multi-link pcapng: frame numbers are tshark's", hframes and hframes <= tframes,
              "%s vs %s" % (sorted(hframes), sorted(tframes)))
        p = run(hs, "-r", multi, "tcp", "port", "88")
        recs = [json.loads(l) for l in p.stdout.decode().splitlines()]
        check("multi-link pcapng: the filter applies to each link type",
              p.returncode == 0 and sum(r["type"] == "kerberos" for r in recs) == 3
              and not any(r["type"] == "auth" for r in recs), [r["type"] for r in recs])
        p = run(hs, "-r", "-", stdin=open(multi, "rb").read())
        check("multi-link pcapng from standard input", p.returncode == 0 and b'"packets":109,' in p.stdout, p.stderr)
    else:
        print("SKIP multi-link pcapng: mergecap/tshark not installed")

    shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
