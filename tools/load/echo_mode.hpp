// Echo mode: nodes form pairs (A, B) on one shard. A keeps K messages in flight to B; B
// sends each straight back; A records the round trip and sends the next one (closed
// loop). Each round trip is two frames forwarded by the hub.
// Failover: a pair sends only while both nodes are connected to the same hub; it stops when
// either leaves (what was in flight is counted in inflight_at_loss) and starts again once
// both are on one hub. Before a planned move back to the primary it stops and waits until
// its messages are home.
// Threads: [owner].
#pragma once
#include <vector>

#include "mode.hpp"
#include "stream_check.hpp"

namespace bsc::load {

class EchoMode final : public Mode {
 public:
  explicit EchoMode(Shard& shard);
  void start(uint64_t t0_ns) override;
  void stop_sending() override { sending_ = false; }
  bool drained() const override { return outstanding_ == 0; }
  void finish() override;
  void on_npdu(Node& to, const Message& m, const uint8_t* data, uint64_t now_ns) override;
  void on_node_down(Node& n) override;
  void on_node_up(Node& n) override;
  bool ready_to_move(Node& n) override;

 private:
  struct Pair {
    uint32_t inflight = 0;
    uint32_t a_sent = 0;  // A -> B sequence numbers used
    uint32_t b_sent = 0;  // B -> A
    StreamCheck at_b;     // A -> B as B sees it
    StreamCheck at_a;     // B -> A as A sees it
    bool active = false;
  };
  void send_request(uint32_t pair, uint64_t now_ns);
  // Both ends connected, to one hub.
  bool together(uint32_t pair);
  // Starts (or restarts) a pair: fills its window.
  void activate(uint32_t pair, uint64_t now_ns);

  std::vector<Pair> pairs_;  // pair p = local nodes 2p (A) and 2p+1 (B)
  uint64_t outstanding_ = 0;
  uint32_t window_;
  bool sending_ = false;
};

}  // namespace bsc::load
