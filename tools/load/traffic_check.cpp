#include "traffic_check.hpp"

#include "node.hpp"
#include "shard.hpp"

namespace bsc::load {

void count_stray(Shard& s, const Message& m) {
  if (m.has_origin && s.ctx().node_of(m.origin) >= 0) {
    bump(s.stats().misrouted);
  } else {
    bump(s.stats().foreign);
  }
}

bool read_partner_message(Shard& s, const Node& partner, const Message& m, const uint8_t* data,
                          Kind want, PayloadInfo* info) {
  if (!m.has_origin || !(m.origin == partner.vmac()) || m.has_dest) {
    count_stray(s, m);
    return false;
  }
  if (!s.check_payload(m, data, info)) return false;
  if (info->kind != want) {
    bump(s.stats().misrouted);
    return false;
  }
  return true;
}

bool book_seq(Shard& s, StreamCheck& c, uint32_t seq) {
  switch (c.on_seq(seq)) {
    case StreamCheck::Result::kDuplicate:
      bump(s.stats().dup);
      return false;
    case StreamCheck::Result::kLate:
      bump(s.stats().reorder);
      break;
    case StreamCheck::Result::kInOrder:
    case StreamCheck::Result::kAhead:
      break;
  }
  bump(s.stats().received);
  return true;
}

}  // namespace bsc::load
