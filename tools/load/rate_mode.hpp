// Rate mode: open loop. Both nodes of every pair send to each other on a fixed schedule;
// the shard's share of --rate is spread round-robin over its senders. Each message carries
// the time it was MEANT to be sent, and the receiver measures latency from that, so a
// stalled hub shows up in the latency instead of slowing the senders down (no coordinated
// omission). One frame forwarded by the hub per message.
//
// Timing: libuv timers have 1 ms resolution, too coarse here, so a timerfd armed for the
// next due time (absolute CLOCK_MONOTONIC ns, the steady clock; timer slack 1 ns) wakes the
// loop; only when the next send is under 20 us away does the loop spin (an active idle
// handle: poll never blocks). Each wake-up sends everything that is due.
// Threads: [owner].
#pragma once
#include <uv.h>

#include <vector>

#include "mode.hpp"
#include "stream_check.hpp"

namespace bsc::load {

class RateMode final : public Mode {
 public:
  explicit RateMode(Shard& shard);
  void start(uint64_t t0_ns) override;
  void stop_sending() override;
  bool drained() const override { return received_ == sent_; }
  void finish() override;
  void on_npdu(Node& to, const Message& m, const uint8_t* data, uint64_t now_ns) override;

 private:
  static void on_idle(uv_idle_t* h);
  static void on_timerfd(uv_poll_t* h, int status, int events);
  void pump(uint64_t now_ns);
  void arm(uint64_t due_ns);

  std::vector<uint32_t> senders_;     // local indices of nodes that send
  std::vector<uint32_t> tx_;          // by local index: sequence numbers used towards the peer
  std::vector<StreamCheck> rx_;       // by local index: from the peer
  uint64_t sent_ = 0, received_ = 0;  // this shard's messages (both ends are local)
  uint64_t t0_ = 0, k_ = 0, due_ = 0;
  double interval_ns_ = 0;
  bool sending_ = false;
  bool handles_ = false;
  int tfd_ = -1;
  uv_idle_t idle_;
  uv_poll_t poll_;
};

}  // namespace bsc::load
