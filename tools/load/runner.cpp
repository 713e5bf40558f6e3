#include "runner.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "broadcast_mode.hpp"
#include "clock.hpp"
#include "format.hpp"
#include "progress.hpp"
#include "run_context.hpp"
#include "shard.hpp"

namespace bsc::load {
namespace {

constexpr uint64_t kDrainNs = 2 * kNsPerSec;  // wait for in-flight messages after the stop
constexpr auto kPoll = std::chrono::milliseconds(10);

std::atomic<int> g_signals{0};

void on_signal(int) {
  if (g_signals.fetch_add(1) >= 1) {
    static const char msg[] = "bschub-load: second signal, exiting at once\n";
    ssize_t rc = write(2, msg, sizeof msg - 1);
    (void)rc;
    _exit(130);
  }
}

bool interrupted() { return g_signals.load(std::memory_order_relaxed) > 0; }

// Enough descriptors for every node plus the loops' own.
int raise_fd_limit(uint32_t nodes) {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  rlim_t need = rlim_t(nodes) + 64;
  if (rl.rlim_cur >= need) return -1;
  if (rl.rlim_max < need && rl.rlim_max != RLIM_INFINITY) {
    std::fprintf(stderr,
                 "bschub-load: %u nodes need %llu file descriptors but the hard limit is "
                 "%llu (raise it with ulimit -Hn)\n",
                 nodes, (unsigned long long)need, (unsigned long long)rl.rlim_max);
    return 2;
  }
  rl.rlim_cur = need;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    std::fprintf(stderr, "bschub-load: cannot raise the file descriptor limit to %llu\n",
                 (unsigned long long)need);
    return 2;
  }
  return -1;
}

// Node -> shard: in pair modes pair p (nodes 2p, 2p+1) goes to shard p % T, so both ends
// of a pair share a thread; otherwise node i goes to shard i % T.
void assign_shards(RunContext& ctx, uint32_t threads, std::vector<std::vector<uint32_t>>* out) {
  const Options& o = ctx.opt;
  out->assign(threads, {});
  ctx.shard_of.resize(o.nodes);
  for (uint32_t g = 0; g < o.nodes; ++g) {
    uint32_t s = pair_mode(o.mode) ? (g / 2) % threads : g % threads;
    ctx.shard_of[g] = s;
    (*out)[s].push_back(g);
  }
}

struct Totals {
  Counters c;
  uint64_t connected = 0, resolved = 0, last_accept_ns = 0;
  uint64_t on_failover = 0, first_loss_ns = 0, last_failover_ns = 0;
};

Totals sum(const std::vector<std::unique_ptr<Shard>>& shards) {
  Totals t;
  for (const auto& s : shards) {
    Counters c;
    s->stats().read(&c);
    t.c.add(c);
    t.connected += s->stats().connected.load(std::memory_order_relaxed);
    t.resolved += s->stats().resolved.load(std::memory_order_relaxed);
    t.last_accept_ns =
        std::max(t.last_accept_ns, s->stats().last_accept_ns.load(std::memory_order_relaxed));
    t.on_failover += s->stats().connected_failover.load(std::memory_order_relaxed);
    uint64_t lost = s->stats().first_loss_ns.load(std::memory_order_relaxed);
    if (lost && (t.first_loss_ns == 0 || lost < t.first_loss_ns)) t.first_loss_ns = lost;
    t.last_failover_ns =
        std::max(t.last_failover_ns, s->stats().last_failover_ns.load(std::memory_order_relaxed));
  }
  return t;
}

void request_all(const std::vector<std::unique_ptr<Shard>>& shards, Shard::Phase p) {
  for (const auto& s : shards) s->request(p);
}

bool all_reached(const std::vector<std::unique_ptr<Shard>>& shards, Shard::Phase p) {
  for (const auto& s : shards)
    if (s->phase() < p) return false;
  return true;
}

}  // namespace

int run(const Options& opt, RunResult* res) {
  if (int rc = raise_fd_limit(opt.nodes); rc >= 0) return rc;

  std::unique_ptr<TlsContext> tls;
  if (opt.tls) {
    tls = std::make_unique<TlsContext>();
    std::string err;
    TlsOptions topts;
    parse_tls_groups(opt.groups, &topts.groups);  // validated by the options; "" = default
    parse_tls_ciphersuites(opt.ciphersuites, &topts.ciphersuites);  // likewise
    if (!tls->init(TlsContext::Role::kClient, opt.cert, opt.key, opt.ca, &err, topts)) {
      std::fprintf(stderr, "bschub-load: %s\n", err.c_str());
      return 2;
    }
  }

  RunContext ctx(opt);
  ctx.tls = tls.get();
  std::unique_ptr<TicketStore> tickets;
  // Failover: a node offers the ticket of its last connection when it connects again.
  if (opt.tls && (!opt.save_tickets.empty() || !opt.resume_file.empty() || opt.failover())) {
    tickets = std::make_unique<TicketStore>(opt.nodes);
    std::string err;
    if (!opt.resume_file.empty() && !tickets->load(opt.resume_file, &err)) {
      std::fprintf(stderr, "bschub-load: --resume: %s\n", err.c_str());
      return 2;
    }
    ctx.tickets = tickets.get();
  }
  std::random_device rd;
  uint64_t seed = (uint64_t(rd()) << 32) ^ rd() ^ now_ns();
  make_identities(ctx, seed);
  if (opt.mode == RunMode::kBroadcast)
    ctx.broadcast = std::make_unique<BroadcastShared>(opt.senders);

  uint32_t units = pair_mode(opt.mode) ? opt.nodes / 2 : opt.nodes;
  uint32_t threads = std::min(opt.threads, units);
  if (threads < opt.threads)
    std::fprintf(stderr, "bschub-load: --threads %u lowered to %u (one %s per thread at least)\n",
                 opt.threads, threads, pair_mode(opt.mode) ? "pair" : "node");
  res->threads = threads;
  std::vector<std::vector<uint32_t>> share;
  assign_shards(ctx, threads, &share);

  uint32_t concurrency =
      opt.mode == RunMode::kConnect ? (opt.effective_inflight() + threads - 1) / threads : 64;
  std::vector<std::unique_ptr<Shard>> shards;
  for (uint32_t t = 0; t < threads; ++t) {
    shards.push_back(
        std::make_unique<Shard>(t, ctx, share[t], concurrency, seed * 0x9E3779B97F4A7C15ULL + t));
    ctx.shards.push_back(shards.back().get());
  }

  // A write to a socket the hub has reset must fail with EPIPE, not kill us.
  signal(SIGPIPE, SIG_IGN);
  // SIGINT/SIGTERM go to the main thread only.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  for (auto& s : shards) s->start_thread();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);

  Progress progress(opt, shards);

  // ---- connect --------------------------------------------------------------------------
  const uint64_t t_connect = now_ns();
  progress.begin(t_connect);
  request_all(shards, Shard::Phase::kConnecting);
  for (;;) {
    Totals t = sum(shards);
    if (t.resolved >= opt.nodes || interrupted()) break;
    progress.maybe_print(now_ns(), Progress::Stage::kConnecting);
    std::this_thread::sleep_for(kPoll);
  }
  {
    Totals t = sum(shards);
    uint64_t now = now_ns();
    res->connect_phase_s = double(now - t_connect) / 1e9;
    if (t.c.connect_ok > 0 && t.last_accept_ns > t_connect)
      res->all_connected_s = double(t.last_accept_ns - t_connect) / 1e9;
    res->connected_at_start = t.connected;
  }

  // ---- traffic --------------------------------------------------------------------------
  if (opt.mode != RunMode::kConnect && res->connected_at_start == 0 && !interrupted())
    std::fprintf(stderr, "bschub-load: no node connected; no traffic\n");
  if (opt.mode != RunMode::kConnect && res->connected_at_start > 0 && !interrupted()) {
    ctx.connected_at_start.store(res->connected_at_start, std::memory_order_release);
    uint64_t t0 = now_ns();
    ctx.t0_ns.store(t0, std::memory_order_release);
    progress.begin_traffic(t0);
    request_all(shards, Shard::Phase::kTraffic);
    res->traffic_ran = true;
    const uint64_t t_end = t0 + uint64_t(opt.duration_s * 1e9);
    for (;;) {
      uint64_t now = now_ns();
      if (now >= t_end || interrupted()) break;
      progress.maybe_print(now, Progress::Stage::kTraffic);
      uint64_t left = t_end - now;
      std::this_thread::sleep_for(left < uint64_t(kPoll.count()) * kNsPerMs
                                      ? std::chrono::nanoseconds(left)
                                      : std::chrono::nanoseconds(kPoll));
    }
    uint64_t t_stop = now_ns();
    res->traffic_s = double(t_stop - t0) / 1e9;
    Totals at_stop = sum(shards);
    res->frames_at_stop = frames_of(at_stop.c, opt.mode);
    res->on_failover_end = at_stop.on_failover;
    res->on_primary_end = at_stop.connected - at_stop.on_failover;
    if (at_stop.first_loss_ns && at_stop.last_failover_ns > at_stop.first_loss_ns)
      res->failover_all_s = double(at_stop.last_failover_ns - at_stop.first_loss_ns) / 1e9;
    request_all(shards, Shard::Phase::kDraining);
    // Every shard must have stopped sending before any counts its losses.
    while (!all_reached(shards, Shard::Phase::kDraining)) std::this_thread::sleep_for(kPoll);
    for (;;) {
      bool drained =
          std::all_of(shards.begin(), shards.end(), [](const auto& s) { return s->drained(); });
      if (drained) break;
      if (now_ns() - t_stop > kDrainNs || g_signals.load() > 1) {
        res->drained = false;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  res->interrupted = interrupted();

  // ---- finish ---------------------------------------------------------------------------
  request_all(shards, Shard::Phase::kFinishing);
  for (auto& s : shards) s->join();

  Totals t = sum(shards);
  res->totals = t.c;
  for (const auto& s : shards) {
    HistogramData h;
    s->stats().latency.snapshot(&h);
    res->latency.add(h);
    s->stats().connect_latency.snapshot(&h);
    res->connect_latency.add(h);
    s->stats().failover_latency.snapshot(&h);
    res->failover_latency.add(h);
  }
  shards.clear();  // nodes and loops go before the TLS configuration they use
  if (tickets && !opt.save_tickets.empty()) {
    std::string err;
    if (!tickets->save(opt.save_tickets, &err))
      std::fprintf(stderr, "bschub-load: --save-tickets: %s\n", err.c_str());
    else if (!opt.quiet)
      std::fprintf(stderr, "bschub-load: %zu session tickets saved to %s\n", tickets->count(),
                   opt.save_tickets.c_str());
  }
  return -1;
}

}  // namespace bsc::load
