// LogLimiter: caps per-connection warning lines (refusals, failed handshakes) so a flood of
// bad connections cannot turn into a flood of log lines. Each kind lets `kBurst` lines
// through per window, then says once that it is suppressing; the counts stay exact in the
// metrics and in DropReporter's periodic summary lines.
// Threads: one instance per worker and kind, [owner] only.
#pragma once
#include <cstdint>

#include "util/log.hpp"

namespace bsc {

class LogLimiter {
 public:
  static constexpr uint32_t kBurst = 50;  // well above what a healthy site produces
  static constexpr uint64_t kWindowMs = 10000;

  // True if one more line may be written now. `what` names the kind in the notice.
  bool allow(uint64_t now_ms, const char* what) {
    if (now_ms - window_start_ms_ >= kWindowMs) {
      window_start_ms_ = now_ms;
      used_ = 0;
    }
    if (used_ < kBurst) {
      ++used_;
      return true;
    }
    if (used_ == kBurst) {
      ++used_;
      LOG_WARN("log_rate_limited", "what=%s limit=%u window_s=%g note=\"further lines "
               "suppressed in this window; counted in metrics and the periodic summary\"",
               what, kBurst, double(kWindowMs) / 1000);
    }
    return false;
  }

 private:
  uint64_t window_start_ms_ = 0;
  uint32_t used_ = 0;
};

}  // namespace bsc
