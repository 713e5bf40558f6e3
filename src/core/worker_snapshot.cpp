// Worker::snapshot: the ops thread's one door into a worker's connections (the history's
// published views are the other, core/connection_history.hpp). The worker builds the copy on
// its own loop, so connections stay [owner]-only and the forwarding path takes no lock;
// the cost (one walk over the slots) is paid per scrape, not per frame.
#include <algorithm>
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

// A publish walks every connection: O(nodes). Once per change, a storm of N connects would
// cost O(N^2) (at 10,000 nodes it was 8% of the hub's CPU, more than all our other code), so
// publishing may take at most 1/kHistoryCostShare of the loop's time: after a publish that
// took T, the next waits until T * kHistoryCostShare has passed (at most kHistoryMaxDelayNs),
// and a timer publishes what changed meanwhile. With few nodes T is microseconds: readers see
// a change at once; with 10,000 they see it within ~30 ms during a storm.
namespace {
constexpr uint64_t kHistoryCostShare = 50;
constexpr uint64_t kHistoryMaxDelayNs = 100'000'000;
}  // namespace

void Worker::maybe_publish_history() {
  uint64_t now = uv_hrtime();
  auto* timer = reinterpret_cast<uv_handle_t*>(&history_timer_);
  if (now < history_next_ns_ && !uv_is_closing(timer)) {
    if (!uv_is_active(timer)) {
      uint64_t wait_ms = (history_next_ns_ - now + 999'999) / 1'000'000;
      uv_timer_start(&history_timer_, on_history_timer, wait_ms, 0);
    }
    return;
  }
  publish_history();
  uint64_t took = uv_hrtime() - now;
  history_next_ns_ = now + std::min(took * kHistoryCostShare, kHistoryMaxDelayNs);
}

void Worker::on_history_timer(uv_timer_t* h) {
  auto* w = static_cast<Worker*>(h->data);
  if (w->history_.dirty()) w->maybe_publish_history();
}

void Worker::publish_history() {
  std::vector<NodeRecord> connected;
  connected.reserve(table_.connected().size());
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
