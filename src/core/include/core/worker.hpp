// Worker: one libuv loop on its own thread, owning a shard of connections.
//
// Threads: the worker's own loop thread runs everything here ([owner]) except
// start()/join() ([startup], from the main thread) and request_stop() ([any thread], via a
// uv_async_t). Connections, their TLS/WebSocket state and their timers never cross threads.
// The [owner] entry points assert it in debug builds (core/owner_thread.hpp).
//
// Per loop iteration: read callbacks parse and route frames into the targets' pending
// output and mark them dirty; the check phase then runs one drain pass that writes each
// dirty connection once. An idle handle keeps poll from blocking while output waits (output
// produced by timers, which run before poll, would otherwise sit until the next event).
//
// The worker is the loop, its thread, the drain pass, shutdown and the snapshot hand-off; it
// composes the parts with one job each:
//   ConnectionTable (core/connection_table.hpp)  slots, generations, connected and dirty lists
//   Acceptor        (core/acceptor.hpp)          listening socket and admission checks
//   Mailbox         (core/mailbox.hpp)           batches to and from the other workers
//   HandshakeGate   (core/handshake_gate.hpp)    TLS handshake scheduling
//   HubFunction     (core/hub_function.hpp)      BVLC-SC state machine and routing
//   ConnectionHistory (core/connection_history.hpp) departures and refusals, published
//                                                for the device and /status once per change
#pragma once
#include <uv.h>

#include <atomic>
#include <cassert>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/acceptor.hpp"
#include "core/batch.hpp"
#include "core/config.hpp"
#include "core/conn_ref.hpp"
#include "core/connection_history.hpp"
#include "core/connection_table.hpp"
#include "core/flood_log.hpp"
#include "core/handshake_gate.hpp"
#include "core/hub_function.hpp"
#include "core/mailbox.hpp"
#include "core/owner_thread.hpp"
#include "core/snapshot.hpp"
#include "core/stats.hpp"
#include "core/sweep.hpp"
#include "util/log_limiter.hpp"

namespace bsc {

class AccessControl;
class Connection;
class StateSink;
class Device;
class RoutingMap;
class SourceLimiter;
class TlsContext;
class TlsReloader;

class Worker {
 public:
  // `tls` is nullptr for --no-tls.
  Worker(uint32_t id, const Config& config, const TlsReloader* tls, RoutingMap& routing,
         std::atomic<size_t>& open_connections);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // [startup] The access policy (core/access_control.hpp) and where audit records go
  // (nullptr: none).
  void set_access(AccessControl* access, StateSink* sink) {
    access_ = access;
    sink_ = sink;
  }
  // [startup] Tells the worker about all workers (itself included), before start().
  void connect_peers(const std::vector<Worker*>& peers);
  // [startup] Per-source-address connection rate limit shared by all workers (or none).
  void set_source_limiter(SourceLimiter* s) { acceptor_.set_source_limiter(s); }
  // [startup] Adopts a listening socket fd (bound and listening) and starts the thread.
  bool start(int listen_fd, std::string* error);
  // [startup] start() without the thread: whoever calls it runs loop() itself (the
  // whole-path fuzz target drives one worker this way, one iteration at a time).
  bool listen(int listen_fd, std::string* error);
  // [any thread] Asks the loop to stop accepting, send every CONNECTED node a
  // Disconnect-Request, close the others, and return once all are closed: ACKing nodes get
  // a clean close, the rest are cut at --shutdown-timeout.
  void request_stop();
  // [any thread but the owner] Asks the loop for its gauges and status table and waits up
  // to `timeout_ms` for them. False on timeout (the loop is stuck or has ended).
  bool snapshot(WorkerSnapshot* out, int timeout_ms);
  // [any thread but the owner] Runs `sweep` over this worker's connections on its loop and
  // waits up to `timeout_ms`: how many it disconnected, or -1 on timeout (the sweep still
  // runs when the loop gets to it).
  long sweep(const Sweep& sweep, int timeout_ms);
  // [any thread] The connection history this worker publishes (latest() only).
  const ConnectionHistory& history_view() const { return history_; }
  // [any thread] Batches queued in this worker's inbox (approximate, moodycamel).
  size_t inbox_depth() const { return mailbox_.depth(); }
  // [any thread] Counters are relaxed atomics written by the owner only.
  const WorkerStats& stats_view() const { return stats_; }
  // [startup] Waits for the thread.
  void join();
  // [startup] This worker (worker 0) runs the hub's device: the hub function hands it its
  // frames, and its segment timer runs on this loop.
  void attach_device(Device* device);

  // ---- [owner] services for connections and the hub function ----------------------
  uint32_t id() const { return id_; }
  const Config& config() const { return config_; }
  // The TLS config for a new connection (nullptr: plain ws://).
  std::shared_ptr<const TlsContext> tls() const;
  RoutingMap& routing() { return routing_; }
  AccessControl* access() { return access_; }
  StateSink* state_sink() { return sink_; }
  HubFunction& hub() { return hub_; }
  WorkerStats& stats() { return stats_; }
  // [owner] The history to record in. A change is published by the next check phase (or,
  // while publishing is rate-bounded, by the history timer); the caller may be a close
  // callback or a handshake step, which run after this iteration's publish, so the idle
  // handle keeps the loop from sleeping on an unpublished change.
  ConnectionHistory& history() {
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&idle_))) uv_idle_start(&idle_, on_idle);
    return history_;
  }
  uv_loop_t* loop() { return &loop_; }
  uint64_t now_ms() const { return uv_now(const_cast<uv_loop_t*>(&loop_)); }
  uint8_t* read_buffer() { return read_buf_.data(); }
  size_t read_buffer_size() const { return read_buf_.size(); }
  uint16_t next_message_id() {
    assert(owner_.current());
    return next_message_id_++;
  }
  // Counts drain passes (about one per loop iteration): the unit of the read budget.
  uint64_t iteration() const { return iteration_; }

  // The connection a ref names, or nullptr if it closed (generation mismatch).
  Connection* find(ConnRef ref) { return table_.find(ref); }
  void mark_dirty(Connection* c);
  // Connections in State::kConnected, for broadcast fan-out.
  const std::vector<Connection*>& connected() const { return table_.connected(); }
  void add_connected(Connection* c);
  void remove_connected(Connection* c);
  // TLS handshake scheduling (core/handshake_gate.hpp): a connection with handshake input
  // asks for a step; the worker runs it after its drain pass, within the budget.
  void queue_handshake(Connection* c);
  void handshake_started() { gate_.opened(); }
  // A connection's handshake ended (established, failed or closed): frees its gate place.
  void handshake_ended();
  // Called by a connection once its handles are closed: frees the slot.
  void release(Connection* c);
  bool stopping() const { return stopping_; }
  // Room for one frame of `len` octets for a connection on another worker (unicast: its
  // slot/generation; broadcast: all its CONNECTED nodes). Sent in this iteration's drain
  // pass. nullptr when this worker's batch pool is exhausted (the target is not keeping up):
  // the caller drops the frame and counts it.
  uint8_t* remote_reserve(uint32_t worker, RecordKind kind, uint32_t slot, uint32_t generation,
                          size_t len);
  size_t worker_count() const { return mailbox_.peer_count(); }
  // False once this kind of per-connection warning has hit its rate limit (LogLimiter).
  bool log_allowed(FloodLog kind) {
    return flood_logs_[size_t(kind)].allow(now_ms(), flood_log_name(kind));
  }

 private:
  friend class Acceptor;
  static void on_check(uv_check_t* h);
  static void on_idle(uv_idle_t* h);
  static void on_stop(uv_async_t* h);
  static void on_inbox(void* self);
  static void on_snapshot(uv_async_t* h);
  static void on_sweep(uv_async_t* h);
  long apply_sweep(const Sweep& sweep);
  static void on_shutdown_deadline(uv_timer_t* h);
  static void on_device_timer(uv_timer_t* h);
  static void on_history_timer(uv_timer_t* h);
  // For the Acceptor: a new connection in a free slot, counted in `*open` (all workers).
  Connection* new_connection(size_t* open);
  // For the Acceptor: no place for another TLS handshake (accepting pauses).
  bool handshakes_full() const { return tls_ && gate_.full(); }
  void fill_snapshot(WorkerSnapshot* out);
  // At most once per loop iteration, and only after a connect, departure or refusal;
  // rate-bounded by its own cost (worker_snapshot.cpp).
  void maybe_publish_history();
  void publish_history();
  void run_handshakes();
  void drain();
  void run();
  void shutdown_connections();
  void close_loop_handles();

  const uint32_t id_;
  const Config& config_;
  const TlsReloader* tls_;
  RoutingMap& routing_;
  std::atomic<size_t>& open_connections_;  // across all workers, for --max-connections
  OwnerThread owner_;
  HubFunction hub_;
  ConnectionHistory history_;
  WorkerStats stats_;
  HandshakeGate gate_;
  ConnectionTable<Connection> table_;
  Mailbox mailbox_;
  Acceptor acceptor_;

  uv_loop_t loop_;
  uv_check_t check_;
  uv_idle_t idle_;
  uv_async_t stop_async_;
  // Cross-worker hand-off. Both wake-ups (the mailbox's WakeFd and this one) are unref'd:
  // they never keep the loop alive, and they are closed only in the destructor, after every
  // worker thread has ended, so a late signal from a peer never meets a closed handle.
  uv_async_t snapshot_async_;  // same lifetime rule as the mailbox's wake-up
  uv_async_t sweep_async_;     // likewise
  uv_timer_t shutdown_timer_;  // hard end of the graceful shutdown
  // The device's segment timer: running only while a segmented response is in flight;
  // unref'd, so a transaction never holds the loop open at shutdown.
  uv_timer_t device_timer_;
  // A history publish held back by its rate bound; unref'd like the device's timer.
  uv_timer_t history_timer_;
  uint64_t history_next_ns_ = 0;  // uv_hrtime() before which no publish starts
  Device* device_ = nullptr;
  std::thread thread_;
  // Snapshot hand-off to the ops thread: it bumps asked, the loop answers with that number.
  std::mutex snap_mu_;
  std::condition_variable snap_cv_;
  uint64_t snap_asked_ = 0, snap_done_ = 0;
  WorkerSnapshot snap_;
  // Sweeps asked by other threads (the admin thread, the main thread's reload), in order.
  struct SweepJob {
    Sweep sweep;
    long closed = 0;
    bool done = false;
  };
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  std::vector<std::shared_ptr<SweepJob>> sweep_jobs_;
  AccessControl* access_ = nullptr;
  StateSink* sink_ = nullptr;
  bool stopping_ = false;
  size_t live_ = 0;  // connections whose handles are not yet closed

  std::vector<uint8_t> read_buf_;
  uint16_t next_message_id_ = 1;
  LogLimiter flood_logs_[size_t(FloodLog::kCount)];
  uint64_t iteration_ = 0;
};

}  // namespace bsc
