// TlsSession::release_idle_buffers: a real mutual-TLS 1.3 pair in memory (no sockets). After
// the record buffers' pages are released on both ends, records of every size still go both
// ways intact; a session holding a partial or unread record refuses to release.
// Certificates: a fresh PKI from tools/make-certs.sh (openssl CLI) in a temporary directory.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "net/peer_identity.hpp"
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

std::unique_ptr<TlsContext> make_context(TlsContext::Role role,
                                         const bsc::TlsOptions& options = {}) {
  const std::string& d = pki_dir();
  bool server = role == TlsContext::Role::kServer;
  auto ctx = std::make_unique<TlsContext>();
  std::string err;
  bool ok = ctx->init(role, d + (server ? "/hub.pem" : "/node1.pem"),
                      d + (server ? "/hub.key" : "/node1.key"), d + "/ca.pem", &err, options);
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

// ---- resumption: the ticket carries the certificate -----------------------------------

namespace {

using Ticket = std::unique_ptr<mbedtls_ssl_session, void (*)(mbedtls_ssl_session*)>;

// Runs the handshake to its end; true if both ends are established.
bool handshake(TlsSession& server, TlsSession& client) {
  for (int round = 0; round < 20; ++round) {
    if (server.established() && client.established()) return true;
    if (client.handshake() == TlsSession::Status::kFailed) return false;
    pump(client, server);
    if (server.handshake() == TlsSession::Status::kFailed) {
      pump(server, client);  // the alert
      return false;
    }
    pump(server, client);
  }
  return server.established() && client.established();
}

// The ticket the server sends with its first application data (mbedTLS 3.6 writes the
// NewSessionTicket then), as the client keeps it.
Ticket ticket_of(TlsSession& server, TlsSession& client) {
  check_transfer(server, client, 1, 1);
  Ticket t = client.take_ticket();
  REQUIRE(t);
  return t;
}

// SHA-256 of the node's certificate by the openssl CLI.
bsc::Fingerprint node1_fingerprint() {
  std::string cmd = "openssl x509 -noout -fingerprint -sha256 -in " + pki_dir() + "/node1.pem";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char line[256] = {};
  REQUIRE(fgets(line, sizeof line, p) != nullptr);
  pclose(p);
  std::string text(line);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  auto f = bsc::Fingerprint::parse(text.substr(text.find('=') + 1));
  REQUIRE(f);
  return *f;
}

struct Resumption {
  std::unique_ptr<TlsContext> server_ctx, client_ctx;
  std::shared_ptr<const bsc::PeerIdentity> first;
  Ticket ticket{nullptr, nullptr};

  explicit Resumption(uint32_t lifetime_s = 3600) {
    bsc::TlsOptions opts;
    opts.ticket_lifetime_s = lifetime_s;
    server_ctx = make_context(TlsContext::Role::kServer, opts);
    client_ctx = make_context(TlsContext::Role::kClient);
    TlsSession server(*server_ctx), client(*client_ctx);
    REQUIRE(handshake(server, client));
    CHECK_FALSE(server.resumed());
    first = server.peer_identity();
    REQUIRE(first);
    ticket = ticket_of(server, client);
  }
};

}  // namespace

TEST_CASE("TlsSession: the peer identity is the same after a full and a resumed handshake") {
  Resumption r;
  CHECK(r.first->certificate == node1_fingerprint());
  CHECK(r.first->subject == "CN=sc-node-1");  // tools/make-certs.sh
  CHECK_FALSE(r.first->issuer_ca == bsc::Fingerprint{});
  TlsSession server(*r.server_ctx), client(*r.client_ctx, r.ticket.get());
  REQUIRE(handshake(server, client));
  CHECK(server.resumed());
  auto again = server.peer_identity();
  REQUIRE(again);
  CHECK(again->certificate == r.first->certificate);
  CHECK(again->public_key == r.first->public_key);
  CHECK(again->issuer_ca == r.first->issuer_ca);
  CHECK(again->subject == r.first->subject);
  CHECK(again->named_uuids == r.first->named_uuids);
  REQUIRE(again->der);
  CHECK(*again->der == *r.first->der);
  // The resumed session's own new ticket resumes too, with the same identity.
  Ticket next = ticket_of(server, client);
  TlsSession server3(*r.server_ctx), client3(*r.client_ctx, next.get());
  REQUIRE(handshake(server3, client3));
  CHECK(server3.resumed());
  REQUIRE(server3.peer_identity());
  CHECK(server3.peer_identity()->certificate == r.first->certificate);
}

TEST_CASE("TlsSession: a tampered ticket is refused: full handshake, same identity") {
  Resumption r;
  auto& ticket = r.ticket->MBEDTLS_PRIVATE(ticket);
  REQUIRE(r.ticket->MBEDTLS_PRIVATE(ticket_len) > 40);
  ticket[30] ^= 0x40;  // inside the ciphertext
  TlsSession server(*r.server_ctx), client(*r.client_ctx, r.ticket.get());
  REQUIRE(handshake(server, client));
  CHECK_FALSE(server.resumed());
  REQUIRE(server.peer_identity());
  CHECK(server.peer_identity()->certificate == r.first->certificate);
}

TEST_CASE("TlsSession: a ticket past its lifetime or under a rotated-out key is refused") {
  SUBCASE("expired") {
    Resumption r(1);  // 1 s lifetime
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    // An mbedTLS client does not offer a ticket past the lifetime the server gave it; a
    // node that does (clock trouble, or malice) must still be refused by the hub.
    r.ticket->MBEDTLS_PRIVATE(ticket_lifetime) = 3600;
    TlsSession server(*r.server_ctx), client(*r.client_ctx, r.ticket.get());
    REQUIRE(handshake(server, client));
    CHECK_FALSE(server.resumed());
    REQUIRE(server.peer_identity());
  }
  SUBCASE("key rotated out") {
    Resumption r;
    std::string err;
    REQUIRE(r.server_ctx->ticket_sealer()->keys().rotate(&err));
    REQUIRE(r.server_ctx->ticket_sealer()->keys().rotate(&err));
    TlsSession server(*r.server_ctx), client(*r.client_ctx, r.ticket.get());
    REQUIRE(handshake(server, client));
    CHECK_FALSE(server.resumed());
  }
  SUBCASE("previous key still opens") {
    Resumption r;
    std::string err;
    REQUIRE(r.server_ctx->ticket_sealer()->keys().rotate(&err));
    TlsSession server(*r.server_ctx), client(*r.client_ctx, r.ticket.get());
    REQUIRE(handshake(server, client));
    CHECK(server.resumed());
  }
}

TEST_CASE("TlsSession: refuse() after TLS sends the alert and records why") {
  Pair p;
  REQUIRE(p.server.peer_identity());
  p.server.refuse(MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED, "node is on the deny list");
  CHECK(p.server.failure_reason() == "node is on the deny list");
  CHECK(p.server.failure_kind() == TlsSession::Failure::kCertificateRejected);
  pump(p.server, p.client);
  uint8_t buf[16];
  TlsSession::Status st;
  CHECK(p.client.read(buf, sizeof buf, &st) == 0);
  CHECK(st != TlsSession::Status::kWant);
  CHECK(st != TlsSession::Status::kOk);
}

namespace {

// "YYMMDDHHMMSSZ" (UTCTime, as `openssl ca -startdate/-enddate` takes it) `offset_s` from now.
std::string utc_time(long offset_s) {
  std::time_t t = std::time(nullptr) + offset_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
  return buf;
}

// A node certificate from the test PKI's CA that expires `seconds` from now (openssl ca).
std::string short_lived_node(int seconds) {
  const std::string d = pki_dir(), w = d + "/short";
  std::string cmd =
      "set -e; mkdir -p " + w + "; : > " + w + "/index.txt; echo 1000 > " + w + "/serial;"
      " printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=" + w + "/index.txt\\nserial=" + w +
      "/serial\\nnew_certs_dir=" + w + "\\ndefault_md=sha256\\npolicy=p\\n[p]\\n"
      "commonName=supplied\\n' > " + w + "/ca.cnf;"
      " openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + w +
      "/node.key -subj /CN=short-lived -out " + w + "/node.csr 2>/dev/null;"
      " openssl ca -batch -notext -config " + w + "/ca.cnf -cert " + d + "/ca.pem -keyfile " +
      d + "/ca.key -in " + w + "/node.csr -out " + w + "/node.pem -startdate " +
      utc_time(-3600) + " -enddate " + utc_time(seconds) + " 2>/dev/null";
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
  return w;
}

}  // namespace

TEST_CASE("TlsSession: a resumed session whose certificate expired since is refused") {
  const std::string w = short_lived_node(2);
  auto server_ctx = make_context(TlsContext::Role::kServer);
  TlsContext client_ctx;
  std::string err;
  REQUIRE(client_ctx.init(TlsContext::Role::kClient, w + "/node.pem", w + "/node.key",
                          pki_dir() + "/ca.pem", &err));
  Ticket ticket{nullptr, nullptr};
  {
    TlsSession server(*server_ctx), client(client_ctx);
    REQUIRE(handshake(server, client));  // still valid
    ticket = ticket_of(server, client);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  TlsSession server(*server_ctx), client(client_ctx, ticket.get());
  CHECK_FALSE(handshake(server, client));
  CHECK(server.failure_kind() == TlsSession::Failure::kCertificateRejected);
  CHECK(server.failure_reason() == "resumed session refused: certificate expired");
  CHECK(server.peer_identity() == nullptr);
  uint8_t buf[16];
  TlsSession::Status st;
  CHECK(client.read(buf, sizeof buf, &st) == 0);
  CHECK(st == TlsSession::Status::kFailed);
  CHECK(client.failure_reason().find("alert") != std::string::npos);
}
