#!/usr/bin/env bash
# Fuzzes every libFuzzer target (tests/fuzz/) for a given time each, under ASan + UBSan.
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [--build DIR] [TARGET ...]
#
# Builds DIR (default build-fuzz) with clang and -DHOPSCOPE_FUZZ=ON if needed, then runs each target
# (default: all of tests/fuzz/CMakeLists.txt's HOPSCOPE_FUZZ_TARGETS) for N seconds (default 60), J targets
# at a time (default 1), starting from the kept corpus tests/fuzz/corpus/<target>/ plus what earlier runs
# found in $HOPSCOPE_FUZZ_WORK (default /tmp/hsfuzz)/corpus/<target>/. New inputs go there, never into the
# tree. A crash, leak, sanitizer report or timeout (> 10 s for one input; HOPSCOPE_FUZZ_TIMEOUT=N to change it on
# a loaded machine, where a nice-19 run can stall past 10 s on an input that takes 4 ms) fails the run: the input is left
# in $HOPSCOPE_FUZZ_WORK/art/<target>/ and its path printed; minimise it and add it to the kept corpus as
# regress-<what> (tests/fuzz/README.md). Prints one line per target: executions, coverage, corpus size.
# Exit status: 0 all clean, 1 a target found something, 2 usage or build error.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=60 jobs=1 build=build-fuzz targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "fuzz.sh: --seconds needs a positive number" >&2; exit 2; }
if [ ${#targets[@]} -eq 0 ]; then
  read -r -a targets <<<"$(sed -n 's/^set(HOPSCOPE_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)"
fi
command -v clang >/dev/null || { echo "fuzz.sh: clang not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOPSCOPE_FUZZ=ON >/dev/null || exit 2
fi
cmake --build "$build" -j"$(nproc)" >/dev/null || { echo "fuzz.sh: build failed (cmake --build $build)" >&2; exit 2; }

work=${HOPSCOPE_FUZZ_WORK:-/tmp/hsfuzz}
fail=0
run_one() {
  local t=$1 bin="$build/tests/fuzz/fuzz_$1"
  local corpus="$work/corpus/$t" art="$work/art/$t" log="$work/log/$t.log"
  mkdir -p "$corpus" "$art" "$work/log"
  [ -x "$bin" ] || { echo "FAIL $t: no binary $bin"; return 1; }
  local dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  [ "$t" = stream_http ] && dict=(-dict=tests/fuzz/http.dict)
  "$bin" -max_total_time="$seconds" -timeout="${HOPSCOPE_FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$art/" "${dict[@]}" "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1
  local rc=$?
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    echo "FAIL $t after ${execs:-?} runs: $(grep -m1 -E 'ERROR|SUMMARY|deadly|fuzz invariant' "$log")"
    echo "     input: $(ls -t "$art" | head -1 | sed "s|^|$art/|")  log: $log"
    return 1
  fi
  echo "PASS $t: ${execs:-?} runs in ${seconds} s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) new + $(ls "tests/fuzz/corpus/$t" | wc -l) kept"
}

running=0
for t in "${targets[@]}"; do
  run_one "$t" > "$work.$t.out" 2>&1 &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || fail=1; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n || fail=1; running=$((running - 1)); done
for t in "${targets[@]}"; do cat "$work.$t.out"; rm -f "$work.$t.out"; done
exit $fail
