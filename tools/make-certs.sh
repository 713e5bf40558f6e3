#!/usr/bin/env bash
# Makes a BACnet/SC PKI with the openssl CLI: a site CA, a hub certificate and N node
# certificates, all EC P-256 / ECDSA-SHA256 (the Std AB.7.4 profile), each leaf signed
# directly by the CA (no intermediates: AB.7.4 wants the issuer itself configured), with
# SKI/AKI, keyUsage digitalSignature and EKU serverAuth+clientAuth (a node's certificate
# serves both roles: hub connector and direct-connect acceptor). Hub and nodes do no name
# checks by default, but the hub certificate carries a subjectAltName for clients that do.
#
#   tools/make-certs.sh [OPTIONS] DIR [NODES] [HUB_SAN]
#     DIR              output directory (created): ca.pem ca.key hub.pem hub.key
#                      node1.pem node1.key ... nodeN.pem nodeN.key
#     NODES            number of node certificates (default 1)
#     HUB_SAN          hub subjectAltName (default IP:127.0.0.1,DNS:localhost)
#   options:
#     --hub-san SAN    same as HUB_SAN, e.g. IP:10.1.2.3,DNS:hub.site.example
#     --hub-cn NAME    hub certificate subject CN (default bschub)
#     --days N         validity of hub and node certificates (default 825; env DAYS)
#     --ca-days N      validity of a new CA (default 7300, 20 years)
#     --quiet          print nothing but errors
# Existing files are kept, so re-running adds missing nodes only. To re-issue a
# certificate for the same key (renewal), delete NAME.pem and run again; to get a new key
# too, delete NAME.key as well. Issuing needs ca.key in DIR: keep it offline between runs.
# Keys are mode 0600, certificates 0644. Every new certificate is checked with
# `openssl verify` against ca.pem. Existing certificates that expire within 30 days are
# reported.
set -euo pipefail

usage() { awk 'NR >= 9 && !/^#/ { exit } NR >= 9' "$0" | sed 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }
die() { echo "make-certs.sh: $*" >&2; exit 2; }

hub_san="" hub_cn="bschub" days=${DAYS:-825} ca_days=7300 quiet=0
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --hub-san) hub_san=${2:?--hub-san needs a value}; shift 2 ;;
    --hub-cn) hub_cn=${2:?--hub-cn needs a value}; shift 2 ;;
    --days) days=${2:?--days needs a value}; shift 2 ;;
    --ca-days) ca_days=${2:?--ca-days needs a value}; shift 2 ;;
    --quiet) quiet=1; shift ;;
    -h|--help) usage 0 ;;
    --) shift; args+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -ge 1 ] && [ ${#args[@]} -le 3 ] || usage
dir=${args[0]}
nodes=${args[1]:-1}
[ ${#args[@]} -ge 3 ] && hub_san=${args[2]}
hub_san=${hub_san:-IP:127.0.0.1,DNS:localhost}

[[ $nodes =~ ^[0-9]+$ ]] && [ "$nodes" -le 100000 ] || die "NODES must be 0..100000, not '$nodes'"
[[ $days =~ ^[1-9][0-9]*$ ]] || die "--days must be a positive number of days, not '$days'"
[[ $ca_days =~ ^[1-9][0-9]*$ ]] || die "--ca-days must be a positive number of days, not '$ca_days'"
IFS=, read -ra san_items <<<"$hub_san"
for item in "${san_items[@]}"; do
  [[ $item =~ ^(IP|DNS|URI):[^[:space:]]+$ ]] ||
    die "HUB_SAN entries are IP:ADDR, DNS:NAME or URI:URI separated by commas, not '$item'"
done
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

mkdir -p "$dir"
cd "$dir"
umask 077
say() { [ $quiet -eq 1 ] || echo "$@"; }
made=() kept=()

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
serial() { echo "0x$(openssl rand -hex 16)"; }
expiry_note() {  # warn about a kept certificate close to its end
  openssl x509 -in "$1" -noout -checkend $((30 * 86400)) >/dev/null ||
    echo "make-certs.sh: warning: $dir/$1 expires $(openssl x509 -in "$1" -noout -enddate |
      cut -d= -f2)" >&2
}

if [ -f ca.pem ]; then
  kept+=(ca.pem)
  expiry_note ca.pem
else
  [ -f ca.key ] || newkey ca.key
  openssl req -new -x509 -key ca.key -out ca.pem -days "$ca_days" -sha256 -set_serial "$(serial)" \
    -subj "/CN=BACnet SC site CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
  made+=(ca.pem ca.key)
fi

leaf() {  # NAME CN SAN-or-empty
  local name=$1 cn=$2 san=$3
  if [ -f "$name.pem" ]; then
    kept+=("$name.pem")
    expiry_note "$name.pem"
    return 0
  fi
  [ -f ca.key ] || die "ca.key is not in $dir: it is needed to issue $name.pem (bring it back from offline storage)"
  if [ -f "$name.key" ]; then kept+=("$name.key"); else newkey "$name.key"; made+=("$name.key"); fi
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
    openssl x509 -req -CA ca.pem -CAkey ca.key -set_serial "$(serial)" -days "$days" -sha256 \
      -extfile "$ext" -out "$name.pem" 2>/dev/null || { rm -f "$ext"; die "signing $name.pem failed"; }
  rm -f "$ext"
  openssl verify -CAfile ca.pem "$name.pem" >/dev/null || die "$name.pem does not verify against ca.pem"
  made+=("$name.pem")
}

leaf hub "$hub_cn" "$hub_san"
for i in $(seq 1 "$nodes"); do leaf "node$i" "sc-node-$i" ""; done
chmod 0644 ./*.pem
chmod 0600 ./*.key

in_cert_san=$(openssl x509 -in hub.pem -noout -ext subjectAltName 2>/dev/null | tail -n +2 |
  sed 's/^ *//; s/IP Address:/IP:/g')
say "certificates in $dir (EC P-256; hub.pem SAN: ${in_cert_san:-none}):"
if [ ${#made[@]} -le 12 ]; then say "  made: ${made[*]:-nothing}"; else
  say "  made: ${#made[@]} files: ${made[*]:0:6} ... ${made[*]: -2}"; fi
[ ${#kept[@]} -eq 0 ] || say "  kept: ${#kept[@]} existing file(s)"
say "  hub: --cert $dir/hub.pem --key $dir/hub.key --ca $dir/ca.pem"
if [ -f ca.key ]; then
  say "  ca.key signs new certificates: move it offline for production"
fi
