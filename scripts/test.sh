#!/usr/bin/env bash
# Builds hopscope with warnings as errors and runs the whole test suite (unit, fuzz replay, golden
# traces, tshark agreement, install and man page, CLI). --sanitize builds with ASan + UBSan into
# build-asan instead; --tsan builds hopscope with ThreadSanitizer into build-tsan and runs the tests that run
# --threads (threads, stream, live_capture). First checks that what the tests need is installed (Debian packages); with
# --install-deps it installs what is missing (apt-get; through sudo unless run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

# What building needs (README "Quick start") and what the tests need on top of it.
BUILD_PKGS="build-essential cmake pkg-config libpcap-dev libkrb5-dev libssl-dev libjansson-dev zlib1g-dev libzstd-dev liblz4-dev libgraphviz-dev"
TEST_PKGS="libcmocka-dev python3 tshark tcpreplay iproute2 man-db groff-base bsdutils zstd lz4 dpkg-dev graphviz chromium clang libclang-rt-14-dev"

sanitize=0 install=0 tsan=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --tsan) tsan=1 ;;
    --install-deps) install=1 ;;
    *) echo "usage: $0 [--sanitize | --tsan] [--install-deps]" >&2; exit 2 ;;
  esac
done

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$install" = 1 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "installing:$missing"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "missing Debian packages the tests need:$missing" >&2
    echo "install them (apt-get install$missing) or run $0 --install-deps" >&2
    exit 1
  fi
fi

dir=build
flags="-DHOPSCOPE_WERROR=ON -DBUILD_TESTING=ON"
if [ "$sanitize" = 1 ]; then
  dir=build-asan
  flags="$flags -DHOPSCOPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
if [ "$tsan" = 1 ]; then
  # OpenSSL and libkrb5 are not instrumented; tests/tsan.supp names what of theirs is not ours.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"
  cmake -S . -B build-tsan $flags -DHOPSCOPE_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-tsan -j"$(nproc)" --target hopscope
  ctest --test-dir build-tsan --output-on-failure -j"$(nproc)" -R '^(threads|stream|live_capture)$'
  exit
fi
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
