#include "core/worker.hpp"

#include <cassert>

#include "core/connection.hpp"
#include "core/routing_table.hpp"
#include "util/log.hpp"

namespace bsc {
namespace {
// One receive buffer per loop: 64 KiB holds four full TLS records per read call.
constexpr size_t kReadBufferSize = 64 * 1024;
}  // namespace

Worker::Worker(uint32_t id, const Config& config, const TlsContext* tls, RoutingTable& routing,
               std::atomic<size_t>& open_connections)
    : id_(id),
      config_(config),
      tls_(tls),
      routing_(routing),
      open_connections_(open_connections),
      hub_(*this),
      read_buf_(kReadBufferSize) {
  uv_loop_init(&loop_);
  uv_check_init(&loop_, &check_);
  uv_idle_init(&loop_, &idle_);
  uv_async_init(&loop_, &stop_async_, on_stop);
  check_.data = idle_.data = stop_async_.data = this;
  uv_check_start(&check_, on_check);
}

Worker::~Worker() {
  assert(!thread_.joinable());
  uv_loop_close(&loop_);
}

bool Worker::start(int listen_fd, std::string* error) {
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  listener_open_ = true;
  int rc = uv_tcp_open(&listener_, listen_fd);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, on_connection);
  if (rc != 0) {
    *error = std::string("cannot listen: ") + uv_strerror(rc);
    return false;
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void Worker::run() {
  log::set_thread_worker(int(id_));
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Worker::request_stop() { uv_async_send(&stop_async_); }

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
    if (slot.conn) slot.conn->close(1001, "hub shutting down");
  }
  drain();
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  // Connections close themselves (linger <= 2 s); the drain pass keeps running for their
  // Close frames, and the loop ends when the last connection's handles are gone.
  if (live_ == 0) close_loop_handles();
}

void Worker::close_loop_handles() {
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
}

void Worker::on_connection(uv_stream_t* server, int status) {
  auto* w = static_cast<Worker*>(server->data);
  if (status < 0) {
    LOG_ERROR("accept_failed", "error=\"%s\"", uv_strerror(status));
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
  if (open > config_.max_connections) {
    // Policy: close at once, before any TLS work, so a flood of extra nodes costs little.
    bump(stats_.refused_max_connections);
    LOG_WARN("connection_refused", "peer=%s reason=\"max connections (%zu) reached\"",
             c->peer().c_str(), config_.max_connections);
    c->abort("max connections");
    return;
  }
  LOG_DEBUG("tcp_accepted", "peer=%s", c->peer().c_str());
}

void Worker::release(Connection* c) {
  ConnRef ref = c->ref();
  if (c->in_dirty_list) {
    for (auto& d : dirty_)
      if (d == c) d = nullptr;
  }
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  slots_[ref.slot].conn.reset();
  free_slots_.push_back(ref.slot);
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

void Worker::on_check(uv_check_t* h) { static_cast<Worker*>(h->data)->drain(); }

void Worker::on_idle(uv_idle_t* h) {
  // Nothing to do here: an active idle handle only makes poll return at once, so the
  // check phase (drain) runs in this iteration.
  (void)h;
}

void Worker::drain() {
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
