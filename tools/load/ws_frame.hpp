// Client-to-hub WebSocket data frames written straight into a node's output buffer.
// WsSession::send_binary() goes through wslay's queue, which allocates and copies each
// message twice; on the load tool's hot path we append the masked frame ourselves
// (RFC 6455 §5.2/§5.3: FIN + binary, MASK bit set, 32-bit masking key). WsSession still
// handles everything received, plus its own control frames (pong, close), which it pushes to
// the same buffer whole, so frames never interleave. Threads: pure function.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bsc::load {

// Appends one final, masked binary frame carrying data[0..len) to out.
void append_masked_binary_frame(std::vector<uint8_t>& out, const uint8_t* data, size_t len,
                                uint32_t mask);

}  // namespace bsc::load
