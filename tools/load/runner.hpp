// Runner: builds the shards (one loop thread each, pairs kept on one thread), drives the
// run's phases from the main thread (connect -> traffic -> drain -> finish), prints the
// progress line once a second, stops early on SIGINT/SIGTERM, and collects the totals.
// Threads: run() is called once from main(); it starts and joins every shard thread.
#pragma once
#include <cstdint>
#include <string>

#include "histogram.hpp"
#include "options.hpp"
#include "stats.hpp"

namespace bsc::load {

struct RunResult {
  Counters totals;
  HistogramData latency;          // the mode's samples
  HistogramData connect_latency;  // TCP connect start -> Connect-Accept
  uint32_t threads = 0;
  double connect_phase_s = 0;   // connect start -> every node connected or failed
  double all_connected_s = 0;   // connect start -> last Connect-Accept
  double traffic_s = 0;         // traffic start -> stop sending
  uint64_t frames_at_stop = 0;  // frames received when sending stopped
  uint64_t connected_at_start = 0;
  bool traffic_ran = false;
  bool interrupted = false;
  bool drained = true;  // in-flight messages all arrived within the drain time
  // Failover (--failover-uri).
  uint64_t on_primary_end = 0;   // nodes connected to the primary when sending stopped
  uint64_t on_failover_end = 0;  // ... to the failover hub
  double failover_all_s = 0;     // first loss of the primary -> last failover Connect-Accept
  HistogramData failover_latency;  // per node: its loss of the primary -> failover accept
};

// Runs the whole test. Returns -1 on success (result filled), else an exit code (2) after
// printing one clear line (certificates unreadable, not enough file descriptors).
int run(const Options& opt, RunResult* result);

}  // namespace bsc::load
