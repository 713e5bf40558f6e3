// PeerIdentity: fingerprints against the openssl CLI's own (`openssl x509 -fingerprint
// -sha256`, `openssl pkey -pubout -outform DER | sha256sum`), and the UUIDs a certificate
// names (subject CN, SAN URIs "urn:uuid:..."), on certificates made with openssl here.
#include <doctest/doctest.h>

#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "net/peer_identity.hpp"

namespace {

using bsc::Fingerprint;
using bsc::PeerIdentity;
using bsc::Uuid;

const std::string& work_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/bschub-peer-identity-test-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

void run(const std::string& cmd) {
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// The command's standard output, trailing newline removed.
std::string output_of(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[256];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// A self-signed EC P-256 certificate `name`.pem (key `name`.key) with `subj` and, if not
// empty, `san` as its subjectAltName.
std::string make_cert(const std::string& name, const std::string& subj, const std::string& san) {
  const std::string base = work_dir() + "/" + name;
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30"
                    " -keyout " + base + ".key -out " + base + ".pem -subj '" + subj + "'";
  if (!san.empty()) cmd += " -addext 'subjectAltName=" + san + "'";
  run(cmd + " 2>/dev/null");
  return base + ".pem";
}

struct Crt {
  mbedtls_x509_crt crt;
  explicit Crt(const std::string& pem) {
    mbedtls_x509_crt_init(&crt);
    REQUIRE(mbedtls_x509_crt_parse_file(&crt, pem.c_str()) == 0);
  }
  ~Crt() { mbedtls_x509_crt_free(&crt); }
};

// "SHA256 Fingerprint=AB:CD:..." -> the part after '='.
Fingerprint openssl_cert_fingerprint(const std::string& pem) {
  std::string line = output_of("openssl x509 -noout -fingerprint -sha256 -in " + pem);
  auto f = Fingerprint::parse(line.substr(line.find('=') + 1));
  REQUIRE(f);
  return *f;
}

Fingerprint openssl_key_fingerprint(const std::string& key) {
  std::string line =
      output_of("openssl pkey -in " + key + " -pubout -outform DER | sha256sum");
  auto f = Fingerprint::parse(line.substr(0, 64));
  REQUIRE(f);
  return *f;
}

const char kCnUuid[] = "0f3a9c1e-5b7d-4e2a-8c61-93d0b4a7e215";
const char kSanUuid[] = "7B1E44C0-2D9F-4A38-B5E6-0C8D1F2A3B4C";  // upper case: still a UUID
const char kSanUuid2[] = "aa0b1c2d-3e4f-4a5b-8c6d-7e8f90a1b2c3";

}  // namespace

TEST_CASE("Fingerprint: hex round trip, openssl's colon form, bad text") {
  Fingerprint f;
  for (size_t i = 0; i < f.bytes.size(); ++i) f.bytes[i] = uint8_t(i * 9 + 1);
  std::string hex = f.to_hex();
  CHECK(hex.size() == 64);
  CHECK(hex.substr(0, 6) == "010a13");
  CHECK(Fingerprint::parse(hex) == f);
  std::string colons;
  for (size_t i = 0; i < 64; i += 2) {
    if (i) colons += ':';
    colons += char(std::toupper(hex[i]));
    colons += char(std::toupper(hex[i + 1]));
  }
  CHECK(Fingerprint::parse(colons) == f);
  CHECK_FALSE(Fingerprint::parse(hex.substr(1)));
  CHECK_FALSE(Fingerprint::parse(hex + "0"));
  CHECK_FALSE(Fingerprint::parse(std::string(63, '0') + "g"));
  CHECK_FALSE(Fingerprint::parse(colons.substr(0, 94) + "-" + colons.substr(95)));
  CHECK_FALSE(Fingerprint::parse(""));
}

TEST_CASE("peer_identity_of: fingerprints agree with openssl; CN and SAN urn:uuid name UUIDs") {
  const std::string ca = make_cert("ca", "/CN=test CA/O=site", "");
  const std::string node =
      make_cert("node", std::string("/CN=") + kCnUuid + "/O=site",
                std::string("URI:URN:UUID:") + kSanUuid + ",DNS:node.example,URI:urn:uuid:" +
                    kSanUuid2 + ",URI:urn:uuid:not-a-uuid,URI:http://example.com/" + kCnUuid +
                    ",URI:urn:uuid:" + kCnUuid);
  Crt ca_crt(ca), node_crt(node);
  PeerIdentity id = bsc::peer_identity_of(node_crt.crt, &ca_crt.crt);
  CHECK(id.certificate == openssl_cert_fingerprint(node));
  CHECK(id.public_key == openssl_key_fingerprint(work_dir() + "/node.key"));
  CHECK(id.issuer_ca == openssl_cert_fingerprint(ca));
  REQUIRE(id.named_uuids.size() == 3);  // the CN's UUID once, though the SAN repeats it
  CHECK(id.named_uuids[0] == *Uuid::parse(kCnUuid));
  CHECK(id.named_uuids[1] == *Uuid::parse(kSanUuid));
  CHECK(id.named_uuids[2] == *Uuid::parse(kSanUuid2));
  CHECK(id.subject == std::string("CN=") + kCnUuid + ", O=site");
  REQUIRE(id.der);
  CHECK(id.der->size() == node_crt.crt.raw.len);
  CHECK(std::equal(id.der->begin(), id.der->end(), node_crt.crt.raw.p));
}

TEST_CASE("peer_identity_of: a plain CN names no UUID; no issuer leaves issuer_ca zero") {
  const std::string node = make_cert("plain", "/CN=node1", "DNS:node1.example");
  Crt crt(node);
  PeerIdentity id = bsc::peer_identity_of(crt.crt, nullptr);
  CHECK(id.named_uuids.empty());
  CHECK(id.issuer_ca == Fingerprint{});
  CHECK(id.subject == "CN=node1");
  CHECK(id.certificate == openssl_cert_fingerprint(node));
}

TEST_CASE("peer_identity_of: renewal with the same key keeps the public key fingerprint") {
  const std::string base = work_dir() + "/renew";
  run("openssl ecparam -name prime256v1 -genkey -noout -out " + base + ".key");
  run("openssl req -x509 -key " + base + ".key -days 10 -subj /CN=a -out " + base + "1.pem");
  run("openssl req -x509 -key " + base + ".key -days 20 -subj /CN=a -out " + base + "2.pem");
  Crt one(base + "1.pem"), two(base + "2.pem");
  PeerIdentity a = bsc::peer_identity_of(one.crt, nullptr);
  PeerIdentity b = bsc::peer_identity_of(two.crt, nullptr);
  CHECK(a.public_key == b.public_key);
  CHECK_FALSE(a.certificate == b.certificate);
}
