// DropReporter: the rate-limited warnings for floods and drops. Per-frame drops and
// per-connection refusals are only counted on the hot path; every interval this sums the
// workers' counters and logs one line per reason that grew, so a flood costs at most a few
// log lines per interval however fast it runs.
// Threads: check() on the main thread (counters are relaxed atomics).
#pragma once
#include <cstdint>
#include <vector>

namespace bsc {

class Worker;

class DropReporter {
 public:
  static constexpr double kIntervalSeconds = 10;
  // Logs one line (event=messages_dropped, connections_refused, accepts_paused: the
  // `report` column of core/stats.hpp's counter list) per counter that grew since the last
  // call.
  void check(const std::vector<Worker*>& workers);

 private:
  std::vector<uint64_t> last_;
};

}  // namespace bsc
