// Everything the hub can be told, with its default and unit beside it; validate() gives
// every bad-value message. Threads: built at [startup], then read-only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bsc/vmac.hpp"

namespace bsc {

// How a device UUID is bound to the certificate that claims it (core/access_control.hpp).
enum class IdentityBinding : uint8_t { kOff, kPin, kCertificate };
const char* identity_binding_name(IdentityBinding b);  // "off", "pin", "certificate"
bool parse_identity_binding(std::string_view text, IdentityBinding* out);

struct Config {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 4443;        // 0: an ephemeral port (printed on start)
  std::string cert_file, key_file, ca_file;
  // CRLs (PEM or DER) of the --ca issuers: revoked node certificates are refused.
  std::vector<std::string> crl_files;
  static constexpr size_t kMaxCrlFiles = 16;
  bool tls = true;                    // --no-tls: plain ws://, loopback only
  unsigned workers = 1;               // event-loop threads
  Vmac hub_vmac;                      // default: random Random-48 (Clause H.7.3)
  Uuid hub_uuid;                      // default: random version-4 UUID
  size_t max_connections = 10000;     // beyond it new TCP connections are closed at once
  uint16_t max_bvlc_length = 6000;    // announced in Connect-Accept; larger messages dropped
  uint16_t max_npdu_length = 1497;    // announced in Connect-Accept
  double handshake_timeout_s = 10;    // TCP accept -> WebSocket open
  double connect_wait_s = 10;         // WebSocket open -> Connect-Request (Std default 10 s)
  double heartbeat_timeout_s = 300;   // silence for 2x this: probe, then close
  double idle_trim_s = 30;            // no input this long: buffers released (0: never)
  double disconnect_wait_s = 5;       // Disconnect-Request -> ACK
  size_t max_pending_output = 1 << 20;  // bytes queued per connection before dropping
  double slow_reader_timeout_s = 10;  // output full this long: the node is disconnected
  size_t max_ws_message = 65536;      // hard cap; above it the WebSocket closes with 1009
  // Reconnect storms (see core/handshake_gate.hpp, core/source_limiter.hpp).
  size_t max_handshakes = 256;        // TLS handshakes open at once (split over workers)
  double handshake_budget_ms = 2;     // handshake time per loop iteration; 0: no budget
  double source_rate = 50;            // new connections/s per source address; 0: no limit
  double source_burst = 200;          // ... with this many at once
  bool tls_tickets = true;            // TLS 1.3 session tickets (resumption)
  uint32_t ticket_lifetime_s = 3600;  // ticket validity and ticket-key rotation period
  std::string ticket_key_file;        // ticket key shared across restarts/hubs; "": random
  uint32_t known_certificates = 100000;  // node certificates remembered as CA-issued; 0: off
  std::string tls_groups;  // key exchange groups accepted, in preference order; "": tls_default_groups()
  // TLS 1.3 cipher suites allowed, in the hub's preference order (it wins over the client's).
  std::string tls_ciphersuites = "chacha20,aes128,aes256";
  // Connection history (core/connection_history.hpp): departed nodes and refused
  // connection requests kept per worker, each list up to this many and for this long.
  size_t history_size = 100;
  double history_age_s = 86400;
  double shutdown_timeout_s = 5;      // SIGTERM: Disconnect-ACKs awaited this long, then cut
  // Lasting state (ops/state_store.hpp): pins, deny list and audit log in
  // STATE_DIR/bschub.db; "": nothing is kept across restarts. Audit rows older than
  // audit_max_age_s or beyond the newest audit_max_rows are pruned; audit records waiting
  // for the writer beyond audit_queue are dropped and counted.
  std::string state_dir;
  double audit_max_age_s = 30 * 86400;
  size_t audit_max_rows = 1000000;
  size_t audit_queue = 65536;
  bool metrics = false;               // --metrics: HTTP listener for /metrics and /status
  std::string metrics_host = "127.0.0.1";
  uint16_t metrics_port = 9464;       // 0: an ephemeral port (printed on start)
  // The admin socket (ops/admin_server.hpp): a Unix socket path ("": none) and the group
  // whose members may use it besides root and the hub's own user ("": none). Whether the
  // group exists is checked when the socket is made.
  std::string admin_socket;
  std::string admin_group;
  static constexpr size_t kMaxAdminSocketPath = 107;  // sockaddr_un's sun_path, minus NUL
  // The hub's BACnet device at its VMAC (core/device.hpp; docs/bacnet-device.md §14). Off
  // unless device_instance is set; then the strings below name it (BACnet CharacterStrings).
  int64_t device_instance = kNoDevice;  // 0..kMaxDeviceInstance
  std::string device_name;              // "": default_device_name()
  uint32_t network_number = 0;          // 0..65534; 0: not known (the hub is no router)
  uint32_t vendor_identifier = 0;       // 0..65535; set the one ASHRAE assigned to you
  std::string vendor_name = "bschub";
  std::string model_name = "bschub";
  std::string description = "BACnet/SC hub";
  std::string location;
  // Segmented responses (clause 5.4.5): the segment timer T_seg and the retries N_retry,
  // reported as APDU_Segment_Timeout and Number_Of_APDU_Retries. Short timers are for tests.
  uint32_t device_segment_timeout_ms = 2000;  // 10..60000
  uint32_t device_apdu_retries = 3;           // 0..10
  // DeviceCommunicationControl password (clause 16.1; at most 20 characters); "": none asked.
  std::string dcc_password;
  // SC_Hub_Function_Accept_URIs: the wss:// URIs nodes use to reach the hub, when they are
  // not the one it listens on (a NAT, a proxy, a DNS name). Empty: the listen URI.
  std::vector<std::string> accept_uris;
  // Operator control (docs/operations.md, "Who is on the network").
  IdentityBinding identity_binding = IdentityBinding::kPin;
  size_t max_pins = 100000;  // pinned UUIDs kept; beyond it new UUIDs connect unpinned
  static constexpr size_t kMaxAcceptUris = 4;      // they must fit one APDU together
  static constexpr size_t kMaxAcceptUriOctets = 255;
  static constexpr int64_t kNoDevice = -1;
  static constexpr int64_t kMaxDeviceInstance = 4194302;  // 4194303 means "this device"
  static constexpr size_t kMaxDeviceText = 255;  // octets of each of the strings above
  bool device_enabled() const { return device_instance != kNoDevice; }

  // Returns "" when valid, else one sentence naming the bad value.
  std::string validate() const;

 private:
  std::string validate_device() const;
};

bool is_loopback_host(const std::string& host);
// "bschub-" and the host name: a device name that says what it is and is unique per host.
std::string default_device_name();
Vmac random_vmac();
Uuid random_uuid();

}  // namespace bsc
