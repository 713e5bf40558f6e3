// bschub: the BACnet/SC hub daemon. Command line -> Config -> Hub; exit codes:
// 0 clean stop (SIGINT/SIGTERM), 2 bad command line / certificates / port.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <thread>

#include "app/config.hpp"
#include "core/hub.hpp"
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
  std::string metrics;
  app.add_option("--metrics", metrics,
                 "serve GET /metrics (Prometheus) and /status (JSON) on [HOST:]PORT; "
                 "HOST defaults to 127.0.0.1 (off by default)");
  app.add_option("--shutdown-timeout", cfg.shutdown_timeout_s,
                 "on SIGTERM/SIGINT, seconds to wait for Disconnect-ACKs before cutting "
                 "the remaining connections")
      ->capture_default_str();
  app.footer("Prints 'bschub listening on URI' once it accepts connections. "
             "SIGTERM/SIGINT: Disconnect-Request to every node, exit 0; SIGHUP: reload "
             "--cert/--key/--ca for new connections. Bad options, certificates or port: "
             "exit 2.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "bschub: %s (see --help)\n", e.what());
    return 2;
  }
  cfg.tls = !no_tls;
  if (!metrics.empty()) {
    cfg.metrics = true;
    // A bare port keeps the endpoint on loopback: exposing it is an explicit choice.
    bool bare_port = metrics.find_first_not_of("0123456789") == std::string::npos;
    if (bare_port) metrics = "127.0.0.1:" + metrics;
    if (!split_host_port(metrics, &cfg.metrics_host, &cfg.metrics_port)) {
      std::fprintf(stderr, "bschub: --metrics wants PORT or HOST:PORT, not '%s'\n",
                   metrics.c_str());
      return 2;
    }
  }
  if (!split_host_port(listen, &cfg.listen_host, &cfg.listen_port)) {
    std::fprintf(stderr, "bschub: --listen wants HOST:PORT, not '%s'\n", listen.c_str());
    return 2;
  }
  bsc::log::Level lv;
  if (!bsc::log::parse_level(level.c_str(), &lv)) {
    std::fprintf(stderr, "bschub: --log-level must be debug, info, warn, error or off\n");
    return 2;
  }
  bsc::log::g_level = int(lv);
  if (vmac_text.empty()) {
    cfg.hub_vmac = bsc::random_vmac();
  } else if (auto v = bsc::Vmac::parse(vmac_text)) {
    cfg.hub_vmac = *v;
  } else {
    std::fprintf(stderr, "bschub: --vmac wants XX:XX:XX:XX:XX:XX, not '%s'\n",
                 vmac_text.c_str());
    return 2;
  }
  if (uuid_text.empty()) {
    cfg.hub_uuid = bsc::random_uuid();
  } else if (auto u = bsc::Uuid::parse(uuid_text)) {
    cfg.hub_uuid = *u;
  } else {
    std::fprintf(stderr, "bschub: --uuid wants 8-4-4-4-12 hex digits, not '%s'\n",
                 uuid_text.c_str());
    return 2;
  }

  bsc::Hub hub(cfg);
  std::string err = hub.prepare();
  if (!err.empty()) {
    std::fprintf(stderr, "bschub: %s\n", err.c_str());
    return 2;
  }
  return hub.run();
}
