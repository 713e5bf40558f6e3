#!/usr/bin/env bash
# Reconnect-storm bench (docs/reconnect-storms.md), all on loopback:
#   1. a storm of NODES full mutual-TLS handshakes (bschub-load --mode connect), saving the
#      session tickets the hub issues;
#   2. the same nodes again, resuming with those tickets;
#   3. 100 established nodes in open-loop traffic while a storm of NODES runs (generator
#      under nice, standing in for remote devices): their latency and losses.
# Prints each run's summary and the hub's CPU per connection.
#   bench/storm.sh [NODES] [WORKERS]        (default 10000, 2; needs a release build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-10000}
workers=${2:-2}
work=$(mktemp -d /tmp/bschub-storm-XXXXXX)
trap 'kill $hub 2>/dev/null || true; rm -rf "$work"' EXIT
tools/make-certs.sh "$work/pki" 1 >/dev/null
pki=$work/pki
hub=

start_hub() {
  ./build/bschub --listen 127.0.0.1:0 --cert $pki/hub.pem --key $pki/hub.key --ca $pki/ca.pem \
    --workers "$workers" --log-level warn "$@" > "$work/hub.out" 2> "$work/hub.err" &
  hub=$!
  for _ in $(seq 100); do grep -q '^bschub listening on' "$work/hub.out" 2>/dev/null && break; sleep 0.1; done
  uri=$(sed -n 's/^bschub listening on \([^ ]*\).*/\1/p' "$work/hub.out")
  [ -n "$uri" ] || { cat "$work/hub.err"; exit 1; }
}
hub_ticks() { awk '{print $14 + $15}' /proc/$hub/stat; }
load() {
  ./build/bschub-load --uri "$uri" --cert $pki/node1.pem --key $pki/node1.key \
    --ca $pki/ca.pem --quiet "$@"
}

start_hub
for round in full resumed; do
  t0=$(hub_ticks)
  if [ $round = full ]; then extra=(--save-tickets "$work/tickets"); else extra=(--resume "$work/tickets"); fi
  echo "== $round storm: $nodes nodes, hub --workers $workers"
  load --mode connect --nodes "$nodes" --inflight 512 --threads 2 "${extra[@]}" 2>&1 |
    grep -E '^mode=|resumed='
  t1=$(hub_ticks)
  awk -v t="$((t1 - t0))" -v n="$nodes" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "   hub CPU per connection: %.2f ms\n", t * 1000 / hz / n }'
done
kill -TERM $hub; wait $hub || true

echo "== 100 established nodes (rate 2000/s, 100 B) during a storm of $nodes"
start_hub
secs=$((nodes / 150 + 8))
load --mode rate --nodes 100 --rate 2000 --size 100 --duration "$secs" > "$work/rate.out" 2>&1 &
rate=$!
sleep 2
nice -n 10 ./build/bschub-load --uri "$uri" --cert $pki/node1.pem --key $pki/node1.key \
  --ca $pki/ca.pem --quiet --mode connect --nodes "$nodes" --inflight 512 --threads 2 | grep '^mode='
wait $rate || true
grep '^mode=' "$work/rate.out"
kill -TERM $hub; wait $hub || true
