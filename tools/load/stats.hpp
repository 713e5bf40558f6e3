// Counters of one shard (one loop thread), and their sum over all shards.
// One X-macro list gives the fields, their JSON names and their meaning.
//
// Threads: each ShardStats has one writer (its loop thread) using relaxed load+store (no
// locked instruction on the hot path); the main thread reads them at any time for the
// progress line and, after the threads have joined, for the summary.
#pragma once
#include <atomic>
#include <cstdint>

#include "histogram.hpp"

namespace bsc::load {

#define BSC_LOAD_COUNTERS(X)                                                  \
  X(connect_ok, "nodes that got a Connect-Accept")                            \
  X(resumed, "of them: TLS session resumed from a ticket (--resume)")         \
  X(fail_tcp, "TCP connect failed")                                           \
  X(fail_tls, "TLS handshake failed")                                         \
  X(fail_upgrade, "WebSocket upgrade refused or broken")                      \
  X(fail_nak, "Connect-Request answered with a NAK")                          \
  X(fail_timeout, "no Connect-Accept within the handshake deadline")          \
  X(fail_closed, "connection closed before Connect-Accept")                   \
  X(conn_lost, "connection lost after Connect-Accept (not asked for)")        \
  X(sent, "NPDUs sent")                                                       \
  X(received, "NPDUs received and valid: frames forwarded by the hub")        \
  X(lost, "sent but never received (counted at the end)")                     \
  X(dup, "received twice")                                                    \
  X(corrupt, "bad magic, size or checksum")                                   \
  X(reorder, "received after a later sequence number of the same stream")     \
  X(misrouted, "from one of our nodes but not meant for the receiver")        \
  X(foreign, "from a VMAC that is not one of ours (ignored)")                 \
  X(skipped, "sends skipped: the node's output backlog was full (rate mode)") \
  X(unexpected, "other BVLC messages (NAKs for data, unknown functions)")     \
  X(hb_sent, "Heartbeat-Requests sent")                                       \
  X(hb_acked, "Heartbeat-ACKs received for them")                             \
  X(bc_rounds, "broadcast rounds sent")                                       \
  X(bc_complete, "broadcast rounds received by every other node in time")     \
  X(bc_timeouts, "broadcast rounds not complete after 1 s")                   \
  X(disc_clean, "nodes that ended with Disconnect-ACK / WebSocket close")     \
  X(disc_forced, "nodes cut at the end without a clean close")                \
  X(failovers, "moves to the failover hub (after the primary was lost/refused)") \
  X(returns, "moves back to the primary hub from the failover")               \
  X(reconnects, "Connect-Accepts after a node's first one (--failover-uri)")  \
  X(reconnects_resumed, "of them: TLS resumed with the previous hub's ticket") \
  X(inflight_at_loss, "messages in flight when a node left its hub (bound of loss)")

struct Counters {
#define BSC_X(name, text) uint64_t name = 0;
  BSC_LOAD_COUNTERS(BSC_X)
#undef BSC_X
  uint64_t connect_failed() const {
    return fail_tcp + fail_tls + fail_upgrade + fail_nak + fail_timeout + fail_closed;
  }
  // Connection errors: every failed connect plus every connection lost during the run.
  uint64_t errors() const { return connect_failed() + conn_lost; }
  void add(const Counters& o);
};

// One writer; see the header comment.
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct ShardStats {
#define BSC_X(name, text) std::atomic<uint64_t> name{0};
  BSC_LOAD_COUNTERS(BSC_X)
#undef BSC_X
  // Gauges.
  std::atomic<uint64_t> connected{0};       // in CONNECTED state now
  std::atomic<uint64_t> resolved{0};        // nodes whose connect attempt has ended
  std::atomic<uint64_t> last_accept_ns{0};  // time of the latest Connect-Accept
  std::atomic<uint64_t> connected_failover{0};  // of `connected`: on the failover hub
  std::atomic<uint64_t> first_loss_ns{0};       // earliest loss of the primary (0 = none)
  std::atomic<uint64_t> last_failover_ns{0};    // latest Connect-Accept from the failover
  Histogram latency;                        // the mode's latency samples
  Histogram connect_latency;                // TCP connect start -> Connect-Accept
  Histogram failover_latency;               // a node's loss of the primary -> failover accept

  void read(Counters* out) const;
};

}  // namespace bsc::load
