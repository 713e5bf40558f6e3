// TicketSealer's AEAD layer and key ring, and the ticket contents codec: a sealed ticket
// opens to the same octets; any altered octet, a foreign key name or a key rotated out makes
// it unopenable; the previous key still opens for one lifetime after it was replaced.
// Key files (net/ticket_key_file.hpp): shared by two hubs, rotated by replacing the file. The clock is the
// test's own (ms), so rotation needs no waiting. TLS-level resumption: tls_session_test.cpp.
#include <doctest/doctest.h>

#include <psa/crypto.h>

#include <atomic>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "net/ticket_key_file.hpp"
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
    REQUIRE(sealer.init(nullptr, &err));
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
  // A replaced key opens for one lifetime after it was replaced, then not.
  *s.now += 20'000;
  std::vector<uint8_t> fourth = s.sealer.seal(octets(10));  // rotates: third's key retired
  *s.now += 9'999;
  CHECK(s.sealer.open(third));
  *s.now += 1;
  CHECK_FALSE(s.sealer.open(third));
  CHECK(s.sealer.open(fourth));
}

namespace {

std::shared_ptr<const bsc::TicketKey> file_key(const std::vector<uint8_t>& file_octets) {
  std::string err;
  auto key = bsc::ticket_key_from_octets(file_octets, 0, &err);
  REQUIRE_MESSAGE(key, err);
  return key;
}

struct FileSealer {
  std::shared_ptr<std::atomic<int64_t>> now = std::make_shared<std::atomic<int64_t>>(1000000);
  TicketSealer sealer{10, [n = now] { return n->load(); }};
  explicit FileSealer(const std::vector<uint8_t>& file_octets) {
    REQUIRE(psa_crypto_init() == PSA_SUCCESS);
    std::string err;
    REQUIRE(sealer.init(file_key(file_octets), &err));
  }
};

}  // namespace

TEST_CASE("ticket key file: the same octets are the same key on any hub; others are not") {
  const std::vector<uint8_t> file = octets(80);
  FileSealer primary(file), failover(file);
  std::vector<uint8_t> other_file = file;
  other_file[79] ^= 1;
  FileSealer other(other_file);
  CHECK(primary.sealer.keys().current_name() == failover.sealer.keys().current_name());
  CHECK(primary.sealer.keys().current_name() != other.sealer.keys().current_name());
  std::vector<uint8_t> ticket = primary.sealer.seal(octets(50));
  CHECK(failover.sealer.open(ticket) == octets(50));
  CHECK_FALSE(other.sealer.open(ticket));
  // The name is not a prefix of the key material: it differs from the file's first octets.
  CHECK_FALSE(std::equal(ticket.begin(), ticket.begin() + 4, file.begin()));
}

TEST_CASE("ticket key file: no rotation by time; a new file rotates, old key kept one lifetime") {
  FileSealer s(octets(40));
  std::vector<uint8_t> first = s.sealer.seal(octets(10));
  *s.now += 100'000;  // ten lifetimes: a file key does not rotate by itself
  std::vector<uint8_t> second = s.sealer.seal(octets(10));
  CHECK(std::equal(first.begin(), first.begin() + 4, second.begin()));
  CHECK(s.sealer.open(first));
  // The same file again (a SIGHUP with the file unchanged): nothing changes.
  s.sealer.keys().install(file_key(octets(40)));
  *s.now += 100'000;
  CHECK(s.sealer.open(first));
  // A new file: it seals from now on; the old key opens for one lifetime, then not.
  std::vector<uint8_t> replaced = octets(40);
  replaced[0] ^= 0xff;
  s.sealer.keys().install(file_key(replaced));
  std::vector<uint8_t> third = s.sealer.seal(octets(10));
  CHECK_FALSE(std::equal(first.begin(), first.begin() + 4, third.begin()));
  *s.now += 9'999;
  CHECK(s.sealer.open(first));
  CHECK(s.sealer.open(third));
  *s.now += 1;
  CHECK_FALSE(s.sealer.open(first));
  CHECK(s.sealer.open(third));
}

TEST_CASE("ticket key file: read errors, too short and too long are one clear sentence") {
  REQUIRE(psa_crypto_init() == PSA_SUCCESS);
  std::string err;
  CHECK_FALSE(bsc::load_ticket_key_file("/nonexistent/ticket.key", 0, &err));
  CHECK(err.find("cannot read ticket key file /nonexistent/ticket.key") == 0);
  char path[] = "/tmp/bschub-ticket-key-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  auto write_octets = [&](size_t n) {
    std::vector<uint8_t> v = octets(n);
    REQUIRE(ftruncate(fd, 0) == 0);
    REQUIRE(pwrite(fd, v.data(), v.size(), 0) == ssize_t(v.size()));
  };
  write_octets(31);
  CHECK_FALSE(bsc::load_ticket_key_file(path, 0, &err));
  CHECK(err.find("holds 31 octets; it needs at least 32 random octets") != std::string::npos);
  write_octets(5000);
  CHECK_FALSE(bsc::load_ticket_key_file(path, 0, &err));
  CHECK(err.find("larger than 4096 octets") != std::string::npos);
  write_octets(32);
  auto key = bsc::load_ticket_key_file(path, 0, &err);
  REQUIRE(key);
  CHECK(key->name() == file_key(octets(32))->name());
  close(fd);
  unlink(path);
}

TEST_CASE("ticket contents: round trip; malformed is refused") {
  TicketContents c;
  c.created_unix_ms = 1'796'000'000'123;
  c.session = octets(90);
  c.certificate = octets(700);
  for (size_t i = 0; i < c.issuer_ca.bytes.size(); ++i) c.issuer_ca.bytes[i] = uint8_t(i);
  std::vector<uint8_t> enc = bsc::encode_ticket_contents(c);
  auto dec = bsc::decode_ticket_contents(enc);
  REQUIRE(dec);
  CHECK(dec->created_unix_ms == c.created_unix_ms);
  CHECK(dec->session == c.session);
  CHECK(dec->certificate == c.certificate);
  CHECK(dec->issuer_ca == c.issuer_ca);
  for (size_t n = 0; n < enc.size(); ++n) CHECK_FALSE(bsc::decode_ticket_contents({enc.data(), n}));
  enc.push_back(0);
  CHECK_FALSE(bsc::decode_ticket_contents(enc));
  enc.pop_back();
  enc[0] = 1;  // unknown version (1 had no creation time)
  CHECK_FALSE(bsc::decode_ticket_contents(enc));
}
