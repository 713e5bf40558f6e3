// Codec hot path: decode + validate one BVLC-SC message, and the hub rewrite.
#include <benchmark/benchmark.h>

#include <vector>

#include "bsc/bvlc.hpp"

namespace {

std::vector<uint8_t> unicast(size_t npdu_size) {
  bsc::Vmac dest{{0x12, 0xF0, 0xE1, 0xD2, 0xC3, 0xB4}};
  std::vector<uint8_t> npdu(npdu_size, 0x55);
  npdu[0] = 0x01;
  std::vector<uint8_t> out;
  bsc::encode_message(out, bsc::Function::kEncapsulatedNpdu, 0x1234, nullptr, &dest, {}, {},
                      npdu);
  return out;
}

void BM_Decode(benchmark::State& state) {
  auto msg = unicast(size_t(state.range(0)));
  for (auto _ : state) {
    auto r = bsc::decode(msg);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(msg.size()));
}
BENCHMARK(BM_Decode)->Arg(100)->Arg(1400);

void BM_DecodeAndRewriteUnicast(benchmark::State& state) {
  auto msg = unicast(size_t(state.range(0)));
  bsc::Vmac sender{{0x02, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5}};
  std::vector<uint8_t> out(msg.size() + 16);
  for (auto _ : state) {
    auto r = bsc::decode(msg);
    size_t n = bsc::rewrite_for_forward(r.msg, msg, sender, false, out.data());
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(msg.size()));
}
BENCHMARK(BM_DecodeAndRewriteUnicast)->Arg(100)->Arg(1400);

void BM_EncodeNak(benchmark::State& state) {
  std::vector<uint8_t> out;
  for (auto _ : state) {
    out.clear();
    bsc::encode_nak(out, 7, nullptr, 0x06, 0, bsc::ErrorCode::kNodeDuplicateVmac, "");
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_EncodeNak);

}  // namespace

BENCHMARK_MAIN();
