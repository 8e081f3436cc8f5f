#!/usr/bin/env bash
# Live capture (-i) on a span-port-like veth pair inside a network namespace of the test's own: tcpreplay sends
# lab traces into one end, hopscope listens on the other. Checks that
#   - every lab trace gives live the records and findings the offline run of the same file gives with --stream
#     (live streams by default: docs/RECORDS.md, "Streaming"), as sets of JSON lines, capture-dependent fields
#     removed (tests/live_norm.py says which); the same with --threads 2;
#   - a session's auth record and its first use are on the output while the session is still open (streaming),
#     with and without --threads 2;
#     a finding is written while the capture runs, decided on the wall clock with nothing more sent;
#   - the rest of a session that never closes is written when it expires on the wall clock (--idle-timeout);
#   - SIGTERM mid-stream loses nothing already decided: the output equals the offline run of the packets that
#     were captured (-c N);
#   - SIGHUP after the -o file was moved (log rotation) loses no line and splits none: the old file keeps what
#     came before, the new one gets the rest;
#   - --stats-interval writes stats records while the capture runs;
#   - a run with only CAP_NET_RAW and CAP_NET_ADMIN as user nobody (setpriv) captures.
# Skipped (saying why) without root, network namespaces, veth or tcpreplay. No traffic leaves the namespace:
# both ends of the pair are in it, with no address and IPv6 off, so nothing but the replay crosses it.
#   test_live.sh HOPSCOPE CAPTURES_DIR
# The lab traces are those of ../shared/captures/lab beside the repository when it is there (every lab trace),
# else CAPTURES_DIR/lab (the ones the repository ships).
set -u
hs=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
lab=$2/lab
[ -d "$here/../../shared/captures/lab" ] && lab=$(cd "$here/../../shared/captures/lab" && pwd)
norm="python3 $here/live_norm.py"
ns=hopscope-live-$$

skip() { echo "SKIP live capture: $1"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
command -v ip >/dev/null || skip "iproute2 not installed"
command -v python3 >/dev/null || skip "python3 not installed"
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace here"
tmp=$(mktemp -d /tmp/hopscope-live.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
nsx() { ip netns exec "$ns" "$@"; }
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
# Lab frames reach ~4.2 KB (captured with segmentation offload): a large MTU, or tcpreplay drops them.
ip -n "$ns" link add span0 mtu 16000 type veth peer name span1 mtu 16000 || skip "cannot create a veth pair"
ip -n "$ns" link set span0 up && ip -n "$ns" link set span1 up

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }

# start OUT ARGS...: hopscope -i span1 -o OUT ARGS in the background ($hp); returns once the capture is open
# (hopscope creates OUT after activating the interface). A 32 MiB kernel buffer (-B) holds ~500 of the 64 KiB
# frames libpcap sets aside per packet on an interface with segmentation offload: every trace fits, even at
# tcpreplay's top speed (libpcap's default 2 MiB holds 32).
start() {
  local out=$1
  shift
  rm -f "$out"
  ip netns exec "$ns" "$hs" -i span1 -B 32768 -o "$out" "$@" 2>"$out.err" &
  hp=$!
  for _ in $(seq 100); do [ -e "$out" ] && break; sleep 0.05; done
  sleep 0.2
}
replay() { nsx tcpreplay -q -i span0 "$@" >/dev/null 2>&1; }
# stop SIG: signals hopscope and waits; $rc is its exit status.
stop() { kill "-$1" "$hp"; wait "$hp"; rc=$?; }
# seen N: waits (up to 5 s) until hopscope has analysed N packets, asking with SIGUSR1; true once it has.
seen() {
  local n=$1 err=$2
  for _ in $(seq 50); do
    kill -USR1 "$hp" 2>/dev/null
    sleep 0.1
    tail -1 "$err" | grep -q "\"packets\":$n," && return 0
  done
  return 1
}
packets() { "$hs" -q -r "$1" | tail -1 | sed 's/.*"packets":\([0-9]*\),.*/\1/'; }
count() { grep -c "\"type\":\"$1\"" "$2"; }

# 1. Every lab trace, live = offline (records and findings), one hopscope per trace (findings are per run);
# then the same with --threads 2 (connections over two worker threads, records merged back).
live_equals_offline() {
  local n=0 bad="" tag=$1
  shift
  for cap in "$lab"/*.pcap; do
    name=$(basename "$cap" .pcap)
    "$hs" -q --stream -r "$cap" -o "$tmp/$name.off"
    want=$(packets "$cap")
    start "$tmp/$name.live" "$@"
    replay --topspeed "$cap"
    seen "$want" "$tmp/$name.live.err" || bad="$bad $name(saw-$(tail -1 "$tmp/$name.live.err" | grep -o '"packets":[0-9]*'))"
    stop INT
    [ "$rc" = 0 ] || bad="$bad $name(exit-$rc)"
    if ! diff <($norm "$tmp/$name.off") <($norm "$tmp/$name.live") >"$tmp/$name.diff"; then
      bad="$bad $name"
      head -c 1500 "$tmp/$name.diff"
    fi
    n=$((n + 1))
  done
  if [ -z "$bad" ] && [ "$n" -gt 0 ]; then ok "live records and findings equal the offline ones for all $n lab traces$tag"
  else ko "live differs from offline$tag for:$bad"; fi
}
live_equals_offline ""
live_equals_offline " (--threads 2)" --threads 2

# 2a. Streaming: the first 20 packets of an SMB2 session (authenticated at frame 11, a tree connect answered
# at 13, never closed): the auth record and the use are written at once, the connection still open (idle
# timeout 600 s); then a double hop with --hop-window 1: its finding comes on the wall clock (the rules run every
# 10 s of the engine's time), before the stop.
cap=$lab/smb2_ntlmv2_ok.pcap
start "$tmp/open.live"
replay --pps 2000 --limit 20 "$cap"
got=0
for _ in $(seq 40); do
  got=$(($(count auth "$tmp/open.live") + $(count use "$tmp/open.live")))
  [ "$got" -ge 2 ] && break
  sleep 0.1
done
flows=$(kill -USR1 "$hp"; sleep 0.3; tail -1 "$tmp/open.live.err" | grep -o '"flows_tracked":[0-9]*')
stop TERM
if [ "$got" -ge 2 ] && [ "$flows" = '"flows_tracked":1' ]; then
  ok "streaming: the auth record and its use written while the session is open"
else ko "streaming: $got auth/use records while the session was open ($flows)"; fi
# The same with --threads 2: the records come through the workers and the merge as the packets come.
cap=$lab/smb2_ntlmv2_ok.pcap
start "$tmp/open2.live" --threads 2
replay --pps 2000 --limit 20 "$cap"
got=0
for _ in $(seq 40); do
  got=$(($(count auth "$tmp/open2.live") + $(count use "$tmp/open2.live")))
  [ "$got" -ge 2 ] && break
  sleep 0.1
done
flows=$(kill -USR1 "$hp"; sleep 0.3; tail -1 "$tmp/open2.live.err" | grep -o '"flows_tracked":[0-9]*' | head -1)
stop TERM
if [ "$got" -ge 2 ] && [ "$flows" = '"flows_tracked":1' ]; then
  ok "streaming with --threads 2: the auth record and its use written while the session is open"
else ko "streaming with --threads 2: $got auth/use records while the session was open ($flows)"; fi
cap=$lab/double_hop_ntlm.pcap
start "$tmp/decide.live" --hop-window 1
replay --pps 2000 "$cap"
found=0
for _ in $(seq 150); do
  [ "$(count finding "$tmp/decide.live")" -ge 1 ] && found=1 && break
  sleep 0.1
done
stop TERM
"$hs" -q --stream --hop-window 1 -r "$cap" -o "$tmp/decide.off"
if [ "$found" = 1 ] && diff <($norm "$tmp/decide.off") <($norm "$tmp/decide.live") >"$tmp/decide.diff"; then
  ok "streaming: a finding decided on the wall clock, written before the stop"
else ko "streaming: finding while capturing: $found; $(head -c 600 "$tmp/decide.diff")"; fi

# 2b. Wall-clock expiry (--no-stream: the record is written whole when its connection ends): the first 20 packets of an SMB2 session (authenticated at frame 11, never closed): with
# --idle-timeout 1 its record must be written while the capture still runs, nothing more being sent.
cap=$lab/smb2_ntlmv2_ok.pcap
"$hs" -q -r "$cap" -c 20 -o "$tmp/idle.off"
start "$tmp/idle.live" --idle-timeout 1 --no-stream
replay --pps 2000 --limit 20 "$cap"
got=0
for _ in $(seq 40); do
  got=$(count auth "$tmp/idle.live")
  [ "$got" -ge 1 ] && break
  sleep 0.1
done
stop TERM
if [ "$got" = 1 ] && diff <($norm "$tmp/idle.off") <($norm "$tmp/idle.live") >"$tmp/idle.diff"; then
  ok "an idle session's record is written on the wall clock, before the stop"
else ko "idle expiry: $got auth records before the stop; $(head -c 600 "$tmp/idle.diff")"; fi

# 3. SIGTERM mid-stream: what was captured is reported as the offline run of those packets reports it.
cap=$lab/double_hop_kerberos_delegated.pcap
start "$tmp/term.live"
replay --pps 100 "$cap" &
rp=$!
sleep 0.5
stop TERM
wait "$rp"
got=$(tail -1 "$tmp/term.live" | sed 's/.*"packets":\([0-9]*\),.*/\1/')
all=$(packets "$cap")
"$hs" -q --stream -r "$cap" -c "$got" -o "$tmp/term.off"
if [ "$rc" = 0 ] && [ "$got" -gt 0 ] && [ "$got" -lt "$all" ] &&
   diff <($norm "$tmp/term.off") <($norm "$tmp/term.live") >"$tmp/term.diff" &&
   tail -1 "$tmp/term.live" | grep -q '"interrupted":true'; then
  ok "SIGTERM after $got of $all packets: exit 0, the records of those $got packets all written"
else ko "SIGTERM mid-stream (exit $rc, $got of $all packets): $(head -c 800 "$tmp/term.diff")"; fi

# 4. SIGHUP rotation: the first trace's records in the moved file, the second's in the new one, no line lost
# or cut; the same for the -w pcap.
a=$lab/smb2_ntlmv2_ok.pcap b=$lab/winrm_http_ntlm.pcap
start "$tmp/rot.live" -w "$tmp/rot.pcap"
replay --pps 2000 "$a"
seen "$(packets "$a")" "$tmp/rot.live.err"
mv "$tmp/rot.live" "$tmp/rot.live.1"
mv "$tmp/rot.pcap" "$tmp/rot.pcap.1"
kill -HUP "$hp"
for _ in $(seq 50); do [ -e "$tmp/rot.live" ] && break; kill -USR1 "$hp"; sleep 0.1; done
replay --pps 2000 "$b"
seen "$(($(packets "$a") + $(packets "$b")))" "$tmp/rot.live.err"
stop INT
"$hs" -q --stream -r "$b" -o "$tmp/rot.off.b"
if [ "$rc" = 0 ] && diff <($norm "$tmp/smb2_ntlmv2_ok.off") <($norm "$tmp/rot.live.1") >"$tmp/rot.diff" &&
   diff <($norm "$tmp/rot.off.b" --no-ids) <($norm "$tmp/rot.live" --no-ids) >>"$tmp/rot.diff" &&
   tail -1 "$tmp/rot.live" | grep -q '"type":"stats"'; then
  ok "SIGHUP rotation: the old file has the first trace's records, the new one the second's and the stats"
else ko "SIGHUP rotation: $(head -c 800 "$tmp/rot.diff")"; fi
if command -v capinfos >/dev/null; then
  "$hs" -q -r "$a" -w "$tmp/ref.a.pcap" -o /dev/null
  "$hs" -q -r "$b" -w "$tmp/ref.b.pcap" -o /dev/null
  npk() { capinfos -M -c "$1" 2>/dev/null | sed -n 's/^Number of packets: *//p'; }
  if [ "$(npk "$tmp/rot.pcap.1")" = "$(npk "$tmp/ref.a.pcap")" ] && [ "$(npk "$tmp/rot.pcap")" = "$(npk "$tmp/ref.b.pcap")" ] &&
     [ -n "$(npk "$tmp/rot.pcap")" ]; then
    ok "SIGHUP rotation of -w: the old pcap has the first trace's connections, the new one the second's"
  else ko "SIGHUP rotation of -w: $(npk "$tmp/rot.pcap.1") + $(npk "$tmp/rot.pcap") packets, want $(npk "$tmp/ref.a.pcap") + $(npk "$tmp/ref.b.pcap")"; fi
fi

# 5. --stats-interval: stats records while the capture runs, from the start (before any packet), with the
# interface's own counters; the closing one accounts for every packet the kernel passed:
# packets = received - kernel drops.
cap=$lab/smb2_ntlmv2_ok.pcap
start "$tmp/stats.live" --stats-interval 1
sleep 1.3
replay --pps 2000 "$cap"
seen "$(packets "$cap")" "$tmp/stats.live.err"
sleep 1.2
stop INT
if python3 - "$tmp/stats.live" "$(packets "$cap")" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
per = [r for r in recs if r["type"] == "stats" and not r["final"]]
last = recs[-1]
ok = (len(per) >= 2 and per[0]["packets"] == 0 and per[-1]["packets"] == n and last["final"] is True
      and all(r["capture"]["interfaces"][0]["name"] == "span1" for r in per + [last])
      and last["packets"] == n == last["capture"]["received"] - last["capture"]["kernel_drops"]
      and all("ts" in r for r in per) and recs.index(per[-1]) > 0)
if not ok:
    print([(r.get("ts"), r["packets"], r.get("capture")) for r in per + [last]])
sys.exit(0 if ok else 1)
PY
then ok "--stats-interval: stats while capturing (before the first packet too), drops accounted for"
else ko "--stats-interval on a live capture"; fi

# 6. Two interfaces in one run (-i twice), with -p, nanosecond timestamps and -w: the records of a trace
# replayed on each; -w keeps nanoseconds, the records' ts are right to the microsecond.
ip -n "$ns" link add span2 mtu 16000 type veth peer name span3 mtu 16000
ip -n "$ns" link set span2 up && ip -n "$ns" link set span3 up
a=$lab/smb2_ntlmv2_ok.pcap b=$lab/winrm_http_ntlm.pcap
start "$tmp/two.live" -i span3 -p --time-stamp-precision=nano --immediate-mode -w "$tmp/two.pcap"
t0=$(date +%s)
replay --pps 2000 "$a"
ip netns exec "$ns" tcpreplay -q -i span2 --pps 2000 "$b" >/dev/null 2>&1
seen "$(($(packets "$a") + $(packets "$b")))" "$tmp/two.live.err"
stop INT
cat "$tmp/smb2_ntlmv2_ok.off" "$tmp/rot.off.b" >"$tmp/two.off"
if [ "$rc" = 0 ] && diff <($norm "$tmp/two.off" --no-ids) <($norm "$tmp/two.live" --no-ids) >"$tmp/two.diff" &&
   python3 - "$tmp/two.live" "$t0" <<'PY'
import calendar, json, sys, time
recs = [json.loads(l) for l in open(sys.argv[1])]
last = recs[-1]
names = [i["name"] for i in last["capture"]["interfaces"]]
ts = [calendar.timegm(time.strptime(r["ts"][:19], "%Y-%m-%dT%H:%M:%S")) for r in recs if r["type"] == "auth"]
ok = names == ["span1", "span3"] and len(ts) == 2 and all(abs(t - int(sys.argv[2])) < 60 for t in ts)
if not ok:
    print(names, [r.get("ts") for r in recs])
sys.exit(0 if ok else 1)
PY
then ok "-i span1 -i span3: the records of the traces replayed on each, timestamps right"
else ko "two interfaces (exit $rc): $(head -c 600 "$tmp/two.diff")"; fi
if command -v capinfos >/dev/null; then
  if capinfos -M -u "$tmp/two.pcap" 2>/dev/null | grep -q "nanoseconds" ||
     capinfos -M "$tmp/two.pcap" 2>/dev/null | grep -qi "precision.*nano"; then
    ok "--time-stamp-precision=nano: -w writes a nanosecond pcap"
  else ko "-w with nano: $(capinfos -M "$tmp/two.pcap" 2>&1 | head -c 300)"; fi
fi

# 7. Only CAP_NET_RAW, as user nobody (docs/DEPLOYMENT.md): the capture opens and the records come.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  mkdir -m 1777 "$tmp/nobody"
  cap=$lab/smb2_ntlmv2_ok.pcap
  group=$(id -gn nobody)
  rm -f "$tmp/nobody/out"
  ip netns exec "$ns" setpriv --inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw \
    --reuid=nobody --regid="$group" --clear-groups -- "$hs" -i span1 -B 32768 -o "$tmp/nobody/out" 2>"$tmp/nobody/err" &
  hp=$!
  for _ in $(seq 100); do [ -e "$tmp/nobody/out" ] && break; sleep 0.05; done
  sleep 0.2
  replay --pps 2000 "$cap"
  seen "$(packets "$cap")" "$tmp/nobody/err"
  stop TERM
  if [ "$rc" = 0 ] && diff <($norm "$tmp/smb2_ntlmv2_ok.off") <($norm "$tmp/nobody/out") >/dev/null &&
     [ "$(stat -c %U "$tmp/nobody/out")" = nobody ]; then
    ok "as nobody with only CAP_NET_RAW: the capture runs and gives the offline records"
  else ko "CAP_NET_RAW only (exit $rc): $(head -c 300 "$tmp/nobody/err")"; fi
  ip netns exec "$ns" setpriv --reuid=nobody --regid="$group" --clear-groups --inh-caps=-all --bounding-set=-all -- \
    "$hs" -i span1 -o /dev/null 2>"$tmp/nobody/err2"
  rc=$?
  if [ "$rc" = 1 ] && [ "$(wc -l <"$tmp/nobody/err2")" = 1 ] && grep -q "span1" "$tmp/nobody/err2"; then
    ok "without CAP_NET_RAW: one line naming the interface, exit 1"
  else ko "without CAP_NET_RAW: exit $rc, $(head -c 300 "$tmp/nobody/err2")"; fi
else
  echo "SKIP CAP_NET_RAW-only run: setpriv or user nobody missing"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
