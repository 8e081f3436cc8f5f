#!/usr/bin/env python3
"""Span-port encapsulations end to end: a real lab trace re-wrapped the ways mirror ports and taps deliver
traffic (802.1Q/QinQ, GRE, ERSPAN I/II/III, VXLAN, IP-in-IP, Linux SLL2, and with every large IPv4 packet
fragmented) must give exactly the authentication records of the plain trace.

  test_encap.py --hopscope build/hopscope --captures captures
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4 and linktype == 1, "expects a little-endian microsecond Ethernet pcap"
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        pkts.append((sec, usec, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return pkts


def write_pcap(path, linktype, pkts):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for sec, usec, frame in pkts:
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, payload, src="192.0.2.1", dst="192.0.2.2", ident=0, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


ETH_OUTER = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"


def eth(etype, payload):
    return ETH_OUTER + struct.pack("!H", etype) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def variants(pkts):
    """name -> (linktype, packets)"""
    out = {}
    out["qinq"] = (1, [(s, u, f[:12] + b"\x88\xa8\x00\x64\x81\x00\x00\x0a" + f[12:]) for s, u, f in pkts])
    out["gre_ip"] = (1, [(s, u, eth(0x0800, ipv4(47, struct.pack("!HH", 0, 0x0800) + f[14:]))) for s, u, f in pkts
                         if f[12:14] == b"\x08\x00"])
    out["gre_teb"] = (1, [(s, u, eth(0x0800, ipv4(47, struct.pack("!HH", 0, 0x6558) + f))) for s, u, f in pkts])
    # ERSPAN type I: GRE 0x88BE without a sequence number, Ethernet right after
    out["erspan1"] = (1, [(s, u, eth(0x0800, ipv4(47, struct.pack("!HH", 0, 0x88BE) + f))) for s, u, f in pkts])
    # ERSPAN type II: GRE with S bit + sequence, 8-byte header (ver 1, session 7)
    out["erspan2"] = (1, [(s, u, eth(0x0800, ipv4(47, struct.pack("!HHI", 0x1000, 0x88BE, i)
                                                   + struct.pack("!II", (1 << 28) | 7, 0) + f)))
                          for i, (s, u, f) in enumerate(pkts)])
    # ERSPAN type III: GRE 0x22EB, 12-byte header, O bit set and an 8-byte platform subheader
    out["erspan3"] = (1, [(s, u, eth(0x0800, ipv4(47, struct.pack("!HHI", 0x1000, 0x22EB, i)
                                                   + struct.pack("!III", (2 << 28) | 7, 0, 1) + b"\0" * 8 + f)))
                          for i, (s, u, f) in enumerate(pkts)])
    out["vxlan"] = (1, [(s, u, eth(0x0800, ipv4(17, udp(49152, 4789, struct.pack("!II", 0x08000000, 42 << 8) + f))))
                        for s, u, f in pkts])
    out["ipip"] = (1, [(s, u, eth(0x0800, ipv4(4, f[14:]))) for s, u, f in pkts if f[12:14] == b"\x08\x00"])
    # Linux cooked v2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address
    out["sll2"] = (276, [(s, u, struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, f[6:12] + b"\0\0") + f[14:])
                         for s, u, f in pkts if f[12:14] == b"\x08\x00"])
    # Every IPv4 packet over 200 bytes split into 3 fragments (8-byte aligned), sent last-first
    frag = []
    for i, (s, u, f) in enumerate(pkts):
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        body = ip[ihl:tot]
        if f[12:14] != b"\x08\x00" or len(body) <= 200:
            frag.append((s, u, f))
            continue
        cut1, cut2 = (len(body) // 3) & ~7, (2 * len(body) // 3) & ~7
        pieces = [(0, body[:cut1], True), (cut1, body[cut1:cut2], True), (cut2, body[cut2:], False)]
        for off, chunk, mf in reversed(pieces):
            h = bytearray(ip[:ihl])
            struct.pack_into("!HHH", h, 2, ihl + len(chunk), 0x4000 + i, (0x2000 if mf else 0) | (off // 8))
            h[10:12] = b"\0\0"
            h[10:12] = struct.pack("!H", csum(bytes(h)))
            frag.append((s, u, f[:14] + bytes(h) + chunk))
    out["ipv4_fragments"] = (1, frag)
    return out


def auth_records(hs, path):
    p = subprocess.run([hs, "-r", path], capture_output=True, text=True)
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    return p.returncode, [r for r in recs if r["type"] == "auth"], recs[-1] if recs else {}


def comparable(rec):
    """Frame numbers shift with the packets a variant adds or drops; everything else must be equal."""
    r = dict(rec)
    r.pop("frames")
    for k in ("smb2", "http"):
        if k in r:
            r[k] = json.loads(json.dumps(r[k]))
            for use in r[k].get("tree_connects", []) + r[k].get("requests", []):
                use.pop("frames", None)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    ap.add_argument("--captures", required=True)
    a = ap.parse_args()
    passed = failed = 0
    tmp = tempfile.mkdtemp(prefix="hopscope-encap-")
    for trace in ("smb2_ntlmv2_ok", "winrm_http_ntlm"):
        src = os.path.join(a.captures, "lab", trace + ".pcap")
        rc, want, _ = auth_records(a.hopscope, src)
        assert rc == 0 and want, "the plain trace must give records"
        for name, (lt, pkts) in variants(read_pcap(src)).items():
            path = os.path.join(tmp, "%s_%s.pcap" % (trace, name))
            write_pcap(path, lt, pkts)
            rc, got, stats = auth_records(a.hopscope, path)
            ok = rc == 0 and [comparable(r) for r in got] == [comparable(r) for r in want]
            # the decapsulation itself is counted
            counters = {"qinq": ("decode", "vlan_tags"), "gre_ip": ("decode", "gre"), "gre_teb": ("decode", "gre"),
                        "erspan1": ("decode", "erspan"), "erspan2": ("decode", "erspan"),
                        "erspan3": ("decode", "erspan"), "vxlan": ("decode", "vxlan"), "ipip": ("decode", "ip_in_ip"),
                        "ipv4_fragments": ("decode", "ipv4_reassembled")}
            if name in counters:
                g, k = counters[name]
                ok = ok and stats.get(g, {}).get(k, 0) > 0
            # Where tshark is installed, it must number the AUTHENTICATE as hopscope does.
            tshark = shutil.which("tshark")
            if ok and tshark:
                t = subprocess.run([tshark, "-r", path, "-Y", "ntlmssp.messagetype == 3", "-T", "fields", "-e",
                                    "frame.number"], capture_output=True, text=True)
                tframes = [int(x) for x in t.stdout.split()]
                ok = tframes == [r["frames"]["authenticate"] for r in got]
            if ok:
                passed += 1
                print("PASS %s %s (%d records)" % (trace, name, len(got)))
            else:
                failed += 1
                print("FAIL %s %s: rc=%d, %d records vs %d; stats %s" % (trace, name, rc, len(got), len(want),
                                                                         json.dumps(stats.get("decode"))))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
