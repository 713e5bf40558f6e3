// RoutingTable: VMAC -> ConnRef for every CONNECTED node, plus the UUID index that lets a
// rebooted node replace its own stale connection (Std AB.6.2.3).
// Threads: [any thread]. One mutex guards both maps; claim/release happen only on
// connect/disconnect, lookups once per unicast frame.
#pragma once
#include <cstddef>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "bsc/vmac.hpp"
#include "core/conn_ref.hpp"

namespace bsc {

class RoutingTable {
 public:
  explicit RoutingTable(Vmac hub_vmac) : hub_vmac_(hub_vmac) {}

  enum class Claim { kAccepted, kReplaced, kDuplicate };
  // Connect-Request check and registration in one step. The UUID is checked first: a known
  // UUID always wins and its old connection is returned in *replaced (its VMAC entry is
  // dropped). Otherwise a VMAC held by another node, or the hub's own VMAC, is a duplicate.
  Claim claim(const Vmac& vmac, const Uuid& uuid, ConnRef ref, ConnRef* replaced);
  std::optional<ConnRef> lookup(const Vmac& vmac) const;
  // Removes the entries only if they still belong to `ref` (a replaced connection must not
  // remove its successor).
  void release(const Vmac& vmac, const Uuid& uuid, ConnRef ref);
  size_t size() const;

 private:
  struct UuidHash {
    size_t operator()(const Uuid& u) const noexcept;
  };
  struct Entry {
    ConnRef ref;
    Vmac vmac;
  };
  const Vmac hub_vmac_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, ConnRef> by_vmac_;
  std::unordered_map<Uuid, Entry, UuidHash> by_uuid_;
};

}  // namespace bsc
