#include "core/worker.hpp"

#include <cassert>
#include <stdexcept>

#include "core/connection.hpp"
#include "core/routing_map.hpp"
#include "core/source_limiter.hpp"
#include "net/tls_reloader.hpp"
#include "util/log.hpp"

namespace bsc {
namespace {
// One receive buffer per loop: 64 KiB holds four full TLS records per read call.
constexpr size_t kReadBufferSize = 64 * 1024;
// Bound on this worker's batches in flight to other workers. At light load a batch carries
// one frame per loop iteration, so the count must cover the longest time a busy 2-core
// machine may leave the consumer unscheduled (128 ran out in ~6 ms at 20k msgs/s). Pages of
// a batch are touched only as far as it is filled, so resident memory follows the bytes in
// flight; the hard ceiling is 1024 x 64 KiB = 64 MiB per worker. Beyond it frames are
// dropped and counted (drop_inbox_full), never queued without bound.
constexpr size_t kMaxBatches = 1024;
// Inbox budget per wake-up: a flood from the other workers cannot starve this loop's own
// reads; the rest waits for the next iteration.
constexpr size_t kInboxBudget = 64;
}  // namespace

Worker::Worker(uint32_t id, const Config& config, const TlsReloader* tls, RoutingMap& routing,
               std::atomic<size_t>& open_connections)
    : id_(id),
      config_(config),
      tls_(tls),
      routing_(routing),
      open_connections_(open_connections),
      hub_(*this),
      // Each worker gets its share of the open-handshake bound (at least one).
      gate_((config.max_handshakes + config.workers - 1) / config.workers,
            uint64_t(config.handshake_budget_ms * 1e6)),
      read_buf_(kReadBufferSize) {
  uv_loop_init(&loop_);
  uv_check_init(&loop_, &check_);
  uv_idle_init(&loop_, &idle_);
  uv_async_init(&loop_, &stop_async_, on_stop);
  if (!inbox_wake_.init(&loop_, on_inbox, this)) throw std::runtime_error("eventfd failed");
  uv_async_init(&loop_, &snapshot_async_, on_snapshot);
  uv_timer_init(&loop_, &shutdown_timer_);
  check_.data = idle_.data = stop_async_.data = this;
  snapshot_async_.data = shutdown_timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&stop_async_));
  inbox_wake_.unref();
  uv_unref(reinterpret_cast<uv_handle_t*>(&snapshot_async_));
  uv_check_start(&check_, on_check);
}

Worker::~Worker() {
  assert(!thread_.joinable());
  // The thread has ended: this loop is ours now. Close what stayed open for late peers.
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  inbox_wake_.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&snapshot_async_), nullptr);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&check_))) close_loop_handles();
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  // Batches still queued anywhere are freed with owned_ (queues hold raw pointers only).
}

void Worker::connect_peers(const std::vector<Worker*>& peers) {
  peers_ = peers;
  open_.assign(peers.size(), nullptr);
  ready_.assign(peers.size(), {});
  for (Worker* p : peers) tokens_.push_back(std::make_unique<moodycamel::ProducerToken>(p->inbox_));
}

bool Worker::start(int listen_fd, std::string* error) {
  if (!listen(listen_fd, error)) return false;
  thread_ = std::thread([this] { run(); });
  return true;
}

bool Worker::listen(int listen_fd, std::string* error) {
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  listener_open_ = true;
  int rc = uv_tcp_open(&listener_, listen_fd);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, on_connection);
  if (rc != 0) {
    *error = std::string("cannot listen: ") + uv_strerror(rc);
    return false;
  }
  return true;
}

void Worker::run() {
  log::set_thread_worker(int(id_));
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Worker::request_stop() { uv_async_send(&stop_async_); }

std::shared_ptr<const TlsContext> Worker::tls() const { return tls_ ? tls_->current() : nullptr; }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::on_stop(uv_async_t* h) { static_cast<Worker*>(h->data)->shutdown_connections(); }

void Worker::shutdown_connections() {
  stopping_ = true;
  if (listener_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    listener_open_ = false;
  }
  for (auto& slot : slots_) {
    Connection* c = slot.conn.get();
    if (!c) continue;
    if (c->routable() && c->state() == Connection::State::kConnected) {
      // Std AB.6.2.3: the hub asks each node to go; its Disconnect-ACK (or NAK) makes the
      // hub function close the WebSocket normally, so the node sees a clean disconnect.
      hub_.start_disconnect(*c);
    } else if (c->state() != Connection::State::kDisconnecting) {
      // Still handshaking: no BVLC-SC session to end.
      c->close(ws_close::kGoingAway, "hub shutting down");
    }
  }
  drain();
  // The loop ends when the last connection's handles are gone; a node that never ACKs is
  // cut at the deadline so it cannot hold the hub.
  if (live_ == 0) {
    close_loop_handles();
    return;
  }
  uv_timer_start(&shutdown_timer_, on_shutdown_deadline,
                 uint64_t(config_.shutdown_timeout_s * 1000), 0);
}

void Worker::on_shutdown_deadline(uv_timer_t* h) {
  auto* w = static_cast<Worker*>(h->data);
  size_t left = 0;
  for (auto& slot : w->slots_)
    if (slot.conn) {
      ++left;
      slot.conn->close(ws_close::kGoingAway,
                       "shutdown deadline passed (no Disconnect-ACK)");
    }
  w->drain();  // the Close frames go out with this write, before TCP is cut
  for (auto& slot : w->slots_)
    if (slot.conn) slot.conn->abort("shutdown deadline passed");
  LOG_WARN("shutdown_deadline", "connections_cut=%zu timeout_s=%g", left,
           w->config_.shutdown_timeout_s);
}

void Worker::close_loop_handles() {
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&shutdown_timer_), nullptr);
}

void Worker::on_connection(uv_stream_t* server, int status) {
  auto* w = static_cast<Worker*>(server->data);
  if (status < 0) {
    // Out of descriptors (EMFILE) repeats on every wake-up: log at most once a second.
    bump(w->stats_.accept_failed);
    if (w->now_ms() - w->last_accept_error_log_ms_ >= 1000) {
      w->last_accept_error_log_ms_ = w->now_ms();
      LOG_ERROR("accept_failed", "error=\"%s\" total=%llu", uv_strerror(status),
                (unsigned long long)w->stats_.accept_failed.load());
    }
    return;
  }
  if (w->tls_ && w->gate_.full()) {
    // Leaving the connection un-accepted makes libuv stop polling the listener until
    // accept_one() runs (handshake_ended): new nodes wait in the kernel's backlog.
    w->accept_paused_ = true;
    bump(w->stats_.accept_paused);  // reported every 10 s by DropReporter, not per event
    return;
  }
  w->accept_one();
}

void Worker::accept_one() {
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = uint32_t(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  ++slot.generation;
  slot.conn = std::make_unique<Connection>(this, ConnRef{id_, index, slot.generation});
  Connection* c = slot.conn.get();
  ++live_;
  size_t open = open_connections_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!c->start(reinterpret_cast<uv_stream_t*>(&listener_))) return;  // released on close
  bump(stats_.accepted);
  if (!source_allowed(c)) return;
  if (open > config_.max_connections) {
    // Policy: close at once, before any TLS work, so a flood of extra nodes costs little.
    bump(stats_.refused_max_connections);
    if (log_allowed(FloodLog::kRefused))
      LOG_WARN("connection_refused", "peer=%s reason=\"max connections (%zu) reached\"",
               c->peer().c_str(), config_.max_connections);
    c->abort("max connections");
    return;
  }
  LOG_DEBUG("tcp_accepted", "peer=%s", c->peer().c_str());
}

bool Worker::source_allowed(Connection* c) {
  if (!sources_) return true;
  // An unknown address (AF_UNSPEC) has no bucket: SourceLimiter lets it through.
  if (sources_->allow(reinterpret_cast<const sockaddr*>(&c->peer_address()), now_ms()))
    return true;
  // Policy: close before any TLS work (the node retries later).
  bump(stats_.refused_source_rate);
  if (log_allowed(FloodLog::kRefused))
    LOG_WARN("connection_refused", "peer=%s reason=\"source over --source-rate (%g/s)\"",
             c->peer().c_str(), config_.source_rate);
  c->abort("source rate");
  return false;
}

void Worker::queue_handshake(Connection* c) {
  if (c->handshake_queued_) return;
  c->handshake_queued_ = true;
  gate_.queue(c->ref());
}

void Worker::handshake_ended() {
  gate_.closed();
  if (accept_paused_ && !stopping_ && listener_open_ && !gate_.full()) {
    accept_paused_ = false;
    accept_one();  // takes the connection libuv holds and re-arms the listener
  }
}

void Worker::run_handshakes() {
  bool more = gate_.run(
      [this](ConnRef ref) {
        if (Connection* c = find(ref)) {
          c->handshake_queued_ = false;
          c->run_handshake_step();
        }
      },
      [] { return uv_hrtime(); });
  if (more) bump(stats_.handshakes_deferred);
}

void Worker::release(Connection* c) {
  ConnRef ref = c->ref();
  if (c->in_dirty_list) {
    for (auto& d : dirty_)
      if (d == c) d = nullptr;
  }
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  bool was_handshaking = c->in_handshake_;
  slots_[ref.slot].conn.reset();
  free_slots_.push_back(ref.slot);
  if (was_handshaking) handshake_ended();
  if (--live_ == 0 && stopping_) close_loop_handles();
}

Connection* Worker::find(ConnRef ref) {
  if (ref.worker != id_ || ref.slot >= slots_.size()) return nullptr;
  Slot& s = slots_[ref.slot];
  if (s.generation != ref.generation || !s.conn) return nullptr;
  return s.conn.get();
}

void Worker::mark_dirty(Connection* c) {
  if (c->in_dirty_list) return;
  c->in_dirty_list = true;
  if (dirty_.empty()) uv_idle_start(&idle_, on_idle);
  dirty_.push_back(c);
}

void Worker::add_connected(Connection* c) {
  c->connected_index = connected_.size();
  connected_.push_back(c);
}

void Worker::remove_connected(Connection* c) {
  size_t i = c->connected_index;
  if (i >= connected_.size() || connected_[i] != c) return;
  connected_[i] = connected_.back();
  connected_[i]->connected_index = i;
  connected_.pop_back();
  c->connected_index = SIZE_MAX;
}

void Worker::on_check(uv_check_t* h) {
  // Forwarding first; then handshake steps within the budget; then their output.
  auto* w = static_cast<Worker*>(h->data);
  w->drain();
  if (w->gate_.empty()) return;
  w->run_handshakes();
  if (!w->dirty_.empty()) w->drain();
  if (!w->gate_.empty()) uv_idle_start(&w->idle_, on_idle);  // no sleeping while steps wait
}

void Worker::on_idle(uv_idle_t* h) {
  // Nothing to do here: an active idle handle only makes poll return at once, so the
  // check phase (drain) runs in this iteration.
  (void)h;
}

Batch* Worker::take_batch() {
  if (free_.empty()) {
    Batch* back[32];
    size_t n = returns_.try_dequeue_bulk(back, 32);
    free_.insert(free_.end(), back, back + n);
  }
  if (free_.empty()) {
    if (owned_.size() >= kMaxBatches) return nullptr;
    owned_.push_back(std::make_unique<Batch>());
    owned_.back()->home = id_;
    free_.push_back(owned_.back().get());
  }
  Batch* b = free_.back();
  free_.pop_back();
  b->used = 0;
  return b;
}

uint8_t* Worker::remote_reserve(uint32_t worker, RecordKind kind, uint32_t slot,
                                uint32_t generation, size_t len) {
  assert(worker < peers_.size() && worker != id_);
  Batch*& open = open_[worker];
  if (open && !open->fits(len)) {
    ready_[worker].push_back(open);
    open = nullptr;
  }
  if (!open) {
    open = take_batch();
    if (!open) {
      bump(stats_.drop_inbox_full);
      return nullptr;
    }
    if (!open->fits(len)) return nullptr;  // larger than a batch: never for BVLC sizes
  }
  if (dirty_.empty()) uv_idle_start(&idle_, on_idle);  // make sure a drain pass runs soon
  has_remote_ = true;
  return open->append(kind, slot, generation, len);
}

// GCC 12 reports a false -Wstringop-overflow inside moodycamel's enqueue_bulk (an atomic
// load it cannot see the bounds of); the queue is correct, so silence it for this function.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
void Worker::publish_batches() {
  if (!has_remote_) return;
  has_remote_ = false;
  for (size_t w = 0; w < peers_.size(); ++w) {
    std::vector<Batch*>& ready = ready_[w];
    if (open_[w]) {
      ready.push_back(open_[w]);
      open_[w] = nullptr;
    }
    if (ready.empty()) continue;
    // One bulk enqueue with our producer token keeps per-source FIFO order; one wake-up.
    peers_[w]->inbox_.enqueue_bulk(*tokens_[w], ready.begin(), ready.size());
    bump(stats_.batches_sent, ready.size());
    ready.clear();
    peers_[w]->inbox_wake_.signal();
  }
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

void Worker::on_inbox(void* self) { static_cast<Worker*>(self)->drain_inbox(); }

void Worker::drain_inbox() {
  // Wake-ups coalesce (many sends, one callback): drain until empty or out of budget.
  Batch* got[16];
  size_t budget = kInboxBudget;
  while (budget > 0) {
    size_t n = inbox_.try_dequeue_bulk(got, budget < 16 ? budget : 16);
    if (n == 0) return;
    budget -= n;
    for (size_t i = 0; i < n; ++i) {
      hub_.deliver_batch(*got[i]);
      peers_[got[i]->home]->returns_.enqueue(got[i]);
    }
  }
  inbox_wake_.signal();  // more waiting: continue in the next iteration
}

void Worker::drain() {
  ++iteration_;
  publish_batches();
  // The single drain pass: each dirty connection encrypts everything it has and writes once.
  std::vector<Connection*> batch;
  batch.swap(dirty_);
  for (Connection* c : batch) {
    if (!c) continue;
    c->in_dirty_list = false;
    c->flush();
  }
  batch.clear();
  if (dirty_.empty()) {
    dirty_.swap(batch);  // keep the capacity
    uv_idle_stop(&idle_);
  }
}

}  // namespace bsc
