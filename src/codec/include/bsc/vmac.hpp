// VMAC (6 octets) and Device UUID (16 octets): the two identities of a BACnet/SC node.
// Threads: plain values, safe to copy anywhere.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bsc {

struct Vmac {
  std::array<uint8_t, 6> bytes{};

  static constexpr Vmac broadcast() { return Vmac{{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}}; }
  // 00:00:00:00:00:00 means "unknown / not set" (Std AB.1.5.2): never a node address.
  bool is_unset() const { return bytes == std::array<uint8_t, 6>{}; }
  bool is_broadcast() const { return *this == broadcast(); }
  // The 48 bits as an integer key (fits a 64-bit atomic word in the routing map).
  uint64_t key() const {
    uint64_t k = 0;
    for (uint8_t b : bytes) k = (k << 8) | b;
    return k;
  }
  static Vmac from_key(uint64_t k) {
    Vmac v;
    for (int i = 5; i >= 0; --i, k >>= 8) v.bytes[size_t(i)] = uint8_t(k);
    return v;
  }
  std::string to_string() const;  // "02:A1:B2:C3:D4:E5"
  // Accepts "02:A1:B2:C3:D4:E5", "02-A1-..." or 12 hex digits.
  static std::optional<Vmac> parse(std::string_view text);
  friend bool operator==(const Vmac&, const Vmac&) = default;
};

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  std::string to_string() const;  // 8-4-4-4-12 lower-case hex
  // Accepts the 8-4-4-4-12 form or 32 hex digits.
  static std::optional<Uuid> parse(std::string_view text);
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

}  // namespace bsc
