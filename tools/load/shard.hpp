// Shard: one libuv loop on its own thread, owning a share of the nodes and one Mode.
//
// Phases (driven by the main thread through request(); a shard enters them in order):
//   kConnecting  start nodes, at most `connect_concurrency` handshakes at a time
//   kTraffic     mode.start()
//   kDraining    mode.stop_sending(); drained() turns true once nothing is in flight
//   kFinishing   mode.finish() counts losses; every node disconnects (3 s at most); then
//                the loop closes its handles and the thread ends (kDone)
//
// Per loop iteration (as in the hub's Worker): read callbacks parse frames and queue
// replies into nodes' pending output and mark them dirty; the check phase runs one drain
// pass that writes each dirty node once. An idle handle keeps poll from blocking while
// output waits.
//
// Failover (--failover-uri): nodes reconnect by themselves (Node::plan_reconnect); the
// shard runs the reconnect interval: nodes waiting for it are retried from the tick, and
// while any node is on the failover hub a TCP probe checks the primary once per interval.
// Once the primary accepts, the nodes on the failover move back, each when its mode has
// nothing in flight for it (Mode::ready_to_move).
//
// Threads: everything is [owner] (the shard's loop thread) except what is marked [main]
// (the runner, before start_thread() or through atomics) or [any].
#pragma once
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "mode.hpp"
#include "net/wake_fd.hpp"
#include "util/xorshift.hpp"
#include "node.hpp"
#include "payload.hpp"
#include "run_context.hpp"
#include "stats.hpp"

namespace bsc::load {

class Shard {
 public:
  enum class Phase : int { kInit, kConnecting, kTraffic, kDraining, kFinishing, kDone };

  // [main] `globals`: the global indices of this shard's nodes (pairs stay adjacent).
  Shard(uint32_t id, RunContext& ctx, const std::vector<uint32_t>& globals,
        uint32_t connect_concurrency, uint64_t seed);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // [main]
  void start_thread();
  void join();
  // [any] Asks the loop to advance to `target` (phases are never skipped or repeated).
  void request(Phase target);
  Phase phase() const { return Phase(phase_.load(std::memory_order_acquire)); }
  bool drained() const { return drained_.load(std::memory_order_acquire); }
  const ShardStats& stats() const { return stats_; }
  uint32_t id() const { return id_; }
  // [any] Runs mode.on_wake() on the loop soon (safe even after the loop has ended).
  void wake();

  // ---- [owner] services for nodes and modes ---------------------------------------
  uv_loop_t* loop() { return &loop_; }
  RunContext& ctx() { return ctx_; }
  const Options& options() const { return ctx_.opt; }
  const TlsContext* tls() const { return ctx_.tls; }
  ShardStats& stats() { return stats_; }
  uint8_t* read_buffer() { return read_buf_.data(); }
  size_t read_buffer_size() const { return read_buf_.size(); }
  // Scratch space for one control message at a time.
  std::vector<uint8_t>& scratch() { return scratch_; }
  uint64_t rand64();
  uint32_t pick_size();  // per --size
  size_t size() const { return nodes_.size(); }
  Node& node(uint32_t local) { return *nodes_[local]; }
  void mark_dirty(Node* n);

  // Builds a test payload and sends it from `from` to `to` as an Encapsulated-NPDU
  // (D only, no O: the standard form). False if `from` cannot send.
  bool send_npdu(Node& from, const Vmac& to, size_t size, Kind kind, uint32_t seq, uint64_t ts_ns);
  // Checks the payload of a received Encapsulated-NPDU; counts it as corrupt if bad.
  bool check_payload(const Message& m, const uint8_t* data, PayloadInfo* info);

  // ---- [owner] node events ------------------------------------------------------------
  void node_resolved(Node& n, bool ok);                 // the connect attempt ended
  void node_connected(Node& n, uint16_t hub_max_bvlc, bool first);  // Connect-Accept
  void node_down(Node& n);                              // left CONNECTED
  void node_closed(Node& n);                            // socket handle closed
  void node_reopened();                                 // a closed node connects again
  // Failover bookkeeping from the nodes.
  bool reconnecting() const;           // nodes reconnect in this phase
  void primary_lost(uint64_t at_ns);   // a node lost the primary
  void primary_refused();              // a connect to the primary failed
  void on_npdu(Node& to, const Message& m, const uint8_t* data);
  void on_heartbeat_ack(Node& n, uint16_t message_id);

 private:
  static void on_check(uv_check_t* h);
  static void on_idle(uv_idle_t* h);
  static void on_cmd(void* self);
  static void on_wake(void* self);
  static void on_tick(uv_timer_t* h);
  void run();
  void enter(Phase p);
  void catch_up_traffic();
  void start_more_connects();
  void sweep_handshakes(uint64_t now);
  void failover_tick(uint64_t now);
  static void on_probe_connect(uv_connect_t* req, int status);
  void close_probe();
  void drain();
  void maybe_end_loop();

  const uint32_t id_;
  RunContext& ctx_;
  ShardStats stats_;
  std::unique_ptr<Mode> mode_;
  std::vector<std::unique_ptr<Node>> nodes_;

  uv_loop_t loop_;
  uv_check_t check_;
  uv_idle_t idle_;
  // Wake-ups from other threads: eventfds, as the hub's workers use (net/wake_fd.hpp: why
  // not uv_async_t). Signalling stays safe after close(): the fd lives as long as the shard.
  WakeFd cmd_wake_;
  WakeFd mode_wake_;
  uv_timer_t tick_;
  std::thread thread_;

  std::atomic<int> phase_{int(Phase::kInit)};
  std::atomic<int> target_{int(Phase::kInit)};
  std::atomic<bool> drained_{false};
  bool traffic_started_ = false;
  bool loop_handles_closed_ = false;

  uint32_t connect_limit_;
  uint32_t next_connect_ = 0;
  uint32_t handshaking_ = 0;
  bool starting_ = false;  // inside start_more_connects()
  size_t open_nodes_ = 0;
  uint64_t finish_started_ns_ = 0;
  uint64_t last_sweep_ns_ = 0;
  // Failover: the primary probe (one TCP connect at a time).
  uv_tcp_t probe_;
  uv_connect_t probe_req_;
  bool probe_open_ = false;
  bool primary_up_ = false;  // the last probe connected: move nodes back
  bool paused_for_move_ = false;  // ready_to_move() was asked since primary_up_ turned true
  uint64_t next_probe_ns_ = 0;
  Xorshift64 rng_;

  std::vector<Node*> dirty_;
  std::vector<Node*> batch_;
  std::vector<uint8_t> read_buf_;
  std::vector<uint8_t> scratch_;
  std::vector<uint8_t> payload_;
  std::vector<uint8_t> bvlc_;
};

}  // namespace bsc::load
