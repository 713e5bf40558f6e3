// Byte helpers shared by the unit tests (tests/unit/*/): hex text <-> bytes.
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bsc::test {

using Bytes = std::vector<uint8_t>;

// Hex text to bytes; anything but hex digits (spaces, line breaks) is skipped.
inline Bytes hex(std::string_view text) {
  auto nibble = [](char c) {
    return c >= '0' && c <= '9' ? c - '0'
           : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
  };
  Bytes out;
  int high = -1;
  for (char c : text) {
    int v = nibble(c);
    if (v < 0) continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(uint8_t(high << 4 | v));
      high = -1;
    }
  }
  REQUIRE(high < 0);
  return out;
}

// Upper-case hex, octets separated by `sep` ("0A0B", or "0A 0B" with " ").
inline std::string to_hex(std::span<const uint8_t> b, std::string_view sep = "") {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s;
  for (uint8_t x : b) {
    if (!s.empty()) s += sep;
    s.push_back(kDigits[x >> 4]);
    s.push_back(kDigits[x & 0x0F]);
  }
  return s;
}

}  // namespace bsc::test
