#!/usr/bin/env python3
"""Streaming (--stream, the default with -i; docs/RECORDS.md, "Streaming").

1. Same content: for every capture of ../shared/captures (lab: also with the lab's keytab and credentials), the
   `use` records of a --stream run folded into their `auth` records (by `auth` id, in `index` order) give the
   records of the run without streaming, member for member — but for the `*_dropped` counts of uses over the
   per-record cap, which a record handed over at its verdict cannot know — and the same findings, whole.
2. Order: every `use` names an auth record written before it, (auth, index) once; no record id twice; a
   record's uses in index order unless an earlier one was unanswered.
3. Findings as decided: two lab traces 60 s apart in one capture; with --hop-window 5 the first trace's finding
   is written before the second trace's first record (the rules ran on record time), and without --stream
   after every record.
4. Sensors: the lab traces split by server into two --stream sensors give, through --records, the findings of
   the whole trace; and --records on one --stream run gives the findings of the run (id, title, explanation,
   evidence).
5. Flat memory: a double hop repeated 120 times, 300 s apart (10 hours), with --hop-window 60: every repeat's
   finding is written, as without streaming, while the correlation stage keeps only the summaries of the last
   two hop windows (`stats.correlation`). Without --stream, with the rules let run early once 4 KiB of summaries
   are kept (HOPSCOPE_BATCH_BYTES), the output is that of judging everything at the end, byte for byte (the stats
   but for `correlation`), the hop graph too.
6. What streaming must not get wrong, with --hop-window 5 (the rules every 10 s, summaries kept 30 s): a session
   whose calls go on after its summary would have been forgotten gives its findings once; a first hop whose
   verdict comes 100 s after its second hops (its HTTP response held) still makes the double hop; retries of a
   missing SPN give one finding, written while the run goes on; an NTLM fallback 60 s after Kerberos was refused
   is found though the window is 5 s; two fallbacks after one refusal are two findings; a double hop decided
   before its server's name was learned is not made again under the new name. Without --stream and the rules let
   run early from the first summary, each case gives the output of judging everything at the end (for the last
   three, the findings: their host names are what the records of their time say).
7. Text: --stream -F text prints rows as they come (an auth row with its #id, its uses under "#id ..., then:"),
   findings among them, no SESSIONS/FINDINGS headers; --expect (written without streaming) is met by a
   --stream run.

Prints PASS/FAIL per check and a closing "N passed, M failed, K skipped" line; exit 1 on any failure.
Usage: test_stream.py --hopscope build/hopscope
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_sensors import LAB, Tally, lab_traces, split  # noqa: E402

CAPTURES = os.path.dirname(LAB)
KEYS = ["-k", os.path.join(LAB, "keytabs", "all_accounts.keytab"), "--creds", os.path.join(LAB, "credentials.txt")]
USE_KEYS = {"tree_connect": "tree_connects", "request": "requests", "call": "calls"}
SUB = {"smb2": "smb2", "smb1": "smb1", "http": "http", "dcerpc": "dcerpc"}


def run(cmd, env=None):
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=env)


def early(n):
    """The environment of a run without --stream whose rules may run early once the summaries kept take n
    bytes."""
    return dict(os.environ, HOPSCOPE_BATCH_BYTES=str(n))


def objs(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def captures():
    out = []
    for root, _, files in os.walk(CAPTURES):
        if os.sep + "truth" in root:
            continue
        for f in sorted(files):
            if f.endswith((".pcap", ".pcapng", ".cap")):
                out.append(os.path.join(root, f))
    return sorted(out)


def strip_dropped(o):
    if isinstance(o, dict):
        return {k: strip_dropped(v) for k, v in o.items() if not k.endswith("_dropped")}
    if isinstance(o, list):
        return [strip_dropped(v) for v in o]
    return o


def fold(stream):
    """The records of a --stream run with their use records put back into them; findings apart."""
    recs, uses = [], {}
    for o in stream:
        if o["type"] == "use":
            uses.setdefault(o["auth"], []).append(o)
        elif o["type"] not in ("stats", "finding"):
            recs.append(o)
    by_id = {o["id"]: o for o in recs if o["type"] == "auth"}
    for aid, us in uses.items():
        a = by_id.get(aid)
        if a is None:
            continue
        for u in sorted(us, key=lambda u: u["index"]):
            for k, arr in USE_KEYS.items():
                if k in u:
                    a.setdefault(SUB[u["transport"]], {}).setdefault(arr, []).append(u[k])
    return recs


def whole_records(whole):
    """The records of a run (streaming or not), an empty array of uses taken as none."""
    out = []
    for o in whole:
        if o["type"] in ("stats", "finding"):
            continue
        for sub in SUB.values():  # a record without uses carries an empty array; a streamed one none
            for arr in USE_KEYS.values():
                if o.get(sub, {}).get(arr) == []:
                    del o[sub][arr]
        out.append(o)
    return out


def canon(recs):
    return sorted(json.dumps(strip_dropped(o), sort_keys=True) for o in whole_records(recs))


def findings(lst, keys=None):
    fs = [o for o in lst if o["type"] == "finding"]
    if keys:
        fs = [{k: (f.get(k) if k != "evidence" else {x: f["evidence"].get(x) for x in ("records", "frames")})
               for k in keys} for f in fs]
    return sorted(json.dumps(f, sort_keys=True) for f in fs)


def order_problems(stream):
    seen, uses, last_index = set(), set(), {}
    for n, o in enumerate(stream):
        t = o["type"]
        if t in ("auth", "kerberos", "dcom"):
            if (t, o["id"]) in seen:
                return "line %d: %s %d twice" % (n + 1, t, o["id"])
            seen.add((t, o["id"]))
        elif t == "use":
            if ("auth", o["auth"]) not in seen:
                return "line %d: use of auth %d before it" % (n + 1, o["auth"])
            if (o["auth"], o["index"]) in uses:
                return "line %d: use %d/%d twice" % (n + 1, o["auth"], o["index"])
            uses.add((o["auth"], o["index"]))
            last_index[o["auth"]] = o["index"]
    return ""


def same_content(t, hopscope):
    bad, n = [], 0
    lab = {os.path.join(LAB, f) for f in os.listdir(LAB)}
    for cap in captures():
        for extra in ([[]] + ([KEYS] if cap in lab else [])):
            n += 1
            w = run([hopscope, "-q"] + extra + ["-r", cap])
            s = run([hopscope, "-q", "--stream"] + extra + ["-r", cap])
            if w.returncode != s.returncode:
                bad.append("%s: exit %d vs %d" % (cap, w.returncode, s.returncode))
                continue
            wo, so = objs(w.stdout), objs(s.stdout)
            if canon(whole_records(wo)) != canon(fold(so)):
                bad.append("%s%s: records differ" % (os.path.basename(cap), " (keys)" if extra else ""))
            elif findings(wo) != findings(so):
                bad.append("%s%s: findings differ" % (os.path.basename(cap), " (keys)" if extra else ""))
            else:
                why = order_problems(so)
                if why:
                    bad.append("%s: %s" % (os.path.basename(cap), why))
    t.check("--stream folded = whole records and findings, %d runs" % n, not bad and n > 40, "; ".join(bad[:5]))


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    pkts, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkts.append([data[off:off + 16], data[off + 16:off + 16 + incl]])
        off += 16 + incl
    return data[:24], endian, pkts


def decided_during_run(t, hopscope, tmp):
    head, e, a = read_pcap(os.path.join(LAB, "double_hop_ntlm.pcap"))
    _, e2, b = read_pcap(os.path.join(LAB, "smb2_ntlmv2_ok.pcap"))
    if e != e2:
        t.check("merged capture", False, "byte orders differ")
        return
    end = struct.unpack(e + "I", a[-1][0][:4])[0]
    start = struct.unpack(e + "I", b[0][0][:4])[0]
    shift = end + 60 - start
    for p in b:
        p[0] = struct.pack(e + "I", struct.unpack(e + "I", p[0][:4])[0] + shift) + p[0][4:]
    merged = os.path.join(tmp, "two_parts.pcap")
    with open(merged, "wb") as f:
        f.write(head + b"".join(h + d for h, d in a + b))
    first_b = len(a) + 1
    for stream in (True, False):
        r = run([hopscope, "-q", "--hop-window", "5"] + (["--stream"] if stream else []) + ["-r", merged])
        out = objs(r.stdout)
        pos_f = [i for i, o in enumerate(out) if o["type"] == "finding" and o["id"] == "double_hop_failed"]
        pos_b = [i for i, o in enumerate(out) if o["type"] == "auth" and
                 o.get("frames", {}).get("verdict", 0) >= first_b]
        pos_r = [i for i, o in enumerate(out) if o["type"] in ("auth", "kerberos", "use")]
        if stream:
            t.check("--stream: a finding written once decided, before later records",
                    len(pos_f) == 1 and pos_b and pos_f[0] < pos_b[0], "finding at %s, second part at %s" %
                    (pos_f, pos_b[:1]))
        else:
            t.check("without --stream: findings after every record", len(pos_f) == 1 and pos_f[0] > max(pos_r),
                    "finding at %s, last record at %s" % (pos_f, max(pos_r) if pos_r else None))


def flat_memory(t, hopscope, tmp):
    head, e, a = read_pcap(os.path.join(LAB, "double_hop_ntlm.pcap"))
    t0 = struct.unpack(e + "I", a[0][0][:4])[0]
    out = []
    for k in range(120):
        for h, d in a:
            out.append(struct.pack(e + "I", struct.unpack(e + "I", h[:4])[0] - t0 + 1700000000 + 300 * k) + h[4:] + d)
    cap = os.path.join(tmp, "repeated.pcap")
    with open(cap, "wb") as f:
        f.write(head + b"".join(out))
    whole = objs(run([hopscope, "-q", "--hop-window", "60", "-r", cap]).stdout)
    st = objs(run([hopscope, "-q", "--stream", "--hop-window", "60", "-r", cap]).stdout)
    fw, fs = findings(whole, ("id", "title", "evidence")), findings(st, ("id", "title", "evidence"))
    corr = st[-1].get("correlation", {})
    t.check("--stream over 10 hours: the findings of every repeat, summaries of two hop windows kept",
            fw == fs and len(fw) == 120 and corr.get("summaries", 1 << 30) <= 12 and
            corr.get("pruned", 0) >= 340 and corr.get("findings_written") == 120,
            "%d/%d findings, correlation %s" % (len(fs), len(fw), corr))
    # without --stream, the rules run early once 4 KiB of summaries are kept, and the old ones go: the same output,
    # findings in the same order, and the stats say what went
    wl = run([hopscope, "-q", "--hop-window", "60", "-r", cap])
    bl = run([hopscope, "-q", "--hop-window", "60", "-r", cap], early(4096))
    ob = objs(bl.stdout)
    corr = ob[-1].get("correlation", {}) if ob else {}
    strip = [json.dumps(o, sort_keys=True) for o in objs(wl.stdout)[:-1]]
    t.check("without --stream over 10 hours, summaries let go: the output of judging all at the end, byte for byte",
            wl.returncode == bl.returncode == 0 and strip == [json.dumps(o, sort_keys=True) for o in ob[:-1]] and
            "correlation" not in objs(wl.stdout)[-1] and corr.get("summaries", 1 << 30) <= 32 and
            corr.get("pruned", 0) >= 340 and corr.get("findings_written") == 120,
            "correlation %s; %s" % (corr, bl.stderr[-300:]))
    # a report needs every record: what the rules forgot is set aside for it, and the graph is the same
    dw, ds, db = os.path.join(tmp, "w.dot"), os.path.join(tmp, "s.dot"), os.path.join(tmp, "b.dot")
    rw = run([hopscope, "-q", "--hop-window", "60", "--dot", dw, "-r", cap])
    rs = run([hopscope, "-q", "--stream", "--hop-window", "60", "--dot", ds, "-r", cap])
    rb = run([hopscope, "-q", "--hop-window", "60", "--dot", db, "-r", cap], early(4096))
    same = rw.returncode == rs.returncode == 0 and open(dw).read() == open(ds).read()
    t.check("--stream --dot over 10 hours: the hop graph of every record, as without streaming",
            same and findings(objs(rs.stdout), ("id", "title", "evidence")) == fw, rs.stderr[-300:])
    t.check("--dot over 10 hours, summaries let go: the hop graph and findings of judging all at the end",
            rb.returncode == 0 and open(dw).read() == open(db).read() and
            [o for o in objs(rb.stdout) if o["type"] == "finding"] ==
            [o for o in objs(rw.stdout) if o["type"] == "finding"], rb.stderr[-300:])


def open_for_hours(t, hopscope, tmp):
    """Without --stream, a session open for the whole capture (its verdict at the start, its last calls and its end
    ten hours later) does not hold the early runs back: the rules see it from its verdict on, as streaming does,
    and the output is still that of judging all at the end, one thread or two."""
    T = 1700000000
    head, f1 = lab_pkts("smb2_ntlmv2_ok")  # its verdict at frame 11, its tree connects at 12-19
    _, dh = lab_pkts("double_hop_ntlm")
    parts = [(f1[:13], T - 10)] + [(dh, T + 300 * k) for k in range(120)] + [(f1[13:], T + 300 * 120 + 10)]
    cap = os.path.join(tmp, "open_for_hours.pcap")
    with open(cap, "wb") as f:
        f.write(head + b"".join(timed(parts)))
    opt = ["-q", "--hop-window", "60", "--idle-timeout", "86400"]  # the session stays open, quiet, for 10 hours
    whole = run([hopscope] + opt + ["-r", cap])
    want = [json.dumps(o, sort_keys=True) for o in objs(whole.stdout)[:-1]]
    for threads in ([], ["--threads", "2"]):
        b = run([hopscope] + opt + threads + ["-r", cap], early(4096))
        ob = objs(b.stdout)
        corr = ob[-1].get("correlation", {}) if ob else {}
        t.check("without --stream%s, a session open for 10 hours: old summaries let go all the same, the output of "
                "judging all at the end" % (" --threads 2" if threads else ""),
                whole.returncode == b.returncode == 0 and [json.dumps(o, sort_keys=True) for o in ob[:-1]] == want and
                sum(1 for o in ob if o["type"] == "finding" and o["id"] == "double_hop_failed") == 120 and
                corr.get("pruned", 0) >= 300 and corr.get("summaries", 1 << 30) <= 40,
                "correlation %s; %s" % (corr, b.stderr[-300:]))


def hop_pieces():
    """double_hop_ntlm cut up: its WinRM first hop vm -> web (alice) whole (x), up to its verdict at frame 41 (x1)
    and after (x2), and its refused onward SMB web -> dc1 (yf); with the pcap header, smb2_ntlmv2_ok (filler) and
    double_hop_kerberos_delegated (a hop that worked)."""
    head, dh = lab_pkts("double_hop_ntlm")
    _, dl = lab_pkts("double_hop_kerberos_delegated")
    _, f1 = lab_pkts("smb2_ntlmv2_ok")

    def winrm(d):
        return 5985 in (int.from_bytes(d[34:36], "big"), int.from_bytes(d[36:38], "big"))

    x = [p for p in dh if winrm(p[1])]
    x1 = [p for i, p in enumerate(dh) if winrm(p[1]) and i < 41]
    x2 = [p for i, p in enumerate(dh) if winrm(p[1]) and i >= 41]
    yf = [p for p in dh if not winrm(p[1])]
    return head, f1, dl, x, x1, x2, yf


def changed_after_forgotten(t, hopscope, tmp):
    """A first hop whose session ends long after it was judged is not judged again once what it rested on may have
    been forgotten. vm -> web (alice, WinRM) has its verdict at T and its end at T + X; web -> dc1 as alice worked
    at T + 10 (a whole delegated Kerberos hop), web -> dc1 was refused at T + 590. Judged with both, delegation
    worked: no finding. When the session ended (its summary changed), the hop that worked had been forgotten and
    the refused one not yet: judging it again made a double_hop_failed that is not so. Early, --threads 2 and
    --stream must all say what judging at the end says."""
    T = 1700000000
    head, f1, dl, x, x1, x2, yf = hop_pieces()
    opt = ["-q", "--idle-timeout", "86400"]
    for x in (1900, 2500):
        parts = [(f1, T - 600 + 2 * j) for j in range(300)] + [(f1, T + 1 + 10 * j) for j in range(600)]
        parts += [(x1, T), (dl, T + 10), (yf, T + 590), (x2, T + x)]
        parts.sort(key=lambda p: p[1])
        cap = os.path.join(tmp, "changed_after_%d.pcap" % x)
        with open(cap, "wb") as f:
            f.write(head + b"".join(timed(parts)))
        whole = run([hopscope] + opt + ["-r", cap])
        want = counts(objs(whole.stdout))
        for label, cmd, env in (("judged early", [hopscope] + opt + ["-r", cap], early(4096)),
                                ("judged early --threads 2", [hopscope, "--threads", "2"] + opt + ["-r", cap],
                                 early(4096)),
                                ("--stream", [hopscope, "--stream"] + opt + ["-r", cap], None)):
            b = run(cmd, env)
            ob = objs(b.stdout)
            pruned = ob[-1].get("correlation", {}).get("pruned", 0) if ob else 0
            t.check("a first hop's session ending %d s after it, %s: no double hop judged again without the hop "
                    "that worked (%s)" % (x, label, want),
                    whole.returncode == b.returncode == 0 and want == {} and counts(ob) == want and
                    (pruned > 0 or label == "--stream"),
                    "findings %s, pruned %s; %s" % (counts(ob), pruned, b.stderr[-300:]))


def forgotten_edges(t, hopscope, tmp):
    """The edges of not judging again what may have been forgotten. A short hop window (60 s, where what is kept
    reaches back less than two hop windows): a first hop whose refused onward connection comes 45 s after it is
    decided before it is spared. A clock reset (another day's capture appended, record time stepping back) while a
    first hop of the old time is open: when it ends, it is still not judged again without the hop that worked."""
    T = 1700000000
    head, f1, dl, x, x1, x2, yf = hop_pieces()
    cases = []
    for off in (30, 45):
        parts = [(f1, T - 600 + 2 * j) for j in range(600)] + [(x, T), (yf, T + off)]
        parts.sort(key=lambda p: p[1])
        cases.append(("--hop-window 60, the onward connection refused %d s after the first hop" % off, parts,
                      ["--hop-window", "60"], {"double_hop_failed": 1}))
    parts = [(f1, T - 600 + 2 * j) for j in range(300)] + [(f1, T + 1 + 10 * j) for j in range(600)]
    parts += [(x1, T), (dl, T + 10), (yf, T + 590)]
    parts.sort(key=lambda p: p[1])
    before = [p for p in parts if p[1] < T + 1850]
    after = sorted([p for p in parts if p[1] >= T + 1850] + [(x2, T + 1900)], key=lambda p: p[1])
    back = [(f1, T - 20000 + 2 * j) for j in range(5)]
    cases.append(("a clock reset before an old first hop ends", before + back + after, [], {}))
    for i, (what, seq, more, want) in enumerate(cases):
        cap = os.path.join(tmp, "forgotten_%d.pcap" % i)
        with open(cap, "wb") as f:
            f.write(head + b"".join(timed(seq)))
        opt = ["-q", "--idle-timeout", "86400"] + more
        whole = run([hopscope] + opt + ["-r", cap])
        for label, cmd, env in (("judged early", [hopscope] + opt + ["-r", cap], early(4096)),
                                ("--stream", [hopscope, "--stream"] + opt + ["-r", cap], None)):
            b = run(cmd, env)
            got = counts(objs(b.stdout))
            t.check("%s, %s: what judging at the end says (%s)" % (what, label, want),
                    whole.returncode == b.returncode == 0 and counts(objs(whole.stdout)) == want and got == want,
                    "got %s; %s" % (got, b.stderr[-300:]))


def timed(parts):
    """[(packets, start second)] -> one capture's packets, each part retimed to start there, gaps kept."""
    out = []
    for pkts, at in parts:
        t0 = pkts[0][2]
        for h, d, ts in pkts:
            sec = ts - t0 + at
            s_, us = int(sec), int(round((sec - int(sec)) * 1e6))
            out.append(struct.pack("<II", s_ + us // 1000000, us % 1000000) + h[8:] + d)
    return out


def lab_pkts(name):
    head, e, pk = read_pcap(os.path.join(LAB, name + ".pcap"))
    assert e == "<"
    return head, [(h, d, struct.unpack("<I", h[:4])[0] + struct.unpack("<I", h[4:8])[0] / 1e6) for h, d in pk]


def counts(objs_, kind=None):
    c = {}
    for o in objs_:
        if o["type"] == "finding":
            c[o["id"]] = c.get(o["id"], 0) + 1
    return c


def pitfalls(t, hopscope, tmp):
    T = 1700000000
    head, v1 = lab_pkts("dcerpc_tcp_v1_signed_nolmkey")
    _, f1 = lab_pkts("smb2_ntlmv2_ok")
    _, f2 = lab_pkts("winrm_http_ntlm")
    _, dh = lab_pkts("double_hop_ntlm")
    _, spn = lab_pkts("spn_missing")
    _, wa = lab_pkts("spn_wrong_account")
    _, rpc = lab_pkts("double_hop_rpc_ntlm")
    web2 = [(h, d.replace(b"web3", b"web2"), ts_) for h, d, ts_ in spn]  # the missing SPN on the wrong host's name
    cases = {
        # the second connection's verdict at its 12th packet, the rest of its calls 100 s later
        "long session": [(v1[12:24], T), (f1, T + 40), (f2, T + 80), (v1[24:], T + 100)],
        # the first hop's HTTP response (after packet 39) 100 s after the second hops
        "late first hop": [(dh[:39], T), (f1, T + 40), (f2, T + 80), (dh[39:], T + 100)],
        # the same missing SPN asked for three times, 4 s apart, then other traffic
        "spn retries": [(spn, T), (spn, T + 4), (spn, T + 8), (f1, T + 12), (f2, T + 30)],
        # Kerberos refused for HTTP/web2, then NTLM to web2 60 s later: the refusal must be kept that long, though
        # the hop window is 5 s (kerberos_fell_back_to_ntlm looks 120 s back)
        "fallback": [(web2, T), (wa, T + 50), (f2, T + 60)],
        # two NTLM fallbacks after one refusal: two findings that share their earliest record
        "two fallbacks": [(web2, T), (wa, T + 5), (f2, T + 10), (f2, T + 40)],
        # a double hop judged early while its first hop's server is named "vm", and a later one once it is named
        # web: two findings, not a third for the first under its new name
        "name learned later": [(f1, T), (f1, T + 1), (f1, T + 2), (rpc, T + 200), (f1, T + 400), (dh, T + 402)],
    }
    # the cases whose records name hosts differently over time: the same findings (by what makes a finding the
    # same one: kind, user, addresses, evidence), their titles and host names as the records of their time say
    by_names = ("fallback", "two fallbacks", "name learned later")

    def same_findings(a, b):
        def key(o):
            h = o.get("hosts", {})
            return (o["id"], o.get("user"), h.get("client"), h.get("first_hop"), h.get("second_hop"),
                    o["evidence"]["records"], o["evidence"]["frames"])
        return [key(o) for o in a if o["type"] == "finding"] == [key(o) for o in b if o["type"] == "finding"]
    for name, parts in cases.items():
        cap = os.path.join(tmp, name.replace(" ", "_") + ".pcap")
        with open(cap, "wb") as f:
            f.write(head + b"".join(timed(parts)))
        w = objs(run([hopscope, "-q", "--hop-window", "5", "-r", cap]).stdout)
        s = objs(run([hopscope, "-q", "--hop-window", "5", "--stream", "-r", cap]).stdout)
        ok = counts(w) == counts(s) and counts(w)
        # without --stream, with more traffic later so that the rules run early and summaries go
        tail = os.path.join(tmp, name.replace(" ", "_") + "_tail.pcap")
        end = max(at for _, at in parts)
        with open(tail, "wb") as f:
            f.write(head + b"".join(timed(parts + [(f1, end + 300), (f2, end + 400), (f1, end + 500)])))
        w2 = objs(run([hopscope, "-q", "--hop-window", "5", "-r", tail]).stdout)
        b = objs(run([hopscope, "-q", "--hop-window", "5", "-r", tail], early(1)).stdout)
        corr = b[-1].get("correlation", {}) if b else {}
        same = (same_findings(b, w2) if name in by_names else
                [o for o in b if o["type"] != "stats"] == [o for o in w2 if o["type"] != "stats"])
        t.check("without --stream, summaries let go, %s: the %s of judging all at the end" %
                (name, "findings" if name in by_names else "output"),
                counts(w2) == counts(w) and corr.get("pruned", 0) > 0 and same,
                "whole %s, let go %s, correlation %s" % (counts(w2), counts(b), corr))
        if name == "spn retries":  # written before the last record, not at the end
            pos = [i for i, o in enumerate(s) if o["type"] == "finding"]
            last = max(i for i, o in enumerate(s) if o["type"] in ("auth", "kerberos", "use"))
            ok = ok and pos and pos[0] < last
        t.check("--stream, %s: the findings without streaming, once each" % name, ok,
                "whole %s, stream %s" % (counts(w), counts(s)))


def port(pkts, old, new):
    """The packets with TCP port old (either side) made new (IPv4 over Ethernet)."""
    out = []
    for h, d, ts_ in pkts:
        d = bytearray(d)
        o = 14 + (d[14] & 15) * 4
        sp, dp = struct.unpack(">HH", d[o:o + 4])
        if sp == old:
            d[o:o + 2] = struct.pack(">H", new)
        if dp == old:
            d[o + 2:o + 4] = struct.pack(">H", new)
        out.append((h, bytes(d), ts_))
    return out


def judged_early_edges(t, hopscope, tmp):
    """Findings at the edges of what early runs keep: judged early (without --stream, rules run whenever they can) and
    streaming, the findings of judging everything at the end, once each."""
    T = 1700000000
    head, dh = lab_pkts("double_hop_ntlm")
    _, f1 = lab_pkts("smb2_ntlmv2_ok")
    _, sd = lab_pkts("double_hop_s4u_denied")
    _, kn = lab_pkts("double_hop_kerberos_not_delegated")
    conn = struct.unpack(">H", dh[11][1][34:36])[0]  # the onward SMB connection's client port (packets 11-38)
    cases = {
        # a first hop with 18 failed onward connections (nine copies of its onward SMB session): more than the
        # evidence holds, so the first hop itself must not be what is left out (nor the finding written twice)
        "many onward failures": ("60", [(f1, T - 250 + 4 * k) for k in range(30)] + [(dh[:11], T)] +
                                 [(port(dh[11:39], conn, 40000 + k), T + 1 + k) for k in range(9)] +
                                 [(dh[39:], T + 12)] + [(f1, T + 75 + 0.2 * k) for k in range(25)] +
                                 [(f1, T + 90)]),
        # a refused S4U2Proxy 550 s before another first hop of the same user to the same host, whose onward
        # connection comes 500 s later: judged ~1,100 s after the refusal, which must then be kept or not count
        "refusal long before": (None, sorted([(f1, T - 3000 + 5 * k) for k in range(40)] +
                                             [(f1, T - 500 + k) for k in range(40)] + [(sd, T - 550)],
                                             key=lambda p: p[1]) +
                                [(kn[:40], T), (kn[40:59], T + 500), (kn[59:], T + 501)] +
                                [(f1, T + 900 + 0.5 * k) for k in range(30)] + [(f1, T + 1200)]),
    }
    for name, (hw, parts) in cases.items():
        cap = os.path.join(tmp, name.replace(" ", "_") + ".pcap")
        with open(cap, "wb") as f:
            f.write(head + b"".join(timed(parts)))
        opt = ["--hop-window", hw] if hw else ["--idle-timeout", "30"]
        w = objs(run([hopscope, "-q"] + opt + ["-r", cap]).stdout)
        b = objs(run([hopscope, "-q"] + opt + ["-r", cap], early(1)).stdout)
        s = objs(run([hopscope, "-q", "--stream"] + opt + ["-r", cap]).stdout)

        def fs(o):
            return sorted((x["id"], x["confidence"], x["evidence"]["records"]) for x in o if x["type"] == "finding")
        corr = b[-1].get("correlation", {}) if b else {}
        hops = [x for x in w if x["type"] == "finding" and x["id"] == "double_hop_failed"]
        t.check("judged early, %s: the findings of judging all at the end, once each" % name,
                fs(b) == fs(w) and fs(s) == fs(w) and corr.get("pruned", 0) > 0 and hops,
                "whole %s\nearly %s\nstream %s\ncorrelation %s" % (fs(w), fs(b), fs(s), corr))
        if name == "many onward failures":
            firsts = [x for x in w if x["type"] == "auth" and x["server"]["port"] == 5985]  # the WinRM first hop
            t.check("many onward failures: the first hop is among the evidence records kept",
                    len(hops) == 1 and any(a["id"] in hops[0]["evidence"]["records"] for a in firsts),
                    "%s" % [h["evidence"]["records"] for h in hops])


def sensors(t, hopscope, tmp):
    bad, n = [], 0
    for name, _ in lab_traces():
        cap = os.path.join(LAB, name + ".pcap")
        if not os.path.exists(cap):
            continue
        n += 1
        want = findings(objs(run([hopscope, "-q", "-r", cap]).stdout), ("id", "title", "explanation", "evidence"))
        one = os.path.join(tmp, "one.jsonl")
        with open(one, "w") as f:
            f.write(run([hopscope, "-q", "--stream", "-r", cap]).stdout)
        got = findings(objs(run([hopscope, "-q", "--records", one]).stdout), ("id", "title", "explanation",
                                                                               "evidence"))
        if got != want:
            bad.append("%s: round trip" % name)
        pa, pb = os.path.join(tmp, "a.pcap"), os.path.join(tmp, "b.pcap")
        split(cap, pa, pb, "server")
        outs = []
        for s, p in (("a", pa), ("b", pb)):
            o = os.path.join(tmp, s + ".jsonl")
            with open(o, "w") as f:
                f.write(run([hopscope, "-q", "--stream", "--sensor", s, "-r", p]).stdout)
            outs.append(o)
        got = findings(objs(run([hopscope, "-q", "--records"] + outs).stdout), ("id", "title"))
        if got != findings(objs(run([hopscope, "-q", "-r", cap]).stdout), ("id", "title")):
            bad.append("%s: two streaming sensors" % name)
    t.check("--records on --stream sensors: the findings of the whole trace, %d traces" % n, not bad and n > 20,
            "; ".join(bad[:5]))
    # a rotation between a session's auth record and its uses, the files given newest first
    cap = os.path.join(LAB, "double_hop_ntlm.pcap")
    lines = run([hopscope, "-q", "--stream", "--sensor", "s1", "-r", cap]).stdout.splitlines(True)
    cut = next(i for i, l in enumerate(lines) if '"type":"auth","id":3' in l) + 1
    old, new = os.path.join(tmp, "rot.jsonl-1"), os.path.join(tmp, "rot.jsonl")
    with open(old, "w") as f:
        f.write("".join(lines[:cut]))
    with open(new, "w") as f:
        f.write("".join(lines[cut:]))
    out = objs(run([hopscope, "-q", "--records", new, old]).stdout)
    ri = out[-1].get("records_input", {})
    t.check("--records: uses read before their auth record (rotated files, newest first) still count",
            counts(out) == {"double_hop_failed": 1} and ri.get("uses") == 3 and ri.get("uses_unmatched") == 0,
            "%s %s" % (counts(out), ri))


def text_and_expect(t, hopscope, tmp):
    cap = os.path.join(LAB, "double_hop_ntlm.pcap")
    r = run([hopscope, "-q", "--stream", "-F", "text", "-r", cap])
    lines = r.stdout.splitlines()
    head = [l for l in lines if " #" in l and "->" in l]
    uses = [l for l in lines if ", then:" in l]
    t.check("--stream -F text: rows with ids, uses under them, no section headers",
            r.returncode == 0 and len(head) == 3 and len(uses) >= 1 and "SESSIONS" not in r.stdout and
            "FINDINGS" not in r.stdout and "[high]" in r.stdout and r.stdout.index("[high]") > r.stdout.index(
                uses[0]), r.stdout[-600:])
    x = os.path.join(tmp, "x.jsonl")
    w = run([hopscope, "-q", "--write-expect", x, "-r", cap])
    e = run([hopscope, "-q", "--stream", "--expect", x, "-r", cap])
    t.check("--expect written whole, met by --stream", w.returncode == 0 and e.returncode == 0, e.stderr[-400:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    args = ap.parse_args()
    t = Tally()
    if not os.path.exists(os.path.join(LAB, "FINDINGS.md")):
        print("SKIP: %s not found" % LAB)
        print("0 passed, 0 failed, 1 skipped")
        return 0
    tmp = tempfile.mkdtemp(prefix="hopscope-stream-")
    try:
        same_content(t, args.hopscope)
        decided_during_run(t, args.hopscope, tmp)
        flat_memory(t, args.hopscope, tmp)
        open_for_hours(t, args.hopscope, tmp)
        pitfalls(t, args.hopscope, tmp)
        judged_early_edges(t, args.hopscope, tmp)
        changed_after_forgotten(t, args.hopscope, tmp)
        forgotten_edges(t, args.hopscope, tmp)
        sensors(t, args.hopscope, tmp)
        text_and_expect(t, args.hopscope, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed, %d skipped" % (t.passed, t.failed, t.skipped))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
