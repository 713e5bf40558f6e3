#include "ops/drop_reporter.hpp"

#include "core/stats.hpp"
#include "core/worker.hpp"
#include "util/log.hpp"

namespace bsc {

// The counters watched are those of core/stats.hpp's list that name a report event.
void DropReporter::check(const std::vector<Worker*>& workers) {
  last_.resize(std::size(kCounters), 0);
  for (size_t i = 0; i < std::size(kCounters); ++i) {
    const CounterInfo& c = kCounters[i];
    if (!*c.report) continue;
    uint64_t total = 0;
    for (Worker* w : workers) total += (w->stats_view().*c.field).load(std::memory_order_relaxed);
    if (total > last_[i]) {
      LOG_WARN(c.report, "reason=%s count=%llu interval_s=%g total=%llu", c.reason,
               (unsigned long long)(total - last_[i]), kIntervalSeconds,
               (unsigned long long)total);
    }
    last_[i] = total;
  }
}

}  // namespace bsc
