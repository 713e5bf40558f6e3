// Wall-clock time as the hub reports it (history, audit log, /status): milliseconds since
// the Unix epoch. Timers and timeouts use the loop's monotonic clock instead.
#pragma once
#include <chrono>
#include <cstdint>

namespace bsc {

inline int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace bsc
