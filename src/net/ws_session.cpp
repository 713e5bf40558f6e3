#include "net/ws_session.hpp"

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace bsc {

WsSession::WsSession(IO* io, Role role, size_t max_message)
    : io_(io),
      mask_state_(uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) |
                  1) {
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

ssize_t WsSession::on_recv(wslay_event_context_ptr ctx, uint8_t* buf, size_t len, int,
                           void* self) {
  size_t n = static_cast<WsSession*>(self)->io_->ws_pull(buf, len);
  if (n == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  return ssize_t(n);
}

ssize_t WsSession::on_send(wslay_event_context_ptr, const uint8_t* data, size_t len, int,
                           void* self) {
  static_cast<WsSession*>(self)->io_->ws_push(data, len);
  return ssize_t(len);
}

int WsSession::on_genmask(wslay_event_context_ptr, uint8_t* buf, size_t len, void* self) {
  // xorshift64*: masks only need to be unpredictable to intermediaries, and this is the
  // load tool's hot path.
  auto* s = static_cast<WsSession*>(self);
  for (size_t i = 0; i < len; ++i) {
    s->mask_state_ ^= s->mask_state_ >> 12;
    s->mask_state_ ^= s->mask_state_ << 25;
    s->mask_state_ ^= s->mask_state_ >> 27;
    buf[i] = uint8_t((s->mask_state_ * 0x2545F4914F6CDD1DULL) >> 56);
  }
  return 0;
}

void WsSession::on_msg(wslay_event_context_ptr ctx, const wslay_event_on_msg_recv_arg* arg,
                       void* self) {
  auto* s = static_cast<WsSession*>(self);
  // Once we have failed the connection, nothing more from this peer is processed, even
  // frames that arrived in the same read (RFC 6455 §7.1.7).
  if (s->failed_) return;
  if (arg->opcode == WSLAY_BINARY_FRAME) {
    s->io_->ws_message(arg->msg, arg->msg_length);
  } else if (arg->opcode == WSLAY_TEXT_FRAME) {
    // BVLC-SC travels in binary messages only (Std AB.7.5.3).
    s->failed_ = true;
    wslay_event_queue_close(ctx, ws_close::kUnsupportedData,
                            reinterpret_cast<const uint8_t*>("binary only"), 11);
    s->io_->ws_rejected("text frame");
  }
}

bool WsSession::flush() {
  if (!wslay_event_want_write(ctx_)) return true;
  return wslay_event_send(ctx_) == 0;
}

bool WsSession::receive() {
  if (wslay_event_get_read_enabled(ctx_)) {
    if (wslay_event_recv(ctx_) != 0) {
      flush();
      return false;
    }
  }
  return flush();
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
