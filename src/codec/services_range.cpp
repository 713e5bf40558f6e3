// ReadRange service data (ASHRAE 135 clause 15.8).
#include "bsc/bacnet/services_range.hpp"

#include <array>

namespace bsc::bacnet {

namespace {

// Range CHOICE tags (15.8.1.1.4); tags 4 and 5 belonged to removed forms.
constexpr uint8_t kByPositionTag = 3;
constexpr uint8_t kBySequenceTag = 6;
constexpr uint8_t kByTimeTag = 7;
constexpr uint8_t kItemDataTag = 5;

constexpr uint8_t range_tag(RangeKind k) {
  return k == RangeKind::kByPosition ? kByPositionTag
         : k == RangeKind::kBySequenceNumber ? kBySequenceTag
                                              : kByTimeTag;
}

// The count: an INTEGER16 (15.8.1.1.4.1.2).
Status get_count(Reader& r, int16_t& count) {
  int64_t v = 0;
  const Status s = get_signed(r, v);
  if (s != Status::kOk) return s;
  if (v < INT16_MIN || v > INT16_MAX) return Status::kOutOfRange;
  count = int16_t(v);
  return Status::kOk;
}

// BACnetResultFlags is a 3-bit BIT STRING: one octet, 5 unused bits.
constexpr uint8_t kFirstItemBit = 0x80, kLastItemBit = 0x40, kMoreItemsBit = 0x20;

}  // namespace

Status decode_read_range(std::span<const uint8_t> data, ReadRangeRequest& out) noexcept {
  Reader r(data);
  out = ReadRangeRequest{};
  Status s = get_object_property(r, out.target);
  if (s != Status::kOk || r.at_end()) return s;
  for (RangeKind k : {RangeKind::kByPosition, RangeKind::kBySequenceNumber, RangeKind::kByTime}) {
    if (!r.at_opening(range_tag(k))) continue;
    out.kind = k;
    s = get_opening(r, range_tag(k));
    if (s == Status::kOk) {
      if (k == RangeKind::kByTime) {
        s = get_date(r, out.reference_time.date);
        if (s == Status::kOk) s = get_time(r, out.reference_time.time);
      } else {
        s = get_unsigned(r, out.reference, UINT32_MAX);
      }
    }
    if (s == Status::kOk) s = get_count(r, out.count);
    if (s == Status::kOk) s = get_closing(r, range_tag(k));
    return expect_end(r, s);
  }
  return Status::kUnexpectedTag;
}

void encode_read_range(Writer& w, const ReadRangeRequest& v) noexcept {
  put_object_property(w, v.target);
  if (v.kind == RangeKind::kAll) return;
  const uint8_t tag = range_tag(v.kind);
  put_opening(w, tag);
  if (v.kind == RangeKind::kByTime) {
    put_date(w, v.reference_time.date);
    put_time(w, v.reference_time.time);
  } else {
    put_unsigned(w, v.reference);
  }
  put_signed(w, v.count);
  put_closing(w, tag);
}

void encode_read_range_ack_begin(Writer& w, const ReadRangeAck& v) noexcept {
  put_object_property(w, v.target);
  const std::array<uint8_t, 1> bits{uint8_t((v.flags.first_item ? kFirstItemBit : 0) |
                                            (v.flags.last_item ? kLastItemBit : 0) |
                                            (v.flags.more_items ? kMoreItemsBit : 0))};
  put_bit_string(w, BitString{bits, 5}, ctx(3));
  put_unsigned(w, v.item_count, ctx(4));
  put_opening(w, kItemDataTag);
}

void encode_read_range_ack_end(Writer& w, const ReadRangeAck& v) noexcept {
  put_closing(w, kItemDataTag);
  if (v.has_first_sequence) put_unsigned(w, v.first_sequence, ctx(6));
}

Status decode_read_range_ack(std::span<const uint8_t> data, ReadRangeAck& out) noexcept {
  Reader r(data);
  out = ReadRangeAck{};
  BitString flags;
  Status s = get_object_property(r, out.target);
  if (s == Status::kOk) s = get_bit_string(r, flags, ctx(3));
  if (s == Status::kOk) s = get_unsigned(r, out.item_count, UINT32_MAX, ctx(4));
  if (s == Status::kOk) s = get_enclosed(r, kItemDataTag, out.items);
  if (s == Status::kOk && r.next_is(ctx(6))) {
    out.has_first_sequence = true;
    s = get_unsigned(r, out.first_sequence, UINT32_MAX, ctx(6));
  }
  out.flags = {flags.test(0), flags.test(1), flags.test(2)};
  return expect_end(r, s);
}

}  // namespace bsc::bacnet
