// /metrics against core/stats.hpp's counter list: a counter added to the list must show up
// in the exposition (and be documented: tests/integration/test_ops.py checks
// docs/operations.md against a live scrape).
#include <doctest/doctest.h>

#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/stats.hpp"
#include "ops/ops_view.hpp"

namespace {

// The sample line for counter `c` of worker `worker` holding `v`.
std::string sample_line(const bsc::CounterInfo& c, size_t worker, uint64_t v) {
  std::string labels = "worker=\"" + std::to_string(worker) + "\"";
  for (const bsc::CounterFamily& f : bsc::kCounterFamilies)
    if (std::string(f.metric) == c.metric)
      labels += std::string(",") + f.label + "=\"" + c.label + "\"";
  char num[40];
  if (c.as == bsc::CounterExport::us_as_seconds)
    std::snprintf(num, sizeof num, "%.6f", double(v) / 1e6);
  else
    std::snprintf(num, sizeof num, "%" PRIu64, v);
  return std::string(c.metric) + "{" + labels + "} " + num + "\n";
}

}  // namespace

TEST_CASE("every counter of core/stats.hpp is in /metrics, per worker, with its value") {
  bsc::WorkerStats a, b;
  uint64_t n = 0;
  for (const bsc::CounterInfo& c : bsc::kCounters) {
    ++n;
    (a.*c.field).store(n);
    (b.*c.field).store(1000000 * n);
  }
  std::string text = bsc::render_counter_metrics({&a, &b});
  n = 0;
  for (const bsc::CounterInfo& c : bsc::kCounters) {
    ++n;
    CAPTURE(c.name);
    std::string typed = std::string("# TYPE ") + c.metric + " counter\n";
    CHECK(text.find(typed) != std::string::npos);
    // by_function counters are the sums of their per-function family: no sample of their own.
    if (c.as == bsc::CounterExport::by_function) continue;
    CHECK(text.find(sample_line(c, 0, n)) != std::string::npos);
    CHECK(text.find(sample_line(c, 1, 1000000 * n)) != std::string::npos);
  }
}

TEST_CASE("each /metrics counter family is declared once") {
  bsc::WorkerStats a;
  std::string text = bsc::render_counter_metrics({&a});
  std::map<std::string, int> typed;
  size_t at = 0;
  while ((at = text.find("# TYPE ", at)) != std::string::npos) {
    at += 7;
    ++typed[text.substr(at, text.find(' ', at) - at)];
  }
  CHECK(typed.size() > 10);
  for (const auto& [family, count] : typed) {
    CAPTURE(family);
    CHECK(count == 1);
  }
}
