// WebSocket (RFC 6455) framing over wslay's event API, for either end of a hub connection.
// Input: plaintext pulled from the transport (TLS or plain TCP) through the IO interface.
// Output: whole frames pushed to the transport's pending plaintext. wslay handles masking
// checks, fragment reassembly up to the size cap, ping/pong and the close handshake.
// Receive fast path: a complete, final, binary frame in canonical form (nearly all
// BACnet/SC traffic) is unmasked in place, 8 octets at a time, and handed up without a copy;
// wslay would unmask it octet by octet and copy it into a fresh allocation. Every other frame
// goes to wslay octet for octet, so wslay stays the one judge of protocol errors.
// Threads: [owner] only.
#pragma once
#include <wslay/wslay.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/xorshift.hpp"

namespace bsc {

namespace ws_close {
// RFC 6455 7.4.1 status codes the hub sends or reads.
constexpr uint16_t kNormal = 1000;
constexpr uint16_t kGoingAway = 1001;
constexpr uint16_t kProtocolError = 1002;
constexpr uint16_t kUnsupportedData = 1003;  // text frames (Std AB.7.5.3)
constexpr uint16_t kPolicyViolation = 1008;  // a node that stops reading its output
constexpr uint16_t kTooBig = 1009;
}  // namespace ws_close

// RFC 6455 §5.3 masking, either way: dst[i] = src[i] ^ key[i % 4], eight octets at a time.
// dst may equal src.
void ws_apply_mask(uint8_t* dst, const uint8_t* src, size_t len, const uint8_t key[4]);

class WsSession {
 public:
  class IO {
   public:
    virtual ~IO() = default;
    // Copies up to `cap` plaintext octets into buf; returns 0 when nothing is buffered.
    virtual size_t ws_pull(uint8_t* buf, size_t cap) = 0;
    // Takes whole frames for the peer.
    virtual void ws_push(const uint8_t* data, size_t len) = 0;
    // One complete binary message.
    virtual void ws_message(const uint8_t* data, size_t len) = 0;
    // A non-binary data message arrived (the session already queued close 1003).
    virtual void ws_rejected(const char* why) = 0;
  };

  enum class Role { kServer, kClient };
  // max_message: reassembled messages above it fail the connection with 1009.
  // fast_receive = false sends every frame through wslay (the reference the fast path is
  // fuzzed against).
  WsSession(IO* io, Role role, size_t max_message, bool fast_receive = true);
  ~WsSession();
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  // Processes all buffered input and flushes automatic replies. False on a fatal error
  // (the caller closes the transport).
  bool receive();
  // Queues a binary message (client role: masked via wslay; copies the data).
  bool send_binary(const uint8_t* data, size_t len);
  // Starts the close handshake.
  void close(uint16_t code, const char* reason);
  // The WebSocket is over for data: a Close was sent or received, or the session failed.
  bool ended() const;
  bool close_received() const;
  bool close_sent() const;
  // Neither side may send any more data: the transport can be shut down.
  bool finished() const;
  // Both Close frames have crossed. After a failure wslay found itself (it stops reading),
  // finished() holds while the peer may still be sending; closing TCP then would reset the
  // connection and could destroy our Close frame before the peer read it.
  bool close_handshake_done() const { return close_sent() && close_received(); }
  // wslay still reads input (false once it failed the connection itself).
  bool reading() const;
  uint16_t close_code_received() const;

  // Server frames are unmasked: writes the header of a final binary frame carrying `len`
  // octets into out (<= 10 octets) and returns its size. Lets the hub build a forwarded
  // frame straight in the target's output buffer.
  static size_t binary_frame_header(uint8_t* out, size_t len);
  static constexpr size_t kMaxFrameHeader = 10;

 private:
  bool flush();
  void refuse(uint16_t code);  // fails the connection with Close `code`
  static ssize_t on_recv(wslay_event_context_ptr, uint8_t* buf, size_t len, int, void* self);
  static ssize_t on_send(wslay_event_context_ptr, const uint8_t* data, size_t len, int,
                         void* self);
  static int on_genmask(wslay_event_context_ptr, uint8_t* buf, size_t len, void* self);
  static void on_msg(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg,
                     void* self);

  struct RxBuffer;
  bool process(RxBuffer& rx);
  size_t fill(RxBuffer& rx);

  IO* io_;
  wslay_event_context_ptr ctx_ = nullptr;
  const size_t max_message_;
  const bool expect_masked_;  // server: client frames carry a mask
  const bool fast_receive_;
  std::vector<uint8_t> carry_;     // a partial frame left over from the last receive()
  RxBuffer* rx_ = nullptr;         // the buffer receive() is working through
  uint64_t wslay_owed_ = 0;        // octets of the current frame that belong to wslay
  bool wslay_in_message_ = false;  // wslay holds part of a fragmented message
  Xorshift64 mask_;  // client frames' masking keys
  bool failed_ = false;  // we rejected the peer's data (text frame): ignore the rest
  uint64_t skip_owed_ = 0;  // octets of a refused frame still to be dropped
};

}  // namespace bsc
