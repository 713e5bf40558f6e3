// Mode: what one shard's nodes do once connected (echo, rate, broadcast, idle; connect
// mode has no traffic). One instance per shard, driven by the shard's phases.
// Threads: [owner] (the shard's loop thread), except on_wake's trigger (Shard::wake).
#pragma once
#include <cstdint>
#include <memory>

#include "bsc/bvlc.hpp"

namespace bsc::load {

class Node;
class Shard;

class Mode {
 public:
  explicit Mode(Shard& shard) : shard_(shard) {}
  virtual ~Mode() = default;
  Mode(const Mode&) = delete;
  Mode& operator=(const Mode&) = delete;

  // Traffic starts (every node that will connect has connected or failed).
  virtual void start(uint64_t t0_ns) { (void)t0_ns; }
  // Stop originating messages; messages in flight are still answered and counted.
  virtual void stop_sending() {}
  // True when nothing this shard waits for is still in flight.
  virtual bool drained() const { return true; }
  // After the drain: count what never arrived (stats.lost); close own handles.
  virtual void finish() {}
  // Every 50 ms from start to finish.
  virtual void on_tick(uint64_t now_ns) { (void)now_ns; }
  // An Encapsulated-NPDU for `to`; `data` is the whole BVLC message.
  virtual void on_npdu(Node& to, const Message& m, const uint8_t* data, uint64_t now_ns) {
    (void)to, (void)m, (void)data, (void)now_ns;
  }
  virtual void on_heartbeat_ack(Node& n, uint16_t message_id, uint64_t now_ns) {
    (void)n, (void)message_id, (void)now_ns;
  }
  // A connected node left (lost its hub, or leaves it on purpose).
  virtual void on_node_down(Node& n) { (void)n; }
  // A node got a Connect-Accept after traffic started (failover: a reconnect).
  virtual void on_node_up(Node& n) { (void)n; }
  // Failover: may `n` leave the failover hub for the primary now? A mode may stop sending
  // for it and say yes once nothing of its is in flight (no loss on a planned move).
  virtual bool ready_to_move(Node& n) {
    (void)n;
    return true;
  }
  // Another thread called Shard::wake().
  virtual void on_wake() {}

 protected:
  Shard& shard_;
};

std::unique_ptr<Mode> make_mode(Shard& shard);

}  // namespace bsc::load
