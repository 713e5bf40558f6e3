// NPDU header (ASHRAE 135 clause 6.2; docs/bacnet-device.md §4): version, control octet,
// destination/source network addresses, hop count, network-layer message type. The
// decoded addresses view the caller's buffer. Threads: stateless functions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "bsc/bacnet/asn1_tags.hpp"

namespace bsc::bacnet {

constexpr uint8_t kNpduVersion = 1;
constexpr uint16_t kGlobalNetwork = 0xFFFF;  // DNET of a global broadcast

// Network priority (6.2.2, control bits 1..0).
enum class Priority : uint8_t { kNormal = 0, kUrgent = 1, kCriticalEquipment = 2, kLifeSafety = 3 };

struct NetworkAddress {
  uint16_t net = 0;
  std::span<const uint8_t> mac{};  // DADR/SADR; empty DADR = broadcast on `net`
};

struct Npdu {
  bool network_message = false;  // a network-layer message follows, not an APDU
  bool expecting_reply = false;
  Priority priority = Priority::kNormal;
  bool has_dest = false;
  NetworkAddress dest{};
  uint8_t hop_count = 0xFF;  // present with the destination
  bool has_source = false;
  NetworkAddress source{};
  uint8_t message_type = 0;  // network-layer messages only
  uint16_t vendor_id = 0;    // message types 0x80..0xFF only
  size_t header_size = 0;    // decoded: where the APDU (or message body) starts

  bool global_broadcast() const { return has_dest && dest.net == kGlobalNetwork; }
};

// Decodes the header of an NPDU. kBadValue: version is not 1; kOutOfRange: reserved
// control bits set, SNET 0xFFFF or an empty SADR (6.2.2); kTruncated: cut short.
Status decode_npdu(std::span<const uint8_t> bytes, Npdu& out) noexcept;

// Writes the header (DLEN/SLEN from the address spans). An APDU or message follows.
void encode_npdu(Writer& w, const Npdu& npdu) noexcept;

}  // namespace bsc::bacnet
