#include "broadcast_mode.hpp"

#include "clock.hpp"
#include "shard.hpp"
#include "traffic_check.hpp"

namespace bsc::load {
namespace {
constexpr uint64_t kRoundTimeoutNs = kNsPerSec;
}

BroadcastMode::BroadcastMode(Shard& shard) : Mode(shard), nsenders_(shard.options().senders) {
  rx_.resize(size_t(shard.size()) * nsenders_);
  counted_.resize(shard.size(), 0);
  for (uint32_t l = 0; l < shard.size(); ++l) {
    uint32_t g = shard.node(l).global_index();
    if (g < nsenders_) senders_.push_back(Sender{g, l, 0, 0, false, false});
  }
}

void BroadcastMode::start(uint64_t t0_ns) {
  uint64_t all = shard_.ctx().connected_at_start.load(std::memory_order_acquire);
  expected_ = all > 0 ? uint32_t(all - 1) : 0;
  for (uint32_t l = 0; l < shard_.size(); ++l) counted_[l] = shard_.node(l).connected();
  sending_ = true;
  for (Sender& s : senders_) {
    s.active = shard_.node(s.local).connected();
    if (s.active) send_round(s, t0_ns);
  }
}

void BroadcastMode::send_round(Sender& s, uint64_t now_ns) {
  BroadcastShared::Slot& slot = shard_.ctx().broadcast->slots[s.global];
  uint32_t q = s.round;
  // Publish the round before the message can reach anyone.
  slot.state.store(uint64_t(q) << 32, std::memory_order_release);
  if (!shard_.send_npdu(shard_.node(s.local), Vmac::broadcast(), shard_.pick_size(),
                        Kind::kBroadcast, q, now_ns)) {
    s.active = false;
    return;
  }
  ++s.round;
  slot.sent.store(s.round, std::memory_order_release);
  bump(shard_.stats().bc_rounds);
  s.round_start_ns = now_ns;
  s.waiting = true;
  ++waiting_;
}

void BroadcastMode::on_wake() { check_rounds(now_ns()); }

void BroadcastMode::check_rounds(uint64_t now_ns) {
  for (Sender& s : senders_) {
    if (!s.waiting) continue;
    uint64_t st = shard_.ctx().broadcast->slots[s.global].state.load(std::memory_order_acquire);
    bool complete = uint32_t(st) >= expected_;
    bool timed_out = !complete && now_ns - s.round_start_ns > kRoundTimeoutNs;
    if (!complete && !timed_out) continue;
    bump(complete ? shard_.stats().bc_complete : shard_.stats().bc_timeouts);
    s.waiting = false;
    --waiting_;
    if (sending_ && s.active) send_round(s, now_ns);
  }
}

void BroadcastMode::on_npdu(Node& to, const Message& m, const uint8_t* data, uint64_t now_ns) {
  int64_t from = m.has_origin ? shard_.ctx().node_of(m.origin) : -1;
  if (from < 0 || uint64_t(from) >= nsenders_ || !m.has_dest || !m.dest.is_broadcast() ||
      uint32_t(from) == to.global_index()) {
    count_stray(shard_, m);
    return;
  }
  PayloadInfo info;
  if (!shard_.check_payload(m, data, &info)) return;
  if (info.kind != Kind::kBroadcast) {
    bump(shard_.stats().misrouted);
    return;
  }
  if (!book_seq(shard_, rx_[size_t(to.local_index()) * nsenders_ + uint64_t(from)], info.seq))
    return;
  shard_.stats().latency.record(now_ns > info.ts_ns ? now_ns - info.ts_ns : 0);

  // Count the receipt for the sender's current round only.
  BroadcastShared::Slot& slot = shard_.ctx().broadcast->slots[size_t(from)];
  uint64_t st = slot.state.load(std::memory_order_acquire);
  while (uint32_t(st >> 32) == info.seq) {
    if (slot.state.compare_exchange_weak(st, st + 1, std::memory_order_acq_rel)) {
      if (uint32_t(st + 1) == expected_) {
        uint32_t owner = shard_.ctx().shard_of[size_t(from)];
        if (owner == shard_.id()) {
          check_rounds(now_ns);
        } else {
          shard_.ctx().shards[owner]->wake();
        }
      }
      break;
    }
  }
}

void BroadcastMode::on_node_down(Node& n) {
  for (Sender& s : senders_) {
    if (s.local == n.local_index()) s.active = false;
  }
}

void BroadcastMode::finish() {
  // Every shard has stopped sending (the runner waits for that), so `sent` is final.
  const auto& slots = shard_.ctx().broadcast->slots;
  uint64_t lost = 0;
  for (uint32_t l = 0; l < shard_.size(); ++l) {
    if (!counted_[l]) continue;
    uint32_t g = shard_.node(l).global_index();
    for (uint32_t s = 0; s < nsenders_; ++s) {
      if (s == g) continue;
      uint64_t sent = slots[s].sent.load(std::memory_order_acquire);
      lost += missing(sent, rx_[size_t(l) * nsenders_ + s].unique());
    }
  }
  bump(shard_.stats().lost, lost);
}

}  // namespace bsc::load
