// Per-worker counters: written only by their worker, summed when read (at exit, and by the
// metrics endpoint on its own thread: relaxed atomic loads, never a lock on the hot path).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bsc {

// The one list of WorkerStats counters. Each entry carries what every reader needs:
//   X(field, as, metric, label, report, reason, help)
//   field   the WorkerStats member and its key in the event=stopped line (hub.cpp)
//   as      how /metrics shows it (CounterExport): a sample of its own; microseconds shown
//           as seconds; or as the sum over `function` of a per-function family (metric
//           names that family; empty messages have no function and count as malformed)
//   metric  the Prometheus family (src/ops/metrics.cpp; documented in docs/operations.md)
//   label   "" for a family of its own (HELP = help), else the value of the family's label
//           in kCounterFamilies (e.g. reason="output_full")
//   report, reason  DropReporter's periodic warning (event=<report> reason=<reason>), or
//           "" when growth is not worth a line every 10 s (accepts_paused is not a
//           refusal: new nodes waited in the listen backlog, --max-handshakes open)
// Adding a counter here adds it everywhere; tests/unit/core/stats_test.cpp checks it.
#define BSC_STATS_MAP(X)                                                                   \
  X(accepted, count, "bschub_connections_accepted_total",                                  \
    "", "", "",                                                                            \
    "TCP connections accepted")                                                            \
  X(accept_failed, count, "bschub_accept_errors_total",                                    \
    "", "connections_refused", "accept_error",                                             \
    "accept() errors (e.g. out of descriptors)")                                           \
  X(refused_max_connections, count, "bschub_connections_refused_total",                    \
    "max_connections", "connections_refused", "max_connections",                           \
    "refused: --max-connections reached")                                                  \
  X(tls_handshake_failed, count, "bschub_connections_refused_total",                       \
    "tls_handshake", "connections_refused", "tls_handshake",                               \
    "TLS handshakes failed")                                                               \
  X(handshakes_full, count, "bschub_tls_handshakes_total",                                 \
    "full", "", "",                                                                        \
    "TLS handshakes completed in full (certificates checked)")                             \
  X(handshakes_resumed, count, "bschub_tls_handshakes_total",                              \
    "resumed", "", "",                                                                     \
    "TLS handshakes resumed from a session ticket")                                        \
  X(handshake_cpu_us, us_as_seconds, "bschub_handshake_loop_seconds_total",                \
    "", "", "",                                                                            \
    "loop time spent in TLS handshake steps (mostly mbedTLS ECC)")                         \
  X(handshakes_deferred, count, "bschub_handshake_steps_deferred_total",                   \
    "", "", "",                                                                            \
    "loop iterations that left handshake steps for the next (--handshake-budget)")         \
  X(accept_paused, count, "bschub_accept_pauses_total",                                    \
    "", "accepts_paused", "max_handshakes",                                                \
    "times a worker stopped accepting: --max-handshakes open (nodes wait in the backlog)") \
  X(refused_source_rate, count, "bschub_connections_refused_total",                        \
    "source_rate", "connections_refused", "source_rate",                                   \
    "refused: source address over --source-rate")                                          \
  X(upgrade_refused, count, "bschub_connections_refused_total",                            \
    "upgrade", "", "",                                                                     \
    "WebSocket upgrades refused")                                                          \
  X(handshake_timeouts, count, "bschub_connections_refused_total",                         \
    "handshake_timeout", "connections_refused", "handshake_timeout",                       \
    "TLS/upgrade not finished in time")                                                    \
  X(nodes_connected, count, "bschub_node_connects_total",                                  \
    "", "", "",                                                                            \
    "Connect-Requests accepted")                                                           \
  X(nodes_replaced, count, "bschub_nodes_closed_total",                                    \
    "replaced", "", "",                                                                    \
    "connections replaced by the same UUID")                                               \
  X(duplicate_vmac, count, "bschub_connections_refused_total",                             \
    "duplicate_vmac", "", "",                                                              \
    "Connect-Requests refused: duplicate VMAC")                                            \
  X(identity_refused, count, "bschub_connections_refused_total",                          \
    "identity", "connections_refused", "identity",                                         \
    "Connect-Requests refused: UUID pinned to another key, or not in the certificate")     \
  X(denied, count, "bschub_connections_refused_total",                                     \
    "denied", "connections_refused", "denied",                                             \
    "refused: certificate, key or UUID on the deny list")                                  \
  X(admin_disconnects, count, "bschub_nodes_closed_total",                                 \
    "admin", "", "",                                                                       \
    "nodes disconnected by an admin command")                                              \
  X(denied_disconnects, count, "bschub_nodes_closed_total",                                \
    "denied", "", "",                                                                      \
    "connected nodes disconnected when put on the deny list")                              \
  X(revoked_disconnects, count, "bschub_nodes_closed_total",                               \
    "revoked", "", "",                                                                     \
    "connections closed by a reload's re-check (the CA set or a CRL refuses them)")        \
  X(connect_wait_timeouts, count, "bschub_connections_refused_total",                      \
    "connect_wait_timeout", "", "",                                                        \
    "no Connect-Request in time")                                                          \
  X(liveness_timeouts, count, "bschub_nodes_closed_total",                                 \
    "liveness_timeout", "", "",                                                            \
    "nodes closed after silence")                                                          \
  X(frames_in, by_function, "bschub_frames_received_total",                                \
    "", "", "",                                                                            \
    "BVLC messages received")                                                              \
  X(bytes_in, by_function, "bschub_received_bytes_total",                                  \
    "", "", "",                                                                            \
    "BVLC octets received")                                                                \
  X(unicast_forwarded, count, "bschub_unicast_forwarded_total",                            \
    "", "", "",                                                                            \
    "unicast messages forwarded (queued to a local recipient or handed to its worker)")    \
  X(unicast_delivered, count, "bschub_unicast_delivered_total",                            \
    "", "", "",                                                                            \
    "unicast messages queued to their recipient")                                          \
  X(broadcast_in, count, "bschub_broadcasts_received_total",                               \
    "", "", "",                                                                            \
    "broadcast messages received")                                                         \
  X(broadcast_copies, count, "bschub_broadcast_copies_delivered_total",                    \
    "", "", "",                                                                            \
    "broadcast copies queued to recipients")                                               \
  X(malformed, count, "bschub_malformed_messages_total",                                   \
    "", "messages_dropped", "malformed",                                                   \
    "BVLC messages that failed to decode")                                                 \
  X(naks_sent, count, "bschub_naks_sent_total",                                            \
    "", "", "",                                                                            \
    "BVLC-Result NAKs sent")                                                               \
  X(drop_spoofed_origin, count, "bschub_dropped_total",                                    \
    "spoofed_origin", "messages_dropped", "spoofed_origin",                                \
    "dropped: originating VMAC not the sender's")                                          \
  X(drop_unknown_dest, count, "bschub_dropped_total",                                      \
    "unknown_destination", "", "",                                                         \
    "dropped: unknown destination VMAC")                                                   \
  X(drop_to_self, count, "bschub_dropped_total",                                           \
    "to_self", "", "",                                                                     \
    "dropped: destination is the sender")                                                  \
  X(drop_not_connected, count, "bschub_dropped_total",                                     \
    "not_connected", "", "",                                                               \
    "dropped: sender not yet connected")                                                   \
  X(drop_oversize, count, "bschub_dropped_total",                                          \
    "oversize", "messages_dropped", "oversize",                                            \
    "dropped: larger than max BVLC / recipient's max")                                     \
  X(drop_output_full, count, "bschub_dropped_total",                                       \
    "output_full", "messages_dropped", "output_full",                                      \
    "dropped: recipient's output buffer full")                                             \
  X(drop_stale_ref, count, "bschub_dropped_total",                                         \
    "recipient_gone", "", "",                                                              \
    "dropped: recipient closed before delivery")                                           \
  X(drop_inbox_full, count, "bschub_dropped_total",                                        \
    "inbox_full", "messages_dropped", "inbox_full",                                        \
    "dropped: no batch free for another worker")                                           \
  X(batches_sent, count, "bschub_cross_worker_batches_sent_total",                         \
    "", "", "",                                                                            \
    "batches handed to other workers")                                                     \
  X(remote_frames_in, count, "bschub_cross_worker_frames_received_total",                  \
    "", "", "",                                                                            \
    "frames received from other workers")                                                  \
  X(slow_reader_closed, count, "bschub_nodes_closed_total",                                \
    "slow_reader", "", "",                                                                 \
    "nodes closed: output stayed full (not reading)")                                      \
  X(heartbeats_answered, count, "bschub_heartbeats_answered_total",                        \
    "", "", "",                                                                            \
    "Heartbeat-ACKs sent")                                                                 \
  X(ws_rejected, count, "bschub_ws_messages_rejected_total",                               \
    "", "", "",                                                                            \
    "WebSocket messages refused (text, too big, protocol)")                                \
  X(peer_vanished, count, "bschub_peer_vanished_total",                                    \
    "", "", "",                                                                            \
    "connections the peer ended without a close (FIN, RST, bare close_notify)")            \
  X(read_budget_pauses, count, "bschub_read_budget_pauses_total",                          \
    "", "", "",                                                                            \
    "reads paused: a connection used up its per-iteration read budget")                    \
  X(drop_broadcast_share, count, "bschub_dropped_total",                                   \
    "broadcast_share", "", "",                                                             \
    "dropped: broadcast copy, recipient's output half full")                               \
  X(idle_trims, count, "bschub_idle_trims_total",                                          \
    "", "", "",                                                                            \
    "idle connections whose buffers were released to the kernel (--idle-trim)")

// The /metrics families that several counters share, told apart by one label.
struct CounterFamily {
  const char* metric;
  const char* label;  // the label's name; each counter gives its value
  const char* help;
};
inline constexpr CounterFamily kCounterFamilies[] = {
    {"bschub_connections_refused_total", "reason",
     "connections refused or ended before they became nodes, by reason"},
    {"bschub_tls_handshakes_total", "kind", "TLS handshakes completed, by kind"},
    {"bschub_nodes_closed_total", "reason", "nodes closed by the hub, by reason"},
    {"bschub_dropped_total", "reason", "BVLC messages dropped, by reason"},
};

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
#define BSC_X(name, as, metric, label, report, reason, help) std::atomic<uint64_t> name{0};
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

enum class CounterExport : uint8_t { count, us_as_seconds, by_function };

// BSC_STATS_MAP as a table, for readers that walk every counter.
struct CounterInfo {
  std::atomic<uint64_t> WorkerStats::*field;
  const char* name;
  CounterExport as;
  const char* metric;
  const char* label;
  const char* report;
  const char* reason;
  const char* help;
};
inline constexpr CounterInfo kCounters[] = {
#define BSC_X(name, as, metric, label, report, reason, help) \
  {&WorkerStats::name, #name, CounterExport::as, metric, label, report, reason, help},
    BSC_STATS_MAP(BSC_X)
#undef BSC_X
};

// The event=stopped line's fields: "name=total" (summed over `workers`) for every counter
// that is not zero, in list order; "idle=1" when all are. [any thread] (relaxed loads).
std::string lifetime_totals(const std::vector<const WorkerStats*>& workers);

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
