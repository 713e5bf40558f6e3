// HubFunction: the BVLC-SC side of the hub (Std AB.5.3, AB.6.2.3): the accepting
// connection state machine (Connect-Request/Accept, heartbeats, disconnects) and routing
// (unicast by destination VMAC, broadcast to all others, header rewrite).
// Threads: one instance per worker, [owner] only.
//
// A template over its two sides (core/hub_ports.hpp: W is a HubWorker, N a HubNode) so the
// per-frame path makes direct calls. The hub uses HubFunction = <Worker, Connection>, compiled
// once in hub_function.cpp; the unit test instantiates it with fakes. The member bodies are
// in core/hub_function_impl.hpp, included only where it is instantiated.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bsc/bvlc.hpp"
#include "core/batch.hpp"

namespace bsc {

class Device;
struct DeviceReply;

template <class W, class N>
class BasicHubFunction {
 public:
  explicit BasicHubFunction(W& worker) : worker_(worker) {}

  // One complete BVLC-SC message from `from` (one WebSocket binary message).
  void on_message(N& from, const uint8_t* data, size_t len);
  // `c` is leaving (closed, aborted, replaced): drop its routing entries.
  void on_leaving(N& c);
  // Hub-initiated Disconnect-Request (replaced by the same UUID, shutdown).
  void start_disconnect(N& c);
  // A connection replaced by its UUID reconnecting: Disconnect-Request, then close.
  void retire(N& c);
  // Liveness probe after long silence.
  void send_heartbeat_request(N& c);
  // Frames other workers routed to this worker's connections.
  void deliver_batch(const Batch& batch);
  // [startup] Worker 0's only, when the hub is a BACnet device: frames addressed to the
  // hub's VMAC (routed to kDeviceRef, core/conn_ref.hpp) and one copy of every broadcast go
  // to `device`, and its replies (and the segments of its segmented responses) leave from
  // the hub's VMAC.
  void attach_device(Device* device);

 private:
  void on_connect_request(N& c, const Message& m, const uint8_t* data);
  void route(N& from, const Message& m, const uint8_t* data, size_t len);
  void forward_unicast(N& from, N& to, const Message& m, const uint8_t* data, size_t len);
  void forward_broadcast(N& from, const Message& m, const uint8_t* data, size_t len);
  // Sends one broadcast frame to every CONNECTED node of this worker except `sender`.
  void fan_out(const N* sender, const uint8_t* frame, size_t size);
  void send_nak(N& c, uint16_t message_id, const Vmac* dest, uint8_t for_function,
                uint8_t marker, ErrorCode code, const char* details,
                uint16_t error_class = kErrorClassCommunication);
  // The access policy's refusals of a Connect-Request (core/access_control.hpp); true if
  // the request was refused (NAKed and closing).
  bool refuse_by_policy(N& c, const Message& m, const ConnectPayload& p, bool* new_pin);
  void send_simple(N& c, Function f, uint16_t message_id);
  bool fits_recipient(const N& to, size_t size) const;
  // Sends one broadcast frame to every CONNECTED node of every worker except `sender`.
  void spread_broadcast(const N* sender, const uint8_t* frame, size_t size);
  // The device's side (core/device.hpp); only reached when device_ is set.
  void to_device(const Vmac& source, const Message& m, const uint8_t* data, bool broadcast);
  void to_device(const uint8_t* frame, size_t len, bool broadcast);  // a forwarded frame
  void send_device_reply(const Vmac& requester, const DeviceReply& reply);

  W& worker_;
  Device* device_ = nullptr;
  std::vector<uint8_t> scratch_;  // encode buffer for control replies and broadcast frames
};

class Worker;
class Connection;
using HubFunction = BasicHubFunction<Worker, Connection>;
extern template class BasicHubFunction<Worker, Connection>;

}  // namespace bsc
