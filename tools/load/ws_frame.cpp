#include "ws_frame.hpp"

#include <cstring>

namespace bsc::load {

void append_masked_binary_frame(std::vector<uint8_t>& out, const uint8_t* data, size_t len,
                                uint32_t mask) {
  uint8_t hdr[14];
  size_t h = 0;
  hdr[h++] = 0x82;  // FIN + binary
  if (len < 126) {
    hdr[h++] = uint8_t(0x80 | len);
  } else if (len <= 0xFFFF) {
    hdr[h++] = 0x80 | 126;
    hdr[h++] = uint8_t(len >> 8);
    hdr[h++] = uint8_t(len);
  } else {
    hdr[h++] = 0x80 | 127;
    for (int i = 0; i < 8; ++i) hdr[h++] = uint8_t(uint64_t(len) >> (56 - 8 * i));
  }
  uint8_t key[4] = {uint8_t(mask >> 24), uint8_t(mask >> 16), uint8_t(mask >> 8), uint8_t(mask)};
  std::memcpy(hdr + h, key, 4);
  h += 4;

  size_t at = out.size();
  out.resize(at + h + len);
  uint8_t* dst = out.data() + at;
  std::memcpy(dst, hdr, h);
  dst += h;
  // Octet i is XORed with key[i % 4]: eight at a time with the key repeated twice.
  uint64_t k8;
  uint8_t rep[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  std::memcpy(&k8, rep, 8);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= k8;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < len; ++i) dst[i] = data[i] ^ key[i & 3];
}

}  // namespace bsc::load
