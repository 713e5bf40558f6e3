#!/usr/bin/env bash
# The main job, end to end: install dependencies, build, make demo certificates, start the
# hub on loopback, drive it with bschub-load for a few seconds, print what happened, stop.
#   tools/demo.sh [SECONDS]     (run as root on Debian 12; default 5 s)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}

tools/setup.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build bschub bschub-load >/dev/null
tools/make-certs.sh demo/pki 2 >/dev/null

pki=demo/pki
log=demo/bschub.log
./build/bschub --listen 127.0.0.1:0 --cert $pki/hub.pem --key $pki/hub.key --ca $pki/ca.pem \
  > demo/bschub.out 2> "$log" &
hub=$!
trap 'kill $hub 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q '^bschub listening on' demo/bschub.out 2>/dev/null && break
  sleep 0.1
done
uri=$(sed -n 's/^bschub listening on \([^ ]*\).*/\1/p' demo/bschub.out)
[ -n "$uri" ] || { echo "hub did not start:"; cat "$log"; exit 1; }
head -1 demo/bschub.out

echo "== echo: 2 nodes, 32 messages in flight, 100-byte NPDUs, ${secs}s (TLS 1.3)"
./build/bschub-load --uri "$uri" --cert $pki/node1.pem --key $pki/node1.key --ca $pki/ca.pem \
  --mode echo --nodes 2 --inflight 32 --size 100 --duration "$secs" --quiet
echo "== broadcast: 20 nodes, 1 sender, ${secs}s"
./build/bschub-load --uri "$uri" --cert $pki/node2.pem --key $pki/node2.key --ca $pki/ca.pem \
  --mode broadcast --nodes 20 --size 100 --duration "$secs" --quiet

kill -TERM $hub
wait $hub
trap - EXIT
echo "== hub counters at exit (from $log):"
grep 'event=stopped' "$log" | sed 's/.*event=stopped /  /' | tr ' ' '\n' | sed '/^$/d;s/^/  /'
