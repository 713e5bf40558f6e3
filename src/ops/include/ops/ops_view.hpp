// OpsView: what /metrics and /status read, gathered on the ops thread: the workers'
// counters (relaxed atomic loads) and a fresh snapshot from each worker's own loop.
// Threads: built at [startup]; gather() and the renderers run on the ops thread.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/connection_history.hpp"
#include "core/snapshot.hpp"

namespace bsc {

class AccessControl;
class StateStore;
class Worker;
class TlsReloader;
struct WorkerStats;

struct HubIdentity {
  std::string uri, vmac, uuid, version;
  int64_t started_unix_ms = 0;
};

struct OpsView {
  HubIdentity hub;
  std::vector<Worker*> workers;
  const TlsReloader* tls = nullptr;  // nullptr with --no-tls
  const AccessControl* access = nullptr;  // the deny list and pins
  const StateStore* store = nullptr;      // --state-dir's, if any

  // One snapshot per worker; a worker that does not answer within the timeout is marked.
  struct Gathered {
    std::vector<WorkerSnapshot> snapshots;
    std::vector<bool> answered;
    GatheredHistory history;  // the workers' published connection histories
  };
  Gathered gather() const;
};

// Prometheus text exposition format 0.0.4.
std::string render_metrics(const OpsView& view, const OpsView::Gathered& g);
// The part of it read from the counters (core/stats.hpp), one `worker` label per entry.
std::string render_counter_metrics(const std::vector<const WorkerStats*>& stats);
// The status table as JSON (see docs/operations.md, "Status").
std::string render_status(const OpsView& view, const OpsView::Gathered& g);

}  // namespace bsc
