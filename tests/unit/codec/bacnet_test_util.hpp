// Helpers of the BACnet codec tests: hex vectors and encoding into a bounded buffer.
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bsc/bacnet/asn1_values.hpp"
#include "bsc/bacnet/writer.hpp"
#include "test_bytes.hpp"

namespace bacnet_test {

// The objects of the doc's vectors.
constexpr bsc::bacnet::ObjectId kDevice4000{8, 4000};
constexpr bsc::bacnet::ObjectId kPort1{56, 1};
constexpr bsc::bacnet::ObjectId kFile5{10, 5};

using bsc::test::hex;
// The doc's vectors are written "0A 0B": failures print in the same form.
inline std::string to_hex(std::span<const uint8_t> bytes) { return bsc::test::to_hex(bytes, " "); }

// Runs `encode(Writer&)` into a buffer of `capacity` octets; must not overflow.
template <class F>
std::vector<uint8_t> encode(F&& encode_fn, size_t capacity = 4096) {
  std::vector<uint8_t> buf(capacity);
  bsc::bacnet::Writer w(buf);
  encode_fn(w);
  REQUIRE_FALSE(w.overflow());
  buf.resize(w.size());
  return buf;
}

// Compares as hex text, so a failure prints both vectors readably.
#define CHECK_BYTES(actual, expected_hex) \
  CHECK(bacnet_test::to_hex(actual) == bacnet_test::to_hex(bacnet_test::hex(expected_hex)))

}  // namespace bacnet_test
