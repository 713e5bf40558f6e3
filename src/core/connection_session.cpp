// Connection, the session side: BVLC-SC state changes, the bound on pending output (the
// slow-reader policy) and the one timer each connection has (handshake, Connect-Request and
// Disconnect-ACK deadlines, liveness, idle trim, close linger). The byte pipeline and the
// close sequence are in connection.cpp.
#include <algorithm>
#include <cstring>

#include "bsc/bacnet/enums.hpp"
#include "core/connection.hpp"
#include "core/tls_failure.hpp"
#include "core/worker.hpp"
#include "util/log.hpp"
#include "util/unix_time.hpp"

namespace bsc {

void Connection::set_state(State s) {
  if (state_ == State::kClosing) return;  // leaving already: routing and timers are done
  if (state_ == State::kConnected && s != State::kConnected) worker_->remove_connected(this);
  if (state_ != State::kConnected && s == State::kConnected) worker_->add_connected(this);
  state_ = s;
  switch (s) {
    case State::kConnected:
      connected_unix_ms_ = unix_now_ms();
      audit(AuditRecord::Kind::kConnect, "Connect-Request accepted", &vmac_, &uuid_);
      probe_sent_ = false;
      worker_->history().connected_changed();
      arm_connected_timer();
      break;
    case State::kDisconnecting:
      arm_timer(worker_->config().disconnect_wait_s);
      break;
    default:
      break;
  }
}

uint8_t* Connection::reserve_frame(size_t len) {
  if (!websocket_open() || ws_->close_sent()) return nullptr;
  std::vector<uint8_t>& out = transport_.output();
  size_t need = len + WsSession::kMaxFrameHeader;
  if (out.size() + need > worker_->config().max_pending_output) {
    note_output_full();
    return nullptr;
  }
  size_t at = out.size();
  out.resize(at + need);
  size_t hdr = WsSession::binary_frame_header(out.data() + at, len);
  out.resize(at + hdr + len);
  mark_dirty();
  return out.data() + at + hdr;
}

void Connection::note_output_full() {
  // Slow-reader policy: frames beyond the bound are dropped (the caller counts them); a node
  // whose output stays full for --slow-reader-timeout is disconnected so it stops costing memory
  // and drops for everyone sending to it. A write the kernel takes ends the stall (flush).
  uint64_t now = worker_->now_ms();
  if (stuck_since_ms_ == 0) {
    stuck_since_ms_ = now;
    last_error_ = "output full: frames dropped";
  } else if (now - stuck_since_ms_ >= uint64_t(worker_->config().slow_reader_timeout_s * 1000)) {
    bump(worker_->stats().slow_reader_closed);
    LOG_WARN("slow_reader", "peer=%s vmac=%s pending=%zu", peer_.c_str(),
             vmac_.to_string().c_str(), pending_output());
    close(ws_close::kPolicyViolation, "output stayed full: not reading",
          uint16_t(bacnet::ErrorCode::kWebsocketDataNotAccepted));
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
  if (pending_output() + len + WsSession::kMaxFrameHeader >
      worker_->config().max_pending_output / 2) {
    note_output_full();
    return false;
  }
  return send_message(data, len);
}

void Connection::arm_timer(double seconds) {
  uv_timer_start(
      &timer_, [](uv_timer_t* t) { static_cast<Connection*>(t->data)->on_timer(); },
      uint64_t(seconds * 1000), 0);
}

void Connection::on_timer() {
  const Config& cfg = worker_->config();
  switch (state_) {
    case State::kTls:
    case State::kUpgrade:
      bump(worker_->stats().handshake_timeouts);
      count_handshake_failure(worker_->stats(), state_ == State::kTls
                                                    ? HandshakeFailure::timeout_tls
                                                    : HandshakeFailure::timeout_upgrade);
      if (worker_->log_allowed(FloodLog::kHandshakeTimeout))
        LOG_WARN("handshake_timeout", "peer=%s phase=%s", peer_.c_str(),
                 state_ == State::kTls ? "tls" : "upgrade");
      abort("handshake deadline passed");
      return;
    case State::kClosing:
      abort("close linger expired");
      return;
    case State::kAwaitingRequest:
      bump(worker_->stats().connect_wait_timeouts);
      LOG_WARN("connect_wait_expired", "peer=%s", peer_.c_str());
      note_refused(uint16_t(bacnet::ErrorCode::kTimeout), nullptr, nullptr,
                   "no Connect-Request in time");
      close(ws_close::kNormal, "no Connect-Request in time");
      return;
    case State::kDisconnecting:
      close(ws_close::kNormal, "no Disconnect-ACK in time", uint16_t(bacnet::ErrorCode::kTimeout));
      return;
    case State::kConnected: {
      // Lazy liveness: the timer is not re-armed per message; we look at last_rx_ms_ here.
      uint64_t limit = uint64_t(2 * cfg.heartbeat_timeout_s * 1000);
      uint64_t idle = worker_->now_ms() - last_rx_ms_;
      if (probe_sent_ && idle >= uint64_t(cfg.connect_wait_s * 1000)) {
        bump(worker_->stats().liveness_timeouts);
        close(ws_close::kNormal, "no answer to the liveness probe",
              uint16_t(bacnet::ErrorCode::kTimeout));
      } else if (idle >= limit) {
        // Std AB.5.3.1 (2024): probe before closing a silent node.
        probe_sent_ = true;
        worker_->hub().send_heartbeat_request(*this);
        arm_timer(cfg.connect_wait_s);
      } else {
        probe_sent_ = false;
        // Idle memory: an idle node needs none of its buffers' pages until it next sends or
        // is sent something (the transport refuses while any byte is in flight).
        if (idle_trim_due(idle) && transport_.release_idle_buffers()) {
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

// First input after a trim: the timer (lazy, not re-armed per message) still points at the
// liveness deadline; bring the next trim check forward so a node that goes quiet again is
// trimmed again (a large record may have touched the released pages).
void Connection::note_input_after_trim() {
  idle_trimmed_ = false;
  if (state_ == State::kConnected && !probe_sent_) arm_connected_timer();
}

}  // namespace bsc
