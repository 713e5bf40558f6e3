#include "net/stream_transport.hpp"

#include <cstring>

namespace bsc {

StreamTransport::StreamTransport(Events* owner) : owner_(owner) {
  tcp_.data = this;
  write_req_.data = this;
}

int StreamTransport::init(uv_loop_t* loop, uint8_t* read_buf, size_t size) {
  read_buf_ = read_buf;
  read_buf_size_ = size;
  // Again after a close (a load-tool node reconnecting): nothing of the old stream is left.
  read_paused_ = false;
  write_in_flight_ = false;
  write_error_ = 0;
  int rc = uv_tcp_init(loop, &tcp_);
  open_ = rc == 0;
  return rc;
}

bool StreamTransport::closing() const {
  return !open_ || uv_is_closing(reinterpret_cast<const uv_handle_t*>(&tcp_));
}

void StreamTransport::close() {
  if (closing()) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
}

void StreamTransport::on_closed(uv_handle_t* h) {
  auto* t = static_cast<StreamTransport*>(h->data);
  t->open_ = false;
  t->owner_->on_transport_closed();
}

void StreamTransport::start_reading() { uv_read_start(stream(), on_alloc, on_read); }

void StreamTransport::pause_reading() {
  uv_read_stop(stream());
  read_paused_ = true;
}

void StreamTransport::resume_reading() {
  if (!read_paused_ || closing()) return;
  read_paused_ = false;
  start_reading();
}

void StreamTransport::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  // The owner's buffer, shared by every stream of its loop: each read is consumed (decrypted
  // or copied) before the next one.
  auto* t = static_cast<StreamTransport*>(h->data);
  *buf = uv_buf_init(reinterpret_cast<char*>(t->read_buf_), unsigned(t->read_buf_size_));
}

void StreamTransport::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* t = static_cast<StreamTransport*>(s->data);
  if (nread > 0) {
    t->owner_->on_transport_read(reinterpret_cast<const uint8_t*>(buf->base), size_t(nread));
  } else if (nread < 0) {
    t->owner_->on_transport_read_end(int(nread));
  }
}

void StreamTransport::feed(const uint8_t* data, size_t len) {
  if (tls_) {
    tls_->feed(data, len);
  } else {
    plain_in_.insert(plain_in_.end(), data, data + len);
  }
}

void StreamTransport::unread(const uint8_t* data, size_t len) {
  plain_in_.insert(plain_in_.begin() + long(plain_in_pos_), data, data + len);
}

size_t StreamTransport::pull_plain(uint8_t* buf, size_t cap, TlsSession::Status* tls_status) {
  *tls_status = TlsSession::Status::kOk;
  size_t avail = plain_in_.size() - plain_in_pos_;
  if (avail > 0) {
    size_t n = avail < cap ? avail : cap;
    std::memcpy(buf, plain_in_.data() + plain_in_pos_, n);
    plain_in_pos_ += n;
    if (plain_in_pos_ == plain_in_.size()) {
      plain_in_.clear();
      plain_in_pos_ = 0;
    }
    return n;
  }
  if (!tls_ || !open_) return 0;
  return tls_->read(buf, cap, tls_status);
}

StreamTransport::Flush StreamTransport::flush() {
  if (write_in_flight_ || closing()) return Flush::kBusy;
  std::vector<uint8_t>* buf = &out_;
  if (tls_ && tls_->established()) {
    if (!out_.empty()) {
      if (!tls_->write(out_.data(), out_.size())) return Flush::kTlsFailed;
      out_.clear();
    }
    buf = &tls_->ciphertext_out();
  } else if (tls_) {
    // Handshake records or an alert; plaintext (an HTTP request) waits for the session.
    buf = &tls_->ciphertext_out();
  }
  if (buf->empty()) return Flush::kNothing;
  // Most writes complete at once on loopback/LAN: try that before queueing a request.
  uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(buf->data()), unsigned(buf->size()));
  int n = uv_try_write(stream(), &b, 1);
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    write_error_ = n;
    return Flush::kWriteFailed;
  }
  if (size_t(n) == buf->size()) {
    buf->clear();
    return Flush::kSent;
  }
  if (n == 0) {
    writing_.swap(*buf);  // nothing taken: hand the whole buffer over without a copy
  } else {
    writing_.assign(buf->begin() + n, buf->end());
  }
  buf->clear();
  uv_buf_t rest = uv_buf_init(reinterpret_cast<char*>(writing_.data()), unsigned(writing_.size()));
  write_in_flight_ = true;
  uv_write(&write_req_, stream(), &rest, 1, on_write);
  return Flush::kQueued;
}

void StreamTransport::on_write(uv_write_t* req, int status) {
  auto* t = static_cast<StreamTransport*>(req->data);
  t->write_in_flight_ = false;
  t->writing_.clear();
  t->owner_->on_transport_written(status);
}

// No byte in flight is touched: only when nothing is queued or being written in either
// direction. Afterwards every path works as before (buffers regrow on demand).
bool StreamTransport::release_idle_buffers() {
  if (write_in_flight_ || !out_.empty() || !writing_.empty() || plain_in_pos_ != plain_in_.size())
    return false;
  if (tls_ && !tls_->release_idle_buffers()) return false;
  std::vector<uint8_t>().swap(out_);
  std::vector<uint8_t>().swap(writing_);
  std::vector<uint8_t>().swap(plain_in_);
  plain_in_pos_ = 0;
  return true;
}

void StreamTransport::discard_state() {
  tls_.reset();
  std::vector<uint8_t>().swap(out_);
  std::vector<uint8_t>().swap(writing_);
  std::vector<uint8_t>().swap(plain_in_);
  plain_in_pos_ = 0;
}

}  // namespace bsc
