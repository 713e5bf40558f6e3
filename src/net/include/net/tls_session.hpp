// One TLS 1.3 session over in-memory ciphertext buffers (h2o style): the socket layer
// feeds received ciphertext in and takes ciphertext out; mbedTLS never touches the fd.
// Threads: [owner] only: a session lives and dies on its worker's loop thread.
#pragma once
#include <mbedtls/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/peer_identity.hpp"
#include "net/ticket_sealer.hpp"
#include "net/tls_context.hpp"

namespace bsc {

class TlsSession : private TicketPeer {
 public:
  enum class Status { kOk, kWant, kClosed, kFailed };
  // Why a handshake or session failed, as a fixed set (metrics); failure_reason() has the
  // sentence for the log.
  enum class Failure {
    kNone,
    kNoClientCertificate,   // the node sent no certificate
    kVersion,               // the node does not offer TLS 1.3
    kCertificateRejected,   // the node's certificate failed verification
    kNoCommonParameters,    // no suite, group or signature algorithm in common
    kOther,
  };

  // `resume` (client): a session saved from an earlier connection (take_ticket()) to offer
  // for TLS 1.3 resumption; if the server refuses it, a full handshake follows.
  // Server: mbedTLS is set up at the first handshake() that has the ClientHello's first
  // record, with the context's config for it (TlsContext::config_for: server preference).
  explicit TlsSession(const TlsContext& ctx, const mbedtls_ssl_session* resume = nullptr);
  ~TlsSession() override;
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Appends received ciphertext.
  void feed(const uint8_t* data, size_t len);
  // Advances the handshake. kOk once established; kWant: needs more input; kFailed: see
  // failure_reason().
  Status handshake();
  bool established() const { return established_; }
  // True once established without the peer sending a certificate: a resumed (PSK) session.
  bool resumed() const { return established_ && !peer_certificate_seen_; }
  // Who the peer is, the same after a full and a resumed handshake (the ticket carries the
  // certificate). Established server: never null when a client certificate was verified or
  // a ticket resumed. nullptr before that.
  std::shared_ptr<const PeerIdentity> peer_identity() const { return identity_; }
  // Established server: refuses the node after TLS (deny list, pinning, revocation): sends
  // the fatal `alert` (MBEDTLS_SSL_ALERT_MSG_*) and records `reason` as failure_reason()
  // (failure_kind() kCertificateRejected). The caller flushes ciphertext_out() and closes.
  void refuse(unsigned char alert, std::string reason);
  // Client: the last session ticket the server sent (nullptr if none); the caller may keep
  // it to resume a later connection.
  std::unique_ptr<mbedtls_ssl_session, void (*)(mbedtls_ssl_session*)> take_ticket();
  // Decrypts into buf. Returns bytes (> 0), or 0 with *status = kWant (nothing buffered),
  // kClosed (close_notify) or kFailed.
  size_t read(uint8_t* buf, size_t cap, Status* status);
  // Encrypts all of `len` into as few records as possible, appending to ciphertext_out().
  bool write(const uint8_t* data, size_t len);
  // Queues a close_notify alert.
  void close_notify();

  // Ciphertext waiting to be written to the socket; the caller takes and clears it.
  std::vector<uint8_t>& ciphertext_out() { return out_; }
  const std::vector<uint8_t>& ciphertext_out() const { return out_; }
  // One readable sentence: why the handshake or session failed (for logs).
  const std::string& failure_reason() const { return failure_; }
  Failure failure_kind() const { return failure_kind_; }
  const char* ciphersuite() const;

  // Idle memory: when the session is quiescent (established; no ciphertext buffered here or
  // inside mbedTLS, in either direction) gives the physical pages of mbedTLS's record
  // buffers back to the kernel and drops our ciphertext buffers' capacity. Records flow as
  // before afterwards (the pages come back zeroed on first touch). False, and nothing done,
  // if anything is buffered.
  bool release_idle_buffers();

 private:
  static int on_send(void* self, const unsigned char* buf, size_t len);
  static int on_recv(void* self, unsigned char* buf, size_t len);
  static int on_verify(void* self, mbedtls_x509_crt* crt, int depth, uint32_t* flags);
  bool start(const mbedtls_ssl_config* conf);
  void keep_ticket();
  void set_failure(int rc);
  void set_certificate_failure(uint32_t flags);
  std::string peer_serial_text() const;
  bool refuse_unverified_peer();
  bool refuse_stale_resumption();
  // TicketPeer: what the ticket callbacks trade with the handshake on this thread.
  std::shared_ptr<const PeerIdentity> identity_to_seal() const override;
  void ticket_opened(std::shared_ptr<const PeerIdentity> identity) override;
  void send_fatal_alert(unsigned char alert);

  mbedtls_ssl_context ssl_;
  const TlsContext* ctx_;  // the context this session was made with (outlives it)
  bool started_ = false;   // mbedtls_ssl_setup done
  std::string mismatch_;  // server: what the ClientHello has nothing in common with, if any
  uint64_t sent_bytes_ = 0;  // ciphertext produced so far (tells whether an alert went out)
  std::vector<uint8_t> in_;  // received ciphertext not yet consumed
  size_t in_pos_ = 0;
  std::vector<uint8_t> out_;
  bool established_ = false;
  bool peer_certificate_seen_ = false;
  // Full handshake: the top of the verified chain (the configured CA) while on_verify walks
  // down to the peer's certificate at depth 0; then the identity built from both, published
  // as identity_ only once the handshake succeeded with the chain verified.
  const mbedtls_x509_crt* chain_top_ = nullptr;
  int chain_top_depth_ = -1;
  // Server: the certificate of the node's own chain that mbedTLS found signed the node's
  // (depth 1), for TlsContext::verify_peer.
  const mbedtls_x509_crt* linked_parent_ = nullptr;
  std::shared_ptr<const PeerIdentity> verified_candidate_;
  std::shared_ptr<const PeerIdentity> ticket_identity_;  // server: from an accepted ticket
  std::shared_ptr<const PeerIdentity> identity_;
  mbedtls_ssl_session* ticket_ = nullptr;  // client: latest NewSessionTicket
  bool server_;
  std::string failure_;
  Failure failure_kind_ = Failure::kNone;
};

}  // namespace bsc
