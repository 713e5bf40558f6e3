// Routing map: lookups (the per-unicast cost), alone and while other threads look up
// concurrently, and claim+release (the per-connect cost).
#include <benchmark/benchmark.h>

#include <vector>

#include "core/routing_map.hpp"

namespace {

const bsc::Vmac kHub{{0x92, 0x7B, 0xF7, 0x1A, 0x96, 0xA2}};
constexpr size_t kNodes = 10000;

bsc::Vmac node_vmac(uint64_t i) { return bsc::Vmac::from_key(0x020000000000ULL + i * 7919); }
bsc::Uuid node_uuid(uint64_t i) {
  bsc::Uuid u;
  for (int b = 0; b < 8; ++b) u.bytes[size_t(b)] = uint8_t(i >> (8 * b));
  return u;
}

bsc::RoutingMap& filled_map() {
  static bsc::RoutingMap* map = [] {
    auto* m = new bsc::RoutingMap(kHub, kNodes);
    bsc::ConnRef replaced;
    for (uint64_t i = 0; i < kNodes; ++i)
      m->claim(node_vmac(i), node_uuid(i), {uint32_t(i % 2), uint32_t(i), 1}, &replaced);
    return m;
  }();
  return *map;
}

void BM_Lookup(benchmark::State& state) {
  auto& map = filled_map();
  uint64_t i = uint64_t(state.thread_index()) * 977;
  for (auto _ : state) {
    auto r = map.lookup(node_vmac(i++ % kNodes));
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Lookup)->Threads(1)->Threads(2);

void BM_LookupMiss(benchmark::State& state) {
  auto& map = filled_map();
  uint64_t i = 0;
  for (auto _ : state) {
    auto r = map.lookup(bsc::Vmac::from_key(0x120000000000ULL + i++));
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_LookupMiss);

void BM_ClaimRelease(benchmark::State& state) {
  bsc::RoutingMap map(kHub, kNodes);
  bsc::ConnRef replaced;
  uint64_t i = 0;
  for (auto _ : state) {
    bsc::Vmac v = node_vmac(i);
    bsc::Uuid u = node_uuid(i);
    map.claim(v, u, {0, uint32_t(i), 1}, &replaced);
    map.release(v, u, {0, uint32_t(i), 1});
    ++i;
  }
}
BENCHMARK(BM_ClaimRelease);

}  // namespace

BENCHMARK_MAIN();
