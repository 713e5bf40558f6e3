// Per-worker counters: written only by their worker, summed when read (at exit, and by the
// metrics endpoint on its own thread: relaxed atomic loads, never a lock on the hot path). One X-macro list gives the fields and their names.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace bsc {

#define BSC_STATS_MAP(X)                                                             \
  X(accepted, "TCP connections accepted")                                            \
  X(accept_failed, "accept() errors (e.g. out of descriptors)")                     \
  X(refused_max_connections, "refused: --max-connections reached")                  \
  X(tls_handshake_failed, "TLS handshakes failed")                                   \
  X(handshakes_full, "TLS handshakes completed in full (certificates checked)")     \
  X(handshakes_resumed, "TLS handshakes resumed from a session ticket")              \
  X(handshake_cpu_us, "microseconds of loop time spent in TLS handshake steps")      \
  X(handshakes_deferred, "iterations that left handshake steps for the next (budget)") \
  X(accept_paused, "times accepting paused: --max-handshakes open on the worker")    \
  X(refused_source_rate, "refused: source address over --source-rate")              \
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
  X(unicast_delivered, "unicast messages queued to their recipient")                 \
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
  X(drop_broadcast_share, "dropped: broadcast copy, recipient's output half full")      \
  X(idle_trims, "idle connections whose buffers were released (--idle-trim)")

// Per-BVLC-function counters: one slot per function code 0x00..0x0C, the last for codes
// the Std does not define (counted on input before decoding).
constexpr size_t kFunctionSlots = 14;
inline size_t function_slot(uint8_t function) {
  return function < kFunctionSlots - 1 ? function : kFunctionSlots - 1;
}

// Why a connection never reached an open WebSocket. TLS reasons are a fixed set so the
// metric has bounded labels; the log line carries mbedTLS's full sentence.
#define BSC_HANDSHAKE_FAILURE_MAP(X)                                                   \
  X(tls_no_client_certificate) X(tls_version) X(tls_certificate_rejected)             \
  X(tls_no_common_parameters) X(tls_other)                                             \
  X(upgrade_refused) X(timeout_tls) X(timeout_upgrade)
enum class HandshakeFailure : uint8_t {
#define BSC_X(name) name,
  BSC_HANDSHAKE_FAILURE_MAP(BSC_X)
#undef BSC_X
  kCount
};

// Handshake latency (TCP accept -> WebSocket open) histogram bounds, in milliseconds:
// loopback handshakes take ~1-5 ms, a loaded site seconds.
constexpr double kHandshakeBucketsMs[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500,
                                          5000, 10000};
constexpr size_t kHandshakeBuckets = sizeof kHandshakeBucketsMs / sizeof kHandshakeBucketsMs[0];

struct WorkerStats {
#define BSC_X(name, text) std::atomic<uint64_t> name{0};
  BSC_STATS_MAP(BSC_X)
#undef BSC_X
  // Per function: frames/octets received, and queued for sending (not yet on the wire).
  std::atomic<uint64_t> fn_frames_in[kFunctionSlots]{};
  std::atomic<uint64_t> fn_bytes_in[kFunctionSlots]{};
  std::atomic<uint64_t> fn_frames_out[kFunctionSlots]{};
  std::atomic<uint64_t> fn_bytes_out[kFunctionSlots]{};
  std::atomic<uint64_t> handshake_failures[size_t(HandshakeFailure::kCount)]{};
  // Non-cumulative bucket counts (the last is +Inf); the exporter accumulates them.
  std::atomic<uint64_t> handshake_buckets[kHandshakeBuckets + 1]{};
  std::atomic<uint64_t> handshake_sum_us{0};
};

// Owner-only increment: a relaxed load+store, no locked instruction on the hot path.
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

inline void count_out(WorkerStats& s, uint8_t function, size_t len) {
  size_t f = function_slot(function);
  bump(s.fn_frames_out[f]);
  bump(s.fn_bytes_out[f], len);
}

inline void count_handshake_failure(WorkerStats& s, HandshakeFailure why) {
  bump(s.handshake_failures[size_t(why)]);
}

inline void observe_handshake(WorkerStats& s, uint64_t micros) {
  size_t i = 0;
  while (i < kHandshakeBuckets && double(micros) > kHandshakeBucketsMs[i] * 1000) ++i;
  bump(s.handshake_buckets[i]);
  bump(s.handshake_sum_us, micros);
}

}  // namespace bsc
