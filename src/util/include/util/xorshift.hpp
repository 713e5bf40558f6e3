// Xorshift64: xorshift64* (Vigna), a fast non-cryptographic generator. Used where values only
// need to look random to the other side: WebSocket client masks (which only have to be
// unpredictable to intermediaries, RFC 6455 §10.3) and the load tool's sizes, keys and padding.
// Threads: one generator per thread ([owner]); no shared state.
#pragma once
#include <cstdint>

namespace bsc {

class Xorshift64 {
 public:
  // The state must never be 0: the seed's low bit is forced on.
  explicit Xorshift64(uint64_t seed) : state_(seed | 1) {}

  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  // The high bits are the best ones of xorshift64*.
  uint32_t next32() { return uint32_t(next() >> 32); }
  uint8_t next8() { return uint8_t(next() >> 56); }

 private:
  uint64_t state_;
};

}  // namespace bsc
