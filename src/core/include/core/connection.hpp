// Connection: one SC node's session on its worker, over a StreamTransport (TCP + optional
// TLS, net/stream_transport.hpp): HTTP upgrade (llhttp) -> WebSocket (wslay) -> BVLC-SC
// messages handed to the HubFunction. Holds the node's session state (one State, below),
// its timers and the bound on its pending output.
//
// Threads: [owner] only. A Connection is created, used and destroyed on its worker's loop
// thread; other threads name it by ConnRef.
//
// Output path: everything for the peer is appended as plaintext WebSocket frames to the
// transport's output; the worker's drain pass (once per loop iteration) calls flush(), which
// encrypts it in as few TLS records as possible and issues one write.
#pragma once
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "bsc/bacnet/enums.hpp"
#include "bsc/vmac.hpp"
#include "core/conn_ref.hpp"
#include "core/connection_history.hpp"
#include "core/hub_ports.hpp"
#include "core/state_sink.hpp"
#include "net/http_upgrade.hpp"
#include "net/stream_transport.hpp"
#include "net/ws_session.hpp"

namespace bsc {

class TlsContext;
class Worker;

class Connection final : public WsSession::IO, private StreamTransport::Events {
 public:
  using State = NodeState;  // one state for the whole session (core/hub_ports.hpp)

  Connection(Worker* worker, ConnRef ref);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Takes the accepted TCP stream and starts reading. False if the socket is unusable.
  bool start(uv_stream_t* server);

  // ---- used by HubFunction ------------------------------------------------------
  ConnRef ref() const { return ref_; }
  Worker& worker() { return *worker_; }
  State state() const { return state_; }
  // kAwaitingRequest, kConnected or kDisconnecting; ignored once closing.
  void set_state(State s);
  // WebSocket up and not closing: BVLC-SC messages flow.
  bool websocket_open() const {
    return state_ >= State::kAwaitingRequest && state_ < State::kClosing;
  }
  // Connect-Accept sent and not closing: may be a routing target.
  bool routable() const { return state_ == State::kConnected || state_ == State::kDisconnecting; }
  const Vmac& vmac() const { return vmac_; }
  const Uuid& uuid() const { return uuid_; }
  void set_identity(const Vmac& v, const Uuid& u, uint16_t max_bvlc) {
    vmac_ = v;
    uuid_ = u;
    peer_max_bvlc_ = max_bvlc;
  }
  bool registered() const { return registered_; }
  void set_registered(bool r) { registered_ = r; }
  uint16_t peer_max_bvlc() const { return peer_max_bvlc_; }
  const std::string& peer() const { return peer_; }
  const sockaddr_storage& peer_address() const { return peer_addr_; }
  uint64_t last_rx_ms() const { return last_rx_ms_; }

  // Appends one BVLC message as a WebSocket binary frame; false (and nothing queued) if the
  // output bound would be passed.
  bool send_message(const uint8_t* data, size_t len);
  // Like send_message for a broadcast copy, which may fill only half of the output bound:
  // a node flooding broadcasts cannot crowd out unicasts and the hub's own answers.
  bool send_broadcast_copy(const uint8_t* data, size_t len);
  // Reserves room for a frame of `len` payload octets and returns where the payload goes
  // (the header is written); nullptr if the output bound would be passed.
  uint8_t* reserve_frame(size_t len);
  size_t pending_output() const { return transport_.pending_output(); }
  // Bytes waiting for this peer: queued frames plus a write the kernel has not taken yet.
  size_t backlog() const { return transport_.pending_output() + transport_.in_flight(); }
  // For the status table: wall-clock time of Connect-Accept, and the last error this node
  // caused or suffered ("" if none).
  int64_t connected_unix_ms() const { return connected_unix_ms_; }
  const std::string& last_error() const { return last_error_; }
  void set_last_error(const char* why) { last_error_ = why; }

  // Connection history (core/connection_history.hpp). The hub function says how the
  // session ends before it closes it: end_cleanly() for the BVLC Disconnect handshake (the
  // node is then listed not-connected, without error), note_refused() for a refused
  // Connect-Request (a failed connection request; `vmac`/`uuid` nullptr if not known;
  // `error_code` a BACnet ErrorCode of class communication).
  void end_cleanly() { clean_end_ = true; }
  void note_refused(uint16_t error_code, const Vmac* vmac, const Uuid* uuid, const char* details,
                    uint16_t error_class = uint16_t(bacnet::ErrorClass::kCommunication));
  // The certificate identity TLS established (nullptr before, or without TLS).
  const PeerIdentity* peer_identity() const { return identity_.get(); }

  // Orderly end: WebSocket close with `code`, flush, then close TCP. `why` is logged and,
  // for a connected node, kept in the history with `error_code` (a BACnet ErrorCode of
  // class communication) unless it ends cleanly.
  void close(uint16_t ws_code, const char* why, uint16_t error_code = 0);
  // Immediate end without a close handshake (peer vanished, fatal error).
  void abort(const char* why);

  // ---- used by Worker -----------------------------------------------------------
  // Resumes reading after a read-budget pause; encrypts pending output and writes it (one
  // write per call). [drain pass]
  void flush();
  void on_timer();
  // Runs the queued TLS handshake step (and what its completion unblocks). [check phase]
  void run_handshake_step();
  bool in_dirty_list = false;
  size_t connected_index = SIZE_MAX;  // position in Worker::connected(), SIZE_MAX if absent

 private:
  friend class Worker;

  // StreamTransport::Events
  void on_transport_read(const uint8_t* data, size_t len) override;
  void on_transport_read_end(int status) override;
  void on_transport_written(int status) override;
  void on_transport_closed() override;

  void on_data(const uint8_t* data, size_t len);
  void charge_read_budget(size_t n);
  void advance();
  void advance_tls();
  void end_handshake();
  void advance_upgrade();
  void advance_websocket();
  size_t pull_plain(uint8_t* buf, size_t cap);
  void begin_linger();
  void mark_dirty();
  void note_output_full();
  void arm_timer(double seconds);
  void arm_connected_timer();
  bool idle_trim_due(uint64_t idle_ms) const;
  void note_input_after_trim();
  // Leaves the routing map; a connected node's departure goes into the history.
  void leave_routing(uint16_t error_code, const char* why);
  PeerAddress peer_address_record() const;
  // After TLS: false (and refused with an alert) if a reload since the handshake began no
  // longer accepts the certificate (certificate_revoked), or the deny list names the node's
  // certificate or key (access_denied).
  bool admit_certificate();
  // Refuses the node after TLS: log line `event`, the TLS alert, the history entry with
  // the BACnet error (class, code), then the linger close. Returns false.
  bool refuse_certificate(const char* event, unsigned char alert, const std::string& why,
                          uint16_t error_code,
                          uint16_t error_class = uint16_t(bacnet::ErrorClass::kCommunication));
  // One audit-log record about this connection (core/state_sink.hpp), if the hub keeps one;
  // `vmac`/`uuid` nullptr when not known.
  void audit(AuditRecord::Kind kind, const std::string& reason, const Vmac* vmac,
             const Uuid* uuid);
  void close_handles();
  void handle_closed();
  TlsSession* tls() { return transport_.tls(); }

  // WsSession::IO
  size_t ws_pull(uint8_t* buf, size_t cap) override;
  void ws_push(const uint8_t* data, size_t len) override;
  void ws_message(const uint8_t* data, size_t len) override;
  void ws_rejected(const char* why) override;

  Worker* worker_;
  ConnRef ref_;
  uv_timer_t timer_;
  int open_handles_ = 0;  // the transport's TCP handle and timer_

  State state_ = State::kTls;
  bool registered_ = false;       // holds entries in the routing table
  bool probe_sent_ = false;       // liveness Heartbeat-Request outstanding
  bool idle_trimmed_ = false;     // buffers released since the last input (--idle-trim)
  bool closing_reads_ = false;     // reading only to see the peer's Close reply
  bool in_handshake_ = false;      // holds a place in the worker's HandshakeGate
  bool clean_end_ = false;         // ends with the BVLC Disconnect handshake
  bool handshake_queued_ = false;  // waits in the gate's queue for a step
  Vmac vmac_;
  Uuid uuid_;
  uint16_t peer_max_bvlc_ = 0;
  uint64_t last_rx_ms_ = 0;
  uint64_t stuck_since_ms_ = 0;   // output at its bound since then (0: not stuck)
  uint64_t read_iteration_ = 0;   // Worker::iteration() of the reads counted below
  size_t read_in_iteration_ = 0;  // octets read in that iteration
  sockaddr_storage peer_addr_{};  // AF_UNSPEC if unknown
  std::string peer_;
  uint64_t accepted_ns_ = 0;       // uv_hrtime() at accept, for the handshake latency
  int64_t connected_unix_ms_ = 0;
  std::string last_error_;
  std::shared_ptr<const PeerIdentity> identity_;

  // The TLS config this session started with: mbedtls_ssl_context points into it, so it
  // must outlive the transport's TlsSession even after a SIGHUP reload swaps in a new one
  // (declared first).
  std::shared_ptr<const TlsContext> tls_ctx_;
  StreamTransport transport_;
  std::unique_ptr<UpgradeParser> upgrade_;
  std::unique_ptr<WsSession> ws_;
};

}  // namespace bsc
