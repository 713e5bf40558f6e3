// What every shard shares for one run: options, TLS configuration, node identities and the
// few values the main thread publishes between phases.
// Threads: built by the runner before the shard threads start; afterwards read-only except
// the atomics (written by the main thread, read by shards).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "broadcast_shared.hpp"
#include "bsc/vmac.hpp"
#include "net/tls_context.hpp"
#include "options.hpp"
#include "tickets.hpp"

namespace bsc::load {

class Shard;

struct RunContext {
  const Options& opt;
  const TlsContext* tls = nullptr;  // nullptr for ws://
  std::vector<Vmac> vmacs;          // by global node index
  std::vector<Uuid> uuids;
  std::unordered_map<uint64_t, uint32_t> vmac_index;  // Vmac::key() -> global index
  std::vector<Shard*> shards;
  std::vector<uint32_t> shard_of;  // global index -> shard id

  std::atomic<uint64_t> t0_ns{0};               // traffic start (steady ns)
  std::atomic<uint64_t> connected_at_start{0};  // nodes connected when traffic started
  std::unique_ptr<BroadcastShared> broadcast;   // broadcast mode only
  TicketStore* tickets = nullptr;               // --save-tickets / --resume only

  explicit RunContext(const Options& o) : opt(o) {}
  // Global index of one of our nodes, or -1.
  int64_t node_of(const Vmac& v) const {
    auto it = vmac_index.find(v.key());
    return it == vmac_index.end() ? -1 : int64_t(it->second);
  }
};

// Makes one unique Random-48 VMAC (or --vmac-prefix) and random v4 UUID per node.
void make_identities(RunContext& ctx, uint64_t seed);

}  // namespace bsc::load
