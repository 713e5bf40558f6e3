// Who-Is / I-Am, Who-Has / I-Have service data (ASHRAE 135 clauses 16.9, 16.10).
#include "bsc/bacnet/services_who.hpp"

namespace bsc::bacnet {

namespace {

// [0] low limit, [1] high limit, both or neither (16.9.1.1, 16.10.1.1).
Status get_range(Reader& r, InstanceRange& range) {
  range = InstanceRange{};
  if (!r.next_is(ctx(0))) return r.next_is(ctx(1)) ? Status::kInconsistent : Status::kOk;
  Status s = get_unsigned(r, range.low, ObjectId::kMaxInstance, ctx(0));
  if (s != Status::kOk) return s;
  if (!r.next_is(ctx(1))) return r.at_end() ? Status::kInconsistent : Status::kUnexpectedTag;
  s = get_unsigned(r, range.high, ObjectId::kMaxInstance, ctx(1));
  range.present = s == Status::kOk;
  return s;
}

void put_range(Writer& w, const InstanceRange& range) {
  if (!range.present) return;
  put_unsigned(w, range.low, ctx(0));
  put_unsigned(w, range.high, ctx(1));
}

}  // namespace

Status decode_who_is(std::span<const uint8_t> data, WhoIs& out) noexcept {
  Reader r(data);
  return expect_end(r, get_range(r, out.range));
}

void encode_who_is(Writer& w, const WhoIs& v) noexcept { put_range(w, v.range); }

Status decode_i_am(std::span<const uint8_t> data, IAm& out) noexcept {
  Reader r(data);
  uint32_t segmentation = 0, vendor = 0;
  Status s = get_object_id(r, out.device);
  if (s == Status::kOk) s = get_unsigned(r, out.max_apdu, UINT32_MAX);
  if (s == Status::kOk) s = get_enumerated(r, segmentation);
  if (s == Status::kOk && segmentation > uint32_t(Segmentation::kNone)) s = Status::kBadValue;
  if (s == Status::kOk) out.segmentation = Segmentation(segmentation);
  if (s == Status::kOk) s = get_unsigned(r, vendor, UINT16_MAX);
  out.vendor_id = uint16_t(vendor);
  return expect_end(r, s);
}

void encode_i_am(Writer& w, const IAm& v) noexcept {
  put_object_id(w, v.device);
  put_unsigned(w, v.max_apdu);
  put_enumerated(w, uint32_t(v.segmentation));
  put_unsigned(w, v.vendor_id);
}

Status decode_who_has(std::span<const uint8_t> data, WhoHas& out) noexcept {
  Reader r(data);
  out = WhoHas{};
  Status s = get_range(r, out.range);
  if (s != Status::kOk) return s;
  out.by_name = r.next_is(ctx(3));
  if (out.by_name) {
    s = get_character_string(r, out.name, ctx(3));
  } else {
    s = get_object_id(r, out.object, ctx(2));
  }
  return expect_end(r, s);
}

void encode_who_has(Writer& w, const WhoHas& v) noexcept {
  put_range(w, v.range);
  if (v.by_name) {
    put_character_string(w, v.name, ctx(3));
  } else {
    put_object_id(w, v.object, ctx(2));
  }
}

Status decode_i_have(std::span<const uint8_t> data, IHave& out) noexcept {
  Reader r(data);
  Status s = get_object_id(r, out.device);
  if (s == Status::kOk) s = get_object_id(r, out.object);
  if (s == Status::kOk) s = get_character_string(r, out.name);
  return expect_end(r, s);
}

void encode_i_have(Writer& w, const IHave& v) noexcept {
  put_object_id(w, v.device);
  put_object_id(w, v.object);
  put_character_string(w, v.name);
}

}  // namespace bsc::bacnet
