// A sweep: a question put to every connection of every worker, on each worker's own loop;
// those that answer with a reason are disconnected. It is how an operator's action or a
// certificate reload reaches nodes that are already connected (docs/operations.md).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "bsc/vmac.hpp"

namespace bsc {

struct PeerIdentity;

// What a sweep's check sees of one connection past its TLS handshake.
struct SweepTarget {
  bool routable = false;  // Connect-Request accepted: vmac and uuid are known
  const Vmac* vmac = nullptr;
  const Uuid* uuid = nullptr;
  const PeerIdentity* identity = nullptr;  // nullptr without TLS
};

struct Sweep {
  enum class Cause : uint8_t {
    kAdmin,    // `disconnect`: asked to go with a Disconnect-Request (it may come back)
    kDenied,   // put on the deny list: closed at once
    kRevoked,  // a reload's CA set or CRLs no longer accept its certificate: closed at once
  };
  Cause cause = Cause::kAdmin;
  // Runs on the connection's worker thread: "" keeps the connection, else why it goes.
  // Must only read what it captured by value (it may outlive the caller after a timeout).
  std::function<std::string(const SweepTarget&)> check;
};

}  // namespace bsc
