// libFuzzer target: bsc::WsSession in the hub's server role, reading the fuzz input as the
// client's plaintext byte stream, once with the receive fast path and once with every frame
// through wslay: both must deliver the same messages and send the same octets. The input is offered in chunks of varying size
// (one chunk per receive() call, as the event loop would after each TLS read), until the
// session fails, finishes or the input is used up. Every binary message goes through
// bsc::decode as the hub would; some are echoed back with send_binary(). The server's own
// output is checked to be well-formed unmasked frames with nothing after a Close.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "bsc/bvlc.hpp"
#include "net/ws_session.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr size_t kMaxMessage = 65536;  // the hub's cap

class FuzzIO final : public bsc::WsSession::IO {
 public:
  FuzzIO(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t ws_pull(uint8_t* buf, size_t cap) override {
    FUZZ_CHECK(pos_ <= offered_);
    size_t n = offered_ - pos_;
    if (n > cap) n = cap;
    if (n > 0) std::memcpy(buf, data_ + pos_, n);
    pos_ += n;
    return n;
  }
  void ws_push(const uint8_t* data, size_t len) override {
    FUZZ_CHECK(len > 0);
    out_.insert(out_.end(), data, data + len);
  }
  void ws_message(const uint8_t* data, size_t len) override {
    FUZZ_CHECK(len <= kMaxMessage);
    ++messages_;
    delivered_.emplace_back(data, data + len);
    // What the hub does with every binary message.
    const bsc::DecodeResult r = bsc::decode(std::span<const uint8_t>(data, len));
    if (r.ok) {
      FUZZ_CHECK(size_t(r.msg.payload.offset) + r.msg.payload.length == len);
    } else {
      FUZZ_CHECK(r.err.why != nullptr);
    }
    if (pending_.size() < 4) pending_.emplace_back(data, data + len);
  }
  void ws_rejected(const char* why) override {
    FUZZ_CHECK(why != nullptr);
    ++rejected_;
  }

  // Makes `n` more input octets readable; false once everything was offered.
  bool offer(size_t n) {
    if (offered_ == size_) return false;
    offered_ = n > size_ - offered_ ? size_ : offered_ + n;
    return true;
  }
  bool all_offered() const { return offered_ == size_; }

  std::vector<std::vector<uint8_t>> take_pending() { return std::move(pending_); }
  const std::vector<uint8_t>& out() const { return out_; }
  const std::vector<std::vector<uint8_t>>& delivered() const { return delivered_; }
  size_t rejected() const { return rejected_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t offered_ = 0;
  std::vector<uint8_t> out_;
  std::vector<std::vector<uint8_t>> pending_;
  std::vector<std::vector<uint8_t>> delivered_;
  size_t messages_ = 0;
  size_t rejected_ = 0;
};

// Server-to-client frames (RFC 6455 §5.2): unmasked, known opcodes, lengths consistent,
// nothing after a Close; a trailing partial frame is allowed only if `complete` is false.
void check_server_output(const std::vector<uint8_t>& out) {
  size_t pos = 0;
  bool closed = false;
  while (pos < out.size()) {
    FUZZ_CHECK(!closed);
    FUZZ_CHECK(out.size() - pos >= 2);
    const uint8_t b0 = out[pos], b1 = out[pos + 1];
    const uint8_t opcode = b0 & 0x0F;
    FUZZ_CHECK((b0 & 0x70) == 0);  // no RSV bits: no extensions negotiated
    FUZZ_CHECK((b1 & 0x80) == 0);  // a server never masks
    FUZZ_CHECK(opcode == 0x0 || opcode == 0x1 || opcode == 0x2 || opcode == 0x8 ||
               opcode == 0x9 || opcode == 0xA);
    size_t len = b1 & 0x7F;
    size_t hdr = 2;
    if (len == 126) {
      FUZZ_CHECK(out.size() - pos >= 4);
      len = size_t(out[pos + 2]) << 8 | out[pos + 3];
      hdr = 4;
    } else if (len == 127) {
      FUZZ_CHECK(out.size() - pos >= 10);
      uint64_t l = 0;
      for (int i = 0; i < 8; ++i) l = l << 8 | out[pos + 2 + size_t(i)];
      FUZZ_CHECK(l <= out.size());
      len = size_t(l);
      hdr = 10;
    }
    if (opcode >= 0x8) {
      FUZZ_CHECK(b0 & 0x80);  // control frames are never fragmented
      FUZZ_CHECK(len <= 125);
    }
    FUZZ_CHECK(out.size() - pos - hdr >= len);
    if (opcode == 0x8) {
      closed = true;
      FUZZ_CHECK(len != 1);
    }
    pos += hdr + len;
  }
}

constexpr size_t kChunks[] = {1, 2, 3, 5, 8, 13, 64, 4096, 7, 512, 1};

// One session over the whole input, as the hub would run it.
void run_session(FuzzIO& io, bool fast_receive) {
  bsc::WsSession session(&io, bsc::WsSession::Role::kServer, kMaxMessage, fast_receive);
  bool alive = true;
  for (size_t i = 0; alive && io.offer(kChunks[i % (sizeof kChunks / sizeof kChunks[0])]); ++i) {
    alive = session.receive();
    // Echo what arrived, as a hub forwards it (copies the data).
    for (auto& m : io.take_pending()) {
      if (!session.send_binary(m.data(), m.size())) break;
    }
    if (session.finished()) break;
  }
  if (alive && !session.finished()) {
    // The hub going away: start the close handshake, then drain whatever is left.
    session.close(bsc::ws_close::kGoingAway, "fuzz end");
    FUZZ_CHECK(session.close_sent());
    (void)session.receive();
  }
  (void)session.close_received();
  (void)session.close_code_received();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzIO fast(data, size), reference(data, size);
  run_session(fast, true);
  run_session(reference, false);
  check_server_output(fast.out());
  FUZZ_CHECK(fast.delivered() == reference.delivered());
  FUZZ_CHECK(fast.out() == reference.out());
  FUZZ_CHECK(fast.rejected() == reference.rejected());

  // The hub's own frame header builder.
  uint8_t hdr[bsc::WsSession::kMaxFrameHeader];
  const size_t len = size * 37;  // cover all three length forms as inputs grow
  const size_t n = bsc::WsSession::binary_frame_header(hdr, len);
  FUZZ_CHECK(n == (len < 126 ? 2 : len <= 0xFFFF ? 4 : 10));
  FUZZ_CHECK(hdr[0] == 0x82);
  return 0;
}
