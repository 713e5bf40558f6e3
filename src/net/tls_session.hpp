// One TLS 1.3 session over in-memory ciphertext buffers (h2o style): the socket layer
// feeds received ciphertext in and takes ciphertext out; mbedTLS never touches the fd.
// Threads: [owner] only: a session lives and dies on its worker's loop thread.
#pragma once
#include <mbedtls/ssl.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "net/tls_context.hpp"

namespace bsc {

class TlsSession {
 public:
  enum class Status { kOk, kWant, kClosed, kFailed };

  explicit TlsSession(const TlsContext& ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Appends received ciphertext.
  void feed(const uint8_t* data, size_t len);
  // Advances the handshake. kOk once established; kWant: needs more input; kFailed: see
  // failure_reason().
  Status handshake();
  bool established() const { return established_; }
  // Decrypts into buf. Returns bytes (> 0), or 0 with *status = kWant (nothing buffered),
  // kClosed (close_notify) or kFailed.
  size_t read(uint8_t* buf, size_t cap, Status* status);
  // Encrypts all of `len` into as few records as possible, appending to ciphertext_out().
  bool write(const uint8_t* data, size_t len);
  // Queues a close_notify alert.
  void close_notify();

  // Ciphertext waiting to be written to the socket; the caller takes and clears it.
  std::vector<uint8_t>& ciphertext_out() { return out_; }
  // One readable sentence: why the handshake or session failed (for logs).
  const std::string& failure_reason() const { return failure_; }
  const char* ciphersuite() const;

 private:
  static int on_send(void* self, const unsigned char* buf, size_t len);
  static int on_recv(void* self, unsigned char* buf, size_t len);
  void set_failure(int rc);

  mbedtls_ssl_context ssl_;
  std::vector<uint8_t> in_;  // received ciphertext not yet consumed
  size_t in_pos_ = 0;
  std::vector<uint8_t> out_;
  bool established_ = false;
  bool server_;
  std::string failure_;
};

}  // namespace bsc
