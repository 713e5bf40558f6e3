#include "core/worker.hpp"

#include <cassert>
#include <stdexcept>

#include "bsc/bacnet/enums.hpp"
#include "core/connection.hpp"
#include "core/device.hpp"
#include "core/routing_map.hpp"
#include "net/tls_reloader.hpp"
#include "util/log.hpp"

namespace bsc {
namespace {
// One receive buffer per loop: 64 KiB holds four full TLS records per read call.
constexpr size_t kReadBufferSize = 64 * 1024;
}  // namespace

Worker::Worker(uint32_t id, const Config& config, const TlsReloader* tls, RoutingMap& routing,
               std::atomic<size_t>& open_connections)
    : id_(id),
      config_(config),
      tls_(tls),
      routing_(routing),
      open_connections_(open_connections),
      hub_(*this),
      history_(HistoryBounds{config.history_size, int64_t(config.history_age_s * 1000)}),
      // Each worker gets its share of the open-handshake bound (at least one).
      gate_((config.max_handshakes + config.workers - 1) / config.workers,
            uint64_t(config.handshake_budget_ms * 1e6)),
      table_(id, owner_),
      mailbox_(id, stats_, owner_),
      acceptor_(*this),
      read_buf_(kReadBufferSize) {
  uv_loop_init(&loop_);
  uv_check_init(&loop_, &check_);
  uv_idle_init(&loop_, &idle_);
  uv_async_init(&loop_, &stop_async_, on_stop);
  if (!mailbox_.init_wake(&loop_, on_inbox, this)) throw std::runtime_error("eventfd failed");
  uv_async_init(&loop_, &snapshot_async_, on_snapshot);
  uv_async_init(&loop_, &sweep_async_, on_sweep);
  uv_timer_init(&loop_, &shutdown_timer_);
  uv_timer_init(&loop_, &device_timer_);
  uv_timer_init(&loop_, &history_timer_);
  check_.data = idle_.data = stop_async_.data = this;
  snapshot_async_.data = sweep_async_.data = shutdown_timer_.data = device_timer_.data = this;
  history_timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&device_timer_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&history_timer_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&stop_async_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&snapshot_async_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&sweep_async_));
  uv_check_start(&check_, on_check);
}

Worker::~Worker() {
  assert(!thread_.joinable());
  // The thread has ended: this loop is ours now. Close what stayed open for late peers.
  owner_.bind();
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  mailbox_.close_wake();
  uv_close(reinterpret_cast<uv_handle_t*>(&snapshot_async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sweep_async_), nullptr);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&check_))) close_loop_handles();
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

void Worker::connect_peers(const std::vector<Worker*>& peers) {
  std::vector<Mailbox*> mailboxes;
  for (Worker* p : peers) mailboxes.push_back(&p->mailbox_);
  mailbox_.connect_peers(mailboxes);
}

bool Worker::start(int listen_fd, std::string* error) {
  if (!listen(listen_fd, error)) return false;
  thread_ = std::thread([this] { run(); });
  return true;
}

bool Worker::listen(int listen_fd, std::string* error) {
  owner_.bind();  // whoever runs the loop: this thread, or the one start() makes next
  return acceptor_.listen(&loop_, listen_fd, error);
}

void Worker::run() {
  owner_.bind();
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
  assert(owner_.current());
  stopping_ = true;
  acceptor_.close();
  table_.for_each([this](Connection& c) {
    if (c.routable() && c.state() == Connection::State::kConnected) {
      // Std AB.6.2.3: the hub asks each node to go; its Disconnect-ACK (or NAK) makes the
      // hub function close the WebSocket normally, so the node sees a clean disconnect.
      hub_.start_disconnect(c);
    } else if (c.state() != Connection::State::kDisconnecting) {
      // Still handshaking: no BVLC-SC session to end.
      c.close(ws_close::kGoingAway, "hub shutting down");
    }
  });
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
  w->table_.for_each([&left](Connection& c) {
    ++left;
    c.close(ws_close::kGoingAway, "shutdown deadline passed (no Disconnect-ACK)",
            uint16_t(bacnet::ErrorCode::kTimeout));
  });
  w->drain();  // the Close frames go out with this write, before TCP is cut
  w->table_.for_each([](Connection& c) { c.abort("shutdown deadline passed"); });
  LOG_WARN("shutdown_deadline", "connections_cut=%zu timeout_s=%g", left,
           w->config_.shutdown_timeout_s);
}

void Worker::close_loop_handles() {
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&shutdown_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&device_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&history_timer_), nullptr);
}

void Worker::attach_device(Device* device) {
  device_ = device;
  hub_.attach_device(device);
  device->set_timer([this] { return now_ms(); },
                    [this](std::optional<uint64_t> delay_ms) {
                      auto* h = reinterpret_cast<uv_handle_t*>(&device_timer_);
                      if (uv_is_closing(h)) return;  // shutting down: transactions lapse
                      if (delay_ms) uv_timer_start(&device_timer_, on_device_timer, *delay_ms, 0);
                      else uv_timer_stop(&device_timer_);
                    });
}

void Worker::on_device_timer(uv_timer_t* h) {
  auto* w = static_cast<Worker*>(h->data);
  w->device_->on_timer();
}

Connection* Worker::new_connection(size_t* open) {
  Connection* c = table_.add(
      [this](ConnRef ref) { return std::make_unique<Connection>(this, ref); });
  ++live_;
  *open = open_connections_.fetch_add(1, std::memory_order_relaxed) + 1;
  return c;
}

void Worker::queue_handshake(Connection* c) {
  assert(owner_.current());
  if (c->handshake_queued_) return;
  c->handshake_queued_ = true;
  gate_.queue(c->ref());
}

void Worker::handshake_ended() {
  assert(owner_.current());
  gate_.closed();
  if (!stopping_) acceptor_.resume();
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
  assert(owner_.current());
  bool was_handshaking = c->in_handshake_;
  table_.release(c);
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  if (was_handshaking) handshake_ended();
  if (--live_ == 0 && stopping_) close_loop_handles();
}

void Worker::mark_dirty(Connection* c) {
  if (table_.mark_dirty(c)) uv_idle_start(&idle_, on_idle);
}

void Worker::add_connected(Connection* c) { table_.add_connected(c); }

void Worker::remove_connected(Connection* c) { table_.remove_connected(c); }

void Worker::on_check(uv_check_t* h) {
  // Forwarding first; then handshake steps within the budget; then their output.
  auto* w = static_cast<Worker*>(h->data);
  w->drain();
  if (!w->gate_.empty()) {
    w->run_handshakes();
    if (w->table_.has_dirty()) w->drain();
    if (!w->gate_.empty()) uv_idle_start(&w->idle_, on_idle);  // no sleeping while steps wait
  }
  // Last: what this iteration's handshake steps recorded is in it.
  if (w->history_.dirty()) w->maybe_publish_history();
}

void Worker::on_idle(uv_idle_t* h) {
  // Nothing to do here: an active idle handle only makes poll return at once, so the
  // check phase (drain) runs in this iteration.
  (void)h;
}

uint8_t* Worker::remote_reserve(uint32_t worker, RecordKind kind, uint32_t slot,
                                uint32_t generation, size_t len) {
  uint8_t* out = mailbox_.reserve(worker, kind, slot, generation, len);
  // Make sure a drain pass runs soon: it publishes the batch.
  if (out && !table_.has_dirty()) uv_idle_start(&idle_, on_idle);
  return out;
}

void Worker::on_inbox(void* self) {
  auto* w = static_cast<Worker*>(self);
  w->mailbox_.drain([w](const Batch& b) { w->hub_.deliver_batch(b); });
}

void Worker::drain() {
  assert(owner_.current());
  ++iteration_;
  mailbox_.publish();
  // The single drain pass: each dirty connection encrypts everything it has and writes once.
  if (table_.drain_dirty([](Connection& c) { c.flush(); })) uv_idle_stop(&idle_);
}

}  // namespace bsc
