#include "shard.hpp"

#include <cstdio>
#include <stdexcept>

#include "clock.hpp"

namespace bsc::load {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
constexpr uint64_t kTickMs = 50;
constexpr uint64_t kHandshakeDeadlineNs = 10 * kNsPerSec;  // TCP connect -> Connect-Accept
constexpr uint64_t kDisconnectDeadlineNs = 3 * kNsPerSec;  // Disconnect-Request -> closed

}  // namespace

Shard::Shard(uint32_t id, RunContext& ctx, const std::vector<uint32_t>& globals,
             uint32_t connect_concurrency, uint64_t seed)
    : id_(id),
      ctx_(ctx),
      connect_limit_(connect_concurrency ? connect_concurrency : 1),
      rng_(seed),
      read_buf_(kReadBufferSize),
      payload_(kMaxPayload) {
  uv_loop_init(&loop_);
  uv_check_init(&loop_, &check_);
  uv_idle_init(&loop_, &idle_);
  if (!cmd_wake_.init(&loop_, on_cmd, this) || !mode_wake_.init(&loop_, on_wake, this))
    throw std::runtime_error("eventfd failed");
  uv_timer_init(&loop_, &tick_);
  check_.data = idle_.data = tick_.data = this;
  uv_check_start(&check_, on_check);
  uv_timer_start(&tick_, on_tick, kTickMs, kTickMs);
  nodes_.reserve(globals.size());
  for (uint32_t g : globals) {
    nodes_.push_back(
        std::make_unique<Node>(this, uint32_t(nodes_.size()), g, ctx.vmacs[g], ctx.uuids[g]));
  }
  dirty_.reserve(nodes_.size());
  batch_.reserve(nodes_.size());
  mode_ = make_mode(*this);
}

Shard::~Shard() {
  nodes_.clear();
  mode_.reset();
  uv_loop_close(&loop_);
}

void Shard::start_thread() {
  thread_ = std::thread([this] { run(); });
}

void Shard::join() {
  if (thread_.joinable()) thread_.join();
}

void Shard::run() {
  if (options().busy_poll) {
    while (uv_run(&loop_, UV_RUN_NOWAIT) != 0) {
    }
  } else {
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  phase_.store(int(Phase::kDone), std::memory_order_release);
}

void Shard::request(Phase target) {
  int t = int(target);
  int cur = target_.load(std::memory_order_relaxed);
  while (cur < t && !target_.compare_exchange_weak(cur, t)) {
  }
  cmd_wake_.signal();
}

void Shard::wake() { mode_wake_.signal(); }

void Shard::on_cmd(void* self) {
  auto* s = static_cast<Shard*>(self);
  while (s->phase_.load(std::memory_order_relaxed) < s->target_.load(std::memory_order_acquire))
    s->enter(Phase(s->phase_.load(std::memory_order_relaxed) + 1));
}

void Shard::on_wake(void* self) {
  auto* s = static_cast<Shard*>(self);
  if (s->traffic_started_) s->mode_->on_wake();
}

void Shard::enter(Phase p) {
  uint64_t now = now_ns();
  phase_.store(int(p), std::memory_order_release);
  switch (p) {
    case Phase::kConnecting:
      start_more_connects();
      break;
    case Phase::kTraffic:
      // The runner publishes t0 only when traffic really runs (not after an early stop).
      if (uint64_t t0 = ctx_.t0_ns.load(std::memory_order_acquire)) {
        traffic_started_ = true;
        mode_->start(t0);
      }
      break;
    case Phase::kDraining:
      if (traffic_started_) mode_->stop_sending();
      if (!traffic_started_ || mode_->drained()) drained_.store(true, std::memory_order_release);
      break;
    case Phase::kFinishing:
      mode_->finish();
      finish_started_ns_ = now;
      for (auto& n : nodes_) n->disconnect();
      maybe_end_loop();
      break;
    case Phase::kInit:
    case Phase::kDone:
      break;
  }
}

void Shard::start_more_connects() {
  // A node that fails inside start() resolves at once and calls back here: the outer
  // loop carries on instead (no recursion depth proportional to the node count).
  if (phase() != Phase::kConnecting || starting_) return;
  starting_ = true;
  while (handshaking_ < connect_limit_ && next_connect_ < nodes_.size()) {
    Node& n = *nodes_[next_connect_++];
    ++handshaking_;
    ++open_nodes_;
    n.start();
  }
  starting_ = false;
}

void Shard::node_resolved(Node& n, bool ok) {
  (void)n, (void)ok;
  --handshaking_;
  bump(stats_.resolved);
  start_more_connects();
}

void Shard::node_connected(Node& n, uint16_t hub_max_bvlc, bool first) {
  uint64_t now = now_ns();
  // What the hub forwards: header + O (+ D for a broadcast) + payload.
  size_t biggest = 4 + 6 + (ctx_.opt.mode == RunMode::kBroadcast ? 6 : 0) + ctx_.opt.size_max;
  static std::atomic<bool> warned{false};
  if (hub_max_bvlc < biggest && !warned.exchange(true))
    std::fprintf(stderr,
                 "bschub-load: warning: the hub's max BVLC length is %u but messages of "
                 "--size %u need %zu: expect losses\n",
                 hub_max_bvlc, ctx_.opt.size_max, biggest);
  bump(stats_.connected);
  if (traffic_started_) mode_->on_node_up(n);
  if (!first) return;  // a reconnect: the connect phase's figures are the first connects'
  bump(stats_.connect_ok);
  stats_.last_accept_ns.store(now, std::memory_order_relaxed);
  stats_.connect_latency.record(now - n.started_ns());
  node_resolved(n, true);
}

void Shard::node_reopened() { ++open_nodes_; }

bool Shard::reconnecting() const {
  Phase p = phase();
  return p >= Phase::kConnecting && p < Phase::kFinishing;
}

void Shard::primary_lost(uint64_t at_ns) {
  uint64_t first = stats_.first_loss_ns.load(std::memory_order_relaxed);
  if (first == 0 || at_ns < first) stats_.first_loss_ns.store(at_ns, std::memory_order_relaxed);
  primary_up_ = false;
}

void Shard::primary_refused() { primary_up_ = false; }

void Shard::failover_tick(uint64_t now) {
  for (auto& n : nodes_)
    if (n->retry_due(now)) n->retry();
  if (stats_.connected_failover.load(std::memory_order_relaxed) == 0) {
    primary_up_ = false;
    return;
  }
  if (primary_up_) {
    paused_for_move_ = traffic_started_;
    for (auto& n : nodes_)
      if (n->connected() && n->hub() == 1 && (!traffic_started_ || mode_->ready_to_move(*n)))
        n->move_to_primary();
    return;
  }
  if (paused_for_move_) {
    // The move was called off (the primary refused a node again): traffic goes on.
    paused_for_move_ = false;
    for (auto& n : nodes_)
      if (n->connected()) mode_->on_node_up(*n);
  }
  if (probe_open_ || now < next_probe_ns_) return;
  next_probe_ns_ = now + uint64_t(ctx_.opt.reconnect_interval_s * 1e9);
  uv_tcp_init(&loop_, &probe_);
  probe_open_ = true;
  probe_.data = this;
  probe_req_.data = this;
  if (uv_tcp_connect(&probe_req_, &probe_, reinterpret_cast<const sockaddr*>(&ctx_.opt.addr),
                     on_probe_connect) != 0)
    close_probe();
}

void Shard::on_probe_connect(uv_connect_t* req, int status) {
  auto* s = static_cast<Shard*>(req->data);
  // A listening primary is enough: a node that then fails to connect goes back to the
  // failover (and the next probe waits an interval).
  if (status == 0 && s->reconnecting()) s->primary_up_ = true;
  s->close_probe();
}

void Shard::close_probe() {
  auto* h = reinterpret_cast<uv_handle_t*>(&probe_);
  if (!probe_open_ || uv_is_closing(h)) return;
  uv_close(h, [](uv_handle_t* hh) { static_cast<Shard*>(hh->data)->probe_open_ = false; });
}

void Shard::node_down(Node& n) {
  if (traffic_started_) mode_->on_node_down(n);
}

void Shard::node_closed(Node& n) {
  (void)n;
  --open_nodes_;
  maybe_end_loop();
}

void Shard::maybe_end_loop() {
  if (phase() != Phase::kFinishing || open_nodes_ != 0 || loop_handles_closed_) return;
  loop_handles_closed_ = true;
  close_probe();
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
  cmd_wake_.close();
  mode_wake_.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
}

void Shard::catch_up_traffic() {
  // A broadcast from a shard that started first can arrive before our own kTraffic
  // command: t0 is published before any shard is told, so start now.
  if (phase() == Phase::kConnecting && ctx_.t0_ns.load(std::memory_order_acquire) != 0)
    enter(Phase::kTraffic);
}

void Shard::on_npdu(Node& to, const Message& m, const uint8_t* data) {
  if (!traffic_started_) catch_up_traffic();
  if (traffic_started_) {
    mode_->on_npdu(to, m, data, now_ns());
  } else {
    bump(stats_.unexpected);
  }
}

void Shard::on_heartbeat_ack(Node& n, uint16_t message_id) {
  if (!traffic_started_) catch_up_traffic();
  if (traffic_started_) {
    mode_->on_heartbeat_ack(n, message_id, now_ns());
  } else {
    bump(stats_.unexpected);
  }
}

uint64_t Shard::rand64() { return rng_.next(); }

uint32_t Shard::pick_size() {
  const Options& o = ctx_.opt;
  if (o.size_min == o.size_max) return o.size_min;
  return o.size_min + uint32_t(rand64() % (o.size_max - o.size_min + 1));
}

bool Shard::send_npdu(Node& from, const Vmac& to, size_t size, Kind kind, uint32_t seq,
                      uint64_t ts_ns) {
  if (!from.connected()) return false;
  write_payload(payload_.data(), size, kind, seq, ts_ns);
  bvlc_.clear();
  encode_message(bvlc_, Function::kEncapsulatedNpdu, from.next_message_id(), nullptr, &to, {}, {},
                 {payload_.data(), size});
  if (!from.send(bvlc_.data(), bvlc_.size())) return false;
  bump(stats_.sent);
  return true;
}

bool Shard::check_payload(const Message& m, const uint8_t* data, PayloadInfo* info) {
  if (read_payload(data + m.payload.offset, m.payload.length, info)) return true;
  bump(stats_.corrupt);
  return false;
}

void Shard::mark_dirty(Node* n) {
  if (n->in_dirty_list) return;
  n->in_dirty_list = true;
  if (dirty_.empty() && !loop_handles_closed_) uv_idle_start(&idle_, on_idle);
  dirty_.push_back(n);
}

void Shard::on_idle(uv_idle_t* h) {
  // An active idle handle only makes poll return at once, so the check phase (the drain
  // pass) runs in this iteration.
  (void)h;
}

void Shard::on_check(uv_check_t* h) {
  auto* s = static_cast<Shard*>(h->data);
  s->drain();
  if (s->phase() == Phase::kDraining && !s->drained_.load(std::memory_order_relaxed) &&
      s->mode_->drained())
    s->drained_.store(true, std::memory_order_release);
}

void Shard::drain() {
  // Each dirty node encrypts everything it has and writes once. A flush may mark other
  // nodes dirty (never itself again in this pass): they land in the fresh dirty_ list.
  batch_.swap(dirty_);
  for (Node* n : batch_) {
    n->in_dirty_list = false;
    n->flush();
  }
  batch_.clear();
  if (dirty_.empty() && !loop_handles_closed_) uv_idle_stop(&idle_);
}

void Shard::sweep_handshakes(uint64_t now) {
  for (uint32_t i = 0; i < next_connect_; ++i) {
    Node& n = *nodes_[i];
    if (n.handshaking() && now - n.started_ns() > kHandshakeDeadlineNs)
      n.fail_timeout("no Connect-Accept within 10 s");
  }
}

void Shard::on_tick(uv_timer_t* h) {
  auto* s = static_cast<Shard*>(h->data);
  uint64_t now = now_ns();
  Phase p = s->phase();
  if (p >= Phase::kConnecting && p < Phase::kFinishing && now - s->last_sweep_ns_ >= kNsPerSec) {
    s->last_sweep_ns_ = now;
    s->sweep_handshakes(now);
  }
  if (s->ctx_.opt.failover() && s->reconnecting()) s->failover_tick(now);
  if (s->traffic_started_ && p < Phase::kFinishing) {
    s->mode_->on_tick(now);
    if (p == Phase::kDraining && s->mode_->drained())
      s->drained_.store(true, std::memory_order_release);
  }
  if (p == Phase::kFinishing && now - s->finish_started_ns_ > kDisconnectDeadlineNs) {
    for (auto& n : s->nodes_)
      if (n->socket_open()) n->abort("disconnect deadline passed");
  }
}

}  // namespace bsc::load
