// What a worker reports about itself to the ops endpoint: its gauges and its status table
// (the data of the Std's hub-function connection status, AB.6.x / Clause 12 SC_Hub_Function
// _Connection_Status: VMAC, UUID, peer address, state, connect time, error).
// Plain values, copied across threads; built by the worker on its own loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bsc {

struct NodeStatus {
  uint32_t worker = 0;
  std::string vmac, uuid, peer;
  const char* state = "";       // "connected" or "disconnecting"
  int64_t connected_unix_ms = 0;
  std::string last_error;       // "" if none
  size_t pending_output = 0;    // bytes queued for it or in a write not yet taken
  // Its certificate's SHA-256 and its public key's (what `deny add` takes); "" without TLS.
  std::string certificate, public_key, subject;
};

struct WorkerSnapshot {
  size_t open_connections = 0;  // TCP connections held, any phase
  size_t handshaking = 0;       // TLS/upgrade not done, or no Connect-Request yet
  size_t pending_output = 0;    // sum over its connections
  std::vector<NodeStatus> nodes;  // nodes past Connect-Accept
};

}  // namespace bsc
