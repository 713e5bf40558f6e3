// The test NPDU every data message carries, and its check on receipt.
//
//   offset size field
//   0      4    magic "BSLD"
//   4      2    total payload length (octets)
//   6      1    kind (echo request/reply, rate, broadcast)
//   7      1    0
//   8      4    sequence number of the (sender, receiver) stream
//   12     8    timestamp, steady-clock ns: when the message was meant to be sent (rate
//               mode) or was sent; an echo reply carries its request's timestamp
//   20     4    checksum: 64-bit FNV-1a, eight octets at a time, over every other octet,
//               folded to 32 bits
//   24     ...  padding up to the requested size (a fixed pseudo-random pattern)
//
// All fields are little-endian: only this tool writes and reads them.
// Threads: pure functions.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bsc::load {

constexpr size_t kPayloadHeader = 24;
constexpr size_t kMaxPayload = 1497;  // the max NPDU we announce in Connect-Request

enum class Kind : uint8_t { kEchoRequest = 1, kEchoReply = 2, kRate = 3, kBroadcast = 4 };

struct PayloadInfo {
  Kind kind{};
  uint32_t seq = 0;
  uint64_t ts_ns = 0;
};

// Writes a payload of exactly `size` octets (kPayloadHeader <= size <= kMaxPayload).
void write_payload(uint8_t* out, size_t size, Kind kind, uint32_t seq, uint64_t ts_ns);

// True if magic, length field (== len) and checksum are right; fills *info.
bool read_payload(const uint8_t* p, size_t len, PayloadInfo* info);

}  // namespace bsc::load
