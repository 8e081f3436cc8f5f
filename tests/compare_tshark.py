#!/usr/bin/env python3
"""Compare hopscope's NTLM AUTHENTICATE records with what tshark decodes.

Requirement: every NTLMSSP AUTHENTICATE that tshark decodes on the transports
hopscope covers appears in hopscope's output with the same user, domain and
workstation, and hopscope reports none that tshark does not see.

For every capture (*.pcap, *.pcapng, *.cap, searched recursively) the script
runs tshark once with a display filter that selects AUTHENTICATE messages
carried directly by a covered transport (see TRANSPORT_FILTERS; DCE/RPC auth
verifiers - which may themselves ride in SMB2 named pipes or HTTP - are
excluded), runs `hopscope -r FILE`, and compares the two as multisets of
(frame, user, domain, workstation), hopscope's frame being frames.authenticate.

With --community-id (the default) it also checks, for every hopscope auth
record, that its community_id equals the one Wireshark's "communityid"
protocol computes for a frame of that connection.

Output: one line per capture
    PASS name (k authenticates)
    FAIL name: missing [...] extra [...]
    SKIP name: reason
followed by a last line "N passed, M failed, K skipped".  Exit status 1 if any
capture failed, else 0.  Python 3 standard library only.

Usage: python3 tests/compare_tshark.py --hopscope build/hopscope [--captures DIR ...]
"""

import argparse
import collections
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys

# ../shared beside the repository (as CI and the developers' machines lay it out).
_SHARED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "captures"))
DEFAULT_CAPTURE_DIRS = [os.path.join(_SHARED, "public"), os.path.join(_SHARED, "lab")]
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")

# One display-filter clause per transport hopscope decodes NTLMSSP on: the
# clause must match frames whose AUTHENTICATE is carried directly by that
# transport.  When hopscope learns a new transport, add it here (and the test
# starts holding it to tshark).
TRANSPORT_FILTERS = collections.OrderedDict([
    # SMB2 SESSION_SETUP (command 1), raw NTLMSSP or inside SPNEGO.
    ("smb2", "smb2.cmd == 1"),
    # "Authorization: NTLM|Negotiate ..." / "WWW-Authenticate" headers.
    ("http", "http"),
    # LDAP BindRequest credentials: SASL GSS-SPNEGO / NTLM, sicilyResponse.
    ("ldap", "ldap"),
])

# AUTHENTICATE messages inside DCE/RPC auth verifiers (bind / alter_context /
# auth3 / request) are a different layer even when the DCE/RPC PDU itself is
# carried by SMB2 (named pipe WRITE/IOCTL) or HTTP (RPC over HTTP).
EXCLUDE_FILTER = "!dcerpc"

AUTH_FILTER = "ntlmssp.messagetype == 0x00000003 && (%s) && %s" % (
    " || ".join(TRANSPORT_FILTERS.values()), EXCLUDE_FILTER)

NTLM_FIELDS = ["frame.number", "ntlmssp.auth.username", "ntlmssp.auth.domain",
               "ntlmssp.auth.hostname"]

# Separates multiple occurrences of a field in one frame (a frame can finish
# several PDUs); a control character so commas in names stay intact.
AGGREGATOR = "\x1e"

# tshark (packet-ntlmssp.c) shows a zero-length string as "NULL"; hopscope
# writes "".
TSHARK_EMPTY = "NULL"

# Error lines tshark prints for files it reads only partially; records up to
# the damage are still printed and compared.
TSHARK_PARTIAL_MARKERS = ("appears to have been cut short", "appears to be damaged or corrupt")

TIMEOUT = 600


def find_captures(dirs):
    """Return ([(display name, path)], [missing dirs])."""
    found, missing = [], []
    for d in dirs:
        if not os.path.isdir(d):
            missing.append(d)
            continue
        base = os.path.basename(os.path.normpath(d)) or d
        for root, subdirs, files in os.walk(d):
            subdirs.sort()
            for f in sorted(files):
                if f.lower().endswith(CAPTURE_SUFFIXES):
                    p = os.path.join(root, f)
                    found.append((os.path.join(base, os.path.relpath(p, d)), p))
    return found, missing


def run(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %ds" % TIMEOUT
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def first_error_line(stderr):
    for line in stderr.splitlines():
        line = line.strip()
        if line and not line.startswith("Running as user"):
            return line
    return ""


def norm(s):
    return "" if s == TSHARK_EMPTY else s


def tshark_auths(tshark, path, community):
    """Return (list of (frame, user, domain, workstation), {frame: community id},
    error or None)."""
    fields = NTLM_FIELDS + (["communityid"] if community else [])
    cmd = [tshark, "-n", "-r", path, "-Y", AUTH_FILTER, "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=" + AGGREGATOR]
    if community:
        cmd[1:1] = ["--enable-protocol", "communityid"]
    for f in fields:
        cmd += ["-e", f]
    rc, out, err = run(cmd)
    if rc is None:
        return None, None, "tshark " + err
    if rc != 0 and not any(m in err for m in TSHARK_PARTIAL_MARKERS):
        return None, None, "tshark exit %d: %s" % (rc, first_error_line(err))
    auths, ids = [], {}
    for line in out.splitlines():
        if not line.strip():
            continue
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        frame = int(cols[0])
        if community:
            ids[frame] = cols[4].strip()
        users, domains, hosts = (c.split(AGGREGATOR) if c else [] for c in cols[1:4])
        n = max(len(users), len(domains), len(hosts))
        for i in range(n):
            # A field tshark could not decode (truncated message) is absent;
            # None never equals a hopscope string, so it shows as a mismatch.
            pick = lambda l: norm(l[i]) if i < len(l) else None
            auths.append((frame, pick(users), pick(domains), pick(hosts)))
    return auths, ids, None


def tshark_community_ids(tshark, path, frames):
    """Return ({frame: community id}, error or None) for the given frames."""
    if not frames:
        return {}, None
    flt = "frame.number in {%s}" % ", ".join(str(f) for f in sorted(frames))
    cmd = [tshark, "-n", "--enable-protocol", "communityid", "-r", path, "-Y", flt,
           "-T", "fields", "-e", "frame.number", "-e", "communityid"]
    rc, out, err = run(cmd)
    if rc is None:
        return None, "tshark " + err
    if rc != 0 and not any(m in err for m in TSHARK_PARTIAL_MARKERS):
        return None, "tshark exit %d: %s" % (rc, first_error_line(err))
    ids = {}
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) >= 2 and cols[0].strip():
            ids[int(cols[0])] = cols[1].strip()
    return ids, None


def tshark_has_communityid(tshark):
    rc, out, _ = run([tshark, "-G", "protocols"])
    return rc == 0 and any(l.split("\t")[-1:] == ["communityid"] for l in out.splitlines())


def hopscope_records(hopscope, path):
    """Return (auth records, skip reason, fail reason)."""
    rc, out, err = run([hopscope, "-r", path])
    if rc is None:
        return None, None, "hopscope " + err
    if rc == 1:
        # Input unusable (e.g. a NetMon .cap libpcap cannot open).
        return None, "hopscope cannot read it: %s" % (first_error_line(err) or "exit 1"), None
    if rc not in (0, 3):  # 3: truncated/damaged capture, records up to there written
        return None, None, "hopscope exit %d: %s" % (rc, first_error_line(err))
    recs, saw_stats = [], False
    for n, line in enumerate(out.splitlines(), 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except ValueError as e:
            return None, None, "hopscope output line %d is not JSON (%s)" % (n, e)
        if o.get("type") == "auth":
            recs.append(o)
        elif o.get("type") == "stats":
            saw_stats = True
    if not saw_stats:
        return None, None, "hopscope wrote no stats line (exit %d)" % rc
    return recs, None, None


def hopscope_auths(recs):
    out = []
    for r in recs:
        frame = (r.get("frames") or {}).get("authenticate")
        ntlm = r.get("ntlm")
        if frame is None or ntlm is None:
            continue
        out.append((frame, ntlm.get("user"), ntlm.get("domain"), ntlm.get("workstation")))
    return out


def fmt(keys, recs_by_frame=None):
    parts = []
    for k in sorted(keys, key=lambda k: (k[0], [str(x) for x in k[1:]])):
        s = "%d %s\\%s@%s" % (k[0], k[2], k[1], k[3])
        if recs_by_frame is not None:
            t = recs_by_frame.get(k[0], {}).get("transport")
            if t and t not in TRANSPORT_FILTERS:
                s += " (transport %r not in TRANSPORT_FILTERS)" % t
            elif t:
                s += " (%s)" % t
        parts.append(s)
    return "[" + ", ".join(parts) + "]"


def check(args, name, path, community):
    recs, skip, fail = hopscope_records(args.hopscope, path)
    t_auths, t_ids, t_err = tshark_auths(args.tshark, path, community)
    if skip:
        if t_err is None and t_auths:
            skip += " (tshark decodes %d authenticates there)" % len(t_auths)
        return "SKIP", "SKIP %s: %s" % (name, skip), 0
    if fail:
        return "FAIL", "FAIL %s: %s" % (name, fail), 0
    if t_err:
        return "SKIP", "SKIP %s: %s" % (name, t_err), 0

    h_auths = hopscope_auths(recs)
    t_count, h_count = collections.Counter(t_auths), collections.Counter(h_auths)
    missing = list((t_count - h_count).elements())
    extra = list((h_count - t_count).elements())

    cid_bad = []
    if community:
        want = []  # (reference frame, hopscope community_id)
        for r in recs:
            # Any frame of the connection will do: the AUTHENTICATE if there
            # is one, else the earliest frame the record names (Kerberos
            # records name ap_req / ap_rep, failed ones only some frames).
            fr = r.get("frames") or {}
            nums = [v for v in fr.values() if isinstance(v, int) and v > 0]
            ref = fr.get("authenticate") or (min(nums) if nums else None)
            if ref is None:
                cid_bad.append("record without frames")
            else:
                want.append((ref, r.get("community_id")))
        # The AUTHENTICATE frames came with the first tshark pass; ask again
        # only for the others (Kerberos records, records tshark did not see).
        ids, c_err = tshark_community_ids(
            args.tshark, path, {f for f, _ in want if f not in t_ids})
        if ids is not None:
            ids.update(t_ids)
        if c_err:
            cid_bad.append("(%s)" % c_err)
        else:
            for f, cid in sorted(want, key=lambda w: w[0]):
                if ids.get(f) != cid:
                    cid_bad.append("frame %d hopscope %s tshark %s" % (f, cid, ids.get(f)))

    if missing or extra or cid_bad:
        by_frame = {(r.get("frames") or {}).get("authenticate"): r for r in recs}
        msg = "FAIL %s: missing %s extra %s" % (name, fmt(missing), fmt(extra, by_frame))
        if cid_bad:
            msg += " community_id [%s]" % ", ".join(cid_bad)
        return "FAIL", msg, 0
    return "PASS", "PASS %s (%d authenticates)" % (name, len(h_auths)), \
        (len(recs) if community else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hopscope", required=True, help="path to the hopscope binary")
    ap.add_argument("--captures", action="append", metavar="DIR",
                    help="capture directory, searched recursively (repeatable; default: %s)"
                    % " ".join(DEFAULT_CAPTURE_DIRS))
    ap.add_argument("--tshark", default=None, help="tshark binary (default: from PATH)")
    ap.add_argument("--community-id", dest="community", action="store_true", default=True,
                    help="also compare community_id with tshark's communityid (default)")
    ap.add_argument("--no-community-id", dest="community", action="store_false",
                    help="skip the community_id check")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="captures checked in parallel (default: CPU count)")
    args = ap.parse_args()

    dirs = args.captures or DEFAULT_CAPTURE_DIRS
    captures, missing_dirs = find_captures(dirs)
    for d in missing_dirs:
        print("capture directory %s not found" % d)
    if not captures:
        print("no captures found under %s" % " ".join(dirs))
        print("0 passed, 0 failed, 0 skipped")
        return 0

    args.tshark = args.tshark or shutil.which("tshark")
    if not args.tshark or not os.access(args.tshark, os.X_OK):
        print("tshark not found; skipping all %d captures" % len(captures))
        print("0 passed, 0 failed, %d skipped" % len(captures))
        return 0
    if not os.access(args.hopscope, os.X_OK):
        print("hopscope binary %s not found or not executable" % args.hopscope)
        return 2

    community = args.community
    if community and not tshark_has_communityid(args.tshark):
        print("tshark has no communityid protocol; community_id check disabled")
        community = False

    counts = collections.Counter()
    cid_checked = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = [ex.submit(check, args, name, path, community) for name, path in captures]
        for fut in futs:  # in capture order
            verdict, line, n_cid = fut.result()
            counts[verdict] += 1
            cid_checked += n_cid
            print(line, flush=True)

    if community:
        print("community_id matched tshark for all %d auth records of passing captures"
              % cid_checked)
    print("%d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
