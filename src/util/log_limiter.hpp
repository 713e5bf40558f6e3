// LogLimiter: keeps a repeating event from flooding the log during a storm or a flood. Up
// to `burst` lines at once, then `per_second`; each line that gets through can report how
// many were left out since the previous one (its `suppressed=` field).
// Threads: [owner]: one limiter per worker and event.
#pragma once
#include <cstdint>

namespace bsc::log {

class LogLimiter {
 public:
  LogLimiter(double per_second, double burst) : rate_(per_second), burst_(burst), tokens_(burst) {}

  // True if a line may be written now; then *suppressed holds the events skipped before it.
  bool allow(uint64_t now_ms, uint64_t* suppressed) {
    if (now_ms > last_ms_) {
      double t = tokens_ + double(now_ms - last_ms_) * rate_ / 1000.0;
      tokens_ = t < burst_ ? t : burst_;
      last_ms_ = now_ms;
    }
    if (tokens_ < 1.0) {
      ++suppressed_;
      return false;
    }
    tokens_ -= 1.0;
    *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  const double rate_, burst_;
  double tokens_;
  uint64_t last_ms_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace bsc::log
