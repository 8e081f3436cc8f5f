#!/usr/bin/env python3
"""Writes kerberos_realm_and_enterprise.pcap: two AS exchanges over UDP 88 that pin how kerberos records name
things (issue: keep the requested realm; say when a cname is an enterprise name).

1-2  an AS-REQ with no cname and no sname for realm "kerberos_realm_time.nasl" (what Nessus'
     kerberos_realm_time.nasl sends), answered by a KRB-ERROR KRB_ERR_GENERIC whose realm is HEC.NET and sname
     krbtgt/HEC.NET: `realm` must stay the requested one, the error's own go under `error`.
3-4  an AS-REQ whose cname is NT-ENTERPRISE (name-type 10, RFC 6806) "enterprise_principal@AD.VLADG.NET" in
     realm VLADG.NET, answered by KDC_ERR_C_PRINCIPAL_UNKNOWN: `cname_type` says NT-ENTERPRISE.

Standard library only; DER by hand (RFC 4120 5.2, 5.4.1, 5.9.1).
"""
import os
import struct


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82, n >> 8, n & 0xff])
    return bytes([tag]) + ln + body


def integer(v):
    b = v.to_bytes((v.bit_length() + 8) // 8 or 1, "big", signed=True)
    return tlv(0x02, b)


def ctx(n, body):
    return tlv(0xa0 + n, body)


def seq(*parts):
    return tlv(0x30, b"".join(parts))


def gstr(s):
    return tlv(0x1b, s.encode())


def gtime(s):
    return tlv(0x18, s.encode())


def principal(name_type, *names):
    return seq(ctx(0, integer(name_type)), ctx(1, seq(*[gstr(x) for x in names])))


def as_req(realm, cname=None, sname=None):
    body = [ctx(0, tlv(0x03, b"\x00\x40\x81\x00\x10"))]
    if cname:
        body.append(ctx(1, cname))
    body.append(ctx(2, gstr(realm)))
    if sname:
        body.append(ctx(3, sname))
    body += [ctx(5, gtime("20370913024805Z")), ctx(7, integer(1234567)), ctx(8, seq(integer(23), integer(18)))]
    req = seq(ctx(1, integer(5)), ctx(2, integer(10)), ctx(4, seq(*body)))
    return tlv(0x6a, req)


def krb_error(code, realm, sname):
    err = seq(ctx(0, integer(5)), ctx(1, integer(30)), ctx(4, gtime("20261201120000Z")), ctx(5, integer(0)),
              ctx(6, integer(code)), ctx(9, gstr(realm)), ctx(10, sname))
    return tlv(0x7e, err)


def udp_frame(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, bytes(src), bytes(dst))
    s = sum(struct.unpack("!10H", ip))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + udp


def main():
    cli, kdc = [192, 0, 2, 10], [192, 0, 2, 88]
    frames = [
        udp_frame(cli, kdc, 50001, 88, as_req("kerberos_realm_time.nasl")),
        udp_frame(kdc, cli, 88, 50001, krb_error(60, "HEC.NET", principal(2, "krbtgt", "HEC.NET"))),
        udp_frame(cli, kdc, 50002, 88, as_req("VLADG.NET", principal(10, "enterprise_principal@AD.VLADG.NET"),
                                              principal(2, "krbtgt", "VLADG.NET"))),
        udp_frame(kdc, cli, 88, 50002, krb_error(6, "VLADG.NET", principal(2, "krbtgt", "VLADG.NET"))),
    ]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kerberos_realm_and_enterprise.pcap")
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1796126400 + i, 0, len(fr), len(fr)) + fr)


if __name__ == "__main__":
    main()
