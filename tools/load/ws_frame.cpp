#include "ws_frame.hpp"

#include <cstring>

#include "net/ws_session.hpp"

namespace bsc::load {

void append_masked_binary_frame(std::vector<uint8_t>& out, const uint8_t* data, size_t len,
                                uint32_t mask) {
  uint8_t hdr[WsSession::kMaxFrameHeader + 4];
  size_t h = WsSession::binary_frame_header(hdr, len);
  hdr[1] |= 0x80;  // MASK: a client's frames always carry a key
  const uint8_t key[4] = {uint8_t(mask >> 24), uint8_t(mask >> 16), uint8_t(mask >> 8),
                          uint8_t(mask)};
  std::memcpy(hdr + h, key, 4);
  h += 4;
  const size_t at = out.size();
  out.resize(at + h + len);
  std::memcpy(out.data() + at, hdr, h);
  ws_apply_mask(out.data() + at + h, data, len, key);
}

}  // namespace bsc::load
