#!/usr/bin/env python3
"""Compare hopscope's Kerberos output with what tshark decodes.

Requirement: hopscope agrees with tshark (Wireshark 4.0) on every Kerberos message of the layers it
covers, and reports none that tshark does not see:

1. KDC exchanges, clear text, no keys.  Every AS-REQ (10), AS-REP (11), TGS-REQ (12), TGS-REP (13) and
   KRB-ERROR (30) tshark decodes on TCP or UDP port 88 is in hopscope's `type:"kerberos"` records at
   the same frame (frames.request for requests, frames.reply for replies and errors) with the same
   message name, and hopscope has no other.  Per message:
     requests   sname (tshark's req-body SNameStrings joined with '/', '@', req-body realm), the requested
                realm, the cname's name-type (cname_type, for a cname taken from the request), the set of
                kdc-options (tshark's KDCOptions booleans, named as RFC 4120 / docs/RECORDS.md name them;
                bits tshark calls unusedN are hopscope's "bitN"), and for S4U2Self the user of
                PA-FOR-USER (or PA-S4U-X509-USER when there is no PA-FOR-USER) = impersonated.user
     KRB-ERROR  error-code = error.code
     AS/TGS-REP the issued ticket's sname@realm = tickets.reply.sname
   Kerberos inside SMB2, HTTP, LDAP, DCE/RPC ... is not a KDC exchange and is not counted here.
2. AP-REQs, clear text, no keys.  Every AP-REQ (14) tshark decodes inside SMB2 SESSION_SETUP
   (smb2.cmd == 1), SMB1 SESSION_SETUP_ANDX (smb.cmd == 0x73), HTTP or LDAP (a BindRequest's SASL
   credentials), or in a DCE/RPC auth verifier over TCP or an SMB named pipe (not RPC over HTTP), is in a
   `type:"auth"` record whose frames.ap_req is that frame, with the ticket's sname (kerberos.spn) and realm
   (kerberos.realm); hopscope has no other. The layering is read from tshark's protocol tree (the kerberos
   protocol item must sit below an smb2 item whose command is SESSION_SETUP, an smb item of a
   SESSION_SETUP_ANDX, an http or an ldap item, and not below dcerpc; or below dcerpc and not below http),
   applied per message instead of per frame.
3. Decrypted, with keys.  For a capture that has a keytab - CAPTURE.keytab next to it (e.g.
   zeek/smb2_krb.pcap + smb2_krb.keytab), else keytabs/all_accounts.keytab in its directory or a
   parent directory up to the capture root (the lab captures) - both tools run again with it (tshark
   `-o kerberos.decrypt:TRUE -o kerberos.file:KEYTAB`, hopscope `-k KEYTAB`) and wherever tshark shows
   a decrypted part, hopscope must show the same:
     tickets    (AP-REQ ticket -> kerberos.decrypted.ticket; TGS-REQ's TGT -> decrypted.tgt;
                additional tickets -> decrypted.additional[i]; AS-REP/TGS-REP ticket ->
                decrypted.reply): EncTicketPart cname@crealm = client, TicketFlags = flags, and the
                PAC: PAC_LOGON_INFO account name (client-info name if empty) = pac.user, logon domain
                = pac.domain, domain SID + user RID = pac.user_sid, GroupIds / ExtraSids /
                ResourceGroupIds = pac.group_sids (in that order), UPN_DNS_INFO upn/dns = pac.upn /
                pac.dns_domain
     authenticators (AP-REQ -> kerberos.decrypted.authenticator; TGS-REQ -> decrypted.tgs_authenticator):
                cname@crealm = client; the 0x8003 checksum's flags = gss_flags (tshark's Deleg ...
                DCE-style booleans, other bits from the checksum bytes tshark shows); a KRB-CRED in it
                = delegated, and where tshark decrypted the KrbCredInfo: pname@prealm = principal,
                sname@srealm = sname, flags = flags.
   A part tshark could not decrypt is not compared (counted as "not decrypted by tshark").

One tshark run (-T pdml, display filter TSHARK_FILTER) per capture, plus one with the keytab; one or two
hopscope runs.  PDML is used because one frame can carry several tickets (PA-TGS-REQ, additional
tickets, KRB-CRED) and only the tree tells which field belongs to which.

Output: one line per capture
    PASS name (k KDC messages, m AP-REQs[, d decrypted parts compared])
    FAIL name: what disagreed
    SKIP name: reason
followed by a last line "N passed, M failed, K skipped".  Exit status 1 if any capture failed, else 0.
Python 3 standard library only.

Usage: python3 tests/compare_tshark_krb.py --hopscope build/hopscope [--captures DIR ...]
"""

import argparse
import collections
import concurrent.futures
import io
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

# ../shared beside the repository (as CI and the developers' machines lay it out).
_SHARED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "captures"))
DEFAULT_CAPTURE_DIRS = [os.path.join(_SHARED, "public"), os.path.join(_SHARED, "lab"),
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "captures", "crafted")]

# RFC 4120 6.2 / RFC 6806 name-types as hopscope's cname_type spells them.
NAME_TYPES = {0: "NT-UNKNOWN", 1: "NT-PRINCIPAL", 2: "NT-SRV-INST", 3: "NT-SRV-HST", 4: "NT-SRV-XHST", 5: "NT-UID",
              6: "NT-X500-PRINCIPAL", 7: "NT-SMTP-NAME", 10: "NT-ENTERPRISE", 11: "NT-WELLKNOWN",
              -128: "NT-MS-PRINCIPAL", -129: "NT-MS-PRINCIPAL-AND-ID", -130: "NT-ENT-PRINCIPAL-AND-ID"}
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
KDC_PORT = "88"

# Frames worth a look; the per-message decision is made on the protocol tree.
TSHARK_FILTER = "kerberos && (tcp.port == 88 || udp.port == 88 || smb2.cmd == 1 || smb.cmd == 0x73 || http || ldap || dcerpc)"

KDC_MSG = {10: "AS-REQ", 11: "AS-REP", 12: "TGS-REQ", 13: "TGS-REP", 30: "KRB-ERROR"}
AP_REQ = 14

# tshark field suffix (kerberos.KDCOptions.X) -> hopscope name (RFC 4120 5.4.1; bit 14 is MS-SFU's
# cname-in-addl-tkt, which tshark 4.0 calls constrained-delegation; tshark's unusedN is hopscope's bitN).
KDC_OPTION_NAMES = {
    "reserved": "reserved", "forwardable": "forwardable", "forwarded": "forwarded",
    "proxiable": "proxiable", "proxy": "proxy", "allow.postdate": "allow-postdate",
    "postdated": "postdated", "renewable": "renewable", "opt.hardware.auth": "opt-hardware-auth",
    "constrained.delegation": "cname-in-addl-tkt", "cname.in.addl.tkt": "cname-in-addl-tkt",
    "canonicalize": "canonicalize", "request.anonymous": "request-anonymous",
    "disable.transited.check": "disable-transited-check", "renewable.ok": "renewable-ok",
    "enc.tkt.in.skey": "enc-tkt-in-skey", "renew": "renew", "validate": "validate",
}

# kerberos.TicketFlags.X -> hopscope name (RFC 4120 5.3; bit 14 unnamed: "bit14").  tshark names bits
# 0-16; bits 17-31 are taken from the flags bytes tshark shows and named "bitN" like hopscope does.
TICKET_FLAG_NAMES = {
    "reserved": "reserved", "forwardable": "forwardable", "forwarded": "forwarded",
    "proxiable": "proxiable", "proxy": "proxy", "may.postdate": "may-postdate",
    "postdated": "postdated", "invalid": "invalid", "renewable": "renewable", "initial": "initial",
    "pre.authent": "pre-authent", "hw.authent": "hw-authent",
    "transited.policy.checked": "transited-policy-checked", "ok.as.delegate": "ok-as-delegate",
    "unused": "bit14", "enc.pa.rep": "enc-pa-rep", "anonymous": "anonymous",
}
TICKET_FLAG_TSHARK_BITS = 17

# RFC 4121 4.1.1 / RFC 4757 checksum flags.  tshark 4.0 decodes the first seven as booleans
# (kerberos.gssapi.checksum.flags.X); the others are read from the checksum bytes tshark shows.
GSS_FLAG_BITS = {
    "DELEG": 0x1, "MUTUAL": 0x2, "REPLAY": 0x4, "SEQUENCE": 0x8, "CONF": 0x10, "INTEG": 0x20,
    "ANON": 0x40, "PROT_READY": 0x80, "TRANS": 0x100, "DCE_STYLE": 0x1000, "IDENTIFY": 0x2000,
    "EXTENDED_ERROR": 0x4000,
}
GSS_TSHARK_FLAGS = {"deleg": "DELEG", "mutual": "MUTUAL", "replay": "REPLAY", "sequence": "SEQUENCE",
                    "conf": "CONF", "integ": "INTEG", "dce-style": "DCE_STYLE"}
CKSUMTYPE_GSSAPI = "32771"  # 0x8003

PAC_MAX_SIDS = 64  # hopscope's KC_MAX_SIDS: more group SIDs are cut (domain groups first)

# Error lines tshark prints for files it reads only partially; what came before is still compared.
TSHARK_PARTIAL_MARKERS = ("appears to have been cut short", "appears to be damaged or corrupt")

TIMEOUT = 600


# ---------------------------------------------------------------------------------------------
# running things

def find_captures(dirs):
    """Return ([(display name, path, capture root)], [missing dirs])."""
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
                    found.append((os.path.join(base, os.path.relpath(p, d)), p, d))
    return found, missing


def keytab_for(path, root):
    """CAPTURE.keytab next to the capture, else keytabs/all_accounts.keytab up to the capture root."""
    own = os.path.splitext(path)[0] + ".keytab"
    if os.path.isfile(own):
        return own
    root = os.path.abspath(root)
    d = os.path.dirname(os.path.abspath(path))
    while True:
        kt = os.path.join(d, "keytabs", "all_accounts.keytab")
        if os.path.isfile(kt):
            return kt
        if d == root or os.path.dirname(d) == d:
            return None
        d = os.path.dirname(d)


def run(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b"", "timed out after %ds" % TIMEOUT
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def first_error_line(stderr):
    for line in stderr.splitlines():
        line = line.strip()
        if line and not line.startswith("Running as user"):
            return line
    return ""


def hopscope_records(hopscope, path, keytab=None):
    """Return (records, skip reason, fail reason)."""
    cmd = [hopscope, "-r", path] + (["-k", keytab] if keytab else [])
    rc, out, err = run(cmd)
    if rc is None:
        return None, None, "hopscope " + err
    if rc == 1:
        # Input unusable (e.g. a NetMon .cap libpcap cannot open).
        return None, "hopscope cannot read it: %s" % (first_error_line(err) or "exit 1"), None
    if rc not in (0, 3):  # 3: truncated/damaged capture, records up to there written
        return None, None, "hopscope exit %d: %s" % (rc, first_error_line(err))
    recs, saw_stats = [], False
    for n, line in enumerate(out.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except ValueError as e:
            return None, None, "hopscope output line %d is not JSON (%s)" % (n, e)
        if o.get("type") in ("kerberos", "auth"):
            recs.append(o)
        elif o.get("type") == "stats":
            saw_stats = True
    if not saw_stats:
        return None, None, "hopscope wrote no stats line (exit %d)" % rc
    return recs, None, None


# XML 1.0 forbids most control characters, which PDML can carry in strings tshark shows.
_BAD_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|&#(?:x0*(?:[0-8bcefBCEF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));")


def tshark_packets(tshark, path, keytab=None):
    """Run tshark -T pdml; return (list of <packet> elements, error or None)."""
    cmd = [tshark, "-n", "-r", path, "-Y", TSHARK_FILTER, "-T", "pdml"]
    if keytab:
        cmd[1:1] = ["-o", "kerberos.decrypt:TRUE", "-o", "kerberos.file:" + keytab]
    rc, out, err = run(cmd)
    if rc is None:
        return None, "tshark " + err
    if rc != 0 and not any(m in err for m in TSHARK_PARTIAL_MARKERS):
        return None, "tshark exit %d: %s" % (rc, first_error_line(err))
    packets = []
    try:
        for _, elem in ET.iterparse(io.BytesIO(_BAD_XML.sub(b"?", out)), events=("end",)):
            if elem.tag == "packet":
                packets.append(elem)
    except ET.ParseError as e:
        if rc == 0:
            return None, "tshark PDML not parseable: %s" % e
        # cut short: keep the packets that were complete
    return packets, None


# ---------------------------------------------------------------------------------------------
# reading tshark's tree

def child(e, name):
    for c in e:
        if c.tag == "field" and c.get("name") == name:
            return c
    return None


def kids(e, name):
    return [c for c in e if c.tag == "field" and c.get("name") == name]


def find(e, name):
    """First descendant field called name (document order), or None."""
    for c in e.iter("field"):
        if c is not e and c.get("name") == name:
            return c
    return None


def find_all(e, name):
    return [c for c in e.iter("field") if c is not e and c.get("name") == name]


def show(e):
    return None if e is None else e.get("show")


NAME_STRINGS = ("kerberos.SNameString", "kerberos.CNameString", "kerberos.KerberosString")


def principal_name(name_element):
    """The components of a PrincipalName element (sname/cname/pname/name) joined with '/'."""
    if name_element is None:
        return None
    parts = [c.get("show") for c in name_element.iter("field") if c.get("name") in NAME_STRINGS]
    return "/".join(parts)


def join_principal(name, realm):
    """As hopscope writes principals: name@realm; an enterprise name (with '@') carries its realm."""
    if name is None:
        return None
    if not name:
        return ""
    if not realm or "@" in name:
        return name
    return "%s@%s" % (name, realm)


def bits_of(hexbytes):
    """'40:ac:00:00' -> {bit numbers set, bit 0 the most significant of the first byte}."""
    out = set()
    if not hexbytes:
        return out
    try:
        raw = bytes(int(b, 16) for b in hexbytes.split(":"))
    except ValueError:
        return out
    for i, byte in enumerate(raw[:4]):
        for j in range(8):
            if byte & (0x80 >> j):
                out.add(8 * i + j)
    return out


def kdc_options(opts_field):
    """Names of the KDC options set, from tshark's booleans."""
    names = set()
    for f in opts_field:
        n = f.get("name", "")
        if not n.startswith("kerberos.KDCOptions.") or f.get("show") != "1":
            continue
        suffix = n[len("kerberos.KDCOptions."):]
        m = re.match(r"unused(\d+)$", suffix)
        names.add("bit" + m.group(1) if m else KDC_OPTION_NAMES.get(suffix, "tshark:" + suffix))
    return names


def ticket_flags(flags_field):
    names = set()
    for f in flags_field:
        n = f.get("name", "")
        if n.startswith("kerberos.TicketFlags.") and f.get("show") == "1":
            suffix = n[len("kerberos.TicketFlags."):]
            names.add(TICKET_FLAG_NAMES.get(suffix, "tshark:" + suffix))
    for b in bits_of(flags_field.get("show")):
        if b >= TICKET_FLAG_TSHARK_BITS:
            names.add("bit%d" % b)
    return names


def gss_flags(cksum):
    """Flag names of a 0x8003 checksum, or None when tshark did not decode one."""
    if show(child(cksum, "kerberos.cksumtype")) != CKSUMTYPE_GSSAPI or child(cksum, "kerberos.gssapi.len") is None:
        return None
    names, value = set(), 0
    for f in cksum:
        n = f.get("name", "")
        if n.startswith("kerberos.gssapi.checksum.flags."):
            suffix = n[len("kerberos.gssapi.checksum.flags."):]
            if f.get("show") == "1":
                names.add(GSS_TSHARK_FLAGS.get(suffix, "tshark:" + suffix))
    raw = show(child(cksum, "kerberos.checksum")) or ""
    try:
        b = bytes(int(x, 16) for x in raw.split(":")) if raw else b""
    except ValueError:
        b = b""
    if len(b) >= 24:
        value = int.from_bytes(b[20:24], "little")
    known = 0
    for t in GSS_TSHARK_FLAGS.values():
        known |= GSS_FLAG_BITS[t]
    rev = {v: k for k, v in GSS_FLAG_BITS.items()}
    for i in range(32):
        bit = 1 << i
        if value & bit and not bit & known:
            names.add(rev.get(bit, "0x%x" % bit))
    return names


PAC_SECTIONS = {"GroupIDs": "groups", "SID_AND_ATTRIBUTES_ARRAY:": "extra", "ResourceGroupIDs": "resource"}


def pac_info(enc_part):
    """What tshark decoded of the PAC in an EncTicketPart: dict of the fields hopscope reports."""
    logon = find(enc_part, "kerberos.pac_logon_info")
    upn = find(enc_part, "kerberos.pac_upn_dns_info")
    if logon is None and upn is None:
        return None
    pac = {}
    if logon is not None:
        acc = {"user": None, "domain": None, "rid": None, "domsid": None, "groups": [], "extra": [],
               "rgsid": None, "rgrids": []}

        def visit(e, sec):
            for c in e:
                if c.tag != "field":
                    continue
                n, s = c.get("name", ""), c.get("show", "")
                csec = PAC_SECTIONS.get(s, sec) if n == "" else sec
                if n == "netlogon.acct_name" and acc["user"] is None and sec is None:
                    acc["user"] = s
                elif n == "netlogon.domain" and acc["domain"] is None and sec is None:
                    acc["domain"] = s
                elif n == "netlogon.rid" and acc["rid"] is None and sec is None:
                    acc["rid"] = s
                elif n == "dcerpc.nt.domain_sid" and s:
                    sid = s.split()[0]
                    if sec is None and acc["domsid"] is None:
                        acc["domsid"] = sid
                    elif sec == "extra":
                        acc["extra"].append(sid)
                    elif sec == "resource" and acc["rgsid"] is None:
                        acc["rgsid"] = sid
                elif n.endswith("group_rid") and sec == "groups":
                    acc["groups"].append(s)
                elif n.endswith("group_rid") and sec == "resource":
                    acc["rgrids"].append(s)
                visit(c, csec)

        visit(logon, None)
        user = acc["user"] or show(find(enc_part, "kerberos.pac.name")) or ""
        pac["user"] = user
        pac["domain"] = acc["domain"] or ""
        if acc["domsid"] and acc["rid"]:
            pac["user_sid"] = "%s-%s" % (acc["domsid"], acc["rid"])
        sids = []
        if acc["domsid"]:
            sids += ["%s-%s" % (acc["domsid"], r) for r in acc["groups"]]
        sids += acc["extra"]
        if acc["rgsid"]:
            sids += ["%s-%s" % (acc["rgsid"], r) for r in acc["rgrids"]]
        pac["group_sids"] = sids
    if upn is not None:
        pac["upn"] = show(find(upn, "kerberos.pac.upn.upn_name")) or ""
        pac["dns_domain"] = show(find(upn, "kerberos.pac.upn.dns_name")) or ""
    return pac


def ticket_info(ticket):
    """A Ticket element: {'sname', 'realm', 'dec': None | {'client', 'flags', 'pac'}}."""
    realm = show(child(ticket, "kerberos.realm")) or ""
    info = {"sname": join_principal(principal_name(child(ticket, "kerberos.sname_element")), realm),
            "realm": realm, "dec": None}
    enc = child(ticket, "kerberos.enc_part_element")
    part = find(enc, "kerberos.encTicketPart_element") if enc is not None else None
    if part is not None:
        flags = child(part, "kerberos.flags")
        info["dec"] = {
            "client": join_principal(principal_name(child(part, "kerberos.cname_element")),
                                     show(child(part, "kerberos.crealm")) or ""),
            "flags": ticket_flags(flags) if flags is not None else set(),
            "pac": pac_info(part),
        }
    return info


def authenticator_info(ap_req):
    """The decrypted Authenticator of an AP-REQ element, or None."""
    outer = child(ap_req, "kerberos.authenticator_element")
    if outer is None:
        return None
    inner = find(outer, "kerberos.authenticator_element")
    if inner is None:
        return None
    info = {"client": join_principal(principal_name(child(inner, "kerberos.cname_element")),
                                     show(child(inner, "kerberos.crealm")) or ""),
            "gss_flags": None, "krb_cred": False, "deleg": None}
    cksum = child(inner, "kerberos.cksum_element")
    if cksum is not None:
        info["gss_flags"] = gss_flags(cksum)
        cred = child(cksum, "kerberos.krb_cred_element")
        if cred is not None:
            info["krb_cred"] = True
            ci = find(cred, "kerberos.KrbCredInfo_element")
            if ci is not None:
                flags = child(ci, "kerberos.flags")
                info["deleg"] = {
                    "principal": join_principal(principal_name(child(ci, "kerberos.pname_element")),
                                                show(child(ci, "kerberos.prealm")) or ""),
                    "sname": join_principal(principal_name(child(ci, "kerberos.sname_element")),
                                            show(child(ci, "kerberos.srealm")) or ""),
                    "flags": ticket_flags(flags) if flags is not None else set(),
                }
    return info


def ap_req_info(ap_req):
    t = child(ap_req, "kerberos.ticket_element")
    return {"ticket": ticket_info(t) if t is not None else None, "auth": authenticator_info(ap_req)}


def padata_entries(msg):
    """[(type, padata-value element)] of a KDC-REQ/REP."""
    out = []
    pad = child(msg, "kerberos.padata")
    if pad is None:
        return out
    for pa in kids(pad, "kerberos.PA_DATA_element"):
        t = find(pa, "kerberos.padata_type")
        v = find(pa, "kerberos.padata_value")
        try:
            out.append((int(show(t)), v))
        except (TypeError, ValueError):
            pass
    return out


def kdc_message_info(mtype, msg):
    info = {"type": KDC_MSG[mtype]}
    if mtype in (10, 12):
        body = child(msg, "kerberos.req_body_element")
        if body is None:
            info["broken"] = True
            return info
        realm = show(child(body, "kerberos.realm")) or ""
        info["realm"] = realm
        sn = child(body, "kerberos.sname_element")
        info["sname"] = join_principal(principal_name(sn), realm) if sn is not None else None
        cn = child(body, "kerberos.cname_element")
        nt = child(cn, "kerberos.name_type") if cn is not None else None
        info["cname_type"] = int(show(nt)) if nt is not None and show(nt) not in (None, "") else None
        opts = child(body, "kerberos.kdc_options")
        info["kdc_options"] = kdc_options(opts) if opts is not None else None
        info["for_user"] = info["x509_user"] = None
        info["tgt"] = info["tgs_auth"] = None
        for t, v in padata_entries(msg):
            if v is None:
                continue
            if t == 129:  # PA-FOR-USER
                info["for_user"] = join_principal(principal_name(child(v, "kerberos.name_element")),
                                                  show(child(v, "kerberos.realm")) or "")
            elif t == 130:  # PA-S4U-X509-USER
                uid = child(v, "kerberos.user_id_element")
                if uid is not None:
                    info["x509_user"] = join_principal(principal_name(child(uid, "kerberos.cname_element")),
                                                       show(child(uid, "kerberos.crealm")) or "")
            elif t == 1 and info["tgt"] is None:  # PA-TGS-REQ
                ap = child(v, "kerberos.ap_req_element")
                if ap is not None:
                    a = ap_req_info(ap)
                    info["tgt"], info["tgs_auth"] = a["ticket"], a["auth"]
        addl = child(body, "kerberos.additional_tickets")
        info["additional"] = [ticket_info(t) for t in kids(addl, "kerberos.Ticket_element")] \
            if addl is not None else []
    elif mtype in (11, 13):
        t = child(msg, "kerberos.ticket_element")
        info["ticket"] = ticket_info(t) if t is not None else None
    elif mtype == 30:
        try:
            info["error_code"] = int(show(child(msg, "kerberos.error_code")))
        except (TypeError, ValueError):
            info["error_code"] = None
    return info


def krb_message(proto):
    """(msg-type, message element) of a kerberos protocol item, or (None, None)."""
    for c in proto:
        n = c.get("name", "")
        if c.tag == "field" and n.startswith("kerberos.") and n.endswith("_element"):
            mt = child(c, "kerberos.msg_type")
            if mt is not None:
                try:
                    return int(mt.get("show")), c
                except (TypeError, ValueError):
                    return None, None
    return None, None


def packet_kerberos(pkt):
    """[(kerberos proto element, enclosing protocol names, transport ports, smb2 command, SMB1 commands
    seen before it)]."""
    found = []
    state = {"ports": (), "smb2_cmd": None, "smb_cmds": ()}

    def walk(e, stack):
        for c in e:
            if c.tag == "proto":
                name = c.get("name")
                if name == "kerberos":
                    found.append((c, tuple(stack), state["ports"], state["smb2_cmd"], state["smb_cmds"]))
                    continue
                if name in ("tcp", "udp"):
                    state["ports"] = (show(child(c, name + ".srcport")), show(child(c, name + ".dstport")))
                stack.append(name)
                walk(c, stack)
                stack.pop()
            elif c.tag == "field":
                if c.get("name") == "smb2.cmd":
                    state["smb2_cmd"] = c.get("show")
                elif c.get("name") == "smb.cmd":  # the header's command, then each AndXCommand
                    state["smb_cmds"] += (c.get("show"),)
                walk(c, stack)

    walk(pkt, [])
    return found


def packet_frame(pkt):
    for proto in pkt:
        if proto.tag == "proto" and proto.get("name") == "geninfo":
            n = show(child(proto, "num"))
            if n:
                return int(n)
    for proto in pkt:
        if proto.tag == "proto" and proto.get("name") == "frame":
            return int(show(child(proto, "frame.number")))
    return None


def tshark_kerberos(packets):
    """Return ([KDC messages], [AP-REQs]) decoded by tshark; each a dict with 'frame'."""
    kdc, ap = [], []
    for pkt in packets:
        frame = packet_frame(pkt)
        for proto, stack, ports, smb2_cmd, smb_cmds in packet_kerberos(pkt):
            mtype, msg = krb_message(proto)
            if mtype is None:
                continue
            if not stack and KDC_PORT in ports and mtype in KDC_MSG:
                info = kdc_message_info(mtype, msg)
                info["frame"] = frame
                kdc.append(info)
            elif mtype == AP_REQ and (("dcerpc" not in stack and
                                       (("smb2" in stack and smb2_cmd == "1") or
                                        ("smb" in stack and "0x73" in smb_cmds) or "http" in stack or "ldap" in stack)) or
                                      ("dcerpc" in stack and "http" not in stack)):
                info = ap_req_info(msg)
                info["frame"] = frame
                ap.append(info)
    return kdc, ap


# ---------------------------------------------------------------------------------------------
# hopscope's side

def hop_kdc_messages(recs):
    """[(frame, message name, record, 'request'|'reply')]."""
    out = []
    for r in recs:
        if r.get("type") != "kerberos":
            continue
        fr = r.get("frames") or {}
        if r.get("request"):
            out.append((fr.get("request"), r.get("request"), r, "request"))
        if r.get("reply"):
            out.append((fr.get("reply"), r.get("reply"), r, "reply"))
    return out


def hop_ap_reqs(recs):
    out = []
    for r in recs:
        if r.get("type") != "auth":
            continue
        ap = (r.get("frames") or {}).get("ap_req")
        if ap is None:
            continue
        out.append((ap, r))
    return out


def pair_up(tshark_items, hop_items, t_key, h_key):
    """Match items with equal keys in order.  Return (pairs, unmatched tshark, unmatched hopscope)."""
    pool = collections.defaultdict(list)
    for h in hop_items:
        pool[h_key(h)].append(h)
    pairs, missing = [], []
    for t in tshark_items:
        lst = pool.get(t_key(t))
        if lst:
            pairs.append((t, lst.pop(0)))
        else:
            missing.append(t)
    extra = [h for lst in pool.values() for h in lst]
    return pairs, missing, extra


def fmt_set(s):
    return "[" + ",".join(sorted(s)) + "]" if s is not None else "None"


# ---------------------------------------------------------------------------------------------
# comparisons

def tshark_undissected_verifiers(tshark, path):
    """Frames whose DCE/RPC auth verifier tshark shows only as bytes (dcerpc.auth_credentials): it leaves
    those of auth level Packet (4) undissected, so it decodes no AP-REQ there for hopscope to agree with."""
    rc, out, _ = run([tshark, "-n", "-r", path, "-Y", "dcerpc.auth_credentials", "-T", "fields",
                      "-e", "frame.number"])
    if rc is None:
        return set()
    return {int(l) for l in out.decode("utf-8", "replace").split() if l.strip().isdigit()}


def compare_clear(t_kdc, t_ap, recs, undissected=frozenset()):
    """Checks 1 and 2.  Return (problems, KDC messages, AP-REQs)."""
    problems = []

    hk = hop_kdc_messages(recs)
    pairs, missing, extra = pair_up(t_kdc, hk, lambda t: (t["frame"], t["type"]), lambda h: (h[0], h[1]))
    for t in missing:
        problems.append("KDC frame %s %s: not in hopscope's kerberos records" % (t["frame"], t["type"]))
    for f, name, r, role in sorted(extra, key=lambda h: (h[0] or 0, h[1])):
        problems.append("KDC frame %s %s: hopscope reports it (frames.%s, kind %s), tshark decodes no such "
                        "message there" % (f, name, role, r.get("kind")))
    for t, (f, name, r, role) in pairs:
        where = "KDC frame %s %s" % (f, name)
        if t.get("broken"):
            problems.append("%s: tshark shows no req-body" % where)
            continue
        if t["type"] in ("AS-REQ", "TGS-REQ"):
            if t["sname"] is not None and r.get("sname") != t["sname"]:
                problems.append("%s: sname tshark %r hopscope %r" % (where, t["sname"], r.get("sname")))
            if t.get("realm") and r.get("realm") != t["realm"]:
                problems.append("%s: requested realm tshark %r hopscope %r" % (where, t["realm"], r.get("realm")))
            nt = t.get("cname_type")
            if nt is not None and r.get("cname_from") == "request" and r.get("cname_type") != NAME_TYPES.get(nt, nt):
                problems.append("%s: cname name-type tshark %r hopscope %r" % (where, nt, r.get("cname_type")))
            hopts = set(r.get("kdc_options") or [])
            if t["kdc_options"] is not None and hopts != t["kdc_options"]:
                problems.append("%s: kdc_options tshark %s hopscope %s" % (where, fmt_set(t["kdc_options"]),
                                                                           fmt_set(hopts)))
            want = t["for_user"] if t["for_user"] is not None else t["x509_user"]
            got = (r.get("impersonated") or {}).get("user")
            if want is not None and got != want:
                problems.append("%s: S4U2Self user (%s) tshark %r hopscope impersonated.user %r" % (
                    where, "PA-FOR-USER" if t["for_user"] is not None else "PA-S4U-X509-USER", want, got))
        elif t["type"] == "KRB-ERROR":
            got = (r.get("error") or {}).get("code")
            if got != t["error_code"]:
                problems.append("%s: error_code tshark %s hopscope %s" % (where, t["error_code"], got))
        else:
            tk = t.get("ticket")
            got = ((r.get("tickets") or {}).get("reply") or {}).get("sname")
            if tk is not None and got != tk["sname"]:
                problems.append("%s: issued ticket sname tshark %r hopscope %r" % (where, tk["sname"], got))

    ha = hop_ap_reqs(recs)
    pairs, missing, extra = pair_up(t_ap, ha, lambda t: t["frame"], lambda h: h[0])
    for t in missing:
        tk = t["ticket"] or {}
        problems.append("AP-REQ frame %s (%s realm %s): not in hopscope's auth records" % (
            t["frame"], tk.get("sname"), tk.get("realm")))
    for f, r in sorted(extra, key=lambda h: h[0]):
        k = r.get("kerberos") or {}
        if r.get("transport") == "dcerpc" and f in undissected:
            continue
        problems.append("AP-REQ frame %s (%s, spn %s): hopscope reports it, tshark decodes no AP-REQ in "
                        "SMB SESSION_SETUP/HTTP/LDAP/DCE-RPC there" % (f, r.get("transport"), k.get("spn")))
    for t, (f, r) in pairs:
        k = r.get("kerberos") or {}
        tk = t["ticket"]
        if tk is None:
            problems.append("AP-REQ frame %s: tshark shows no ticket" % f)
            continue
        want_spn = principal_name_of_joined(tk["sname"], tk["realm"])
        if k.get("spn") != want_spn or k.get("realm") != tk["realm"]:
            problems.append("AP-REQ frame %s: ticket sname/realm tshark %r/%r hopscope spn/realm %r/%r" % (
                f, want_spn, tk["realm"], k.get("spn"), k.get("realm")))
    return problems, len(t_kdc), len(t_ap)


def principal_name_of_joined(joined, realm):
    """hopscope's auth `spn` is the sname without the realm."""
    if joined is None:
        return None
    suffix = "@" + realm
    return joined[:-len(suffix)] if realm and joined.endswith(suffix) else joined


class DecStats:
    def __init__(self):
        self.compared = 0
        self.not_by_tshark = 0


def compare_ticket(where, t, h, problems, st):
    """t: ticket_info() of tshark; h: hopscope's decrypted ticket object (or None)."""
    if t is None or t["dec"] is None:
        st.not_by_tshark += 1
        return
    st.compared += 1
    d = t["dec"]
    if not h or h.get("decrypted") is not True:
        problems.append("%s: tshark decrypted it (client %s), hopscope did not (%s)" % (
            where, d["client"], (h or {}).get("why", "no decrypted object")))
        return
    if h.get("client") != d["client"]:
        problems.append("%s: client tshark %r hopscope %r" % (where, d["client"], h.get("client")))
    hf = set(h.get("flags") or [])
    if hf != d["flags"]:
        problems.append("%s: flags tshark %s hopscope %s" % (where, fmt_set(d["flags"]), fmt_set(hf)))
    tp = d["pac"]
    if tp is None:
        return
    hp = h.get("pac")
    if hp is None:
        problems.append("%s: tshark shows a PAC, hopscope none" % where)
        return
    for key in ("user", "domain", "user_sid", "upn", "dns_domain"):
        if key in tp and (hp.get(key) or "") != (tp[key] or ""):
            problems.append("%s: pac.%s tshark %r hopscope %r" % (where, key, tp[key], hp.get(key)))
    if "group_sids" in tp:
        hs, ts = list(hp.get("group_sids") or []), tp["group_sids"]
        ok = hs == ts if len(ts) <= PAC_MAX_SIDS else (len(hs) == PAC_MAX_SIDS and
                                                       not collections.Counter(hs) - collections.Counter(ts))
        if not ok:
            problems.append("%s: pac.group_sids tshark %s hopscope %s" % (where, ts, hs))


def compare_authenticator(where, t, h, problems, st):
    if t is None:
        st.not_by_tshark += 1
        return
    st.compared += 1
    if not h or h.get("decrypted") is not True:
        problems.append("%s: tshark decrypted it (client %s), hopscope did not (%s)" % (
            where, t["client"], (h or {}).get("why", "no decrypted object")))
        return
    if h.get("client") != t["client"]:
        problems.append("%s: client tshark %r hopscope %r" % (where, t["client"], h.get("client")))
    if t["gss_flags"] is not None:
        hf = set(h.get("gss_flags") or [])
        if hf != t["gss_flags"]:
            problems.append("%s: gss_flags tshark %s hopscope %s" % (where, fmt_set(t["gss_flags"]), fmt_set(hf)))
    hd = h.get("delegated")
    if t["krb_cred"] and hd is None:
        problems.append("%s: tshark shows a KRB-CRED (delegated credentials), hopscope no delegated" % where)
    elif not t["krb_cred"] and hd is not None and t["gss_flags"] is not None:
        problems.append("%s: hopscope reports delegated %r, tshark shows no KRB-CRED" % (where, hd))
    if t["deleg"] is not None and hd is not None:
        if hd.get("decrypted") is not True:
            problems.append("%s: delegated: tshark decrypted the KRB-CRED (%s), hopscope did not" % (
                where, t["deleg"]["principal"]))
        else:
            for key in ("principal", "sname"):
                if hd.get(key) != t["deleg"][key]:
                    problems.append("%s: delegated.%s tshark %r hopscope %r" % (where, key, t["deleg"][key],
                                                                               hd.get(key)))
            hf = set(hd.get("flags") or [])
            if hf != t["deleg"]["flags"]:
                problems.append("%s: delegated.flags tshark %s hopscope %s" % (where, fmt_set(t["deleg"]["flags"]),
                                                                              fmt_set(hf)))


def compare_decrypted(t_kdc, t_ap, recs):
    """Check 3.  Return (problems, DecStats)."""
    problems, st = [], DecStats()
    hk = hop_kdc_messages(recs)
    pairs, missing, extra = pair_up(t_kdc, hk, lambda t: (t["frame"], t["type"]), lambda h: (h[0], h[1]))
    if missing or extra:
        problems.append("with the keytab the KDC messages differ (missing %s, extra %s)" % (
            [(t["frame"], t["type"]) for t in missing], [(h[0], h[1]) for h in extra]))
    for t, (f, name, r, role) in pairs:
        dec = r.get("decrypted") or {}
        where = "KDC frame %s %s" % (f, name)
        if t["type"] == "TGS-REQ" and not t.get("broken"):
            if t["tgt"] is not None:
                compare_ticket(where + " TGT", t["tgt"], dec.get("tgt"), problems, st)
                compare_authenticator(where + " TGS authenticator", t["tgs_auth"], dec.get("tgs_authenticator"),
                                      problems, st)
            hadd = dec.get("additional") or []
            for i, ta in enumerate(t["additional"]):
                compare_ticket("%s additional ticket %d" % (where, i), ta, hadd[i] if i < len(hadd) else None,
                               problems, st)
        elif t["type"] in ("AS-REP", "TGS-REP"):
            compare_ticket(where + " issued ticket", t.get("ticket"), dec.get("reply"), problems, st)

    ha = hop_ap_reqs(recs)
    pairs, missing, extra = pair_up(t_ap, ha, lambda t: t["frame"], lambda h: h[0])
    if missing or extra:
        problems.append("with the keytab the AP-REQs differ (missing %s, extra %s)" % (
            [t["frame"] for t in missing], [h[0] for h in extra]))
    for t, (f, r) in pairs:
        dec = (r.get("kerberos") or {}).get("decrypted") or {}
        where = "AP-REQ frame %s" % f
        compare_ticket(where + " ticket", t["ticket"], dec.get("ticket"), problems, st)
        if t["ticket"] is not None and t["ticket"]["dec"] is not None:
            compare_authenticator(where + " authenticator", t["auth"], dec.get("authenticator"), problems, st)
    return problems, st


def check(args, name, path, root):
    recs, skip, fail = hopscope_records(args.hopscope, path)
    if skip:
        return "SKIP", "SKIP %s: %s" % (name, skip)
    if fail:
        return "FAIL", "FAIL %s: %s" % (name, fail)
    packets, t_err = tshark_packets(args.tshark, path)
    if t_err:
        return "SKIP", "SKIP %s: %s" % (name, t_err)
    t_kdc, t_ap = tshark_kerberos(packets)
    del packets
    undissected = tshark_undissected_verifiers(args.tshark, path)
    problems, n_kdc, n_ap = compare_clear(t_kdc, t_ap, recs, undissected)

    keytab = keytab_for(path, root) if args.keys else None
    dec_note = ""
    if keytab:
        krecs, skip, fail = hopscope_records(args.hopscope, path, keytab)
        kpackets, kerr = tshark_packets(args.tshark, path, keytab)
        if fail or skip:
            problems.append("with -k %s: %s" % (os.path.basename(keytab), fail or skip))
        elif kerr:
            problems.append("tshark with the keytab: %s" % kerr)
        else:
            k_kdc, k_ap = tshark_kerberos(kpackets)
            del kpackets
            dproblems, st = compare_decrypted(k_kdc, k_ap, krecs)
            problems += ["[-k %s] %s" % (os.path.basename(keytab), p) for p in dproblems]
            dec_note = ", %d decrypted parts compared with %s" % (st.compared, os.path.basename(keytab))
            if st.not_by_tshark:
                dec_note += " (%d not decrypted by tshark)" % st.not_by_tshark

    if problems:
        return "FAIL", "FAIL %s: %s" % (name, "; ".join(problems))
    return "PASS", "PASS %s (%d KDC messages, %d AP-REQs%s)" % (name, n_kdc, n_ap, dec_note)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hopscope", required=True, help="path to the hopscope binary")
    ap.add_argument("--captures", action="append", metavar="DIR",
                    help="capture directory, searched recursively (repeatable; default: %s)"
                    % " ".join(DEFAULT_CAPTURE_DIRS))
    ap.add_argument("--tshark", default=None, help="tshark binary (default: from PATH)")
    ap.add_argument("--no-keys", dest="keys", action="store_false", default=True,
                    help="skip the decrypted comparison (check 3)")
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

    counts = collections.Counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = [ex.submit(check, args, name, path, root) for name, path, root in captures]
        for fut in futs:  # in capture order
            verdict, line = fut.result()
            counts[verdict] += 1
            print(line, flush=True)

    print("%d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
