// /status: the hub's connection table as JSON, and OpsView::gather() behind both endpoints.
#include <arpa/inet.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>

#include "core/access_control.hpp"
#include "core/worker.hpp"
#include "ops/ops_view.hpp"
#include "util/unix_time.hpp"

namespace bsc {
namespace {

// How long a scrape waits for one worker's snapshot. A healthy loop answers in well under
// a millisecond; a stuck one must not hang the scraper for long.
constexpr int kSnapshotTimeoutMs = 1000;

// "ip:port" / "[ip6]:port" of a history entry's peer; "?" if not known.
std::string peer_text(const PeerAddress& a) {
  char host[64];
  int family = a.ip_len == 4 ? AF_INET : AF_INET6;
  if ((a.ip_len != 4 && a.ip_len != 16) || !inet_ntop(family, a.ip.data(), host, sizeof host))
    return "?";
  char text[80];
  std::snprintf(text, sizeof text, a.ip_len == 16 ? "[%s]:%u" : "%s:%u", host, unsigned(a.port));
  return text;
}

void put_error(nlohmann::json& j, const HistoryError& e) {
  j["error_class"] = e.error_class;
  j["error_code"] = e.error_code;
  j["error"] = history_error_name(e.error_code);
  j["error_details"] = e.details;
}

// The same entries as the device's SC_Hub_Function_Connection_Status and
// SC_Failed_Connection_Requests (core/connection_history.hpp), readable.
nlohmann::json history_json(const GatheredHistory& h) {
  nlohmann::json connections = nlohmann::json::array();
  for (size_t i = 0; i < h.connection_count(); ++i) {
    const NodeRecord& r = h.connection(i);
    nlohmann::json j = {{"state", history_state_name(r.state)},
                        {"vmac", r.vmac.to_string()},
                        {"uuid", r.uuid.to_string()},
                        {"peer_address", peer_text(r.peer)},
                        {"connect_time", iso8601_utc(r.connect_unix_ms)},
                        {"disconnect_time", r.disconnect_unix_ms
                                                ? nlohmann::json(iso8601_utc(r.disconnect_unix_ms))
                                                : nlohmann::json(nullptr)}};
    if (r.has_error) put_error(j, r.error);
    connections.push_back(std::move(j));
  }
  nlohmann::json failed = nlohmann::json::array();
  for (size_t i = 0; i < h.failed_count(); ++i) {
    const FailedRecord& r = h.failed(i);
    nlohmann::json j = {{"time", iso8601_utc(r.unix_ms)},
                        {"peer_address", peer_text(r.peer)},
                        {"vmac", r.has_vmac ? nlohmann::json(r.vmac.to_string()) : nullptr},
                        {"uuid", r.has_uuid ? nlohmann::json(r.uuid.to_string()) : nullptr}};
    put_error(j, r.error);
    failed.push_back(std::move(j));
  }
  return {{"connections", connections}, {"failed_requests", failed}};
}
}  // namespace


OpsView::Gathered OpsView::gather() const {
  Gathered g;
  g.snapshots.resize(workers.size());
  g.answered.resize(workers.size());
  for (size_t i = 0; i < workers.size(); ++i)
    g.answered[i] = workers[i]->snapshot(&g.snapshots[i], kSnapshotTimeoutMs);
  std::vector<const ConnectionHistory*> histories;
  for (Worker* w : workers) histories.push_back(&w->history_view());
  g.history = GatheredHistory(histories, unix_now_ms());
  return g;
}

namespace {

// The access policy: identity binding, how many UUIDs are pinned, the deny list.
nlohmann::json access_json(const AccessControl* access) {
  if (!access) return nullptr;
  nlohmann::json denies = nlohmann::json::array();
  for (const DenyEntry& d : access->denies())
    denies.push_back({{"kind", deny_kind_name(d.kind)},
                      {"value", d.value},
                      {"note", d.note},
                      {"added", iso8601_utc(d.added_unix_ms)}});
  return {{"identity_binding", identity_binding_name(access->binding())},
          {"pins", access->pin_count()},
          {"denies", denies}};
}

}  // namespace

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
                     {"pending_output_bytes", n->pending_output},
                     {"certificate_sha256", n->certificate},
                     {"public_key_sha256", n->public_key},
                     {"subject", n->subject}});
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
      {"connections", table},
      {"history", history_json(g.history)},
      {"access", access_json(v.access)}};
  return doc.dump(2) + "\n";
}

}  // namespace bsc
