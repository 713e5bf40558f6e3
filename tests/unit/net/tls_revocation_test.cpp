// TlsContext revocation: CRL loading checks (issuer among the CAs, signature, parse), the
// stale-CRL gauge, and recheck() of a connected node's certificate against a context: the
// CA still present (dates + CRLs only), the CA gone (full chain check), revoked, expired.
// Certificates and CRLs: tests/integration/lib/certs.py (openssl CLI) in a temporary directory.
#include <doctest/doctest.h>
#include <mbedtls/sha256.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "net/peer_identity.hpp"
#include "net/tls_context.hpp"

namespace {

using bsc::PeerIdentity;
using bsc::TlsContext;
using bsc::TlsOptions;

// site/: ca, hub, node1, node2 (revoked by revoked.crl and stale.crl), expired-node,
// foreign.crl (the foreign CA's), garbage.crl. other/: an unrelated CA with its hub.
const std::string& dir() {
  static std::string d = [] {
    char tmpl[] = "/tmp/bschub-crl-test-XXXXXX";
    std::string root = mkdtemp(tmpl);
    const std::string script = root + "/make.py";
    FILE* f = std::fopen(script.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fprintf(f,
                 "import sys\n"
                 "sys.path.insert(0, '%s/tests/integration/lib')\n"
                 "import certs\n"
                 "d = sys.argv[1]\n"
                 "p = certs.make_pki(d + '/site', 2)\n"
                 "certs.make_crl(p, 'revoked', [p.nodes['node2'][0]])\n"
                 "certs.make_crl(p, 'stale', [p.nodes['node2'][0]], stale=True)\n"
                 "certs.make_crl(p, 'foreign', [], ca=(p.foreign_ca_cert, p.foreign_ca_key))\n"
                 "open(d + '/site/garbage.crl', 'w').write('no CRL here\\n')\n"
                 "certs.make_pki(d + '/other', 1)\n",
                 BSCHUB_SOURCE_ROOT);
    std::fclose(f);
    REQUIRE(std::system(("/usr/bin/python3 " + script + " " + root + " >/dev/null").c_str()) ==
            0);
    return root;
  }();
  return d;
}

std::string site(const char* name) { return dir() + "/site/" + name; }

std::unique_ptr<TlsContext> context(const std::string& pki, std::vector<std::string> crls,
                                    std::string* error = nullptr) {
  auto ctx = std::make_unique<TlsContext>();
  TlsOptions options;
  options.crl_files = std::move(crls);
  std::string err;
  const std::string d = dir() + "/" + pki + "/";
  bool ok = ctx->init(TlsContext::Role::kServer, d + "hub.pem", d + "hub.key", d + "ca.pem",
                      &err, options);
  if (error != nullptr) {
    *error = err;
    if (!ok) ctx.reset();
    return ctx;
  }
  INFO(err);
  REQUIRE(ok);
  return ctx;
}

// What the hub would have recorded at the handshake (net/peer_identity.cpp does it for real;
// this fills just what recheck() reads): the certificate's DER and the verifying CA's
// SHA-256 (none: zero).
PeerIdentity identity(const std::string& cert_file, const std::string& ca_file) {
  PeerIdentity id;
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  REQUIRE(mbedtls_x509_crt_parse_file(&crt, cert_file.c_str()) == 0);
  id.der = std::make_shared<const std::vector<uint8_t>>(crt.raw.p, crt.raw.p + crt.raw.len);
  mbedtls_x509_crt_free(&crt);
  if (!ca_file.empty()) {
    mbedtls_x509_crt ca;
    mbedtls_x509_crt_init(&ca);
    REQUIRE(mbedtls_x509_crt_parse_file(&ca, ca_file.c_str()) == 0);
    mbedtls_sha256(ca.raw.p, ca.raw.len, id.issuer_ca.bytes.data(), 0);
    mbedtls_x509_crt_free(&ca);
  }
  return id;
}

const char* kSiteCa = "O=bschub tests, CN=bschub test site CA";

}  // namespace

TEST_CASE("CRL load: a CRL of a configured CA is taken, PEM; its issuer and count are kept") {
  auto ctx = context("site", {site("revoked.crl")});
  REQUIRE(ctx->crls().size() == 1);
  CHECK(ctx->crls()[0].issuer == kSiteCa);
  CHECK(ctx->crls()[0].revoked == 1);
  CHECK(ctx->crls()[0].file == site("revoked.crl"));
  CHECK(ctx->crls()[0].next_update > 0);
  CHECK(ctx->stale_crls() == 0);
}

TEST_CASE("CRL load: foreign issuer, garbage and missing files are refused with the file") {
  std::string err;
  CHECK(context("site", {site("foreign.crl")}, &err) == nullptr);
  CHECK(err.find(site("foreign.crl")) != std::string::npos);
  CHECK(err.find("not one of the --ca certificates") != std::string::npos);
  CHECK(context("site", {site("garbage.crl")}, &err) == nullptr);
  CHECK(err.find("bad CRL " + site("garbage.crl")) == 0);
  CHECK(context("site", {site("absent.crl")}, &err) == nullptr);
  CHECK(err == "cannot read CRL " + site("absent.crl"));
  // The site's CRL against another site's CA of the same name: the signature tells.
  CHECK(context("other", {site("revoked.crl")}, &err) == nullptr);
  CHECK(err.find("signature does not verify") != std::string::npos);
}

TEST_CASE("CRL load: a stale CRL loads and counts as stale") {
  auto ctx = context("site", {site("stale.crl")});
  REQUIRE(ctx->crls().size() == 1);
  CHECK(ctx->stale_crls() == 1);
  CHECK(ctx->crls()[0].next_update < int64_t(std::time(nullptr)));
}

TEST_CASE("recheck: CA still configured: dates and CRLs only") {
  const std::string ca = site("ca.pem");
  auto plain = context("site", {});
  auto with_crl = context("site", {site("revoked.crl")});
  CHECK(plain->recheck(identity(site("node1.pem"), ca)) == "");
  CHECK(plain->recheck(identity(site("node2.pem"), ca)) == "");
  CHECK(with_crl->recheck(identity(site("node1.pem"), ca)) == "");
  CHECK(with_crl->recheck(identity(site("node2.pem"), ca)) ==
        std::string("revoked by CRL of ") + kSiteCa);
  CHECK(plain->recheck(identity(site("expired-node.pem"), ca)) == "certificate expired");
  // A stale CRL still revokes.
  auto stale = context("site", {site("stale.crl")});
  CHECK(stale->recheck(identity(site("node2.pem"), ca)) ==
        std::string("revoked by CRL of ") + kSiteCa);
  CHECK(stale->recheck(identity(site("node1.pem"), ca)) == "");
}

TEST_CASE("recheck: CA gone: the full chain check against the new CAs") {
  auto other = context("other", {});
  CHECK(other->recheck(identity(site("node1.pem"), site("ca.pem"))) ==
        "no longer issued by a configured CA");
  // Verifying CA unknown to this context (zero fingerprint): the chain check runs, with the
  // CRLs; a stale CRL refuses no one by itself.
  auto with_crl = context("site", {site("revoked.crl")});
  CHECK(with_crl->recheck(identity(site("node1.pem"), "")) == "");
  CHECK(with_crl->recheck(identity(site("node2.pem"), "")) ==
        std::string("revoked by CRL of ") + kSiteCa);
  auto stale = context("site", {site("stale.crl")});
  CHECK(stale->recheck(identity(site("node1.pem"), "")) == "");
  CHECK(stale->recheck(identity(site("node2.pem"), "")) ==
        std::string("revoked by CRL of ") + kSiteCa);
  CHECK(with_crl->recheck(identity(site("expired-node.pem"), "")) == "certificate expired");
  CHECK(with_crl->recheck(PeerIdentity{}) == "no certificate to re-check");
}
