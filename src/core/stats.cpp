#include "core/stats.hpp"

namespace bsc {

std::string lifetime_totals(const std::vector<const WorkerStats*>& workers) {
  std::string line;
  for (const CounterInfo& c : kCounters) {
    uint64_t sum = 0;
    for (const WorkerStats* s : workers) sum += (s->*c.field).load(std::memory_order_relaxed);
    if (!sum) continue;
    if (!line.empty()) line += ' ';
    line += c.name;
    line += '=';
    line += std::to_string(sum);
  }
  return line.empty() ? "idle=1" : line;
}

}  // namespace bsc
