// Broadcast mode's state shared across shards: one slot per sender.
// Threads: receivers on any shard count receipts in the sender's slot (atomics); the one
// that completes a round wakes the sender's shard. `sent` is written by the sender's
// shard only and read by all at the end.
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

namespace bsc::load {

struct BroadcastShared {
  struct Slot {
    // Round number in the high 32 bits, receipts of that round in the low 32 bits: one
    // word, so a late copy of an old round can never count for the current one.
    std::atomic<uint64_t> state{0};
    std::atomic<uint64_t> sent{0};  // broadcasts sent (written by the sender's shard)
  };
  explicit BroadcastShared(uint32_t senders) : slots(senders) {}
  std::vector<Slot> slots;  // by sender (= global node index)
};

}  // namespace bsc::load
