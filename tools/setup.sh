#!/usr/bin/env bash
# Installs every build and test dependency of bschub from Debian's archive.
# Idempotent; run as root on Debian 12 (bookworm). mbedTLS 3.6 (TLS 1.3) comes from
# the trixie suite with a low pin so that nothing else is upgraded from it.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -o DPkg::Lock::Timeout=600 -y -q"

need_update=1
if ! grep -qs trixie /etc/apt/sources.list.d/trixie.sources; then
  URI=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  if [ -z "$URI" ]; then
    URI=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  fi
  cat > /etc/apt/sources.list.d/trixie.sources <<SRC
Types: deb
URIs: $URI
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  cat > /etc/apt/preferences.d/trixie-low <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
fi

PKGS=(
  build-essential pkg-config meson ninja-build
  libuv1-dev libwslay-dev libllhttp-dev libcli11-dev
  libconcurrentqueue-dev libbenchmark-dev doctest-dev libtomlplusplus-dev nlohmann-json3-dev
  libsqlite3-dev sqlite3
  openssl python3 python3-websockets
  # field interop suite (tests/interop): a libwebsockets node, a Java node, a Node.js node
  libwebsockets-dev libssl-dev openjdk-17-jdk-headless
  # a hub that does not stop when told gets its threads' stacks in the test's failure
  gdb
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
have_mbedtls36=0
if [ -f /usr/include/mbedtls/build_info.h ] && grep -q 'MBEDTLS_VERSION_STRING *"3\.6' /usr/include/mbedtls/build_info.h; then
  have_mbedtls36=1
fi

if [ ${#missing[@]} -gt 0 ] || [ $have_mbedtls36 -eq 0 ]; then
  $APT update
  [ ${#missing[@]} -gt 0 ] && $APT install --no-install-recommends "${missing[@]}"
  [ $have_mbedtls36 -eq 1 ] || $APT install --no-install-recommends -t trixie libmbedtls-dev
fi

grep -q 'MBEDTLS_VERSION_STRING *"3\.6' /usr/include/mbedtls/build_info.h || {
  echo "setup.sh: mbedTLS 3.6 did not install" >&2; exit 1; }

# Node.js for the interop suite's ws node: the machine's own if it has one, else Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  $APT update
  $APT install --no-install-recommends nodejs npm
fi
# Every package of package.json (ws, @bacnet-js/client) at the version package-lock.json
# pins; nothing is fetched when they are there.
NODE_DIR="$(dirname "$0")/../tests/interop/node"
if ! (cd "$NODE_DIR" && node -e 'const deps = require("./package.json").dependencies;
       process.exit(Object.entries(deps).every(([name, version]) =>
         require(name + "/package.json").version === version) ? 0 : 1)' 2>/dev/null); then
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) || {
    echo "setup.sh: npm ci in tests/interop/node failed" >&2; exit 1; }
fi
echo "setup.sh: dependencies present"
