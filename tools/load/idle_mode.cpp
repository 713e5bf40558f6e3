#include "idle_mode.hpp"

#include "clock.hpp"
#include "shard.hpp"
#include "traffic_check.hpp"

namespace bsc::load {

IdleMode::IdleMode(Shard& shard)
    : Mode(shard),
      beats_(shard.size()),
      interval_ns_(uint64_t(shard.options().heartbeat_interval_s * 1e9)) {}

void IdleMode::start(uint64_t t0_ns) {
  sending_ = true;
  for (Beat& b : beats_) b.next_ns = t0_ns + shard_.rand64() % interval_ns_;
  on_tick(now_ns());
}

void IdleMode::on_tick(uint64_t now_ns) {
  if (!sending_) return;
  for (uint32_t l = 0; l < beats_.size(); ++l) {
    Beat& b = beats_[l];
    if (b.waiting || b.next_ns > now_ns) continue;
    Node& n = shard_.node(l);
    if (!n.connected()) continue;
    uint16_t id = n.next_message_id();
    if (!n.send_simple(Function::kHeartbeatRequest, id)) continue;
    bump(shard_.stats().hb_sent);
    ++sent_;
    b.id = id;
    b.sent_ns = now_ns;
    b.waiting = true;
    ++outstanding_;
  }
}

void IdleMode::on_heartbeat_ack(Node& n, uint16_t message_id, uint64_t now_ns) {
  Beat& b = beats_[n.local_index()];
  if (!b.waiting || b.id != message_id) {
    bump(shard_.stats().unexpected);
    return;
  }
  b.waiting = false;
  --outstanding_;
  ++acked_;
  bump(shard_.stats().hb_acked);
  shard_.stats().latency.record(now_ns - b.sent_ns);
  b.next_ns = b.sent_ns + interval_ns_;
}

void IdleMode::on_node_down(Node& n) {
  Beat& b = beats_[n.local_index()];
  if (b.waiting) {
    b.waiting = false;
    --outstanding_;
    bump(shard_.stats().inflight_at_loss);
  }
}

bool IdleMode::ready_to_move(Node& n) { return !beats_[n.local_index()].waiting; }

void IdleMode::finish() { bump(shard_.stats().lost, missing(sent_, acked_)); }

}  // namespace bsc::load
