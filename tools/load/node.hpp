// Node: one simulated BACnet/SC node on its shard's loop: TCP (libuv) -> TLS 1.3 (mbedTLS,
// optional) -> HTTP upgrade -> WebSocket (wslay) -> BVLC-SC Connect-Request/Accept; then
// it carries whatever BVLC messages its mode gives it, and ends with
// Disconnect-Request/ACK and the WebSocket close handshake.
//
// With --failover-uri the node is a hub connector (docs/load-tool.md, "Failover"): a lost
// or refused connection is made again, to the failover hub after the primary, to the
// primary after the failover; the shard moves nodes back to the primary once it is up
// (move_to_primary). The same Node object carries every connection, one at a time.
//
// Threads: [owner] only: created, used and destroyed on its shard's thread (created before
// the thread starts). A Node object lives for the whole run, even after its socket closed,
// so modes may keep plain references and indices.
//
// Transport: the hub's own StreamTransport (net/stream_transport.hpp) with the shard's read
// buffer. Output path (as in the hub's Connection): messages are appended as masked
// WebSocket frames to the transport's output; the shard's drain pass (once per loop
// iteration) calls flush(), which encrypts everything in as few TLS records as possible and
// issues one write.
#pragma once
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bsc/bvlc.hpp"
#include "bsc/vmac.hpp"
#include "net/http_upgrade.hpp"
#include "net/stream_transport.hpp"
#include "net/ws_session.hpp"
#include "util/xorshift.hpp"

namespace bsc::load {

class Shard;

class Node final : public WsSession::IO, private StreamTransport::Events {
 public:
  enum class State : uint8_t {
    kNew,            // not started
    kTcp,            // TCP connect in progress
    kTls,            // TLS handshake
    kUpgrade,        // HTTP upgrade sent, waiting for 101
    kAwaitAccept,    // Connect-Request sent
    kConnected,      // Connect-Accept received
    kDisconnecting,  // Disconnect-Request sent (end of run)
    kClosing,        // WebSocket close handshake, then TCP close
    kClosed,         // socket closed (or never opened)
  };

  Node(Shard* shard, uint32_t local_index, uint32_t global_index, const Vmac& vmac,
       const Uuid& uuid);
  ~Node() override;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts the TCP connect; the shard hears back through node_resolved().
  void start();
  // End of run: Disconnect-Request if connected, else close at once.
  void disconnect();
  // Immediate end without a close handshake.
  void abort(const char* why);
  // Failover: leave the failover hub with Disconnect-Request, then connect to the primary.
  void move_to_primary();
  // Failover: the reconnect that was waiting for the reconnect interval is due.
  bool retry_due(uint64_t now) const { return retry_at_ns_ != 0 && now >= retry_at_ns_; }
  void retry();

  // Queues one BVLC message as a WebSocket binary frame. False if the node cannot send
  // (not connected / closing): nothing is queued then.
  bool send(const uint8_t* bvlc, size_t len);
  // Octets not yet handed to the kernel.
  size_t backlog() const;
  uint16_t next_message_id() { return next_message_id_++; }
  // Queues a header-only message (Heartbeat-Request/ACK, Disconnect-Request/ACK).
  bool send_simple(Function f, uint16_t message_id);

  State state() const { return state_; }
  bool connected() const { return state_ == State::kConnected; }
  bool handshaking() const { return state_ >= State::kTcp && state_ <= State::kAwaitAccept; }
  bool socket_open() const { return transport_.open(); }
  uint64_t started_ns() const { return started_ns_; }
  uint32_t local_index() const { return local_; }
  uint32_t global_index() const { return global_; }
  const Vmac& vmac() const { return vmac_; }
  // The hub of the current (or last) connection: 0 = primary, 1 = failover.
  int hub() const { return hub_; }

  // [drain pass] Encrypts pending output and writes it (one write per call).
  void flush();
  bool in_dirty_list = false;

 private:
  enum class End : uint8_t { kNone, kFailed, kLost, kClean, kForced };

  static void on_connect(uv_connect_t* req, int status);

  // StreamTransport::Events
  void on_transport_read(const uint8_t* data, size_t len) override;
  void on_transport_read_end(int status) override;
  void on_transport_written(int status) override;
  void on_transport_closed() override;

  void send_upgrade_request();
  void advance_upgrade();
  void advance_websocket();
  size_t pull_plain(uint8_t* buf, size_t cap);
  void on_bvlc(const uint8_t* data, size_t len);
  // The connect attempt ended without Connect-Accept; `kind` picks the counter.
  enum class Fail : uint8_t { kTcp, kTls, kUpgrade, kNak, kTimeout, kClosed };
  void fail(Fail kind, const std::string& why);
  // The connection ended without our asking (after Connect-Accept, or while closing).
  void peer_gone(const std::string& why);
  void leave_connected();
  // A connected node lost its hub without asking (failover bookkeeping).
  void lost_hub();
  // Failover: after the socket closed, connect again (now or after the interval).
  void plan_reconnect();
  void close_socket(End end);
  void mark_dirty();

  // WsSession::IO
  size_t ws_pull(uint8_t* buf, size_t cap) override;
  void ws_push(const uint8_t* data, size_t len) override;
  void ws_message(const uint8_t* data, size_t len) override;
  void ws_rejected(const char* why) override;

 public:
  // Handshake deadline check, called by the shard's sweep.
  void fail_timeout(const char* why) { fail(Fail::kTimeout, why); }

 private:
  Shard* shard_;
  const uint32_t local_;
  const uint32_t global_;
  const Vmac vmac_;
  const Uuid uuid_;
  State state_ = State::kNew;
  End end_ = End::kNone;
  uint16_t next_message_id_ = 1;
  uint64_t started_ns_ = 0;
  Xorshift64 mask_;  // our frames' masking keys

  // Failover (hub connector) state.
  uint8_t hub_ = 0;
  bool resolved_ = false;       // the first connect attempt was reported to the shard
  bool ever_connected_ = false;
  bool moving_ = false;         // leaving the failover on purpose, to return to the primary
  uint64_t retry_at_ns_ = 0;    // a reconnect waits until then (0: none)
  uint64_t lost_primary_ns_ = 0;  // when this node lost the primary (0: not lost)

  uv_connect_t connect_req_;
  StreamTransport transport_;
  std::unique_ptr<UpgradeResponseParser> upgrade_;
  std::unique_ptr<WsSession> ws_;
};

}  // namespace bsc::load
