#!/usr/bin/env bash
# Hub RSS per idle TLS node: starts build/bschub (extra options passed through, e.g.
# --idle-trim 0), reads its VmRSS, connects NODES idle nodes with bschub-load (Heartbeat-
# Request every HB s), waits until all are connected plus SETTLE s, reads VmRSS again and
# prints (after - before) / NODES. Needs `ulimit -n` above NODES (one fd per node).
#
#   bench/idle_rss.sh NODES [bschub options...]     env: HB=120 SETTLE=40 HOLD=100
set -uo pipefail
cd "$(dirname "$0")/.."
n=$1; shift
hb=${HB:-120} settle=${SETTLE:-40} hold=${HOLD:-100}
[ -x build/bschub ] && [ -x build/bschub-load ] || { echo "build first: ninja -C build" >&2; exit 2; }
pki=demo/pki; tools/make-certs.sh --quiet $pki 1
d=$(mktemp -d /tmp/bschub-idle-rss-XXXXXX)
ulimit -n $((n + 1000)) || exit 2
build/bschub --listen 127.0.0.1:0 --cert $pki/hub.pem --key $pki/hub.key --ca $pki/ca.pem \
  --max-connections $((n + 100)) --source-rate 0 --max-handshakes 512 \
  --metrics 127.0.0.1:0 "$@" > $d/out 2> $d/log &
hub=$!
trap 'kill $hub 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q '^bschub listening' $d/out 2>/dev/null && break; sleep 0.1; done
uri=$(sed -n 's/^bschub listening on \([^ ]*\).*/\1/p' $d/out)
mport=$(sed -n 's/^bschub metrics on http:\/\/[^:]*:\([0-9]*\).*/\1/p' $d/out)
sleep 1
rss0=$(awk '/VmRSS/{print $2}' /proc/$hub/status)
build/bschub-load --uri "$uri" --cert $pki/node1.pem --key $pki/node1.key --ca $pki/ca.pem \
  --mode idle --nodes "$n" --duration "$hold" --heartbeat-interval "$hb" --quiet > $d/load.out 2>&1 &
load=$!
t0=$(date +%s)
until [ "$(curl -s "http://127.0.0.1:$mport/metrics" |
          awk '/^bschub_nodes\{.*state="connected"/{s+=$2} END{print s+0}')" -ge "$n" ]; do
  kill -0 $load 2>/dev/null || { echo "bschub-load ended early:"; cat $d/load.out; exit 1; }
  sleep 2
done
echo "all $n nodes connected after $(( $(date +%s) - t0 )) s"
sleep "$settle"
rss1=$(awk '/VmRSS/{print $2}' /proc/$hub/status)
curl -s "http://127.0.0.1:$mport/metrics" | grep -E '^bschub_idle_trims_total'
echo "hub VmRSS ${rss0} -> ${rss1} KiB: $(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }') KiB per node"
wait $load; echo "bschub-load exit $?: $(grep '^mode=' $d/load.out)"
