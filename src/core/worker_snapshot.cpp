// Worker::snapshot: the ops thread's one door into a worker's connections (the history's
// published views are the other, core/connection_history.hpp). The worker builds the copy on
// its own loop, so connections stay [owner]-only and the forwarding path takes no lock;
// the cost (one walk over the slots) is paid per scrape, not per frame.
#include <chrono>

#include "core/connection.hpp"
#include "core/worker.hpp"

namespace bsc {

bool Worker::snapshot(WorkerSnapshot* out, int timeout_ms) {
  std::unique_lock<std::mutex> lock(snap_mu_);
  uint64_t want = ++snap_asked_;
  lock.unlock();
  uv_async_send(&snapshot_async_);
  lock.lock();
  // Requests from one ops thread never overlap; a late answer to an abandoned request is
  // overwritten by the next one.
  if (!snap_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                         [&] { return snap_done_ >= want; }))
    return false;
  *out = std::move(snap_);
  return true;
}

void Worker::on_snapshot(uv_async_t* h) {
  auto* w = static_cast<Worker*>(h->data);
  WorkerSnapshot s;
  w->fill_snapshot(&s);
  std::lock_guard<std::mutex> lock(w->snap_mu_);
  w->snap_ = std::move(s);
  w->snap_done_ = w->snap_asked_;
  w->snap_cv_.notify_all();
}

// At most once per loop iteration, and only after a connect, departure or refusal.
void Worker::publish_history() {
  std::vector<NodeRecord> connected;
  table_.for_each([&connected](const Connection& c) {
    if (!c.routable()) return;
    NodeRecord r;
    r.state = HistoryState::kConnected;
    r.connect_unix_ms = c.connected_unix_ms();
    r.peer = c.peer_address_record();
    r.vmac = c.vmac();
    r.uuid = c.uuid();
    connected.push_back(r);
  });
  history_.publish(std::move(connected), unix_now_ms());
}

void Worker::fill_snapshot(WorkerSnapshot* out) {
  table_.for_each([this, out](const Connection& c) {
    ++out->open_connections;
    out->pending_output += c.backlog();
    bool node = c.routable() && c.registered();
    if (!node) {
      if (c.state() != Connection::State::kClosing) ++out->handshaking;
      return;
    }
    NodeStatus n;
    n.worker = id_;
    n.vmac = c.vmac().to_string();
    n.uuid = c.uuid().to_string();
    n.peer = c.peer();
    n.state = c.state() == Connection::State::kConnected ? "connected" : "disconnecting";
    n.connected_unix_ms = c.connected_unix_ms();
    n.last_error = c.last_error();
    n.pending_output = c.backlog();
    if (const PeerIdentity* id = c.peer_identity()) {
      n.certificate = id->certificate.to_hex();
      n.public_key = id->public_key.to_hex();
      n.subject = id->subject;
    }
    out->nodes.push_back(std::move(n));
  });
}

}  // namespace bsc
