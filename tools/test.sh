#!/usr/bin/env bash
# The whole test suite: install dependencies, build, run unit + integration tests (real TLS
# on loopback), then the same in an AddressSanitizer+UBSan build and a ThreadSanitizer
# build, and print one line "N passed, N failed" counting individual test cases.
#   tools/test.sh                 (run as root on Debian 12)
# and fuzzes each libFuzzer target for FUZZ_SECONDS (default 8) in a clang build.
#   BSCHUB_SANITIZERS=0 tools/test.sh    skips the two sanitizer builds
#   BSCHUB_FUZZ=0 tools/test.sh          skips the fuzzing step
set -uo pipefail
cd "$(dirname "$0")/.."

fail() { echo "tools/test.sh: $1" >&2; echo "0 passed, 1 failed"; exit 1; }

tools/setup.sh || fail "dependency setup failed"

logs=()
run_build() {  # dir, meson setup options..., then -- meson test options
  local dir=$1; shift
  local setup=() testopts=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do setup+=("$1"); shift; done
  [ $# -gt 0 ] && shift && testopts=("$@")
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "${setup[@]}" >/dev/null || fail "meson setup $dir failed"
  fi
  ninja -C "$dir" || fail "build in $dir failed"
  echo "== tests in $dir"
  meson test -C "$dir" --print-errorlogs --num-processes 1 "${testopts[@]}"
  logs+=("$dir/meson-logs/testlog.json")
}

run_build build --buildtype=release
if [ "${BSCHUB_SANITIZERS:-1}" != 0 ]; then
  # Sanitizer reports make the hub exit non-zero, which the suites check.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export TSAN_OPTIONS=halt_on_error=0:exitcode=66
  export BSCHUB_STORM_NODES=100 BSCHUB_STORM_TRAFFIC_S=6  # test_storm.py: handshakes are slow here
  export BSCHUB_STATE_KILLS=3  # test_state_store.py: the writer is slow here
  # -O1 -g1 (line tables only): reports keep file:line, and the ASan+UBSan build of the
  # header-only CLI11/toml++ users takes under half the time it takes at -O2 -g.
  sanitized=(-Doptimization=1 -Ddebug=false -Db_ndebug=false -Dcpp_args=-g1 -Dc_args=-g1
             -Dbench=false)
  run_build build-asan "${sanitized[@]}" -Db_sanitize=address,undefined -Db_lundef=false \
    -- --suite unit --suite integration --suite interop --no-suite workers1
  run_build build-tsan "${sanitized[@]}" -Db_sanitize=thread \
    -- --suite unit --suite integration --suite interop --no-suite workers1
fi
if [ "${BSCHUB_FUZZ:-1}" != 0 ]; then
  echo "== fuzzing (tools/fuzz.sh, ${FUZZ_SECONDS:-8} s per target)"
  fuzz_result=OK
  FUZZ_SKIP_SETUP=1 FUZZ_SECONDS=${FUZZ_SECONDS:-8} tools/fuzz.sh || fuzz_result=FAIL
  [ -f build-fuzz/meson-logs/testlog.json ] && logs+=("build-fuzz/meson-logs/testlog.json")
  # One summary line for the fuzzing run itself (regressions replay is in the testlog).
  printf '{"name": "fuzz-run", "result": "%s", "stdout": ""}\n' "$fuzz_result" \
    > build/fuzz-run.json
  logs+=("build/fuzz-run.json")
fi
/usr/bin/python3 tools/test_summary.py "${logs[@]}"
