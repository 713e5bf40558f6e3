#!/usr/bin/env bash
# Benchmark report for bschub: runs the fixed matrix of bench/report.py (echo 1..N workers x
# TLS/plaintext x 100/1024/1400 B, 1 KB with AES-128-GCM, a light-load row, broadcast to 100
# and 1,000 nodes with one and with 64 senders, a 1,000-node connect storm, 2,000 idle nodes)
# and writes bench/results/report.md, report.json and PNG plots.
#
#   bench/report.sh [report.py options, e.g. --duration 3 | --quick]
#
# Uses the Debian python (/usr/bin/python3) and installs python3-matplotlib with apt-get if it is
# missing (plots are skipped, not fatal, if that fails). Build first: ninja -C build.
# Bounded: the whole run is killed after 15 minutes; every hub/load process dies with it.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
[ -x build/bschub ] && [ -x build/bschub-load ] || { echo "build first: ninja -C build" >&2; exit 2; }

if ! "$PY" -c 'import matplotlib' 2>/dev/null; then
  echo "report.sh: python3-matplotlib missing; installing it with apt-get" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  timeout 900 $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y python3-matplotlib >/dev/null 2>&1 ||
    { timeout 300 $SUDO apt-get -o DPkg::Lock::Timeout=600 update >/dev/null 2>&1 &&
      timeout 900 $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y python3-matplotlib >/dev/null 2>&1; } ||
    echo "report.sh: could not install python3-matplotlib; the report will have no plots" >&2
fi

mkdir -p bench/results
timeout -k 10 900 "$PY" bench/report.py "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' INT TERM
trap 'kill -TERM "$pid" 2>/dev/null' EXIT
wait "$pid"
rc=$?
trap - EXIT
exit $rc
