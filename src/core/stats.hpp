// Per-worker counters: written only by their worker, summed when read (at exit, or by a
// future metrics endpoint). One X-macro list gives the fields and their names.
#pragma once
#include <atomic>
#include <cstdint>

namespace bsc {

#define BSC_STATS_MAP(X)                                                             \
  X(accepted, "TCP connections accepted")                                            \
  X(accept_failed, "accept() errors (e.g. out of descriptors)")                     \
  X(refused_max_connections, "refused: --max-connections reached")                  \
  X(tls_handshake_failed, "TLS handshakes failed")                                   \
  X(upgrade_refused, "WebSocket upgrades refused")                                   \
  X(handshake_timeouts, "TLS/upgrade not finished in time")                          \
  X(nodes_connected, "Connect-Requests accepted")                                    \
  X(nodes_replaced, "connections replaced by the same UUID")                         \
  X(duplicate_vmac, "Connect-Requests refused: duplicate VMAC")                      \
  X(connect_wait_timeouts, "no Connect-Request in time")                             \
  X(liveness_timeouts, "nodes closed after silence")                                 \
  X(frames_in, "BVLC messages received")                                             \
  X(bytes_in, "BVLC octets received")                                                \
  X(unicast_forwarded, "unicast messages forwarded")                                 \
  X(broadcast_in, "broadcasts received")                                             \
  X(broadcast_copies, "broadcast copies delivered")                                  \
  X(malformed, "malformed BVLC messages")                                            \
  X(naks_sent, "BVLC-Result NAKs sent")                                              \
  X(drop_spoofed_origin, "dropped: originating VMAC not the sender's")              \
  X(drop_unknown_dest, "dropped: unknown destination VMAC")                          \
  X(drop_to_self, "dropped: destination is the sender")                              \
  X(drop_not_connected, "dropped: sender not yet connected")                         \
  X(drop_oversize, "dropped: larger than max BVLC / recipient's max")               \
  X(drop_output_full, "dropped: recipient's output buffer full")                     \
  X(drop_stale_ref, "dropped: recipient closed before delivery")                     \
  X(drop_inbox_full, "dropped: no batch free for another worker")                  \
  X(batches_sent, "batches handed to other workers")                                 \
  X(remote_frames_in, "frames received from other workers")                          \
  X(slow_reader_closed, "nodes closed: output stayed full (not reading)")           \
  X(heartbeats_answered, "Heartbeat-ACKs sent")                                      \
  X(ws_rejected, "WebSocket messages refused (text, too big)")                       \
  X(peer_vanished, "peer ended TCP/TLS without a close (FIN, RST, close_notify)")    \
  X(read_budget_pauses, "reads paused: per-iteration read budget used up")           \
  X(drop_broadcast_share, "dropped: broadcast copy, recipient's output half full")

struct WorkerStats {
#define BSC_X(name, text) std::atomic<uint64_t> name{0};
  BSC_STATS_MAP(BSC_X)
#undef BSC_X
};

// Owner-only increment: a relaxed load+store, no locked instruction on the hot path.
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace bsc
