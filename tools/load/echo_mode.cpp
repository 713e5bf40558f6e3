#include "echo_mode.hpp"

#include "clock.hpp"
#include "shard.hpp"
#include "traffic_check.hpp"

namespace bsc::load {

EchoMode::EchoMode(Shard& shard)
    : Mode(shard), pairs_(shard.size() / 2), window_(shard.options().effective_inflight()) {}

void EchoMode::start(uint64_t t0_ns) {
  sending_ = true;
  for (uint32_t p = 0; p < pairs_.size(); ++p)
    if (together(p)) activate(p, t0_ns);
}

bool EchoMode::together(uint32_t p) {
  Node& a = shard_.node(2 * p);
  Node& b = shard_.node(2 * p + 1);
  return a.connected() && b.connected() && a.hub() == b.hub();
}

void EchoMode::activate(uint32_t p, uint64_t now_ns) {
  Pair& pr = pairs_[p];
  pr.active = true;
  while (pr.inflight < window_) {
    uint32_t before = pr.inflight;
    send_request(p, now_ns);
    if (pr.inflight == before) break;  // cannot send
  }
}

void EchoMode::on_node_up(Node& n) {
  uint32_t p = n.local_index() / 2;
  if (sending_ && p < pairs_.size() && !pairs_[p].active && together(p)) activate(p, now_ns());
}

bool EchoMode::ready_to_move(Node& n) {
  uint32_t p = n.local_index() / 2;
  if (p >= pairs_.size()) return true;
  pairs_[p].active = false;  // no new requests; the replies still come home
  return pairs_[p].inflight == 0;
}

void EchoMode::send_request(uint32_t p, uint64_t now_ns) {
  Pair& pr = pairs_[p];
  Node& a = shard_.node(2 * p);
  Node& b = shard_.node(2 * p + 1);
  if (!shard_.send_npdu(a, b.vmac(), shard_.pick_size(), Kind::kEchoRequest, pr.a_sent, now_ns))
    return;
  ++pr.a_sent;
  ++pr.inflight;
  ++outstanding_;
}

void EchoMode::on_npdu(Node& to, const Message& m, const uint8_t* data, uint64_t now_ns) {
  uint32_t local = to.local_index();
  uint32_t p = local / 2;
  if (p >= pairs_.size()) {  // an unpaired node (cannot happen: --nodes is even)
    count_stray(shard_, m);
    return;
  }
  Pair& pr = pairs_[p];
  bool at_b = (local & 1) != 0;
  Node& peer = shard_.node(local ^ 1);
  PayloadInfo info;
  if (!read_partner_message(shard_, peer, m, data, at_b ? Kind::kEchoRequest : Kind::kEchoReply,
                            &info))
    return;
  if (at_b) {
    if (!book_seq(shard_, pr.at_b, info.seq)) return;
    // Straight back to A, same size, carrying A's timestamp.
    if (shard_.send_npdu(to, peer.vmac(), m.payload.length, Kind::kEchoReply, pr.b_sent,
                         info.ts_ns))
      ++pr.b_sent;
    return;
  }
  if (!book_seq(shard_, pr.at_a, info.seq)) return;
  shard_.stats().latency.record(now_ns - info.ts_ns);
  if (pr.inflight > 0) {
    --pr.inflight;
    --outstanding_;
  }
  if (sending_ && pr.active) send_request(p, now_ns);
}

void EchoMode::on_node_down(Node& n) {
  Pair& pr = pairs_[n.local_index() / 2];
  // What is in flight will not come back: stop waiting for it (finish() counts it lost).
  bump(shard_.stats().inflight_at_loss, pr.inflight);
  outstanding_ -= pr.inflight;
  pr.inflight = 0;
  pr.active = false;
}

void EchoMode::finish() {
  uint64_t lost = 0;
  for (const Pair& pr : pairs_) {
    lost += missing(pr.a_sent, pr.at_b.unique());
    lost += missing(pr.b_sent, pr.at_a.unique());
  }
  bump(shard_.stats().lost, lost);
}

}  // namespace bsc::load
