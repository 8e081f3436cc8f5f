#!/usr/bin/env python3
"""tcpdump habits: -w writes a pcap of the connections that carried authentication (tshark reads exactly
those), records to standard output or -o, -n -f -q -v -D -Z -s -c as tcpdump means them, options after the
filter expression, --version naming the libraries, SIGHUP reopening -o and -w, --stats-interval on a file.

  test_cli_habits.py --hopscope build/hopscope --captures captures
"""
import argparse
import json
import os
import pwd
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

results = []


def check(name, cond, detail=""):
    results.append(cond)
    print("%s %s%s" % ("PASS" if cond else "FAIL", name, "" if cond else ": " + str(detail)[:400]))


def run(hs, *args, stdin=None):
    return subprocess.run([hs, *args], capture_output=True, text=True, input=stdin)


def read_pcap(path):
    """(header bytes, [(ts_sec, ts_usec, orig_len, data)]) of a little-endian microsecond pcap."""
    with open(path, "rb") as f:
        b = f.read()
    hdr, off, pkts = b[:24], 24, []
    while off + 16 <= len(b):
        s, us, cl, ol = struct.unpack_from("<IIII", b, off)
        pkts.append((s, us, ol, b[off + 16:off + 16 + cl]))
        off += 16 + cl
    return hdr, pkts


def write_pcap(path, hdr, pkts):
    with open(path, "wb") as f:
        f.write(hdr)
        for s, us, ol, d in pkts:
            f.write(struct.pack("<IIII", s, us, len(d), ol) + d)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + h + payload


def tcp(src, dst, sport, dport, seq, ack, flags, data=b""):
    return ipv4(src, dst, 6, struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data)


def udp(src, dst, sport, dport, data):
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data)


def bulk_flow(c, s, cport, sport, segments, payload):
    """A whole TCP connection: handshake, `segments` data segments of payload from the server, FIN both ways."""
    out = [tcp(c, s, cport, sport, 1000, 0, 0x02), tcp(s, c, sport, cport, 5000, 1001, 0x12),
           tcp(c, s, cport, sport, 1001, 5001, 0x10)]
    seq = 5001
    for _ in range(segments):
        out.append(tcp(s, c, sport, cport, seq, 1001, 0x18, payload))
        seq += len(payload)
    out += [tcp(s, c, sport, cport, seq, 1001, 0x11), tcp(c, s, cport, sport, 1001, seq + 1, 0x11),
            tcp(s, c, sport, cport, seq + 1, 1002, 0x10)]
    return out


def conversations(path):
    """{(a_ip, a_port, b_ip, b_port) sorted endpoints: packets} of tcp and udp in path, as tshark counts them."""
    p = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.srcport",
                        "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport"], capture_output=True, text=True)
    conv = {}
    for line in p.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 6:
            continue
        sp, dp = (f[2], f[3]) if f[2] else (f[4], f[5])
        if not sp:
            continue
        k = tuple(sorted([(f[0], int(sp)), (f[1], int(dp))]))
        conv[k] = conv.get(k, 0) + 1
    return conv


def record_conns(jsonl):
    out = set()
    for line in jsonl.splitlines():
        r = json.loads(line)
        if r.get("type") in ("auth", "kerberos"):
            out.add(tuple(sorted([(r["client"]["ip"], r["client"]["port"]), (r["server"]["ip"], r["server"]["port"])])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    ap.add_argument("--captures", required=True)
    a = ap.parse_args()
    hs = a.hopscope
    good = os.path.join(a.captures, "lab", "smb2_ntlmv2_ok.pcap")
    krb = os.path.join(a.captures, "lab", "smb2_kerberos_ok.pcap")
    tmp = tempfile.mkdtemp(prefix="hopscope-habits-")
    os.chmod(tmp, 0o755)
    have_tshark = shutil.which("tshark") is not None

    p = run(hs, "--version")
    check("--version names libpcap, MIT krb5, OpenSSL and jansson",
          p.returncode == 0 and all(w in p.stdout for w in ("hopscope ", "libpcap", "MIT krb5", "OpenSSL", "jansson")),
          p.stdout)

    p = run(hs, "-D")
    lines = p.stdout.splitlines()
    check("-D lists interfaces numbered as tcpdump -D does",
          (p.returncode == 0 and lines and all(l.split(".", 1)[0].isdigit() for l in lines))
          or (p.returncode == 1 and p.stdout == ""), p.stdout + p.stderr)

    plain = run(hs, "-r", good)
    p = run(hs, "-n", "-f", "-r", good)
    check("-n and -f are accepted and change nothing", p.returncode == 0 and p.stdout == plain.stdout, p.stderr)
    p = run(hs, "-v", "-r", good, "-o", os.devnull)
    check("-v prints a summary on standard error", p.returncode == 0 and "38 packets" in p.stderr
          and "1 authentication records" in p.stderr, p.stderr)
    p = run(hs, "-q", "-v", "-r", good, "-o", os.devnull)
    check("-q silences standard error", p.returncode == 0 and p.stderr == "", p.stderr)

    # Options after the filter expression, as tcpdump on Linux (GNU getopt permutes).
    before = run(hs, "-c", "20", "-r", good, "tcp", "port", "445")
    after = run(hs, "-r", good, "tcp", "port", "445", "-c", "20")
    check("options may follow the filter expression", before.returncode == 0 and after.returncode == 0
          and before.stdout == after.stdout and '"packets":20,' in after.stdout, after.stderr + after.stdout[-200:])
    p = run(hs, "-r", good, "port", "445", "-c")
    check("an option after the filter still needs its argument", p.returncode == 2, p.stderr)

    # -o and standard output carry the same records.
    out = os.path.join(tmp, "o.jsonl")
    p = run(hs, "-r", good, "-o", out)
    with open(out) as f:
        check("-o FILE holds what standard output would", p.stdout == "" and f.read() == plain.stdout)

    # -w: a mixed capture, the lab's Kerberos-over-UDP/TCP + SMB2 trace interleaved with bulk connections that
    # carry no authentication (TLS-like on 443, an HTTP GET without Authorization, DNS). The pcap written must
    # hold exactly the connections of the records, each with all its packets.
    hdr, auth_pkts = read_pcap(krb)
    bulk = bulk_flow("10.9.0.1", "10.9.0.2", 40000, 443, 30, b"\x17\x03\x03\x03\xe8" + b"\xaa" * 1000)
    http = bulk_flow("10.9.0.1", "10.9.0.3", 40001, 80, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    http.insert(3, tcp("10.9.0.1", "10.9.0.3", 40001, 80, 1001, 5001, 0x18, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    dns = [udp("10.9.0.1", "10.9.0.4", 53000, 53, b"\x12\x34\x01\x00\x00\x01" + b"\0" * 6 + b"\x01a\x00\x00\x01\x00\x01")]
    extra = bulk + http + dns
    mixed, t0 = [], auth_pkts[0][0]
    for i in range(max(len(auth_pkts), len(extra))):
        if i < len(auth_pkts):
            mixed.append(auth_pkts[i])
        if i < len(extra):
            mixed.append((t0, i, len(extra[i]), extra[i]))
    mixed_path = os.path.join(tmp, "mixed.pcap")
    write_pcap(mixed_path, hdr, mixed)
    wpcap = os.path.join(tmp, "auth.pcap")
    p = run(hs, "-r", mixed_path, "-w", wpcap)
    recs = record_conns(p.stdout)
    check("-w keeps records on standard output", p.returncode == 0 and len(recs) == 6, p.stderr + p.stdout[:300])
    if have_tshark:
        got, inp = conversations(wpcap), conversations(mixed_path)
        check("-w writes a pcap tshark reads with exactly the authentication connections",
              set(got) == recs, "got %s want %s" % (sorted(got), sorted(recs)))
        check("-w keeps every packet of those connections", all(got.get(k) == inp[k] for k in recs),
              "%s vs %s" % (got, {k: inp[k] for k in recs}))
        check("-w leaves bulk out (TLS, HTTP without authentication, DNS)",
              not any(ip.startswith("10.9.0.") for k in got for ip, _ in k), sorted(got))
    else:
        print("SKIP -w content checks: tshark not installed")

    # -s SNAPLEN cuts what -w writes.
    spcap = os.path.join(tmp, "snap.pcap")
    p = run(hs, "-s", "96", "-r", good, "-w", spcap, "-o", os.devnull)
    _, sp = read_pcap(spcap)
    check("-s cuts the packets -w writes", p.returncode == 0 and len(sp) == 38 and max(len(d) for *_, d in sp) == 96
          and max(ol for _, _, ol, _ in sp) > 96, [len(d) for *_, d in sp][:5])
    p = run(hs, "-s", "x", "-r", good)
    check("bad -s is a usage error", p.returncode == 2, p.stderr)

    # -Z USER: as root, the output files are created after privileges are dropped.
    if os.geteuid() == 0:
        zdir = os.path.join(tmp, "z")
        os.mkdir(zdir)
        os.chmod(zdir, 0o777)
        zo = os.path.join(zdir, "z.jsonl")
        p = run(hs, "-Z", "nobody", "-r", good, "-o", zo)
        nobody = pwd.getpwnam("nobody").pw_uid
        check("-Z drops privileges before the outputs are created", p.returncode == 0
              and os.stat(zo).st_uid == nobody, p.stderr)
        p = run(hs, "-Z", "no-such-user-hopscope", "-r", good)
        check("-Z with an unknown user is one line and a non-zero exit", p.returncode != 0 and
              len(p.stderr.strip().splitlines()) == 1, p.stderr)
    else:
        print("SKIP -Z: not root")

    # SIGHUP reopens -o and -w: packets come on standard input; after the first half the files are renamed
    # away (a log rotation), SIGHUP, then the second half: both new files exist, and the two pcaps together
    # hold every packet.
    ho, hw = os.path.join(tmp, "hup.jsonl"), os.path.join(tmp, "hup.pcap")
    proc = subprocess.Popen([hs, "-r", "-", "-o", ho, "-w", hw], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    half = len(auth_pkts) // 2
    first = hdr + b"".join(struct.pack("<IIII", s, us, len(d), ol) + d for s, us, ol, d in auth_pkts[:half])
    proc.stdin.write(first)
    proc.stdin.flush()
    time.sleep(0.5)
    os.rename(ho, ho + ".1")
    os.rename(hw, hw + ".1")
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.2)
    proc.stdin.write(b"".join(struct.pack("<IIII", s, us, len(d), ol) + d for s, us, ol, d in auth_pkts[half:]))
    proc.stdin.close()
    rc = proc.wait(timeout=30)
    err = proc.stderr.read().decode()
    ok = rc == 0 and os.path.exists(ho) and os.path.exists(hw)
    check("SIGHUP reopens -o and -w", ok, "rc=%s %s" % (rc, err))
    if ok:
        _, p1 = read_pcap(hw + ".1")
        _, p2 = read_pcap(hw)
        with open(ho) as f:
            new = f.read()
        check("after SIGHUP the records go to the new -o file", '"type":"stats"' in new, new[:200])
        # (how many went to each depends on how far hopscope had read when the signal came: on a loaded machine
        # perhaps none before it)
        check("the -w files before and after SIGHUP hold every packet", len(p1) + len(p2) == len(auth_pkts)
              and len(p2) >= 1, (len(p1), len(p2), len(auth_pkts)))

    # The progress line: on standard error when it is a terminal (script(1) gives the program one), never
    # otherwise, never with -q. SIGUSR1 prints the stats so far whatever standard error is.
    if shutil.which("script"):
        cmd = " ".join(shlex.quote(x) for x in (hs, "-r", good, "-o", os.devnull))
        t = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True)
        check("on a terminal, a progress line on standard error", t.returncode == 0 and b"\r" + good.encode() in t.stdout
              and b"7.6 KiB of 7.6 KiB (100%), 38 packets" in t.stdout and b"\x1b[K" in t.stdout, t.stdout[:300])
        t = subprocess.run(["script", "-qec", cmd + " -q", "/dev/null"], capture_output=True)
        check("-q: no progress line on a terminal", t.returncode == 0 and b"packets" not in t.stdout, t.stdout)
    else:
        print("SKIP progress on a terminal: script(1) not installed")
    p = run(hs, "-r", good, "-o", os.devnull)
    check("no progress line when standard error is not a terminal", p.returncode == 0 and p.stderr == "", p.stderr)
    proc = subprocess.Popen([hs, "-r", "-", "-o", os.devnull], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(first)
    proc.stdin.flush()
    time.sleep(0.5)
    proc.send_signal(signal.SIGUSR1)
    time.sleep(0.2)
    proc.stdin.write(b"".join(struct.pack("<IIII", s, us, len(d), ol) + d for s, us, ol, d in auth_pkts[half:]))
    proc.stdin.close()
    rc = proc.wait(timeout=30)
    err = proc.stderr.read().decode()
    lines = [l for l in err.splitlines() if l.startswith("hopscope: {")]
    ok = rc == 0 and len(lines) == 1
    if ok:
        st = json.loads(lines[0][len("hopscope: "):])
        ok = st["type"] == "stats" and st["packets"] < len(auth_pkts)
    check("SIGUSR1 prints the stats so far on standard error", ok, "rc=%s %s" % (rc, err))

    # --stats-interval on a file: driven by packet time, so deterministic. The trace 10 times, each copy 60 s
    # after the one before: with an interval of 100 s, a periodic record is due at +100, +200, ... +500 s
    # (packet time), each written at the first packet at or past it.
    hdr, pk = read_pcap(good)
    base = pk[0][0]
    reps = [(s - base + 1_000_000 + r * 60, us, ol, d) for r in range(10) for s, us, ol, d in pk]
    many = os.path.join(tmp, "many.pcap")
    write_pcap(many, hdr, reps)
    p = run(hs, "-r", many, "--stats-interval", "100")
    out = [json.loads(l) for l in p.stdout.splitlines()]
    per = [r for r in out if r["type"] == "stats" and not r["final"]]
    ok = (p.returncode == 0 and len(per) == 5 and out[-1]["type"] == "stats" and out[-1]["final"] is True
          and [r["packets"] for r in per] == sorted(r["packets"] for r in per)
          and all(r["ts"] < out[-1]["ts"] for r in per) and all("memory" in r and "flows_tracked" in r for r in per)
          and "capture" not in out[-1])
    check("--stats-interval on a file: periodic stats records by packet time, the closing one last", ok,
          [(r.get("ts"), r.get("packets"), r.get("final")) for r in out if r["type"] == "stats"])
    p2 = run(hs, "-r", many, "--stats-interval", "100")
    check("--stats-interval on a file is deterministic", p2.stdout == p.stdout)
    p = run(hs, "-r", good, "--stats-interval", "0")
    check("--stats-interval 0 is a usage error", p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr)
    p = run(hs, "-r", good, "--stats-interval", "5", "-F", "text")
    check("--stats-interval with --format text is a usage error", p.returncode == 2 and "text" in p.stderr, p.stderr)

    shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
