// /status: the hub's connection table as JSON, and OpsView::gather() behind both endpoints.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>

#include "core/worker.hpp"
#include "ops/ops_view.hpp"

namespace bsc {
namespace {

// How long a scrape waits for one worker's snapshot. A healthy loop answers in well under
// a millisecond; a stuck one must not hang the scraper for long.
constexpr int kSnapshotTimeoutMs = 1000;

std::string iso8601_utc(int64_t unix_ms) {
  time_t secs = time_t(unix_ms / 1000);
  tm utc;
  gmtime_r(&secs, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                int(unix_ms % 1000));
  return text;
}

}  // namespace

OpsView::Gathered OpsView::gather() const {
  Gathered g;
  g.snapshots.resize(workers.size());
  g.answered.resize(workers.size());
  for (size_t i = 0; i < workers.size(); ++i)
    g.answered[i] = workers[i]->snapshot(&g.snapshots[i], kSnapshotTimeoutMs);
  return g;
}

std::string render_status(const OpsView& v, const OpsView::Gathered& g) {
  std::vector<const NodeStatus*> nodes;
  for (const WorkerSnapshot& s : g.snapshots)
    for (const NodeStatus& n : s.nodes) nodes.push_back(&n);
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeStatus* a, const NodeStatus* b) { return a->vmac < b->vmac; });

  nlohmann::json table = nlohmann::json::array();
  for (const NodeStatus* n : nodes) {
    table.push_back({{"vmac", n->vmac},
                     {"uuid", n->uuid},
                     {"peer_address", n->peer},
                     {"state", n->state},
                     {"connect_time", iso8601_utc(n->connected_unix_ms)},
                     {"last_error", n->last_error},
                     {"worker", n->worker},
                     {"pending_output_bytes", n->pending_output}});
  }
  std::vector<size_t> missing;
  for (size_t i = 0; i < g.answered.size(); ++i)
    if (!g.answered[i]) missing.push_back(i);
  nlohmann::json doc = {
      {"hub",
       {{"uri", v.hub.uri},
        {"vmac", v.hub.vmac},
        {"uuid", v.hub.uuid},
        {"version", v.hub.version},
        {"workers", v.workers.size()},
        {"start_time", iso8601_utc(v.hub.started_unix_ms)}}},
      {"complete", missing.empty()},  // false: some worker did not answer in time
      {"workers_missing", missing},
      {"connections", table}};
  return doc.dump(2) + "\n";
}

}  // namespace bsc
