#!/usr/bin/env bash
# Benchmark hopscope against the floor (a bare libpcap read loop) on a span-port-like capture built from
# the lab traces by ../shared/bench/benchmix.c. Usage: bench/run.sh [MEGABYTES]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-1024}
shared=../shared/bench
tmp=${TMPDIR:-/tmp}
cc -O2 -o "$tmp/benchmix" "$shared/benchmix.c" -lpcap
cc -O2 -o "$tmp/pcaploop" "$shared/pcaploop.c" -lpcap
"$tmp/benchmix" "$tmp/bench-$mb.pcap" "$mb" ../shared/captures/lab/*.pcap
cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-rel -j"$(nproc)" --target hopscope
hyperfine -w 1 -r 5 -N "$tmp/pcaploop $tmp/bench-$mb.pcap" "./build-rel/hopscope -r $tmp/bench-$mb.pcap -o /dev/null"
/usr/bin/time -f "hopscope max RSS %M KB" ./build-rel/hopscope -r "$tmp/bench-$mb.pcap" -o /dev/null
