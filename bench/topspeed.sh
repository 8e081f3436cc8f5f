#!/bin/bash
# Live capture at tcpreplay's top speed: do hopscope's drop counts account for every packet sent?
#
#   bench/topspeed.sh HOPSCOPE MIX RUNS 'OPTIONS|OPTIONS|...'
#
# For each set of options (separated by '|'; an empty one is the default), RUNS times: a veth pair (MTU 16000,
# for the lab traces' offloaded frames) in a network namespace of its own, `HOPSCOPE -q -i span1 OPTIONS -o FILE`
# on one end, `tcpreplay --topspeed -i span0 MIX` on the other, SIGINT two seconds after the replay ends, and
# one line from tcpreplay's report and hopscope's closing stats: sent, rate, received, kernel drops, packets
# analysed, auth/kerberos records, and each worker's packets with --threads. Needs root, iproute2, tcpreplay,
# python3. No traffic leaves the namespace. docs/DEPLOYMENT.md has the figures.
set -eu
[ $# -eq 4 ] || { sed -n '4p' "$0" >&2; exit 2; }
hs=$(realpath "$1") mix=$2 runs=$3
IFS='|' read -ra cfgs <<< "$4"
[ "${#cfgs[@]}" -gt 0 ] || cfgs=("")
ns=hstop$$ tmp=$(mktemp -d)
ip netns add "$ns"
trap 'ip netns del "$ns"; rm -rf "$tmp"' EXIT
ip -n "$ns" link add span0 mtu 16000 type veth peer name span1 mtu 16000
for l in span0 span1 lo; do ip -n "$ns" link set "$l" up; done
printf "%-34s %8s %10s %9s %9s %9s %10s %s\n" options sent rate_pps received kdrops analysed auth/krb workers
for cfg in "${cfgs[@]}"; do
  for _ in $(seq "$runs"); do
    # shellcheck disable=SC2086 # the options are words
    ip netns exec "$ns" "$hs" -q -i span1 $cfg -o "$tmp/out" 2>"$tmp/err" &
    hp=$!
    sleep 1.5
    tr=$(ip netns exec "$ns" tcpreplay --topspeed -i span0 "$mix" 2>&1)
    sleep 2
    kill -INT "$hp"
    wait "$hp" || true
    sent=$(echo "$tr" | grep -o "Successful packets: *[0-9]*" | grep -o "[0-9]*$")
    rate=$(echo "$tr" | grep -o "[0-9.]* pps" | head -1 | cut -d' ' -f1)
    tail -1 "$tmp/out" | CFG="${cfg:-default}" SENT="$sent" RATE="${rate:--}" python3 -c '
import json, os, sys
d = json.loads(sys.stdin.read())
c = d.get("capture", {})
w = " + ".join(str(x["packets"]) for x in d.get("workers", []))
print("%-34s %8s %10s %9d %9d %9d %10s %s" % (os.environ["CFG"], os.environ["SENT"], os.environ["RATE"],
      c.get("received", 0), c.get("kernel_drops", 0), d["packets"],
      "%d/%d" % (d["auth_records"], d["kerberos_records"]), w))'
  done
done
