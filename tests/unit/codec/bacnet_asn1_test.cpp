// BACnet tags and primitive values (src/codec/asn1_*.cpp) against the vectors of
// docs/bacnet-device.md: byte-for-byte encodes, decodes back, and every decode error.
#include <doctest/doctest.h>

#include <array>

#include "bacnet_test_util.hpp"
#include "bsc/bacnet/asn1_values.hpp"

using namespace bsc::bacnet;
using bacnet_test::encode;
using bacnet_test::hex;
using bacnet_test::kDevice4000;
using bacnet_test::kFile5;
using bacnet_test::kPort1;

namespace {

template <class T, class Get>
T decode_one(const std::vector<uint8_t>& bytes, Get get) {
  Reader r(bytes);
  T v{};
  REQUIRE(get(r, v) == Status::kOk);
  CHECK(r.at_end());
  return v;
}

Status decode_status(std::string_view hex_text, auto get) {
  const auto bytes = hex(hex_text);
  Reader r(bytes);
  return get(r);
}

}  // namespace

TEST_CASE("object identifiers: type << 22 | instance, big-endian") {
  CHECK_BYTES(encode([](Writer& w) { put_object_id(w, kDevice4000); }), "C4 02 00 0F A0");
  CHECK_BYTES(encode([](Writer& w) { put_object_id(w, kPort1); }), "C4 0E 00 00 01");
  CHECK_BYTES(encode([](Writer& w) { put_object_id(w, kFile5); }), "C4 02 80 00 05");
  CHECK_BYTES(encode([](Writer& w) { put_object_id(w, kDevice4000, ctx(0)); }), "0C 02 00 0F A0");
  for (ObjectId id : {kDevice4000, kPort1, kFile5, ObjectId{1023, ObjectId::kMaxInstance}}) {
    const auto bytes = encode([&](Writer& w) { put_object_id(w, id); });
    CHECK(decode_one<ObjectId>(bytes, [](Reader& r, ObjectId& v) { return get_object_id(r, v); }) == id);
  }
}

TEST_CASE("property identifiers take 1, 2 or 3 content octets") {
  CHECK_BYTES(encode([](Writer& w) { put_enumerated(w, 77, ctx(1)); }), "19 4D");
  CHECK_BYTES(encode([](Writer& w) { put_enumerated(w, 421, ctx(1)); }), "1A 01 A5");
  CHECK_BYTES(encode([](Writer& w) { put_enumerated(w, 4194321, ctx(1)); }), "1B 40 00 11");
  const auto bytes = hex("1B 40 00 11");
  Reader r(bytes);
  uint32_t v = 0;
  REQUIRE(get_enumerated(r, v, ctx(1)) == Status::kOk);
  CHECK(v == 4194321);
}

TEST_CASE("application-tagged primitives: the doc's value encodings") {
  CHECK_BYTES(encode([](Writer& w) { put_null(w); }), "00");
  CHECK_BYTES(encode([](Writer& w) { put_boolean(w, true); }), "11");
  CHECK_BYTES(encode([](Writer& w) { put_boolean(w, false); }), "10");
  CHECK_BYTES(encode([](Writer& w) { put_boolean(w, true, ctx(2)); }), "29 01");
  CHECK_BYTES(encode([](Writer& w) { put_unsigned(w, 2); }), "21 02");
  CHECK_BYTES(encode([](Writer& w) { put_unsigned(w, 24); }), "21 18");
  CHECK_BYTES(encode([](Writer& w) { put_unsigned(w, 260); }), "22 01 04");
  CHECK_BYTES(encode([](Writer& w) { put_unsigned(w, 480); }), "22 01 E0");
  CHECK_BYTES(encode([](Writer& w) { put_unsigned(w, 1476); }), "22 05 C4");
  CHECK_BYTES(encode([](Writer& w) { put_unsigned(w, 1600); }), "22 06 40");
  CHECK_BYTES(encode([](Writer& w) { put_unsigned(w, 50222, ctx(1)); }), "1A C4 2E");
  CHECK_BYTES(encode([](Writer& w) { put_enumerated(w, 0); }), "91 00");
  CHECK_BYTES(encode([](Writer& w) { put_enumerated(w, 11); }), "91 0B");
  CHECK_BYTES(encode([](Writer& w) { put_character_string(w, "Hubster"); }),
              "75 08 00 48 75 62 73 74 65 72");
  CHECK_BYTES(encode([](Writer& w) { put_character_string(w, "50050"); }),
              "75 06 00 35 30 30 35 30");
  const std::array<uint8_t, 6> vmac{0x42, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5};
  CHECK_BYTES(encode([&](Writer& w) { put_octet_string(w, vmac); }), "65 06 42 A1 B2 C3 D4 E5");
  CHECK_BYTES(encode([](Writer& w) { put_real(w, 0.0f); }), "44 00 00 00 00");
  CHECK_BYTES(encode([](Writer& w) { put_double(w, 1.0); }), "55 08 3F F0 00 00 00 00 00 00");
}

TEST_CASE("Signed uses the fewest two's-complement octets and sign-extends back") {
  const std::pair<int64_t, const char*> cases[] = {
      {0, "31 00"},        {-1, "31 FF"},          {127, "31 7F"},
      {128, "32 00 80"},   {-128, "31 80"},        {-129, "32 FF 7F"},
      {-5, "31 FB"},       {INT64_MIN, "35 08 80 00 00 00 00 00 00 00"},
  };
  for (const auto& [value, text] : cases) {
    CAPTURE(value);
    const auto bytes = encode([&](Writer& w) { put_signed(w, value); });
    CHECK_BYTES(bytes, text);
    CHECK(decode_one<int64_t>(bytes, [](Reader& r, int64_t& v) { return get_signed(r, v); }) == value);
  }
}

TEST_CASE("bit strings: services and object types supported, status flags") {
  // 49 service bits (revisions 24-28): readProperty 12, readPropertyMultiple 14, who-Has 33,
  // who-Is 34.
  std::array<uint8_t, 7> services{};
  for (int bit : {12, 14, 33, 34}) services[size_t(bit / 8)] |= uint8_t(0x80 >> (bit % 8));
  CHECK_BYTES(encode([&](Writer& w) { put_bit_string(w, BitString{services, 7}); }),
              "85 08 07 00 0A 00 00 60 00 00");
  // 65 object-type bits: device 8, file 10, network-port 56.
  std::array<uint8_t, 9> types{};
  for (int bit : {8, 10, 56}) types[size_t(bit / 8)] |= uint8_t(0x80 >> (bit % 8));
  const auto bytes = encode([&](Writer& w) { put_bit_string(w, BitString{types, 7}); });
  CHECK_BYTES(bytes, "85 0A 07 00 A0 00 00 00 00 00 80 00");
  const BitString back = decode_one<BitString>(bytes, [](Reader& r, BitString& v) { return get_bit_string(r, v); });
  CHECK(back.size() == 65);
  CHECK(back.test(8));
  CHECK(back.test(10));
  CHECK(back.test(56));
  CHECK_FALSE(back.test(9));
  CHECK_FALSE(back.test(65));
  const std::array<uint8_t, 1> flags{0};
  CHECK_BYTES(encode([&](Writer& w) { put_bit_string(w, BitString{flags, 4}); }), "82 04 00");
}

TEST_CASE("Date, Time and BACnetDateTime; unspecified is all 0xFF") {
  const DateTime connected{{124, 5, 17, 5}, {10, 30, 0, 0}};  // 2024-05-17 (Fri) 10:30:00.00
  CHECK_BYTES(encode([&](Writer& w) { put_date_time(w, connected, 1); }),
              "1E A4 7C 05 11 05 B4 0A 1E 00 00 1F");
  const auto unspecified = encode([](Writer& w) { put_date_time(w, DateTime{}, 2); });
  CHECK_BYTES(unspecified, "2E A4 FF FF FF FF B4 FF FF FF FF 2F");
  DateTime back = connected;
  Reader r(unspecified);
  REQUIRE(get_date_time(r, back, 2) == Status::kOk);
  CHECK(back.unspecified());
}

TEST_CASE("extended tag numbers, extended lengths, opening and closing tags") {
  CHECK_BYTES(encode([](Writer& w) { put_unsigned(w, 5, ctx(20)); }), "F9 14 05");
  CHECK_BYTES(encode([](Writer& w) { put_opening(w, 20); put_closing(w, 20); }), "FE 14 FF 14");
  CHECK_BYTES(encode([](Writer& w) { put_opening(w, 3); put_closing(w, 3); }), "3E 3F");
  std::vector<uint8_t> big(300, 0xAB);
  auto bytes = encode([&](Writer& w) { put_octet_string(w, big); });
  CHECK(bacnet_test::to_hex(std::span(bytes).first(4)) == "65 FE 01 2C");
  big.assign(70000, 0xCD);
  bytes = encode([&](Writer& w) { put_octet_string(w, big); }, 80000);
  CHECK(bacnet_test::to_hex(std::span(bytes).first(6)) == "65 FF 00 01 11 70");
  std::span<const uint8_t> back;
  Reader r(bytes);
  REQUIRE(get_octet_string(r, back) == Status::kOk);
  CHECK(back.size() == 70000);
  // Length 5..253 takes one extended octet.
  bytes = encode([](Writer& w) { put_character_string(w, "timeout", ctx(7)); });
  CHECK_BYTES(bytes, "7D 08 00 74 69 6D 65 6F 75 74");
  uint64_t v = 0;
  const auto ext = hex("F9 14 05");
  Reader re(ext);
  REQUIRE(get_unsigned(re, v, ctx(20)) == Status::kOk);
  CHECK(v == 5);
}

TEST_CASE("get_enclosed returns the octets of a nested value and checks the nesting") {
  const auto bytes = hex("3E 0E 1C C0 A8 01 6D 0F 1A C4 2E 3F 09");
  Reader r(bytes);
  std::span<const uint8_t> inside;
  REQUIRE(get_enclosed(r, 3, inside) == Status::kOk);
  CHECK(bacnet_test::to_hex(inside) == "0E 1C C0 A8 01 6D 0F 1A C4 2E");
  CHECK(r.offset() == 12);
  CHECK(decode_status("3E 0E 3F 0F", [](Reader& rd) { std::span<const uint8_t> s; return get_enclosed(rd, 3, s); }) ==
        Status::kUnexpectedTag);
  CHECK(decode_status("3E 0E 1C C0", [](Reader& rd) { std::span<const uint8_t> s; return get_enclosed(rd, 3, s); }) ==
        Status::kLengthOverrun);
  CHECK(decode_status("3E 0E", [](Reader& rd) { std::span<const uint8_t> s; return get_enclosed(rd, 3, s); }) ==
        Status::kTruncated);
  // Nesting deeper than kMaxNesting is refused, not followed.
  std::vector<uint8_t> deep{0x3E};
  deep.insert(deep.end(), kMaxNesting + 1, 0x0E);
  Reader rd(deep);
  std::span<const uint8_t> s;
  CHECK(get_enclosed(rd, 3, s) == Status::kBadTag);
}

TEST_CASE("malformed tags and values give the precise Status") {
  auto unsigned_of = [](std::string_view text, TagId id = kApplication) {
    return decode_status(text, [id](Reader& r) { uint64_t v; return get_unsigned(r, v, id); });
  };
  CHECK(unsigned_of("") == Status::kTruncated);
  CHECK(unsigned_of("25") == Status::kTruncated);           // extended length octet missing
  CHECK(unsigned_of("25 FE 01") == Status::kTruncated);     // 16-bit length cut short
  CHECK(unsigned_of("F9") == Status::kTruncated);           // extended tag number missing
  CHECK(unsigned_of("22 01") == Status::kLengthOverrun);    // 2 content octets declared, 1 there
  CHECK(unsigned_of("25 FE FF FF 00") == Status::kLengthOverrun);  // oversize length
  CHECK(unsigned_of("25 FF FF FF FF FF 00") == Status::kLengthOverrun);
  CHECK(unsigned_of("91 03") == Status::kWrongType);        // an ENUMERATED
  CHECK(unsigned_of("09 01", ctx(1)) == Status::kUnexpectedTag);
  CHECK(unsigned_of("1E", ctx(1)) == Status::kUnexpectedTag);  // an opening tag
  CHECK(unsigned_of("20") == Status::kBadLength);           // no content octets
  CHECK(unsigned_of("25 09 01 02 03 04 05 06 07 08 09") == Status::kBadLength);
  CHECK(unsigned_of("F8 FF") == Status::kBadTag);           // reserved extended tag number
  CHECK(unsigned_of("06") == Status::kBadTag);              // application tag cannot open
  CHECK(decode_status("12", [](Reader& r) { bool b; return get_boolean(r, b); }) == Status::kBadLength);
  CHECK(decode_status("29 02", [](Reader& r) { bool b; return get_boolean(r, b, ctx(2)); }) ==
        Status::kOutOfRange);
  CHECK(decode_status("C3 01 02 03", [](Reader& r) { ObjectId o; return get_object_id(r, o); }) ==
        Status::kBadLength);
  CHECK(decode_status("75 03 04 41 42", [](Reader& r) { std::string_view s; return get_character_string(r, s); }) ==
        Status::kUnsupportedCharset);
  CHECK(decode_status("70", [](Reader& r) { std::string_view s; return get_character_string(r, s); }) ==
        Status::kBadLength);
  CHECK(decode_status("82 08 00", [](Reader& r) { BitString b; return get_bit_string(r, b); }) ==
        Status::kOutOfRange);
  CHECK(decode_status("81 03", [](Reader& r) { BitString b; return get_bit_string(r, b); }) ==
        Status::kOutOfRange);  // unused bits without any bit octet
  CHECK(decode_status("22 01 00", [](Reader& r) { uint32_t v; return get_unsigned(r, v, 255); }) ==
        Status::kOutOfRange);
  CHECK(decode_status("A3 7C 05 11", [](Reader& r) { Date d; return get_date(r, d); }) ==
        Status::kBadLength);
}

TEST_CASE("Writer stops at its capacity and reports overflow") {
  std::array<uint8_t, 4> buf{};
  Writer w(buf);
  put_object_id(w, kDevice4000);  // 5 octets: the tag fits, the 4 content octets do not
  CHECK(w.overflow());
  CHECK(w.size() == 1);
  put_null(w);  // nothing more is written once overflowed, even what would fit
  CHECK(w.size() == 1);
  std::array<uint8_t, 5> exact{};
  Writer fits(exact);
  put_object_id(fits, kDevice4000);
  CHECK(fits.ok());
  CHECK(fits.size() == 5);
}
