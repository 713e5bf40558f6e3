// ReadProperty and ReadPropertyMultiple service data (ASHRAE 135 clauses 15.5, 15.7).
#include "bsc/bacnet/services_read.hpp"

namespace bsc::bacnet {

namespace {
constexpr uint8_t kRpValueTag = 3;     // RP-ACK property-value (15.5.1.3.4)
constexpr uint8_t kRpmListTag = 1;     // list of references / results (15.7.1.1, 15.7.1.3)
constexpr uint8_t kRpmValueTag = 4;    // read-result: property-value
constexpr uint8_t kRpmErrorTag = 5;    // read-result: property-access-error
constexpr uint8_t kRpmAckPropertyTag = 2;
}  // namespace

void put_property_ref(Writer& w, const PropertyRef& ref, uint8_t first_tag) noexcept {
  put_enumerated(w, ref.property, ctx(first_tag));
  if (ref.has_index) put_unsigned(w, ref.index, ctx(uint8_t(first_tag + 1)));
}

Status get_property_ref(Reader& r, PropertyRef& ref, uint8_t first_tag) noexcept {
  ref = PropertyRef{};
  Status s = get_enumerated(r, ref.property, ctx(first_tag));
  if (s != Status::kOk) return s;
  const TagId index_tag = ctx(uint8_t(first_tag + 1));
  ref.has_index = r.next_is(index_tag);
  if (ref.has_index) s = get_unsigned(r, ref.index, UINT32_MAX, index_tag);
  return s;
}

void put_object_property(Writer& w, const ObjectPropertyRef& ref) noexcept {
  put_object_id(w, ref.object, ctx(0));
  put_property_ref(w, ref.property, 1);
}

Status get_object_property(Reader& r, ObjectPropertyRef& ref) noexcept {
  const Status s = get_object_id(r, ref.object, ctx(0));
  return s == Status::kOk ? get_property_ref(r, ref.property, 1) : s;
}

Status decode_read_property(std::span<const uint8_t> data, ObjectPropertyRef& out) noexcept {
  Reader r(data);
  return expect_end(r, get_object_property(r, out));
}

void encode_read_property(Writer& w, const ObjectPropertyRef& ref) noexcept {
  put_object_property(w, ref);
}

void encode_read_property_ack_begin(Writer& w, const ObjectPropertyRef& ref) noexcept {
  put_object_property(w, ref);
  put_opening(w, kRpValueTag);
}

void encode_read_property_ack_end(Writer& w) noexcept { put_closing(w, kRpValueTag); }

Status decode_read_property_ack(std::span<const uint8_t> data, ObjectPropertyRef& ref,
                                std::span<const uint8_t>& value) noexcept {
  Reader r(data);
  Status s = get_object_property(r, ref);
  if (s == Status::kOk) s = get_enclosed(r, kRpValueTag, value);
  return expect_end(r, s);
}

void rpm_begin_object(Writer& w, ObjectId object) noexcept {
  put_object_id(w, object, ctx(0));
  put_opening(w, kRpmListTag);
}

void rpm_end_object(Writer& w) noexcept { put_closing(w, kRpmListTag); }

void rpm_put_reference(Writer& w, const PropertyRef& ref) noexcept { put_property_ref(w, ref, 0); }

void rpm_begin_value(Writer& w, const PropertyRef& ref) noexcept {
  put_property_ref(w, ref, kRpmAckPropertyTag);
  put_opening(w, kRpmValueTag);
}

void rpm_end_value(Writer& w) noexcept { put_closing(w, kRpmValueTag); }

void rpm_put_error(Writer& w, const PropertyRef& ref, ErrorPair error) noexcept {
  put_property_ref(w, ref, kRpmAckPropertyTag);
  put_opening(w, kRpmErrorTag);
  put_error_pair(w, error);
  put_closing(w, kRpmErrorTag);
}

bool RpmParser::fail(Status s) noexcept {
  status_ = s;
  in_list_ = false;
  return false;
}

bool RpmParser::next_object(ObjectId& object) noexcept {
  if (status_ != Status::kOk) return false;
  if (in_list_) {  // the caller stopped early: skip the rest of this object's list
    std::span<const uint8_t> rest;
    const Status s = get_until_closing(r_, kRpmListTag, rest);
    in_list_ = false;
    if (s != Status::kOk) return fail(s);
  }
  if (r_.at_end()) return false;
  Status s = get_object_id(r_, object, ctx(0));
  if (s == Status::kOk) s = get_opening(r_, kRpmListTag);
  if (s != Status::kOk) return fail(s);
  in_list_ = true;
  return true;
}

bool RpmParser::list_continues() noexcept {
  if (!in_list_ || status_ != Status::kOk) return false;
  if (r_.at_closing(kRpmListTag)) {
    in_list_ = false;
    const Status s = get_closing(r_, kRpmListTag);
    return s == Status::kOk ? false : fail(s);
  }
  return r_.at_end() ? fail(Status::kTruncated) : true;
}

bool RpmParser::next_reference(PropertyRef& ref) noexcept {
  if (!list_continues()) return false;
  const Status s = get_property_ref(r_, ref, 0);
  return s == Status::kOk ? true : fail(s);
}

bool RpmParser::next_result(RpmResult& result) noexcept {
  if (!list_continues()) return false;
  result = RpmResult{};
  Status s = get_property_ref(r_, result.ref, kRpmAckPropertyTag);
  if (s != Status::kOk) return fail(s);
  if (r_.at_opening(kRpmValueTag)) {
    s = get_enclosed(r_, kRpmValueTag, result.value);
  } else {
    result.is_error = true;
    s = get_opening(r_, kRpmErrorTag);
    if (s == Status::kOk) s = get_error_pair(r_, result.error);
    if (s == Status::kOk) s = get_closing(r_, kRpmErrorTag);
  }
  return s == Status::kOk ? true : fail(s);
}

Status validate_rpm_request(std::span<const uint8_t> data, size_t& references) noexcept {
  RpmParser p(data);
  size_t objects = 0;
  references = 0;
  ObjectId object;
  PropertyRef ref;
  while (p.next_object(object)) {
    ++objects;
    while (p.next_reference(ref)) ++references;
  }
  if (p.status() != Status::kOk) return p.status();
  return objects == 0 ? Status::kTruncated : Status::kOk;
}

}  // namespace bsc::bacnet
