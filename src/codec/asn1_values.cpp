// BACnet primitive value encodings (ASHRAE 135 clause 20.2): see bsc/bacnet/asn1_values.hpp.
#include "bsc/bacnet/asn1_values.hpp"

#include <bit>

namespace bsc::bacnet {

namespace {

constexpr uint8_t kCharsetUtf8 = 0;  // 20.2.9: ISO 10646 (UTF-8)

TagId resolve(TagId id, AppTag own) { return id == kApplication ? TagId{uint8_t(own), false} : id; }

// Octets an Unsigned needs: at least one, no leading zero octets (20.2.4).
unsigned unsigned_octets(uint64_t v) {
  unsigned n = 1;
  while (n < 8 && (v >> (8 * n)) != 0) ++n;
  return n;
}

// Octets a two's-complement Signed needs (20.2.5): the fewest that keep the sign.
unsigned signed_octets(int64_t v) {
  unsigned n = 1;
  while (n < 8) {
    const int64_t lo = -(int64_t(1) << (8 * n - 1));
    const int64_t hi = (int64_t(1) << (8 * n - 1)) - 1;
    if (v >= lo && v <= hi) break;
    ++n;
  }
  return n;
}

void put_fixed(Writer& w, TagId id, AppTag own, uint64_t v, unsigned octets) {
  put_tag(w, resolve(id, own), octets);
  w.put_be(v, octets);
}

uint64_t be_value(std::span<const uint8_t> c) {
  uint64_t v = 0;
  for (uint8_t b : c) v = (v << 8) | b;
  return v;
}

// Reads a primitive tag that must be `id` (the type's application tag by default).
Status expect(Reader& r, TagId id, AppTag own, Tag& t) {
  const TagId want = resolve(id, own);
  const Status s = r.read(t);
  if (s != Status::kOk) return s;
  if (t.kind != TagKind::kPrimitive) return Status::kUnexpectedTag;
  if (t.id == want) return Status::kOk;
  // Another application tag where an application value was expected: a datatype error.
  return !want.context && !t.id.context ? Status::kWrongType : Status::kUnexpectedTag;
}

Status expect_length(Reader& r, TagId id, AppTag own, size_t length, Tag& t) {
  const Status s = expect(r, id, own, t);
  if (s != Status::kOk) return s;
  return t.content.size() == length ? Status::kOk : Status::kBadLength;
}

// The 1..8 content octets of an Unsigned, Signed or Enumerated.
Status get_integer(Reader& r, TagId id, AppTag own, std::span<const uint8_t>& c) {
  Tag t;
  const Status s = expect(r, id, own, t);
  if (s != Status::kOk) return s;
  if (t.content.empty() || t.content.size() > 8) return Status::kBadLength;
  c = t.content;
  return Status::kOk;
}

Status get_be(Reader& r, TagId id, AppTag own, uint64_t& v) {
  std::span<const uint8_t> c;
  const Status s = get_integer(r, id, own, c);
  if (s == Status::kOk) v = be_value(c);
  return s;
}

// An Unsigned or Enumerated that must not exceed `max` (kOutOfRange above it).
Status get_bounded(Reader& r, TagId id, AppTag own, uint32_t max, uint32_t& v) {
  uint64_t wide = 0;
  const Status s = get_be(r, id, own, wide);
  if (s != Status::kOk) return s;
  if (wide > max) return Status::kOutOfRange;
  v = uint32_t(wide);
  return Status::kOk;
}

Status get_four(Reader& r, TagId id, AppTag own, std::span<const uint8_t>& c) {
  Tag t;
  const Status s = expect_length(r, id, own, 4, t);
  if (s == Status::kOk) c = t.content;
  return s;
}

}  // namespace

void put_null(Writer& w, TagId id) noexcept { put_tag(w, resolve(id, AppTag::kNull), 0); }

void put_boolean(Writer& w, bool v, TagId id) noexcept {
  if (id == kApplication) {
    put_tag(w, {uint8_t(AppTag::kBoolean), false}, v ? 1 : 0);  // value in the tag (20.2.3)
  } else {
    put_fixed(w, id, AppTag::kBoolean, v ? 1 : 0, 1);
  }
}

void put_unsigned(Writer& w, uint64_t v, TagId id) noexcept {
  put_fixed(w, id, AppTag::kUnsigned, v, unsigned_octets(v));
}

void put_signed(Writer& w, int64_t v, TagId id) noexcept {
  put_fixed(w, id, AppTag::kSigned, uint64_t(v), signed_octets(v));
}

void put_real(Writer& w, float v, TagId id) noexcept {
  put_fixed(w, id, AppTag::kReal, std::bit_cast<uint32_t>(v), 4);
}

void put_double(Writer& w, double v, TagId id) noexcept {
  put_fixed(w, id, AppTag::kDouble, std::bit_cast<uint64_t>(v), 8);
}

void put_octet_string(Writer& w, std::span<const uint8_t> v, TagId id) noexcept {
  put_tag(w, resolve(id, AppTag::kOctetString), uint32_t(v.size()));
  w.put(v);
}

void put_character_string(Writer& w, std::string_view utf8, TagId id) noexcept {
  put_tag(w, resolve(id, AppTag::kCharacterString), uint32_t(utf8.size() + 1));
  w.put(kCharsetUtf8);
  w.put({reinterpret_cast<const uint8_t*>(utf8.data()), utf8.size()});
}

void put_bit_string(Writer& w, const BitString& v, TagId id) noexcept {
  put_tag(w, resolve(id, AppTag::kBitString), uint32_t(v.octets.size() + 1));
  w.put(v.octets.empty() ? 0 : v.unused);
  w.put(v.octets);
}

void put_enumerated(Writer& w, uint32_t v, TagId id) noexcept {
  put_fixed(w, id, AppTag::kEnumerated, v, unsigned_octets(v));
}

void put_date(Writer& w, const Date& v, TagId id) noexcept {
  put_tag(w, resolve(id, AppTag::kDate), 4);
  for (uint8_t b : {v.year_since_1900, v.month, v.day, v.weekday}) w.put(b);
}

void put_time(Writer& w, const Time& v, TagId id) noexcept {
  put_tag(w, resolve(id, AppTag::kTime), 4);
  for (uint8_t b : {v.hour, v.minute, v.second, v.hundredths}) w.put(b);
}

void put_object_id(Writer& w, ObjectId v, TagId id) noexcept {
  put_fixed(w, id, AppTag::kObjectId, v.raw(), 4);
}

void put_date_time(Writer& w, const DateTime& v, uint8_t context_number) noexcept {
  put_opening(w, context_number);
  put_date(w, v.date);
  put_time(w, v.time);
  put_closing(w, context_number);
}

Status get_null(Reader& r, TagId id) noexcept {
  Tag t;
  return expect_length(r, id, AppTag::kNull, 0, t);
}

Status get_boolean(Reader& r, bool& v, TagId id) noexcept {
  Tag t;
  if (id == kApplication) {
    const Status s = expect(r, id, AppTag::kBoolean, t);
    if (s != Status::kOk) return s;
    v = t.length == 1;  // the tag decoder already refused values above 1
    return Status::kOk;
  }
  const Status s = expect_length(r, id, AppTag::kBoolean, 1, t);
  if (s != Status::kOk) return s;
  if (t.content[0] > 1) return Status::kOutOfRange;
  v = t.content[0] == 1;
  return Status::kOk;
}

Status get_unsigned(Reader& r, uint64_t& v, TagId id) noexcept {
  return get_be(r, id, AppTag::kUnsigned, v);
}

Status get_unsigned(Reader& r, uint32_t& v, uint32_t max, TagId id) noexcept {
  return get_bounded(r, id, AppTag::kUnsigned, max, v);
}

Status get_signed(Reader& r, int64_t& v, TagId id) noexcept {
  std::span<const uint8_t> c;
  const Status s = get_integer(r, id, AppTag::kSigned, c);
  if (s != Status::kOk) return s;
  uint64_t raw = be_value(c);
  if (c.size() < 8 && (c[0] & 0x80) != 0) raw |= ~uint64_t(0) << (8 * c.size());  // sign-extend
  v = int64_t(raw);
  return Status::kOk;
}

Status get_real(Reader& r, float& v, TagId id) noexcept {
  std::span<const uint8_t> c;
  const Status s = get_four(r, id, AppTag::kReal, c);
  if (s == Status::kOk) v = std::bit_cast<float>(uint32_t(be_value(c)));
  return s;
}

Status get_double(Reader& r, double& v, TagId id) noexcept {
  Tag t;
  const Status s = expect_length(r, id, AppTag::kDouble, 8, t);
  if (s == Status::kOk) v = std::bit_cast<double>(be_value(t.content));
  return s;
}

Status get_octet_string(Reader& r, std::span<const uint8_t>& v, TagId id) noexcept {
  Tag t;
  const Status s = expect(r, id, AppTag::kOctetString, t);
  if (s == Status::kOk) v = t.content;
  return s;
}

Status get_character_string(Reader& r, std::string_view& v, TagId id) noexcept {
  Tag t;
  const Status s = expect(r, id, AppTag::kCharacterString, t);
  if (s != Status::kOk) return s;
  if (t.content.empty()) return Status::kBadLength;  // the charset octet is mandatory
  if (t.content[0] != kCharsetUtf8) return Status::kUnsupportedCharset;
  v = {reinterpret_cast<const char*>(t.content.data()) + 1, t.content.size() - 1};
  return Status::kOk;
}

Status get_bit_string(Reader& r, BitString& v, TagId id) noexcept {
  Tag t;
  const Status s = expect(r, id, AppTag::kBitString, t);
  if (s != Status::kOk) return s;
  if (t.content.empty()) return Status::kBadLength;
  const uint8_t unused = t.content[0];
  // 20.2.10: at most 7 unused bits, and none when there are no bit octets.
  if (unused > 7 || (t.content.size() == 1 && unused != 0)) return Status::kOutOfRange;
  v = BitString{t.content.subspan(1), unused};
  return Status::kOk;
}

Status get_enumerated(Reader& r, uint32_t& v, TagId id) noexcept {
  return get_bounded(r, id, AppTag::kEnumerated, UINT32_MAX, v);
}

Status get_date(Reader& r, Date& v, TagId id) noexcept {
  std::span<const uint8_t> c;
  const Status s = get_four(r, id, AppTag::kDate, c);
  if (s == Status::kOk) v = Date{c[0], c[1], c[2], c[3]};
  return s;
}

Status get_time(Reader& r, Time& v, TagId id) noexcept {
  std::span<const uint8_t> c;
  const Status s = get_four(r, id, AppTag::kTime, c);
  if (s == Status::kOk) v = Time{c[0], c[1], c[2], c[3]};
  return s;
}

Status get_object_id(Reader& r, ObjectId& v, TagId id) noexcept {
  std::span<const uint8_t> c;
  const Status s = get_four(r, id, AppTag::kObjectId, c);
  if (s == Status::kOk) v = ObjectId::from_raw(uint32_t(be_value(c)));
  return s;
}

Status get_date_time(Reader& r, DateTime& v, uint8_t context_number) noexcept {
  Status s = get_opening(r, context_number);
  if (s == Status::kOk) s = get_date(r, v.date);
  if (s == Status::kOk) s = get_time(r, v.time);
  if (s == Status::kOk) s = get_closing(r, context_number);
  return s;
}

}  // namespace bsc::bacnet
