#!/usr/bin/env python3
"""--threads N gives the same bytes as the one-thread run.

On every capture of captures/ and ../shared/captures/{lab,public}: hopscope's output (JSON Lines, or the text
table) with --threads N must equal, byte for byte, the run without --threads, in the default mode, --stream,
--idle-timeout 1 with and without --stream (idle expiry across workers), and -F text; with -w, --dot,
--write-expect and --stats-interval 1 every file written must be equal too (the threaded run's stats lines also
have a `workers` array, which must add up to the run's figures, and are compared without it); on the lab traces also with every
keytab and the credentials. Batches of 1 and 7 frames (HOPSCOPE_PIPELINE_BATCH) make records cross batch
boundaries; the span-port encapsulations of tests/test_encap.py (tunnels, IPv4 fragments sent last-first) go
through the dispatcher's decoder before the flow hash. Under caps (--max-flows 4) equality with one thread is not
promised, but a given N must give the same bytes run after run.

Prints a line per difference and a closing "N runs compared, M differ" line; exit 1 on any difference.
Usage: test_threads.py --hopscope build/hopscope --captures captures
"""
import argparse
import concurrent.futures
import filecmp
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "captures"))
LAB = os.path.join(SHARED, "lab")


def captures(repo):
    out = []
    for root in (os.path.join(repo, "lab"), os.path.join(repo, "public"), os.path.join(repo, "crafted"),
                 os.path.join(SHARED, "lab"), os.path.join(SHARED, "public")):
        for ext in ("pcap", "pcapng", "cap"):
            out += glob.glob(os.path.join(root, "**", "*." + ext), recursive=True)
    seen, uniq = set(), []
    for p in sorted(out):
        key = (os.path.basename(p), os.path.getsize(p))
        if key not in seen:
            seen.add(key)
            uniq.append(p)
    return uniq


def run(hs, args, env=None):
    p = subprocess.run([hs, "-q"] + args, capture_output=True, env=env, timeout=300)
    return p.returncode, p.stdout


WORKERS = re.compile(rb',"workers":(\[[^\]]*\])')


def strip_workers(out, n, text):
    """The threaded run's stats lines less their `workers` array (only it has one), after checking the array:
    n entries whose flows add up to the run's. Returns (output, error or None)."""
    if text:
        return out, None
    lines = out.split(b"\n")
    for i, line in enumerate(lines):
        if not line.startswith(b'{"type":"stats"'):
            continue
        m = WORKERS.search(line)
        if not m:
            return out, "stats line %d has no workers" % (i + 1)
        ws = json.loads(m.group(1))
        st = json.loads(line)
        if len(ws) != n or sum(w["flows"] for w in ws) != st["flows"] or \
                sum(w["flows_tracked"] for w in ws) != st["flows_tracked"] or \
                sum(w["memory"]["held"] for w in ws) != st["memory"]["held"]:
            return out, "stats line %d: workers do not add up: %s" % (i + 1, m.group(1)[:300])
        lines[i] = line[:m.start()] + line[m.end():]
    return b"\n".join(lines), None


def compare(hs, path, args, n, batch=None, files=()):
    """Runs without and with --threads n; returns a description of what differs, or None."""
    env = dict(os.environ)
    if batch:
        env["HOPSCOPE_PIPELINE_BATCH"] = str(batch)
    with tempfile.TemporaryDirectory() as d:
        outs = []
        for tag, extra in (("a", []), ("b", ["--threads", str(n)])):
            fargs = []
            for opt, name in files:
                fargs += [opt, os.path.join(d, tag + name)]
            outs.append(run(hs, ["-r", path] + args + fargs + extra, env))
        (ra, oa), (rb, ob) = outs
        ob, err = strip_workers(ob, n, "text" in args)
        if err:
            return err
        if ra != rb:
            return "exit %d vs %d" % (ra, rb)
        if oa != ob:
            la, lb = oa.splitlines(), ob.splitlines()
            for i, (x, y) in enumerate(zip(la, lb)):
                if x != y:
                    return "line %d differs:\n    %s\n    %s" % (i + 1, x[:300], y[:300])
            return "%d lines vs %d" % (len(la), len(lb))
        for opt, name in files:
            fa, fb = os.path.join(d, "a" + name), os.path.join(d, "b" + name)
            if os.path.exists(fa) != os.path.exists(fb) or (os.path.exists(fa) and not filecmp.cmp(fa, fb, False)):
                return "%s %s differs" % (opt, name)
    if not oa:
        return "no output at all"
    return None


def jobs(hs, repo):
    caps = captures(repo)
    lab = [c for c in caps if os.path.dirname(c) in (LAB, os.path.join(repo, "lab"))]
    keys = []
    for k in sorted(glob.glob(os.path.join(LAB, "keytabs", "*.keytab"))):
        keys += ["-k", k]
    creds = os.path.join(LAB, "credentials.txt")
    if os.path.exists(creds):
        keys += ["--creds", creds]
    out = []
    for i, c in enumerate(caps):
        out.append((c, [], 2, None, ()))
        out.append((c, [], 1 + i % 4, 1 + (i % 2) * 6, ()))
        out.append((c, ["--stream"], 2 + i % 3, None, ()))
        out.append((c, ["--stream"], 3, 1, ()))
        out.append((c, ["--idle-timeout", "1"], 3, None, ()))
        out.append((c, ["--idle-timeout", "1", "--stream"], 2, 7, ()))
        out.append((c, ["-F", "text"], 2, None, ()))
        out.append((c, ["--stats-interval", "1"], 4, 7, (("-w", ".pcap"), ("--dot", ".dot"),
                                                         ("--write-expect", ".exp"))))
    if keys:
        for c in lab:
            out.append((c, keys, 4, None, ()))
            out.append((c, keys + ["--stream"], 2, 1, ()))
    return out


def encap_jobs(hs, tmp):
    """The encapsulation variants of a lab trace, written to tmp."""
    sys.path.insert(0, HERE)
    import test_encap  # noqa: E402
    base = os.path.join(LAB, "double_hop_kerberos_delegated.pcap")
    if not os.path.exists(base):
        return []
    pkts = test_encap.read_pcap(base)
    if isinstance(pkts, tuple):
        pkts = pkts[1]
    out = []
    for name, (lt, vp) in test_encap.variants(pkts).items():
        path = os.path.join(tmp, name + ".pcap")
        test_encap.write_pcap(path, lt, vp)
        out.append((path, [], 3, None, ()))
        out.append((path, ["--stream"], 2, 1, ()))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    ap.add_argument("--captures", default=os.path.join(HERE, "..", "captures"))
    a = ap.parse_args()
    hs = os.path.abspath(a.hopscope)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        todo = jobs(hs, a.captures)
        try:
            todo += encap_jobs(hs, tmp)
        except Exception as ex:  # the variants are test_encap's: say so, compare the rest
            print("encapsulation variants not made: %s" % ex)
            failed += 1
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
            futs = {ex.submit(compare, hs, *j): j for j in todo}
            for f in concurrent.futures.as_completed(futs):
                why = f.result()
                if why:
                    c, args, n, batch, files = futs[f]
                    print("DIFF %s %s --threads %d%s: %s" % (os.path.relpath(c), " ".join(
                        x if not x.endswith((".keytab", ".txt")) else os.path.basename(x) for x in args), n,
                        " (batches of %d)" % batch if batch else "", why))
                    failed += 1
        # Caps: not equal to one thread, but deterministic for a given N.
        caps = [c for c in captures(a.captures) if os.path.getsize(c) > 200000][:6]
        for c in caps:
            outs = {run(hs, ["-r", c, "--max-flows", "4", "--threads", "4"])[1] for _ in range(3)}
            todo.append(c)
            if len(outs) != 1:
                print("DIFF %s --max-flows 4 --threads 4: runs differ" % os.path.relpath(c))
                failed += 1
    print("%d runs compared, %d differ" % (len(todo), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
