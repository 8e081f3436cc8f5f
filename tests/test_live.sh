#!/usr/bin/env bash
# Live capture (-i) on a span-port-like veth inside a network namespace of our own: tcpreplay sends a lab
# trace into one end, hopscope listens on the other, SIGINT ends the run and every record is flushed.
# Skipped (saying so) without root, network namespaces or tcpreplay. No traffic leaves the namespace.
#   test_live.sh HOPSCOPE CAPTURES_DIR
set -u
hs=$1
cap=$2/lab/smb2_ntlmv2_ok.pcap
ns=hopscope-live-$$

skip() { echo "SKIP live capture: $1"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
command -v ip >/dev/null || skip "iproute2 not installed"
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace here"
trap 'ip netns del "$ns" 2>/dev/null' EXIT
ip -n "$ns" link add span0 type veth peer name span1 || skip "cannot create a veth pair"
ip -n "$ns" link set span0 up && ip -n "$ns" link set span1 up

out=$(mktemp)
ip netns exec "$ns" "$hs" -i span1 -o "$out" -w "$out.pcap" 2>"$out.err" &
pid=$!
# Wait until the capture is active (the output file exists once hopscope runs; give libpcap a moment).
for _ in $(seq 50); do [ -e "$out" ] && break; sleep 0.1; done
sleep 1
ip netns exec "$ns" tcpreplay -q -i span0 --pps 500 "$cap" >/dev/null 2>&1
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?

pass=0 fail=0
if [ "$rc" = 0 ]; then pass=$((pass + 1)); echo "PASS hopscope -i exits 0 on SIGINT";
else fail=$((fail + 1)); echo "FAIL hopscope -i exit status $rc: $(cat "$out.err")"; fi
if grep -q '"type":"auth".*"user":"alice".*"result":"success"' "$out"; then pass=$((pass + 1)); echo "PASS live record for alice";
else fail=$((fail + 1)); echo "FAIL no live record for alice: $(head -c 400 "$out")"; fi
if tail -1 "$out" | grep -q '"tcp_packets":38,'; then pass=$((pass + 1)); echo "PASS live stats count all 38 TCP packets";
else fail=$((fail + 1)); echo "FAIL stats: $(tail -1 "$out" | head -c 300)"; fi
if command -v tshark >/dev/null; then
  n=$(tshark -r "$out.pcap" 2>/dev/null | wc -l)
  if [ "$n" = 38 ]; then pass=$((pass + 1)); echo "PASS -w keeps the 38 packets of the authenticated connection";
  else fail=$((fail + 1)); echo "FAIL -w wrote $n packets, not 38"; fi
fi
rm -f "$out" "$out.err" "$out.pcap"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
