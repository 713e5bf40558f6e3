#!/usr/bin/env bash
# `meson install` into a scratch DESTDIR: every packaged file lands in its place, the
# installed unit runs the installed binary, the installed binary runs, and the example
# config (with every commented-out default switched on) passes --check-config.
#   tests/test_install.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: tests/test_install.sh BUILD_DIR}" && pwd)
dest=$(mktemp -d /tmp/bschub-install-test.XXXXXX)
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
  /usr/bin/python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
root=$dest$prefix

for f in bin/bschub bin/bschub-load bin/bschub-ctl; do
  [ -x "$root/$f" ] || fail "$prefix/$f not installed or not executable"
done
for f in share/man/man8/bschub.8 share/doc/bschub/bschub.toml.example \
         lib/systemd/system/bschub.service; do
  [ -s "$root/$f" ] || fail "$prefix/$f not installed"
done

unit=$root/lib/systemd/system/bschub.service
grep -qx "ExecStart=$prefix/bin/bschub --config /etc/bschub/bschub.toml" "$unit" ||
  fail "unit's ExecStart does not run $prefix/bin/bschub"
for line in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes \
            CapabilityBoundingSet=CAP_NET_BIND_SERVICE LimitNOFILE=1048576; do
  grep -qx "$line" "$unit" || fail "unit lacks $line"
done

help=$("$root/bin/bschub" --help) || fail "installed bschub --help exited $?"
grep -q -- "--check-config" <<<"$help" || fail "installed bschub --help lists no --check-config"
"$root/bin/bschub-load" --help >/dev/null || fail "installed bschub-load --help failed"
"$root/bin/bschub-ctl" --help >/dev/null || fail "installed bschub-ctl --help failed"

# The example with its defaults switched on; plain ws:// on loopback needs no key files.
# Left commented: a CRL and a ticket key file (they need TLS and the site's file) and the
# admin group (a group of the site's machine).
example=$dest/example.toml
sed -E '/^# (crl|admin-group|ticket-key-file) = /!s/^# ([a-z-]+ = )/\1/' \
  "$root/share/doc/bschub/bschub.toml.example" > "$example"
[ "$(grep -cE '^[a-z-]+ = ' "$example")" -ge 15 ] || fail "example config lost its keys"
out=$("$root/bin/bschub" --check-config "$example" --no-tls --listen 127.0.0.1:4443 2>&1) ||
  fail "example config does not check: $out"
[ "$out" = "$example: OK" ] || fail "unexpected --check-config output: $out"
echo "install test: ok ($prefix)"
