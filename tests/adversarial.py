#!/usr/bin/env python3
"""Adversarial captures: hostile traffic hopscope must get through in linear time and bounded memory,
counting what it discards. Each case crafts a pcap, runs hopscope on it under a time and peak-memory
bound (ru_maxrss of the child) and checks the stats record.

  adversarial.py --hopscope build/hopscope            run every case (ctest: adversarial)
  adversarial.py --hopscope build/hopscope --case ooo --n 200000     one case, figures printed
  adversarial.py --write ooo --n 200000 --out /tmp/ooo.pcap          only write the capture
"""
import argparse
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

# ------------------------------------------------------------------------------------------------
# pcap writing (LINKTYPE_ETHERNET, microsecond timestamps)


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.ts = 1_700_000_000_000_000  # µs

    def frame(self, data, ts=None):
        if ts is None:
            self.ts += 10
            ts = self.ts
        self.f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(data), len(data)))
        self.f.write(data)

    def close(self):
        self.f.close()


ETH = b"\x00\x0c\x29\x00\x00\x02" + b"\x00\x0c\x29\x00\x00\x01" + b"\x08\x00"
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def ip4(a):
    return bytes(a)


def tcp_frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    return ETH + ip + tcp + payload


class Conn:
    """One TCP connection; sequence numbers tracked per direction."""

    def __init__(self, pc, cli, srv, sport, dport, isn=(1000, 5000)):
        self.pc, self.ep = pc, [(cli, sport), (srv, dport)]
        self.seq = [isn[0], isn[1]]

    def pkt(self, d, flags, payload=b"", seq=None, ts=None):
        (s, sp), (t, tp) = self.ep[d], self.ep[1 - d]
        q = self.seq[d] if seq is None else seq
        self.pc.frame(tcp_frame(s, t, sp, tp, q, self.seq[1 - d], flags, payload), ts)

    def handshake(self):
        self.pkt(0, SYN)
        self.seq[0] += 1
        self.pkt(1, SYN | ACK)
        self.seq[1] += 1
        self.pkt(0, ACK)

    def send(self, d, payload, flags=PSH | ACK):
        self.pkt(d, flags, payload)
        self.seq[d] += len(payload)

    def fin(self):
        for d in (0, 1):
            self.pkt(d, FIN | ACK)
            self.seq[d] += 1


CLI, SRV = ip4([10, 0, 0, 1]), ip4([10, 0, 0, 2])


def nbss(msg):
    return struct.pack(">I", len(msg)) + msg


def smb2_hdr(cmd, mid, flags=0, next_cmd=0, credit=1):
    return (b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 0, 0, cmd, credit, flags, next_cmd, mid, 0, 0, 0)
            + b"\x00" * 16)


def smb2_negotiate(mid=0):
    dialects = [0x202, 0x210, 0x300, 0x302, 0x311]
    body = struct.pack("<HHHHI16sIHH", 36, len(dialects), 1, 0, 0x7F, b"\x11" * 16, 0, 0, 0)
    body += b"".join(struct.pack("<H", d) for d in dialects)
    return smb2_hdr(0, mid) + body


# ------------------------------------------------------------------------------------------------
# cases: each writes its capture and returns (time bound s, peak RSS bound MiB, checks on stats)


def case_ooo(pc, n):
    """One connection, n one-byte segments behind a hole never filled (ascending: worst for a list)."""
    c = Conn(pc, CLI, SRV, 40000, 445)
    c.handshake()
    base = c.seq[0] + 1  # byte c.seq[0] is never sent
    for i in range(n):
        c.pkt(0, ACK | PSH, b"\x00", seq=base + i)
    # the per-direction queue cap (data + 64 bytes a segment) gives the hole up after ~16k segments
    return lambda st: st["tcp"]["out_of_order"] >= 16000 and st["tcp"]["gaps"] >= 1


def case_ooo_desc(pc, n):
    """n one-byte segments behind a hole, in descending order (worst for a list walked from the tail)."""
    c = Conn(pc, CLI, SRV, 40001, 445)
    c.handshake()
    base = c.seq[0] + 1
    for i in range(n - 1, -1, -1):
        c.pkt(0, ACK | PSH, b"\x00", seq=base + 2 * i)
    return lambda st: st["tcp"]["out_of_order"] >= 16000 and st["dropped"]["ooo_bytes"] >= 1


def conn_ip(i):
    return ip4([10, 1 + (i >> 16), (i >> 8) & 255, i & 255])


def case_negotiate(pc, n):
    """n connections that only send an SMB2 NEGOTIATE, none closed."""
    neg = nbss(smb2_negotiate())
    for i in range(n):
        c = Conn(pc, conn_ip(i), SRV, 40000 + (i % 20000), 445)
        c.handshake()
        c.send(0, neg)
    return lambda st: st["flows"] == n


def smb2_negotiate_resp(mid=0):
    body = struct.pack("<HHHH16sIIIIQQHHI", 65, 1, 0x311, 0, b"\x22" * 16, 0x2F, 8388608, 8388608, 8388608,
                       0, 0, 128, 0, 0)
    return smb2_hdr(0, mid, flags=1) + body


def case_negotiate_resp(pc, n):
    """n connections: an SMB2 NEGOTIATE and its response, then nothing (none closed)."""
    neg, resp = nbss(smb2_negotiate()), nbss(smb2_negotiate_resp())
    for i in range(n):
        c = Conn(pc, conn_ip(i), SRV, 40000 + (i % 20000), 445)
        c.handshake()
        c.send(0, neg)
        c.send(1, resp)
    return lambda st: st["flows"] == n and st["malformed"]["smb2"] == 0


def ntlm_negotiate():
    return b"NTLMSSP\0" + struct.pack("<II", 1, 0xE2088297) + b"\0" * 16 + bytes([10, 0, 0x63, 0x45, 0, 0, 0, 15])


def ntlm_challenge():
    info = b"\0\0\0\0"  # MsvAvEOL
    return (b"NTLMSSP\0" + struct.pack("<IHHIIQQHHI", 2, 0, 0, 56, 0xE2898215, 0x1122334455667788, 0,
                                        len(info), len(info), 56) + bytes([10, 0, 0x63, 0x45, 0, 0, 0, 15]) + info)


def case_challenge(pc, n):
    """n HTTP connections stuck after the CHALLENGE: NEGOTIATE, 401 with CHALLENGE, then nothing."""
    req = (b"GET /wsman HTTP/1.1\r\nHost: srv\r\nAuthorization: NTLM " + base64.b64encode(ntlm_negotiate()) +
           b"\r\n\r\n")
    resp = (b"HTTP/1.1 401 \r\nWWW-Authenticate: NTLM " + base64.b64encode(ntlm_challenge()) +
            b"\r\nContent-Length: 0\r\n\r\n")
    for i in range(n):
        c = Conn(pc, conn_ip(i), SRV, 40000 + (i % 20000), 5985)
        c.handshake()
        c.send(0, req)
        c.send(1, resp)
    # with the budget of CASES below, connections are evicted least recently seen first, each record
    # written as it stands
    return lambda st: (st["flows"] == n and st["auth_records"] == n
                       and st["dropped"]["flows_evicted_memory"] >= n // 2)


def case_syn(pc, n):
    """A flood of n SYNs from distinct sources."""
    for i in range(n):
        pc.frame(tcp_frame(conn_ip(i), SRV, 1024 + (i % 60000), 445, i * 7919, 0, SYN))
    return lambda st: st["flows"] == n


def case_idle(pc, n):
    """One connection stamped in the future, then n connections that each go idle: all must expire."""
    t0 = pc.ts
    c = Conn(pc, CLI, SRV, 39999, 445)
    c.pkt(0, SYN, ts=t0 + 86_400_000_000)  # a day ahead of the packets that follow
    for i in range(n):
        pc.frame(tcp_frame(conn_ip(i), SRV, 20000 + (i % 40000), 445, i, 0, SYN), t0 + i * 1_000_000)
    # all but those seen in the last 600 s (the idle timeout) before the end, and the future-stamped one
    return lambda st: st["flows_expired"] == n - 600 and st["time"]["steps_back"] == 1


def case_krb_mark(pc, n):
    """Kerberos TCP streams whose first record mark or DER header is absurd."""
    bad = [b"\x80\x00\x00\x00" + b"\x6a\x81\x20" + b"\x00" * 32,
           b"\x00\x00\x00\x10" + b"\x6a\x84\xff\xff\xff\xff" + b"\x00" * 10,
           b"\x00\x00\x00\x10" + b"\x6a\x85\x01\x02\x03\x04\x05" + b"\x00" * 9]
    for i, b in enumerate(bad):
        c = Conn(pc, CLI, SRV, 41000 + i, 88)
        c.handshake()
        c.send(0, b)
        c.fin()
    return lambda st: st["malformed"]["kerberos"] == 3


def case_partial_smb2(pc, n):
    """An NBSS message announced longer than what is sent before the connection closes."""
    c = Conn(pc, CLI, SRV, 41100, 445)
    c.handshake()
    neg = smb2_negotiate()
    c.send(0, struct.pack(">I", len(neg) + 1000) + neg)
    c.fin()
    return lambda st: st["dropped"].get("partial_at_close", 0) >= 1


def case_http_length(pc, n):
    """An HTTP response with Content-Length 2^63-1 followed by more requests."""
    c = Conn(pc, CLI, SRV, 41200, 5985)
    c.handshake()
    c.send(0, b"POST /wsman HTTP/1.1\r\nHost: s\r\nContent-Length: 0\r\n\r\n")
    c.send(1, b"HTTP/1.1 401 \r\nContent-Length: 9223372036854775807\r\n\r\nxx")
    for i in range(n):
        c.send(0, b"POST /wsman HTTP/1.1\r\nHost: s\r\nContent-Length: 0\r\n\r\n")
    c.fin()
    return lambda st: st["malformed"]["http"] >= 1


def case_smb2_loop(pc, n):
    """SMB2 compound chains whose NextCommand points back at itself or is tiny."""
    c = Conn(pc, CLI, SRV, 41300, 445)
    c.handshake()
    c.send(0, nbss(smb2_negotiate()))
    for i in range(n):
        m = smb2_hdr(1, i + 1, next_cmd=0) + b"\x00" * 24
        loop = bytearray(m)
        struct.pack_into("<I", loop, 20, 0)  # NextCommand 0 then a second message pointing at 0 again
        chain = bytes(loop)
        first = bytearray(smb2_hdr(3, i + 1, next_cmd=64) + b"\x00" * 8)
        chain = bytes(first) + bytes(bytearray(smb2_hdr(3, i + 1, next_cmd=0xFFFFFFC0) + b"\x00" * 8))
        c.send(0, nbss(chain))
    c.fin()
    return lambda st: st["malformed"]["smb2"] >= n


def case_smb1_andx_loop(pc, n):
    """SMB1 SESSION_SETUP_ANDX whose AndXOffset points back at its own parameter block."""
    c = Conn(pc, CLI, SRV, 41400, 445)
    c.handshake()
    for i in range(n):
        hdr = b"\xffSMB" + struct.pack("<BIBHH8sHHHHH", 0x73, 0, 0x18, 0xC807, 0, b"\x00" * 8, 0, 0, 1, 1, i)
        words = struct.pack("<BBBH", 12, 0x73, 0, 32)  # WordCount, AndXCommand, reserved, AndXOffset=32
        words += b"\x00" * (24 - 4) + struct.pack("<H", 0)  # the other 10 words, ByteCount 0
        c.send(0, nbss(hdr + words))
    c.fin()
    return lambda st: st["malformed"]["smb1"] >= n


def dcerpc_bind(call_id, frag_len=None, auth_len=0):
    """A bind (C706 12.6.4.3) of one presentation context; frag_length and auth_length as given."""
    body = struct.pack("<HHIB3x", 5840, 5840, 0, 1)
    body += struct.pack("<HBx", 0, 1) + b"\x11" * 16 + struct.pack("<I", 1) + b"\x22" * 16 + struct.pack("<I", 2)
    fl = 16 + len(body) if frag_len is None else frag_len
    return struct.pack("<BBBB4sHHI", 5, 0, 11, 3, b"\x10\x00\x00\x00", fl, auth_len, call_id) + body


def case_dcerpc_lies(pc, n):
    """A good bind, then n binds whose frag_length (shorter than the header) or auth_length (longer than
    the fragment) lie, then one whose frag_length runs past the end of the connection."""
    c = Conn(pc, CLI, SRV, 41500, 135)
    c.handshake()
    c.send(0, dcerpc_bind(1))
    for i in range(n):
        c.send(0, dcerpc_bind(2 + i, frag_len=8) if i % 2 else dcerpc_bind(2 + i, auth_len=0xFFF0))
    c.send(0, dcerpc_bind(n + 2, frag_len=0xFFFF))
    c.fin()
    return lambda st: st["malformed"]["dcerpc"] >= 1


def case_asn1_deep(pc, n):
    """A Kerberos AS-REQ nesting constructed ASN.1 ten thousand deep (indefinite and definite forms)."""
    depth = 10000
    body = b"\x05\x00"
    for _ in range(depth):
        body = b"\x30\x84" + struct.pack(">I", len(body)) + body
    msg = b"\x6a\x84" + struct.pack(">I", len(body)) + body
    c = Conn(pc, CLI, SRV, 41600, 88)
    c.handshake()
    rec = struct.pack(">I", len(msg)) + msg
    for off in range(0, len(rec), 1400):
        c.send(0, rec[off:off + 1400])
    c.fin()
    inner = b"\x30\x80" * depth + b"\x00\x00" * depth
    c = Conn(pc, CLI, SRV, 41601, 88)
    c.handshake()
    msg = b"\x6a\x80" + inner + b"\x00\x00"
    rec = struct.pack(">I", len(msg)) + msg
    for off in range(0, len(rec), 1400):
        c.send(0, rec[off:off + 1400])
    c.fin()
    return lambda st: True


# name: (writer, default n, time bound s, peak RSS bound MiB[, hopscope options]). Before the fixes these took: ooo 50 s at
# 200k; negotiate_resp 784 MiB at 200k connections; syn 384 MiB at 1M; idle expired 0 of 20,000.
CASES = {
    "ooo": (case_ooo, 200000, 3.0, 64),
    "ooo_desc": (case_ooo_desc, 100000, 3.0, 64),
    "negotiate": (case_negotiate, 50000, 10.0, 64),
    "negotiate_resp": (case_negotiate_resp, 50000, 10.0, 64),
    "challenge": (case_challenge, 50000, 10.0, 96, ["--max-memory", "32"]),
    "syn": (case_syn, 200000, 10.0, 96),
    "idle": (case_idle, 20000, 5.0, 64),
    "krb_mark": (case_krb_mark, 1, 2.0, 32),
    "partial_smb2": (case_partial_smb2, 1, 2.0, 32),
    "http_length": (case_http_length, 1000, 2.0, 32),
    "smb2_loop": (case_smb2_loop, 1000, 3.0, 32),
    "smb1_andx_loop": (case_smb1_andx_loop, 1000, 3.0, 32),
    "dcerpc_lies": (case_dcerpc_lies, 1000, 3.0, 32),
    "asn1_deep": (case_asn1_deep, 1, 3.0, 32),
}


def write(case, n, path):
    pc = Pcap(path)
    check = CASES[case][0](pc, n)
    pc.close()
    return check


def run_measured(hs, path, extra=()):
    """As run(), with the child's peak RSS (MiB) from wait4(). The output is read a line at a time and only
    the stats record kept: holding a flood's records here would grow this process, and a child forked from
    a large process starts with a large RSS of its own (ru_maxrss counts it)."""
    t = time.monotonic()
    with tempfile.TemporaryFile() as errf:
        p = subprocess.Popen([hs, *extra, "-r", path], stdout=subprocess.PIPE, stderr=errf)
        stats = None
        for line in p.stdout:
            if line.startswith(b'{"type":"stats"'):
                try:
                    stats = json.loads(line)
                except ValueError:
                    pass
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read()
    dt = time.monotonic() - t
    return dt, ru.ru_maxrss / 1024.0, p.returncode, stats, err.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope")
    ap.add_argument("--case", action="append")
    ap.add_argument("--n", type=int)
    ap.add_argument("--write")
    ap.add_argument("--out")
    ap.add_argument("--no-bounds", action="store_true", help="print figures, do not fail on bounds")
    ap.add_argument("--sanitized", action="store_true",
                    help="hopscope built with ASan/UBSan: time bounds x10, no memory bound (shadow memory)")
    ap.add_argument("extra", nargs="*", help="more hopscope options")
    a = ap.parse_args()
    if a.write:
        write(a.write, a.n or CASES[a.write][1], a.out)
        return 0
    tmp = tempfile.mkdtemp(prefix="hopscope-adv-")
    failed = 0
    for name in a.case or CASES:
        _, n0, tmax, mmax = CASES[name][:4]
        opts = CASES[name][4] if len(CASES[name]) > 4 else []
        n = a.n or n0
        path = os.path.join(tmp, name + ".pcap")
        check = write(name, n, path)
        dt, rss, rc, st, err = run_measured(a.hopscope, path, [*opts, *a.extra])
        ok = rc == 0 and st is not None
        why = "" if ok else "exit %d, stats %s, stderr %s" % (rc, st is not None, err.strip()[:200])
        if a.sanitized:
            tmax, mmax = tmax * 10, float("inf")
        if ok and not a.no_bounds:
            if dt > tmax:
                ok, why = False, "%.2f s > %.1f s" % (dt, tmax)
            elif rss > mmax:
                ok, why = False, "peak RSS %.0f MiB > %s MiB" % (rss, mmax)
        if ok:
            try:
                ok = bool(check(st))
            except (KeyError, TypeError) as e:
                ok = False
                why = "stats field missing: %s" % e
            if not ok and not why:
                why = "stats: %s" % json.dumps(st)[:600]
        print("%s %s n=%d: %.2f s, peak RSS %.1f MiB%s" % ("PASS" if ok else "FAIL", name, n, dt, rss,
                                                           "" if ok else " -- " + why))
        failed += not ok
        os.unlink(path)
    os.rmdir(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
