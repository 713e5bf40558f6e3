#include "node.hpp"

#include <mbedtls/base64.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "clock.hpp"
#include "shard.hpp"
#include "ws_frame.hpp"

namespace bsc::load {
namespace {

constexpr size_t kMaxWsMessage = 65536;

// The first few problems are printed; the summary has the totals.
std::atomic<int> g_reported{0};
constexpr int kMaxReported = 10;

void report(uint32_t node, const char* what, const std::string& why) {
  int n = g_reported.fetch_add(1, std::memory_order_relaxed);
  if (n < kMaxReported) {
    std::fprintf(stderr, "bschub-load: node %u: %s: %s\n", node, what, why.c_str());
  } else if (n == kMaxReported) {
    std::fprintf(stderr, "bschub-load: (further node errors not shown; see the summary)\n");
  }
}

}  // namespace

Node::Node(Shard* shard, uint32_t local_index, uint32_t global_index, const Vmac& vmac,
           const Uuid& uuid)
    : shard_(shard),
      local_(local_index),
      global_(global_index),
      vmac_(vmac),
      uuid_(uuid),
      mask_(shard->rand64()),
      transport_(this) {
  connect_req_.data = this;
}

Node::~Node() = default;

void Node::start() {
  started_ns_ = now_ns();
  state_ = State::kTcp;
  end_ = End::kNone;
  retry_at_ns_ = 0;
  transport_.init(shard_->loop(), shard_->read_buffer(), shard_->read_buffer_size());
  const Options& opt = shard_->options();
  int rc = 0;
  if (opt.spread_sources) {
    // Many source addresses: each has its own ephemeral port range.
    sockaddr_in src;
    char ip[32];
    std::snprintf(ip, sizeof ip, "127.0.0.%u", 1 + global_ % 250);
    uv_ip4_addr(ip, 0, &src);
    rc = uv_tcp_bind(transport_.tcp(), reinterpret_cast<const sockaddr*>(&src), 0);
  }
  if (rc == 0)
    rc = uv_tcp_connect(&connect_req_, transport_.tcp(),
                        reinterpret_cast<const sockaddr*>(&opt.hub_addr(hub_)), on_connect);
  if (rc != 0) fail(Fail::kTcp, uv_strerror(rc));
}

void Node::on_connect(uv_connect_t* req, int status) {
  auto* n = static_cast<Node*>(req->data);
  if (n->state_ != State::kTcp) return;  // closed meanwhile
  if (status < 0) {
    n->fail(Fail::kTcp, uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(n->transport_.tcp(), 1);
  n->transport_.start_reading();
  if (const TlsContext* ctx = n->shard_->tls()) {
    TicketStore* tickets = n->shard_->ctx().tickets;
    n->transport_.set_tls(
        std::make_unique<TlsSession>(*ctx, tickets ? tickets->get(n->global_) : nullptr));
    TlsSession* tls = n->transport_.tls();
    n->state_ = State::kTls;
    if (!tls->failure_reason().empty()) {
      n->fail(Fail::kTls, tls->failure_reason());
      return;
    }
    if (tls->handshake() == TlsSession::Status::kFailed) {  // writes the ClientHello
      n->fail(Fail::kTls, tls->failure_reason());
      return;
    }
    n->mark_dirty();
  } else {
    n->send_upgrade_request();
  }
}

void Node::send_upgrade_request() {
  state_ = State::kUpgrade;
  uint8_t raw[16];
  for (int i = 0; i < 16; i += 8) {
    uint64_t r = shard_->rand64();
    std::memcpy(raw + i, &r, 8);
  }
  unsigned char key[32];
  size_t key_len = 0;
  mbedtls_base64_encode(key, sizeof key, &key_len, raw, sizeof raw);
  std::string_view k(reinterpret_cast<const char*>(key), key_len);
  upgrade_ = std::make_unique<UpgradeResponseParser>(websocket_accept(k));
  std::string req = make_upgrade_request(shard_->options().hub_host_header(hub_), k);
  std::vector<uint8_t>& out = transport_.output();
  out.insert(out.end(), req.begin(), req.end());
  mark_dirty();
}

void Node::on_transport_read_end(int status) {
  peer_gone(status == UV_EOF ? "hub closed TCP" : uv_strerror(status));
}

void Node::on_transport_read(const uint8_t* data, size_t len) {
  if (state_ == State::kClosed || !transport_.open()) return;
  transport_.feed(data, len);
  TlsSession* tls = transport_.tls();
  if (state_ == State::kTls) {
    TlsSession::Status st = tls->handshake();
    if (st == TlsSession::Status::kFailed) {
      fail(Fail::kTls, tls->failure_reason());
      return;
    }
    if (st == TlsSession::Status::kOk) send_upgrade_request();
  }
  if (state_ == State::kUpgrade) advance_upgrade();
  if (state_ >= State::kAwaitAccept && state_ <= State::kClosing && ws_) advance_websocket();
  if (tls && transport_.open() && !tls->ciphertext_out().empty()) mark_dirty();
}

size_t Node::pull_plain(uint8_t* buf, size_t cap) {
  TlsSession::Status st;
  size_t n = transport_.pull_plain(buf, cap, &st);
  const TlsSession* tls = transport_.tls();
  if (st == TlsSession::Status::kClosed) {
    peer_gone("hub sent TLS close_notify");
  } else if (st == TlsSession::Status::kFailed && state_ == State::kUpgrade) {
    // TLS 1.3: our side of the handshake ends before the hub has checked our certificate;
    // its refusal arrives as the first record after it.
    fail(Fail::kTls,
         "hub ended the session right after the handshake (our certificate "
         "refused?): " +
             tls->failure_reason());
  } else if (st == TlsSession::Status::kFailed) {
    peer_gone("TLS: " + tls->failure_reason());
  }
  return n;
}

void Node::advance_upgrade() {
  // What follows the response head is WebSocket data: read_http_head keeps it first in line.
  UpgradeResponseParser::Result r =
      transport_.read_http_head(*upgrade_, [this](uint8_t* b, size_t cap) {
        size_t n = pull_plain(b, cap);
        return state_ == State::kUpgrade ? n : 0;
      });
  if (r == UpgradeResponseParser::Result::kNeedMore) return;
  if (r == UpgradeResponseParser::Result::kBad) {
    fail(Fail::kUpgrade, upgrade_->error());
    return;
  }
  upgrade_.reset();
  ws_ = std::make_unique<WsSession>(this, WsSession::Role::kClient, kMaxWsMessage);
  state_ = State::kAwaitAccept;
  ConnectPayload p;
  p.vmac = vmac_;
  p.uuid = uuid_;
  p.max_bvlc_length = 6000;
  p.max_npdu_length = 1497;
  std::vector<uint8_t>& scratch = shard_->scratch();
  scratch.clear();
  encode_connect_request(scratch, next_message_id(), p);
  send(scratch.data(), scratch.size());
}

void Node::advance_websocket() {
  bool ok = ws_->receive();
  if (!transport_.open() || state_ == State::kClosed) return;  // a handler closed us
  if (!ok) {
    peer_gone("WebSocket protocol error");
    return;
  }
  if (ws_->close_received()) {
    if (state_ == State::kDisconnecting || state_ == State::kClosing) {
      // The hub ends the session after our Disconnect-Request; wslay queued our reply.
      state_ = State::kClosing;
      mark_dirty();
    } else {
      peer_gone("hub closed the WebSocket (code " + std::to_string(ws_->close_code_received()) +
                ")");
    }
  }
}

size_t Node::ws_pull(uint8_t* buf, size_t cap) { return pull_plain(buf, cap); }

void Node::ws_push(const uint8_t* data, size_t len) {
  // wslay's own frames (pong, close): whole frames, never dropped.
  std::vector<uint8_t>& out = transport_.output();
  out.insert(out.end(), data, data + len);
  mark_dirty();
}

void Node::ws_message(const uint8_t* data, size_t len) {
  if (!transport_.open()) return;
  on_bvlc(data, len);
}

void Node::ws_rejected(const char* why) {
  bump(shard_->stats().unexpected);
  report(global_, "non-binary WebSocket message from the hub", why);
}

void Node::on_bvlc(const uint8_t* data, size_t len) {
  DecodeResult r = decode({data, len});
  ShardStats& st = shard_->stats();
  if (!r.ok) {
    bump(st.unexpected);
    return;
  }
  const Message& m = r.msg;
  auto fn = Function(m.function);
  if (state_ == State::kAwaitAccept) {
    if (fn == Function::kConnectAccept) {
      state_ = State::kConnected;
      const Options& opt = shard_->options();
      bool resumed = false;
      if (TlsSession* tls = transport_.tls()) {
        resumed = tls->resumed();
        if (resumed) bump(st.resumed);
        // The ticket came with the hub's first records; keep it for a later --resume run,
        // or (failover) for this node's next connection, to whichever hub.
        TicketStore* tickets = shard_->ctx().tickets;
        if (tickets && (!opt.save_tickets.empty() || opt.failover()))
          if (auto t = tls->take_ticket()) tickets->put(global_, std::move(t));
      }
      if (opt.failover()) {
        uint64_t now = now_ns();
        if (ever_connected_) {
          bump(st.reconnects);
          if (resumed) bump(st.reconnects_resumed);
        }
        if (hub_ == 1) {
          bump(st.failovers);
          bump(st.connected_failover);
          st.last_failover_ns.store(now, std::memory_order_relaxed);
          if (lost_primary_ns_) st.failover_latency.record(now - lost_primary_ns_);
        } else if (ever_connected_) {
          bump(st.returns);
        }
        lost_primary_ns_ = 0;
      }
      bool first = !resolved_;
      resolved_ = true;
      ever_connected_ = true;
      ConnectPayload accept = decode_connect_payload({data + m.payload.offset, m.payload.length});
      shard_->node_connected(*this, accept.max_bvlc_length, first);
    } else if (fn == Function::kResult) {
      ResultPayload p = decode_result_payload({data + m.payload.offset, m.payload.length});
      if (p.result_code == 1 && p.for_function == uint8_t(Function::kConnectRequest)) {
        fail(Fail::kNak, std::string("Connect-Request NAKed: ") +
                             error_code_name(ErrorCode(p.error_code)) + " \"" +
                             std::string(p.details) + "\"");
      } else {
        bump(st.unexpected);
      }
    } else {
      bump(st.unexpected);
    }
    return;
  }
  if (state_ != State::kConnected && state_ != State::kDisconnecting) return;
  switch (fn) {
    case Function::kEncapsulatedNpdu:
      shard_->on_npdu(*this, m, data);
      return;
    case Function::kHeartbeatAck:
      shard_->on_heartbeat_ack(*this, m.message_id);
      return;
    case Function::kHeartbeatRequest:
      send_simple(Function::kHeartbeatAck, m.message_id);
      return;
    case Function::kDisconnectAck:
      if (state_ == State::kDisconnecting) {
        state_ = State::kClosing;
        ws_->close(ws_close::kNormal, nullptr);
        mark_dirty();
      } else {
        bump(st.unexpected);
      }
      return;
    case Function::kDisconnectRequest:
      send_simple(Function::kDisconnectAck, m.message_id);
      if (state_ == State::kConnected) {
        // The hub wants us gone (shutdown, or another node took our UUID).
        bump(st.conn_lost);
        report(global_, "connection lost", "hub sent Disconnect-Request");
        lost_hub();
        leave_connected();
        end_ = End::kLost;
      }
      state_ = State::kClosing;
      return;
    default:
      bump(st.unexpected);
      return;
  }
}

bool Node::send_simple(Function f, uint16_t message_id) {
  std::vector<uint8_t>& scratch = shard_->scratch();
  scratch.clear();
  encode_simple(scratch, f, message_id);
  return send(scratch.data(), scratch.size());
}

bool Node::send(const uint8_t* bvlc, size_t len) {
  if (state_ < State::kAwaitAccept || state_ > State::kClosing || !transport_.open() ||
      ws_->close_sent())
    return false;
  append_masked_binary_frame(transport_.output(), bvlc, len, mask_.next32());
  mark_dirty();
  return true;
}

size_t Node::backlog() const {
  const TlsSession* tls = transport_.tls();
  return transport_.pending_output() + transport_.in_flight() +
         (tls ? tls->ciphertext_out().size() : 0);
}

void Node::disconnect() {
  switch (state_) {
    case State::kConnected:
      leave_connected();
      send_simple(Function::kDisconnectRequest, next_message_id());
      state_ = State::kDisconnecting;
      return;
    case State::kNew:
      state_ = State::kClosed;
      return;
    case State::kDisconnecting:
    case State::kClosing:
    case State::kClosed:
      return;
    default:
      // Still handshaking at the end of the run (interrupted): not a failure of the hub.
      close_socket(End::kForced);
      return;
  }
}

void Node::abort(const char* why) {
  (void)why;
  if (state_ == State::kConnected) leave_connected();
  close_socket(End::kForced);
}

void Node::fail(Fail kind, const std::string& why) {
  if (end_ != End::kNone) return;  // already ended
  ShardStats& st = shard_->stats();
  const char* what = "?";
  switch (kind) {
    case Fail::kTcp:
      bump(st.fail_tcp);
      what = "TCP connect failed";
      break;
    case Fail::kTls:
      bump(st.fail_tls);
      what = "TLS handshake failed";
      break;
    case Fail::kUpgrade:
      bump(st.fail_upgrade);
      what = "WebSocket upgrade failed";
      break;
    case Fail::kNak:
      bump(st.fail_nak);
      what = "connect refused";
      break;
    case Fail::kTimeout:
      bump(st.fail_timeout);
      what = "connect timed out";
      break;
    case Fail::kClosed:
      bump(st.fail_closed);
      what = "closed before Connect-Accept";
      break;
  }
  report(global_, what, why);
  close_socket(End::kFailed);
  if (shard_->options().failover()) {
    // A refused primary sends us to the failover first: the first attempt has failed only
    // once both hubs refused. Reconnects after that are no news to the connect phase.
    if (hub_ == 0) shard_->primary_refused();
    if (resolved_ || hub_ == 0) return;
  }
  resolved_ = true;
  shard_->node_resolved(*this, false);
}

void Node::peer_gone(const std::string& why) {
  switch (state_) {
    case State::kTcp:
    case State::kTls:
      fail(Fail::kTls, why);
      return;
    case State::kUpgrade:
      fail(Fail::kUpgrade, why);
      return;
    case State::kAwaitAccept:
      fail(Fail::kClosed, why);
      return;
    case State::kConnected:
      bump(shard_->stats().conn_lost);
      report(global_, "connection lost", why);
      lost_hub();
      leave_connected();
      close_socket(End::kLost);
      return;
    case State::kDisconnecting:
    case State::kClosing:
      // We asked to leave; the hub closing now is the normal end.
      close_socket(End::kClean);
      return;
    case State::kNew:
    case State::kClosed:
      return;
  }
}

void Node::leave_connected() {
  if (state_ != State::kConnected) return;
  ShardStats& st = shard_->stats();
  st.connected.store(st.connected.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  if (shard_->options().failover() && hub_ == 1)
    st.connected_failover.store(st.connected_failover.load(std::memory_order_relaxed) - 1,
                                std::memory_order_relaxed);
  state_ = State::kClosing;  // callers set the final state
  shard_->node_down(*this);
}

void Node::close_socket(End end) {
  if (end_ == End::kNone) end_ = end;
  if (!transport_.open()) {
    state_ = State::kClosed;
    return;
  }
  if (transport_.closing()) return;
  state_ = State::kClosing;
  transport_.close();
}

void Node::on_transport_closed() {
  state_ = State::kClosed;
  ShardStats& st = shard_->stats();
  if (end_ == End::kClean && !moving_) bump(st.disc_clean);
  if (end_ == End::kForced) bump(st.disc_forced);
  // Free the heavy per-connection state early (tens of thousands of nodes).
  ws_.reset();
  upgrade_.reset();
  transport_.discard_state();
  shard_->node_closed(*this);
  plan_reconnect();
}

void Node::lost_hub() {
  if (hub_ != 0 || !shard_->options().failover()) return;
  lost_primary_ns_ = now_ns();
  shard_->primary_lost(lost_primary_ns_);
}

void Node::plan_reconnect() {
  // What a hub connector does next (docs/load-tool.md, "Failover"): a lost or refused
  // primary -> the failover at once; a lost failover, or a planned move -> the primary at
  // once; a refused failover (both hubs down) -> the primary after the reconnect interval.
  if (!shard_->options().failover() || !shard_->reconnecting()) return;
  bool planned = moving_;
  moving_ = false;
  if (end_ == End::kForced) return;                  // the run is ending
  if (end_ == End::kClean && !planned) return;       // we asked to leave (end of run)
  uint64_t wait = 0;
  if (planned) {
    hub_ = 0;
  } else if (end_ == End::kFailed && hub_ == 1) {
    hub_ = 0;
    wait = uint64_t(shard_->options().reconnect_interval_s * 1e9);
  } else {
    hub_ = hub_ ? 0 : 1;
  }
  retry_at_ns_ = now_ns() + wait;
  if (wait == 0) retry();
}

void Node::retry() {
  retry_at_ns_ = 0;
  shard_->node_reopened();
  start();
}

void Node::move_to_primary() {
  if (state_ != State::kConnected || hub_ != 1) return;
  moving_ = true;
  disconnect();
}

void Node::mark_dirty() { shard_->mark_dirty(this); }

void Node::flush() {
  switch (transport_.flush()) {
    case StreamTransport::Flush::kBusy:
    case StreamTransport::Flush::kQueued:
      return;
    case StreamTransport::Flush::kTlsFailed:
      peer_gone("TLS write: " + transport_.tls()->failure_reason());
      return;
    case StreamTransport::Flush::kWriteFailed:
      peer_gone(transport_.write_error());
      return;
    case StreamTransport::Flush::kSent:
    case StreamTransport::Flush::kNothing:
      break;
  }
  // After our Close went out and the hub's arrived, TCP can go.
  if (state_ == State::kClosing && ws_ && ws_->finished() && transport_.pending_output() == 0)
    close_socket(End::kClean);
}

void Node::on_transport_written(int status) {
  if (status < 0) {
    if (status != UV_ECANCELED) peer_gone(uv_strerror(status));
    return;
  }
  mark_dirty();
}

}  // namespace bsc::load
