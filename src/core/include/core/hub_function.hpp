// HubFunction: the BVLC-SC side of the hub (Std AB.5.3, AB.6.2.3): the accepting
// connection state machine (Connect-Request/Accept, heartbeats, disconnects) and routing
// (unicast by destination VMAC, broadcast to all others, header rewrite).
// Threads: one instance per worker, [owner] only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bsc/bvlc.hpp"
#include "core/batch.hpp"

namespace bsc {

class Connection;
class Worker;

class HubFunction {
 public:
  explicit HubFunction(Worker& worker) : worker_(worker) {}

  // One complete BVLC-SC message from `from` (one WebSocket binary message).
  void on_message(Connection& from, const uint8_t* data, size_t len);
  // `c` is leaving (closed, aborted, replaced): drop its routing entries.
  void on_leaving(Connection& c);
  // Hub-initiated Disconnect-Request (replaced by the same UUID, shutdown).
  void start_disconnect(Connection& c);
  // A connection replaced by its UUID reconnecting: Disconnect-Request, then close.
  void retire(Connection& c);
  // Liveness probe after long silence.
  void send_heartbeat_request(Connection& c);
  // Frames other workers routed to this worker's connections.
  void deliver_batch(const Batch& batch);

 private:
  void on_connect_request(Connection& c, const Message& m, const uint8_t* data);
  void route(Connection& from, const Message& m, const uint8_t* data, size_t len);
  void forward_unicast(Connection& from, Connection& to, const Message& m, const uint8_t* data,
                       size_t len);
  void forward_broadcast(Connection& from, const Message& m, const uint8_t* data, size_t len);
  // Sends one broadcast frame to every CONNECTED node of this worker except `sender`.
  void fan_out(const Connection* sender, const uint8_t* frame, size_t size);
  void send_nak(Connection& c, uint16_t message_id, const Vmac* dest, uint8_t for_function,
                uint8_t marker, ErrorCode code, const char* details);
  void send_simple(Connection& c, Function f, uint16_t message_id);
  bool fits_recipient(const Connection& to, size_t size) const;

  Worker& worker_;
  std::vector<uint8_t> scratch_;  // encode buffer for control replies and broadcast frames
};

}  // namespace bsc
