// HandshakeGate: keeps TLS handshakes from stalling a worker's established nodes.
//
// A full mutual-TLS 1.3 handshake costs the hub ~3-5 ms of mbedTLS ECC in two steps (the
// ClientHello: ECDHE + signature; the client's certificate flight: two ECDSA verifies),
// each of which blocks the loop for 1-3 ms. Run as their input arrives, a reconnect storm
// would put tens of milliseconds of ECC between two reads of an established node. So:
//   - a handshake step never runs in the read callback: the connection is queued here, and
//     the worker runs queued steps after its forwarding drain, for at most `budget` of loop
//     time per iteration; the rest waits for the next iteration, which forwards first;
//   - at most `max_open` handshakes are open on the worker; at the limit the worker stops
//     accepting and new nodes wait in the kernel's listen backlog, so the queue stays short
//     and a storm completes handshakes in arrival order instead of starting all of them and
//     finishing none before the deadline.
// Chosen over separate handshake threads: it bounds established nodes' latency without
// handing TLS sessions and sockets between loops; docs/reconnect-storms.md has the
// measured effect (budget on and off).
//
// Threads: [owner] only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>

#include "core/conn_ref.hpp"

namespace bsc {

class HandshakeGate {
 public:
  // max_open: handshakes open at once; budget_ns: handshake time per loop iteration
  // (0: no budget, every queued step runs at once).
  HandshakeGate(size_t max_open, uint64_t budget_ns) : max_open_(max_open), budget_ns_(budget_ns) {}

  bool full() const { return open_ >= max_open_; }
  size_t open() const { return open_; }
  void opened() { ++open_; }
  void closed() { --open_; }

  void queue(ConnRef ref) { queue_.push_back(ref); }
  bool empty() const { return queue_.empty(); }
  // Runs queued steps (step(ref)) until the budget is spent. Returns true if some wait.
  template <class Step, class Clock>
  bool run(Step&& step, Clock&& now_ns) {
    uint64_t start = now_ns();
    while (!queue_.empty()) {
      ConnRef ref = queue_.front();
      queue_.pop_front();
      step(ref);
      if (budget_ns_ > 0 && now_ns() - start >= budget_ns_) break;
    }
    return !queue_.empty();
  }

 private:
  const size_t max_open_;
  const uint64_t budget_ns_;
  size_t open_ = 0;
  std::deque<ConnRef> queue_;
};

}  // namespace bsc
