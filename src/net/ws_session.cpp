#include "net/ws_session.hpp"

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace bsc {

// Plaintext one receive() call works through: the thread's scratch buffer, big enough for
// the longest frame the fast path takes plus a full TLS record.
struct WsSession::RxBuffer {
  std::vector<uint8_t> bytes;  // size() is the usable capacity
  size_t begin = 0;            // first octet not yet parsed
  size_t end = 0;              // one past the last octet received
  bool in_use = false;
};

namespace {

constexpr size_t kPullRoom = 64 * 1024;  // room for new input beyond one whole frame

// The fixed part of a frame header (RFC 6455 §5.2), as far as the fast path needs it.
struct FrameHead {
  size_t size = 0;       // octets before the payload, mask key included
  uint64_t length = 0;   // payload octets
  uint8_t opcode = 0;
  bool fin = false;
  bool rsv = false;
  bool masked = false;
  bool canonical = false;  // length in its shortest form, top bit clear
};

// False while the header is still incomplete.
bool parse_head(const uint8_t* p, size_t avail, FrameHead* h) {
  if (avail < 2) return false;
  h->fin = p[0] & 0x80;
  h->rsv = p[0] & 0x70;
  h->opcode = p[0] & 0x0F;
  h->masked = p[1] & 0x80;
  const uint8_t len7 = p[1] & 0x7F;
  const size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  h->size = 2 + ext + (h->masked ? 4 : 0);
  if (avail < h->size) return false;
  if (ext == 0) {
    h->length = len7;
    h->canonical = true;
  } else if (ext == 2) {
    h->length = uint64_t(p[2]) << 8 | p[3];
    h->canonical = h->length >= 126;
  } else {
    h->length = 0;
    for (size_t i = 0; i < 8; ++i) h->length = h->length << 8 | p[2 + i];
    h->canonical = h->length > 0xFFFF && h->length >> 63 == 0;
  }
  return true;
}

// Frames the hub fails before wslay sees them, with the status code RFC 6455 and the Std
// want; 0 for a frame that goes on as usual. A malformed frame of any other kind (unmasked,
// RSV bits, unknown opcode) stays wslay's to judge.
uint16_t refusal_for(const FrameHead& h, bool expect_masked, bool in_message) {
  if (h.masked != expect_masked || h.rsv) return 0;
  // BVLC-SC travels in binary messages only (Std AB.7.5.3): 1003 whatever the payload. wslay
  // would check the payload's UTF-8 first and answer 1007 to some of them.
  if (h.opcode == WSLAY_TEXT_FRAME && !in_message) return ws_close::kUnsupportedData;
  // Control frames are final and at most 125 octets, and a Close body holds a status code or
  // nothing (RFC 6455 5.5, 5.5.1): wslay answers these with a Close without status.
  if (h.opcode >= 0x8 && (!h.fin || h.length > 125)) return ws_close::kProtocolError;
  if (h.opcode == WSLAY_CONNECTION_CLOSE && h.length == 1) return ws_close::kProtocolError;
  return 0;
}

}  // namespace

void ws_apply_mask(uint8_t* dst, const uint8_t* src, size_t len, const uint8_t key[4]) {
  // The key repeated twice is the same 8-octet word in either byte order.
  uint32_t k32;
  std::memcpy(&k32, key, 4);
  const uint64_t k64 = uint64_t(k32) << 32 | k32;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, src + i, 8);
    w ^= k64;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < len; ++i) dst[i] = src[i] ^ key[i & 3];
}

WsSession::WsSession(IO* io, Role role, size_t max_message, bool fast_receive)
    : io_(io),
      max_message_(max_message),
      expect_masked_(role == Role::kServer),
      fast_receive_(fast_receive),
      mask_(uint64_t(std::chrono::steady_clock::now().time_since_epoch().count())) {
  wslay_event_callbacks cb{};
  cb.recv_callback = on_recv;
  cb.send_callback = on_send;
  cb.genmask_callback = on_genmask;
  cb.on_msg_recv_callback = on_msg;
  int rc = role == Role::kServer ? wslay_event_context_server_init(&ctx_, &cb, this)
                                 : wslay_event_context_client_init(&ctx_, &cb, this);
  if (rc != 0) throw std::bad_alloc();
  wslay_event_config_set_max_recv_msg_length(ctx_, max_message);
}

WsSession::~WsSession() { wslay_event_context_free(ctx_); }

// wslay reads only the frames process() gave it, and only as far as they have arrived, so
// it is back at a frame boundary whenever wslay_owed_ reaches zero.
ssize_t WsSession::on_recv(wslay_event_context_ptr ctx, uint8_t* buf, size_t len, int,
                           void* self) {
  auto* s = static_cast<WsSession*>(self);
  RxBuffer* rx = s->rx_;
  size_t n = rx ? rx->end - rx->begin : 0;
  if (n > len) n = len;
  if (n > s->wslay_owed_) n = size_t(s->wslay_owed_);
  if (n == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  std::memcpy(buf, rx->bytes.data() + rx->begin, n);
  rx->begin += n;
  s->wslay_owed_ -= n;
  return ssize_t(n);
}

ssize_t WsSession::on_send(wslay_event_context_ptr, const uint8_t* data, size_t len, int,
                           void* self) {
  static_cast<WsSession*>(self)->io_->ws_push(data, len);
  return ssize_t(len);
}

int WsSession::on_genmask(wslay_event_context_ptr, uint8_t* buf, size_t len, void* self) {
  // Masks only need to be unpredictable to intermediaries (util/xorshift.hpp), and this is
  // the load tool's hot path.
  auto* s = static_cast<WsSession*>(self);
  for (size_t i = 0; i < len; ++i) buf[i] = s->mask_.next8();
  return 0;
}

void WsSession::on_msg(wslay_event_context_ptr ctx, const wslay_event_on_msg_recv_arg* arg,
                       void* self) {
  auto* s = static_cast<WsSession*>(self);
  // Once we have failed the connection, nothing more from this peer is processed, even
  // frames that arrived in the same read (RFC 6455 §7.1.7).
  if (s->failed_) return;
  // Text messages never get here: process() refuses their first frame.
  (void)ctx;
  if (arg->opcode == WSLAY_BINARY_FRAME) s->io_->ws_message(arg->msg, arg->msg_length);
}

void WsSession::refuse(uint16_t code) {
  failed_ = true;
  if (code == ws_close::kUnsupportedData) {
    wslay_event_queue_close(ctx_, code, reinterpret_cast<const uint8_t*>("binary only"), 11);
    io_->ws_rejected("text frame");
  } else {
    wslay_event_queue_close(ctx_, code, nullptr, 0);
  }
}

bool WsSession::flush() {
  if (!wslay_event_want_write(ctx_)) return true;
  return wslay_event_send(ctx_) == 0;
}

bool WsSession::reading() const { return wslay_event_get_read_enabled(ctx_); }

bool WsSession::receive() {
  thread_local RxBuffer scratch;
  RxBuffer nested;  // only if a message handler re-enters some session's receive()
  RxBuffer& rx = scratch.in_use ? nested : scratch;
  const size_t room = max_message_ + kMaxFrameHeader + 4 + kPullRoom;
  if (rx.bytes.size() < room) rx.bytes.resize(room);
  rx.in_use = true;
  rx.begin = 0;
  rx.end = carry_.size();
  if (!carry_.empty()) std::memcpy(rx.bytes.data(), carry_.data(), carry_.size());
  rx_ = &rx;

  bool ok = true;
  while (ok && reading()) {
    const size_t got = fill(rx);
    ok = process(rx);
    if (got == 0) break;
  }
  // Keep a partial frame for next time (a fast-path frame only: wslay took its own bytes).
  carry_.assign(rx.bytes.data() + rx.begin, rx.bytes.data() + rx.end);
  if (carry_.empty() && carry_.capacity() > 4096) carry_ = {};
  rx_ = nullptr;
  rx.in_use = false;
  if (!ok) {
    flush();
    return false;
  }
  return flush();
}

// Pulls input until the buffer is full or the transport has nothing more; returns octets
// pulled.
size_t WsSession::fill(RxBuffer& rx) {
  if (rx.begin > 0) {
    std::memmove(rx.bytes.data(), rx.bytes.data() + rx.begin, rx.end - rx.begin);
    rx.end -= rx.begin;
    rx.begin = 0;
  }
  size_t got = 0;
  while (rx.end < rx.bytes.size()) {
    size_t n = io_->ws_pull(rx.bytes.data() + rx.end, rx.bytes.size() - rx.end);
    if (n == 0) break;
    rx.end += n;
    got += n;
  }
  return got;
}

// Delivers every complete frame in rx: the fast path's own, the rest through wslay. False
// when wslay failed the connection.
bool WsSession::process(RxBuffer& rx) {
  while (rx.begin < rx.end && reading()) {
    if (skip_owed_ > 0) {
      const uint64_t here = rx.end - rx.begin;
      const size_t n = size_t(skip_owed_ < here ? skip_owed_ : here);
      rx.begin += n;
      skip_owed_ -= n;
      continue;
    }
    if (wslay_owed_ > 0) {
      if (wslay_event_recv(ctx_) != 0) return false;
      if (wslay_owed_ > 0) return true;  // the rest of wslay's frame is still on its way
      continue;
    }
    uint8_t* p = rx.bytes.data() + rx.begin;
    FrameHead h;
    if (!parse_head(p, rx.end - rx.begin, &h)) return true;
    // After a refusal only the peer's Close matters (RFC 6455 7.1.7): the rest is dropped.
    const uint16_t refusal = failed_ ? 0 : refusal_for(h, expect_masked_, wslay_in_message_);
    if (refusal) refuse(refusal);
    if (failed_ && (refusal || h.opcode != WSLAY_CONNECTION_CLOSE)) {
      skip_owed_ = h.length > UINT64_MAX - h.size ? UINT64_MAX : h.size + h.length;
      continue;
    }
    const bool fast = fast_receive_ && h.fin && !h.rsv && h.opcode == WSLAY_BINARY_FRAME &&
                      h.masked == expect_masked_ && h.canonical && h.length <= max_message_ &&
                      !wslay_in_message_ && !failed_ && !wslay_event_get_close_sent(ctx_);
    if (fast) {
      if (rx.end - rx.begin - h.size < h.length) return true;  // wait for the whole frame
      uint8_t* payload = p + h.size;
      const size_t len = size_t(h.length);
      if (h.masked) ws_apply_mask(payload, payload, len, payload - 4);
      rx.begin += h.size + len;
      io_->ws_message(payload, len);
      continue;
    }
    // wslay's frame: it judges it (and may fail the connection) and keeps the state of a
    // fragmented message, which we mirror to know when frames may take the fast path again.
    wslay_owed_ = h.length > UINT64_MAX - h.size ? UINT64_MAX : h.size + h.length;
    if (h.opcode == WSLAY_TEXT_FRAME || h.opcode == WSLAY_BINARY_FRAME)
      wslay_in_message_ = !h.fin;
    else if (h.opcode == WSLAY_CONTINUATION_FRAME && h.fin)
      wslay_in_message_ = false;
  }
  return true;
}

bool WsSession::send_binary(const uint8_t* data, size_t len) {
  if (!wslay_event_get_write_enabled(ctx_) || wslay_event_get_close_sent(ctx_)) return false;
  wslay_event_msg msg{WSLAY_BINARY_FRAME, data, len};
  if (wslay_event_queue_msg(ctx_, &msg) != 0) return false;
  return flush();
}

void WsSession::close(uint16_t code, const char* reason) {
  if (wslay_event_get_close_sent(ctx_)) return;
  wslay_event_queue_close(ctx_, code, reinterpret_cast<const uint8_t*>(reason),
                          reason ? std::strlen(reason) : 0);
  flush();
}

bool WsSession::ended() const {
  // Either side closed, or wslay failed the connection (protocol error, message too big:
  // it queues the Close itself and stops reading).
  return failed_ || wslay_event_get_close_sent(ctx_) || wslay_event_get_close_received(ctx_) ||
         !wslay_event_get_read_enabled(ctx_);
}

bool WsSession::close_received() const { return wslay_event_get_close_received(ctx_); }
bool WsSession::close_sent() const { return wslay_event_get_close_sent(ctx_); }
bool WsSession::finished() const {
  return wslay_event_get_close_sent(ctx_) &&
         (wslay_event_get_close_received(ctx_) || !wslay_event_get_read_enabled(ctx_));
}
uint16_t WsSession::close_code_received() const {
  return wslay_event_get_status_code_received(ctx_);
}

size_t WsSession::binary_frame_header(uint8_t* out, size_t len) {
  out[0] = 0x82;  // FIN + binary
  if (len < 126) {
    out[1] = uint8_t(len);
    return 2;
  }
  if (len <= 0xFFFF) {
    out[1] = 126;
    out[2] = uint8_t(len >> 8);
    out[3] = uint8_t(len);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = uint8_t(uint64_t(len) >> (56 - 8 * i));
  return 10;
}

}  // namespace bsc
