// TLS 1.3 costs with the configuration the hub negotiates, in memory (no sockets):
//   - mutual-TLS handshakes, full (per key-exchange group) and resumed from a ticket; each
//     reports the server's and the client's CPU per handshake separately (counters
//     server_us / client_us), since the hub pays only the server side;
//   - record seal (TlsSession::write) and open (TlsSession::read) of 100 B and 1400 B, per
//     TLS 1.3 cipher suite (the client offers only the suite under test).
// Certificates: a fresh PKI from tools/make-certs.sh (openssl CLI) in a temporary directory.
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/tls_context.hpp"
#include "net/tls_session.hpp"

namespace {

using bsc::TlsContext;
using bsc::TlsOptions;
using bsc::TlsSession;

const std::string& pki_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/bschub-tls-bench-XXXXXX";
    std::string d = mkdtemp(tmpl);
    std::string cmd = std::string(BSCHUB_SOURCE_ROOT) + "/tools/make-certs.sh " + d + " 1 >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "tls_bench: %s failed\n", cmd.c_str());
      std::exit(1);
    }
    return d;
  }();
  return dir;
}

std::unique_ptr<TlsContext> make_context(TlsContext::Role role, const TlsOptions& opts) {
  const std::string& d = pki_dir();
  bool server = role == TlsContext::Role::kServer;
  auto ctx = std::make_unique<TlsContext>();
  std::string err;
  if (!ctx->init(role, d + (server ? "/hub.pem" : "/node1.pem"),
                 d + (server ? "/hub.key" : "/node1.key"), d + "/ca.pem", &err, opts)) {
    std::fprintf(stderr, "tls_bench: %s\n", err.c_str());
    std::exit(1);
  }
  return ctx;
}

double thread_cpu_us() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

// Moves ciphertext from one side to the other.
void pump(TlsSession& from, TlsSession& to) {
  auto& out = from.ciphertext_out();
  if (!out.empty()) {
    to.feed(out.data(), out.size());
    out.clear();
  }
}

struct Pair {
  std::unique_ptr<TlsSession> server, client;
};

// Runs one handshake to completion, adding each side's CPU time to *server_us/*client_us.
Pair handshake(const TlsContext& sctx, const TlsContext& cctx, const mbedtls_ssl_session* resume,
               double* server_us, double* client_us) {
  Pair p;
  p.server = std::make_unique<TlsSession>(sctx);
  p.client = std::make_unique<TlsSession>(cctx, resume);
  for (int round = 0; round < 20; ++round) {
    double t0 = thread_cpu_us();
    auto cs = p.client->handshake();
    double t1 = thread_cpu_us();
    pump(*p.client, *p.server);
    auto ss = p.server->handshake();
    double t2 = thread_cpu_us();
    pump(*p.server, *p.client);
    *client_us += t1 - t0;
    *server_us += t2 - t1;
    if (cs == TlsSession::Status::kFailed || ss == TlsSession::Status::kFailed) {
      std::fprintf(stderr, "tls_bench: handshake failed: %s / %s\n",
                   p.client->failure_reason().c_str(), p.server->failure_reason().c_str());
      std::exit(1);
    }
    if (cs == TlsSession::Status::kOk && ss == TlsSession::Status::kOk) break;
  }
  // The ticket follows the server's last flight; the client takes it in with the first
  // application data (as the hub's Connect-Accept), so send one octet.
  uint8_t buf[64] = {0};
  p.server->write(buf, 1);
  pump(*p.server, *p.client);
  TlsSession::Status st;
  double t0 = thread_cpu_us();
  p.client->read(buf, sizeof buf, &st);
  *client_us += thread_cpu_us() - t0;
  return p;
}

void report(benchmark::State& state, double server_us, double client_us) {
  double n = double(state.iterations());
  state.counters["server_us"] = server_us / n;
  state.counters["client_us"] = client_us / n;
}

// Full mutual-TLS handshake; the client offers only the group under test.
void BM_HandshakeFull(benchmark::State& state, const char* group) {
  TlsOptions copts;
  bsc::parse_tls_groups(group, &copts.groups);
  copts.session_tickets = false;
  auto sctx = make_context(TlsContext::Role::kServer, {});
  auto cctx = make_context(TlsContext::Role::kClient, copts);
  double s = 0, c = 0;
  for (auto _ : state) {
    Pair p = handshake(*sctx, *cctx, nullptr, &s, &c);
    if (p.server->resumed()) state.SkipWithError("unexpected resumption");
  }
  report(state, s, c);
}
BENCHMARK_CAPTURE(BM_HandshakeFull, p256, "p256")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_HandshakeFull, x25519, "x25519")->Unit(benchmark::kMicrosecond);

// Resumption from a ticket of an earlier full handshake (psk_dhe_ke: still one ECDHE).
void BM_HandshakeResumed(benchmark::State& state) {
  auto sctx = make_context(TlsContext::Role::kServer, {});
  auto cctx = make_context(TlsContext::Role::kClient, {});
  double s = 0, c = 0;
  Pair first = handshake(*sctx, *cctx, nullptr, &s, &c);
  auto ticket = first.client->take_ticket();
  if (!ticket) {
    state.SkipWithError("no ticket");
    return;
  }
  s = c = 0;
  for (auto _ : state) {
    Pair p = handshake(*sctx, *cctx, ticket.get(), &s, &c);
    if (!p.server->resumed() || !p.client->resumed()) state.SkipWithError("not resumed");
    if (auto t = p.client->take_ticket()) ticket = std::move(t);
  }
  report(state, s, c);
}
BENCHMARK(BM_HandshakeResumed)->Unit(benchmark::kMicrosecond);

// One established pair per cipher suite for the record benchmarks.
Pair& established(const char* suite) {
  static std::map<std::string, Pair> pairs;
  auto it = pairs.find(suite);
  if (it != pairs.end()) return it->second;
  static auto sctx = make_context(TlsContext::Role::kServer, {});
  TlsOptions copts;
  bsc::parse_tls_ciphersuites(suite, &copts.ciphersuites);
  // Contexts live as long as their sessions: for the whole run.
  static std::vector<std::unique_ptr<TlsContext>> clients;
  clients.push_back(make_context(TlsContext::Role::kClient, copts));
  double s = 0, c = 0;
  return pairs[suite] = handshake(*sctx, *clients.back(), nullptr, &s, &c);
}

// Seal: plaintext -> one record, as the hub does per target per loop iteration.
void BM_Seal(benchmark::State& state, const char* suite) {
  Pair& p = established(suite);
  std::vector<uint8_t> msg(size_t(state.range(0)), 0x5A);
  for (auto _ : state) {
    p.server->write(msg.data(), msg.size());
    p.server->ciphertext_out().clear();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(msg.size()));
  state.SetLabel(p.server->ciphersuite());
}

// Open: one record -> plaintext.
void BM_Open(benchmark::State& state, const char* suite) {
  Pair& p = established(suite);
  std::vector<uint8_t> msg(size_t(state.range(0)), 0x5A);
  std::vector<uint8_t> plain(msg.size());
  // Records must be fresh (sequence numbers): seal a batch outside the timed region, then
  // open them one by one.
  constexpr int kBatch = 256;
  int left = 0;
  for (auto _ : state) {
    if (left == 0) {
      state.PauseTiming();
      for (int i = 0; i < kBatch; ++i) p.client->write(msg.data(), msg.size());
      p.server->feed(p.client->ciphertext_out().data(), p.client->ciphertext_out().size());
      p.client->ciphertext_out().clear();
      left = kBatch;
      state.ResumeTiming();
    }
    TlsSession::Status st;
    size_t n = p.server->read(plain.data(), plain.size(), &st);
    benchmark::DoNotOptimize(n);
    --left;
  }
  // Drain what is left so the next benchmark starts clean.
  while (left-- > 0) {
    TlsSession::Status st;
    p.server->read(plain.data(), plain.size(), &st);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(msg.size()));
  state.SetLabel(p.server->ciphersuite());
}

#define SUITE_BENCHMARKS(suite)                                    \
  BENCHMARK_CAPTURE(BM_Seal, suite, #suite)->Arg(100)->Arg(1400); \
  BENCHMARK_CAPTURE(BM_Open, suite, #suite)->Arg(100)->Arg(1400);
SUITE_BENCHMARKS(aes128)
SUITE_BENCHMARKS(aes256)
SUITE_BENCHMARKS(chacha20)

}  // namespace

BENCHMARK_MAIN();
