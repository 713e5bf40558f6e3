// Wall-clock time as the hub reports it (history, audit log, /status): milliseconds since
// the Unix epoch. Timers and timeouts use the loop's monotonic clock instead.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace bsc {

inline int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-12-02T17:45:58.123Z"
inline std::string iso8601_utc(int64_t unix_ms) {
  time_t secs = time_t(unix_ms / 1000);
  tm utc;
  gmtime_r(&secs, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                int(unix_ms % 1000));
  return text;
}

}  // namespace bsc
