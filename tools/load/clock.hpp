// The one clock of the load tool: steady (monotonic) nanoseconds. Every timestamp in a
// payload, every latency and every deadline uses it, so values compare across threads.
#pragma once
#include <chrono>
#include <cstdint>

namespace bsc::load {

inline uint64_t now_ns() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

constexpr uint64_t kNsPerMs = 1'000'000;
constexpr uint64_t kNsPerSec = 1'000'000'000;

}  // namespace bsc::load
