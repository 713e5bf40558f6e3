#include "core/connection.hpp"

#include <cstdio>
#include <cstring>

#include "bsc/bacnet/enums.hpp"
#include "core/access_control.hpp"
#include "core/tls_failure.hpp"
#include "core/worker.hpp"
#include "net/tls_context.hpp"
#include "util/log.hpp"

namespace bsc {
namespace {

using BacnetError = bacnet::ErrorCode;

// How long an orderly close may take to flush its Close frame before TCP is cut.
constexpr double kCloseLingerSeconds = 2.0;
// Fair reading: octets one connection may read per loop iteration (one full read buffer).
// libuv keeps reading a busy socket up to 32 times per wake-up and we process all of it at
// once, so without this one flooding peer holds its worker for 2 MiB of TLS, WebSocket and
// BVLC work while every other connection on the worker waits.
constexpr size_t kReadBudget = 64 * 1024;

// "ip:port" / "[ip6]:port" of a peer address, "?" if there is none.
std::string peer_name(const sockaddr_storage& ss) {
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return "?";
  char host[64] = "?";
  char text[80];
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    uv_ip4_name(a, host, sizeof host);
    std::snprintf(text, sizeof text, "%s:%u", host, unsigned(ntohs(a->sin_port)));
  } else {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    uv_ip6_name(a, host, sizeof host);
    std::snprintf(text, sizeof text, "[%s]:%u", host, unsigned(ntohs(a->sin6_port)));
  }
  return text;
}

}  // namespace

Connection::Connection(Worker* worker, ConnRef ref)
    : worker_(worker), ref_(ref), transport_(this) {
  timer_.data = this;
}

Connection::~Connection() = default;

bool Connection::start(uv_stream_t* server) {
  transport_.init(worker_->loop(), worker_->read_buffer(), worker_->read_buffer_size());
  uv_timer_init(worker_->loop(), &timer_);
  open_handles_ = transport_.open() ? 2 : 1;
  uv_tcp_t* tcp = transport_.tcp();
  if (!transport_.open() || uv_accept(server, reinterpret_cast<uv_stream_t*>(tcp)) != 0) {
    close_handles();
    return false;
  }
  uv_tcp_nodelay(tcp, 1);
  // One getpeername per connection: the log name and the source-rate check both use it.
  int len = sizeof peer_addr_;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&peer_addr_), &len) != 0)
    peer_addr_.ss_family = AF_UNSPEC;
  peer_ = peer_name(peer_addr_);
  last_rx_ms_ = worker_->now_ms();
  accepted_ns_ = uv_hrtime();
  if ((tls_ctx_ = worker_->tls())) {
    transport_.set_tls(std::make_unique<TlsSession>(*tls_ctx_));
    in_handshake_ = true;
    worker_->handshake_started();
  } else {
    state_ = State::kUpgrade;
  }
  upgrade_ = std::make_unique<UpgradeParser>();
  arm_timer(worker_->config().handshake_timeout_s);
  transport_.start_reading();
  return true;
}

void Connection::on_transport_read(const uint8_t* data, size_t len) {
  on_data(data, len);
  charge_read_budget(len);
}

void Connection::on_transport_read_end(int status) {
  if (state_ != State::kClosing) bump(worker_->stats().peer_vanished);
  abort(status == UV_EOF ? "peer closed TCP" : uv_strerror(status));
}

void Connection::charge_read_budget(size_t n) {
  uint64_t it = worker_->iteration();
  if (read_iteration_ != it) {
    read_iteration_ = it;
    read_in_iteration_ = 0;
  }
  read_in_iteration_ += n;
  if (read_in_iteration_ < kReadBudget || state_ == State::kClosing) return;
  // Over budget: stop reading until this iteration's drain pass (flush) resumes it, so the
  // next poll serves this socket again only after every other ready one had its turn.
  transport_.pause_reading();
  bump(worker_->stats().read_budget_pauses);
  mark_dirty();
}

void Connection::on_data(const uint8_t* data, size_t len) {
  if (state_ == State::kClosing) {
    // Only the peer's Close reply matters now (it ends the linger early). Once wslay has
    // stopped reading, input is read off the socket and dropped until the peer closes TCP
    // or the linger ends: nothing is kept, and no unread data turns our close into a reset.
    if (!ws_ || ws_->close_received() || !ws_->reading()) return;
    transport_.feed(data, len);
    closing_reads_ = true;
    ws_->receive();
    closing_reads_ = false;
    if (ws_->close_handshake_done()) mark_dirty();
    return;
  }
  last_rx_ms_ = worker_->now_ms();
  if (idle_trimmed_) note_input_after_trim();
  transport_.feed(data, len);
  if (state_ == State::kTls) {
    // Handshake steps cost milliseconds of ECC: the worker runs them after its forwarding
    // drain, within its budget (core/handshake_gate.hpp).
    worker_->queue_handshake(this);
    return;
  }
  advance();
}

void Connection::run_handshake_step() {
  if (state_ != State::kTls) return;
  uint64_t t0 = uv_hrtime();
  advance_tls();
  bump(worker_->stats().handshake_cpu_us, (uv_hrtime() - t0) / 1000);
  advance();
}

// Past the TLS handshake: as far as the buffered input takes the upgrade and the WebSocket.
void Connection::advance() {
  if (state_ == State::kUpgrade) advance_upgrade();
  if (websocket_open()) advance_websocket();
  if (tls() && !tls()->ciphertext_out().empty()) mark_dirty();
}

void Connection::end_handshake() {
  if (!in_handshake_) return;
  in_handshake_ = false;
  worker_->handshake_ended();
}

void Connection::advance_tls() {
  TlsSession* tls = this->tls();
  TlsSession::Status st = tls->handshake();
  if (st == TlsSession::Status::kWant) return;
  end_handshake();
  if (st == TlsSession::Status::kFailed) {
    bump(worker_->stats().tls_handshake_failed);
    count_handshake_failure(worker_->stats(), classify_tls_failure(tls->failure_kind()));
    if (worker_->log_allowed(FloodLog::kTlsFailed))
      LOG_WARN("tls_handshake_failed", "peer=%s reason=\"%s\"", peer_.c_str(),
               tls->failure_reason().c_str());
    bool cert = tls->failure_kind() == TlsSession::Failure::kCertificateRejected ||
                tls->failure_kind() == TlsSession::Failure::kNoClientCertificate;
    note_refused(uint16_t(cert ? BacnetError::kTlsClientCertificateError : BacnetError::kTlsError),
                 nullptr, nullptr, tls->failure_reason().c_str());
    begin_linger();  // the alert mbedTLS queued goes out, then TCP closes
    return;
  }
  bump(tls->resumed() ? worker_->stats().handshakes_resumed : worker_->stats().handshakes_full);
  LOG_DEBUG("tls_established", "peer=%s suite=%s resumed=%s", peer_.c_str(), tls->ciphersuite(),
            tls->resumed() ? "yes" : "no");
  identity_ = tls->peer_identity();
  if (!admit_certificate()) return;
  state_ = State::kUpgrade;
}

size_t Connection::pull_plain(uint8_t* buf, size_t cap) {
  TlsSession::Status st;
  size_t n = transport_.pull_plain(buf, cap, &st);
  if (st == TlsSession::Status::kClosed) {
    if (state_ != State::kClosing) bump(worker_->stats().peer_vanished);
    abort("peer sent close_notify");
  } else if (st == TlsSession::Status::kFailed) {
    abort(tls()->failure_reason().c_str());
  }
  return n;
}

void Connection::advance_upgrade() {
  UpgradeParser::Result r = transport_.read_http_head(*upgrade_, [this](uint8_t* b, size_t cap) {
    size_t n = pull_plain(b, cap);
    return state_ == State::kUpgrade ? n : 0;
  });
  if (r == UpgradeParser::Result::kNeedMore) return;
  const std::string& resp = upgrade_->response();
  transport_.output().insert(transport_.output().end(), resp.begin(), resp.end());
  mark_dirty();
  if (r == UpgradeParser::Result::kRefused) {
    bump(worker_->stats().upgrade_refused);
    count_handshake_failure(worker_->stats(), HandshakeFailure::upgrade_refused);
    if (worker_->log_allowed(FloodLog::kUpgradeRefused))
      LOG_WARN("upgrade_refused", "peer=%s status=%d reason=\"%s\"", peer_.c_str(),
               upgrade_->status(), upgrade_->reason().c_str());
    note_refused(uint16_t(BacnetError::kHttpUpgradeError), nullptr, nullptr,
                 upgrade_->reason().c_str());
    begin_linger();
    return;
  }
  upgrade_.reset();
  ws_ = std::make_unique<WsSession>(this, WsSession::Role::kServer,
                                    worker_->config().max_ws_message);
  state_ = State::kAwaitingRequest;
  arm_timer(worker_->config().connect_wait_s);
  observe_handshake(worker_->stats(), (uv_hrtime() - accepted_ns_) / 1000);
  LOG_DEBUG("websocket_open", "peer=%s", peer_.c_str());
}

void Connection::advance_websocket() {
  bool ok = ws_->receive();
  if (!websocket_open()) return;  // a message handler closed or aborted us
  if (!ok) {
    bump(worker_->stats().ws_rejected);
    close(ws_close::kProtocolError, "WebSocket protocol error",
          uint16_t(BacnetError::kWebsocketProtocolError));
    return;
  }
  if (ws_->ended()) {
    // The peer closed, or the session failed it (wslay queued Close 1002/1007/1009, or we
    // queued 1003): the node leaves routing at once, and TCP goes when the Close
    // handshake completes or the linger expires.
    if (!ws_->close_received()) bump(worker_->stats().ws_rejected);
    if (ws_->close_received()) {
      LOG_INFO("node_closed", "peer=%s vmac=%s uuid=%s code=%u", peer_.c_str(),
               registered_ ? vmac_.to_string().c_str() : "-",
               registered_ ? uuid_.to_string().c_str() : "-", ws_->close_code_received());
    } else {
      LOG_INFO("ws_failed", "peer=%s vmac=%s reason=\"WebSocket protocol error or rejected "
               "data; Close sent\"", peer_.c_str(), registered_ ? vmac_.to_string().c_str() : "-");
    }
    if (ws_->close_received())
      leave_routing(uint16_t(BacnetError::kWebsocketClosedByPeer),
                    "WebSocket Close without Disconnect-Request");
    else
      leave_routing(uint16_t(BacnetError::kWebsocketProtocolError), "WebSocket protocol error");
    begin_linger();
  }
}

size_t Connection::ws_pull(uint8_t* buf, size_t cap) {
  if (!websocket_open() && !closing_reads_) return 0;
  return pull_plain(buf, cap);
}

void Connection::ws_push(const uint8_t* data, size_t len) {
  // Control frames (pong, close) are tiny and must not be dropped; no bound check here.
  std::vector<uint8_t>& out = transport_.output();
  out.insert(out.end(), data, data + len);
  mark_dirty();
}

void Connection::ws_message(const uint8_t* data, size_t len) {
  if (!websocket_open()) return;
  worker_->hub().on_message(*this, data, len);
}

void Connection::ws_rejected(const char* why) {
  LOG_WARN("ws_message_rejected", "peer=%s reason=\"%s\"", peer_.c_str(), why);
}

void Connection::mark_dirty() { worker_->mark_dirty(this); }

void Connection::leave_routing(uint16_t error_code, const char* why) {
  if (routable()) {
    NodeRecord r;
    r.connect_unix_ms = connected_unix_ms_;
    r.disconnect_unix_ms = unix_now_ms();
    r.peer = peer_address_record();
    r.vmac = vmac_;
    r.uuid = uuid_;
    if (clean_end_) {
      r.state = HistoryState::kNotConnected;
    } else {
      r.state = HistoryState::kDisconnectedWithErrors;
      r.has_error = true;
      r.error = HistoryError{uint16_t(bacnet::ErrorClass::kCommunication), error_code, why};
    }
    worker_->history().departed(std::move(r));
    audit(AuditRecord::Kind::kDisconnect, clean_end_ ? "Disconnect-Request/ACK" : why, &vmac_,
          &uuid_);
  }
  if (state_ == State::kConnected) worker_->remove_connected(this);
  worker_->hub().on_leaving(*this);
}

bool Connection::admit_certificate() {
  if (!identity_) return true;
  // A reload during this handshake: its re-check of connected nodes did not see this one,
  // so the certificate is checked against the configuration now in force here.
  std::shared_ptr<const TlsContext> now = worker_->tls();
  if (now && now != tls_ctx_) {
    std::string why = now->recheck(*identity_);
    if (!why.empty()) {
      bump(worker_->stats().revoked_disconnects);
      return refuse_certificate("tls_refused_after_reload", MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED,
                                why, uint16_t(BacnetError::kTlsClientCertificateRevoked));
    }
  }
  AccessControl* access = worker_->access();
  if (!access) return true;
  std::string why = access->refuse_certificate(*identity_);
  if (why.empty()) return true;
  bump(worker_->stats().denied);
  return refuse_certificate("tls_denied", MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED, why,
                            uint16_t(BacnetError::kAccessDenied),
                            uint16_t(bacnet::ErrorClass::kSecurity));
}

bool Connection::refuse_certificate(const char* event, unsigned char alert,
                                    const std::string& why, uint16_t error_code,
                                    uint16_t error_class) {
  LOG_WARN(event, "peer=%s subject=\"%s\" reason=\"%s\"", peer_.c_str(),
           identity_->subject.c_str(), why.c_str());
  tls()->refuse(alert, why);
  note_refused(error_code, nullptr, nullptr, why.c_str(), error_class);
  begin_linger();  // the alert goes out, then TCP closes
  return false;
}

void Connection::audit(AuditRecord::Kind kind, const std::string& reason, const Vmac* vmac,
                       const Uuid* uuid) {
  StateSink* sink = worker_->state_sink();
  if (!sink) return;
  AuditRecord r;
  r.kind = kind;
  r.unix_ms = unix_now_ms();
  if (vmac) r.vmac = vmac->to_string();
  if (uuid) r.uuid = uuid->to_string();
  r.peer = peer_;
  if (identity_) r.fingerprint = identity_->certificate.to_hex();
  r.reason = reason;
  sink->audit(std::move(r));
}

void Connection::note_refused(uint16_t error_code, const Vmac* vmac, const Uuid* uuid,
                              const char* details, uint16_t error_class) {
  FailedRecord r;
  r.unix_ms = unix_now_ms();
  r.peer = peer_address_record();
  if ((r.has_vmac = vmac != nullptr)) r.vmac = *vmac;
  if ((r.has_uuid = uuid != nullptr)) r.uuid = *uuid;
  r.error = HistoryError{error_class, error_code, details};
  worker_->history().failed(std::move(r));
  audit(AuditRecord::Kind::kRefuse, details, vmac, uuid);
}

PeerAddress Connection::peer_address_record() const {
  PeerAddress a;
  if (peer_addr_.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&peer_addr_);
    a.ip_len = 4;
    std::memcpy(a.ip.data(), &in->sin_addr, 4);
    a.port = ntohs(in->sin_port);
  } else if (peer_addr_.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&peer_addr_);
    a.ip_len = 16;
    std::memcpy(a.ip.data(), &in6->sin6_addr, 16);
    a.port = ntohs(in6->sin6_port);
  }
  return a;
}

void Connection::close(uint16_t ws_code, const char* why, uint16_t error_code) {
  if (state_ == State::kClosing) return;
  LOG_INFO("node_disconnected", "peer=%s vmac=%s uuid=%s reason=\"%s\"", peer_.c_str(),
           registered_ ? vmac_.to_string().c_str() : "-",
           registered_ ? uuid_.to_string().c_str() : "-", why);
  leave_routing(error_code, why);
  if (ws_) ws_->close(ws_code, nullptr);
  begin_linger();
}

// The orderly end of every state (a TLS alert, an upgrade refusal, our or the peer's Close):
// what is queued goes out, and TCP closes in flush() once it is out and, for a WebSocket,
// the Close handshake is done; or when the linger timer gives up waiting.
void Connection::begin_linger() {
  state_ = State::kClosing;
  arm_timer(kCloseLingerSeconds);
  mark_dirty();
}

void Connection::abort(const char* why) {
  if (transport_.closing()) return;
  if (state_ != State::kClosing || registered_) {
    LOG_INFO("node_gone", "peer=%s vmac=%s uuid=%s reason=\"%s\"", peer_.c_str(),
             registered_ ? vmac_.to_string().c_str() : "-",
             registered_ ? uuid_.to_string().c_str() : "-", why);
  }
  // An end without the close handshake: TCP closed or reset, a TLS or write failure.
  leave_routing(uint16_t(BacnetError::kWebsocketClosedAbnormally), why);
  state_ = State::kClosing;
  close_handles();
}

void Connection::close_handles() {
  uv_timer_stop(&timer_);
  transport_.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), [](uv_handle_t* h) {
    static_cast<Connection*>(h->data)->handle_closed();
  });
}

void Connection::on_transport_closed() { handle_closed(); }

void Connection::handle_closed() {
  if (--open_handles_ == 0) worker_->release(this);
}

void Connection::flush() {
  transport_.resume_reading();
  switch (transport_.flush()) {
    case StreamTransport::Flush::kBusy:
    case StreamTransport::Flush::kQueued:
      return;
    case StreamTransport::Flush::kTlsFailed:
      abort(tls()->failure_reason().c_str());
      return;
    case StreamTransport::Flush::kWriteFailed:
      abort(transport_.write_error());
      return;
    case StreamTransport::Flush::kSent:
      stuck_since_ms_ = 0;
      break;
    case StreamTransport::Flush::kNothing:
      break;
  }
  // After an orderly close, TCP goes once our last bytes are out and, for a WebSocket,
  // the peer has answered our Close (or closed TCP, or the linger timer gives up waiting).
  if (state_ == State::kClosing && (!ws_ || ws_->close_handshake_done())) abort("closed");
}

void Connection::on_transport_written(int status) {
  stuck_since_ms_ = 0;  // the peer is reading again
  if (status < 0) {
    abort(uv_strerror(status));
    return;
  }
  mark_dirty();
}

}  // namespace bsc
