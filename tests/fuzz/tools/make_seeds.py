#!/usr/bin/env python3
"""Builds the seed corpus of the hopscope fuzz targets from real captures (needs tshark).

    tests/fuzz/tools/make_seeds.py [--captures DIR] [--out DIR] [--only TARGET ...] [--hopscope PATH]

DIR defaults: /work/shared/captures (lab/ and public/ inside) and tests/fuzz/corpus. Seeds are
written as seed-<source>-<n>; files named regress-* (minimised fuzzer finds) are never touched.
Keeps only distinct inputs and a few per kind, so the committed corpus stays small. The `records` target's
seeds are hopscope's own output (JSON Lines) on lab traces, so they need --hopscope (a built binary).
"""
import argparse
import glob
import base64
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def tshark_fields(pcap, dfilter, fields, extra=()):
    cmd = ['tshark', '-r', pcap, '-Y', dfilter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|']
    cmd += list(extra)
    for f in fields:
        cmd += ['-e', f]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        rows.append(line.split('\t'))
    return rows


def read_pcap(path):
    """Frames of a capture as (linktype, bytes); pcapng is converted with editcap first."""
    with tempfile.NamedTemporaryFile(suffix='.pcap') as tmp:
        subprocess.run(['editcap', '-F', 'pcap', path, tmp.name], check=True, capture_output=True)
        data = open(tmp.name, 'rb').read()
    magic = data[:4]
    endian = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    linktype = struct.unpack(endian + 'I', data[20:24])[0]
    off, frames = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + 'IIII', data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return linktype, frames


class Corpus:
    def __init__(self, out, target, limit, per_tag=8):
        self.dir = os.path.join(out, target)
        self.limit = limit
        self.per_tag = per_tag
        self.tags = {}
        self.seen = set()
        self.n = 0
        os.makedirs(self.dir, exist_ok=True)
        for name in os.listdir(self.dir):
            if name.startswith('seed-'):
                os.unlink(os.path.join(self.dir, name))

    def add(self, tag, blob):
        h = hashlib.sha1(blob).hexdigest()
        if not blob or h in self.seen or self.n >= self.limit or self.tags.get(tag, 0) >= self.per_tag:
            return False
        self.seen.add(h)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.n += 1
        with open(os.path.join(self.dir, 'seed-%s-%02d' % (tag, self.n)), 'wb') as f:
            f.write(blob)
        return True


def der_octet_string_at(blob, i):
    """The OCTET STRING whose value starts at blob[i], if the bytes before are its header."""
    for hl in (2, 3, 4):
        if i < hl or blob[i - hl] != 0x04:
            continue
        if hl == 2 and blob[i - 1] < 0x80:
            n = blob[i - 1]
        elif hl == 3 and blob[i - 2] == 0x81:
            n = blob[i - 1]
        elif hl == 4 and blob[i - 3] == 0x82:
            n = blob[i - 2] << 8 | blob[i - 1]
        else:
            continue
        if i + n <= len(blob):
            return blob[i:i + n]
    return None


def ntlmssp_in(blob):
    if blob.startswith(b'NTLMSSP\0'):
        return blob
    i = blob.find(b'NTLMSSP\0')
    if i < 0:
        return None
    return der_octet_string_at(blob, i)


def gss_blobs(pcap):
    """Security blobs: SMB1/SMB2 SESSION_SETUP, HTTP auth headers, DCE/RPC auth verifiers."""
    blobs = []
    for row in tshark_fields(pcap, 'smb2.security_blob or smb.security_blob or dcerpc.auth_credentials',
                             ['smb2.security_blob', 'smb.security_blob', 'dcerpc.auth_credentials']):
        for col in row:
            for h in col.split('|'):
                try:
                    if h:
                        blobs.append(bytes.fromhex(h.replace(':', '')))
                except ValueError:
                    pass  # a field tshark prints as text (e.g. a malformed-packet note)
    for row in tshark_fields(pcap, 'http.authorization or http.www_authenticate',
                             ['http.authorization', 'http.www_authenticate']):
        for col in row:
            for v in col.replace('|', ',').split(','):
                parts = v.strip().split(' ', 1)
                if len(parts) == 2 and parts[0].lower() in ('ntlm', 'negotiate', 'kerberos'):
                    try:
                        blobs.append(base64.b64decode(parts[1].strip()))
                    except Exception:
                        pass
    # DCE/RPC over TCP: the auth verifier is the last auth_length bytes of the fragment.
    for row in tshark_fields(pcap, 'dcerpc.auth_type and tcp.len > 16', ['tcp.payload']):
        if not row or not row[0]:
            continue
        p = bytes.fromhex(row[0].split('|')[0])
        if len(p) >= 16 and p[0] == 5:
            frag_len, auth_len = struct.unpack('<HH', p[8:12])
            if auth_len and auth_len <= frag_len <= len(p):
                blobs.append(p[frag_len - auth_len:frag_len])
    return blobs


def kerberos_messages(pcap):
    msgs = []
    for row in tshark_fields(pcap, 'kerberos and tcp.len > 4 and tcp.port == 88', ['tcp.payload']):
        if row and row[0]:
            p = bytes.fromhex(row[0].split('|')[0])
            msgs.append(p[4:])
    for row in tshark_fields(pcap, 'kerberos and udp.port == 88', ['udp.payload']):
        if row and row[0]:
            msgs.append(bytes.fromhex(row[0].split('|')[0]))
    return msgs


def stream_segments(pcap, server_port):
    """Per TCP stream to server_port: [(dir, payload)] in sequence order, retransmissions dropped."""
    rows = tshark_fields(pcap, 'tcp.port == %d' % server_port,
                         ['tcp.stream', 'tcp.srcport', 'tcp.seq', 'tcp.len', 'tcp.payload'],
                         extra=['-o', 'tcp.desegment_tcp_streams:FALSE'])
    streams = {}
    for row in rows:
        if len(row) < 5:
            continue
        sid, sport, seq, ln = int(row[0]), int(row[1]), int(row[2]), int(row[3])
        d = 1 if sport == server_port else 0
        st = streams.setdefault(sid, {'next': [None, None], 'segs': []})
        if ln == 0 or not row[4]:
            continue
        payload = bytes.fromhex(row[4])
        nxt = st['next'][d]
        if nxt is not None:
            if seq + ln <= nxt:
                continue
            if seq < nxt:
                payload = payload[nxt - seq:]
                seq = nxt
        st['next'][d] = seq + len(payload)
        st['segs'].append((d, payload))
    return [s['segs'] for _, s in sorted(streams.items()) if s['segs']]


def encode_stream(segs, cfg=0, maxlen=60000):
    """fuzz_stream.h format: config byte, then (u16 dir|len, payload) per segment."""
    out = bytearray([cfg])
    for d, p in segs:
        for i in range(0, len(p), 16383):
            chunk = p[i:i + 16383]
            if len(out) + 2 + len(chunk) > maxlen:
                return bytes(out)
            out += struct.pack('>H', (d << 15) | len(chunk)) + chunk
    return bytes(out)


# --- synthetic frames for fuzz_decode -------------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ipv4(proto, payload, src=b'\x0a\x00\x00\x01', dst=b'\x0a\x00\x00\x02', ident=1, frag=0x4000):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def ipv6(nh, payload, src=b'\xfd' + b'\0' * 14 + b'\x01', dst=b'\xfd' + b'\0' * 14 + b'\x02'):
    return struct.pack('!IHBB16s16s', 0x60000000, len(payload), nh, 64, src, dst) + payload


def tcp(sport=49152, dport=445, flags=0x18, payload=b'\0\0\0\x04\xfeSMB'):
    return struct.pack('!HHIIBBHHH', sport, dport, 1000, 2000, 0x50, flags, 65535, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload


def eth(ethertype, payload):
    return b'\x02\0\0\0\0\x02' + b'\x02\0\0\0\0\x01' + struct.pack('!H', ethertype) + payload


DLT_INDEX = {'en10mb': 0, 'sll': 1, 'sll2': 2, 'raw': 3, 'ipv4': 4, 'ipv6': 5, 'null': 6, 'loop': 7}


def decode_seeds(c, frames):
    def put(tag, link, frame, clock=0):
        c.add(tag, bytes([DLT_INDEX[link] | (clock << 3)]) + frame)

    # Real Ethernet frames re-framed for every link type.
    for i, f in enumerate(frames):
        if len(f) < 14 or f[12:14] not in (b'\x08\x00', b'\x86\xdd'):
            continue
        et, ip = f[12:14], f[14:]
        v6 = et == b'\x86\xdd'
        put('real-en10mb', 'en10mb', f)
        if i % 3 == 0:
            put('real-sll', 'sll', b'\0\0\0\x01\0\x06' + f[6:12] + b'\0\0' + et + ip)
            put('real-sll2', 'sll2', et + b'\0\0' + b'\0\0\0\x02' + b'\0\x01' + b'\0\x06' + f[6:12] + b'\0\0' + ip)
            put('real-raw', 'raw', ip)
            put('real-ipvx', 'ipv6' if v6 else 'ipv4', ip)
            put('real-null', 'null', struct.pack('<I', 30 if v6 else 2) + ip)
            put('real-loop', 'loop', struct.pack('>I', 30 if v6 else 2) + ip)
    t = tcp()
    inner = ipv4(6, t)
    put('vlan', 'en10mb', eth(0x8100, b'\0\x0a\x08\x00' + inner))
    put('qinq', 'en10mb', eth(0x88a8, b'\0\x0a\x81\x00\0\x0b\x08\x00' + inner))
    put('gre', 'en10mb', eth(0x0800, ipv4(47, struct.pack('!HH', 0x3000, 0x0800) + b'\0\0\0\x07' + b'\0\0\0\x01' + inner)))
    put('gre-teb', 'en10mb', eth(0x0800, ipv4(47, struct.pack('!HH', 0, 0x6558) + eth(0x0800, inner))))
    put('erspan2', 'en10mb', eth(0x0800, ipv4(47, struct.pack('!HH', 0x1000, 0x88be) + b'\0\0\0\x01' +
                                             b'\x10\x01\0\x01\0\0\0\0' + eth(0x0800, inner))))
    put('erspan1', 'en10mb', eth(0x0800, ipv4(47, struct.pack('!HH', 0, 0x88be) + eth(0x0800, inner))))
    put('erspan3', 'en10mb', eth(0x0800, ipv4(47, struct.pack('!HH', 0x1000, 0x22eb) + b'\0\0\0\x01' +
                                             b'\x20\x01\0\x01' + b'\0' * 7 + b'\x01' + b'\0' * 8 + eth(0x0800, inner))))
    put('vxlan', 'en10mb', eth(0x0800, ipv4(17, udp(40000, 4789, b'\x08\0\0\0\0\0\x01\0' + eth(0x0800, inner)))))
    put('ipip', 'raw', ipv4(4, inner))
    put('6in4', 'raw', ipv4(41, ipv6(6, t)))
    put('4in6', 'raw', ipv6(4, inner))
    exts = bytes([43, 0]) + b'\0' * 6 + bytes([60, 0]) + b'\0' * 6 + bytes([51, 1]) + b'\0' * 10 + bytes([6, 0]) + b'\0' * 6
    put('ipv6-ext', 'raw', ipv6(0, exts + t))
    put('ipv6-frag', 'raw', ipv6(44, bytes([6, 0, 0, 1, 0, 0, 0, 1]) + t))
    put('vlan-ipv6', 'en10mb', eth(0x8100, b'\0\x0a\x86\xdd' + ipv6(6, t)))
    tso = bytearray(ipv4(6, t))
    tso[2:4] = b'\0\0'  # total length left 0 by TCP segmentation offload on the capturing host
    put('ipv4-tso', 'en10mb', eth(0x0800, bytes(tso)))
    put('udp', 'raw', ipv4(17, udp(53, 53, b'\x12\x34' + b'\0' * 10)))
    put('icmp', 'raw', ipv4(1, b'\x08\0\0\0\0\x01\0\x01'))
    put('arp', 'en10mb', eth(0x0806, b'\0\x01\x08\0\x06\x04\0\x01' + b'\0' * 20))
    put('llc', 'en10mb', b'\x01\x80\xc2\0\0\0' + b'\x02\0\0\0\0\x01' + b'\0\x26' + b'\x42\x42\x03' + b'\0' * 35)
    # An IPv4 datagram in three fragments, last first; the replay runs them in name order and
    # the decoder keeps state between inputs, so the third completes it.
    body = tcp(payload=b'\0\0\0\x40\xfeSMB' + b'\0' * 60)
    f1 = ipv4(6, body[:24], ident=77, frag=0x2000)
    f2 = ipv4(6, body[24:48], ident=77, frag=0x2000 | 3)
    f3 = ipv4(6, body[48:], ident=77, frag=6)
    c.add('frag-a', bytes([DLT_INDEX['raw']]) + f3)
    c.add('frag-b', bytes([DLT_INDEX['raw']]) + f1)
    c.add('frag-c', bytes([DLT_INDEX['raw']]) + f2)


# --- LDAP sessions (RFC 4511) the licensed captures lack ------------------------------------------------

def ber(tag, body, ad=False):
    """A BER TLV; ad: Active Directory's length form (0x84 and four octets) whatever the length."""
    n = len(body)
    if ad:
        return bytes([tag, 0x84]) + struct.pack('>I', n) + body
    if n < 0x80:
        return bytes([tag, n]) + body
    k = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | k]) + n.to_bytes(k, 'big') + body


def ldap_msg(mid, op, body, ad=False):
    return ber(0x30, ber(0x02, mid.to_bytes(4 if mid > 0x7fffff else 1, 'big')) + ber(op, body, ad), ad)


def ldap_bind(mid, name, auth_tag, auth_body, ad=False):
    return ldap_msg(mid, 0x60, ber(0x02, b'\x03') + ber(0x04, name) + ber(auth_tag, auth_body), ad)


def ldap_bind_resp(mid, code, matched=b'', diag=b'', creds=None, ad=False):
    body = ber(0x0a, bytes([code])) + ber(0x04, matched) + ber(0x04, diag)
    if creds is not None:
        body += ber(0x87, creds)
    return ldap_msg(mid, 0x61, body, ad)


def ldap_synthetic_sessions():
    """[(tag, [(dir, payload)])]: sessions made here, for shapes the committed captures lack."""
    ntlm_neg = b'NTLMSSP\0' + struct.pack('<II', 1, 0xe2088297) + b'\0' * 16
    ntlm_chal = (b'NTLMSSP\0' + struct.pack('<I', 2) + struct.pack('<HHI', 0, 0, 56) + struct.pack('<I', 0xe2898215) +
                 bytes(range(1, 9)) + b'\0' * 8 + struct.pack('<HHI', 4, 4, 56) + b'\x0a\x00\x63\x45\x00\x00\x00\x0f' +
                 b'\0\0\0\0')
    diag = b'80090308: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 52e, v4563\0'
    starttls = b'1.3.6.1.4.1.1466.20037'
    sealed = struct.pack('>I', 48) + b'\x05\x04\x06\xff' + b'\0' * 12 + b'\x30' * 32
    return [
        ('ldap-ad-simple-52e', [
            (0, ldap_bind(1, b'CN=Alice,CN=Users,DC=hoplab,DC=test', 0x80, b'not-the-password', ad=True)),
            (1, ldap_bind_resp(1, 49, diag=diag, ad=True)),
            (0, ldap_bind(2, b'', 0x80, b'', ad=True)),
            (1, ldap_bind_resp(2, 0, ad=True))]),
        ('ldap-sicily-challenge', [
            (0, ldap_bind(1, b'', 0x89, b'')),
            (1, ldap_bind_resp(1, 0, matched=b'NTLM')),
            (0, ldap_bind(2, b'NTLM', 0x8a, ntlm_neg)),
            (1, ldap_bind_resp(2, 0, matched=ntlm_chal, ad=True)),
            (0, ldap_bind(3, b'', 0x8b, b'NTLMSSP\0\x03\0\0\0' + b'\0' * 56)),
            (1, ldap_bind_resp(3, 49, diag=diag)),
            (0, sealed)]),
        ('ldap-starttls', [
            (0, ldap_msg(1, 0x77, ber(0x80, starttls))),
            (1, ldap_msg(1, 0x78, ber(0x0a, b'\0') + ber(0x04, b'') + ber(0x04, b'') + ber(0x8a, starttls))),
            (0, b'\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00'),
            (1, ldap_bind_resp(1, 0))]),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--captures', default='/work/shared/captures')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(HERE), 'corpus'))
    ap.add_argument('--only', action='append', metavar='TARGET',
                    help='regenerate only these targets\' seeds (repeatable; default: all)')
    ap.add_argument('--hopscope', help='a built hopscope, for the records target\'s seeds (its own output)')
    a = ap.parse_args()
    lab = os.path.join(a.captures, 'lab')
    pub = os.path.join(a.captures, 'public')
    if a.only:
        if set(a.only) - {'stream_ldap', 'records', 'registry'}:
            print('--only: only stream_ldap, records and registry can be regenerated alone; run without --only for the others')
            return 2
        for t in a.only:
            if t == 'records' and not a.hopscope:
                print('--only records needs --hopscope')
                return 2
            c = ldap_seeds(a.out, lab, pub) if t == 'stream_ldap' else registry_seeds(a.out, lab, pub) \
                if t == 'registry' else records_seeds(a.out, lab, a.hopscope)
            print('%-12s %3d seeds' % (os.path.basename(c.dir), c.n))
        return 0

    gss_sources = [os.path.join(lab, f) for f in (
        'smb2_ntlmv2_ok.pcap', 'smb2_ntlm_badpass.pcap', 'smb2_kerberos_ok.pcap', 'winrm_http_ntlm.pcap',
        'winrm_http_ntlm_spnego.pcap', 'winrm_http_kerberos.pcap', 'smb1_lm_ntlmv1.pcap',
        'smb1_ntlmssp_lmkey.pcap', 'smb1_ntlmssp_v1_signed_nolmkey.pcap', 'dcerpc_tcp_ntlm_sign.pcap',
        'dcerpc_tcp_ntlm_seal.pcap', 'dcerpc_tcp_krb.pcap',
        'double_hop_ntlm.pcap')] + [
        os.path.join(pub, 'arkime', 'smbtorture-ntlmssp.pcap'),
        os.path.join(pub, 'ntlmrawunhide', 'capture.pcapng'),
        os.path.join(pub, 'ndpi', 'webdav.pcap')]

    ntlm = Corpus(a.out, 'ntlmssp', 40)
    spnego = Corpus(a.out, 'spnego', 40)
    der = Corpus(a.out, 'der', 40, per_tag=4)
    for path in [os.path.join(lab, 'smb2_kerberos_ok.pcap'), os.path.join(pub, 'ndpi', 'kerberos-error.pcap'),
                 os.path.join(pub, 'suricata-verify', 'kerberoast.pcap')]:
        if os.path.exists(path):
            for m in kerberos_messages(path)[:8]:
                der.add('krb-' + os.path.basename(path).split('.')[0][:16], m)

    for path in gss_sources:
        if not os.path.exists(path):
            continue
        tag = os.path.splitext(os.path.basename(path))[0].replace('_', '-')[:24]
        for b in gss_blobs(path):
            if not b.startswith(b'NTLMSSP\0'):
                spnego.add(tag, b)
                if len(b) < 4096:
                    der.add(tag, b)
            elif len(b) < 4096:
                spnego.add(tag, b)
            n = ntlmssp_in(b)
            if n:
                ntlm.add(tag, n)
    dec = Corpus(a.out, 'decode', 60, per_tag=12)
    _, frames = read_pcap(os.path.join(lab, 'smb2_ntlmv2_ok.pcap'))
    decode_seeds(dec, frames[:12])

    smb = Corpus(a.out, 'stream_smb', 20)
    for name, cfgs in (('smb2_ntlmv2_ok.pcap', (0, 2, 4, 1, 8)), ('smb2_ntlm_badpass.pcap', (0,)),
                       ('smb2_kerberos_ok.pcap', (0,)), ('dcerpc_np_smb2_ntlm.pcap', (0,)),
                       ('smb1_ntlmssp_lmkey.pcap', (0,))):
        for segs in stream_segments(os.path.join(lab, name), 445)[:1]:
            for cfg in cfgs:
                smb.add(name.split('.')[0].replace('_', '-') + '-c%x' % cfg, encode_stream(segs, cfg, 16000))
    # A KDC exchange (TCP 88) replayed on the SMB port: the engine chooses the dissector by
    # content (kdc_probe_tcp), so the Kerberos dissectors are reached too.
    for segs in stream_segments(os.path.join(lab, 'smb2_kerberos_ok.pcap'), 88)[:2]:
        smb.add('kdc-smb2-kerberos-ok-c0', encode_stream(segs, 0, 16000))
    # SMB1 (dissectors/smb/smb1.c): a logon without extended security (LM + NTLMv1 responses), signed
    # traffic after an NTLMSSP logon, an AndX chain (LOCKING+WRITE+CLOSE), bare NTLMSSP with DCE/RPC on
    # IPC$ pipes (NT_CREATE, TransactNmPipe, READ/WRITE_ANDX), and NTLMv1-ESS from smbtorture.
    for path, cfgs in ((os.path.join(lab, 'smb1_lm_ntlmv1.pcap'), (0, 1)),
                       (os.path.join(lab, 'smb1_ntlmssp_v1_signed_nolmkey.pcap'), (0,)),
                       (os.path.join(pub, 'suricata-verify', 'smb-eicar-andx_smbandx.pcap'), (0,)),
                       (os.path.join(pub, 'zeek', 'raw_ntlm_in_smb.pcap'), (0,)),
                       (os.path.join(pub, 'arkime', 'smbtorture-ntlmssp.pcap'), (0,))):
        if not os.path.exists(path):
            continue
        name = os.path.basename(path).split('.')[0].replace('_', '-')
        for segs in stream_segments(path, 445)[:1]:
            for cfg in cfgs:
                smb.add('smb1-' + name.replace('smb1-', '') + '-c%x' % cfg, encode_stream(segs, cfg, 16000))
    http = Corpus(a.out, 'stream_http', 12)
    for name, cfgs in (('winrm_http_ntlm.pcap', (0, 2, 4, 1, 8)), ('winrm_http_ntlm_spnego.pcap', (0,)),
                       ('winrm_http_kerberos.pcap', (0,)), ('winrm_http_kerberos_pywinrm.pcap', (0,))):
        for segs in stream_segments(os.path.join(lab, name), 5985)[:1]:
            for cfg in cfgs:
                http.add(name.split('.')[0].replace('_', '-') + '-c%x' % cfg, encode_stream(segs, cfg, 16000))
    ldap = ldap_seeds(a.out, lab, pub)
    done = [ntlm, spnego, der, dec, smb, http, ldap, registry_seeds(a.out, lab, pub)]
    if a.hopscope:
        done.append(records_seeds(a.out, lab, a.hopscope))
    else:
        print('records: no --hopscope given, its seeds are left as they are')
    for c in done:
        print('%-12s %3d seeds' % (os.path.basename(c.dir), c.n))


def registry_seeds(out, lab, pub):
    """registry: the first bytes (up to 256) of each direction of a connection or datagram the probes meet, after
    byte 0 (the transport: 0 TCP, 1 UDP) and a big-endian port: SMB2 and SMB1 over NBSS, HTTP, Kerberos over TCP
    and UDP, LDAP, DCE/RPC, TLS."""
    c = Corpus(out, 'registry', 40, per_tag=4)
    tcp = ((os.path.join(lab, 'smb2_ntlmv2_ok.pcap'), 445), (os.path.join(lab, 'smb1_lm_ntlmv1.pcap'), 445),
           (os.path.join(lab, 'winrm_http_ntlm.pcap'), 5985), (os.path.join(lab, 'smb2_kerberos_ok.pcap'), 88),
           (os.path.join(lab, 'dcerpc_tcp_ntlm_sign.pcap'), 135), (os.path.join(lab, 'dcom_activation.pcap'), 135),
           (os.path.join(pub, 'otrf', 'covenant_psremoting_command_2020-08-06115603.cap'), 5985))
    for path, port in tcp:
        if not os.path.exists(path):
            continue
        tag = os.path.basename(path).split('.')[0].replace('_', '-')[:20] + '-%d' % port
        for segs in stream_segments(path, port)[:1]:
            for d in (0, 1):
                first = next((p for dd, p in segs if dd == d), None)
                if first:
                    c.add(tag, bytes([0]) + struct.pack('>H', port) + first[:256])
    for name in ('ldap', 'tls'):
        for path in sorted(glob.glob(os.path.join(lab, '*.pcap'))) + sorted(glob.glob(os.path.join(pub, '*', '*.pcap*'))):
            rows = tshark_fields(path, 'ldap' if name == 'ldap' else 'tls.handshake.type == 1', ['tcp.dstport', 'tcp.payload'])
            rows = [r for r in rows if len(r) == 2 and r[1]]
            if rows:
                c.add(name, bytes([0]) + struct.pack('>H', int(rows[0][0])) + bytes.fromhex(rows[0][1])[:256])
                break
    for path in (os.path.join(lab, 'smb2_kerberos_ok.pcap'), os.path.join(pub, 'ndpi', 'kerberos-error.pcap')):
        if os.path.exists(path):
            for r in tshark_fields(path, 'udp.port == 88', ['udp.dstport', 'udp.payload'])[:2]:
                if len(r) == 2 and r[1]:
                    c.add('kdc-udp', bytes([1]) + struct.pack('>H', int(r[0])) + bytes.fromhex(r[1])[:256])
    return c


def records_seeds(out, lab, hopscope, cap=12000):
    """records: hopscope's JSON Lines on lab traces (whole lines, at most cap bytes a seed): one sensor (plain,
    with the lab keytab, with its credentials; DCOM), two sensors (a trace split by server, tests/test_sensors.py,
    each half read with --sensor), and a handful of hostile lines."""
    sys.path.insert(0, os.path.join(HERE, '..', '..'))
    import test_sensors
    c = Corpus(out, 'records', 16)

    def run(args):
        return subprocess.run([hopscope] + args, capture_output=True).stdout

    def add(tag, data):
        keep, n = [], 0
        for line in data.splitlines(keepends=True):
            if n + len(line) > cap:
                break
            keep.append(line)
            n += len(line)
        c.add(tag, b''.join(keep))

    keytab = os.path.join(lab, 'keytabs', 'all_accounts.keytab')
    for name, extra in (('double_hop_ntlm', []), ('spn_wrong_account', ['-k', keytab]),
                        ('s4u_proxy_denied', ['-k', keytab]), ('dcom_activation', []),
                        ('smb1_ntlmssp_lmkey_signed', ['--creds', os.path.join(lab, 'credentials.txt')]),
                        ('double_hop_rpc_ntlm', [])):
        add(name.replace('_', '-')[:24], run(extra + ['-r', os.path.join(lab, name + '.pcap')]))
    with tempfile.TemporaryDirectory() as tmp:
        for name in ('double_hop_kerberos_not_delegated', 'double_hop_s4u_denied', 'spn_missing'):
            a, b = os.path.join(tmp, 'a.pcap'), os.path.join(tmp, 'b.pcap')
            test_sensors.split(os.path.join(lab, name + '.pcap'), a, b, 'server')
            la = run(['--sensor', 'a', '-r', a]).splitlines(keepends=True)
            lb = run(['--sensor', 'b', '-r', b]).splitlines(keepends=True)
            both = [x for pair in zip(lb, la) for x in pair] + la[len(lb):] + lb[len(la):] # both, if cut
            add('two-' + name.replace('_', '-')[:20], b''.join(both))
    add('hostile', b'not json\n[1]\n{"type":"auth"}\n{"type":"auth","id":1,"id":2}\n' +
        b'{"type":"auth","id":1,"ts":"2026-01-01T00:00:00Z","client":{"ip":"::1","port":1},' +
        b'"server":{"ip":"::2","port":445},"transport":"smb2","result":"failure","kerberos":{"ap_req":true,' +
        b'"ticket":{"digest":"00112233445566778899aabbccddeeff"}}}\n' + b'[' * 3000 + b'\n\r\n\x00\xff\n')
    return c


def ldap_seeds(out, lab, pub):
    """stream_ldap: LDAP sessions of licensed captures (GSSAPI then sealed, SASL NTLM, simple and sicily,
    GSS-SPNEGO Kerberos with search results) and the synthetic ones."""
    ldap = Corpus(out, 'stream_ldap', 18)
    for path, cfgs in ((os.path.join(lab, 'double_hop_s4u2proxy_modgssapi_allowed.pcap'), (0, 2, 4, 1, 8)),
                       (os.path.join(pub, 'zeek', 'sasl-ntlm.pcap'), (0,)),
                       (os.path.join(pub, 'zeek', 'aduser1.pcap'), (0,)),
                       (os.path.join(pub, 'arkime', 'ntlm_synthetic.pcap'), (0,)),
                       (os.path.join(pub, 'otrf', 'UTICA-A.cap'), (0,))):
        if not os.path.exists(path):
            continue
        tag = os.path.splitext(os.path.basename(path))[0].replace('_', '-')[:24]
        for segs in stream_segments(path, 389)[:2]:
            for cfg in cfgs:
                ldap.add('ldap-%s-c%x' % (tag, cfg), encode_stream(segs, cfg, 8000))
    for tag, segs in ldap_synthetic_sessions():
        ldap.add(tag + '-c0', encode_stream(segs, 0))
        ldap.add(tag + '-c2', encode_stream(segs, 2))
    return ldap


if __name__ == '__main__':
    sys.exit(main())
