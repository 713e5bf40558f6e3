// What the hub function (core/hub_function.hpp) needs from the rest of the hub, as two
// narrow interfaces: HubNode (one node's connection) and HubWorker (the worker that owns it).
// Connection and Worker satisfy them in the hub; tests/unit/hub_function_test.cpp satisfies
// them with fakes, so routing is tested without libuv or TLS.
//
// They are concepts, not abstract classes: route/forward_unicast/fan_out run per frame, and
// the hub function is a template over both sides, so every call stays direct (and inlinable).
//
// Threads: as their implementations; the hub function calls them on the [owner] thread only.
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bsc/vmac.hpp"
#include "core/batch.hpp"
#include "core/config.hpp"
#include "core/conn_ref.hpp"
#include "core/stats.hpp"

namespace bsc {

class AccessControl;
class RoutingMap;
struct PeerIdentity;

// A node connection's whole session, one state at a time. Forward only:
//   kTls -> kUpgrade -> kAwaitingRequest -> kConnected -> kDisconnecting   (the BVLC-SC part:
//   Std AB.6.2.3, accepting side); without TLS it starts at kUpgrade. Any state -> kClosing:
//   the linger (what is queued goes out, the Close handshake completes, then TCP closes) or
//   an abort.
enum class NodeState { kTls, kUpgrade, kAwaitingRequest, kConnected, kDisconnecting, kClosing };

template <class N>
concept HubNode = requires(N& n, const N& cn, const uint8_t* data, size_t len, const Vmac& vmac,
                           const Uuid& uuid, uint16_t u16, NodeState s, const char* why) {
  { cn.ref() } -> std::same_as<ConnRef>;
  { cn.state() } -> std::same_as<NodeState>;
  n.set_state(s);  // entering/leaving kConnected moves it in/out of the worker's connected()
  { cn.routable() } -> std::same_as<bool>;  // past the handshakes, Connect-Request seen
  { cn.vmac() } -> std::same_as<const Vmac&>;
  { cn.uuid() } -> std::same_as<const Uuid&>;
  n.set_identity(vmac, uuid, u16);  // VMAC, UUID and max BVLC of its Connect-Request
  { cn.registered() } -> std::same_as<bool>;  // holds entries in the routing map
  n.set_registered(true);
  { cn.peer_max_bvlc() } -> std::same_as<uint16_t>;
  { cn.peer() } -> std::convertible_to<const std::string&>;  // for logs
  // Output, bounded: false/nullptr (and nothing queued) when the bound would be passed.
  { n.send_message(data, len) } -> std::same_as<bool>;
  { n.send_broadcast_copy(data, len) } -> std::same_as<bool>;
  { n.reserve_frame(len) } -> std::same_as<uint8_t*>;
  n.set_last_error(why);
  // For the connection history: the next close ends the BVLC Disconnect handshake; or the
  // Connect-Request is refused (a BACnet error code of class communication; VMAC/UUID
  // nullptr when not known).
  n.end_cleanly();
  n.note_refused(u16, &vmac, &uuid, why);
  n.note_refused(u16, &vmac, &uuid, why, u16);  // ... of another error class
  // The certificate identity TLS established (nullptr without TLS).
  { cn.peer_identity() } -> std::same_as<const PeerIdentity*>;
  // Orderly end; calls the hub function's on_leaving() before it returns.
  n.close(u16, why);
};

template <class W, class N>
concept HubWorker = requires(W& w, const W& cw, ConnRef ref, RecordKind kind, uint32_t u32,
                             size_t len) {
  { cw.id() } -> std::same_as<uint32_t>;
  { cw.worker_count() } -> std::same_as<size_t>;
  { cw.config() } -> std::same_as<const Config&>;
  { w.stats() } -> std::same_as<WorkerStats&>;
  { w.routing() } -> std::same_as<RoutingMap&>;
  // The deny list and identity binding (nullptr: no policy, every node admitted).
  { w.access() } -> std::same_as<AccessControl*>;
  { w.next_message_id() } -> std::same_as<uint16_t>;
  { w.find(ref) } -> std::same_as<N*>;  // nullptr once closed (generation mismatch)
  { cw.connected() } -> std::same_as<const std::vector<N*>&>;  // kConnected nodes
  // Room for a frame for another worker's connection(s); nullptr when dropped (counted).
  { w.remote_reserve(u32, kind, u32, u32, len) } -> std::same_as<uint8_t*>;
};

}  // namespace bsc
