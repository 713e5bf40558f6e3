#!/usr/bin/env bash
# Where a hub handshake's CPU goes (docs/handshake-profile.md): a connect storm of NODES full
# handshakes (tickets saved), then NODES resumed ones, against one hub (--workers 1, core 0;
# bschub-load on core 1), profiled by perf (sampled CPU time with whole stacks, kernel
# included) or callgrind (instruction counts, user space only), then split into cost classes.
#   bench/handshake_profile.sh perf|callgrind [NODES] [BUILD]
#     (defaults: perf 2000, callgrind 200; BUILD build-prof, a debugoptimized build:
#      meson setup build-prof --buildtype=debugoptimized -Dbench=false)
# Output in /tmp/bschub-profile-*/: full.* and resumed.* (profile, split table).
set -euo pipefail
cd "$(dirname "$0")/.."
tool=${1:?perf or callgrind}
nodes=${2:-$([ "$tool" = perf ] && echo 2000 || echo 200)}
build=${3:-build-prof}
out=$(mktemp -d /tmp/bschub-profile-XXXXXX)
tools/make-certs.sh --quiet "$out/pki" 1
pki=$out/pki
hub=
trap '[ -n "$hub" ] && kill $hub 2>/dev/null || true' EXIT

hub_args=(--listen 127.0.0.1:0 --cert $pki/hub.pem --key $pki/hub.key --ca $pki/ca.pem
          --workers 1 --log-level warn --handshake-timeout 60)
if [ "$tool" = callgrind ]; then
  # Instrumentation off until the storm starts: start-up is not counted.
  taskset -c 0 valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$out/callgrind.%p" ./$build/bschub "${hub_args[@]}" \
    > "$out/hub.out" 2> "$out/hub.err" &
  inflight=4  # callgrind runs the hub ~50x slower: keep the tool's timeouts away
else
  taskset -c 0 ./$build/bschub "${hub_args[@]}" > "$out/hub.out" 2> "$out/hub.err" &
  inflight=64
fi
hub=$!
for _ in $(seq 600); do grep -q '^bschub listening on' "$out/hub.out" 2>/dev/null && break; sleep 0.1; done
uri=$(sed -n 's/^bschub listening on \([^ ]*\).*/\1/p' "$out/hub.out")
[ -n "$uri" ] || { cat "$out/hub.err"; exit 1; }
cpu() { awk '{print $14 + $15}' /proc/$hub/stat; }

for round in full resumed; do
  if [ $round = full ]; then extra=(--save-tickets "$out/tickets"); else extra=(--resume "$out/tickets"); fi
  if [ "$tool" = callgrind ]; then
    callgrind_control -i on $hub > /dev/null
  else
    perf record -e cpu-clock -F 1000 --call-graph dwarf,16384 -p $hub -o "$out/$round.data" \
      2> "$out/$round.perf.err" &
    rec=$!
    sleep 0.5
  fi
  t0=$(cpu)
  taskset -c 1 ./$build/bschub-load --uri "$uri" --cert $pki/node1.pem --key $pki/node1.key \
    --ca $pki/ca.pem --quiet --mode connect --nodes "$nodes" --inflight $inflight --threads 1 \
    "${extra[@]}" | grep '^mode=' | cut -c1-150
  t1=$(cpu)
  echo "$round: hub CPU $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / nodes )) us per connection (/proc)"
  if [ "$tool" = callgrind ]; then
    callgrind_control -i off $hub > /dev/null
    callgrind_control -d $round $hub > /dev/null
    callgrind_control -z $hub > /dev/null
    f=$(ls -t "$out"/callgrind.* | head -1)
    mv "$f" "$out/$round.callgrind"
    bench/callgrind_split.py "$out/$round.callgrind" --per "$nodes" > "$out/$round.split"
  else
    kill -INT $rec; wait $rec || true
    perf script -i "$out/$round.data" -F comm,tid,period,ip,sym,dso 2> /dev/null > "$out/$round.stacks"
    bench/perf_split.py "$out/$round.stacks" --per "$nodes" > "$out/$round.split"
  fi
  head -25 "$out/$round.split"
done
kill -TERM $hub; wait $hub || true
hub=
echo "output: $out"
