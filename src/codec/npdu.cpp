// NPDU header codec (ASHRAE 135 clause 6.2): see bsc/bacnet/npdu.hpp.
#include "bsc/bacnet/npdu.hpp"

namespace bsc::bacnet {

namespace {

// Control octet bits (6.2.2). Bits 6 and 4 are reserved and shall be zero.
constexpr uint8_t kNetworkMessage = 0x80;
constexpr uint8_t kReserved = 0x50;
constexpr uint8_t kDestPresent = 0x20;
constexpr uint8_t kSourcePresent = 0x08;
constexpr uint8_t kExpectingReply = 0x04;
constexpr uint8_t kPriorityMask = 0x03;
constexpr uint8_t kFirstProprietaryMessage = 0x80;

Status read_u8(Reader& r, uint8_t& v) {
  std::span<const uint8_t> b;
  const Status s = r.take(1, b);
  if (s == Status::kOk) v = b[0];
  return s;
}

Status read_u16(Reader& r, uint16_t& v) {
  std::span<const uint8_t> b;
  const Status s = r.take(2, b);
  if (s == Status::kOk) v = uint16_t(b[0] << 8 | b[1]);
  return s;
}

// NET (2), LEN (1), ADR (LEN octets).
Status read_address(Reader& r, NetworkAddress& a) {
  uint8_t len = 0;
  Status s = read_u16(r, a.net);
  if (s == Status::kOk) s = read_u8(r, len);
  if (s == Status::kOk) s = r.take(len, a.mac);
  return s;
}

void write_address(Writer& w, const NetworkAddress& a) {
  w.put_be(a.net, 2);
  w.put(uint8_t(a.mac.size()));
  w.put(a.mac);
}

}  // namespace

Status decode_npdu(std::span<const uint8_t> bytes, Npdu& out) noexcept {
  out = Npdu{};
  Reader r(bytes);
  uint8_t version = 0, control = 0;
  Status s = read_u8(r, version);
  if (s == Status::kOk) s = read_u8(r, control);
  if (s != Status::kOk) return s;
  if (version != kNpduVersion) return Status::kBadValue;
  if ((control & kReserved) != 0) return Status::kOutOfRange;
  out.network_message = (control & kNetworkMessage) != 0;
  out.expecting_reply = (control & kExpectingReply) != 0;
  out.priority = Priority(control & kPriorityMask);
  out.has_dest = (control & kDestPresent) != 0;
  out.has_source = (control & kSourcePresent) != 0;
  if (out.has_dest && (s = read_address(r, out.dest)) != Status::kOk) return s;
  if (out.has_source) {
    if ((s = read_address(r, out.source)) != Status::kOk) return s;
    // A source is one station on one network: never a broadcast (6.2.2).
    if (out.source.net == kGlobalNetwork || out.source.mac.empty()) return Status::kOutOfRange;
  }
  // The hop count follows the source fields, not the destination (6.2.2).
  if (out.has_dest && (s = read_u8(r, out.hop_count)) != Status::kOk) return s;
  if (out.network_message) {
    if ((s = read_u8(r, out.message_type)) != Status::kOk) return s;
    if (out.message_type >= kFirstProprietaryMessage &&
        (s = read_u16(r, out.vendor_id)) != Status::kOk) {
      return s;
    }
  }
  out.header_size = r.offset();
  return Status::kOk;
}

void encode_npdu(Writer& w, const Npdu& npdu) noexcept {
  uint8_t control = uint8_t(npdu.priority) & kPriorityMask;
  if (npdu.network_message) control |= kNetworkMessage;
  if (npdu.has_dest) control |= kDestPresent;
  if (npdu.has_source) control |= kSourcePresent;
  if (npdu.expecting_reply) control |= kExpectingReply;
  w.put(kNpduVersion);
  w.put(control);
  if (npdu.has_dest) write_address(w, npdu.dest);
  if (npdu.has_source) write_address(w, npdu.source);
  if (npdu.has_dest) w.put(npdu.hop_count);
  if (npdu.network_message) {
    w.put(npdu.message_type);
    if (npdu.message_type >= kFirstProprietaryMessage) w.put_be(npdu.vendor_id, 2);
  }
}

}  // namespace bsc::bacnet
