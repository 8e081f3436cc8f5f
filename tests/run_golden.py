#!/usr/bin/env python3
"""Golden-trace test: run hopscope on every capture under captures/ and compare with its expected output.

captures/expected/<relative path with '/' replaced by '__'>.jsonl holds the exact JSON Lines hopscope must
write for that capture (records and the closing stats line); a capture whose run ends with a non-zero exit
(truncated file) also has <name>.exit holding the expected exit status. <name>.args, when present, adds a
second run with those arguments (one per line; a path after -k is relative to captures/), expected in
<name>.args.jsonl — that is how runs with keytabs are pinned. Every lab trace (captures/lab/) also has its text
report pinned: `-F text`, expected in <name>.txt.

Each JSON run is also checked the way users check their own traces: `hopscope --expect <expected file>` must
meet every line of it (one mechanism for golden traces and users, docs/REPORTS.md).

  run_golden.py --hopscope build/hopscope            compare (prints a unified diff per mismatch)
  run_golden.py --hopscope build/hopscope --update   rewrite the expected files from the current output
"""
import argparse
import difflib
import os
import subprocess
import sys

CAPTURE_EXT = (".pcap", ".pcapng", ".cap")
EXPECT_MAX = 4096  # expectations --expect takes from one file (src/output/expect.h)


def captures(root):
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "expected")
        for f in sorted(files):
            if f.endswith(CAPTURE_EXT):
                yield os.path.relpath(os.path.join(dirpath, f), root)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hopscope", required=True)
    ap.add_argument("--captures", default=os.path.join(os.path.dirname(__file__), "..", "captures"))
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()

    root = os.path.normpath(args.captures)
    expdir = os.path.join(root, "expected")
    os.makedirs(expdir, exist_ok=True)
    passed = failed = 0
    runs = []
    for rel in captures(root):
        key = rel.replace(os.sep, "__")
        runs.append((rel, key, []))
        if rel.startswith("lab" + os.sep):
            runs.append((rel + " (with -F text)", key + ".text", ["-F", "text"]))
        args_path = os.path.join(expdir, key + ".args")
        if os.path.exists(args_path):
            with open(args_path) as f:
                extra = [l.strip() for l in f if l.strip()]
            extra = [os.path.join(root, a) if i and extra[i - 1] == "-k" else a for i, a in enumerate(extra)]
            runs.append((rel + " (with " + " ".join(os.path.basename(a) for a in extra) + ")", key + ".args", extra))
    for rel, key, extra in runs:
        exp_path = os.path.join(expdir, key[:-len(".text")] + ".txt" if key.endswith(".text") else key + ".jsonl")
        exit_path = os.path.join(expdir, key + ".exit")
        cap = os.path.join(root, rel.split(" (with ")[0])
        proc = subprocess.run([args.hopscope, *extra, "-r", cap], capture_output=True, text=True)
        if args.update:
            with open(exp_path, "w") as f:
                f.write(proc.stdout)
            if proc.returncode:
                with open(exit_path, "w") as f:
                    f.write("%d\n" % proc.returncode)
            elif os.path.exists(exit_path):
                os.remove(exit_path)
            print("UPDATED %s (exit %d)" % (rel, proc.returncode))
            passed += 1
            continue
        want_rc = 0
        if os.path.exists(exit_path):
            with open(exit_path) as f:
                want_rc = int(f.read().strip())
        if not os.path.exists(exp_path):
            print("FAIL %s: no expected output %s (run with --update and review)" % (rel, exp_path))
            failed += 1
            continue
        with open(exp_path) as f:
            want = f.read()
        problems = []
        if proc.returncode != want_rc:
            problems.append("exit status %d, expected %d (stderr: %s)" % (proc.returncode, want_rc, proc.stderr.strip()))
        if proc.stdout != want:
            diff = difflib.unified_diff(want.splitlines(), proc.stdout.splitlines(), "expected", "actual", lineterm="", n=0)
            problems.append("\n".join(list(diff)[:40]))
        if not key.endswith(".text") and want.strip() and len(want.splitlines()) <= EXPECT_MAX:
            # the mechanism users have for their own traces (--expect, docs/REPORTS.md) must agree: the golden
            # output is itself a (complete) expectation file, every record, finding and the stats met
            ex = subprocess.run([args.hopscope, *extra, "-r", cap, "--expect", exp_path, "-o", "/dev/null"],
                                capture_output=True, text=True)
            if ex.returncode != want_rc:
                problems.append("--expect %s: exit %d, expected %d: %s" % (os.path.basename(exp_path), ex.returncode,
                                                                           want_rc, ex.stderr.strip()[:2000]))
        if problems:
            print("FAIL %s: %s" % (rel, "\n".join(problems)))
            failed += 1
        else:
            print("PASS %s" % rel)
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
