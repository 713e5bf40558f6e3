#include "histogram.hpp"

#include <bit>

namespace bsc::load {
namespace hist {

size_t index_of(uint64_t us) {
  if (us < kLinear) return size_t(us);
  int e = 63 - std::countl_zero(us);  // floor(log2(us)), >= 10 here
  if (e > kTopExponent) return kBuckets - 1;
  uint64_t sub = (us >> (e - kSubBits)) - (uint64_t(1) << kSubBits);  // 0..511
  return kLinear + size_t(e - 10) * (size_t(1) << kSubBits) + size_t(sub);
}

uint64_t lower_us(size_t i) {
  if (i < kLinear) return i;
  size_t k = i - kLinear;
  int e = 10 + int(k >> kSubBits);
  uint64_t sub = k & ((size_t(1) << kSubBits) - 1);
  return ((uint64_t(1) << kSubBits) + sub) << (e - kSubBits);
}

uint64_t width_us(size_t i) {
  if (i < kLinear) return 1;
  int e = 10 + int((i - kLinear) >> kSubBits);
  return uint64_t(1) << (e - kSubBits);
}

}  // namespace hist

void HistogramData::add(const HistogramData& o) {
  for (size_t i = 0; i < hist::kBuckets; ++i) counts[i] += o.counts[i];
  total += o.total;
  sum_ns += o.sum_ns;
  if (o.min_ns < min_ns) min_ns = o.min_ns;
  if (o.max_ns > max_ns) max_ns = o.max_ns;
}

HistogramData HistogramData::minus(const HistogramData& earlier) const {
  HistogramData d;
  for (size_t i = 0; i < hist::kBuckets; ++i)
    d.counts[i] = counts[i] >= earlier.counts[i] ? counts[i] - earlier.counts[i] : 0;
  d.total = total >= earlier.total ? total - earlier.total : 0;
  d.sum_ns = sum_ns - earlier.sum_ns;
  d.min_ns = min_ns;
  d.max_ns = max_ns;
  return d;
}

uint64_t HistogramData::percentile_ns(double q) const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;  // the bucket sum, robust against a torn snapshot
  if (n == 0) return 0;
  double want = q / 100.0 * double(n);
  uint64_t rank = want <= 1 ? 1 : uint64_t(want + 0.999999);
  if (rank > n) rank = n;
  uint64_t seen = 0;
  for (size_t i = 0; i < hist::kBuckets; ++i) {
    seen += counts[i];
    if (seen >= rank) {
      uint64_t ns = hist::lower_us(i) * 1000 + hist::width_us(i) * 500;
      return (max_ns && ns > max_ns) ? max_ns : ns;
    }
  }
  return max_ns;
}

Histogram::Histogram() : counts_(new std::atomic<uint64_t>[hist::kBuckets]) {
  for (size_t i = 0; i < hist::kBuckets; ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::snapshot(HistogramData* out) const {
  for (size_t i = 0; i < hist::kBuckets; ++i)
    out->counts[i] = counts_[i].load(std::memory_order_relaxed);
  out->total = total_.load(std::memory_order_relaxed);
  out->sum_ns = double(sum_ns_.load(std::memory_order_relaxed));
  out->max_ns = max_ns_.load(std::memory_order_relaxed);
  out->min_ns = min_ns_.load(std::memory_order_relaxed);
}

}  // namespace bsc::load
