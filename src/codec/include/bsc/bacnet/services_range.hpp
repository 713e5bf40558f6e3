// ReadRange (ASHRAE 135 clause 15.8; docs/bacnet-device.md §8): the request in all its
// forms (the device serves by-position and the whole list; by-sequence-number and by-time
// decode so the device can refuse them precisely) and the ACK. Service data only.
// Threads: stateless functions.
#pragma once
#include <cstdint>
#include <span>

#include "bsc/bacnet/services_read.hpp"

namespace bsc::bacnet {

enum class RangeKind : uint8_t { kAll, kByPosition, kBySequenceNumber, kByTime };

struct ReadRangeRequest {
  ObjectPropertyRef target{};
  RangeKind kind = RangeKind::kAll;
  uint32_t reference = 0;  // by-position: reference index (1-based); by-sequence: number
  DateTime reference_time{}; // by-time
  int16_t count = 0;       // items to read; negative reads backwards from the reference
};
Status decode_read_range(std::span<const uint8_t> data, ReadRangeRequest& out) noexcept;
void encode_read_range(Writer& w, const ReadRangeRequest& v) noexcept;

// BACnetResultFlags (21): first-item, last-item, more-items.
struct ResultFlags {
  bool first_item = false;
  bool last_item = false;
  bool more_items = false;
  friend bool operator==(const ResultFlags&, const ResultFlags&) = default;
};

struct ReadRangeAck {
  ObjectPropertyRef target{};
  ResultFlags flags{};
  uint32_t item_count = 0;
  std::span<const uint8_t> items{};  // decoded: the octets inside [5]
  bool has_first_sequence = false; // by-sequence-number and by-time responses only
  uint32_t first_sequence = 0;
};
// begin writes [0]..[4] and opens [5]; the caller writes the items; end closes [5] and
// writes [6] if has_first_sequence.
void encode_read_range_ack_begin(Writer& w, const ReadRangeAck& v) noexcept;
void encode_read_range_ack_end(Writer& w, const ReadRangeAck& v) noexcept;
Status decode_read_range_ack(std::span<const uint8_t> data, ReadRangeAck& out) noexcept;

}  // namespace bsc::bacnet
