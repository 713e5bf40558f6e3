// Broadcast mode: S sender nodes (global indices 0..S-1, on any shard). Each sender
// broadcasts one message (D = FF:FF:FF:FF:FF:FF), waits until every other connected node
// has received it, or 1 s (a round timeout), then sends the next. Receivers record the
// fan-out latency (send -> each receipt). Frames forwarded = copies delivered.
//
// Threads: [owner], except the BroadcastShared slots (see there).
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

#include "broadcast_shared.hpp"
#include "mode.hpp"
#include "stream_check.hpp"

namespace bsc::load {

class BroadcastMode final : public Mode {
 public:
  explicit BroadcastMode(Shard& shard);
  void start(uint64_t t0_ns) override;
  void stop_sending() override { sending_ = false; }
  bool drained() const override { return waiting_ == 0; }
  void finish() override;
  void on_tick(uint64_t now_ns) override { check_rounds(now_ns); }
  void on_wake() override;
  void on_npdu(Node& to, const Message& m, const uint8_t* data, uint64_t now_ns) override;
  void on_node_down(Node& n) override;

 private:
  struct Sender {
    uint32_t global = 0;
    uint32_t local = 0;
    uint32_t round = 0;  // next round number
    uint64_t round_start_ns = 0;
    bool waiting = false;
    bool active = false;
  };
  void send_round(Sender& s, uint64_t now_ns);
  void check_rounds(uint64_t now_ns);

  std::vector<Sender> senders_;   // this shard's senders
  std::vector<StreamCheck> rx_;   // [local * S + sender]
  std::vector<uint8_t> counted_;  // by local: connected when traffic started
  uint32_t nsenders_;
  uint32_t expected_ = 0;  // receipts per round
  uint32_t waiting_ = 0;
  bool sending_ = false;
};

}  // namespace bsc::load
