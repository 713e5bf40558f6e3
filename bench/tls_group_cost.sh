#!/usr/bin/env bash
# Hub CPU per full TLS 1.3 handshake, by key exchange group (docs/tls.md has the figures).
# For each group: a hub with every group allowed (--workers 1 --no-tls-tickets) takes 1, then
# 21 handshakes from `openssl s_client -groups G`; its handshake_cpu_us counter gives
# (cost of 21 - cost of 1) / 20, so one-time costs of the first handshake cancel out.
#   bench/tls_group_cost.sh [build/bschub]        (loopback only; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
HUB=${1:-build/bschub}
PKI=$(mktemp -d)
trap 'rm -rf "$PKI"' EXIT
/usr/bin/python3 tests/integration/lib/certs.py "$PKI" >/dev/null
ALL=p256,x25519,p384,p521,x448,ffdhe2048,ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192

cost() {  # openssl-group-name handshakes -> handshake_cpu_us
  "$HUB" --listen 127.0.0.1:0 --cert "$PKI/hub.pem" --key "$PKI/hub.key" --ca "$PKI/ca.pem" \
    --log-level info --no-tls-tickets --workers 1 --tls-groups "$ALL" \
    >"$PKI/out" 2>"$PKI/err" &
  local pid=$! port=""
  for _ in $(seq 50); do
    port=$(sed -n 's/^bschub listening on wss:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$PKI/out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  for _ in $(seq "$2"); do
    echo | timeout 20 openssl s_client -connect "127.0.0.1:$port" -tls1_3 -CAfile "$PKI/ca.pem" \
      -cert "$PKI/node1.pem" -key "$PKI/node1.key" -groups "$1" >/dev/null 2>&1 || true
  done
  kill "$pid"; wait "$pid" || true
  sed -n 's/.*event=stopped.* handshake_cpu_us=\([0-9]*\).*/\1/p' "$PKI/err"
}

echo "group        hub CPU per full handshake"
for g in prime256v1 X25519 secp384r1 secp521r1 X448 ffdhe2048 ffdhe3072 ffdhe4096 ffdhe6144 \
         ffdhe8192; do
  one=$(cost "$g" 1); many=$(cost "$g" 21)
  awk -v g="$g" -v one="$one" -v many="$many" \
    'BEGIN { printf "%-12s %8.2f ms\n", g, (many - one) / 20000 }' 
done
