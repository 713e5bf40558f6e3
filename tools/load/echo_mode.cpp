#include "echo_mode.hpp"

#include "shard.hpp"
#include "traffic_check.hpp"

namespace bsc::load {

EchoMode::EchoMode(Shard& shard)
    : Mode(shard), pairs_(shard.size() / 2), window_(shard.options().effective_inflight()) {}

void EchoMode::start(uint64_t t0_ns) {
  sending_ = true;
  for (uint32_t p = 0; p < pairs_.size(); ++p) {
    if (!shard_.node(2 * p).connected() || !shard_.node(2 * p + 1).connected()) continue;
    pairs_[p].active = true;
    for (uint32_t k = 0; k < window_; ++k) send_request(p, t0_ns);
  }
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
