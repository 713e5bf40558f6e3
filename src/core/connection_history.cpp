#include "core/connection_history.hpp"

#include <algorithm>
#include <utility>

#include "bsc/bacnet/enums.hpp"

namespace bsc {

const char* history_error_name(uint16_t error_code) {
  using E = bacnet::ErrorCode;
  switch (E(error_code)) {
    case E::kTimeout: return "timeout";
    case E::kValueOutOfRange: return "value-out-of-range";
    case E::kNodeDuplicateVmac: return "node-duplicate-vmac";
    case E::kHttpUpgradeError: return "http-upgrade-error";
    case E::kWebsocketClosedByPeer: return "websocket-closed-by-peer";
    case E::kWebsocketProtocolError: return "websocket-protocol-error";
    case E::kWebsocketDataNotAccepted: return "websocket-data-not-accepted";
    case E::kWebsocketClosedAbnormally: return "websocket-closed-abnormally";
    case E::kTlsClientCertificateError: return "tls-client-certificate-error";
    case E::kTlsError: return "tls-error";
    default: return "other";
  }
}

const char* history_state_name(HistoryState s) {
  switch (s) {
    case HistoryState::kNotConnected: return "not-connected";
    case HistoryState::kConnected: return "connected";
    case HistoryState::kDisconnectedWithErrors: return "disconnected-with-errors";
    case HistoryState::kFailedToConnect: return "failed-to-connect";
  }
  return "?";
}

ConnectionHistory::ConnectionHistory(HistoryBounds bounds)
    : bounds_(bounds), published_(std::make_shared<const HistoryView>()) {}

void ConnectionHistory::departed(NodeRecord r) {
  departed_.push_back(std::move(r));
  if (departed_.size() > bounds_.max_entries) departed_.pop_front();
  dirty_ = true;
}

void ConnectionHistory::failed(FailedRecord r) {
  failed_.push_back(std::move(r));
  if (failed_.size() > bounds_.max_entries) failed_.pop_front();
  dirty_ = true;
}

void ConnectionHistory::prune(int64_t now_unix_ms) {
  int64_t oldest = now_unix_ms - bounds_.max_age_ms;
  while (!departed_.empty() && departed_.front().disconnect_unix_ms < oldest)
    departed_.pop_front();
  while (!failed_.empty() && failed_.front().unix_ms < oldest) failed_.pop_front();
}

void ConnectionHistory::publish(std::vector<NodeRecord> connected, int64_t now_unix_ms) {
  prune(now_unix_ms);
  auto view = std::make_shared<HistoryView>();
  view->connected = std::move(connected);
  view->departed.assign(departed_.begin(), departed_.end());
  view->failed.assign(failed_.begin(), failed_.end());
  std::shared_ptr<const HistoryView> old;
  {
    std::lock_guard<std::mutex> lock(published_mutex_);
    old = std::exchange(published_, std::move(view));
  }
  dirty_ = false;  // `old` is freed after the lock (or by its last reader)
}

GatheredHistory::GatheredHistory(const std::vector<const ConnectionHistory*>& sources,
                                 int64_t now_unix_ms) {
  std::vector<const NodeRecord*> departed;
  for (const ConnectionHistory* h : sources) {
    views_.push_back(h->latest());
    const HistoryView& v = *views_.back();
    int64_t oldest = now_unix_ms - h->bounds().max_age_ms;
    for (const NodeRecord& r : v.connected) connections_.push_back(&r);
    for (const NodeRecord& r : v.departed)
      if (r.disconnect_unix_ms >= oldest) departed.push_back(&r);
    for (const FailedRecord& r : v.failed)
      if (r.unix_ms >= oldest) failed_.push_back(&r);
  }
  std::sort(connections_.begin(), connections_.end(),
            [](const NodeRecord* a, const NodeRecord* b) { return a->vmac.bytes < b->vmac.bytes; });
  // Each worker's lists are oldest first; merged, the whole list is too.
  std::stable_sort(departed.begin(), departed.end(), [](const NodeRecord* a, const NodeRecord* b) {
    return a->disconnect_unix_ms < b->disconnect_unix_ms;
  });
  std::stable_sort(failed_.begin(), failed_.end(), [](const FailedRecord* a, const FailedRecord* b) {
    return a->unix_ms < b->unix_ms;
  });
  connections_.insert(connections_.end(), departed.begin(), departed.end());
}

}  // namespace bsc
