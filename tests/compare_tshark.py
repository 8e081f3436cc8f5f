#!/usr/bin/env python3
"""Compare hopscope's NTLM AUTHENTICATE records and LDAP binds with what tshark decodes.

Requirement: every NTLMSSP AUTHENTICATE that tshark decodes on the transports
hopscope covers appears in hopscope's output with the same user, domain and
workstation, and hopscope reports none that tshark does not see.

SMB1 is held to more: every SESSION_SETUP_ANDX request that authenticates -
NTLMSSP in its security blob, or the LM/NT responses of the form without
extended security (MS-CIFS 2.2.4.53.1), whose names tshark shows as
smb.account / smb.primary_domain - is a record with the same frame, user,
domain, workstation (none for the raw form) and the status of the response
tshark pairs with the request (smb.response_to of the response: smb.nt_status, or the DOS
smb.error_class/smb.error_code as class << 16 | code), and no other.

LDAP binds: every BindRequest and BindResponse tshark decodes (RFC 4511 4.2,
outside a SASL security layer) is one of the `ldap.binds` of hopscope's
transport-"ldap" auth records, at the same frame with the same messageID, and
hopscope has no other.  A request must have the same authentication choice
(simple, sasl, sicily), for a simple bind the same name (ldap.bind_dn), for a
SASL bind the same mechanism; a response the same resultCode.  A record's
verdict (status.code) is the resultCode of its last answered bind.  LDAP
tshark does not find on its own ports (hopscope finds it by content) is
decoded with `-d tcp.port==PORT,ldap` for the server ports hopscope names.

For every capture (*.pcap, *.pcapng, *.cap, searched recursively) the script
runs tshark once with a display filter that selects AUTHENTICATE messages
carried by a covered transport (see TRANSPORT_FILTERS: SMB2, HTTP, and DCE/RPC
auth verifiers over TCP or SMB2 named pipes), runs `hopscope -r FILE`, and
compares the two as multisets of (frame, user, domain, workstation),
hopscope's frame being frames.authenticate.

Every DCE/RPC record is also held to tshark's DCE/RPC fields: in the frame of
its first token, auth_type, auth_level, auth_context_id and the bound
interface's UUID; in the frame of its verdict, when that is a fault, the fault
status.

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
import base64
import collections
import concurrent.futures
import json
import os
import shutil
import struct
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
    ("http", "http && !dcerpc"),
    # SMB1 SESSION_SETUP_ANDX (0x73) with extended security (MS-SMB 2.2.4.6). Over TCP only: hopscope does
    # not decode NetBIOS over LLC ("NetBEUI", ndpi/dos_win98_smb_netbeui.pcap).
    ("smb1", "tcp && smb.cmd == 0x73"),
    # DCE/RPC auth verifiers (bind / alter_context / auth3), over TCP or an SMB named pipe (SMB2 WRITE /
    # IOCTL FSCTL_PIPE_TRANSCEIVE, SMB1 TransactNmPipe / WRITE_ANDX); not RPC over HTTP.
    ("dcerpc", "dcerpc && !http"),
    # LDAP BindRequest credentials: SASL GSS-SPNEGO / NTLM, sicilyResponse.
    ("ldap", "ldap"),
    # Protocols hopscope does not dissect but searches for NTLMSSP (transport "other"): of them tshark
    # decodes NTLMSSP in TDS (MS SQL); base64 AUTH NTLM in IMAP/POP3/SMTP it leaves undecoded, and those
    # are checked against the frame's own bytes (other_b64_auths).
    ("other", "tds"),
])

AUTH_FILTER = "ntlmssp.messagetype == 0x00000003 && (%s)" % " || ".join(
    "(%s)" % f for f in TRANSPORT_FILTERS.values())

# DCE/RPC fields compared per record: (hopscope dcerpc key, tshark field).
DCERPC_NAMES = {"auth_type": {"none": 0, "kerberos5": 1, "spnego": 9, "ntlmssp": 10, "schannel": 14,
                              "kerberos": 16, "netlogon": 68},
                "auth_level": {"none": 1, "connect": 2, "call": 3, "pkt": 4, "integrity": 5, "privacy": 6}}

NTLM_FIELDS = ["frame.number", "ntlmssp.auth.username", "ntlmssp.auth.domain",
               "ntlmssp.auth.hostname"]

# SMB1 SESSION_SETUP_ANDX requests without extended security (OEMPassword/UnicodePassword, or a LANMAN
# dialect's one Password): the raw LM/NT responses. Asked for in the same tshark run as AUTH_FILTER.
SMB1_RAW_FILTER = ("tcp && smb.cmd == 0x73 && smb.flags.response == 0 && !smb.security_blob_len && "
                   "(smb.ansi_pwlen || smb.pwlen)")
SMB1_FIELDS = ["smb.cmd", "smb.flags.response", "smb.account", "smb.primary_domain"]

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


def first(col):
    return col.split(AGGREGATOR)[0] if col else ""


def tshark_auths(tshark, path, community):
    """Return (list of (frame, user, domain, workstation), list of SMB1 session setup requests as
    (frame, user, domain, workstation), {frame: community id}, error or None)."""
    fields = NTLM_FIELDS + SMB1_FIELDS + (["communityid"] if community else [])
    cmd = [tshark, "-n", "-r", path, "-Y", "(%s) || (%s)" % (AUTH_FILTER, SMB1_RAW_FILTER), "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=" + AGGREGATOR]
    if community:
        cmd[1:1] = ["--enable-protocol", "communityid"]
    for f in fields:
        cmd += ["-e", f]
    rc, out, err = run(cmd)
    if rc is None:
        return None, None, None, "tshark " + err
    if rc != 0 and not any(m in err for m in TSHARK_PARTIAL_MARKERS):
        return None, None, None, "tshark exit %d: %s" % (rc, first_error_line(err))
    auths, smb1, ids = [], [], {}
    # Not splitlines(): it also splits at AGGREGATOR (\x1e is a line boundary to Python).
    for line in out.split("\n"):
        if not line.strip():
            continue
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        frame = int(cols[0])
        if community:
            ids[frame] = cols[len(NTLM_FIELDS) + len(SMB1_FIELDS)].strip()
        users, domains, hosts = (c.split(AGGREGATOR) if c else [] for c in cols[1:4])
        cmds, resps, account, pdom = cols[4:8]
        is_smb1_req = "0x73" in cmds.split(AGGREGATOR) and first(resps) in ("0", "False")
        n = max(len(users), len(domains), len(hosts))
        for i in range(n):
            # A field tshark could not decode (truncated message) is absent;
            # None never equals a hopscope string, so it shows as a mismatch.
            pick = lambda l: norm(l[i]) if i < len(l) else None
            auths.append((frame, pick(users), pick(domains), pick(hosts)))
            if is_smb1_req:
                smb1.append((frame, pick(users), pick(domains), pick(hosts)))
        if n == 0 and is_smb1_req:
            smb1.append((frame, norm(first(account)), norm(first(pdom)), ""))
    return auths, smb1, ids, None


def tshark_smb1_statuses(tshark, path):
    """Return ({request frame: status of its SESSION_SETUP_ANDX response as an int}, error or None): the NT
    status, or DOS class << 16 | code. tshark pairs a response with its request (smb.response_to) in one pass;
    smb.response_in would need two."""
    cmd = [tshark, "-n", "-r", path, "-Y", "tcp && smb.cmd == 0x73 && smb.flags.response == 1", "-T", "fields",
           "-E", "occurrence=f", "-e", "smb.response_to", "-e", "smb.nt_status", "-e", "smb.error_class",
           "-e", "smb.error_code"]
    rc, out, err = run(cmd)
    if rc is None:
        return None, "tshark " + err
    if rc != 0 and not any(m in err for m in TSHARK_PARTIAL_MARKERS):
        return None, "tshark exit %d: %s" % (rc, first_error_line(err))
    st = {}
    for line in out.split("\n"):
        cols = (line.split("\t") + ["", "", "", ""])[:4]
        if not cols[0].strip():
            continue
        if cols[1]:
            st[int(cols[0])] = int(cols[1], 16)
        elif cols[2]:
            cls = int(cols[2], 16)
            st[int(cols[0])] = (cls << 16 | int(cols[3] or "0", 16)) if cls else 0
    return st, None


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


def smb1_raw(r):
    return r.get("transport") == "smb1" and not (r.get("smb1") or {}).get("extended_security")


def hopscope_auths(recs):
    """NTLMSSP AUTHENTICATEs: every record with one, but SMB1 logons without NTLMSSP (compared apart)."""
    out = []
    for r in recs:
        frame = (r.get("frames") or {}).get("authenticate")
        ntlm = r.get("ntlm")
        if frame is None or ntlm is None or smb1_raw(r):
            continue
        out.append((frame, ntlm.get("user"), ntlm.get("domain"), ntlm.get("workstation")))
    return out


def hopscope_smb1(recs):
    """SMB1 logons: (frame, user, domain, workstation, status code or None)."""
    out = []
    for r in recs:
        frame = (r.get("frames") or {}).get("authenticate")
        ntlm = r.get("ntlm")
        if r.get("transport") != "smb1" or frame is None or ntlm is None:
            continue
        st = r.get("status")
        out.append((frame, ntlm.get("user"), ntlm.get("domain"), ntlm.get("workstation"),
                    int(st["code"], 16) if st else None))
    return out


def fmt_smb1(keys):
    return "[" + ", ".join("%d %s\\%s@%s status %s" % (k[0], k[2], k[1], k[3],
                                                       "none" if k[4] is None else "0x%08x" % k[4])
                           for k in sorted(keys, key=lambda k: (k[0], [str(x) for x in k[1:]]))) + "]"


# LDAP binds (RFC 4511 4.2) ------------------------------------------------------------------------

LDAP_BIND_FILTER = "ldap.protocolOp == 0 || ldap.protocolOp == 1"
LDAP_PORTS = (389, 3268)
# tshark's ldap.authentication values (RFC 4511 4.2, MS-ADTS 5.1.1.1) as hopscope's ldap.auth names them.
LDAP_AUTH = {"0": "simple", "3": "sasl", "9": "sicily", "10": "sicily", "11": "sicily"}


def _merge_pairs(pairs):
    """json object_pairs_hook: a key tshark repeats (several LDAPMessages in a frame) becomes a list."""
    d = {}
    for k, v in pairs:
        if k in d:
            if not isinstance(d[k], list) or not getattr(d[k], "merged", False):
                d[k] = _Merged([d[k]])
            d[k].append(v)
        else:
            d[k] = v
    return d


class _Merged(list):
    merged = True


def _as_list(v):
    return list(v) if isinstance(v, list) else [v]


def _first(v):
    return _as_list(v)[0] if v is not None else None


def _find(o, key):
    """The first value of key anywhere below o (dicts and lists), or None."""
    if isinstance(o, dict):
        if key in o:
            return _first(o[key])
        for v in o.values():
            r = _find(v, key)
            if r is not None:
                return r
    elif isinstance(o, list):
        for v in o:
            r = _find(v, key)
            if r is not None:
                return r
    return None


def _ldap_messages(o, in_sasl=False):
    """(LDAPMessage element, carried in a SASL buffer) for every LDAPMessage below o."""
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "ldap.LDAPMessage_element":
                for m in _as_list(v):
                    yield m, in_sasl
            else:
                for x in _ldap_messages(v, in_sasl or k.startswith("SASL Buffer")):
                    yield x
    elif isinstance(o, list):
        for v in o:
            for x in _ldap_messages(v, in_sasl):
                yield x


def tshark_ldap_binds(tshark, path, ports):
    """Return ([bind message dicts], binds inside SASL buffers, error or None).  A dict has frame,
    message_id, op ("request"/"response"), and auth, name, mechanism (requests) or result (responses)."""
    cmd = [tshark, "-n", "-r", path, "-Y", LDAP_BIND_FILTER, "-T", "json", "-J", "frame ldap"]
    for p in sorted(ports):
        cmd += ["-d", "tcp.port==%d,ldap" % p]
    rc, out, err = run(cmd)
    if rc is None:
        return None, 0, "tshark " + err
    if rc != 0 and not any(m in err for m in TSHARK_PARTIAL_MARKERS):
        return None, 0, "tshark exit %d: %s" % (rc, first_error_line(err))
    if not out.strip():
        return [], 0, None
    try:
        pkts = json.loads(out, object_pairs_hook=_merge_pairs)
    except ValueError as e:
        return None, 0, "tshark -T json output unreadable (%s)" % e
    binds, sasl = [], 0
    for pkt in pkts:
        layers = pkt.get("_source", {}).get("layers", {})
        frame = int(_find(layers.get("frame"), "frame.number"))
        for msg, in_sasl in _ldap_messages(layers.get("ldap")):
            op = _first(msg.get("ldap.protocolOp"))
            if op not in ("0", "1"):
                continue
            if in_sasl:
                sasl += 1
                continue
            b = {"frame": frame, "message_id": int(_first(msg.get("ldap.messageID"))),
                 "op": "request" if op == "0" else "response"}
            tree = msg.get("ldap.protocolOp_tree")
            if op == "0":
                req = _find(tree, "ldap.bindRequest_element")
                a = _find(req, "ldap.authentication")
                b["auth"] = LDAP_AUTH.get(a, "other")
                b["name"] = _find(req, "ldap.name")
                b["mechanism"] = _find(req, "ldap.mechanism")
            else:
                r = _find(_find(tree, "ldap.bindResponse_element"), "ldap.resultCode")
                b["result"] = int(r) if r is not None else None
            binds.append(b)
    return binds, sasl, None


def hopscope_ldap_binds(recs):
    """hopscope's bind messages, as tshark_ldap_binds() describes them, each with its record."""
    out = []
    for r in recs:
        if r.get("transport") != "ldap":
            continue
        l = r.get("ldap") or {}
        for b in l.get("binds") or []:
            if b.get("request") is not None:
                out.append({"frame": b["request"], "message_id": b.get("message_id"), "op": "request",
                            "auth": l.get("auth"), "name": l.get("bind_dn"),
                            "mechanism": l.get("sasl_mechanism"), "rec": r})
            if b.get("response") is not None:
                out.append({"frame": b["response"], "message_id": b.get("message_id"), "op": "response",
                            "result": (b.get("result_code") or {}).get("code"), "rec": r})
    return out


def compare_ldap(t_binds, recs):
    """Return a list of disagreements between tshark's and hopscope's LDAP binds."""
    problems = []
    key = lambda b: (b["frame"], b["message_id"], b["op"])
    pool = collections.defaultdict(list)
    for h in hopscope_ldap_binds(recs):
        pool[key(h)].append(h)
    for t in t_binds:
        lst = pool.get(key(t))
        if not lst:
            problems.append("bind %s %d (messageID %d) not in hopscope" % (t["op"], t["frame"], t["message_id"]))
            continue
        h = lst.pop(0)
        where = "bind %s %d" % (t["op"], t["frame"])
        if t["op"] == "request":
            if h["auth"] != t["auth"]:
                problems.append("%s: auth tshark %s hopscope %s" % (where, t["auth"], h["auth"]))
            elif t["auth"] == "simple" and h["name"] != (t["name"] or ""):
                problems.append("%s: bind_dn tshark %r hopscope %r" % (where, t["name"], h["name"]))
            elif t["auth"] == "sasl" and t["mechanism"] and h["mechanism"] != t["mechanism"]:
                problems.append("%s: mechanism tshark %r hopscope %r" % (where, t["mechanism"], h["mechanism"]))
        elif h["result"] != t["result"]:
            problems.append("%s: resultCode tshark %s hopscope %s" % (where, t["result"], h["result"]))
    for lst in pool.values():
        for h in lst:
            problems.append("bind %s %d (messageID %s) hopscope reports, tshark does not" % (
                h["op"], h["frame"], h["message_id"]))
    for r in recs:
        if r.get("transport") != "ldap" or "status" not in r:
            continue
        answered = [b for b in (r.get("ldap") or {}).get("binds") or [] if b.get("result_code")]
        last = answered[-1]["result_code"]["code"] if answered else None
        if r["status"].get("code") != last:
            problems.append("record %s: status %s is not its last bind's resultCode %s" % (
                r.get("id"), r["status"].get("code"), last))
    return problems


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


def tshark_frames(tshark, path, frames, fields):
    """Return ({frame: {field: [values]}}, error or None) for the given frames."""
    if not frames:
        return {}, None
    flt = "frame.number in {%s}" % ", ".join(str(f) for f in sorted(frames))
    cmd = [tshark, "-n", "-r", path, "-Y", flt, "-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=a", "-E", "aggregator=" + AGGREGATOR, "-e", "frame.number"]
    for f in fields:
        cmd += ["-e", f]
    rc, out, err = run(cmd)
    if rc is None:
        return None, "tshark " + err
    if rc != 0 and not any(m in err for m in TSHARK_PARTIAL_MARKERS):
        return None, "tshark exit %d: %s" % (rc, first_error_line(err))
    res = {}
    for line in out.split("\n"):  # not splitlines(): it also splits at the aggregator \x1e
        cols = line.split("\t")
        if not cols or not cols[0].strip():
            continue
        cols += [""] * (len(fields) + 1 - len(cols))
        res[int(cols[0])] = {f: (c.split(AGGREGATOR) if c else []) for f, c in zip(fields, cols[1:])}
    return res, None


def check_dcerpc(args, path, recs):
    """Return a list of disagreements between hopscope's dcerpc records and tshark."""
    recs = [r for r in recs if r.get("transport") == "dcerpc"]
    if not recs:
        return []
    first, verdict = {}, {}
    for r in recs:
        fr = r.get("frames") or {}
        toks = [fr[k] for k in ("negotiate", "challenge", "authenticate", "ap_req", "ap_rep") if fr.get(k)]
        if toks:
            first[id(r)] = min(toks)
        if r.get("status") and (r["dcerpc"].get("verdict_from") == "first_call"):
            verdict[id(r)] = fr.get("verdict")
    fields = ["dcerpc.auth_type", "dcerpc.auth_level", "dcerpc.auth_ctx_id", "dcerpc.cn_bind_to_uuid",
              "dcerpc.cn_status"]
    got, err = tshark_frames(args.tshark, path, set(first.values()) | set(verdict.values()), fields)
    if err:
        return ["(%s)" % err]
    bad = []
    for r in recs:
        d = r["dcerpc"]
        f = first.get(id(r))
        if f is None:
            bad.append("record %s: no token frame" % r.get("id"))
            continue
        t = got.get(f, {})
        want = [("dcerpc.auth_type", str(DCERPC_NAMES["auth_type"].get(d.get("auth_type"), d.get("auth_type")))),
                ("dcerpc.auth_level", str(DCERPC_NAMES["auth_level"].get(d.get("auth_level"), d.get("auth_level")))),
                ("dcerpc.auth_ctx_id", str(d.get("auth_context_id")))]
        if d.get("interface_uuid"):
            want.append(("dcerpc.cn_bind_to_uuid", d["interface_uuid"]))
        for field, value in want:
            if value not in t.get(field, []):
                bad.append("frame %d %s hopscope %s tshark %s" % (f, field, value, t.get(field)))
        v = verdict.get(id(r))
        if v:
            code = int(r["status"]["code"], 16)
            if code not in [int(x, 16) for x in got.get(v, {}).get("dcerpc.cn_status", [])]:
                bad.append("frame %d fault status hopscope 0x%x tshark %s" % (v, code,
                                                                            got.get(v, {}).get("dcerpc.cn_status")))
    return bad


B64_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def ntlm_auth_names(blob):
    """(user, domain, workstation) of a raw NTLMSSP AUTHENTICATE (MS-NLMP 2.2.1.3), or None."""
    if len(blob) < 64 or blob[:8] != b"NTLMSSP\0" or struct.unpack_from("<I", blob, 8)[0] != 3:
        return None
    flags = struct.unpack_from("<I", blob, 60)[0]
    def field(at):
        ln, _, off = struct.unpack_from("<HHI", blob, at)
        raw = blob[off:off + ln]
        return raw.decode("utf-16-le", "replace") if flags & 1 else raw.decode("latin-1")
    return field(36), field(28), field(44)


def other_b64_auths(tshark, path, frames):
    """The AUTHENTICATEs carried base64 in the TCP payload of the given frames, decoded here without
    hopscope: [(frame, user, domain, workstation)]."""
    if not frames:
        return []
    flt = " || ".join("frame.number == %d" % f for f in frames)
    rc, out, err = run([tshark, "-n", "-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number", "-e", "tcp.payload"])
    found = []
    for line in (out or "").split("\n"):
        if "\t" not in line:
            continue
        f, payload = line.split("\t", 1)
        data = bytes.fromhex(payload.replace(":", "").strip())
        at = data.find(b"TlRMTVNTUA")
        if at < 0:
            continue
        end = at
        while end < len(data) and chr(data[end]) in B64_CHARS:
            end += 1
        try:
            names = ntlm_auth_names(base64.b64decode(data[at:end]))
        except (ValueError, struct.error):
            names = None
        if names:
            found.append((int(f),) + tuple(norm(x) for x in names))
    return found


def check(args, name, path, community):
    recs, skip, fail = hopscope_records(args.hopscope, path)
    t_auths, t_smb1, t_ids, t_err = tshark_auths(args.tshark, path, community)
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
    if extra:
        # base64 NTLMSSP tshark does not decode (IMAP/POP3/SMTP AUTH NTLM): agree with the frame's bytes
        other_frames = {(r.get("frames") or {}).get("authenticate") for r in recs if r.get("transport") == "other"}
        own = other_b64_auths(args.tshark, path, [e[0] for e in extra if e[0] in other_frames])
        extra = [e for e in extra if e not in own]

    statuses, s_err = tshark_smb1_statuses(args.tshark, path) if t_smb1 else ({}, None)
    if s_err:
        return "FAIL", "FAIL %s: %s" % (name, s_err), 0
    t_s1 = collections.Counter((f, u, d, w, statuses.get(f)) for f, u, d, w in t_smb1)
    h_s1 = collections.Counter(hopscope_smb1(recs))
    s1_missing = list((t_s1 - h_s1).elements())
    s1_extra = list((h_s1 - t_s1).elements())

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

    rpc_bad = check_dcerpc(args, path, recs)
    ports = {(r.get("server") or {}).get("port") for r in recs if r.get("transport") == "ldap"}
    t_binds, in_sasl, l_err = tshark_ldap_binds(args.tshark, path, {p for p in ports if p and p not in LDAP_PORTS})
    ldap_bad = ["(%s)" % l_err] if l_err else compare_ldap(t_binds, recs)

    if missing or extra or cid_bad or s1_missing or s1_extra or rpc_bad or ldap_bad:
        by_frame = {(r.get("frames") or {}).get("authenticate"): r for r in recs}
        msg = "FAIL %s: missing %s extra %s" % (name, fmt(missing), fmt(extra, by_frame))
        if s1_missing or s1_extra:
            msg += " smb1 session setups: missing %s extra %s" % (fmt_smb1(s1_missing), fmt_smb1(s1_extra))
        if cid_bad:
            msg += " community_id [%s]" % ", ".join(cid_bad)
        if rpc_bad:
            msg += " dcerpc [%s]" % ", ".join(rpc_bad)
        if ldap_bad:
            msg += " ldap [%s]" % "; ".join(ldap_bad)
        return "FAIL", msg, 0
    extra_note = " and %d smb1 session setups" % len(t_smb1) if t_smb1 else ""
    if t_binds:
        extra_note += ", %d LDAP bind messages" % len(t_binds)
    if in_sasl:
        extra_note += ", %d binds inside SASL buffers not compared" % in_sasl
    return "PASS", "PASS %s (%d authenticates%s)" % (name, len(h_auths), extra_note), \
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
