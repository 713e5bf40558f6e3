// Batch: how frames cross workers. During one loop iteration a worker appends every frame
// for connections of worker T into its open batch for T (one contiguous 64 KiB block of
// records); the drain pass hands all of them to T's inbox in one enqueue_bulk and wakes T
// once. T walks the records, copies each frame into its target's output, and sends the block
// home to the producer's pool (its `returns` queue). No per-message malloc, no per-message
// atomic: the costs are per batch.
//
// A broadcast is one record per remote worker (not per connection): the rewritten frame is
// copied once into each remote worker's batch and fanned out there. We chose a copy per
// worker over a reference-counted shared frame: for 2..16 workers copying ~100 B is cheaper
// than an atomic refcount per worker plus a cross-thread free, and it keeps one ownership rule
// (a batch belongs to its producer's pool, whoever holds it).
//
// Threads: a Batch is owned by exactly one thread at a time: the producer while filling,
// the consumer while draining; ownership moves through the moodycamel queues.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bsc {

constexpr size_t kBatchBytes = 64 * 1024;

enum class RecordKind : uint8_t {
  kUnicast = 1,    // frame for one connection
  kBroadcast = 2,  // frame for every CONNECTED node of the consuming worker
  kReplaced = 3,   // no frame: the connection's UUID reconnected elsewhere; disconnect it
};

struct RecordHeader {
  uint32_t length;      // frame octets that follow the header
  uint32_t slot;        // unicast target (ConnRef on the consuming worker)
  uint32_t generation;
  RecordKind kind;
  uint8_t pad[3];
};
static_assert(sizeof(RecordHeader) == 16);

struct Batch {
  uint32_t home = 0;  // the worker whose pool this block returns to
  size_t used = 0;
  alignas(8) uint8_t data[kBatchBytes];

  static constexpr size_t record_size(size_t len) {
    return (sizeof(RecordHeader) + len + 7) & ~size_t(7);
  }
  bool fits(size_t len) const { return used + record_size(len) <= kBatchBytes; }
  // REQUIRES: fits(len). Returns where the frame's `len` octets go.
  uint8_t* append(RecordKind kind, uint32_t slot, uint32_t generation, size_t len) {
    RecordHeader h{uint32_t(len), slot, generation, kind, {0, 0, 0}};
    std::memcpy(data + used, &h, sizeof h);
    uint8_t* out = data + used + sizeof h;
    used += record_size(len);
    return out;
  }
  template <typename F>
  void for_each(F&& f) const {
    for (size_t at = 0; at < used;) {
      RecordHeader h;
      std::memcpy(&h, data + at, sizeof h);
      f(h, data + at + sizeof h);
      at += record_size(h.length);
    }
  }
};

}  // namespace bsc
