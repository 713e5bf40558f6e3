// WorkerStats and its one counter list (BSC_STATS_MAP): the event=stopped line is built
// from it; /metrics is checked against it in tests/unit/ops/metrics_test.cpp.
#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <string>

#include "core/stats.hpp"

TEST_CASE("handshake latencies land in the first bucket that holds them") {
  bsc::WorkerStats s;
  bsc::observe_handshake(s, 500);        // 0.5 ms -> le 1 ms
  bsc::observe_handshake(s, 1000);       // exactly 1 ms -> le 1 ms (bounds are inclusive)
  bsc::observe_handshake(s, 1001);       // -> le 2.5 ms
  bsc::observe_handshake(s, 60000000);   // 60 s -> +Inf
  CHECK(s.handshake_buckets[0].load() == 2);
  CHECK(s.handshake_buckets[1].load() == 1);
  CHECK(s.handshake_buckets[bsc::kHandshakeBuckets].load() == 1);
  CHECK(s.handshake_sum_us.load() == 500 + 1000 + 1001 + 60000000);
}

TEST_CASE("outgoing frames are counted per BVLC function, unknown codes in the last slot") {
  bsc::WorkerStats s;
  bsc::count_out(s, 0x01, 100);
  bsc::count_out(s, 0x01, 20);
  bsc::count_out(s, 0x0C, 7);
  bsc::count_out(s, 0x42, 9);
  CHECK(s.fn_frames_out[1].load() == 2);
  CHECK(s.fn_bytes_out[1].load() == 120);
  CHECK(s.fn_frames_out[0x0C].load() == 1);
  CHECK(s.fn_frames_out[bsc::kFunctionSlots - 1].load() == 1);
  CHECK(s.fn_bytes_out[bsc::kFunctionSlots - 1].load() == 9);
}

TEST_CASE("every counter is in the event=stopped line, summed over workers, in list order") {
  bsc::WorkerStats a, b;
  const bsc::WorkerStats* both[] = {&a, &b};
  CHECK(bsc::lifetime_totals({both[0], both[1]}) == "idle=1");
  std::string want;
  uint64_t n = 0;
  for (const bsc::CounterInfo& c : bsc::kCounters) {
    ++n;
    (a.*c.field).store(n);
    (b.*c.field).store(1000 * n);
    if (!want.empty()) want += ' ';
    want += std::string(c.name) + "=" + std::to_string(1001 * n);
  }
  CHECK(bsc::lifetime_totals({both[0], both[1]}) == want);
}

TEST_CASE("the counter list: unique names; each exported counter names its family") {
  std::set<std::string> names;
  for (const bsc::CounterInfo& c : bsc::kCounters) {
    CAPTURE(c.name);
    CHECK(names.insert(c.name).second);
    CHECK(std::strncmp(c.metric, "bschub_", 7) == 0);
    CHECK(*c.help);
    CHECK(bool(*c.report) == bool(*c.reason));  // a report line always says why
    bool shared = false;
    for (const bsc::CounterFamily& f : bsc::kCounterFamilies)
      shared = shared || std::strcmp(f.metric, c.metric) == 0;
    // A shared family tells its counters apart by the label; a family of its own has none.
    CHECK(shared == bool(*c.label));
  }
}
