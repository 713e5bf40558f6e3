// Worker: one libuv loop on its own thread, owning a shard of connections.
//
// Threads: the worker's own loop thread runs everything here ([owner]) except
// start()/join() ([startup], from the main thread) and request_stop() ([any thread], via a
// uv_async_t). Connections, their TLS/WebSocket state and their timers never cross threads.
//
// Per loop iteration: read callbacks parse and route frames into the targets' pending
// output and mark them dirty; the check phase then runs one drain pass that writes each
// dirty connection once. An idle handle keeps poll from blocking while output waits (output
// produced by timers, which run before poll, would otherwise sit until the next event).
#pragma once
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/config.hpp"
#include "core/conn_ref.hpp"
#include "core/hub_function.hpp"
#include "core/stats.hpp"

namespace bsc {

class Connection;
class RoutingTable;
class TlsContext;

class Worker {
 public:
  Worker(uint32_t id, const Config& config, const TlsContext* tls, RoutingTable& routing,
         std::atomic<size_t>& open_connections);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // [startup] Adopts a listening socket fd (bound and listening) and starts the thread.
  bool start(int listen_fd, std::string* error);
  // [any thread] Asks the loop to close every connection and return.
  void request_stop();
  // [startup] Waits for the thread.
  void join();

  // ---- [owner] services for connections and the hub function ----------------------
  uint32_t id() const { return id_; }
  const Config& config() const { return config_; }
  const TlsContext* tls() const { return tls_; }
  RoutingTable& routing() { return routing_; }
  HubFunction& hub() { return hub_; }
  WorkerStats& stats() { return stats_; }
  uv_loop_t* loop() { return &loop_; }
  uint64_t now_ms() const { return uv_now(const_cast<uv_loop_t*>(&loop_)); }
  uint8_t* read_buffer() { return read_buf_.data(); }
  size_t read_buffer_size() const { return read_buf_.size(); }
  uint16_t next_message_id() { return next_message_id_++; }

  // The connection a ref names, or nullptr if it closed (generation mismatch).
  Connection* find(ConnRef ref);
  void mark_dirty(Connection* c);
  // Connections in State::kConnected, for broadcast fan-out.
  const std::vector<Connection*>& connected() const { return connected_; }
  void add_connected(Connection* c);
  void remove_connected(Connection* c);
  // Called by a connection once its handles are closed: frees the slot.
  void release(Connection* c);
  bool stopping() const { return stopping_; }

 private:
  struct Slot {
    std::unique_ptr<Connection> conn;
    uint32_t generation = 0;
  };
  static void on_connection(uv_stream_t* server, int status);
  static void on_check(uv_check_t* h);
  static void on_idle(uv_idle_t* h);
  static void on_stop(uv_async_t* h);
  void accept_one();
  void drain();
  void run();
  void shutdown_connections();
  void close_loop_handles();

  const uint32_t id_;
  const Config& config_;
  const TlsContext* tls_;
  RoutingTable& routing_;
  std::atomic<size_t>& open_connections_;  // across all workers, for --max-connections
  HubFunction hub_;
  WorkerStats stats_;

  uv_loop_t loop_;
  uv_tcp_t listener_;
  uv_check_t check_;
  uv_idle_t idle_;
  uv_async_t stop_async_;
  std::thread thread_;
  bool stopping_ = false;
  bool listener_open_ = false;
  size_t live_ = 0;  // connections whose handles are not yet closed

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<Connection*> dirty_;
  std::vector<Connection*> connected_;
  std::vector<uint8_t> read_buf_;
  uint16_t next_message_id_ = 1;
};

}  // namespace bsc
