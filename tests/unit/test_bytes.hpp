// Byte helpers shared by the unit tests: hex text <-> bytes.
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bsc::test {

using Bytes = std::vector<uint8_t>;

// Hex text (spaces ignored) to bytes; test inputs are always well formed.
inline Bytes hex(std::string_view text) {
  auto nibble = [](char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
  };
  Bytes out;
  int high = -1;
  for (char c : text) {
    if (c == ' ') continue;
    if (high < 0) {
      high = nibble(c);
    } else {
      out.push_back(uint8_t(high << 4 | nibble(c)));
      high = -1;
    }
  }
  REQUIRE(high < 0);
  return out;
}

inline std::string to_hex(std::span<const uint8_t> b) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s;
  for (uint8_t x : b) {
    s.push_back(kDigits[x >> 4]);
    s.push_back(kDigits[x & 0x0F]);
  }
  return s;
}

}  // namespace bsc::test
