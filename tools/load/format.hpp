// Small text helpers shared by the progress line and the summary. Threads: pure.
#pragma once
#include <cstdint>
#include <string>

#include "options.hpp"
#include "stats.hpp"

namespace bsc::load {

// "7.5us", "40us", "1.23ms", "2.50s".
std::string fmt_ns(uint64_t ns);

// What the mode counts as its message rate: frames forwarded by the hub (echo, rate,
// broadcast copies) or heartbeat round trips (idle).
inline uint64_t frames_of(const Counters& c, RunMode m) {
  return m == RunMode::kIdle ? c.hb_acked : c.received;
}

}  // namespace bsc::load
