#!/usr/bin/env bash
# hopscope's benchmark (docs/PERFORMANCE.md): on span-port-like mixes built from the lab traces, in one
# hyperfine run per size, the page-cache limit (cat), the floor (a bare libpcap loop through a 1 MiB stdio
# buffer), hopscope (with and without its read-ahead thread), and tshark extracting the same facts (users and principals); peak RSS of each; the cost
# of an authentication apart from the cost of a byte (mixes of one size at several densities); callgrind
# instruction counts on the 64 MiB mix for commit-to-commit comparison; memory in time: peak RSS of a run
# deciding at the end (the default) and of a streaming run on mixes timed like a span port (a packet every
# 20 ms, so hours of traffic), which must stay flat from the smallest size to the largest.
#
#   bench/run.sh [--sizes "256 1024 4096"] [--densities "0 4 16"] [--timed-sizes "256 1024 4096"] [--runs N]
#                [--no-tshark] [--no-callgrind] [--hopscope PATH]
#
# Mixes are written to $TMPDIR (default /tmp) as bench-<MB>.pcap, bench-d<D>-<MB>.pcap and bench-t<MB>.pcap
# and kept for the next run (delete them to rebuild); --timed-sizes "" skips the timed mixes. Needs hyperfine, GNU time, valgrind (callgrind) and tshark (optional).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="256 1024 4096"
densities="0 4 16"
timed="256 1024 4096"
runs=5
tshark=1
callgrind=1
hs=""
while [ $# -gt 0 ]; do
  case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --densities) densities=$2; shift 2 ;;
    --timed-sizes) timed=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-tshark) tshark=0; shift ;;
    --no-callgrind) callgrind=0; shift ;;
    --hopscope) hs=$2; shift 2 ;;
    *) echo "usage: $0 [--sizes LIST] [--densities LIST] [--timed-sizes LIST] [--runs N] [--no-tshark] [--no-callgrind] [--hopscope PATH]" >&2; exit 2 ;;
  esac
done
tmp=${TMPDIR:-/tmp}
for t in hyperfine /usr/bin/time; do command -v "$t" >/dev/null || { echo "bench: $t is needed (apt-get install hyperfine time)" >&2; exit 2; }; done
[ "$tshark" = 1 ] && ! command -v tshark >/dev/null && { echo "bench: no tshark, its column is left out" >&2; tshark=0; }
[ "$callgrind" = 1 ] && ! command -v valgrind >/dev/null && { echo "bench: no valgrind, no instruction counts" >&2; callgrind=0; }

cc -O2 -o "$tmp/hs-benchmix" bench/benchmix.c -lpcap
cc -O2 -o "$tmp/hs-pcaploop" ../shared/bench/pcaploop.c -lpcap
if [ -z "$hs" ]; then
  cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build build-rel -j"$(nproc)" --target hopscope >/dev/null
  hs=./build-rel/hopscope
fi
lab=(../shared/captures/lab/*.pcap)

mix() { # mix FILE MB [DENSITY]
  [ -s "$1" ] && return 0
  if [ -n "${3:-}" ]; then "$tmp/hs-benchmix" -d "$3" "$1" "$2" "${lab[@]}"; else "$tmp/hs-benchmix" "$1" "$2" "${lab[@]}"; fi
}
# tshark extracting what hopscope reports first: who authenticated (NTLM user, Kerberos client) to what.
tshark_cmd() {
  echo "tshark -n -r $1 -Y 'ntlmssp.messagetype == 3 || kerberos.msg_type' -T fields -e frame.number -e ntlmssp.auth.username -e ntlmssp.auth.domain -e kerberos.CNameString -e kerberos.SNameString"
}
median() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print(' '.join('%.3f' % x['median'] for x in r))" "$1"; }
rss() { /usr/bin/time -f %M "$@" >/dev/null 2>"$tmp/hs-bench-rss" || true; tail -1 "$tmp/hs-bench-rss"; }
records() { "$hs" -r "$1" -o - | python3 -c "
import sys,json
n=0
for l in sys.stdin:
    t=json.loads(l).get('type')
    if t in ('auth','kerberos','dcom'): n+=1
print(n)"; }

echo "## Sizes (median of $runs runs; seconds; peak RSS in MB)"
echo
hdr="| mix | packets | records | cat | floor | hopscope | ×floor | ×cat | hopscope, no read-ahead | ×floor |"
sep="|---|---|---|---|---|---|---|---|---|---|"
[ "$tshark" = 1 ] && hdr="$hdr tshark | tshark/hopscope |" && sep="$sep---|---|"
hdr="$hdr RSS floor | RSS hopscope |"; sep="$sep---|---|"
[ "$tshark" = 1 ] && hdr="$hdr RSS tshark |" && sep="$sep---|"
echo "$hdr"; echo "$sep"
for mb in $sizes; do
  f="$tmp/bench-$mb.pcap"
  mix "$f" "$mb" >/dev/null 2>&1
  # the last: reading in the analysing thread too (HOPSCOPE_READAHEAD=0), one thread in all
  cmds=("cat $f" "$tmp/hs-pcaploop $f" "$hs -r $f -o /dev/null" "env HOPSCOPE_READAHEAD=0 $hs -r $f -o /dev/null")
  # tshark takes ~40 s per GiB: timed once, on sizes up to 1 GiB
  if [ "$tshark" = 1 ] && [ "$mb" -le 1024 ]; then cmds+=("$(tshark_cmd "$f") >/dev/null"); fi
  hyperfine -N -w 1 -r "$runs" --export-json "$tmp/hs-bench.json" "${cmds[@]:0:4}" >/dev/null 2>&1
  read -r tc tf th th1 <<<"$(median "$tmp/hs-bench.json")"
  tt=""
  if [ ${#cmds[@]} -gt 4 ]; then
    hyperfine -w 0 -r 1 --export-json "$tmp/hs-bench-t.json" "${cmds[4]}" >/dev/null 2>&1
    tt=$(median "$tmp/hs-bench-t.json")
  fi
  pk=$("$tmp/hs-pcaploop" "$f" | sed 's/.*packets=\([0-9]*\).*/\1/')
  nr=$(records "$f")
  r1=$(rss "$tmp/hs-pcaploop" "$f"); r2=$(rss "$hs" -r "$f" -o /dev/null)
  row="| $mb MiB | $pk | $nr | $tc | $tf | $th | $(python3 -c "print('%.2f' % ($th/$tf))") | $(python3 -c "print('%.2f' % ($th/$tc))") | $th1 | $(python3 -c "print('%.2f' % ($th1/$tf))") |"
  if [ "$tshark" = 1 ]; then
    if [ -n "$tt" ]; then
      r3=$(rss sh -c "$(tshark_cmd "$f")")
      row="$row $tt | $(python3 -c "print('%.0f' % ($tt/$th))") |"
    else row="$row – | – |"; r3=""; fi
  fi
  row="$row $((r1 / 1024)) | $((r2 / 1024)) |"
  [ "$tshark" = 1 ] && row="$row ${r3:+$((r3 / 1024))} |"
  echo "$row"
done

echo
echo "## Cost per authentication (256 MiB mixes by density, sessions per MB; median of $runs runs)"
echo
echo "| density | records | hopscope s | floor s |"
echo "|---|---|---|---|"
pts=""
for d in $densities; do
  f="$tmp/bench-d$d-256.pcap"
  mix "$f" 256 "$d" >/dev/null 2>&1
  hyperfine -N -w 1 -r "$runs" --export-json "$tmp/hs-bench.json" "$hs -r $f -o /dev/null" "$tmp/hs-pcaploop $f" >/dev/null 2>&1
  read -r th tf <<<"$(median "$tmp/hs-bench.json")"
  nr=$(records "$f")
  echo "| $d | $nr | $th | $tf |"
  pts="$pts $nr:$th:$tf"
done
python3 - $pts <<'EOF'
import sys
p=[tuple(map(float,a.split(':'))) for a in sys.argv[1:]]
if len(p) >= 2:
    n=len(p); mx=sum(r for r,_,_ in p)/n; my=sum(t-f for _,t,f in p)/n
    sxx=sum((r-mx)**2 for r,_,_ in p)
    if sxx > 0:
        b=sum((r-mx)*((t-f)-my) for r,t,f in p)/sxx
        print("\nhopscope's own time (hopscope − floor) grows by %.1f µs per record (least squares over the densities);" % (b*1e6))
        print("at density 0 it is %.3f s for 256 MiB of bulk traffic." % (p[0][1]-p[0][2]))
EOF

if [ -n "$timed" ]; then
  echo
  echo "## Memory in time (benchmix -d 40 -t 20000: an authentication session every 25 KB, a packet every 20 ms; one run each)"
  echo
  echo "Both ways of deciding: at the end (the default with -r; the rules run early and let old summaries go once"
  echo "2 MiB of them are kept) and --stream. Summaries: kept at the end / let go."
  echo
  echo "| mix | traffic spans | default: s | peak RSS MB | summaries | --stream: s | peak RSS MB | summaries |"
  echo "|---|---|---|---|---|---|---|---|"
  for mb in $timed; do
    f="$tmp/bench-t$mb.pcap"
    [ -s "$f" ] || "$tmp/hs-benchmix" -d 40 -t 20000 "$f" "$mb" "${lab[@]}" >/dev/null 2>&1
    cells=()
    for mode in "" --stream; do
      /usr/bin/time -f "%e %M" "$hs" -q $mode -r "$f" -o "$tmp/hs-bench-t-${mode:-batch}.json" \
        2>"$tmp/hs-bench-rss" || true
      read -r secs kb <<<"$(tail -1 "$tmp/hs-bench-rss")"
      cells+=("$secs" "$kb")
    done
    python3 -c '
import json, sys
mb, batch_out, stream_out = sys.argv[1:4]
bs, bkb, ss, skb = sys.argv[4:8]
def last(path):
    line = None
    for line in open(path):
        pass
    return json.loads(line) if line else {}
b, s = last(batch_out), last(stream_out)
def held(st):
    c = st.get("correlation", {})
    return "%s / %s" % (c.get("summaries", "all"), c.get("pruned", 0))
span = b.get("packets", 0) * 0.02 / 3600  # a packet every 20 ms
print("| %s MiB | %.1f h | %s | %.1f | %s | %s | %.1f | %s |" % (mb, span, bs, int(bkb) / 1024, held(b), ss,
                                                               int(skb) / 1024, held(s)))
' "$mb" "$tmp/hs-bench-t-batch.json" "$tmp/hs-bench-t---stream.json" "${cells[@]}"
  done
fi

if [ "$callgrind" = 1 ]; then
  f="$tmp/bench-64.pcap"
  mix "$f" 64 >/dev/null 2>&1
  # without the read-ahead thread, whose naps would make the count vary
  HOPSCOPE_READAHEAD=0 valgrind --tool=callgrind --callgrind-out-file="$tmp/hs-bench-cg.out" "$hs" -r "$f" -o /dev/null 2>"$tmp/hs-bench-cg.err" || true
  echo
  echo "callgrind, 64 MiB mix: $(grep -o 'refs: *[0-9,]*' "$tmp/hs-bench-cg.err" | tr -s ' ') instructions"
fi
