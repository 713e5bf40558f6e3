// Receive-side bookkeeping of one (sender, receiver) stream of sequence numbers: counts
// unique arrivals and classifies the rest as duplicates or late (reordered) arrivals.
// Loss is decided at the end by the caller: messages sent minus unique().
//
// A 64-entry window below the highest sequence number seen tells a late arrival from a
// duplicate; an arrival more than 64 behind is counted as reordered (it cannot be told
// from a duplicate any more). Threads: [owner].
#pragma once
#include <cstdint>

namespace bsc::load {

class StreamCheck {
 public:
  enum class Result { kInOrder, kAhead, kLate, kDuplicate };

  Result on_seq(uint32_t s) {
    if (s >= next_) {
      uint32_t jump = s - next_ + 1;  // >= 1
      window_ = jump >= 64 ? 0 : window_ << jump;
      window_ |= 1;  // bit 0 = s
      Result r = (s == next_) ? Result::kInOrder : Result::kAhead;
      next_ = s + 1;
      ++unique_;
      return r;
    }
    uint32_t d = next_ - 1 - s;  // distance below the highest seen
    if (d < 64) {
      uint64_t bit = uint64_t(1) << d;
      if (window_ & bit) return Result::kDuplicate;
      window_ |= bit;
    }
    ++unique_;
    return Result::kLate;
  }
  uint64_t unique() const { return unique_; }

 private:
  uint32_t next_ = 0;    // highest sequence number seen + 1
  uint64_t window_ = 0;  // bit d: next_-1-d has arrived
  uint64_t unique_ = 0;
};

}  // namespace bsc::load
