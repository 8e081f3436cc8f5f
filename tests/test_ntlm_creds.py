#!/usr/bin/env python3
"""NTLM with credentials on the lab traces (--creds ../shared/captures/lab/credentials.txt).

Every NTLM exchange of a lab account verifies (NT response, and the LM/LMv2 response where it is a real
one; the MIC where there is one); the key source and the key the signed traffic used are what
../shared/captures/lab/MANIFEST.md says for the LM/NTLMv1 traces; a wrong password gives verified false,
exit 0; no value of the credentials file appears in the output. The credentials file is copied to a private
temporary file (mode 600) so that the readability warning is not what is tested.

Prints PASS/FAIL per check and a closing "N passed, M failed, K skipped" line; exit 1 on any failure.
Usage: test_ntlm_creds.py --hopscope build/hopscope
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

LAB = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "captures",
                                    "lab"))

# trace -> expectations on its NTLM records (all of them, unless "record" picks one by id)
#   key_source, signing.matched ("client" side check), server_signed, result
EXPECT = {
    # MANIFEST: LM + NTLMv1 without extended security; server signs with the NTLMv1 session key; success
    "smb1_lm_ntlmv1": dict(key_source="ntlmv1", matched="ntlmv1", server_signed=True, result="success"),
    # LM_KEY negotiated, session not signed (server signature zero), success
    "smb1_ntlmssp_lmkey": dict(key_source="lm_key", lm_from="lm", server_signed=False, result="success"),
    # bob: no LM hash, LM field a copy of the NT response
    "smb1_ntlmssp_lmkey_longpw": dict(key_source="lm_key", lm_from="nt", server_signed=False, result="success"),
    # LM-key signing failure: the server's final SESSION_SETUP response carries the placeholder signature
    "smb1_ntlmssp_lmkey_signed": dict(finding="proven", key_source="lm_key", lm_from="lm", server_signed=False),
    "smb1_ntlmssp_lmkey_longpw_signed": dict(finding="proven", key_source="lm_key", lm_from="nt", server_signed=False),
    # the control: NTLMv1 without LM_KEY, signed both ways with the NTLMv1 key
    "smb1_ntlmssp_v1_signed_nolmkey": dict(key_source="ntlmv1", matched="ntlmv1", server_matched="ntlmv1",
                                           server_signed=True, result="success"),
    # LM_KEY over DCE/RPC: the first signed call's signature fits no key a DC can derive from the account's
    # hashes (neither the MS-NLMP LM_KEY key nor the NT-only one), and the call is refused
    "dcerpc_tcp_lmkey_signed": dict(finding="proven", key_source="lm_key", lm_from="lm", matched="none", result="failure"),
    "dcerpc_tcp_lmkey_longpw_signed": dict(finding="proven", key_source="lm_key", lm_from="nt", matched="none", result="failure"),
    "dcerpc_tcp_v1_signed_nolmkey": dict(key_source="ntlmv1", matched="ntlmv1", server_matched="ntlmv1",
                                         result="success"),
    # NTLMv2: signed and sealed SAMR, both directions, MIC checked
    "dcerpc_tcp_ntlm_sign": dict(key_source="ntlmv2", matched="ntlmv2", mic=True),
    "dcerpc_tcp_ntlm_seal": dict(key_source="ntlmv2", matched="ntlmv2", mic=True),
    "smb2_ntlmv2_ok": dict(key_source="ntlmv2", mic=True, result="success"),
}
SECRETS = ["Alic3pw!", "5e1c00dfb0f18ef96c39c1d1417a45fa", "3c6e6d2c908f15a4695109ab020e401c",
           "CorrectHorseBattery9!", "82106a7dd10aba3da475891cce8e9708"]


def run(hopscope, pcap, creds):
    p = subprocess.run([hopscope, "--creds", creds, "-r", pcap], capture_output=True, text=True)
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    return p, recs


def ntlm_records(recs):
    return [r for r in recs if r.get("type") == "auth" and "ntlm" in r and r["ntlm"].get("user")]


def check_trace(hopscope, name, exp, creds):
    errs = []
    pcap = os.path.join(LAB, name + ".pcap")
    p, recs = run(hopscope, pcap, creds)
    if p.returncode != 0:
        errs.append("exit %d: %s" % (p.returncode, p.stderr.strip()))
    for s in SECRETS:
        if s.lower() in p.stdout.lower():
            errs.append("a credential value appears in the output")
    rs = ntlm_records(recs)
    if not rs:
        return errs + ["no NTLM record"]
    # lm_session_key_mismatch: with the credentials, proven (not merely likely)
    fs = [r for r in recs if r.get("type") == "finding" and r.get("id") == "lm_session_key_mismatch"]
    if "finding" in exp:
        if not fs or fs[0].get("confidence") != exp["finding"]:
            errs.append("lm_session_key_mismatch %r, want confidence %r" % (fs and fs[0].get("confidence"), exp["finding"]))
    elif fs:
        errs.append("lm_session_key_mismatch raised")
    for r in rs:
        n = r["ntlm"]
        v = n.get("verification") or {}
        tag = "record %s" % r["id"]
        if not v.get("account_found"):
            errs.append(tag + ": account not found")
            continue
        if v.get("nt_response_verified") is not True:
            errs.append(tag + ": NT response not verified (%r)" % v.get("nt_response_verified"))
        if "lm" in n.get("responses", []) or "lmv2" in n.get("responses", []):
            if v.get("lm_response_verified") is not True:
                errs.append(tag + ": LM response not verified")
        if n.get("key_source") != exp["key_source"]:
            errs.append(tag + ": key_source %r, want %r" % (n.get("key_source"), exp["key_source"]))
        if "lm_from" in exp and v.get("lm_response_from") != exp["lm_from"]:
            errs.append(tag + ": lm_response_from %r, want %r" % (v.get("lm_response_from"), exp["lm_from"]))
        if exp.get("mic") and v.get("mic_verified") is not True:
            errs.append(tag + ": MIC not verified")
        sg = n.get("signing") or {}
        if "matched" in exp:
            got = (sg.get("client") or {}).get("matched")
            if got != exp["matched"]:
                errs.append(tag + ": client signature matched %r, want %r" % (got, exp["matched"]))
        if "server_matched" in exp:
            got = (sg.get("server") or {}).get("matched")
            if got != exp["server_matched"]:
                errs.append(tag + ": server signature matched %r, want %r" % (got, exp["server_matched"]))
        if "server_signed" in exp and sg.get("server_signed") != exp["server_signed"]:
            errs.append(tag + ": server_signed %r, want %r" % (sg.get("server_signed"), exp["server_signed"]))
        if "result" in exp and r.get("result") != exp["result"]:
            errs.append(tag + ": result %r, want %r" % (r.get("result"), exp["result"]))
    return errs


# Traces whose client typed a wrong password (MANIFEST.md): their responses must not verify.
BAD_PASSWORD = {"smb2_ntlm_badpass.pcap"}


def check_every_lab_exchange(hopscope, creds):
    """Every NTLM exchange of an account in the file verifies, on every lab trace (but the bad-password one)."""
    errs = []
    for f in sorted(os.listdir(LAB)):
        if not f.endswith(".pcap"):
            continue
        p, recs = run(hopscope, os.path.join(LAB, f), creds)
        if p.returncode != 0:
            errs.append("%s: exit %d" % (f, p.returncode))
        for r in ntlm_records(recs):
            v = r["ntlm"].get("verification") or {}
            if not (v.get("account_found") and r["ntlm"].get("responses")):
                continue
            ok = v.get("nt_response_verified") is True or v.get("lm_response_verified") is True
            if f in BAD_PASSWORD and ok:
                errs.append("%s record %s: a wrong password verified" % (f, r["id"]))
            elif f not in BAD_PASSWORD and not ok:
                errs.append("%s record %s: not verified" % (f, r["id"]))
    return errs


def check_wrong_password(hopscope, tmpdir):
    path = os.path.join(tmpdir, "wrong.txt")
    with open(path, "w") as f:
        f.write("alice\tHOPLAB\tHOPLAB.TEST\tNotHerPassword1\t-\t-\n")
    os.chmod(path, 0o600)
    errs = []
    for name in ("smb1_lm_ntlmv1", "smb2_ntlmv2_ok"):
        p, recs = run(hopscope, os.path.join(LAB, name + ".pcap"), path)
        if p.returncode != 0:
            errs.append("%s: exit %d" % (name, p.returncode))
        for r in ntlm_records(recs):
            v = r["ntlm"].get("verification") or {}
            if v.get("nt_response_verified") is not False:
                errs.append("%s: wrong password gave nt_response_verified %r" % (name, v.get("nt_response_verified")))
    return errs


def check_tshark_unseals_what_we_matched(hopscope, creds):
    """tshark as oracle: with alice's password (-o ntlmssp.nt_password) it unseals NTLMSSP-sealed SAMR; every
    frame whose stub it decodes is a client signature hopscope matched to the client's key, and with a wrong
    password tshark unseals nothing while hopscope says nt_response_verified false."""
    tshark = shutil.which("tshark")
    if not tshark:
        return None
    pcap = os.path.join(LAB, "dcerpc_tcp_ntlm_seal.pcap")
    errs = []

    def decoded(pw):
        p = subprocess.run([tshark, "-r", pcap, "-o", "ntlmssp.nt_password:" + pw, "-Y",
                            "samr.samr_Connect5.system_name", "-T", "fields", "-e", "frame.number"],
                           capture_output=True, text=True)
        return {int(x) for x in p.stdout.split()}

    good = decoded("Alic3pw!")
    if not good:
        errs.append("tshark unsealed nothing with the right password")
    _, recs = run(hopscope, pcap, creds)
    matched = {(r["ntlm"].get("signing") or {}).get("client", {}).get("frame")
               for r in ntlm_records(recs)
               if (r["ntlm"].get("signing") or {}).get("client", {}).get("matched") == "ntlmv2"}
    for f in good - matched:
        errs.append("tshark unseals frame %d, hopscope did not match its signature" % f)
    if decoded("NotHerPassword1"):
        errs.append("tshark unsealed with a wrong password")
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopscope", required=True)
    a = ap.parse_args()
    src = os.path.join(LAB, "credentials.txt")
    if not os.path.exists(src):
        print("SKIP: %s not found" % src)
        print("0 passed, 0 failed, 1 skipped")
        return 0
    tmpdir = tempfile.mkdtemp(prefix="hopscope_creds_")
    try:
        creds = os.path.join(tmpdir, "credentials.txt")
        shutil.copyfile(src, creds)
        os.chmod(creds, 0o600)
        passed = failed = skipped = 0
        checks = [(name, lambda n=name, e=exp: check_trace(a.hopscope, n, e, creds)) for name, exp in EXPECT.items()]
        checks.append(("every lab NTLM exchange verifies", lambda: check_every_lab_exchange(a.hopscope, creds)))
        checks.append(("wrong password is verified:false", lambda: check_wrong_password(a.hopscope, tmpdir)))
        checks.append(("tshark agrees on the sealed SAMR", lambda: check_tshark_unseals_what_we_matched(a.hopscope, creds)))
        for name, fn in checks:
            if name in EXPECT and not os.path.exists(os.path.join(LAB, name + ".pcap")):
                print("SKIP %s" % name)
                skipped += 1
                continue
            errs = fn()
            if errs is None:
                print("SKIP %s (tshark not found)" % name)
                skipped += 1
                continue
            if errs:
                failed += 1
                print("FAIL %s" % name)
                for e in errs:
                    print("    " + e)
            else:
                passed += 1
                print("PASS %s" % name)
        print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
