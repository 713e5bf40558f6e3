// Vmac and Uuid: text forms, parse rejects, integer keys.
#include <doctest/doctest.h>

#include "bsc/vmac.hpp"

using bsc::Uuid;
using bsc::Vmac;

namespace {
const Vmac kNodeA{{0x02, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5}};
const Uuid kUuidA{{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB,
                   0xCC, 0xDD, 0xEE, 0xFF}};
}  // namespace

TEST_CASE("Vmac formats as upper-case colon-separated hex") {
  CHECK(kNodeA.to_string() == "02:A1:B2:C3:D4:E5");
  CHECK(Vmac{}.to_string() == "00:00:00:00:00:00");
  CHECK(Vmac::broadcast().to_string() == "FF:FF:FF:FF:FF:FF");
}

TEST_CASE("Vmac parses colon, dash and plain hex forms in either case") {
  for (const char* text : {"02:A1:B2:C3:D4:E5", "02-A1-B2-C3-D4-E5", "02A1B2C3D4E5",
                           "02:a1:b2:c3:d4:e5", "02a1B2c3D4e5"}) {
    CAPTURE(text);
    const auto v = Vmac::parse(text);
    REQUIRE(v.has_value());
    CHECK(*v == kNodeA);
  }
}

TEST_CASE("Vmac survives a format and parse round trip") {
  for (const Vmac& v : {kNodeA, Vmac{}, Vmac::broadcast(),
                        Vmac{{0x12, 0xF0, 0xE1, 0xD2, 0xC3, 0xB4}}}) {
    const auto back = Vmac::parse(v.to_string());
    REQUIRE(back.has_value());
    CHECK(*back == v);
  }
}

TEST_CASE("Vmac parse rejects malformed text") {
  for (const char* text : {"", "02:A1:B2:C3:D4", "02:A1:B2:C3:D4:E5:F6", "02:A1-B2:C3:D4:E5",
                           "02.A1.B2.C3.D4.E5", "0G:A1:B2:C3:D4:E5", "2:A1:B2:C3:D4:E5:",
                           "02A1B2C3D4E", "02A1B2C3D4E5F", " 02A1B2C3D4E5", "02A1B2C3D4E ",
                           "02:A1:B2:C3:D4:E ", "02::A1B2:C3:D4E5", "+2A1B2C3D4E5"}) {
    CAPTURE(text);
    CHECK_FALSE(Vmac::parse(text).has_value());
  }
}

TEST_CASE("Vmac knows the unset and broadcast values") {
  CHECK(Vmac{}.is_unset());
  CHECK_FALSE(kNodeA.is_unset());
  CHECK(Vmac::broadcast().is_broadcast());
  CHECK_FALSE(kNodeA.is_broadcast());
}

TEST_CASE("Vmac key is the 48 bits big-endian and converts back") {
  CHECK(kNodeA.key() == 0x02A1B2C3D4E5ULL);
  CHECK(Vmac::from_key(0x02A1B2C3D4E5ULL) == kNodeA);
  CHECK(Vmac::broadcast().key() == 0xFFFFFFFFFFFFULL);
  CHECK(Vmac::from_key(Vmac::broadcast().key()) == Vmac::broadcast());
}

TEST_CASE("Uuid formats as lower-case 8-4-4-4-12") {
  CHECK(kUuidA.to_string() == "00112233-4455-6677-8899-aabbccddeeff");
  CHECK(Uuid{}.to_string() == "00000000-0000-0000-0000-000000000000");
}

TEST_CASE("Uuid parses the dashed form and 32 plain digits in either case") {
  for (const char* text : {"00112233-4455-6677-8899-aabbccddeeff",
                           "00112233-4455-6677-8899-AABBCCDDEEFF",
                           "00112233445566778899AABBCCDDEEFF", "00112233445566778899aabbccddeeff"}) {
    CAPTURE(text);
    const auto u = Uuid::parse(text);
    REQUIRE(u.has_value());
    CHECK(*u == kUuidA);
  }
}

TEST_CASE("Uuid survives a format and parse round trip") {
  const Uuid hub{{0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
                  0x22, 0x11, 0x00}};
  for (const Uuid& u : {kUuidA, hub, Uuid{}}) {
    const auto back = Uuid::parse(u.to_string());
    REQUIRE(back.has_value());
    CHECK(*back == u);
  }
}

TEST_CASE("Uuid parse rejects malformed text") {
  for (const char* text : {"", "00112233-4455-6677-8899-aabbccddeef",
                           "00112233-4455-6677-8899-aabbccddeeff0",
                           "001122334-455-6677-8899-aabbccddeeff",
                           "00112233-4455-6677-8899_aabbccddeeff",
                           "0011223344556677-8899-aabbccddeeff00",
                           "{00112233-4455-6677-8899-aabbccddeeff}",
                           "00112233-4455-6677-8899-aabbccddeegf",
                           "00112233445566778899AABBCCDDEEF", "00112233445566778899AABBCCDDEEFG",
                           "00112233445566778899AABBCCDDEEFF0", "0011223344556677-8899AABBCCDDEEF"}) {
    CAPTURE(text);
    CHECK_FALSE(Uuid::parse(text).has_value());
  }
}
