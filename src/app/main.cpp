// bschub: the BACnet/SC hub daemon. Command line -> Config -> Hub (+ ops hooks); exit codes:
// 0 clean stop (SIGINT/SIGTERM), 2 bad command line / config file / certificates / port.
// --config FILE: TOML whose keys are the long option names (app/config_file.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <thread>
#include <utility>

#include "app/config_file.hpp"
#include "app/hub_services.hpp"
#include "core/config.hpp"
#include "core/hub.hpp"
#include "net/tls_context.hpp"
#include "util/log.hpp"

namespace {

bool split_host_port(const std::string& text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) return false;
  char* end = nullptr;
  unsigned long p = std::strtoul(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || colon + 1 == text.size() || p > 65535) return false;
  *host = h;
  *port = uint16_t(p);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bsc::Config cfg;
  std::string listen = "127.0.0.1:4443", vmac_text, uuid_text, level = "info";
  unsigned hw = std::thread::hardware_concurrency();
  cfg.workers = hw ? hw : 1;

  CLI::App app{"bschub: a BACnet/SC hub (ASHRAE 135 Annex AB.5.3) over TLS 1.3 WebSockets"};
  app.add_option("--listen", listen, "HOST:PORT to accept hub connections on (PORT 0: any)")
      ->capture_default_str();
  app.add_option("--cert", cfg.cert_file, "hub operational certificate (PEM)");
  app.add_option("--key", cfg.key_file, "private key of --cert (PEM)");
  app.add_option("--ca", cfg.ca_file,
                 "issuer certificate(s) (PEM); node certificates must chain to these, "
                 "no system trust store is used");
  app.add_option("--crl", cfg.crl_files,
                 "certificate revocation list (PEM or DER) issued by one of the --ca "
                 "certificates; node certificates it lists are refused; repeatable, up to 16; "
                 "re-read on SIGHUP; a CRL past its next-update still applies and is logged "
                 "as crl_stale")
      ->allow_extra_args(false);
  app.add_option("--workers", cfg.workers, "worker threads, each an event loop owning a shard of connections (default: CPUs)")
      ->capture_default_str();
  app.add_option("--vmac", vmac_text, "hub VMAC, XX:XX:XX:XX:XX:XX (default: random)");
  app.add_option("--uuid", uuid_text, "hub device UUID (default: random)");
  app.add_option("--max-connections", cfg.max_connections,
                 "connections beyond this are closed at once")
      ->capture_default_str();
  bool no_tls = false;
  app.add_flag("--no-tls", no_tls, "serve plain ws:// (allowed on loopback addresses only)");
  app.add_option("--log-level", level, "debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--connect-wait", cfg.connect_wait_s,
                 "seconds a node has to send Connect-Request")
      ->capture_default_str();
  app.add_option("--heartbeat-timeout", cfg.heartbeat_timeout_s,
                 "after 2x this many silent seconds a node is probed, then closed")
      ->capture_default_str();
  app.add_option("--idle-trim", cfg.idle_trim_s,
                 "after this many seconds without input a node's TLS and output buffers "
                 "are given back to the kernel (0: never)")
      ->capture_default_str();
  app.add_option("--handshake-timeout", cfg.handshake_timeout_s,
                 "seconds from TCP accept to an open WebSocket")
      ->capture_default_str();
  app.add_option("--disconnect-wait", cfg.disconnect_wait_s,
                 "seconds to wait for a Disconnect-ACK")
      ->capture_default_str();
  app.add_option("--max-pending-output", cfg.max_pending_output,
                 "bytes queued for one node; frames beyond are dropped and counted")
      ->capture_default_str();
  app.add_option("--slow-reader-timeout", cfg.slow_reader_timeout_s,
                 "a node whose queued output stays full this many seconds is disconnected")
      ->capture_default_str();
  app.add_option("--max-bvlc", cfg.max_bvlc_length,
                 "max BVLC length announced in Connect-Accept; larger messages are dropped")
      ->capture_default_str();
  // Reconnect storms (docs/reconnect-storms.md).
  app.add_option("--max-handshakes", cfg.max_handshakes,
                 "TLS handshakes open at once over all workers; at the limit new connections "
                 "wait in the listen backlog")
      ->capture_default_str();
  app.add_option("--handshake-budget", cfg.handshake_budget_ms,
                 "ms of handshake work per worker loop iteration before forwarding runs "
                 "again (0: no budget)")
      ->capture_default_str();
  app.add_option("--source-rate", cfg.source_rate,
                 "new connections per second allowed from one IP address (0: no limit)")
      ->capture_default_str();
  app.add_option("--source-burst", cfg.source_burst,
                 "connections one IP address may open at once before --source-rate applies")
      ->capture_default_str();
  app.add_flag("--tls-tickets,!--no-tls-tickets", cfg.tls_tickets,
               "TLS 1.3 session tickets: returning nodes resume without certificate "
               "signatures (default: on)");
  app.add_option("--tls-groups", cfg.tls_groups,
                 "key exchange groups accepted, in preference order, from " +
                     bsc::tls_group_names() +
                     " (default: " + bsc::tls_group_names(true) +
                     "); a client whose key share is not listed costs a HelloRetryRequest");
  app.add_option("--tls-ciphersuites", cfg.tls_ciphersuites,
                 "TLS 1.3 cipher suites allowed, in the hub's preference order (aes128, "
                 "aes256, chacha20): the hub picks the first of these the client offers, "
                 "whatever the client's own order; a client offering none fails the handshake")
      ->capture_default_str();
  app.add_option("--ticket-lifetime", cfg.ticket_lifetime_s,
                 "seconds a session ticket is valid; a random ticket key rotates at this "
                 "period, and a replaced key still opens tickets for one more")
      ->capture_default_str();
  app.add_option("--known-certificates", cfg.known_certificates,
                 "node certificates remembered as issued by a --ca, so that a node "
                 "returning with the same certificate costs no second CA signature check "
                 "(dates, CRLs and its proof of the key are still checked each time); "
                 "0: check the signature every time")
      ->capture_default_str();
  app.add_option("--ticket-key-file", cfg.ticket_key_file,
                 "seal session tickets with a key derived from FILE (at least 32 random "
                 "octets: openssl rand -out FILE 80) instead of a random in-memory key, so "
                 "tickets still resume after a restart and on a failover hub given the same "
                 "file; replace the file and send SIGHUP to rotate (the previous key still "
                 "opens tickets for one --ticket-lifetime)");
  std::string metrics;
  app.add_option("--metrics", metrics,
                 "serve GET /metrics (Prometheus) and /status (JSON) on [HOST:]PORT; "
                 "HOST defaults to 127.0.0.1 (off by default)");
  // Parsed and validated here; the server itself (ops/admin_server.hpp) is started by the
  // app's admin handler, which is not wired yet.
  app.add_option("--admin-socket", cfg.admin_socket,
                 "Unix socket PATH (absolute, at most 107 octets) for bschub-ctl's admin "
                 "commands: disconnect, deny, pin, reload, history (off by default)");
  app.add_option("--admin-group", cfg.admin_group,
                 "group NAME whose members may use --admin-socket besides root and the hub's "
                 "own user (the socket is then mode 0660 and of this group)");
  app.add_option("--history-size", cfg.history_size,
                 "departed nodes, and refused connection requests, kept per worker for the "
                 "connection history (/status, the device's Network Port lists)")
      ->capture_default_str();
  app.add_option("--history-age", cfg.history_age_s,
                 "seconds departed nodes and refused connection requests stay in the history")
      ->capture_default_str();
  app.add_option("--shutdown-timeout", cfg.shutdown_timeout_s,
                 "on SIGTERM/SIGINT, seconds to wait for Disconnect-ACKs before cutting "
                 "the remaining connections")
      ->capture_default_str();
  // Lasting state (docs/operations.md, "Lasting state").
  app.add_option("--state-dir", cfg.state_dir,
                 "keep the identity pins, the deny list and an audit log of connects, "
                 "disconnects, refusals and admin actions in DIR/bschub.db (SQLite, WAL), "
                 "created with mode 0700 if missing; e.g. /var/lib/bschub (default: none, "
                 "nothing is kept across restarts)");
  app.add_option("--audit-max-age", cfg.audit_max_age_s,
                 "60..315360000: seconds audit log entries are kept")
      ->default_str(std::to_string(int64_t(cfg.audit_max_age_s)));  // not "2.592e+06"
  app.add_option("--audit-max-rows", cfg.audit_max_rows,
                 "1..1000000000: audit log entries kept; the oldest beyond are pruned")
      ->capture_default_str();
  app.add_option("--audit-queue", cfg.audit_queue,
                 "16..16777216: audit records waiting to be written; beyond it they are "
                 "dropped and counted (audit_dropped), never waited on")
      ->capture_default_str();
  // Who is on the network (docs/operations.md).
  std::string binding = bsc::identity_binding_name(cfg.identity_binding);
  app.add_option("--identity-binding", binding,
                 "how a device UUID is bound to a certificate: pin (the first public key "
                 "a UUID connects with is the only one it may use afterwards), certificate "
                 "(the UUID must be the certificate's subject CN or a SAN URI urn:uuid:...), "
                 "or off")
      ->check(CLI::IsMember({"off", "pin", "certificate"}))
      ->capture_default_str();
  app.add_option("--max-pins", cfg.max_pins,
                 "pinned UUIDs kept; beyond it new UUIDs connect unpinned (logged)")
      ->capture_default_str();
  // The BACnet device at the hub's VMAC (docs/bacnet-device.md §14).
  app.add_option("--device-instance", cfg.device_instance,
                 "0..4194302: the hub is also a BACnet device with this instance, reached at "
                 "the hub's VMAC (Who-Is, Who-Has, ReadProperty, ReadPropertyMultiple, "
                 "ReadRange, DeviceCommunicationControl); absent: no device");
  app.add_option("--device-name", cfg.device_name,
                 "the device's Object_Name (default: bschub-HOSTNAME)");
  app.add_option("--network-number", cfg.network_number,
                 "0..65534: the BACnet network number of the SC network (0: not known)")
      ->capture_default_str();
  app.add_option("--vendor-identifier", cfg.vendor_identifier,
                 "0..65535: the device's Vendor_Identifier (set the one ASHRAE assigned to "
                 "your organisation)")
      ->capture_default_str();
  app.add_option("--vendor-name", cfg.vendor_name, "the device's Vendor_Name")
      ->capture_default_str();
  app.add_option("--model-name", cfg.model_name, "the device's Model_Name")
      ->capture_default_str();
  app.add_option("--description", cfg.description, "the device's Description")
      ->capture_default_str();
  app.add_option("--location", cfg.location, "the device's Location (default: empty)");
  app.add_option("--device-segment-timeout", cfg.device_segment_timeout_ms,
                 "10..60000 ms: how long the device waits for a Segment-ACK before it sends a "
                 "window of a segmented response again (APDU_Segment_Timeout)")
      ->capture_default_str();
  app.add_option("--device-apdu-retries", cfg.device_apdu_retries,
                 "0..10: how often the device sends a window again before it gives a "
                 "segmented response up (Number_Of_APDU_Retries)")
      ->capture_default_str();
  app.add_option("--dcc-password", cfg.dcc_password,
                 "1..20 characters a DeviceCommunicationControl request must carry (default: "
                 "none asked; prefer the config file, the command line is visible to ps)");
  app.add_option("--accept-uri", cfg.accept_uris,
                 "wss://HOST[:PORT][/PATH] nodes use to reach the hub, listed in "
                 "SC_Hub_Function_Accept_URIs instead of the --listen URI; repeatable, up to 4")
      ->allow_extra_args(false);
  // Add new options above: the config file accepts every option registered on `app`.
  std::string config_path, check_path;
  auto* config_opt = app.add_option(
      "--config", config_path,
      "TOML file of options, keys named like the long options (max-connections = 5000); "
      "command-line options override it");
  app.add_option("--check-config", check_path,
                 "check FILE (with any other options) as a start would, without binding the "
                 "port; print 'FILE: OK' and exit 0, or the error and exit 2")
      ->excludes(config_opt);
  app.footer("Prints 'bschub listening on URI' once it accepts connections. "
             "SIGTERM/SIGINT: Disconnect-Request to every node, exit 0; SIGHUP: reload "
             "--cert/--key/--ca/--crl, then close connected nodes they no longer accept. "
             "Bad options, certificates, CRLs, state directory or port: exit 2.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "bschub: %s (see --help)\n", e.what());
    return 2;
  }
  bsc::ConfigFile file;
  auto fail = [&file](const std::string& message) {
    std::fprintf(stderr, "bschub: %s\n", file.locate(message).c_str());
    return 2;
  };
  if (!check_path.empty()) config_path = check_path;
  if (!config_path.empty()) {
    std::string err = file.load(app, config_path);
    if (!err.empty()) return fail(err);
  }
  cfg.tls = !no_tls;
  bsc::parse_identity_binding(binding, &cfg.identity_binding);  // checked by IsMember
  if (!metrics.empty()) {
    cfg.metrics = true;
    // A bare port keeps the endpoint on loopback: exposing it is an explicit choice.
    bool bare_port = metrics.find_first_not_of("0123456789") == std::string::npos;
    if (bare_port) metrics = "127.0.0.1:" + metrics;
    if (!split_host_port(metrics, &cfg.metrics_host, &cfg.metrics_port))
      return fail("--metrics wants PORT or HOST:PORT, not '" + metrics + "'");
  }
  if (!split_host_port(listen, &cfg.listen_host, &cfg.listen_port))
    return fail("--listen wants HOST:PORT, not '" + listen + "'");
  bsc::log::Level lv;
  if (!bsc::log::parse_level(level.c_str(), &lv))
    return fail("--log-level must be debug, info, warn, error or off");
  bsc::log::g_level = int(lv);
  if (vmac_text.empty()) {
    cfg.hub_vmac = bsc::random_vmac();
  } else if (auto v = bsc::Vmac::parse(vmac_text)) {
    cfg.hub_vmac = *v;
  } else {
    return fail("--vmac wants XX:XX:XX:XX:XX:XX, not '" + vmac_text + "'");
  }
  if (uuid_text.empty()) {
    cfg.hub_uuid = bsc::random_uuid();
  } else if (auto u = bsc::Uuid::parse(uuid_text)) {
    cfg.hub_uuid = *u;
  } else {
    return fail("--uuid wants 8-4-4-4-12 hex digits, not '" + uuid_text + "'");
  }
  if (cfg.device_name.empty()) cfg.device_name = bsc::default_device_name();
  if (!check_path.empty()) {
    std::string err = bsc::check_config(cfg);
    if (!err.empty()) return fail(err);
    std::printf("%s: OK\n", check_path.c_str());
    return 0;
  }

  bsc::Hub hub(cfg);
  std::string err = hub.prepare();
  if (!err.empty()) return fail(err);
  // The operations pieces (src/ops) run beside the hub; core only knows them as hooks.
  bsc::HubServices services(hub);
  err = services.prepare();
  if (!err.empty()) return fail(err);
  int rc = hub.run(services.hooks());
  services.finish();
  return rc;
}
