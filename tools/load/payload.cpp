#include "payload.hpp"

#include <array>
#include <cstring>

#include "util/xorshift.hpp"

namespace bsc::load {
namespace {

constexpr uint32_t kMagic = 0x444C5342;  // "BSLD" in memory order
constexpr size_t kChecksumAt = 20;

// Padding source: 2 KiB of xorshift output, read from an offset that depends on the
// sequence number so neighbouring messages differ.
const std::array<uint8_t, 2048>& pattern() {
  static const std::array<uint8_t, 2048> p = [] {
    std::array<uint8_t, 2048> a{};
    Xorshift64 rng(0x9E3779B97F4A7C15ULL);
    for (auto& b : a) b = rng.next8();
    return a;
  }();
  return p;
}

uint64_t fnv_words(uint64_t h, const uint8_t* p, size_t n) {
  constexpr uint64_t kPrime = 0x100000001B3ULL;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kPrime;
  }
  for (; n > 0; ++p, --n) h = (h ^ *p) * kPrime;
  return h;
}

uint32_t checksum(const uint8_t* p, size_t len) {
  uint64_t h = 0xCBF29CE484222325ULL;
  h = fnv_words(h, p, kChecksumAt);
  h = fnv_words(h, p + kPayloadHeader, len - kPayloadHeader);
  return uint32_t(h ^ (h >> 32));
}

}  // namespace

void write_payload(uint8_t* out, size_t size, Kind kind, uint32_t seq, uint64_t ts_ns) {
  uint16_t len16 = uint16_t(size);
  std::memcpy(out, &kMagic, 4);
  std::memcpy(out + 4, &len16, 2);
  out[6] = uint8_t(kind);
  out[7] = 0;
  std::memcpy(out + 8, &seq, 4);
  std::memcpy(out + 12, &ts_ns, 8);
  size_t pad = size - kPayloadHeader;
  if (pad > 0) {
    const auto& pat = pattern();
    size_t from = (seq * 131u) & 511u;  // from + pad <= 512 + 1473 < 2048
    std::memcpy(out + kPayloadHeader, pat.data() + from, pad);
  }
  uint32_t sum = checksum(out, size);
  std::memcpy(out + kChecksumAt, &sum, 4);
}

bool read_payload(const uint8_t* p, size_t len, PayloadInfo* info) {
  if (len < kPayloadHeader || len > kMaxPayload) return false;
  uint32_t magic, sum;
  uint16_t len16;
  std::memcpy(&magic, p, 4);
  std::memcpy(&len16, p + 4, 2);
  std::memcpy(&sum, p + kChecksumAt, 4);
  if (magic != kMagic || len16 != len || p[7] != 0) return false;
  if (sum != checksum(p, len)) return false;
  info->kind = Kind(p[6]);
  std::memcpy(&info->seq, p + 8, 4);
  std::memcpy(&info->ts_ns, p + 12, 8);
  return true;
}

}  // namespace bsc::load
