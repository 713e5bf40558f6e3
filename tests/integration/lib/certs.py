"""Test PKI for the bschub integration tests, built with the `openssl` CLI.

make_pki() is all EC P-256 / SHA-256 (the mandatory BACnet/SC TLS profile); make_leaf()
adds P-384 and RSA keys, a node certificate without clientAuth and an intermediate CA;
make_self_signed() a node certificate that no CA signed; make_crl() a CRL (PEM or DER,
current or stale) revoking given certificates. make_tool_pki() runs
tools/make-certs.sh instead (the PKI the benches measure with).

Layout produced by make_pki(directory):

    site CA        ca.pem / ca.key            (self-signed, CA:TRUE, SKI/AKI)
    hub            hub.pem / hub.key          (signed by site CA, SAN IP:127.0.0.1,
                                               EKU serverAuth+clientAuth, SKI/AKI)
    nodes          node1..nodeN .pem/.key     (signed by site CA, EKU clientAuth+serverAuth)
    foreign CA     foreign-ca.pem / .key      (unrelated CA)
    foreign node   foreign-node.pem / .key    (signed by the foreign CA)
    expired node   expired-node.pem / .key    (site CA, valid 2020-01-01 .. 2021-01-01)
    future node    future-node.pem / .key     (site CA, valid 2099-01-01 .. 2100-01-01)

The expired / not-yet-valid certificates are issued with `openssl ca -startdate/-enddate`
because OpenSSL 3.0's `x509 -req` has no -not_before/-not_after. If that fails for any
reason those two attributes are None and the tests that need them are skipped.

Run directly to build a PKI in a directory and print `openssl verify` results (stdlib only,
so it runs as a plain script from anywhere):
    /usr/bin/python3 tests/integration/lib/certs.py [DIR]
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

OPENSSL = os.environ.get("OPENSSL", "openssl")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

_REQ = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
"""


def _extensions(name, basic, usage, extended=None, authority=True, alt_name=None):
    """One openssl extension section: the profile of one kind of certificate."""
    lines = [f"[{name}]", f"basicConstraints = critical, {basic}",
             f"keyUsage = critical, {usage}"]
    if extended:
        lines.append(f"extendedKeyUsage = {extended}")
    lines.append("subjectKeyIdentifier = hash")
    if authority:
        lines.append("authorityKeyIdentifier = keyid:always")
    if alt_name:
        lines.append(f"subjectAltName = {alt_name}")
    return "\n".join(lines) + "\n"


_PROFILES = "\n".join([
    _extensions("v3_ca", "CA:TRUE", "keyCertSign, cRLSign"),
    _extensions("v3_hub", "CA:FALSE", "digitalSignature", "serverAuth, clientAuth",
                alt_name="IP:127.0.0.1"),
    _extensions("v3_node", "CA:FALSE", "digitalSignature", "clientAuth, serverAuth"),
    _extensions("v3_node_server_only", "CA:FALSE", "digitalSignature", "serverAuth"),
    _extensions("v3_intermediate", "CA:TRUE, pathlen:0", "keyCertSign, cRLSign"),
    _extensions("v3_self", "CA:FALSE", "digitalSignature", "clientAuth, serverAuth",
                authority=False),
])

_CA = """\
[ca]
default_ca = ca_default
[ca_default]
dir = {dbdir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[policy_any]
commonName = supplied
"""

_CNF = _REQ + "\n" + _PROFILES + "\n" + _CA


@dataclass
class Pki:
    directory: str
    ca_cert: str = ""
    ca_key: str = ""
    hub_cert: str = ""
    hub_key: str = ""
    nodes: Dict[str, Tuple[str, str]] = field(default_factory=dict)
    foreign_ca_cert: str = ""
    foreign_ca_key: str = ""
    foreign_node_cert: str = ""
    foreign_node_key: str = ""
    expired_node_cert: Optional[str] = None
    expired_node_key: Optional[str] = None
    future_node_cert: Optional[str] = None
    future_node_key: Optional[str] = None
    notes: list = field(default_factory=list)

    def node(self, i: int) -> Tuple[str, str]:
        """(cert, key) of node certificate number i (cycled)."""
        names = sorted(self.nodes)
        return self.nodes[names[i % len(names)]]

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _run(*args: str, cwd: Optional[str] = None) -> str:
    proc = subprocess.run([OPENSSL, *args], cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc.stdout


# Key types make_leaf() takes: the mandatory P-256, and what other site PKIs use.
KEY_TYPES = {
    "p256": ("EC", ["ec_paramgen_curve:P-256", "ec_param_enc:named_curve"]),
    "p384": ("EC", ["ec_paramgen_curve:P-384", "ec_param_enc:named_curve"]),
    "rsa2048": ("RSA", ["rsa_keygen_bits:2048"]),
    "rsa3072": ("RSA", ["rsa_keygen_bits:3072"]),
}


def _genkey(path: str, key_type: str = "p256") -> None:
    algorithm, opts = KEY_TYPES[key_type]
    args = ["genpkey", "-algorithm", algorithm]
    for o in opts:
        args += ["-pkeyopt", o]
    _run(*args, "-out", path)
    os.chmod(path, 0o600)


def _serial() -> str:
    return "0x" + secrets.token_hex(12)


def _make_ca(d: str, cnf: str, name: str, cn: str) -> Tuple[str, str]:
    key = os.path.join(d, f"{name}.key")
    cert = os.path.join(d, f"{name}.pem")
    _genkey(key)
    _run("req", "-config", cnf, "-new", "-x509", "-key", key, "-sha256", "-days", "3650",
         "-subj", f"/O=bschub tests/CN={cn}", "-extensions", "v3_ca",
         "-set_serial", _serial(), "-out", cert)
    return cert, key


def _make_leaf(d: str, cnf: str, name: str, cn: str, ca: Tuple[str, str],
               ext: str, key_type: str = "p256") -> Tuple[str, str]:
    key = os.path.join(d, f"{name}.key")
    cert = os.path.join(d, f"{name}.pem")
    csr = os.path.join(d, f"{name}.csr")
    _genkey(key, key_type)
    _run("req", "-config", cnf, "-new", "-key", key, "-sha256",
         "-subj", f"/O=bschub tests/CN={cn}", "-out", csr)
    _run("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
         "-set_serial", _serial(), "-days", "825", "-sha256",
         "-extfile", cnf, "-extensions", ext, "-out", cert)
    return cert, key


def _make_dated_leaf(d: str, cnf: str, name: str, cn: str, ca: Tuple[str, str],
                     start: str, end: str) -> Tuple[str, str]:
    """Leaf with an explicit validity window, via `openssl ca`."""
    key = os.path.join(d, f"{name}.key")
    cert = os.path.join(d, f"{name}.pem")
    csr = os.path.join(d, f"{name}.csr")
    _genkey(key)
    _run("req", "-config", cnf, "-new", "-key", key, "-sha256",
         "-subj", f"/O=bschub tests/CN={cn}", "-out", csr)
    _run("ca", "-batch", "-config", cnf, "-name", "ca_default", "-cert", ca[0],
         "-keyfile", ca[1], "-in", csr, "-out", cert, "-notext", "-md", "sha256",
         "-extensions", "v3_node", "-extfile", cnf,
         "-startdate", start, "-enddate", end)
    return cert, key


def make_leaf(pki: "Pki", name: str, key_type: str = "p256", ext: str = "v3_node",
              ca: Optional[Tuple[str, str]] = None) -> Tuple[str, str]:
    """A further certificate in pki's directory: `key_type` from KEY_TYPES, extensions from
    the config section `ext` (v3_node, v3_hub, v3_node_server_only, v3_intermediate), issued
    by `ca` (cert, key), by default the site CA. Returns (cert, key)."""
    cnf = os.path.join(pki.directory, "openssl.cnf")
    return _make_leaf(pki.directory, cnf, name, name, ca or (pki.ca_cert, pki.ca_key), ext,
                      key_type)


def make_self_signed(pki: "Pki", name: str) -> Tuple[str, str]:
    """A self-signed P-256 certificate with a node's extensions, in pki's directory: signed
    by nobody a hub trusts. Returns (cert, key)."""
    key = os.path.join(pki.directory, f"{name}.key")
    cert = os.path.join(pki.directory, f"{name}.pem")
    _genkey(key)
    _run("req", "-config", os.path.join(pki.directory, "openssl.cnf"), "-new", "-x509",
         "-key", key, "-sha256", "-days", "825", "-subj", f"/O=bschub tests/CN={name}",
         "-extensions", "v3_self", "-set_serial", _serial(), "-out", cert)
    return cert, key


def _utc(offset_s: int) -> str:
    """UTCTime now + offset_s, as `openssl ca` takes it (YYMMDDHHMMSSZ)."""
    import time
    return time.strftime("%y%m%d%H%M%SZ", time.gmtime(time.time() + offset_s))


def make_crl(pki: "Pki", name: str, revoked=(), ca: Optional[Tuple[str, str]] = None,
             der: bool = False, stale: bool = False) -> str:
    """A CRL of `ca` (cert, key; default the site CA) listing the certificates `revoked`
    (paths), written as NAME.crl (PEM) or NAME.der in pki's directory; returns the path.
    Each CRL has its own fresh `openssl ca` database, so lists do not leak between calls.
    `stale`: this/next-update two and one days ago (a CRL nobody refreshed). Revocation
    dates are set an hour back: mbedTLS applies an entry only once its date is past, and a
    test runs within the same second as the revocation."""
    dbdir = tempfile.mkdtemp(prefix=f"crl-{name}-", dir=pki.directory)
    os.makedirs(os.path.join(dbdir, "newcerts"))
    index = os.path.join(dbdir, "index.txt")
    open(index, "w").close()
    with open(os.path.join(dbdir, "crlnumber"), "w") as f:
        f.write("01\n")
    cnf = os.path.join(dbdir, "openssl.cnf")
    with open(cnf, "w") as f:
        f.write(_CNF.format(dbdir=dbdir).replace(
            "serial = $dir/serial\n", "serial = $dir/serial\ncrlnumber = $dir/crlnumber\n"))
    ca_cert, ca_key = ca or (pki.ca_cert, pki.ca_key)
    for cert in revoked:
        _run("ca", "-batch", "-config", cnf, "-cert", ca_cert, "-keyfile", ca_key,
             "-revoke", cert)
    # index.txt: status, expiry, revocation date[,reason], serial, file, subject.
    back = _utc(-3 * 86400 if stale else -3600)
    rows = []
    with open(index) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if cols[0] == "R":
                cols[2] = back + cols[2][len(cols[2].split(",")[0]):]
            rows.append("\t".join(cols))
    with open(index, "w") as f:
        f.write("".join(r + "\n" for r in rows))
    pem = os.path.join(pki.directory, f"{name}.crl")
    args = ["ca", "-batch", "-config", cnf, "-cert", ca_cert, "-keyfile", ca_key, "-gencrl",
            "-md", "sha256", "-out", pem]
    if stale:
        args += ["-crl_lastupdate", _utc(-2 * 86400), "-crl_nextupdate", _utc(-86400)]
    else:
        args += ["-crldays", "30"]
    _run(*args)
    if not der:
        return pem
    out = os.path.join(pki.directory, f"{name}.der")
    _run("crl", "-in", pem, "-outform", "DER", "-out", out)
    return out


def make_tool_pki(directory: str, n_nodes: int = 1) -> None:
    """tools/make-certs.sh DIRECTORY N: the site PKI as the project ships it (ca.pem,
    hub.pem/.key, node1..N.pem/.key), which the benches measure with."""
    subprocess.run([os.path.join(REPO, "tools", "make-certs.sh"), directory, str(n_nodes)],
                   check=True, stdout=subprocess.DEVNULL)


def make_pki(directory: Optional[str] = None, n_nodes: int = 4) -> Pki:
    if directory is None:
        directory = tempfile.mkdtemp(prefix="bschub-pki-")
    os.makedirs(directory, exist_ok=True)
    dbdir = os.path.join(directory, "ca-db")
    os.makedirs(os.path.join(dbdir, "newcerts"), exist_ok=True)
    open(os.path.join(dbdir, "index.txt"), "w").close()
    with open(os.path.join(dbdir, "serial"), "w") as f:
        f.write(secrets.token_hex(8).upper() + "\n")
    cnf = os.path.join(directory, "openssl.cnf")
    with open(cnf, "w") as f:
        f.write(_CNF.format(dbdir=dbdir))

    pki = Pki(directory=directory)
    site = _make_ca(directory, cnf, "ca", "bschub test site CA")
    pki.ca_cert, pki.ca_key = site
    pki.hub_cert, pki.hub_key = _make_leaf(directory, cnf, "hub", "bschub test hub", site,
                                           "v3_hub")
    for i in range(1, n_nodes + 1):
        pki.nodes[f"node{i}"] = _make_leaf(directory, cnf, f"node{i}", f"test node {i}",
                                           site, "v3_node")
    foreign = _make_ca(directory, cnf, "foreign-ca", "foreign CA")
    pki.foreign_ca_cert, pki.foreign_ca_key = foreign
    pki.foreign_node_cert, pki.foreign_node_key = _make_leaf(
        directory, cnf, "foreign-node", "foreign node", foreign, "v3_node")
    try:
        pki.expired_node_cert, pki.expired_node_key = _make_dated_leaf(
            directory, cnf, "expired-node", "expired node", site,
            "20200101000000Z", "20210101000000Z")
    except Exception as exc:  # pragma: no cover - depends on the local openssl
        pki.notes.append(f"expired node cert not made: {exc}")
    try:
        pki.future_node_cert, pki.future_node_key = _make_dated_leaf(
            directory, cnf, "future-node", "not yet valid node", site,
            "20990101000000Z", "21000101000000Z")
    except Exception as exc:  # pragma: no cover
        pki.notes.append(f"not-yet-valid node cert not made: {exc}")
    return pki


def _main() -> int:
    d = sys.argv[1] if len(sys.argv) > 1 else None
    pki = make_pki(d)
    print("PKI in", pki.directory)
    for note in pki.notes:
        print("NOTE:", note)
    checks = [("hub", pki.hub_cert, pki.ca_cert)]
    checks += [(n, c, pki.ca_cert) for n, (c, _k) in sorted(pki.nodes.items())]
    checks += [("foreign-node vs foreign CA", pki.foreign_node_cert, pki.foreign_ca_cert),
               ("foreign-node vs site CA (must fail)", pki.foreign_node_cert, pki.ca_cert)]
    if pki.expired_node_cert:
        checks.append(("expired-node (must fail)", pki.expired_node_cert, pki.ca_cert))
    if pki.future_node_cert:
        checks.append(("future-node (must fail)", pki.future_node_cert, pki.ca_cert))
    for label, cert, ca in checks:
        p = subprocess.run([OPENSSL, "verify", "-x509_strict", "-CAfile", ca, cert],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(f"{label}: rc={p.returncode} {p.stdout.strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
