// RoutingMap: VMAC -> ConnRef for every CONNECTED node, read lock-free by every worker on
// each unicast frame; plus the UUID index that lets a rebooted node replace its own stale
// connection (Std AB.6.2.3).
//
// Threads: lookup() is [any thread] and wait-free in the common case (a few atomic loads).
// claim()/release() are [any thread] and serialised by one mutex that also guards the UUID
// index: they run only on connect/disconnect (bounded by TLS handshakes, ~300/s per core), so
// the mutex costs nothing measurable, and it makes the duplicate-VMAC check and the
// registration one atomic step across workers: of two nodes racing for a VMAC on two
// workers exactly one wins.
//
// Table: fixed capacity (a power of two >= 4x max connections), open addressing with linear
// probing, two atomic words per slot:
//   key   = EMPTY (0), or VMAC | kLive, or VMAC | kDead (a tombstone that remembers its VMAC)
//   value = packed ConnRef {worker:8, slot:24, generation:32}
// Invariants:
//   1. A VMAC occupies at most one slot (live or dead), on its probe chain before any EMPTY.
//   2. Each slot has a sequence number the writer makes odd while it changes the slot and
//      even again after (a seqlock); readers retry when it moved or was odd, so a reader
//      never pairs a key with a value written for another key, even across erase/reuse.
//   3. A tombstone directly followed by EMPTY is turned EMPTY (chains stay short under churn).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "bsc/vmac.hpp"
#include "core/conn_ref.hpp"

namespace bsc {

class RoutingMap {
 public:
  RoutingMap(Vmac hub_vmac, size_t max_connections);

  enum class Claim { kAccepted, kReplaced, kDuplicate, kFull };
  // Connect-Request check and registration in one step. The UUID is checked first: a known
  // UUID always wins and its old connection is returned in *replaced. Otherwise a VMAC held
  // by another node, or the hub's own VMAC, is a duplicate.
  Claim claim(const Vmac& vmac, const Uuid& uuid, ConnRef ref, ConnRef* replaced);
  std::optional<ConnRef> lookup(const Vmac& vmac) const noexcept;
  // [startup] Routes the hub's own VMAC to `ref` (the device, core/conn_ref.hpp kDeviceRef).
  // Claims of that VMAC stay duplicates, release() never removes it, and size() (the
  // connected nodes) does not count it.
  void add_hub_entry(ConnRef ref);
  // Removes the entries only if they still belong to `ref` (a replaced connection must not
  // remove its successor).
  void release(const Vmac& vmac, const Uuid& uuid, ConnRef ref);
  size_t size() const;
  size_t capacity() const { return mask_ + 1; }

  static_assert(kMaxWorkers - 1 <= 0xFF, "pack() keeps 8 bits of the worker id");
  // Exposed for tests.
  static uint64_t pack(ConnRef r) {
    return (uint64_t(r.worker & 0xFF) << 56) | (uint64_t(r.slot & 0xFFFFFF) << 32) |
           r.generation;
  }
  static ConnRef unpack(uint64_t v) {
    return ConnRef{uint32_t(v >> 56), uint32_t((v >> 32) & 0xFFFFFF), uint32_t(v)};
  }

 private:
  static constexpr uint64_t kLive = 1ULL << 63;
  static constexpr uint64_t kDead = 1ULL << 62;
  static constexpr uint64_t kVmacMask = (1ULL << 48) - 1;
  struct Slot {
    std::atomic<uint64_t> seq{0};
    std::atomic<uint64_t> key{0};
    std::atomic<uint64_t> value{0};
  };
  // REQUIRES: mu_ held. Writes one slot under its seqlock.
  static void store_slot(Slot& s, uint64_t key, uint64_t value);
  size_t home(uint64_t vmac_key) const;
  // REQUIRES: mu_ held. Index of vmac's slot (live or dead), or SIZE_MAX; *free gets the
  // first reusable slot (dead or EMPTY) on the chain.
  size_t find_locked(uint64_t vmac_key, size_t* free) const;
  bool put_locked(uint64_t vmac_key, ConnRef ref);
  void erase_locked(size_t index);

  struct UuidHash {
    size_t operator()(const Uuid& u) const noexcept;
  };
  struct Owner {
    ConnRef ref;
    Vmac vmac;
  };
  const Vmac hub_vmac_;
  size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  mutable std::mutex mu_;
  size_t live_ = 0;                                   // GUARDED_BY(mu_)
  std::unordered_map<Uuid, Owner, UuidHash> by_uuid_;  // GUARDED_BY(mu_)
};

}  // namespace bsc
