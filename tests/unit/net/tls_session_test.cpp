// TlsSession::release_idle_buffers: a real mutual-TLS 1.3 pair in memory (no sockets). After
// the record buffers' pages are released on both ends, records of every size still go both
// ways intact; a session holding a partial or unread record refuses to release.
// Certificates: a fresh PKI from tools/make-certs.sh (openssl CLI) in a temporary directory.
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "net/tls_context.hpp"
#include "net/tls_session.hpp"

namespace {

using bsc::TlsContext;
using bsc::TlsSession;

const std::string& pki_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/bschub-tls-idle-test-XXXXXX";
    std::string d = mkdtemp(tmpl);
    std::string cmd = std::string(BSCHUB_SOURCE_ROOT) + "/tools/make-certs.sh --quiet " + d + " 1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return d;
  }();
  return dir;
}

std::unique_ptr<TlsContext> make_context(TlsContext::Role role) {
  const std::string& d = pki_dir();
  bool server = role == TlsContext::Role::kServer;
  auto ctx = std::make_unique<TlsContext>();
  std::string err;
  bool ok = ctx->init(role, d + (server ? "/hub.pem" : "/node1.pem"),
                      d + (server ? "/hub.key" : "/node1.key"), d + "/ca.pem", &err);
  INFO(err);
  REQUIRE(ok);
  return ctx;
}

// Moves all pending ciphertext of `from` into `to`.
void pump(TlsSession& from, TlsSession& to) {
  auto& out = from.ciphertext_out();
  if (out.empty()) return;
  to.feed(out.data(), out.size());
  out.clear();
}

struct Pair {
  std::unique_ptr<TlsContext> server_ctx = make_context(TlsContext::Role::kServer);
  std::unique_ptr<TlsContext> client_ctx = make_context(TlsContext::Role::kClient);
  TlsSession server{*server_ctx};
  TlsSession client{*client_ctx};

  Pair() {
    for (int round = 0; round < 20 && !(server.established() && client.established()); ++round) {
      REQUIRE(client.handshake() != TlsSession::Status::kFailed);
      pump(client, server);
      REQUIRE(server.handshake() != TlsSession::Status::kFailed);
      pump(server, client);
    }
    REQUIRE(server.established());
    REQUIRE(client.established());
  }
};

std::vector<uint8_t> pattern(size_t len, uint8_t seed) {
  std::vector<uint8_t> v(len);
  for (size_t i = 0; i < len; ++i) v[i] = uint8_t(seed + i * 7 + (i >> 8));
  return v;
}

// Reads everything `to` can decrypt now.
std::vector<uint8_t> read_all(TlsSession& to) {
  std::vector<uint8_t> got;
  uint8_t buf[4096];
  for (;;) {
    TlsSession::Status st;
    size_t n = to.read(buf, sizeof buf, &st);
    if (n == 0) {
      REQUIRE(st == TlsSession::Status::kWant);
      return got;
    }
    got.insert(got.end(), buf, buf + n);
  }
}

// Sends `len` octets from one end to the other and checks they arrive intact.
void check_transfer(TlsSession& from, TlsSession& to, size_t len, uint8_t seed) {
  std::vector<uint8_t> sent = pattern(len, seed);
  REQUIRE(from.write(sent.data(), sent.size()));
  pump(from, to);
  CHECK(read_all(to) == sent);
}

// Both directions, small to more than one full record.
void check_all_sizes(Pair& p, uint8_t seed) {
  for (size_t len : {size_t(1), size_t(100), size_t(1400), size_t(16384), size_t(40000)}) {
    CAPTURE(len);
    check_transfer(p.server, p.client, len, seed++);
    check_transfer(p.client, p.server, len, seed++);
  }
}

}  // namespace

TEST_CASE("TlsSession: records flow both ways after idle release on both ends") {
  Pair p;
  // First application data also carries the server's ticket to the client.
  check_transfer(p.server, p.client, 1, 1);
  check_transfer(p.client, p.server, 1, 2);
  for (int cycle = 0; cycle < 3; ++cycle) {
    CAPTURE(cycle);
    REQUIRE(p.server.release_idle_buffers());
    REQUIRE(p.client.release_idle_buffers());
    check_all_sizes(p, uint8_t(10 + cycle * 20));
  }
  // Released twice in a row (nothing touched the pages in between): still fine.
  REQUIRE(p.server.release_idle_buffers());
  REQUIRE(p.server.release_idle_buffers());
  check_all_sizes(p, 99);
}

TEST_CASE("TlsSession: no release during the handshake") {
  auto sctx = make_context(TlsContext::Role::kServer);
  auto cctx = make_context(TlsContext::Role::kClient);
  TlsSession server(*sctx), client(*cctx);
  CHECK(client.handshake() == TlsSession::Status::kWant);
  CHECK_FALSE(client.release_idle_buffers());
  pump(client, server);
  CHECK(server.handshake() == TlsSession::Status::kWant);
  CHECK_FALSE(server.release_idle_buffers());
}

TEST_CASE("TlsSession: no release while a record is half received") {
  Pair p;
  check_transfer(p.server, p.client, 1, 1);
  std::vector<uint8_t> sent = pattern(16384, 3);
  REQUIRE(p.server.write(sent.data(), sent.size()));
  std::vector<uint8_t> wire;
  wire.swap(p.server.ciphertext_out());
  // Half of the record: mbedTLS takes it into its buffer and waits for the rest.
  size_t half = wire.size() / 2;
  p.client.feed(wire.data(), half);
  CHECK(read_all(p.client).empty());
  CHECK_FALSE(p.client.release_idle_buffers());
  p.client.feed(wire.data() + half, wire.size() - half);
  CHECK(read_all(p.client) == sent);
  CHECK(p.client.release_idle_buffers());
}

TEST_CASE("TlsSession: no release while decrypted data is unread or ciphertext unsent") {
  Pair p;
  check_transfer(p.server, p.client, 1, 1);
  std::vector<uint8_t> sent = pattern(1400, 5);
  REQUIRE(p.server.write(sent.data(), sent.size()));
  CHECK_FALSE(p.server.release_idle_buffers());  // ciphertext not taken yet
  pump(p.server, p.client);
  CHECK(p.server.release_idle_buffers());
  uint8_t first[10];
  TlsSession::Status st;
  REQUIRE(p.client.read(first, sizeof first, &st) == sizeof first);
  CHECK_FALSE(p.client.release_idle_buffers());  // the rest of the record is unread
  std::vector<uint8_t> got(first, first + sizeof first);
  std::vector<uint8_t> rest = read_all(p.client);
  got.insert(got.end(), rest.begin(), rest.end());
  CHECK(got == sent);
  CHECK(p.client.release_idle_buffers());
}
