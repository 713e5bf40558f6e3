#include "net/tls_session.hpp"

#include <mbedtls/x509.h>

#include <cstring>

#include "net/tls_record_buffers.hpp"

namespace bsc {
namespace {
// Room for a whole first flight (ServerHello .. Finished with a P-256 certificate chain).
constexpr size_t kFirstFlightBytes = 2048;
}  // namespace

TlsSession::TlsSession(const TlsContext& ctx, const mbedtls_ssl_session* resume)
    : ctx_(&ctx), server_(ctx.role() == TlsContext::Role::kServer) {
  mbedtls_ssl_init(&ssl_);
  if (server_) return;  // handshake() starts it once the ClientHello is here
  if (!start(ctx.config())) return;
  // BACnet/SC does no name checks on certificates (Std AB.7.4); NULL says so explicitly to
  // mbedTLS >= 3.6.3, which otherwise refuses to verify a server without a host name.
  mbedtls_ssl_set_hostname(&ssl_, nullptr);
  if (resume) mbedtls_ssl_set_session(&ssl_, resume);  // refused: full handshake
}

bool TlsSession::start(const mbedtls_ssl_config* conf) {
  if (mbedtls_ssl_setup(&ssl_, conf) != 0) {
    failure_ = "TLS session setup failed (out of memory)";
    return false;
  }
  started_ = true;
  mbedtls_ssl_set_bio(&ssl_, this, on_send, on_recv, nullptr);
  // Called once per certificate of the peer's chain: a full handshake. A resumed one
  // carries no certificate (TLS 1.3 PSK), so this is how resumed() tells them apart.
  mbedtls_ssl_set_verify(&ssl_, on_verify, this);
  return true;
}

TlsSession::~TlsSession() {
  mbedtls_ssl_free(&ssl_);
  if (ticket_) {
    mbedtls_ssl_session_free(ticket_);
    delete ticket_;
  }
}

// mbedTLS calls this from the top of the chain down to the peer's certificate (depth 0).
int TlsSession::on_verify(void* self, mbedtls_x509_crt* crt, int depth, uint32_t* flags) {
  auto* s = static_cast<TlsSession*>(self);
  s->peer_certificate_seen_ = true;
  if (s->server_) {
    // mbedTLS walked the node's certificate and any chain it sent with no trust anchor; the
    // verdict is verify_peer's, given at depth 0 (flags above it are dropped).
    if (depth == 1) s->linked_parent_ = crt;
    if (depth > 0) {
      *flags = 0;
      return 0;
    }
    const mbedtls_x509_crt* issuer = nullptr;
    *flags = s->ctx_->verify_peer(crt, *flags, s->linked_parent_, &issuer);
    s->linked_parent_ = nullptr;
    s->verified_candidate_ =
        std::make_shared<const PeerIdentity>(peer_identity_of(*crt, issuer));
    return 0;
  }
  // Stale-CRL policy: a CRL past its next-update still refuses what it revokes (REVOKED is
  // set regardless) but does not refuse everyone else of its CA (kStaleCrlFlags).
  *flags &= ~kStaleCrlFlags;
  if (depth > s->chain_top_depth_) {
    s->chain_top_ = crt;
    s->chain_top_depth_ = depth;
  }
  if (depth == 0) {
    // Built now while both certificates are at hand; trusted only if the chain verifies.
    s->verified_candidate_ = std::make_shared<const PeerIdentity>(
        peer_identity_of(*crt, s->chain_top_depth_ > 0 ? s->chain_top_ : nullptr));
    s->chain_top_ = nullptr;
    s->chain_top_depth_ = -1;
  }
  return 0;  // otherwise the chain's own result (flags) stands
}

std::shared_ptr<const PeerIdentity> TlsSession::identity_to_seal() const {
  // A certificate was sent: a full handshake (even if a ticket was offered and opened).
  if (verified_candidate_)
    return mbedtls_ssl_get_verify_result(&ssl_) == 0 ? verified_candidate_ : nullptr;
  return ticket_identity_;  // the new ticket of a resumed session carries the same one
}

void TlsSession::ticket_opened(std::shared_ptr<const PeerIdentity> identity) {
  ticket_identity_ = std::move(identity);
}

void TlsSession::keep_ticket() {
  if (!ticket_) {
    ticket_ = new mbedtls_ssl_session;
    mbedtls_ssl_session_init(ticket_);
  } else {
    mbedtls_ssl_session_free(ticket_);
    mbedtls_ssl_session_init(ticket_);
  }
  if (mbedtls_ssl_get_session(&ssl_, ticket_) != 0) {
    mbedtls_ssl_session_free(ticket_);
    delete ticket_;
    ticket_ = nullptr;
  }
}

std::unique_ptr<mbedtls_ssl_session, void (*)(mbedtls_ssl_session*)> TlsSession::take_ticket() {
  auto release = [](mbedtls_ssl_session* s) {
    mbedtls_ssl_session_free(s);
    delete s;
  };
  mbedtls_ssl_session* t = ticket_;
  ticket_ = nullptr;
  return {t, release};
}

int TlsSession::on_send(void* self, const unsigned char* buf, size_t len) {
  auto* s = static_cast<TlsSession*>(self);
  // mbedTLS hands a flight over record by record (a server's first flight with its
  // certificate: ~1 KB in 6 records); growing from empty cost ~5 reallocations per handshake.
  if (s->out_.capacity() == 0) s->out_.reserve(kFirstFlightBytes);
  s->out_.insert(s->out_.end(), buf, buf + len);
  s->sent_bytes_ += len;
  return static_cast<int>(len);
}

int TlsSession::on_recv(void* self, unsigned char* buf, size_t len) {
  auto* s = static_cast<TlsSession*>(self);
  size_t avail = s->in_.size() - s->in_pos_;
  if (avail == 0) return MBEDTLS_ERR_SSL_WANT_READ;
  size_t n = len < avail ? len : avail;
  std::memcpy(buf, s->in_.data() + s->in_pos_, n);
  s->in_pos_ += n;
  if (s->in_pos_ == s->in_.size()) {
    s->in_.clear();
    s->in_pos_ = 0;
  }
  return static_cast<int>(n);
}

void TlsSession::feed(const uint8_t* data, size_t len) {
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  in_.insert(in_.end(), data, data + len);
}

namespace {

// verify_info gives one line per problem; fold them into one log-friendly line.
std::string verify_flags_text(uint32_t flags) {
  char info[512];
  mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
  std::string text;
  for (char* p = info; *p; ++p) text += (*p == '\n') ? ';' : *p;
  while (!text.empty() && (text.back() == ';' || text.back() == ' ')) text.pop_back();
  return text;
}

// The TLS alert that names why a certificate with these verification flags is refused
// (RFC 8446 6.2), most specific first.
unsigned char alert_for(uint32_t flags) {
  if (flags & MBEDTLS_X509_BADCERT_MISSING) return MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED;
  if (flags & MBEDTLS_X509_BADCERT_REVOKED) return MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED;
  if (flags & MBEDTLS_X509_BADCERT_EXPIRED) return MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED;
  if (flags & (MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE |
               MBEDTLS_X509_BADCERT_NS_CERT_TYPE | MBEDTLS_X509_BADCERT_BAD_PK |
               MBEDTLS_X509_BADCERT_BAD_KEY))
    return MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT;
  if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) return MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA;
  return MBEDTLS_SSL_ALERT_MSG_BAD_CERT;
}

}  // namespace

void TlsSession::set_failure(int rc) {
  uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
  failure_kind_ = Failure::kOther;
  if (rc == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) {
    set_certificate_failure(MBEDTLS_X509_BADCERT_MISSING);
  } else if (rc == MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION) {
    failure_ = "peer does not offer TLS 1.3";
    failure_kind_ = Failure::kVersion;
  } else if (flags != 0 && flags != uint32_t(-1)) {
    // The certificate checks failed (chain, dates, key usage): their flags say why, better
    // than the handshake error code ("processing of the Certificate message failed").
    set_certificate_failure(flags);
  } else {
    failure_ = tls_error_text(rc);
  }
}

void TlsSession::send_fatal_alert(unsigned char alert) {
  mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL, alert);
}

// Server, the handshake just completed (configure() verifies in OPTIONAL mode): a full
// handshake whose client certificate failed, or that had none, ends here with the alert
// that names why, sent under the application keys that the node now reads. False if
// refused. A resumed session was verified when its ticket was issued (tickets go only to
// verified peers).
bool TlsSession::refuse_unverified_peer() {
  uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
  if (flags == 0) return false;
  send_fatal_alert(alert_for(flags));
  set_certificate_failure(flags);
  return true;
}

void TlsSession::refuse(unsigned char alert, std::string reason) {
  if (started_) send_fatal_alert(alert);
  failure_ = std::move(reason);
  failure_kind_ = Failure::kCertificateRejected;
}

namespace {
// recheck() names the dates when they are the reason (TlsContext::recheck).
unsigned char alert_for_recheck(const std::string& reason) {
  if (reason.find("expired") != std::string::npos ||
      reason.find("not yet valid") != std::string::npos)
    return MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED;
  return MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED;
}
}  // namespace

// Server, a resumed handshake just completed: the ticket's certificate was verified when the
// ticket was issued, under the rules of then; it must still pass today's (a CRL or CA set
// reloaded since, or its validity ended). True if refused.
bool TlsSession::refuse_stale_resumption() {
  std::string why = ctx_->recheck(*ticket_identity_);
  if (why.empty()) return false;
  refuse(alert_for_recheck(why), "resumed session refused: " + why);
  return true;
}

// The peer's certificate was refused (verification flags, MISSING when none was sent).
void TlsSession::set_certificate_failure(uint32_t flags) {
  if (flags & MBEDTLS_X509_BADCERT_MISSING) {
    failure_ = "no client certificate";
    failure_kind_ = Failure::kNoClientCertificate;
  } else if (flags & MBEDTLS_X509_BADCERT_REVOKED) {
    const std::string serial = peer_serial_text();
    failure_ = "certificate revoked" + (serial.empty() ? "" : " (" + serial + ")");
    failure_kind_ = Failure::kCertificateRejected;
  } else {
    failure_ = "certificate rejected: " + verify_flags_text(flags);
    failure_kind_ = Failure::kCertificateRejected;
  }
}

// "serial 5A:01:..., subject CN=node1" of the peer's certificate, for the log; "" if
// mbedTLS no longer holds it.
std::string TlsSession::peer_serial_text() const {
  const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&ssl_);
  if (peer == nullptr) return "";
  char serial[128], subject[256];
  if (mbedtls_x509_serial_gets(serial, sizeof serial, &peer->serial) < 0) serial[0] = 0;
  if (mbedtls_x509_dn_gets(subject, sizeof subject, &peer->subject) < 0) subject[0] = 0;
  return std::string("serial ") + serial + ", subject " + subject;
}

TlsSession::Status TlsSession::handshake() {
  if (established_) return Status::kOk;
  if (!started_ && server_) {
    // Server preference and ALPN: the config follows from the client's hello. The first
    // record is at most kMaxPeekBytes, so waiting for it is bounded; anything unreadable
    // gets the full config and mbedTLS's usual verdict.
    ClientHelloPeek hello = peek_client_hello(in_.data() + in_pos_, in_.size() - in_pos_);
    if (hello.status == ClientHelloPeek::Status::kNeedMore) return Status::kWant;
    const mbedtls_ssl_config* conf = ctx_->config_for(hello);
    mismatch_ = ctx_->explain_mismatch(hello);  // the hello's bytes are gone by the failure
    if (!start(conf)) return Status::kFailed;
  } else if (!started_) {
    return Status::kFailed;  // the constructor's setup failed: failure_ says why
  }
  const uint64_t sent_before = sent_bytes_;
  // The ticket callbacks get no ssl context: they find this session through the scope
  // (parse here; the server's NewSessionTicket goes out with its first read() or write()).
  TicketPeerScope ticket_peer(this);
  int rc = mbedtls_ssl_handshake(&ssl_);
  while (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
    keep_ticket();
    rc = mbedtls_ssl_handshake(&ssl_);
  }
  if (rc == 0) {
    if (server_ && refuse_unverified_peer()) return Status::kFailed;
    if (peer_certificate_seen_) {
      identity_ = verified_candidate_;  // the chain verified (client: REQUIRED mode)
    } else if (server_ && ticket_identity_) {
      if (refuse_stale_resumption()) return Status::kFailed;
      identity_ = ticket_identity_;
    }
    established_ = true;
    return Status::kOk;
  }
  if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return Status::kWant;
  set_failure(rc);
  // The ticket refusal above (TicketSealer::write_ticket) ends a handshake whose peer failed
  // verification: that is the peer's certificate, not an internal error.
  if (server_ && rc == MBEDTLS_ERR_SSL_INTERNAL_ERROR && refuse_unverified_peer())
    return Status::kFailed;
  if (!mismatch_.empty() && failure_kind_ == Failure::kOther) {
    failure_ = mismatch_;
    failure_kind_ = Failure::kNoCommonParameters;
  }
  // mbedTLS fails some negotiations (no common group, for one) without an alert: the peer
  // would see TCP close and nothing else.
  if (server_ && sent_bytes_ == sent_before) send_fatal_alert(MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
  return Status::kFailed;
}

size_t TlsSession::read(uint8_t* buf, size_t cap, Status* status) {
  if (!started_) {  // a server session before its ClientHello: nothing to decrypt yet
    *status = Status::kWant;
    return 0;
  }
  TicketPeerScope ticket_peer(this);  // mbedTLS 3.6 writes the server's ticket from here
  for (int stalls = 0;;) {
    int rc = mbedtls_ssl_read(&ssl_, buf, cap);
    // After a post-handshake message (a ticket) mbedTLS 3.6 may return WANT_READ with whole
    // records still unread in in_ (it reads records exactly, so leftover input means it did
    // not ask): call again rather than stall until the next packet.
    if (rc == MBEDTLS_ERR_SSL_WANT_READ && in_pos_ < in_.size() && ++stalls < 4) continue;
    if (rc > 0) {
      *status = Status::kOk;
      return size_t(rc);
    }
    // TLS 1.3 post-handshake messages (tickets) surface here; they carry no data.
    if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
      keep_ticket();
      continue;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
      *status = Status::kWant;
    } else if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      *status = Status::kClosed;
    } else {
      set_failure(rc);
      *status = Status::kFailed;
    }
    return 0;
  }
}

bool TlsSession::write(const uint8_t* data, size_t len) {
  if (!started_) return false;
  TicketPeerScope ticket_peer(this);  // mbedTLS 3.6 writes the server's ticket from here
  while (len > 0) {
    int rc = mbedtls_ssl_write(&ssl_, data, len);
    if (rc < 0) {
      set_failure(rc);
      return false;
    }
    data += rc;
    len -= size_t(rc);
  }
  return true;
}

void TlsSession::close_notify() {
  if (started_) mbedtls_ssl_close_notify(&ssl_);
}

const char* TlsSession::ciphersuite() const { return mbedtls_ssl_get_ciphersuite(&ssl_); }

// ---- idle memory ------------------------------------------------------------------------

bool TlsSession::release_idle_buffers() {
  // During the handshake the buffers carry a flight in progress; afterwards between records
  // they carry nothing that is read again (tls_record_buffers_idle says when).
  if (!established_ || in_pos_ != in_.size() || !out_.empty()) return false;
  if (!tls_record_buffers_idle(ssl_)) return false;
  tls_release_record_buffer_pages(ssl_);
  // The handshake flights grew these to a few KiB each; an idle session needs none of it.
  std::vector<uint8_t>().swap(in_);
  std::vector<uint8_t>().swap(out_);
  in_pos_ = 0;
  return true;
}

}  // namespace bsc
