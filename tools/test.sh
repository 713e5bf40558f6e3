#!/usr/bin/env bash
# The whole test suite: install dependencies, build, run unit + integration tests (real TLS
# on loopback), then print one line "N passed, N failed" counting individual test cases.
#   tools/test.sh            (run as root on Debian 12)
set -uo pipefail
cd "$(dirname "$0")/.."

fail() { echo "tools/test.sh: $1" >&2; echo "0 passed, 1 failed"; exit 1; }

tools/setup.sh || fail "dependency setup failed"
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null || fail "meson setup failed"
fi
ninja -C build || fail "build failed"
meson test -C build --print-errorlogs --num-processes 1
/usr/bin/python3 tools/test_summary.py build/meson-logs/testlog.json
