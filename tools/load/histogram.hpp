// Latency histogram with log-linear buckets (HdrHistogram-like): 1 us steps up to 1 ms,
// then 512 steps per doubling (0.2 % resolution) up to ~9.5 hours; larger values clamp.
// Recording never allocates.
//
// Threads: Histogram has one writer (its shard's loop thread); any thread may take a
// snapshot() at any time (relaxed atomics: a snapshot may miss the last few samples, which
// only matters for the 1 s progress lines). HistogramData is a plain copy for merging and
// percentiles.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace bsc::load {

namespace hist {
constexpr size_t kLinear = 1024;  // buckets 0..1023: one per microsecond
constexpr int kSubBits = 9;       // 512 buckets per doubling above kLinear us
constexpr int kTopExponent = 34;  // last doubling: [2^34, 2^35) us
constexpr size_t kBuckets = kLinear + size_t(kTopExponent - 10 + 1) * (size_t(1) << kSubBits);
size_t index_of(uint64_t us);
// Smallest microsecond value in bucket i, and the bucket's width in microseconds.
uint64_t lower_us(size_t i);
uint64_t width_us(size_t i);
}  // namespace hist

struct HistogramData {
  std::vector<uint64_t> counts = std::vector<uint64_t>(hist::kBuckets, 0);
  uint64_t total = 0;
  uint64_t min_ns = UINT64_MAX;
  uint64_t max_ns = 0;
  double sum_ns = 0;

  void add(const HistogramData& other);
  // This snapshot minus an earlier one of the same histogram (counts only; min/max are
  // not recoverable for an interval and are left as in *this).
  HistogramData minus(const HistogramData& earlier) const;
  // q in [0, 100]. Returns nanoseconds: the middle of the bucket that holds the q-th
  // percentile sample, never above max_ns. 0 when empty.
  uint64_t percentile_ns(double q) const;
  double mean_ns() const { return total ? sum_ns / double(total) : 0; }
};

class Histogram {
 public:
  Histogram();
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // [owner] One sample in nanoseconds.
  void record(uint64_t ns) {
    size_t i = hist::index_of(ns / 1000);
    inc(counts_[i], 1);
    inc(total_, 1);
    sum_ns_.store(sum_ns_.load(std::memory_order_relaxed) + ns, std::memory_order_relaxed);
    if (ns > max_ns_.load(std::memory_order_relaxed)) max_ns_.store(ns, std::memory_order_relaxed);
    if (ns < min_ns_.load(std::memory_order_relaxed)) min_ns_.store(ns, std::memory_order_relaxed);
  }
  // [any thread]
  void snapshot(HistogramData* out) const;

 private:
  static void inc(std::atomic<uint64_t>& a, uint64_t n) {
    a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> max_ns_{0};
  std::atomic<uint64_t> min_ns_{UINT64_MAX};
};

}  // namespace bsc::load
