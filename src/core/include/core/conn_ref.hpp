// ConnRef: how a connection is named outside its worker. A Connection* never leaves its
// worker; a ConnRef does. The generation makes a ref to a closed connection whose slot was
// reused harmless: lookups compare it and drop the frame.
#pragma once
#include <cstdint>

namespace bsc {

// Workers per hub: --workers is checked against it (Config::validate) and worker ids
// 0..kMaxWorkers-1 must fit the 8 bits RoutingMap::pack() gives them.
inline constexpr uint32_t kMaxWorkers = 256;

struct ConnRef {
  uint32_t worker = 0;
  uint32_t slot = 0;
  uint32_t generation = 0;
  friend bool operator==(const ConnRef&, const ConnRef&) = default;
};

// The hub's own BACnet device (core/device.hpp), when it has one: worker 0's pseudo-
// connection at a slot no connection gets (slots stay below --max-connections, at most
// 1000000), so a frame for the hub's VMAC finds it through the routing map like any node.
inline constexpr ConnRef kDeviceRef{0, 0xFFFFFF, 0};

}  // namespace bsc
