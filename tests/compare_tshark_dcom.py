#!/usr/bin/env python3
"""Compare hopscope's DCOM output with what tshark decodes (MS-DCOM: activation, OXID resolution, ORPC).

For each capture (the DCOM/WMI traces of ../shared/captures, or those given), hopscope runs once and tshark
once, with `-d tcp.port==P,dcerpc` for every port a hopscope `dcom` record's string bindings named and
every non-135 port an activation was seen on (tshark finds DCE/RPC on dynamic ports only when told).
Checks, all by frame number:

1. CLSIDs.  Every request frame where tshark decodes InstantiationInfoData's classId
   (isystemactivator.properties.instninfo.clsid) is a hopscope `dcom` record's frames.request with that
   `clsid`, and every hopscope clsid is one tshark decoded there (unless tshark decoded none in that
   frame: counted as "not decoded by tshark").
2. String bindings.  For a dcom record's frames.response, hopscope's `bindings` (protseq:address) are the
   last of tshark's dcom.dualstringarray.network_addr / tower_id in that frame (for RemoteCreateInstance
   the earlier ones are the OBJREF resolver addresses of PropsOutInfo, which hopscope does not report),
   and every tshark address with an endpoint ("host[port]") is among hopscope's.
3. COM version.  A dcom record's com_version is tshark's ORPCTHIS dcom.version_major/minor in the request.
4. HRESULTs.  Every DCOM call hopscope reports with an HRESULT status (auth records' dcerpc.calls, and
   dcom records) has, in its response frame, tshark's last dcom.hresult equal to it.
5. Faults.  A dcom record answered by a fault has tshark's dcerpc.cn_status in that frame.

Output: "PASS name (details)", "FAIL name: what", "SKIP name: why"; last line "N passed, M failed, K
skipped". Exit 1 if any failed. Python 3 standard library only.

Usage: python3 tests/compare_tshark_dcom.py --hopscope build/hopscope [--captures FILE ...]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "captures"))
DEFAULT = [
    "public/otrf/covenant_dcom_registerxll_2020-09-18145959.cap",
    "public/otrf/empire_dcom_shellwindows_WORKSTATION6_2020-09-18130751.cap",
    "public/otrf/covenant_wmi_remote_event_subscription_ActiveScriptEventConsumers_WORKSTATION6_2020-09-01103012.cap",
    "public/otrf/covenant_sharpwmi_create_dcerpc_wmi_2020-08-06035621.cap",
    "public/pcap-attack/LM_WMI_ProcessCallCreate.pcapng",
    "public/markofu-pcaps/evilprogram.pcap",
    "lab/dcom_activation.pcap",
]
FIELDS = [
    "frame.number", "isystemactivator.properties.instninfo.clsid", "dcom.dualstringarray.network_addr",
    "dcom.dualstringarray.tower_id", "dcom.hresult", "dcom.version_major", "dcom.version_minor",
    "dcerpc.cn_status",
]
TOWERS = {0x04: "ncacn_dnet_nsp", 0x07: "ncacn_ip_tcp", 0x08: "ncadg_ip_udp", 0x09: "ncacn_nb_tcp",
          0x0c: "ncacn_spx", 0x0d: "ncacn_nb_ipx", 0x0e: "ncadg_ipx", 0x0f: "ncacn_np", 0x10: "ncalrpc",
          0x12: "ncacn_nb_nb", 0x1f: "ncacn_http"}


def hopscope(binary, path):
    out = subprocess.run([binary, "-r", path], capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def tshark(path, ports):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
           "-E", "separator=\t", "-Y", "dcerpc"]
    for p in sorted(ports):
        cmd += ["-d", "tcp.port==%d,dcerpc" % p]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    frames = {}
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        frames[int(cols[0])] = {f: [v for v in c.split("|") if v] for f, c in zip(FIELDS[1:], cols[1:])}
    return frames


def compare(binary, path):
    recs = hopscope(binary, path)
    dcoms = [r for r in recs if r.get("type") == "dcom"]
    ports = set()
    for d in dcoms:
        if d["server"]["port"] != 135:
            ports.add(d["server"]["port"])
        for b in d.get("bindings", []):
            a = b["address"]
            if b["protseq"] == "ncacn_ip_tcp" and a.endswith("]") and a[a.rfind("[") + 1:-1].isdigit():
                ports.add(int(a[a.rfind("[") + 1:-1]))
    t = tshark(path, ports)
    errors, n = [], {"clsid": 0, "bindings": 0, "version": 0, "hresult": 0, "fault": 0, "undecoded": 0}
    ours_by_req = {d["frames"]["request"]: d for d in dcoms if "request" in d["frames"]}
    # 1. CLSIDs, both ways
    for f, fr in t.items():
        for c in fr["isystemactivator.properties.instninfo.clsid"]:
            d = ours_by_req.get(f)
            if not d or d.get("clsid") != c.lower():
                errors.append("frame %d: tshark clsid %s, hopscope %s" % (f, c, d and d.get("clsid")))
            else:
                n["clsid"] += 1
    for d in dcoms:
        if "clsid" not in d:
            continue
        got = t.get(d["frames"]["request"], {}).get("isystemactivator.properties.instninfo.clsid", [])
        if not got:
            n["undecoded"] += 1
        elif d["clsid"] not in [c.lower() for c in got]:
            errors.append("frame %d: hopscope clsid %s not tshark's %s" % (d["frames"]["request"], d["clsid"], got))
    for d in dcoms:
        fr = t.get(d["frames"].get("response", 0), {})
        # 2. bindings
        addrs = fr.get("dcom.dualstringarray.network_addr", [])
        towers = fr.get("dcom.dualstringarray.tower_id", [])
        theirs = ["%s:%s" % (TOWERS.get(int(tw, 16), tw), a) for tw, a in zip(towers, addrs)]
        ours = ["%s:%s" % (b["protseq"], b["address"]) for b in d.get("bindings", [])]
        if ours or theirs:
            activation = d.get("op") in ("RemoteCreateInstance", "RemoteGetClassObject")
            if not theirs:
                n["undecoded"] += 1
            elif theirs[len(theirs) - len(ours):] != ours or (not activation and theirs != ours):
                errors.append("frame %s: bindings hopscope %s, tshark %s" % (d["frames"].get("response"), ours, theirs))
            elif any(a.endswith("]") and a not in ours for a in theirs):
                errors.append("frame %s: a tshark binding with an endpoint is missing from %s" %
                              (d["frames"].get("response"), ours))
            else:
                n["bindings"] += 1
        # 3. COM version
        if "com_version" in d:
            rq = t.get(d["frames"]["request"], {})
            if rq.get("dcom.version_major"):
                v = "%s.%s" % (rq["dcom.version_major"][0], rq["dcom.version_minor"][0])
                if v != d["com_version"]:
                    errors.append("frame %d: com_version %s, tshark %s" % (d["frames"]["request"], d["com_version"], v))
                else:
                    n["version"] += 1
        # 5. faults
        if d.get("result") == "failure" and d.get("status", {}).get("name", "").startswith("nca_s"):
            st = fr.get("dcerpc.cn_status", [])
            if not st or int(st[0], 16) != int(d["status"]["code"], 16):
                errors.append("frame %s: fault %s, tshark %s" % (d["frames"].get("response"), d["status"], st))
            else:
                n["fault"] += 1
    # 4. HRESULTs of calls
    calls = []
    for r in recs:
        if r.get("type") == "auth" and "dcerpc" in r:
            calls += [(c["frames"][1], c["status"]["code"]) for c in r["dcerpc"].get("calls", [])
                      if c.get("status", {}).get("code", "").startswith("0x") and c.get("result") == "response"
                      and (c.get("interface") or "").startswith(("I", "Wbem"))]
    for d in dcoms:
        if d.get("status") and d.get("interface") != "IObjectExporter" and not d.get("status", {}).get(
                "name", "").startswith("nca_s"):
            calls.append((d["frames"]["response"], d["status"]["code"]))
    for frame, code in calls:
        hr = t.get(frame, {}).get("dcom.hresult", [])
        if not hr:
            n["undecoded"] += 1
        elif int(hr[-1], 16) != int(code, 16):
            errors.append("frame %d: HRESULT %s, tshark %s" % (frame, code, hr))
        else:
            n["hresult"] += 1
    detail = ", ".join("%d %s" % (v, k) for k, v in n.items()) + ", %d dcom records" % len(dcoms)
    return errors, detail


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hopscope", required=True)
    ap.add_argument("--captures", nargs="*")
    a = ap.parse_args()
    paths = a.captures or [os.path.join(SHARED, p) for p in DEFAULT]
    if not shutil.which("tshark"):
        print("SKIP all: tshark not installed\n0 passed, 0 failed, %d skipped" % len(paths))
        return 0
    passed = failed = skipped = 0
    for p in paths:
        name = os.path.relpath(p, SHARED) if p.startswith(SHARED) else p
        if not os.path.exists(p):
            print("SKIP %s: not present" % name)
            skipped += 1
            continue
        errors, detail = compare(a.hopscope, p)
        if errors:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(errors[:5])))
        else:
            passed += 1
            print("PASS %s (%s)" % (name, detail))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
