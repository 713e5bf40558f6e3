// TicketSealer's AEAD layer and key ring, and the ticket contents codec: a sealed ticket
// opens to the same octets; any altered octet, a foreign key name or a key rotated out makes
// it unopenable; the previous key still opens until the next rotation. The clock is the
// test's own (ms), so rotation needs no waiting. TLS-level resumption: tls_session_test.cpp.
#include <doctest/doctest.h>

#include <psa/crypto.h>

#include <atomic>
#include <vector>

#include "net/ticket_sealer.hpp"

namespace {

using bsc::TicketContents;
using bsc::TicketSealer;

struct Sealer {
  std::shared_ptr<std::atomic<int64_t>> now = std::make_shared<std::atomic<int64_t>>(1000000);
  TicketSealer sealer{10, [n = now] { return n->load(); }};  // 10 s lifetime
  Sealer() {
    REQUIRE(psa_crypto_init() == PSA_SUCCESS);
    std::string err;
    REQUIRE(sealer.init(&err));
  }
};

std::vector<uint8_t> octets(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i * 31 + 7);
  return v;
}

}  // namespace

TEST_CASE("TicketSealer: seal then open gives the plaintext back; nonces differ") {
  Sealer s;
  for (size_t len : {size_t(0), size_t(1), size_t(100), size_t(2000)}) {
    CAPTURE(len);
    std::vector<uint8_t> plain = octets(len);
    std::vector<uint8_t> a = s.sealer.seal(plain), b = s.sealer.seal(plain);
    REQUIRE(a.size() == plain.size() + TicketSealer::kOverhead);
    CHECK(a != b);  // fresh nonce each time
    CHECK(s.sealer.open(a) == plain);
    CHECK(s.sealer.open(b) == plain);
  }
}

TEST_CASE("TicketSealer: any altered octet, a truncation or a foreign key is refused") {
  Sealer s;
  std::vector<uint8_t> ticket = s.sealer.seal(octets(64));
  for (size_t i = 0; i < ticket.size(); ++i) {
    CAPTURE(i);
    std::vector<uint8_t> bad = ticket;
    bad[i] ^= 0x01;
    CHECK_FALSE(s.sealer.open(bad));
  }
  for (size_t n = 0; n < ticket.size(); n += 7)
    CHECK_FALSE(s.sealer.open(std::span<const uint8_t>(ticket.data(), n)));
  Sealer other;  // another hub's random key
  CHECK_FALSE(other.sealer.open(ticket));
}

TEST_CASE("TicketSealer: keys rotate each lifetime; the previous one opens until the next") {
  Sealer s;
  std::vector<uint8_t> first = s.sealer.seal(octets(10));
  *s.now += 10'000;  // one lifetime: the next seal rotates
  std::vector<uint8_t> second = s.sealer.seal(octets(10));
  CHECK_FALSE(std::equal(first.begin(), first.begin() + 4, second.begin()));  // new key name
  CHECK(s.sealer.open(first));   // previous key
  CHECK(s.sealer.open(second));  // current key
  *s.now += 10'000;
  std::vector<uint8_t> third = s.sealer.seal(octets(10));
  CHECK_FALSE(s.sealer.open(first));  // two rotations: gone
  CHECK(s.sealer.open(second));
  CHECK(s.sealer.open(third));
  // Idle for two lifetimes: the key that sealed `third` is too old to be kept as previous.
  *s.now += 20'000;
  std::vector<uint8_t> fourth = s.sealer.seal(octets(10));
  CHECK_FALSE(s.sealer.open(third));
  CHECK(s.sealer.open(fourth));
}

TEST_CASE("ticket contents: round trip; malformed is refused") {
  TicketContents c;
  c.session = octets(90);
  c.certificate = octets(700);
  for (size_t i = 0; i < c.issuer_ca.bytes.size(); ++i) c.issuer_ca.bytes[i] = uint8_t(i);
  std::vector<uint8_t> enc = bsc::encode_ticket_contents(c);
  auto dec = bsc::decode_ticket_contents(enc);
  REQUIRE(dec);
  CHECK(dec->session == c.session);
  CHECK(dec->certificate == c.certificate);
  CHECK(dec->issuer_ca == c.issuer_ca);
  for (size_t n = 0; n < enc.size(); ++n) CHECK_FALSE(bsc::decode_ticket_contents({enc.data(), n}));
  enc.push_back(0);
  CHECK_FALSE(bsc::decode_ticket_contents(enc));
  enc.pop_back();
  enc[0] = 2;  // unknown version
  CHECK_FALSE(bsc::decode_ticket_contents(enc));
}
