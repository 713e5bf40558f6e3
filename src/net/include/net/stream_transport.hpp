// StreamTransport: one TCP stream (libuv) with optional TLS, the part of a connection both
// ends share: the hub's Connection (core) and the load tool's Node (tools/load) sit on it.
//
// Input: every read lands in a buffer the owner supplies (one per loop: data is consumed
// before the next read) and goes to the owner (Events::on_transport_read), which decides
// whether to feed() it; pull_plain() then yields the plaintext in arrival order (decrypted,
// or as received on plain TCP, after anything put back with unread()).
// Output: the owner appends plaintext to output(); flush() (the owner's drain pass, once per
// loop iteration) encrypts all of it in as few TLS records as possible, tries a direct write
// and hands what the kernel did not take to one uv_write. One write is in flight at a time.
//
// Events reach the owner once per read, write completion and close: never per frame.
// Threads: [owner] only: the loop thread that called init().
#pragma once
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "net/tls_session.hpp"

namespace bsc {

class StreamTransport {
 public:
  class Events {
   public:
    // Bytes read off the socket (ciphertext with TLS). The owner feed()s what it keeps.
    virtual void on_transport_read(const uint8_t* data, size_t len) = 0;
    // The peer closed TCP (UV_EOF) or reading failed (a libuv error code).
    virtual void on_transport_read_end(int status) = 0;
    // The queued uv_write finished: status 0, or < 0 (failed, UV_ECANCELED when closed).
    // The written bytes are already released.
    virtual void on_transport_written(int status) = 0;
    // The TCP handle is closed; the transport may be destroyed from here on.
    virtual void on_transport_closed() = 0;

   protected:
    ~Events() = default;
  };

  // What flush() did.
  enum class Flush {
    kNothing,      // nothing to write
    kSent,         // the kernel took everything
    kQueued,       // the rest waits in a uv_write (on_transport_written follows)
    kBusy,         // a write is still in flight, or the handle is closing: nothing done
    kTlsFailed,    // encrypting failed: tls()->failure_reason()
    kWriteFailed,  // the socket refused the write: write_error()
  };

  explicit StreamTransport(Events* owner);
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  // Initialises the TCP handle on `loop`; reads will use [read_buf, read_buf + size), which
  // must outlive the transport. Once, or again after the close callback (a new stream);
  // the handle counts as open from here to close().
  int init(uv_loop_t* loop, uint8_t* read_buf, size_t size);
  // For accept, connect, bind, nodelay, getpeername.
  uv_tcp_t* tcp() { return &tcp_; }
  // Starts the TLS session (before any feed()).
  void set_tls(std::unique_ptr<TlsSession> tls) { tls_ = std::move(tls); }
  TlsSession* tls() { return tls_.get(); }
  const TlsSession* tls() const { return tls_.get(); }

  // True before init(), once close() was called, and after the handle is closed: no more
  // reads or writes.
  bool closing() const;
  // The handle is initialised and its close callback has not run yet.
  bool open() const { return open_; }
  void close();

  void start_reading();
  // Read budget: stop reading until resume_reading() (the owner's drain pass).
  void pause_reading();
  void resume_reading();

  // ---- input ----
  // Received bytes: into TLS, or (plain TCP) behind the unread plaintext.
  void feed(const uint8_t* data, size_t len);
  // Puts plaintext back in front of the unread input (what followed an HTTP head).
  void unread(const uint8_t* data, size_t len);
  // Copies up to `cap` plaintext octets into buf, in order. 0 when nothing is ready; then
  // *tls_status says why with TLS: kWant (wait for more), kClosed (close_notify) or kFailed
  // (tls()->failure_reason()). kOk without TLS, or when octets were returned.
  size_t pull_plain(uint8_t* buf, size_t cap, TlsSession::Status* tls_status);
  // Feeds plaintext from `pull` (the owner's pull_plain, which handles TLS ends; 0 stops) to
  // an HTTP head parser (net/http_upgrade.hpp) until it has a verdict, and puts what follows
  // the head back in front of the input: early WebSocket data. kNeedMore if input ran out.
  template <class Parser, class Pull>
  typename Parser::Result read_http_head(Parser& parser, Pull&& pull) {
    uint8_t buf[4096];
    for (;;) {
      size_t n = pull(buf, sizeof buf);
      if (n == 0) return Parser::Result::kNeedMore;
      size_t used = 0;
      typename Parser::Result r = parser.feed(buf, n, &used);
      if (r == Parser::Result::kNeedMore) continue;
      if (used < n) unread(buf + used, n - used);
      return r;
    }
  }

  // ---- output ----
  // Plaintext waiting for the next flush(). The owner appends frames (and may bound it).
  std::vector<uint8_t>& output() { return out_; }
  size_t pending_output() const { return out_.size(); }
  // Octets handed to uv_write that the kernel has not taken yet.
  size_t in_flight() const { return writing_.size(); }
  Flush flush();
  const char* write_error() const { return uv_strerror(write_error_); }

  // Idle memory: gives back every buffer's memory (TLS records included) when nothing is
  // queued or being written in either direction; false, and nothing done, otherwise.
  bool release_idle_buffers();
  // After close: frees the TLS session and every buffer (an ended connection that must stay
  // around keeps no memory).
  void discard_state();

 private:
  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_closed(uv_handle_t* h);
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  Events* owner_;
  uv_tcp_t tcp_;
  uv_write_t write_req_;
  uint8_t* read_buf_ = nullptr;
  size_t read_buf_size_ = 0;
  bool open_ = false;
  bool read_paused_ = false;
  bool write_in_flight_ = false;
  int write_error_ = 0;

  std::unique_ptr<TlsSession> tls_;
  std::vector<uint8_t> plain_in_;  // plaintext not yet consumed (plain TCP, or upgrade rest)
  size_t plain_in_pos_ = 0;
  std::vector<uint8_t> out_;       // plaintext waiting for the drain pass
  std::vector<uint8_t> writing_;   // bytes handed to uv_write, kept until it completes
};

}  // namespace bsc
