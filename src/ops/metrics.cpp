// /metrics: Prometheus text format 0.0.4. Names follow the Prometheus conventions
// (bschub_ prefix, _total for counters, base units: seconds, bytes); per-worker series carry
// a `worker` label so an imbalance between shards is visible, and sum() gives the hub.
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "bsc/bvlc.hpp"
#include "core/access_control.hpp"
#include "core/stats.hpp"
#include "core/worker.hpp"
#include "net/tls_reloader.hpp"
#include "ops/ops_view.hpp"
#include "ops/state_store.hpp"

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
  std::string take() {
    std::string out;
    out.swap(out_);
    return out;
  }

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

const CounterFamily* shared_family(const char* metric) {
  for (const CounterFamily& f : kCounterFamilies)
    if (std::strcmp(f.metric, metric) == 0) return &f;
  return nullptr;
}

// One family from core/stats.hpp's counter list: the counters naming `metric`, per worker.
void counter_family(Writer& w, const std::vector<const WorkerStats*>& stats,
                    const CounterInfo& first) {
  const CounterFamily* shared = shared_family(first.metric);
  w.family(first.metric, "counter", shared ? shared->help : first.help);
  for (size_t i = 0; i < stats.size(); ++i)
    for (const CounterInfo& c : kCounters) {
      if (std::strcmp(c.metric, first.metric) != 0) continue;
      std::string labels = worker_label(i);
      if (shared) labels += std::string(",") + shared->label + "=\"" + c.label + "\"";
      uint64_t v = get(*stats[i], c.field);
      if (c.as == CounterExport::us_as_seconds) w.sample(first.metric, labels, double(v) / 1e6);
      else w.sample(first.metric, labels, v);
    }
}

void per_function(Writer& w, const std::vector<const WorkerStats*>& stats, const char* name,
                  const char* help, std::atomic<uint64_t> (WorkerStats::*arr)[kFunctionSlots]) {
  w.family(name, "counter", help);
  for (size_t i = 0; i < stats.size(); ++i)
    for (size_t f = 0; f < kFunctionSlots; ++f)
      w.sample(name, worker_label(i) + ",function=\"" + kFunctionLabels[f] + "\"",
               (stats[i]->*arr)[f].load(std::memory_order_relaxed));
}

}  // namespace

std::string render_counter_metrics(const std::vector<const WorkerStats*>& stats) {
  Writer w;
  // Each family once, where its first counter stands in the list; by_function counters are
  // the sums of the per-function families below.
  for (size_t i = 0; i < std::size(kCounters); ++i) {
    const CounterInfo& c = kCounters[i];
    bool seen = c.as == CounterExport::by_function;
    for (size_t j = 0; j < i && !seen; ++j) seen = std::strcmp(kCounters[j].metric, c.metric) == 0;
    if (!seen) counter_family(w, stats, c);
  }
  per_function(w, stats, "bschub_frames_received_total", "BVLC messages received, by function",
               &WorkerStats::fn_frames_in);
  per_function(w, stats, "bschub_received_bytes_total", "BVLC octets received, by function",
               &WorkerStats::fn_bytes_in);
  per_function(w, stats, "bschub_frames_sent_total",
               "BVLC messages queued for sending, by function", &WorkerStats::fn_frames_out);
  per_function(w, stats, "bschub_sent_bytes_total", "BVLC octets queued for sending, by function",
               &WorkerStats::fn_bytes_out);

  w.family("bschub_handshake_failures_total", "counter",
           "connections that never reached an open WebSocket, by reason");
  for (size_t i = 0; i < stats.size(); ++i)
    for (size_t r = 0; r < size_t(HandshakeFailure::kCount); ++r)
      w.sample("bschub_handshake_failures_total",
               worker_label(i) + ",reason=\"" + kHandshakeFailureLabels[r] + "\"",
               stats[i]->handshake_failures[r].load(std::memory_order_relaxed));

  w.family("bschub_handshake_duration_seconds", "histogram",
           "TCP accept to open WebSocket (TLS + HTTP upgrade)");
  for (size_t i = 0; i < stats.size(); ++i) {
    const WorkerStats& s = *stats[i];
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
  return w.take();
}

std::string render_metrics(const OpsView& v, const OpsView::Gathered& g) {
  Writer w;
  w.family("bschub_info", "gauge", "the hub's identity (value always 1)");
  w.sample("bschub_info", "version=\"" + v.hub.version + "\",vmac=\"" + v.hub.vmac +
                              "\",uuid=\"" + v.hub.uuid + "\"", uint64_t(1));
  w.family("bschub_start_time_seconds", "gauge", "Unix time the hub started");
  w.sample("bschub_start_time_seconds", "", double(v.hub.started_unix_ms) / 1000.0);

  std::vector<const WorkerStats*> stats;
  for (Worker* worker : v.workers) stats.push_back(&worker->stats_view());
  std::string out = w.take() + render_counter_metrics(stats);

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

  if (v.access) {
    w.family("bschub_identity_pins", "gauge", "device UUIDs pinned to a public key");
    w.sample("bschub_identity_pins", "", uint64_t(v.access->pin_count()));
    w.family("bschub_deny_entries", "gauge", "certificates, keys and UUIDs on the deny list");
    w.sample("bschub_deny_entries", "", uint64_t(v.access->deny_count()));
  }
  if (v.store) {
    StateStoreStats s = v.store->stats();
    w.family("bschub_audit_records_total", "counter",
             "audit log records, by result (dropped: queue full or a failed write)");
    w.sample("bschub_audit_records_total", "result=\"written\"", s.audit_written);
    w.sample("bschub_audit_records_total", "result=\"dropped\"", s.audit_dropped);
    w.family("bschub_state_changes_total", "counter", "pin and deny-list changes, by result");
    w.sample("bschub_state_changes_total", "result=\"written\"", s.state_written);
    w.sample("bschub_state_changes_total", "result=\"dropped\"", s.state_dropped);
    w.family("bschub_state_write_errors_total", "counter", "state store batches that failed");
    w.sample("bschub_state_write_errors_total", "", s.write_errors);
    w.family("bschub_audit_queue_depth", "gauge", "audit records waiting to be written");
    w.sample("bschub_audit_queue_depth", "", s.audit_queued);
  }
  if (v.tls) {
    w.family("bschub_tls_reloads_total", "counter", "SIGHUP certificate reloads, by result");
    w.sample("bschub_tls_reloads_total", "result=\"ok\"", v.tls->reloads_ok());
    w.sample("bschub_tls_reloads_total", "result=\"failed\"", v.tls->reloads_failed());
    // A stale CRL refuses no one by itself (docs/tls.md "Revocation"): this is its alarm.
    if (auto ctx = v.tls->current()) {
      const uint64_t stale = ctx->stale_crls();
      w.family("bschub_tls_crls", "gauge",
               "CRLs in use (--crl), by state; stale: past its next-update, still applied");
      w.sample("bschub_tls_crls", "state=\"current\"", uint64_t(ctx->crls().size()) - stale);
      w.sample("bschub_tls_crls", "state=\"stale\"", stale);
      // Counted since the last reload: a reload starts an empty cache.
      const KnownCertificates& known = ctx->known_certificates();
      w.family("bschub_tls_known_certificates", "gauge",
               "node certificates known to be issued by a configured CA (no CA signature "
               "check when they return)");
      w.sample("bschub_tls_known_certificates", "", uint64_t(known.size()));
      w.family("bschub_tls_known_certificate_lookups_total", "counter",
               "full handshakes by whether the node's certificate was known, since the last "
               "reload");
      w.sample("bschub_tls_known_certificate_lookups_total", "result=\"hit\"", known.hits());
      w.sample("bschub_tls_known_certificate_lookups_total", "result=\"miss\"", known.misses());
    }
  }
  return out + w.take();
}

}  // namespace bsc
