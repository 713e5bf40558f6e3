// Idle mode: hold every connection for --duration; each node sends a Heartbeat-Request
// every --heartbeat-interval seconds (first ones spread over one interval) and checks
// the Heartbeat-ACK (same Message ID). Latency = heartbeat round trip. Unanswered
// heartbeats count as lost. Failover: a heartbeat unanswered when its node leaves the hub
// counts in inflight_at_loss; a node moves back to the primary between heartbeats.
// Threads: [owner].
#pragma once
#include <vector>

#include "mode.hpp"

namespace bsc::load {

class IdleMode final : public Mode {
 public:
  explicit IdleMode(Shard& shard);
  void start(uint64_t t0_ns) override;
  void stop_sending() override { sending_ = false; }
  bool drained() const override { return outstanding_ == 0; }
  void finish() override;
  void on_tick(uint64_t now_ns) override;
  void on_heartbeat_ack(Node& n, uint16_t message_id, uint64_t now_ns) override;
  void on_node_down(Node& n) override;
  bool ready_to_move(Node& n) override;

 private:
  struct Beat {
    uint64_t next_ns = 0;
    uint64_t sent_ns = 0;
    uint16_t id = 0;
    bool waiting = false;
  };
  std::vector<Beat> beats_;  // by local index
  uint64_t interval_ns_;
  uint64_t outstanding_ = 0;
  uint64_t sent_ = 0, acked_ = 0;
  bool sending_ = false;
};

}  // namespace bsc::load
