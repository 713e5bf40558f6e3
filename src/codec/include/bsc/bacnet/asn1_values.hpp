// BACnet primitive values (ASHRAE 135 clauses 20.2.2-20.2.14; docs/bacnet-device.md §3):
// one encoder and one decoder per datatype. Every function takes the tag to use, by
// default the datatype's own application tag (kApplication); pass ctx(n) for a context-
// tagged parameter. Decoders consume the tag and its content, check tag, class and
// length, and leave the Reader unspecified on failure. Threads: stateless functions.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "bsc/bacnet/asn1_tags.hpp"

namespace bsc::bacnet {

// BACnetObjectIdentifier: 10-bit object type, 22-bit instance (20.2.14).
struct ObjectId {
  uint16_t type = 0;
  uint32_t instance = 0;
  constexpr uint32_t raw() const { return uint32_t(type) << 22 | (instance & kMaxInstance); }
  static constexpr ObjectId from_raw(uint32_t v) { return {uint16_t(v >> 22), v & kMaxInstance}; }
  static constexpr uint32_t kMaxInstance = 0x3FFFFF;  // 4194303: also "this device" wildcard
  static constexpr uint16_t kMaxType = 0x3FF;
  friend bool operator==(const ObjectId&, const ObjectId&) = default;
};

// Date (20.2.12): octets as on the wire; 0xFF in any field means unspecified.
struct Date {
  uint8_t year_since_1900 = 0xFF;
  uint8_t month = 0xFF;    // 1..12 (13 odd, 14 even months)
  uint8_t day = 0xFF;      // 1..31 (32 last day of month, 33 odd, 34 even days)
  uint8_t weekday = 0xFF;  // 1 Monday .. 7 Sunday
  friend bool operator==(const Date&, const Date&) = default;
};

// Time (20.2.13): octets as on the wire; 0xFF in any field means unspecified.
struct Time {
  uint8_t hour = 0xFF;
  uint8_t minute = 0xFF;
  uint8_t second = 0xFF;
  uint8_t hundredths = 0xFF;
  friend bool operator==(const Time&, const Time&) = default;
};

// BACnetDateTime: Date then Time, both application-tagged. Default: all unspecified.
struct DateTime {
  Date date{};
  Time time{};
  bool unspecified() const { return *this == DateTime{}; }
  friend bool operator==(const DateTime&, const DateTime&) = default;
};

// BIT STRING (20.2.10): `octets` hold the bits, bit 0 the most significant of octet 0;
// `unused` trailing bits of the last octet are not part of the value.
struct BitString {
  std::span<const uint8_t> octets{};
  uint8_t unused = 0;
  size_t size() const { return octets.empty() ? 0 : octets.size() * 8 - unused; }
  bool test(size_t bit) const {
    return bit < size() && (octets[bit / 8] & (0x80 >> (bit % 8))) != 0;
  }
};

// ---- encoders (a Writer that overflows stops writing; check it once at the end) ----
void put_null(Writer& w, TagId id = kApplication) noexcept;
void put_boolean(Writer& w, bool v, TagId id = kApplication) noexcept;
void put_unsigned(Writer& w, uint64_t v, TagId id = kApplication) noexcept;
void put_signed(Writer& w, int64_t v, TagId id = kApplication) noexcept;
void put_real(Writer& w, float v, TagId id = kApplication) noexcept;
void put_double(Writer& w, double v, TagId id = kApplication) noexcept;
void put_octet_string(Writer& w, std::span<const uint8_t> v, TagId id = kApplication) noexcept;
// Character set 0 (ISO 10646 UTF-8); the caller supplies valid UTF-8.
void put_character_string(Writer& w, std::string_view utf8, TagId id = kApplication) noexcept;
void put_bit_string(Writer& w, const BitString& v, TagId id = kApplication) noexcept;
void put_enumerated(Writer& w, uint32_t v, TagId id = kApplication) noexcept;
void put_date(Writer& w, const Date& v, TagId id = kApplication) noexcept;
void put_time(Writer& w, const Time& v, TagId id = kApplication) noexcept;
void put_object_id(Writer& w, ObjectId v, TagId id = kApplication) noexcept;
// BACnetDateTime as a context-tagged constructed value: [n] { Date Time }.
void put_date_time(Writer& w, const DateTime& v, uint8_t context_number) noexcept;

// ---- decoders ----
Status get_null(Reader& r, TagId id = kApplication) noexcept;
Status get_boolean(Reader& r, bool& v, TagId id = kApplication) noexcept;
Status get_unsigned(Reader& r, uint64_t& v, TagId id = kApplication) noexcept;
// Unsigned limited to `max` (kOutOfRange above it): Unsigned16, instance numbers, ...
Status get_unsigned(Reader& r, uint32_t& v, uint32_t max, TagId id = kApplication) noexcept;
Status get_signed(Reader& r, int64_t& v, TagId id = kApplication) noexcept;
Status get_real(Reader& r, float& v, TagId id = kApplication) noexcept;
Status get_double(Reader& r, double& v, TagId id = kApplication) noexcept;
Status get_octet_string(Reader& r, std::span<const uint8_t>& v, TagId id = kApplication) noexcept;
// Only character set 0 (UTF-8) decodes; others give kUnsupportedCharset. `v` views the
// input; its UTF-8 is not validated here.
Status get_character_string(Reader& r, std::string_view& v, TagId id = kApplication) noexcept;
Status get_bit_string(Reader& r, BitString& v, TagId id = kApplication) noexcept;
Status get_enumerated(Reader& r, uint32_t& v, TagId id = kApplication) noexcept;
Status get_date(Reader& r, Date& v, TagId id = kApplication) noexcept;
Status get_time(Reader& r, Time& v, TagId id = kApplication) noexcept;
Status get_object_id(Reader& r, ObjectId& v, TagId id = kApplication) noexcept;
Status get_date_time(Reader& r, DateTime& v, uint8_t context_number) noexcept;

}  // namespace bsc::bacnet
