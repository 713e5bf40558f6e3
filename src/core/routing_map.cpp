#include "core/routing_map.hpp"

#include <cstring>

namespace bsc {

RoutingMap::RoutingMap(Vmac hub_vmac, size_t max_connections) : hub_vmac_(hub_vmac) {
  size_t cap = 64;
  while (cap < 4 * max_connections) cap <<= 1;  // load factor <= 1/4 keeps chains short
  mask_ = cap - 1;
  slots_ = std::make_unique<Slot[]>(cap);
}

size_t RoutingMap::home(uint64_t vmac_key) const {
  // VMACs are mostly random, but configured ones can be sequential: mix the bits.
  uint64_t h = vmac_key * 0x9E3779B97F4A7C15ULL;
  return size_t(h >> 20) & mask_;
}

void RoutingMap::store_slot(Slot& s, uint64_t key, uint64_t value) {
  uint64_t seq = s.seq.load(std::memory_order_relaxed);
  s.seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.value.store(value, std::memory_order_relaxed);
  s.key.store(key, std::memory_order_relaxed);
  s.seq.store(seq + 2, std::memory_order_release);
}

std::optional<ConnRef> RoutingMap::lookup(const Vmac& vmac) const noexcept {
  uint64_t want = vmac.key() | kLive;
  for (size_t i = home(vmac.key()), n = 0; n <= mask_; i = (i + 1) & mask_, ++n) {
    const Slot& s = slots_[i];
    for (;;) {
      uint64_t seq = s.seq.load(std::memory_order_acquire);
      if (seq & 1) continue;  // a writer is in this slot right now
      uint64_t k = s.key.load(std::memory_order_relaxed);
      uint64_t v = s.value.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (s.seq.load(std::memory_order_relaxed) != seq) continue;  // changed: read again
      if (k == 0) return std::nullopt;
      if (k != want) break;  // another VMAC or a tombstone: keep probing
      return unpack(v);
    }
  }
  return std::nullopt;
}

size_t RoutingMap::find_locked(uint64_t vmac_key, size_t* free) const {
  *free = SIZE_MAX;
  for (size_t i = home(vmac_key), n = 0; n <= mask_; i = (i + 1) & mask_, ++n) {
    uint64_t k = slots_[i].key.load(std::memory_order_relaxed);
    if (k == 0) {
      if (*free == SIZE_MAX) *free = i;
      return SIZE_MAX;
    }
    if ((k & kVmacMask) == vmac_key) return i;
    if ((k & kDead) && *free == SIZE_MAX) *free = i;
  }
  return SIZE_MAX;
}

bool RoutingMap::put_locked(uint64_t vmac_key, ConnRef ref) {
  size_t free;
  size_t at = find_locked(vmac_key, &free);
  if (at == SIZE_MAX) at = free;
  if (at == SIZE_MAX) return false;
  store_slot(slots_[at], vmac_key | kLive, pack(ref));
  ++live_;
  return true;
}

void RoutingMap::erase_locked(size_t i) {
  Slot& s = slots_[i];
  store_slot(s, (s.key.load(std::memory_order_relaxed) & kVmacMask) | kDead,
             s.value.load(std::memory_order_relaxed));
  --live_;
  // Invariant 3: tombstones directly before an EMPTY slot end no chain early; clear them.
  while (slots_[(i + 1) & mask_].key.load(std::memory_order_relaxed) == 0 &&
         (slots_[i].key.load(std::memory_order_relaxed) & kDead)) {
    store_slot(slots_[i], 0, 0);
    i = (i - 1) & mask_;
  }
}

size_t RoutingMap::UuidHash::operator()(const Uuid& u) const noexcept {
  uint64_t a, b;
  std::memcpy(&a, u.bytes.data(), 8);
  std::memcpy(&b, u.bytes.data() + 8, 8);
  return size_t(a * 0x9E3779B97F4A7C15ULL ^ b);
}

RoutingMap::Claim RoutingMap::claim(const Vmac& vmac, const Uuid& uuid, ConnRef ref,
                                    ConnRef* replaced) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t key = vmac.key();
  size_t free;
  size_t at = find_locked(key, &free);
  bool taken = at != SIZE_MAX && (slots_[at].key.load(std::memory_order_relaxed) & kLive);
  auto old = by_uuid_.find(uuid);
  if (old != by_uuid_.end()) {
    // The rebooted node may also have changed VMAC into one that another node holds.
    bool own = taken && unpack(slots_[at].value.load(std::memory_order_relaxed)) ==
                            old->second.ref;
    if (vmac == hub_vmac_ || (taken && !own)) return Claim::kDuplicate;
    *replaced = old->second.ref;
    if (own) {
      store_slot(slots_[at], key | kLive, pack(ref));
    } else {
      size_t free_old;
      size_t old_at = find_locked(old->second.vmac.key(), &free_old);
      if (old_at != SIZE_MAX) erase_locked(old_at);
      if (!put_locked(key, ref)) {
        by_uuid_.erase(old);
        return Claim::kFull;
      }
    }
    old->second = Owner{ref, vmac};
    return Claim::kReplaced;
  }
  if (vmac == hub_vmac_ || taken) return Claim::kDuplicate;
  if (!put_locked(key, ref)) return Claim::kFull;
  by_uuid_[uuid] = Owner{ref, vmac};
  return Claim::kAccepted;
}

void RoutingMap::add_hub_entry(ConnRef ref) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t free;
  size_t at = find_locked(hub_vmac_.key(), &free);
  if (at == SIZE_MAX) at = free;  // the table has room: capacity is at least 64
  store_slot(slots_[at], hub_vmac_.key() | kLive, pack(ref));
}

void RoutingMap::release(const Vmac& vmac, const Uuid& uuid, ConnRef ref) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t free;
  size_t at = find_locked(vmac.key(), &free);
  if (at != SIZE_MAX && (slots_[at].key.load(std::memory_order_relaxed) & kLive) &&
      unpack(slots_[at].value.load(std::memory_order_relaxed)) == ref)
    erase_locked(at);
  auto u = by_uuid_.find(uuid);
  if (u != by_uuid_.end() && u->second.ref == ref) by_uuid_.erase(u);
}

size_t RoutingMap::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

}  // namespace bsc
