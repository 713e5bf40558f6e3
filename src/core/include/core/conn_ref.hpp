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

}  // namespace bsc
