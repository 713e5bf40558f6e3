// Property reading services (ASHRAE 135 clauses 15.5 ReadProperty and 15.7
// ReadPropertyMultiple; docs/bacnet-device.md §7): request decoders and ACK encoders, and
// the reverse directions for tests and clients. Service data only (after the APDU's fixed
// header). Property values are written by the caller between the ACK's begin/end calls,
// so a value of any datatype fits. Views point into the caller's buffer.
// Threads: stateless functions; an RpmParser has one owner.
#pragma once
#include <cstdint>
#include <span>

#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/asn1_values.hpp"

namespace bsc::bacnet {

// A property and an optional array index, tagged [n] and [n+1].
struct PropertyRef {
  uint32_t property = 0;
  bool has_index = false;
  uint32_t index = 0;
  friend bool operator==(const PropertyRef&, const PropertyRef&) = default;
};
void put_property_ref(Writer& w, const PropertyRef& ref, uint8_t first_tag) noexcept;
Status get_property_ref(Reader& r, PropertyRef& ref, uint8_t first_tag) noexcept;

// [0] object, [1] property, [2] optional array index: the head of RP, RP-ACK, ReadRange
// and its ACK.
struct ObjectPropertyRef {
  ObjectId object{};
  PropertyRef property{};
  friend bool operator==(const ObjectPropertyRef&, const ObjectPropertyRef&) = default;
};
void put_object_property(Writer& w, const ObjectPropertyRef& ref) noexcept;
Status get_object_property(Reader& r, ObjectPropertyRef& ref) noexcept;

// ---- ReadProperty ----
Status decode_read_property(std::span<const uint8_t> data, ObjectPropertyRef& out) noexcept;
void encode_read_property(Writer& w, const ObjectPropertyRef& ref) noexcept;
// ACK: begin writes the head and opening tag [3]; the caller writes the value; end closes.
void encode_read_property_ack_begin(Writer& w, const ObjectPropertyRef& ref) noexcept;
void encode_read_property_ack_end(Writer& w) noexcept;
Status decode_read_property_ack(std::span<const uint8_t> data, ObjectPropertyRef& ref,
                                std::span<const uint8_t>& value) noexcept;

// ---- ReadPropertyMultiple ----
// Request and ACK share their outer shape: per object, [0] object id, then a list in
// [1] ... [1]. Request list items: [0] property, [1] index. ACK items: [2] property,
// [3] index, then [4] value or [5] error (class, code).
void rpm_begin_object(Writer& w, ObjectId object) noexcept;
void rpm_end_object(Writer& w) noexcept;
void rpm_put_reference(Writer& w, const PropertyRef& ref) noexcept;   // request item
void rpm_begin_value(Writer& w, const PropertyRef& ref) noexcept;     // ACK item: opens [4]
void rpm_end_value(Writer& w) noexcept;
void rpm_put_error(Writer& w, const PropertyRef& ref, ErrorPair error) noexcept;

struct RpmResult {
  PropertyRef ref{};
  bool is_error = false;
  std::span<const uint8_t> value{};  // when !is_error: the octets inside [4]
  ErrorPair error{};                 // when is_error
};

// Walks an RPM request or ACK without allocating:
//   while (p.next_object(id)) while (p.next_reference(ref)) ...;   then check p.status().
// A list left unfinished is skipped by the next next_object(). Every call is bounded by
// the input; after a failure all calls return false and status() says why.
class RpmParser {
 public:
  explicit RpmParser(std::span<const uint8_t> data) noexcept : r_(data) {}
  bool next_object(ObjectId& object) noexcept;
  bool next_reference(PropertyRef& ref) noexcept;  // request lists
  bool next_result(RpmResult& result) noexcept;    // ACK lists
  Status status() const noexcept { return status_; }

 private:
  bool list_continues() noexcept;
  bool fail(Status s) noexcept;

  Reader r_;
  Status status_ = Status::kOk;
  bool in_list_ = false;
};

// Checks a whole RPM request: at least one object (kTruncated otherwise), every reference
// well formed. `references` counts the property references.
Status validate_rpm_request(std::span<const uint8_t> data, size_t& references) noexcept;

}  // namespace bsc::bacnet
