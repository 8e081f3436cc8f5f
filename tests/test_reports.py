#!/usr/bin/env python3
"""Reports drawn from the hop graph, on the lab traces of ../shared/captures/lab.

  dot   --dot of the double-hop traces is valid DOT (Graphviz `dot -Tsvg` renders it); the SVG holds every host
        of MANIFEST.md's Hosts table the trace talks to (address and name), and the failed second hop web -> dc
        as an edge of class "failed" naming double_hop_failed (the DC by address and name; the web server and
        client by address: the RPC traces' web server calls itself "vm"); the delegated traces draw no failed second hop
        and name the delegation kind.

  html  --html of double_hop_ntlm and double_hop_s4u_denied rendered in headless Chromium (--dump-dom and
        --screenshot): every finding the run reports (its id and title) and every host (each address in the
        records, each name host identity gave) is in the DOM, the graph is an inline SVG, nothing is fetched
        (no src/href to another resource), and opening it at #finding-0 highlights that finding's edges (the
        page's script ran). Skipped, saying so, without Chromium.

  expect  --write-expect of lab traces, then --expect of the same trace passes (exit 0, "all N expectations
        met"); a changed value, a missing finding, an extra finding and a finding's frame each fail with exit 5
        and a diff naming the field, expected and actual value; a malformed file is refused (exit 1, the line);
        comments, blank lines, unlisted fields and frame-less findings are accepted.

  evidence  --evidence DIR of lab traces: a pcap per finding that tshark opens, holding every evidence frame of
        the finding (matched by original timestamp), each packet being the original frame index.txt says
        (same timestamp to the nanosecond), in the original link type. Skipped without tshark.

Prints PASS/FAIL/SKIP per check and a closing "N passed, M failed, K skipped" line; exit 1 on any failure.
Skipped (saying so) when the lab captures or Graphviz's dot are absent.
Usage: test_reports.py --hopscope build/hopscope dot
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

LAB = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "captures",
                                    "lab"))
SVG = "{http://www.w3.org/2000/svg}"

# trace -> (keytabs, web->dc second hop fails?, delegation kind expected on the second hop)
DOUBLE_HOPS = {
    "double_hop_ntlm": ([], True, "none"),
    "double_hop_kerberos_not_delegated": ([], True, "none"),
    "double_hop_s4u_denied": (["web_http", "websvc2", "krbtgt"], True, None),
    "double_hop_rpc_ntlm": ([], True, "none"),
    "double_hop_rpc_ntlm_np": ([], True, "none"),
    "double_hop_kerberos_delegated": (["krbtgt"], False, "forwarded TGT"),
    "double_hop_s4u_allowed": ([], False, "S4U2Proxy"),
    "double_hop_s4u2proxy_modgssapi_allowed": ([], False, "S4U2Proxy"),
}

results = {"passed": 0, "failed": 0, "skipped": 0}


def report(ok, name, why=""):
    key = "passed" if ok else "failed"
    results[key] += 1
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))


def skip(name, why):
    results["skipped"] += 1
    print("SKIP %s: %s" % (name, why))


def manifest_hosts():
    """[(ip, [names])] of MANIFEST.md's Hosts table."""
    hosts, on = [], False
    with open(os.path.join(LAB, "MANIFEST.md")) as f:
        for line in f:
            if line.startswith("## "):
                on = line.strip() == "## Hosts"
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if on and len(cells) >= 3 and re.match(r"\d+\.\d+\.\d+\.\d+$", cells[1]):
                hosts.append((cells[1], re.findall(r"[a-z0-9.-]+\.hoplab\.test", cells[2])[:1]))
    return hosts


def run_hopscope(hopscope, trace, keytabs, extra):
    cmd = [hopscope, "-r", os.path.join(LAB, trace + ".pcap")]
    for k in keytabs:
        cmd += ["-k", os.path.join(LAB, "keytabs", k + ".keytab")]
    p = subprocess.run(cmd + extra, capture_output=True, text=True)
    return p


def svg_parts(svg_text):
    """nodes {id: text}, edges [(id, class, from, to, text)] of a Graphviz SVG."""
    root = ET.fromstring(svg_text)
    nodes, edges = {}, []
    for g in root.iter(SVG + "g"):
        cls = (g.get("class") or "").split()
        text = "\n".join(t.text or "" for t in g.iter(SVG + "text"))
        title = g.find(SVG + "title")
        if "node" in cls:
            nodes[g.get("id")] = text
        elif "edge" in cls and title is not None and "->" in (title.text or ""):
            a, b = title.text.split("->")
            edges.append((g.get("id"), cls, a.strip(), b.strip(), text))
    return nodes, edges


def test_dot(hopscope, tmp):
    if not shutil.which("dot"):
        skip("dot", "Graphviz's dot is not installed (Debian package graphviz)")
        return
    hosts = manifest_hosts()
    if len(hosts) < 3:
        report(False, "dot: MANIFEST hosts", "no Hosts table in MANIFEST.md")
        return
    for trace, (keytabs, fails, deleg) in DOUBLE_HOPS.items():
        if not os.path.exists(os.path.join(LAB, trace + ".pcap")):
            skip("dot " + trace, "capture absent")
            continue
        out = os.path.join(tmp, trace + ".dot")
        p = run_hopscope(hopscope, trace, keytabs, ["--dot", out])
        if p.returncode != 0:
            report(False, "dot " + trace, "hopscope exit %d: %s" % (p.returncode, p.stderr.strip()))
            continue
        r = subprocess.run(["dot", "-Tsvg", out], capture_output=True, text=True)
        if r.returncode != 0 or r.stderr.strip():
            report(False, "dot " + trace, "dot -Tsvg: exit %d %s" % (r.returncode, r.stderr.strip()))
            continue
        nodes, edges = svg_parts(r.stdout)
        alltext = "\n".join(nodes.values())
        missing = [ip for ip, _ in hosts if ip not in alltext]
        # names: the DC's (every trace names it in an SPN or a tree path); the web server calls itself "vm" in
        # the RPC traces' NTLM CHALLENGE, and the client is never named on the wire
        missing += [n for _, names in hosts for n in names if n.startswith("dc") and n not in alltext]
        if missing:
            report(False, "dot %s hosts" % trace, "not in the graph: %s" % ", ".join(missing))
            continue
        web = [i for i, t in nodes.items() if "10.201.1.20" in t]
        dc = [i for i, t in nodes.items() if "10.201.1.10" in t or "dc1.hoplab.test" in t]
        titles = {}
        for g in ET.fromstring(r.stdout).iter(SVG + "g"):
            t = g.find(SVG + "title")
            if t is not None:
                titles[t.text] = g.get("id")
        hop = [e for e in edges if titles.get(e[2]) in web and titles.get(e[3]) in dc and "session" in e[1]
               or titles.get(e[2]) in web and titles.get(e[3]) in dc and "nosession" in e[1]]
        failed = [e for e in hop if "failed" in e[1]]
        if fails:
            ok = [e for e in failed if "double_hop_failed" in e[4]]
            report(bool(ok), "dot %s failed edge web -> dc" % trace,
                   "no failed web -> dc edge naming double_hop_failed among %s" % [(e[0], e[1]) for e in hop])
        else:
            report(not failed and bool(hop), "dot %s no failed second hop" % trace,
                   "failed: %s, second hops: %d" % ([e[0] for e in failed], len(hop)))
        if deleg:
            ok = any(("delegation: " + deleg) in e[4] for e in hop)
            report(ok, "dot %s delegation '%s'" % (trace, deleg),
                   "second-hop labels: %s" % [e[4].replace("\n", " | ") for e in hop])


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def browser(exe, args, url, tmp):
    """Runs headless Chromium on url; (returncode, stdout)."""
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions", "--no-first-run",
           "--user-data-dir=" + os.path.join(tmp, "chromium-profile")] + args + [url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout


def test_html(hopscope, tmp):
    exe = chromium()
    if not exe:
        skip("html", "Chromium is not installed (Debian package chromium): the browser test did not run")
        return
    import json
    from html.parser import HTMLParser
    for trace, keytabs in (("double_hop_ntlm", []), ("double_hop_s4u_denied", ["web_http", "websvc2", "krbtgt"])):
        if not os.path.exists(os.path.join(LAB, trace + ".pcap")):
            skip("html " + trace, "capture absent")
            continue
        out = os.path.join(tmp, trace + ".html")
        p = run_hopscope(hopscope, trace, keytabs, ["--html", out])
        if p.returncode != 0:
            report(False, "html " + trace, "hopscope exit %d: %s" % (p.returncode, p.stderr.strip()))
            continue
        objs = [json.loads(l) for l in p.stdout.splitlines()]
        fnd = [o for o in objs if o.get("type") == "finding"]
        ips = {o[s]["ip"] for o in objs if o.get("type") in ("auth", "kerberos") for s in ("client", "server")}
        names = {f["hosts"][k] for f in fnd for k in ("client_name", "first_hop_name", "second_hop_name")
                 if f["hosts"].get(k)}
        url = "file://" + out
        rc, dom = browser(exe, ["--dump-dom"], url, tmp)
        if rc != 0 or "<body" not in dom:
            report(False, "html %s renders" % trace, "chromium exit %d" % rc)
            continue
        shot = os.path.join(tmp, trace + ".png")
        rc2, _ = browser(exe, ["--screenshot=" + shot, "--window-size=1400,2000"], url, tmp)
        report(rc2 == 0 and os.path.getsize(shot) > 10000 if os.path.exists(shot) else False,
               "html %s screenshot" % trace, "chromium exit %d, no screenshot" % rc2)

        class Collect(HTMLParser):
            def __init__(self):
                super().__init__()
                self.finding_ids, self.text, self.svg, self.fetch = [], [], 0, []

            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if tag == "div" and "finding" in (a.get("class") or "").split():
                    self.finding_ids.append(a.get("data-id"))
                if tag == "svg":
                    self.svg += 1
                for k in ("src", "href", "xlink:href"):
                    v = a.get(k)
                    if v and not v.startswith("#"):
                        self.fetch.append((tag, k, v))

            def handle_data(self, d):
                self.text.append(d)

        c = Collect()
        c.feed(dom)
        text = " ".join(c.text)
        want = sorted(f["id"] for f in fnd)
        report(sorted(c.finding_ids) == want and all(f["title"] in text for f in fnd),
               "html %s findings %s" % (trace, ",".join(want)),
               "in the DOM: %s" % c.finding_ids)
        missing = sorted(h for h in ips | names if h not in text)
        report(not missing, "html %s hosts %s" % (trace, ",".join(sorted(ips | names))),
               "not in the DOM: %s" % missing)
        report(c.svg >= 1, "html %s inline SVG" % trace, "no <svg> in the DOM")
        report(not c.fetch, "html %s self-contained" % trace, "references: %s" % c.fetch[:5])
        rc, dom2 = browser(exe, ["--dump-dom"], url + "#finding-0", tmp)
        hl = re.findall(r'<g [^>]*class="edge[^"]*\bhl\b', dom2) + re.findall(r'<tr [^>]*class="[^"]*\bhl\b', dom2)
        report(bool(fnd) and len(hl) >= 2, "html %s #finding-0 highlights its edges" % trace,
               "%d highlighted elements" % len(hl))


def test_expect(hopscope, tmp):
    import json
    for trace, keytabs in (("double_hop_ntlm", []), ("double_hop_s4u_denied", ["web_http", "websvc2", "krbtgt"]),
                           ("smb1_ntlmssp_lmkey_signed", []), ("dcerpc_tcp_lmkey_signed", [])):
        if not os.path.exists(os.path.join(LAB, trace + ".pcap")):
            skip("expect " + trace, "capture absent")
            continue
        exp = os.path.join(tmp, trace + ".expect.jsonl")
        p = run_hopscope(hopscope, trace, keytabs, ["--write-expect", exp])
        lines = [json.loads(l) for l in open(exp)] if p.returncode == 0 and os.path.exists(exp) else []
        report(p.returncode == 0 and any(o["type"] == "finding" for o in lines),
               "expect %s --write-expect" % trace, "exit %d, %d lines" % (p.returncode, len(lines)))
        if not lines:
            continue
        p = run_hopscope(hopscope, trace, keytabs, ["--expect", exp])
        report(p.returncode == 0 and ("all %d expectations met" % len(lines)) in p.stderr,
               "expect %s unchanged passes" % trace, "exit %d: %s" % (p.returncode, p.stderr.strip()[-300:]))

        def run_with(objs, name, want_rc, *needles, raw=None):
            path = os.path.join(tmp, trace + "." + name + ".jsonl")
            with open(path, "w") as f:
                f.write(raw if raw is not None else "".join(json.dumps(o) + "\n" for o in objs))
            q = run_hopscope(hopscope, trace, keytabs, ["--expect", path])
            missing = [n for n in needles if n not in q.stderr]
            report(q.returncode == want_rc and not missing, "expect %s %s" % (trace, name),
                   "exit %d (wanted %d), not said: %s; stderr: %s" % (q.returncode, want_rc, missing,
                                                                      q.stderr.strip()[-600:]))

        # a changed value of a record
        changed = json.loads(json.dumps(lines))
        rec = next(o for o in changed if o["type"] in ("auth", "kerberos"))
        old = rec["result"]
        rec["result"] = "failure" if old != "failure" else "success"
        run_with(changed, "changed-result", 5, 'result: expected "%s", got "%s"' % (rec["result"], old),
                 "1 difference from the expectations")
        # a finding the capture does not raise
        run_with(lines + [{"type": "finding", "id": "cleartext_basic_auth"}], "missing-finding", 5,
                 "no cleartext_basic_auth finding in the output")
        # a finding the capture raises that nobody expected
        fnd = [o for o in lines if o["type"] == "finding"]
        run_with([o for o in lines if o is not fnd[0]], "extra-finding", 5,
                 "unexpected finding (no expectation names it): finding id=\"%s\"" % fnd[0]["id"])
        # a wrong frame in a finding's evidence
        bad = json.loads(json.dumps(lines))
        bf = next(o for o in bad if o["type"] == "finding")
        bf["evidence"]["frames"] = bf["evidence"]["frames"] + [999999]
        run_with(bad, "wrong-frame", 5, "evidence.frames: expected", "999999")
        # subsets: only type and id of each finding (frames optional), one field of one record; comments and
        # blank lines
        loose = "# findings only, no frames\n\n" + "".join(
            json.dumps({"type": "finding", "id": o["id"]}) + "\n" for o in fnd) + json.dumps(
            {"type": rec["type"], "client": {"ip": rec["client"]["ip"]}}) + "\n"
        run_with(None, "subset", 0, "expectations met", raw=loose)
        run_with(None, "malformed", 1, ":2: ", raw='{"type":"auth"}\n{"type": \n')


def tshark_frames(pcap):
    """{frame number: (epoch time, encapsulation)} as tshark reads pcap, or None when it cannot."""
    p = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch",
                        "-e", "frame.encap_type"], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    out = {}
    for line in p.stdout.splitlines():
        n, t, e = line.split("\t")
        out[int(n)] = (t, e)
    return out


def test_evidence(hopscope, tmp):
    import json
    if not shutil.which("tshark"):
        skip("evidence", "tshark is not installed")
        return
    for trace, keytabs in (("double_hop_ntlm", []), ("double_hop_s4u_denied", ["web_http", "websvc2", "krbtgt"]),
                           ("dcerpc_tcp_lmkey_signed", []), ("spn_missing", [])):
        pcap = os.path.join(LAB, trace + ".pcap")
        if not os.path.exists(pcap):
            skip("evidence " + trace, "capture absent")
            continue
        d = os.path.join(tmp, trace + ".evidence")
        p = run_hopscope(hopscope, trace, keytabs, ["--evidence", d])
        if p.returncode != 0:
            report(False, "evidence " + trace, "exit %d: %s" % (p.returncode, p.stderr.strip()))
            continue
        fnd = [json.loads(l) for l in p.stdout.splitlines() if '"type":"finding"' in l]
        orig = tshark_frames(pcap)
        index = {}
        name = None
        for line in open(os.path.join(d, "index.txt")):
            if line.endswith(".pcapng\n"):
                name = line.strip()
            elif name and line.startswith("  original frames:"):
                index[name] = [int(x) for x in line.split(":", 1)[1].split() if x.isdigit()]
        for i, f in enumerate(fnd):
            fname = "%03d-%s.pcapng" % (i + 1, f["id"])
            ev = tshark_frames(os.path.join(d, fname))
            if ev is None:
                report(False, "evidence %s %s" % (trace, fname), "tshark cannot read it")
                continue
            listed = index.get(fname, [])
            times = {v[0] for v in ev.values()}
            missing = [fr for fr in f["evidence"]["frames"] if orig[fr][0] not in times]
            mapped = len(listed) == len(ev) and all(ev[k + 1] == orig[fr] for k, fr in enumerate(listed))
            # each packet's comment names its original frame, as index.txt does
            cm = subprocess.run(["tshark", "-r", os.path.join(d, fname), "-T", "fields", "-e", "frame.comment"],
                                capture_output=True, text=True).stdout.splitlines()
            comments = [int(m.group(1)) for m in (re.match(r"frame (\d+) of ", x) for x in cm) if m]
            commented = comments == listed[:len(comments)] and len(comments) == len(ev)
            report(not missing and mapped and commented and set(f["evidence"]["frames"]) <= set(listed),
                   "evidence %s %s (%d packets, frames %s)" % (trace, fname, len(ev), f["evidence"]["frames"]),
                   "frames not in it: %s; index maps packets to original frames: %s; comments name them: %s"
                   % (missing, mapped, commented))
        if not fnd:
            report(False, "evidence " + trace, "no findings")
    p = subprocess.run([hopscope, "-r", "-", "--evidence", os.path.join(tmp, "x")], input="", capture_output=True,
                       text=True)
    report(p.returncode == 2 and "--evidence" in p.stderr, "evidence refused on standard input",
           "exit %d: %s" % (p.returncode, p.stderr.strip()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    ap.add_argument("what", nargs="*", default=["dot"])
    a = ap.parse_args()
    if not os.path.isdir(LAB):
        print("SKIP: no lab captures at %s" % LAB)
        print("0 passed, 0 failed, 1 skipped")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        if "dot" in a.what:
            test_dot(a.hopscope, tmp)
        if "html" in a.what:
            test_html(a.hopscope, tmp)
        if "expect" in a.what:
            test_expect(a.hopscope, tmp)
        if "evidence" in a.what:
            test_evidence(a.hopscope, tmp)
    print("%d passed, %d failed, %d skipped" % (results["passed"], results["failed"], results["skipped"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
