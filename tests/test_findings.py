#!/usr/bin/env python3
"""Findings on the lab traces: each raises what ../shared/captures/lab/FINDINGS.md says it must, and none
it says it must not; every evidence frame exists in the capture (tshark counts the frames when present).

FINDINGS.md has a table | trace | raise | must not raise |; a finding id is a word like double_hop_failed
(the parenthesised prose after it is the reason, not checked here). A 'with a keytab ... also X' clause in
the raise column is checked with the lab's all_accounts keytab.

Prints PASS/FAIL per trace and a closing "N passed, M failed, K skipped" line; exit 1 on any failure.
Usage: test_findings.py --hopscope build/hopscope
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

LAB = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "captures",
                                    "lab"))
ID = re.compile(r"\b([a-z0-9]+(?:_[a-z0-9]+)+)\b")
KNOWN = {"double_hop_failed", "delegation_missing", "s4u2proxy_denied", "s4u2self_not_forwardable", "spn_unknown",
         "spn_wrong_account", "kerberos_fell_back_to_ntlm", "lm_session_key_mismatch", "lm_response_sent",
         "ntlmv1_used", "credssp_delegation", "cleartext_basic_auth"}


def ids(text):
    """Finding ids named in a cell, outside parentheses."""
    depth, out = 0, []
    for ch in text:
        depth += ch == "("
        if not depth:
            out.append(ch)
        depth -= ch == ")" and depth > 0
    return {m for m in ID.findall("".join(out)) if m in KNOWN}


def parse_table(path):
    rows = {}
    with open(path) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 3 or cells[0] in ("trace", "---") or set(cells[0]) <= set("-"):
                continue
            raise_cell, keyed = cells[1], ""
            m = re.search(r"with a keytab[^;]*", raise_cell)
            if m:
                keyed = m.group(0)
                raise_cell = raise_cell.replace(keyed, "")
            rows[cells[0]] = (ids(raise_cell), ids(keyed), ids(cells[2]))
    return rows


def findings(hopscope, pcap, keytab=None):
    cmd = [hopscope] + (["-k", keytab] if keytab else []) + ["-r", pcap]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return [json.loads(l) for l in p.stdout.splitlines() if '"type":"finding"' in l]


def frame_count(pcap):
    tshark = shutil.which("tshark")
    if not tshark:
        return None
    p = subprocess.run([tshark, "-n", "-r", pcap, "-T", "fields", "-e", "frame.number"], capture_output=True, text=True)
    nums = [int(x) for x in p.stdout.split() if x.isdigit()]
    return max(nums) if nums else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    args = ap.parse_args()
    table = os.path.join(LAB, "FINDINGS.md")
    if not os.path.exists(table):
        print("SKIP: %s not found" % table)
        print("0 passed, 0 failed, 1 skipped")
        return 0
    keytab = os.path.join(LAB, "keytabs", "all_accounts.keytab")
    passed = failed = skipped = 0
    for trace, (must, keyed, mustnot) in sorted(parse_table(table).items()):
        pcap = os.path.join(LAB, trace + ".pcap")
        if not os.path.exists(pcap):
            print("SKIP %s: no capture" % trace)
            skipped += 1
            continue
        plain = findings(args.hopscope, pcap)
        withkeys = findings(args.hopscope, pcap, keytab) if os.path.exists(keytab) else plain
        problems = []
        for label, fs, want in (("", plain, must), (" with keytab", withkeys, must | keyed)):
            got = {f["id"] for f in fs}
            for m in sorted(want - got):
                problems.append("missing %s%s" % (m, label))
            for m in sorted(mustnot & got):
                problems.append("must not raise %s%s" % (m, label))
        last = frame_count(pcap)
        for f in plain + withkeys:
            ev = f.get("evidence") or {}
            if not ev.get("frames"):
                problems.append("%s has no evidence frames" % f["id"])
            if last is not None:
                bad = [x for x in ev.get("frames", []) if not 1 <= x <= last]
                if bad:
                    problems.append("%s cites frames %s outside 1..%d" % (f["id"], bad, last))
        if problems:
            failed += 1
            print("FAIL %s: %s" % (trace, "; ".join(problems)))
        else:
            passed += 1
            print("PASS %s (%s)" % (trace, ", ".join(sorted({f["id"] for f in withkeys})) or "no findings"))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
