#include "core/routing_table.hpp"

#include <cstring>

namespace bsc {

size_t RoutingTable::UuidHash::operator()(const Uuid& u) const noexcept {
  uint64_t a, b;
  std::memcpy(&a, u.bytes.data(), 8);
  std::memcpy(&b, u.bytes.data() + 8, 8);
  return size_t(a * 0x9E3779B97F4A7C15ULL ^ b);
}

RoutingTable::Claim RoutingTable::claim(const Vmac& vmac, const Uuid& uuid, ConnRef ref,
                                        ConnRef* replaced) {
  std::lock_guard<std::mutex> lock(mu_);
  auto old = by_uuid_.find(uuid);
  auto taken = by_vmac_.find(vmac.key());
  if (old != by_uuid_.end()) {
    // The rebooted node may also have changed VMAC into one that another node holds.
    if (vmac == hub_vmac_ || (taken != by_vmac_.end() && !(taken->second == old->second.ref)))
      return Claim::kDuplicate;
    *replaced = old->second.ref;
    by_vmac_.erase(old->second.vmac.key());
    old->second = Entry{ref, vmac};
    by_vmac_[vmac.key()] = ref;
    return Claim::kReplaced;
  }
  if (vmac == hub_vmac_ || taken != by_vmac_.end()) return Claim::kDuplicate;
  by_vmac_[vmac.key()] = ref;
  by_uuid_[uuid] = Entry{ref, vmac};
  return Claim::kAccepted;
}

std::optional<ConnRef> RoutingTable::lookup(const Vmac& vmac) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_vmac_.find(vmac.key());
  if (it == by_vmac_.end()) return std::nullopt;
  return it->second;
}

void RoutingTable::release(const Vmac& vmac, const Uuid& uuid, ConnRef ref) {
  std::lock_guard<std::mutex> lock(mu_);
  auto v = by_vmac_.find(vmac.key());
  if (v != by_vmac_.end() && v->second == ref) by_vmac_.erase(v);
  auto u = by_uuid_.find(uuid);
  if (u != by_uuid_.end() && u->second.ref == ref) by_uuid_.erase(u);
}

size_t RoutingTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_vmac_.size();
}

}  // namespace bsc
