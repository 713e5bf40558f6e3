#!/usr/bin/env bash
# tools/make-certs.sh makes a PKI the hub accepts: P-256 leaves signed by the CA with the
# Std's extensions, keys 0600, the hub SAN asked for; re-running keeps what exists and adds
# nodes; bad arguments and a missing CA key are refused with a message.
#   tests/test_make_certs.sh BSCHUB_BINARY
set -euo pipefail
bschub=${1:?usage: tests/test_make_certs.sh BSCHUB_BINARY}
tools=$(cd "$(dirname "$0")/../tools" && pwd)
tmp=$(mktemp -d /tmp/bschub-make-certs-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pki=$tmp/pki

out=$("$tools/make-certs.sh" --hub-san IP:10.1.2.3,DNS:hub.site.example --days 90 "$pki" 2)
grep -q "hub.pem SAN: IP:10.1.2.3, DNS:hub.site.example" <<<"$out" || fail "summary: $out"
for f in ca hub node1 node2; do
  [ "$(stat -c %a "$pki/$f.key")" = 600 ] || fail "$f.key is not mode 0600"
  [ "$(stat -c %a "$pki/$f.pem")" = 644 ] || fail "$f.pem is not mode 0644"
done
for f in hub node1 node2; do
  openssl verify -CAfile "$pki/ca.pem" "$pki/$f.pem" >/dev/null || fail "$f.pem does not verify"
  text=$(openssl x509 -in "$pki/$f.pem" -noout -text)
  for want in "ASN1 OID: prime256v1" "ecdsa-with-SHA256" "CA:FALSE" "Digital Signature" \
              "TLS Web Server Authentication, TLS Web Client Authentication" \
              "X509v3 Subject Key Identifier" "X509v3 Authority Key Identifier"; do
    grep -q "$want" <<<"$text" || fail "$f.pem lacks '$want'"
  done
  openssl x509 -in "$pki/$f.pem" -noout -checkend $((89 * 86400)) >/dev/null ||
    fail "$f.pem is not valid for the 90 days asked"
  ! openssl x509 -in "$pki/$f.pem" -noout -checkend $((91 * 86400)) >/dev/null ||
    fail "$f.pem is valid beyond the 90 days asked"
done
grep -q "IP Address:10.1.2.3, DNS:hub.site.example" <<<"$(openssl x509 -in "$pki/hub.pem" -noout -text)" ||
  fail "hub.pem lacks the SAN asked for"

# The hub loads them: certificate, matching key and CA.
printf 'cert = "%s"\nkey = "%s"\nca = "%s"\n' "$pki/hub.pem" "$pki/hub.key" "$pki/ca.pem" > "$tmp/hub.toml"
[ "$("$bschub" --check-config "$tmp/hub.toml")" = "$tmp/hub.toml: OK" ] || fail "hub rejects the PKI"

# Re-running keeps every file and adds node3 only.
before=$(sha256sum "$pki"/*.pem "$pki"/*.key)
"$tools/make-certs.sh" --quiet "$pki" 3
[ "$(sha256sum "$pki"/ca.* "$pki"/hub.* "$pki"/node[12].* | sort)" = "$(sort <<<"$before")" ] ||
  fail "a re-run changed existing files"
openssl verify -CAfile "$pki/ca.pem" "$pki/node3.pem" >/dev/null || fail "node3.pem not added"

# Refusals, each with its reason and exit 2.
expect_refusal() {  # PATTERN ARGS...
  local pattern=$1 rc=0 err
  shift
  err=$("$tools/make-certs.sh" "$@" 2>&1 >/dev/null) || rc=$?
  [ $rc -eq 2 ] || fail "make-certs.sh $* exited $rc, expected 2"
  grep -q "$pattern" <<<"$err" || fail "make-certs.sh $*: '$err' lacks '$pattern'"
}
expect_refusal "NODES must be" "$tmp/x" many
expect_refusal "HUB_SAN entries are" "$tmp/x" 1 "hub.site.example"
expect_refusal "unknown option --bogus" --bogus "$tmp/x"
mv "$pki/ca.key" "$tmp/ca.key.offline"
expect_refusal "ca.key is not in" "$pki" 4
echo "make-certs test: ok"
