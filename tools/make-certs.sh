#!/usr/bin/env bash
# Makes a BACnet/SC PKI with the openssl CLI: a site CA, a hub certificate and N node
# certificates, all EC P-256 / SHA-256 (the Std AB.7.4 profile), each leaf signed directly
# by the CA, with SKI/AKI and EKU serverAuth+clientAuth (a node's certificate serves both
# roles: hub connector and direct-connect acceptor).
#
#   tools/make-certs.sh DIR [NODES] [HUB_SAN]
#     DIR      output directory (created)       -> ca.pem ca.key hub.pem hub.key nodeI.pem nodeI.key
#     NODES    number of node certificates (default 1)
#     HUB_SAN  subjectAltName of the hub (default IP:127.0.0.1,DNS:localhost)
#     DAYS     environment: validity in days (default 825)
# Existing files are kept (re-running adds missing nodes only). Keys are mode 0600.
set -euo pipefail

dir=${1:?usage: tools/make-certs.sh DIR [NODES] [HUB_SAN]}
nodes=${2:-1}
hub_san=${3:-IP:127.0.0.1,DNS:localhost}
days=${DAYS:-825}
mkdir -p "$dir"
cd "$dir"
umask 077

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -f ca.pem ]; then
  newkey ca.key
  openssl req -new -x509 -key ca.key -out ca.pem -days "$days" -sha256 \
    -subj "/CN=BACnet SC site CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
fi

leaf() {  # name CN SAN-or-empty
  local name=$1 cn=$2 san=$3
  [ -f "$name.pem" ] && return 0
  newkey "$name.key"
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid:always"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } > "$ext"
  openssl req -new -key "$name.key" -subj "/CN=$cn" 2>/dev/null |
    openssl x509 -req -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
      -extfile "$ext" -out "$name.pem" 2>/dev/null
  rm -f "$ext"
}

leaf hub "bschub" "$hub_san"
for i in $(seq 1 "$nodes"); do leaf "node$i" "sc-node-$i" ""; done
chmod 0644 ./*.pem
echo "certificates in $dir: ca.pem, hub.pem/.key, node1..node$nodes .pem/.key"
