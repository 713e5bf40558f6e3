// Receive-side helpers shared by the modes: classify a stray message, book a sequence
// number into a StreamCheck and the shard's counters. Threads: [owner].
#pragma once
#include <cstdint>

#include "bsc/bvlc.hpp"
#include "payload.hpp"
#include "stream_check.hpp"

namespace bsc::load {

class Node;
class Shard;

// A message that is not from the expected sender: misrouted if one of our nodes sent it,
// else foreign (another client of the same hub).
void count_stray(Shard& s, const Message& m);

// A unicast to `to` that must come from `partner` and carry a payload of kind `want`:
// true with its payload in *info; false after counting it (stray, misrouted or bad payload).
bool read_partner_message(Shard& s, const Node& partner, const Message& m, const uint8_t* data,
                          Kind want, PayloadInfo* info);

// Books `seq` into `c` and counts it (received / reorder / dup). False for a duplicate.
bool book_seq(Shard& s, StreamCheck& c, uint32_t seq);

// a - b, or 0 if b > a (loss can't be negative).
inline uint64_t missing(uint64_t sent, uint64_t got) { return sent > got ? sent - got : 0; }

}  // namespace bsc::load
