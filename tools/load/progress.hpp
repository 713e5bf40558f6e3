// The once-a-second progress line on stderr (unless --quiet):
//   [  3.0s] connected=200/200 msgs/s=24691 p50=40us p99=120us errors=0
// Rates and percentiles cover the last interval only. With --failover-uri the traffic
// line also says how many nodes are on the failover hub (on_failover=N).
// Threads: main thread; reads the shards' atomics and histogram snapshots.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "histogram.hpp"
#include "options.hpp"

namespace bsc::load {

class Shard;

class Progress {
 public:
  enum class Stage { kConnecting, kTraffic };
  Progress(const Options& opt, const std::vector<std::unique_ptr<Shard>>& shards);
  void begin(uint64_t now_ns);
  void begin_traffic(uint64_t now_ns);
  void maybe_print(uint64_t now_ns, Stage stage);

 private:
  void take(uint64_t* frames, uint64_t* connect_ok, uint64_t* connected, uint64_t* errors,
            HistogramData* hist);

  const Options& opt_;
  const std::vector<std::unique_ptr<Shard>>& shards_;
  uint64_t start_ns_ = 0, next_ns_ = 0, last_ns_ = 0;
  uint64_t last_frames_ = 0, last_connect_ok_ = 0;
  HistogramData last_hist_, cur_hist_, tmp_;
};

}  // namespace bsc::load
