// Connection history: the data of the SC Network Port's SC_Hub_Function_Connection_Status
// (nodes connected now and nodes that left) and SC_Failed_Connection_Requests (recent
// refusals), Std clause 12.56 / Addendum 135-2020cc, also shown by /status.
//
// Held per worker, gathered without locks on the forwarding path:
//   - Each worker owns one ConnectionHistory ([owner]). Its connections report departures
//     and refusals to it when they happen (connect/close/refusal time only, never per
//     frame); a connect or departure also marks the connected set changed.
//   - Once per loop iteration with a change, the worker publishes an immutable HistoryView
//     (its connected nodes, read from its connection table, plus copies of the two bounded
//     lists) with publish() ([owner]). A publish costs O(nodes), so the worker bounds their
//     rate by their cost (Worker::maybe_publish_history): with thousands of nodes in a
//     connect storm a view may lag the table by some milliseconds (at most 100 ms).
//   - Any thread takes the latest view with latest(): the device on worker 0's loop, the
//     ops thread for /status. It copies a shared_ptr under a mutex that the worker takes
//     only to swap in a new view (an iteration with a change, never per frame), so no
//     frame ever waits on it. (libstdc++ 12's std::atomic<shared_ptr> drew ThreadSanitizer
//     data-race reports from its internals; a plain mutex is what the sanitizer can check.)
//     A view never changes once published; a reader holds it as long as it needs.
// GatheredHistory puts the latest views of every worker together, once per request, so one
// reply is built from one consistent set of entries.
//
// Bounds: departed and failed entries are kept per worker up to `max_entries` each and for
// `max_age_ms` (older ones are pruned at each change and filtered out when gathered).
// Connected nodes are always all listed (--max-connections bounds them).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bsc/bacnet/sc_types.hpp"
#include "bsc/vmac.hpp"
#include "util/unix_time.hpp"

namespace bsc {

// BACnetSCConnectionState. The history uses three of its values: connected, not-connected
// (left after a Disconnect-Request/ACK) and disconnected-with-errors (left any other way:
// TCP reset, timeout, protocol error). A hub only accepts, so never failed-to-connect.
using HistoryState = bacnet::ScConnectionState;

// The peer's IP (4 or 16 octets, network order) and TCP port; ip_len 0 if not known.
struct PeerAddress {
  std::array<uint8_t, 16> ip{};
  uint8_t ip_len = 0;
  uint16_t port = 0;
};

// An error of a history entry: BACnet error class and code (Std clause 18) and a sentence.
struct HistoryError {
  uint16_t error_class = 0;
  uint16_t error_code = 0;
  std::string details;
};

// One SC_Hub_Function_Connection_Status entry.
struct NodeRecord {
  HistoryState state = HistoryState::kConnected;
  int64_t connect_unix_ms = 0;
  int64_t disconnect_unix_ms = 0;  // 0 while connected
  PeerAddress peer;
  Vmac vmac;
  Uuid uuid;
  bool has_error = false;  // only with kDisconnectedWithErrors
  HistoryError error;
};

// One SC_Failed_Connection_Requests entry.
struct FailedRecord {
  int64_t unix_ms = 0;
  PeerAddress peer;
  bool has_vmac = false;  // known once the Connect-Request was read
  Vmac vmac;
  bool has_uuid = false;
  Uuid uuid;
  HistoryError error;
};

// What one worker published: immutable once shared.
struct HistoryView {
  std::vector<NodeRecord> connected;  // in no particular order
  std::vector<NodeRecord> departed;   // oldest first
  std::vector<FailedRecord> failed;   // oldest first
};

struct HistoryBounds {
  size_t max_entries = 100;       // departed, and failed, entries kept per worker
  int64_t max_age_ms = 86400000;  // older departed/failed entries are dropped
};

class ConnectionHistory {
 public:
  explicit ConnectionHistory(HistoryBounds bounds);

  // [owner] A node left / a connection attempt was refused. `r.disconnect_unix_ms` /
  // `r.unix_ms` is the time it happened (also the age the bounds use).
  void departed(NodeRecord r);
  void failed(FailedRecord r);
  // [owner] The set of connected nodes changed (a node connected or left).
  void connected_changed() { dirty_ = true; }
  bool dirty() const { return dirty_; }
  // [owner] Publishes a new view: `connected` (the worker's connected nodes now) and the
  // kept entries, those older than the age bound at `now_unix_ms` pruned first.
  void publish(std::vector<NodeRecord> connected, int64_t now_unix_ms);

  // [any thread] The latest published view (never null: an empty one before the first).
  std::shared_ptr<const HistoryView> latest() const {
    std::lock_guard<std::mutex> lock(published_mutex_);
    return published_;
  }
  const HistoryBounds& bounds() const { return bounds_; }

 private:
  void prune(int64_t now_unix_ms);

  const HistoryBounds bounds_;
  std::deque<NodeRecord> departed_;  // oldest first
  std::deque<FailedRecord> failed_;
  bool dirty_ = true;
  mutable std::mutex published_mutex_;
  std::shared_ptr<const HistoryView> published_;  // guarded by published_mutex_
};

// The latest views of several workers, put together for one reply. Entries older than the
// age bound at `now_unix_ms` are left out (a worker without changes publishes nothing new).
// Connections: the connected nodes first (by VMAC), then the departed (oldest first).
// Threads: any; built and read by one thread.
class GatheredHistory {
 public:
  GatheredHistory() = default;
  GatheredHistory(const std::vector<const ConnectionHistory*>& sources, int64_t now_unix_ms);

  size_t connection_count() const { return connections_.size(); }
  const NodeRecord& connection(size_t i) const { return *connections_[i]; }
  size_t failed_count() const { return failed_.size(); }
  const FailedRecord& failed(size_t i) const { return *failed_[i]; }

 private:
  std::vector<std::shared_ptr<const HistoryView>> views_;  // keeps the entries alive
  std::vector<const NodeRecord*> connections_;
  std::vector<const FailedRecord*> failed_;
};

// The Std's name of an error code the history uses ("websocket-closed-abnormally"), or
// "other" for the rest; and of a state ("connected", "not-connected", ...).
const char* history_error_name(uint16_t error_code);
const char* history_state_name(HistoryState s);


}  // namespace bsc
