#!/usr/bin/env bash
# Builds hopscope with warnings as errors and runs the whole test suite (unit, fuzz replay, golden
# traces, tshark agreement). --sanitize builds with ASan + UBSan into build-asan instead.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags="-DHOPSCOPE_WERROR=ON -DBUILD_TESTING=ON"
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  flags="$flags -DHOPSCOPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
