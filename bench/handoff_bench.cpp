// Cross-worker hand-off as the hub does it (core/batch.hpp, core/worker.cpp): a producer
// appends frames into 64 KiB batches, hands full batches over with one enqueue_bulk on the
// consumer's moodycamel inbox, the consumer walks the records and sends each block home on
// a returns queue. Reported per frame (items = frames), with a real second thread.
#include <benchmark/benchmark.h>
#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/batch.hpp"

namespace {

using bsc::Batch;
using bsc::RecordKind;

void BM_BatchHandoff(benchmark::State& state) {
  const size_t frame = size_t(state.range(0));
  constexpr size_t kPool = 64;
  moodycamel::ConcurrentQueue<Batch*> inbox, returns;
  std::vector<std::unique_ptr<Batch>> owned;
  std::vector<Batch*> free;
  for (size_t i = 0; i < kPool; ++i) {
    owned.push_back(std::make_unique_for_overwrite<Batch>());  // as the mailbox: pages untouched
    free.push_back(owned.back().get());
  }
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    moodycamel::ConsumerToken ct(inbox);
    Batch* got[16];
    uint64_t sum = 0, frames = 0;
    while (!stop.load(std::memory_order_acquire)) {
      size_t n = inbox.try_dequeue_bulk(ct, got, 16);
      for (size_t i = 0; i < n; ++i) {
        got[i]->for_each([&](const bsc::RecordHeader& h, const uint8_t* data) {
          sum += data[0] + h.slot;  // touch the frame as a delivery copy would
          ++frames;
        });
        returns.enqueue(got[i]);
      }
      if (n == 0) std::this_thread::yield();
    }
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(frames);
  });
  moodycamel::ProducerToken pt(inbox);
  std::vector<uint8_t> payload(frame, 0x5A);
  std::vector<Batch*> ready;
  Batch* open = nullptr;
  auto take = [&]() -> Batch* {
    while (free.empty()) {
      Batch* back[16];
      size_t n = returns.try_dequeue_bulk(back, 16);
      free.insert(free.end(), back, back + n);
    }
    Batch* b = free.back();
    free.pop_back();
    b->used = 0;
    return b;
  };
  // One "loop iteration" hands over what 64 frames filled: the hub's per-iteration batching.
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) {
      if (open && !open->fits(frame)) {
        ready.push_back(open);
        open = nullptr;
      }
      if (!open) open = take();
      std::memcpy(open->append(RecordKind::kUnicast, 1, 1, frame), payload.data(), frame);
    }
    if (open) {
      ready.push_back(open);
      open = nullptr;
    }
    inbox.enqueue_bulk(pt, ready.begin(), ready.size());
    ready.clear();
  }
  stop.store(true, std::memory_order_release);
  consumer.join();
  state.SetItemsProcessed(int64_t(state.iterations()) * 64);
}
BENCHMARK(BM_BatchHandoff)->Arg(100)->Arg(1400)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
