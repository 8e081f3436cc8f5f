#!/usr/bin/env python3
"""Signals and failed writes end the run at once, in every input mode: SIGTERM/SIGINT on an idle pipe or
FIFO (records so far written, stats say `interrupted`, exit 128+signal), a write to a full disk or a
closed pipe (one line on stderr, exit 4) while the input is still open; a write cut short part-way (a file-size
limit, as a full disk) leaves the file ending with a whole line.

  test_signals.py --hopscope build/hopscope --captures captures
"""
import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

results = []


def check(name, cond, detail=""):
    results.append(cond)
    print("%s %s%s" % ("PASS" if cond else "FAIL", name, "" if cond else ": " + str(detail)[:400]))


def records(out):
    got = []
    for line in out.decode("utf-8", "replace").splitlines():
        try:
            got.append(json.loads(line))
        except ValueError:
            pass
    return got


def repeated(path, times):
    """The packets of a pcap file `times` over, each repetition one second after the one before."""
    data = open(path, "rb").read()
    hdr, body = data[:24], data[24:]
    pkts, off = [], 0
    while off + 16 <= len(body):
        sec, usec, cap, wire = struct.unpack_from("<IIII", body, off)
        pkts.append((sec, usec, body[off + 16:off + 16 + cap], wire))
        off += 16 + cap
    out = [hdr]
    base = pkts[0][0]
    for r in range(times):
        for sec, usec, frame, wire in pkts:
            out.append(struct.pack("<IIII", sec - base + 1_000_000 + r * 60, usec, len(frame), wire) + frame)
    return b"".join(out)


def interrupted_pipe(hs, data, sig):
    """hopscope -r - fed data on a pipe left open, then sig: (seconds to end, exit status, records, stderr)."""
    p = subprocess.Popen([hs, "-r", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(data)
    p.stdin.flush()
    time.sleep(0.5)
    t = time.monotonic()
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return time.monotonic() - t, p.returncode, records(out), err.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    ap.add_argument("--captures", required=True)
    a = ap.parse_args()
    hs = a.hopscope
    good = os.path.join(a.captures, "lab", "smb2_ntlmv2_ok.pcap")
    data = open(good, "rb").read()
    tmp = tempfile.mkdtemp(prefix="hopscope-sig-")

    p = subprocess.run([hs, "-r", good], capture_output=True)
    st = records(p.stdout)[-1]
    check("a complete run exits 0 and is not interrupted", p.returncode == 0 and st.get("interrupted") is False, st)

    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        dt, rc, recs, err = interrupted_pipe(hs, data, sig)
        check("-r - on an idle pipe ends at once on signal %d" % sig, dt < 2 and rc == code,
              "%.2f s, exit %s, %s" % (dt, rc, err))
        check("... its records are written and stats say interrupted (signal %d)" % sig,
              [r["type"] for r in recs] == ["auth", "stats"] and recs[-1]["interrupted"] is True
              and recs[0].get("result") == "success", recs)

    # A FIFO named with -r: blocked in open() until a writer comes, then in read().
    fifo = os.path.join(tmp, "in.fifo")
    os.mkfifo(fifo)
    p = subprocess.Popen([hs, "-r", fifo], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    w = open(fifo, "wb")
    w.write(data)
    w.flush()
    time.sleep(0.5)
    t = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    dt = time.monotonic() - t
    w.close()
    recs = records(out)
    check("-r FIFO ends at once on SIGTERM", dt < 2 and p.returncode == 143 and recs
          and recs[-1]["interrupted"] is True, "%.2f s, exit %s" % (dt, p.returncode))

    # Failed writes, the input still open: hopscope must stop reading and say so in one line.
    big = repeated(good, 400)

    def feed(proc, blob):
        try:
            proc.stdin.write(blob)
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    for name, args, stdout in (("full disk (-o /dev/full)", ["-o", "/dev/full"], subprocess.DEVNULL),
                               ("full disk (standard output /dev/full)", [], open("/dev/full", "wb")),
                               ("full disk (-w /dev/full)", ["-o", "/dev/null", "-w", "/dev/full"], subprocess.DEVNULL),
                               ("closed pipe", [], "closed")):
        rd = None
        if stdout == "closed":
            rd, wr = os.pipe()
            os.close(rd)
            stdout = wr
        p = subprocess.Popen([hs, *args, "-r", "-"], stdin=subprocess.PIPE, stdout=stdout, stderr=subprocess.PIPE)
        if stdout not in (subprocess.DEVNULL,):
            os.close(stdout) if isinstance(stdout, int) else stdout.close()
        th = threading.Thread(target=feed, args=(p, big), daemon=True)
        th.start()
        t = time.monotonic()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        dt = time.monotonic() - t
        err = p.stderr.read().decode("utf-8", "replace")
        check("%s stops the reading at once, exit 4 with one line" % name,
              dt < 5 and p.returncode == 4 and len(err.strip().splitlines()) == 1 and "write failed" in err,
              "%.2f s, exit %s, stderr %r" % (dt, p.returncode, err))
        try:
            p.stdin.close()
        except OSError:
            pass

    # A write that fails part-way (a file-size limit: write(2) writes up to it, then EFBIG, as a full disk
    # does): one line naming the file, exit 4, and the file ends with a complete line, every line JSON.
    limit = 100_003  # not on a line boundary

    def limited():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    bigf = os.path.join(tmp, "big.pcap")
    with open(bigf, "wb") as f:
        f.write(big)
    for how in ("-o", "stdout"):
        out = os.path.join(tmp, "cut-%s.jsonl" % how.strip("-"))
        if how == "-o":
            p = subprocess.run([hs, "-r", bigf, "-o", out], capture_output=True, preexec_fn=limited, timeout=60)
        else:
            with open(out, "wb") as so:
                p = subprocess.run([hs, "-r", bigf], stdout=so, stderr=subprocess.PIPE, preexec_fn=limited, timeout=60)
        err = p.stderr.decode("utf-8", "replace")
        data = open(out, "rb").read()
        lines = data.split(b"\n")
        whole = data.endswith(b"\n") and all(json.loads(l) for l in lines[:-1])
        name = out if how == "-o" else "standard output"
        check("a write cut short (%s): exit 4, one line naming %s and why" % (how, name),
              p.returncode == 4 and len(err.strip().splitlines()) == 1 and name in err and "too large" in err,
              "exit %s, stderr %r" % (p.returncode, err))
        check("... and the file ends with a whole line (%s): %d bytes, every line JSON" % (how, len(data)),
              whole and limit // 2 < len(data) <= limit, data[-200:])

    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
