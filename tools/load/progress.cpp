#include "progress.hpp"

#include <cstdio>
#include <string>

#include "clock.hpp"
#include "format.hpp"
#include "shard.hpp"

namespace bsc::load {

Progress::Progress(const Options& opt, const std::vector<std::unique_ptr<Shard>>& shards)
    : opt_(opt), shards_(shards) {}

void Progress::take(uint64_t* frames, uint64_t* connect_ok, uint64_t* connected, uint64_t* errors,
                    HistogramData* hist) {
  Counters total;
  *connected = 0;
  *hist = HistogramData();
  for (const auto& s : shards_) {
    Counters c;
    s->stats().read(&c);
    total.add(c);
    *connected += s->stats().connected.load(std::memory_order_relaxed);
    if (hist) {
      s->stats().latency.snapshot(&tmp_);
      hist->add(tmp_);
    }
  }
  *frames = frames_of(total, opt_.mode);
  *connect_ok = total.connect_ok;
  *errors = total.errors();
}

void Progress::begin(uint64_t now_ns) {
  start_ns_ = last_ns_ = now_ns;
  next_ns_ = now_ns + kNsPerSec;
}

void Progress::begin_traffic(uint64_t now_ns) {
  uint64_t connected, errors;
  take(&last_frames_, &last_connect_ok_, &connected, &errors, &last_hist_);
  last_ns_ = now_ns;
  next_ns_ = now_ns + kNsPerSec;
}

void Progress::maybe_print(uint64_t now_ns, Stage stage) {
  if (opt_.quiet || now_ns < next_ns_) return;
  next_ns_ += kNsPerSec;
  if (next_ns_ <= now_ns) next_ns_ = now_ns + kNsPerSec;
  uint64_t frames, ok, connected, errors;
  take(&frames, &ok, &connected, &errors, &cur_hist_);
  double dt = double(now_ns - last_ns_) / 1e9;
  double elapsed = double(now_ns - start_ns_) / 1e9;
  if (stage == Stage::kConnecting) {
    std::fprintf(stderr, "[%6.1fs] connecting: connected=%llu/%u handshakes/s=%.0f errors=%llu\n",
                 elapsed, (unsigned long long)connected, opt_.nodes,
                 dt > 0 ? double(ok - last_connect_ok_) / dt : 0.0, (unsigned long long)errors);
  } else {
    HistogramData d = cur_hist_.minus(last_hist_);
    std::string failover;
    if (opt_.failover()) {
      uint64_t on_failover = 0;
      for (const auto& s : shards_)
        on_failover += s->stats().connected_failover.load(std::memory_order_relaxed);
      failover = " on_failover=" + std::to_string(on_failover);
    }
    std::fprintf(stderr,
                 "[%6.1fs] connected=%llu/%u%s msgs/s=%.0f p50=%s p99=%s errors=%llu\n",
                 elapsed, (unsigned long long)connected, opt_.nodes, failover.c_str(),
                 dt > 0 ? double(frames - last_frames_) / dt : 0.0,
                 fmt_ns(d.percentile_ns(50)).c_str(), fmt_ns(d.percentile_ns(99)).c_str(),
                 (unsigned long long)errors);
  }
  last_ns_ = now_ns;
  last_frames_ = frames;
  last_connect_ok_ = ok;
  std::swap(last_hist_, cur_hist_);
}

}  // namespace bsc::load
