#include "core/connection.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "core/tls_failure.hpp"
#include "core/worker.hpp"
#include "net/tls_context.hpp"
#include "util/log.hpp"

namespace bsc {
namespace {

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

Connection::Connection(Worker* worker, ConnRef ref) : worker_(worker), ref_(ref) {
  tcp_.data = this;
  timer_.data = this;
  write_req_.data = this;
}

Connection::~Connection() = default;

bool Connection::start(uv_stream_t* server) {
  uv_tcp_init(worker_->loop(), &tcp_);
  uv_timer_init(worker_->loop(), &timer_);
  open_handles_ = 2;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&tcp_)) != 0) {
    close_handles();
    return false;
  }
  uv_tcp_nodelay(&tcp_, 1);
  // One getpeername per connection: the log name and the source-rate check both use it.
  int len = sizeof peer_addr_;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&peer_addr_), &len) != 0)
    peer_addr_.ss_family = AF_UNSPEC;
  peer_ = peer_name(peer_addr_);
  last_rx_ms_ = worker_->now_ms();
  accepted_ns_ = uv_hrtime();
  if ((tls_ctx_ = worker_->tls())) {
    tls_ = std::make_unique<TlsSession>(*tls_ctx_);
    in_handshake_ = true;
    worker_->handshake_started();
  } else {
    phase_ = Phase::kUpgrade;
  }
  upgrade_ = std::make_unique<UpgradeParser>();
  arm_timer(worker_->config().handshake_timeout_s);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
  return true;
}

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  // One read buffer per worker: data is consumed (decrypted or copied) before the next read.
  auto* c = static_cast<Connection*>(h->data);
  *buf = uv_buf_init(reinterpret_cast<char*>(c->worker_->read_buffer()),
                     unsigned(c->worker_->read_buffer_size()));
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(s->data);
  if (nread > 0) {
    c->on_data(reinterpret_cast<const uint8_t*>(buf->base), size_t(nread));
    c->charge_read_budget(size_t(nread));
  } else if (nread < 0) {
    if (c->phase_ != Phase::kClosing) bump(c->worker_->stats().peer_vanished);
    c->abort(nread == UV_EOF ? "peer closed TCP" : uv_strerror(int(nread)));
  }
}

void Connection::charge_read_budget(size_t n) {
  uint64_t it = worker_->iteration();
  if (read_iteration_ != it) {
    read_iteration_ = it;
    read_in_iteration_ = 0;
  }
  read_in_iteration_ += n;
  if (read_in_iteration_ < kReadBudget || phase_ == Phase::kClosing) return;
  // Over budget: stop reading until this iteration's drain pass (flush) resumes it, so the
  // next poll serves this socket again only after every other ready one had its turn.
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  read_paused_ = true;
  bump(worker_->stats().read_budget_pauses);
  mark_dirty();
}

void Connection::on_data(const uint8_t* data, size_t len) {
  if (phase_ == Phase::kClosing) {
    // Only the peer's Close reply matters now (it ends the linger early). Once wslay has
    // stopped reading, input is read off the socket and dropped until the peer closes TCP
    // or the linger ends: nothing is kept, and no unread data turns our close into a reset.
    if (!ws_ || ws_->close_received() || !ws_->reading()) return;
    if (tls_) tls_->feed(data, len);
    else plain_in_.insert(plain_in_.end(), data, data + len);
    closing_reads_ = true;
    ws_->receive();
    closing_reads_ = false;
    if (ws_->close_handshake_done()) mark_dirty();
    return;
  }
  last_rx_ms_ = worker_->now_ms();
  if (idle_trimmed_) note_input_after_trim();
  if (tls_) {
    tls_->feed(data, len);
  } else {
    plain_in_.insert(plain_in_.end(), data, data + len);
  }
  if (phase_ == Phase::kTls) {
    // Handshake steps cost milliseconds of ECC: the worker runs them after its forwarding
    // drain, within its budget (core/handshake_gate.hpp).
    worker_->queue_handshake(this);
    return;
  }
  if (phase_ == Phase::kUpgrade) advance_upgrade();
  if (phase_ == Phase::kWebSocket) advance_websocket();
  if (tls_ && !tls_->ciphertext_out().empty()) mark_dirty();
}

void Connection::run_handshake_step() {
  if (phase_ != Phase::kTls) return;
  uint64_t t0 = uv_hrtime();
  advance_tls();
  bump(worker_->stats().handshake_cpu_us, (uv_hrtime() - t0) / 1000);
  if (phase_ == Phase::kUpgrade) advance_upgrade();
  if (phase_ == Phase::kWebSocket) advance_websocket();
  if (tls_ && !tls_->ciphertext_out().empty()) mark_dirty();
}

void Connection::end_handshake() {
  if (!in_handshake_) return;
  in_handshake_ = false;
  worker_->handshake_ended();
}

void Connection::advance_tls() {
  TlsSession::Status st = tls_->handshake();
  if (st == TlsSession::Status::kWant) return;
  end_handshake();
  if (st == TlsSession::Status::kFailed) {
    bump(worker_->stats().tls_handshake_failed);
    count_handshake_failure(worker_->stats(), classify_tls_failure(tls_->failure_kind()));
    if (worker_->log_allowed(FloodLog::kTlsFailed))
      LOG_WARN("tls_handshake_failed", "peer=%s reason=\"%s\"", peer_.c_str(),
               tls_->failure_reason().c_str());
    // The alert mbedTLS queued goes out, then TCP closes.
    phase_ = Phase::kClosing;
    close_after_flush_ = true;
    arm_timer(kCloseLingerSeconds);
    mark_dirty();
    return;
  }
  bump(tls_->resumed() ? worker_->stats().handshakes_resumed : worker_->stats().handshakes_full);
  LOG_DEBUG("tls_established", "peer=%s suite=%s resumed=%s", peer_.c_str(),
            tls_->ciphersuite(), tls_->resumed() ? "yes" : "no");
  phase_ = Phase::kUpgrade;
}

size_t Connection::pull_plain(uint8_t* buf, size_t cap) {
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
  if (!tls_) return 0;
  TlsSession::Status st;
  size_t n = tls_->read(buf, cap, &st);
  if (st == TlsSession::Status::kClosed) {
    if (phase_ != Phase::kClosing) bump(worker_->stats().peer_vanished);
    abort("peer sent close_notify");
  } else if (st == TlsSession::Status::kFailed) {
    abort(tls_->failure_reason().c_str());
  }
  return n;
}

void Connection::advance_upgrade() {
  uint8_t buf[4096];
  for (;;) {
    size_t n = pull_plain(buf, sizeof buf);
    if (n == 0 || phase_ != Phase::kUpgrade) return;
    size_t used = 0;
    UpgradeParser::Result r = upgrade_->feed(buf, n, &used);
    if (r == UpgradeParser::Result::kNeedMore) continue;
    const std::string& resp = upgrade_->response();
    out_.insert(out_.end(), resp.begin(), resp.end());
    mark_dirty();
    if (r == UpgradeParser::Result::kRefused) {
      bump(worker_->stats().upgrade_refused);
      count_handshake_failure(worker_->stats(), HandshakeFailure::upgrade_refused);
      if (worker_->log_allowed(FloodLog::kUpgradeRefused))
        LOG_WARN("upgrade_refused", "peer=%s status=%d reason=\"%s\"", peer_.c_str(),
                 upgrade_->status(), upgrade_->reason().c_str());
      phase_ = Phase::kClosing;
      close_after_flush_ = true;
      arm_timer(kCloseLingerSeconds);
      return;
    }
    // Bytes after the request head are early WebSocket data: keep them first in line.
    if (used < n) {
      plain_in_.insert(plain_in_.begin() + long(plain_in_pos_), buf + used, buf + n);
    }
    upgrade_.reset();
    ws_ = std::make_unique<WsSession>(this, WsSession::Role::kServer,
                                      worker_->config().max_ws_message);
    phase_ = Phase::kWebSocket;
    state_ = State::kAwaitingRequest;
    arm_timer(worker_->config().connect_wait_s);
    observe_handshake(worker_->stats(), (uv_hrtime() - accepted_ns_) / 1000);
    LOG_DEBUG("websocket_open", "peer=%s", peer_.c_str());
    return;
  }
}

void Connection::advance_websocket() {
  bool ok = ws_->receive();
  if (phase_ != Phase::kWebSocket) return;  // a message handler closed or aborted us
  if (!ok) {
    bump(worker_->stats().ws_rejected);
    close(ws_close::kProtocolError, "WebSocket protocol error");
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
    leave_routing();
    phase_ = Phase::kClosing;
    close_after_flush_ = true;
    arm_timer(kCloseLingerSeconds);
    mark_dirty();
  }
}

size_t Connection::ws_pull(uint8_t* buf, size_t cap) {
  if (phase_ != Phase::kWebSocket && !closing_reads_) return 0;
  return pull_plain(buf, cap);
}

void Connection::ws_push(const uint8_t* data, size_t len) {
  // Control frames (pong, close) are tiny and must not be dropped; no bound check here.
  out_.insert(out_.end(), data, data + len);
  mark_dirty();
}

void Connection::ws_message(const uint8_t* data, size_t len) {
  if (phase_ != Phase::kWebSocket) return;
  worker_->hub().on_message(*this, data, len);
}

void Connection::ws_rejected(const char* why) {
  LOG_WARN("ws_message_rejected", "peer=%s reason=\"%s\"", peer_.c_str(), why);
}

void Connection::set_state(State s) {
  if (state_ == State::kConnected && s != State::kConnected) worker_->remove_connected(this);
  if (state_ != State::kConnected && s == State::kConnected) worker_->add_connected(this);
  state_ = s;
  switch (s) {
    case State::kConnected:
      connected_unix_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
      probe_sent_ = false;
      arm_connected_timer();
      break;
    case State::kDisconnecting:
      arm_timer(worker_->config().disconnect_wait_s);
      break;
    case State::kAwaitingRequest:
      break;
  }
}

uint8_t* Connection::reserve_frame(size_t len) {
  if (phase_ != Phase::kWebSocket || ws_->close_sent()) return nullptr;
  size_t need = len + WsSession::kMaxFrameHeader;
  if (out_.size() + need > worker_->config().max_pending_output) {
    note_output_full();
    return nullptr;
  }
  size_t at = out_.size();
  out_.resize(at + need);
  size_t hdr = WsSession::binary_frame_header(out_.data() + at, len);
  out_.resize(at + hdr + len);
  mark_dirty();
  return out_.data() + at + hdr;
}

void Connection::note_output_full() {
  // Slow-reader policy: frames beyond the bound are dropped (the caller counts them); a node
  // whose output stays full for --slow-reader-timeout is disconnected so it stops costing memory
  // and drops for everyone sending to it.
  uint64_t now = worker_->now_ms();
  if (stuck_since_ms_ == 0) {
    stuck_since_ms_ = now;
    last_error_ = "output full: frames dropped";
  } else if (now - stuck_since_ms_ >= uint64_t(worker_->config().slow_reader_timeout_s * 1000)) {
    bump(worker_->stats().slow_reader_closed);
    LOG_WARN("slow_reader", "peer=%s vmac=%s pending=%zu", peer_.c_str(),
             vmac_.to_string().c_str(), out_.size());
    close(ws_close::kPolicyViolation, "output stayed full: not reading");
  }
}

bool Connection::send_message(const uint8_t* data, size_t len) {
  uint8_t* p = reserve_frame(len);
  if (!p) return false;
  std::memcpy(p, data, len);
  count_out(worker_->stats(), data[0], len);
  return true;
}

bool Connection::send_broadcast_copy(const uint8_t* data, size_t len) {
  if (out_.size() + len + WsSession::kMaxFrameHeader > worker_->config().max_pending_output / 2) {
    note_output_full();
    return false;
  }
  return send_message(data, len);
}

void Connection::mark_dirty() { worker_->mark_dirty(this); }

void Connection::arm_timer(double seconds) {
  uv_timer_start(
      &timer_, [](uv_timer_t* t) { static_cast<Connection*>(t->data)->on_timer(); },
      uint64_t(seconds * 1000), 0);
}

void Connection::on_timer() {
  const Config& cfg = worker_->config();
  switch (phase_) {
    case Phase::kTls:
    case Phase::kUpgrade:
      bump(worker_->stats().handshake_timeouts);
      count_handshake_failure(worker_->stats(), phase_ == Phase::kTls
                                                    ? HandshakeFailure::timeout_tls
                                                    : HandshakeFailure::timeout_upgrade);
      if (worker_->log_allowed(FloodLog::kHandshakeTimeout))
        LOG_WARN("handshake_timeout", "peer=%s phase=%s", peer_.c_str(),
                 phase_ == Phase::kTls ? "tls" : "upgrade");
      abort("handshake deadline passed");
      return;
    case Phase::kClosing:
      abort("close linger expired");
      return;
    case Phase::kWebSocket:
      break;
  }
  switch (state_) {
    case State::kAwaitingRequest:
      bump(worker_->stats().connect_wait_timeouts);
      LOG_WARN("connect_wait_expired", "peer=%s", peer_.c_str());
      close(ws_close::kNormal, "no Connect-Request in time");
      return;
    case State::kDisconnecting:
      close(ws_close::kNormal, "no Disconnect-ACK in time");
      return;
    case State::kConnected: {
      // Lazy liveness: the timer is not re-armed per message; we look at last_rx_ms_ here.
      uint64_t limit = uint64_t(2 * cfg.heartbeat_timeout_s * 1000);
      uint64_t idle = worker_->now_ms() - last_rx_ms_;
      if (probe_sent_ && idle >= uint64_t(cfg.connect_wait_s * 1000)) {
        bump(worker_->stats().liveness_timeouts);
        close(ws_close::kNormal, "no answer to the liveness probe");
      } else if (idle >= limit) {
        // Std AB.5.3.1 (2024): probe before closing a silent node.
        probe_sent_ = true;
        worker_->hub().send_heartbeat_request(*this);
        arm_timer(cfg.connect_wait_s);
      } else {
        probe_sent_ = false;
        if (idle_trim_due(idle) && release_idle_memory()) {
          idle_trimmed_ = true;
          bump(worker_->stats().idle_trims);
        }
        arm_connected_timer();
      }
      return;
    }
  }
}

// Connected and not probing: the timer wakes at the liveness deadline (2x the heartbeat
// timeout after the last input) or, if sooner, when the node will have been quiet for
// --idle-trim. Busy at that moment (output queued): look again one --idle-trim later.
void Connection::arm_connected_timer() {
  const Config& cfg = worker_->config();
  uint64_t idle = worker_->now_ms() - last_rx_ms_;
  uint64_t limit = uint64_t(2 * cfg.heartbeat_timeout_s * 1000);
  uint64_t wait = idle < limit ? limit - idle : 0;
  uint64_t trim = uint64_t(cfg.idle_trim_s * 1000);
  if (trim > 0 && !idle_trimmed_) wait = std::min(wait, idle < trim ? trim - idle : trim);
  arm_timer(double(wait) / 1000.0);
}

bool Connection::idle_trim_due(uint64_t idle_ms) const {
  uint64_t trim = uint64_t(worker_->config().idle_trim_s * 1000);
  return trim > 0 && !idle_trimmed_ && idle_ms >= trim;
}

// Idle memory: an idle node needs none of its buffers' pages until it next sends or is sent
// something. Only when nothing is queued or being written in either direction, so no byte
// in flight is touched; afterwards every path works as before (buffers regrow on demand).
bool Connection::release_idle_memory() {
  if (write_in_flight_ || !out_.empty() || !writing_.empty() ||
      plain_in_pos_ != plain_in_.size())
    return false;
  if (tls_ && !tls_->release_idle_buffers()) return false;
  std::vector<uint8_t>().swap(out_);
  std::vector<uint8_t>().swap(writing_);
  std::vector<uint8_t>().swap(plain_in_);
  plain_in_pos_ = 0;
  return true;
}

// First input after a trim: the timer (lazy, not re-armed per message) still points at the
// liveness deadline; bring the next trim check forward so a node that goes quiet again is
// trimmed again (a large record may have touched the released pages).
void Connection::note_input_after_trim() {
  idle_trimmed_ = false;
  if (phase_ == Phase::kWebSocket && state_ == State::kConnected && !probe_sent_)
    arm_connected_timer();
}

void Connection::leave_routing() {
  if (state_ == State::kConnected) worker_->remove_connected(this);
  worker_->hub().on_leaving(*this);
}

void Connection::close(uint16_t ws_code, const char* why) {
  if (phase_ == Phase::kClosing) return;
  LOG_INFO("node_disconnected", "peer=%s vmac=%s uuid=%s reason=\"%s\"", peer_.c_str(),
           registered_ ? vmac_.to_string().c_str() : "-",
           registered_ ? uuid_.to_string().c_str() : "-", why);
  leave_routing();
  if (ws_) ws_->close(ws_code, nullptr);
  phase_ = Phase::kClosing;
  close_after_flush_ = true;
  arm_timer(kCloseLingerSeconds);
  mark_dirty();
}

void Connection::abort(const char* why) {
  if (open_handles_ == 0 || uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_))) return;
  if (phase_ != Phase::kClosing || registered_) {
    LOG_INFO("node_gone", "peer=%s vmac=%s uuid=%s reason=\"%s\"", peer_.c_str(),
             registered_ ? vmac_.to_string().c_str() : "-",
             registered_ ? uuid_.to_string().c_str() : "-", why);
  }
  leave_routing();
  phase_ = Phase::kClosing;
  close_handles();
}

void Connection::close_handles() {
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_handle_closed);
}

void Connection::on_handle_closed(uv_handle_t* h) {
  auto* c = static_cast<Connection*>(h->data);
  if (--c->open_handles_ == 0) c->worker_->release(c);
}

void Connection::flush() {
  if (read_paused_ && open_handles_ != 0 &&
      !uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_))) {
    read_paused_ = false;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
  }
  if (write_in_flight_ || open_handles_ == 0 ||
      uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_)))
    return;
  std::vector<uint8_t>* buf = &out_;
  if (tls_ && tls_->established()) {
    if (!out_.empty()) {
      if (!tls_->write(out_.data(), out_.size())) {
        abort(tls_->failure_reason().c_str());
        return;
      }
      out_.clear();
    }
    buf = &tls_->ciphertext_out();
  } else if (tls_) {
    buf = &tls_->ciphertext_out();  // handshake records or an alert
  }
  if (!buf->empty()) {
    // Most writes complete at once on loopback/LAN: try that before queueing a request.
    uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(buf->data()), unsigned(buf->size()));
    int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1);
    if (n == UV_EAGAIN) n = 0;
    if (n < 0) {
      abort(uv_strerror(n));
      return;
    }
    if (size_t(n) == buf->size()) {
      buf->clear();
      stuck_since_ms_ = 0;
    } else {
      writing_.assign(buf->begin() + n, buf->end());
      buf->clear();
      uv_buf_t rest = uv_buf_init(reinterpret_cast<char*>(writing_.data()),
                                  unsigned(writing_.size()));
      write_in_flight_ = true;
      uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &rest, 1, on_write);
      return;
    }
  }
  // After an orderly close, TCP goes once our last bytes are out and, for a WebSocket,
  // the peer has answered our Close (or closed TCP, or the linger timer gives up waiting).
  if (close_after_flush_ && (!ws_ || ws_->close_handshake_done())) abort("closed");
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  c->write_in_flight_ = false;
  c->writing_.clear();
  c->stuck_since_ms_ = 0;  // the peer is reading again
  if (status < 0) {
    c->abort(uv_strerror(status));
    return;
  }
  c->mark_dirty();
}

}  // namespace bsc
