// /metrics: Prometheus text format 0.0.4. Names follow the Prometheus conventions
// (bschub_ prefix, _total for counters, base units: seconds, bytes); per-worker series carry
// a `worker` label so an imbalance between shards is visible, and sum() gives the hub.
#include <cinttypes>
#include <cstdio>

#include "bsc/bvlc.hpp"
#include "core/stats.hpp"
#include "core/worker.hpp"
#include "net/tls_reloader.hpp"
#include "ops/ops_view.hpp"

namespace bsc {
namespace {

using Counter = std::atomic<uint64_t> WorkerStats::*;

// Label values for the per-function series: the Std's names in snake_case.
const char* const kFunctionLabels[kFunctionSlots] = {
    "bvlc_result", "encapsulated_npdu", "address_resolution", "address_resolution_ack",
    "advertisement", "advertisement_solicitation", "connect_request", "connect_accept",
    "disconnect_request", "disconnect_ack", "heartbeat_request", "heartbeat_ack",
    "proprietary_message", "unknown"};

const char* const kHandshakeFailureLabels[] = {
#define BSC_X(name) #name,
    BSC_HANDSHAKE_FAILURE_MAP(BSC_X)
#undef BSC_X
};

struct Labelled {
  const char* label;
  Counter field;
};

const Labelled kDrops[] = {
    {"spoofed_origin", &WorkerStats::drop_spoofed_origin},
    {"unknown_destination", &WorkerStats::drop_unknown_dest},
    {"to_self", &WorkerStats::drop_to_self},
    {"not_connected", &WorkerStats::drop_not_connected},
    {"oversize", &WorkerStats::drop_oversize},
    {"output_full", &WorkerStats::drop_output_full},
    {"recipient_gone", &WorkerStats::drop_stale_ref},
    {"inbox_full", &WorkerStats::drop_inbox_full},
};

const Labelled kRefused[] = {
    {"max_connections", &WorkerStats::refused_max_connections},
    {"tls_handshake", &WorkerStats::tls_handshake_failed},
    {"upgrade", &WorkerStats::upgrade_refused},
    {"handshake_timeout", &WorkerStats::handshake_timeouts},
    {"connect_wait_timeout", &WorkerStats::connect_wait_timeouts},
    {"duplicate_vmac", &WorkerStats::duplicate_vmac},
    {"source_rate", &WorkerStats::refused_source_rate},
};

// TLS handshakes completed, by kind (reconnect storms: resumption saves the signatures).
const Labelled kHandshakes[] = {
    {"full", &WorkerStats::handshakes_full},
    {"resumed", &WorkerStats::handshakes_resumed},
};

const Labelled kClosed[] = {
    {"liveness_timeout", &WorkerStats::liveness_timeouts},
    {"slow_reader", &WorkerStats::slow_reader_closed},
    {"replaced", &WorkerStats::nodes_replaced},
};

struct Plain {
  const char* name;
  const char* help;
  Counter field;
};

const Plain kPlainCounters[] = {
    {"bschub_connections_accepted_total", "TCP connections accepted", &WorkerStats::accepted},
    {"bschub_accept_errors_total", "accept() errors (e.g. out of descriptors)",
     &WorkerStats::accept_failed},
    {"bschub_node_connects_total", "Connect-Requests accepted", &WorkerStats::nodes_connected},
    {"bschub_unicast_delivered_total", "unicast messages queued to their recipient",
     &WorkerStats::unicast_delivered},
    {"bschub_broadcasts_received_total", "broadcast messages received",
     &WorkerStats::broadcast_in},
    {"bschub_broadcast_copies_delivered_total", "broadcast copies queued to recipients",
     &WorkerStats::broadcast_copies},
    {"bschub_malformed_messages_total", "BVLC messages that failed to decode",
     &WorkerStats::malformed},
    {"bschub_naks_sent_total", "BVLC-Result NAKs sent", &WorkerStats::naks_sent},
    {"bschub_heartbeats_answered_total", "Heartbeat-ACKs sent",
     &WorkerStats::heartbeats_answered},
    {"bschub_ws_messages_rejected_total", "WebSocket messages refused (text, too big, protocol)",
     &WorkerStats::ws_rejected},
    {"bschub_cross_worker_batches_sent_total", "batches handed to other workers",
     &WorkerStats::batches_sent},
    {"bschub_cross_worker_frames_received_total", "frames received from other workers",
     &WorkerStats::remote_frames_in},
    {"bschub_accept_pauses_total",
     "times a worker stopped accepting: --max-handshakes open (nodes wait in the backlog)",
     &WorkerStats::accept_paused},
    {"bschub_idle_trims_total",
     "idle connections whose buffers were released to the kernel (--idle-trim)",
     &WorkerStats::idle_trims},
    {"bschub_handshake_steps_deferred_total",
     "loop iterations that left handshake steps for the next (--handshake-budget)",
     &WorkerStats::handshakes_deferred},
};

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // `labels` is the inside of {...}, already escaped (our label values are fixed words).
  void sample(const char* name, const std::string& labels, uint64_t v) {
    char num[32];
    std::snprintf(num, sizeof num, "%" PRIu64, v);
    line(name, labels, num);
  }
  void sample(const char* name, const std::string& labels, double v) {
    char num[40];
    std::snprintf(num, sizeof num, "%.6f", v);
    line(name, labels, num);
  }
  std::string take() { return std::move(out_); }

 private:
  void line(const char* name, const std::string& labels, const char* value) {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  std::string out_;
};

std::string worker_label(size_t i) { return "worker=\"" + std::to_string(i) + "\""; }

uint64_t get(const WorkerStats& s, Counter f) { return (s.*f).load(std::memory_order_relaxed); }

void labelled_family(Writer& w, const OpsView& v, const char* name, const char* help,
                     const char* label_name, const Labelled* rows, size_t n) {
  w.family(name, "counter", help);
  for (size_t i = 0; i < v.workers.size(); ++i)
    for (size_t r = 0; r < n; ++r)
      w.sample(name, worker_label(i) + "," + label_name + "=\"" + rows[r].label + "\"",
               get(v.workers[i]->stats_view(), rows[r].field));
}

void per_function(Writer& w, const OpsView& v, const char* name, const char* help,
                  std::atomic<uint64_t> (WorkerStats::*arr)[kFunctionSlots]) {
  w.family(name, "counter", help);
  for (size_t i = 0; i < v.workers.size(); ++i)
    for (size_t f = 0; f < kFunctionSlots; ++f)
      w.sample(name, worker_label(i) + ",function=\"" + kFunctionLabels[f] + "\"",
               (v.workers[i]->stats_view().*arr)[f].load(std::memory_order_relaxed));
}

}  // namespace

std::string render_metrics(const OpsView& v, const OpsView::Gathered& g) {
  Writer w;
  w.family("bschub_info", "gauge", "the hub's identity (value always 1)");
  w.sample("bschub_info", "version=\"" + v.hub.version + "\",vmac=\"" + v.hub.vmac +
                              "\",uuid=\"" + v.hub.uuid + "\"", uint64_t(1));
  w.family("bschub_start_time_seconds", "gauge", "Unix time the hub started");
  w.sample("bschub_start_time_seconds", "", double(v.hub.started_unix_ms) / 1000.0);

  for (const Plain& p : kPlainCounters) {
    w.family(p.name, "counter", p.help);
    for (size_t i = 0; i < v.workers.size(); ++i)
      w.sample(p.name, worker_label(i), get(v.workers[i]->stats_view(), p.field));
  }
  w.family("bschub_handshake_loop_seconds_total", "counter",
           "loop time spent in TLS handshake steps (mostly mbedTLS ECC)");
  for (size_t i = 0; i < v.workers.size(); ++i)
    w.sample("bschub_handshake_loop_seconds_total", worker_label(i),
             double(get(v.workers[i]->stats_view(), &WorkerStats::handshake_cpu_us)) / 1e6);
  labelled_family(w, v, "bschub_connections_refused_total",
                  "connections refused or ended before they became nodes, by reason", "reason",
                  kRefused, std::size(kRefused));
  labelled_family(w, v, "bschub_tls_handshakes_total", "TLS handshakes completed, by kind",
                  "kind", kHandshakes, std::size(kHandshakes));
  labelled_family(w, v, "bschub_nodes_closed_total", "nodes closed by the hub, by reason",
                  "reason", kClosed, std::size(kClosed));
  labelled_family(w, v, "bschub_dropped_total", "BVLC messages dropped, by reason", "reason",
                  kDrops, std::size(kDrops));
  per_function(w, v, "bschub_frames_received_total", "BVLC messages received, by function",
               &WorkerStats::fn_frames_in);
  per_function(w, v, "bschub_received_bytes_total", "BVLC octets received, by function",
               &WorkerStats::fn_bytes_in);
  per_function(w, v, "bschub_frames_sent_total",
               "BVLC messages queued for sending, by function", &WorkerStats::fn_frames_out);
  per_function(w, v, "bschub_sent_bytes_total", "BVLC octets queued for sending, by function",
               &WorkerStats::fn_bytes_out);

  w.family("bschub_handshake_failures_total", "counter",
           "connections that never reached an open WebSocket, by reason");
  for (size_t i = 0; i < v.workers.size(); ++i)
    for (size_t r = 0; r < size_t(HandshakeFailure::kCount); ++r)
      w.sample("bschub_handshake_failures_total",
               worker_label(i) + ",reason=\"" + kHandshakeFailureLabels[r] + "\"",
               v.workers[i]->stats_view().handshake_failures[r].load(std::memory_order_relaxed));

  w.family("bschub_handshake_duration_seconds", "histogram",
           "TCP accept to open WebSocket (TLS + HTTP upgrade)");
  for (size_t i = 0; i < v.workers.size(); ++i) {
    const WorkerStats& s = v.workers[i]->stats_view();
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kHandshakeBuckets; ++b) {
      cumulative += s.handshake_buckets[b].load(std::memory_order_relaxed);
      char le[32];
      if (b < kHandshakeBuckets) std::snprintf(le, sizeof le, "%g", kHandshakeBucketsMs[b] / 1000);
      else std::snprintf(le, sizeof le, "+Inf");
      w.sample("bschub_handshake_duration_seconds_bucket",
               worker_label(i) + ",le=\"" + le + "\"", cumulative);
    }
    w.sample("bschub_handshake_duration_seconds_sum", worker_label(i),
             double(s.handshake_sum_us.load(std::memory_order_relaxed)) / 1e6);
    w.sample("bschub_handshake_duration_seconds_count", worker_label(i), cumulative);
  }

  w.family("bschub_inbox_depth_batches", "gauge",
           "batches from other workers waiting in this worker's inbox");
  for (size_t i = 0; i < v.workers.size(); ++i)
    w.sample("bschub_inbox_depth_batches", worker_label(i), uint64_t(v.workers[i]->inbox_depth()));

  // Gauges from the snapshots; a worker that did not answer in time has none (worker_up 0).
  w.family("bschub_worker_up", "gauge", "1 if the worker answered this scrape in time");
  for (size_t i = 0; i < v.workers.size(); ++i)
    w.sample("bschub_worker_up", worker_label(i), uint64_t(g.answered[i] ? 1 : 0));
  w.family("bschub_connections_open", "gauge", "TCP connections held, any phase");
  for (size_t i = 0; i < v.workers.size(); ++i)
    if (g.answered[i])
      w.sample("bschub_connections_open", worker_label(i), uint64_t(g.snapshots[i].open_connections));
  w.family("bschub_connections_handshaking", "gauge",
           "connections in TLS/upgrade or waiting for Connect-Request");
  for (size_t i = 0; i < v.workers.size(); ++i)
    if (g.answered[i])
      w.sample("bschub_connections_handshaking", worker_label(i), uint64_t(g.snapshots[i].handshaking));
  w.family("bschub_nodes", "gauge", "nodes past Connect-Accept, by state");
  for (size_t i = 0; i < v.workers.size(); ++i) {
    if (!g.answered[i]) continue;
    uint64_t connected = 0, disconnecting = 0;
    for (const NodeStatus& n : g.snapshots[i].nodes)
      (std::string(n.state) == "connected" ? connected : disconnecting)++;
    w.sample("bschub_nodes", worker_label(i) + ",state=\"connected\"", connected);
    w.sample("bschub_nodes", worker_label(i) + ",state=\"disconnecting\"", disconnecting);
  }
  w.family("bschub_pending_output_bytes", "gauge",
           "bytes queued for nodes or in writes the kernel has not taken yet");
  for (size_t i = 0; i < v.workers.size(); ++i)
    if (g.answered[i])
      w.sample("bschub_pending_output_bytes", worker_label(i), uint64_t(g.snapshots[i].pending_output));

  if (v.tls) {
    w.family("bschub_tls_reloads_total", "counter", "SIGHUP certificate reloads, by result");
    w.sample("bschub_tls_reloads_total", "result=\"ok\"", v.tls->reloads_ok());
    w.sample("bschub_tls_reloads_total", "result=\"failed\"", v.tls->reloads_failed());
  }
  return w.take();
}

}  // namespace bsc
