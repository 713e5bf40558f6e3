// Text forms of VMAC and Device UUID, for configuration files and logs.
#include "bsc/vmac.hpp"

#include <cstddef>
#include <span>

namespace bsc {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads two hex digits at text[at]; false if either is not a hex digit.
bool read_octet(std::string_view text, size_t at, uint8_t* out) {
  const int hi = hex_value(text[at]);
  const int lo = hex_value(text[at + 1]);
  if (hi < 0 || lo < 0) return false;
  *out = uint8_t(hi << 4 | lo);
  return true;
}

// Reads out.size() octets from exactly 2 * out.size() hex digits, no separators.
bool read_plain_hex(std::string_view text, std::span<uint8_t> out) {
  if (text.size() != out.size() * 2) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!read_octet(text, i * 2, &out[i])) return false;
  }
  return true;
}

void append_hex(std::string& s, uint8_t b, const char* digits) {
  s.push_back(digits[b >> 4]);
  s.push_back(digits[b & 0x0F]);
}

constexpr const char* kUpperDigits = "0123456789ABCDEF";
constexpr const char* kLowerDigits = "0123456789abcdef";

}  // namespace

std::string Vmac::to_string() const {
  std::string s;
  s.reserve(17);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) s.push_back(':');
    append_hex(s, bytes[i], kUpperDigits);
  }
  return s;
}

std::optional<Vmac> Vmac::parse(std::string_view text) {
  Vmac v;
  if (text.size() == 12) {
    if (!read_plain_hex(text, v.bytes)) return std::nullopt;
    return v;
  }
  // "02:A1:B2:C3:D4:E5" or "02-A1-B2-C3-D4-E5": one separator kind throughout.
  if (text.size() != 17) return std::nullopt;
  const char sep = text[2];
  if (sep != ':' && sep != '-') return std::nullopt;
  for (size_t i = 0; i < v.bytes.size(); ++i) {
    if (i != 0 && text[i * 3 - 1] != sep) return std::nullopt;
    if (!read_octet(text, i * 3, &v.bytes[i])) return std::nullopt;
  }
  return v;
}

std::string Uuid::to_string() const {
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    append_hex(s, bytes[i], kLowerDigits);
  }
  return s;
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  Uuid u;
  if (text.size() == 32) {
    if (!read_plain_hex(text, u.bytes)) return std::nullopt;
    return u;
  }
  // 8-4-4-4-12: dashes exactly at 8, 13, 18 and 23, hex digits everywhere else.
  if (text.size() != 36) return std::nullopt;
  char digits[32];
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash_slot = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_slot) {
      if (text[i] != '-') return std::nullopt;
    } else {
      digits[n++] = text[i];
    }
  }
  if (!read_plain_hex(std::string_view(digits, n), u.bytes)) return std::nullopt;
  return u;
}

}  // namespace bsc
