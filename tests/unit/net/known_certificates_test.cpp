// KnownCertificates: bounded (the oldest is forgotten first), cleared on demand, off at
// capacity 0, and it counts hits and misses. What a hit skips and what it does not:
// tests/integration/test_known_certificates.py.
#include <doctest/doctest.h>

#include "net/known_certificates.hpp"

namespace {

bsc::Fingerprint fp(uint8_t n) {
  bsc::Fingerprint f;
  f.bytes[0] = n;
  f.bytes[31] = uint8_t(n * 7);
  return f;
}

}  // namespace

TEST_CASE("KnownCertificates: remembers up to its capacity, forgetting the oldest first") {
  mbedtls_x509_crt ca_a, ca_b;  // stand-ins: only their addresses are kept
  bsc::KnownCertificates known(3);
  CHECK(known.find(fp(1)) == nullptr);
  known.remember(fp(1), &ca_a);
  known.remember(fp(2), &ca_b);
  known.remember(fp(2), &ca_a);  // a second verdict on the same certificate changes nothing
  known.remember(fp(3), &ca_a);
  CHECK(known.size() == 3);
  CHECK(known.find(fp(2)) == &ca_b);
  known.remember(fp(4), &ca_b);  // over capacity: fp(1), the oldest, goes
  CHECK(known.size() == 3);
  CHECK(known.find(fp(1)) == nullptr);
  CHECK(known.find(fp(3)) == &ca_a);
  CHECK(known.find(fp(4)) == &ca_b);
  CHECK(known.hits() == 3);
  CHECK(known.misses() == 2);
  known.clear();
  CHECK(known.size() == 0);
  CHECK(known.find(fp(4)) == nullptr);
}

TEST_CASE("KnownCertificates: capacity 0 remembers nothing") {
  mbedtls_x509_crt ca;
  bsc::KnownCertificates known(0);
  known.remember(fp(1), &ca);
  CHECK(known.size() == 0);
  CHECK(known.find(fp(1)) == nullptr);
  CHECK(known.misses() == 1);
}
