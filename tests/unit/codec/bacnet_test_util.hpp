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

namespace bacnet_test {

// The objects of the doc's vectors.
constexpr bsc::bacnet::ObjectId kDevice4000{8, 4000};
constexpr bsc::bacnet::ObjectId kPort1{56, 1};
constexpr bsc::bacnet::ObjectId kFile5{10, 5};

// "01 20 FF" -> {0x01, 0x20, 0xFF}; spaces ignored.
inline std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : text) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
          : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi << 4 | v));
      hi = -1;
    }
  }
  REQUIRE(hi < 0);
  return out;
}

inline std::string to_hex(std::span<const uint8_t> bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string s;
  for (uint8_t b : bytes) {
    if (!s.empty()) s += ' ';
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

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
