#include "options.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "net/tls_context.hpp"

namespace bsc::load {
namespace {

const char* kProg = "bschub-load";

int fail(const std::string& msg) {
  std::fprintf(stderr, "%s: %s\n", kProg, msg.c_str());
  return 2;
}

bool parse_u32(const std::string& s, uint32_t* out) {
  if (s.empty() || s.size() > 9) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint32_t(c - '0');
  }
  *out = v;
  return true;
}

// "100" or "24-1497".
bool parse_size(const std::string& s, uint32_t* lo, uint32_t* hi) {
  size_t dash = s.find('-');
  if (dash == std::string::npos) {
    if (!parse_u32(s, lo)) return false;
    *hi = *lo;
    return true;
  }
  return parse_u32(s.substr(0, dash), lo) && parse_u32(s.substr(dash + 1), hi);
}

// ws[s]://host[:port][/]; host may be [v6].
bool parse_uri(Options* o, std::string* err) {
  std::string rest;
  if (o->uri.rfind("wss://", 0) == 0) {
    o->tls = true;
    rest = o->uri.substr(6);
  } else if (o->uri.rfind("ws://", 0) == 0) {
    o->tls = false;
    rest = o->uri.substr(5);
  } else {
    *err = "--uri must start with wss:// or ws://, got '" + o->uri + "'";
    return false;
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos || rest.empty()) {
    *err = "--uri must be ws[s]://HOST:PORT (no path), got '" + o->uri + "'";
    return false;
  }
  std::string port_text;
  if (rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) {
      *err = "unbalanced [ in --uri '" + o->uri + "'";
      return false;
    }
    o->host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') {
        *err = "bad --uri '" + o->uri + "'";
        return false;
      }
      port_text = rest.substr(close + 2);
    }
  } else {
    size_t colon = rest.rfind(':');
    o->host = rest.substr(0, colon);
    if (colon != std::string::npos) port_text = rest.substr(colon + 1);
  }
  uint32_t port = o->tls ? 443 : 80;
  if (!port_text.empty() && (!parse_u32(port_text, &port) || port == 0 || port > 65535)) {
    *err = "bad port '" + port_text + "' in --uri";
    return false;
  }
  if (o->host.empty()) {
    *err = "no host in --uri '" + o->uri + "'";
    return false;
  }
  o->port = uint16_t(port);
  bool v6 = o->host.find(':') != std::string::npos;
  o->host_header = (v6 ? "[" + o->host + "]" : o->host) + ":" + std::to_string(port);
  return true;
}

bool is_loopback(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  }
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
  }
  return false;
}

bool numeric_address(const std::string& host, sockaddr_storage* ss) {
  in_addr a4;
  in6_addr a6;
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    ss->ss_family = AF_INET;
    reinterpret_cast<sockaddr_in*>(ss)->sin_addr = a4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    ss->ss_family = AF_INET6;
    reinterpret_cast<sockaddr_in6*>(ss)->sin6_addr = a6;
    return true;
  }
  return false;
}

// Resolves o->host; refuses a non-loopback target unless --allow-remote. Returns -1 or an
// exit code.
int resolve_target(Options* o) {
  sockaddr_storage ss{};
  if (!numeric_address(o->host, &ss)) {
    // A name: resolve it (only "localhost"-like names pass the loopback check).
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    int rc = getaddrinfo(o->host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) return fail("cannot resolve '" + o->host + "': " + gai_strerror(rc));
    std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
  }
  if (!is_loopback(ss) && !o->allow_remote)
    return fail("refusing to load '" + o->host +
                "': not a loopback address (127.0.0.0/8 or ::1); pass --allow-remote to "
                "load a remote hub");
  if (ss.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(o->port);
    o->spread_sources = is_loopback(ss);
  } else {
    reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(o->port);
  }
  o->addr = ss;
  return -1;
}

}  // namespace

const char* mode_name(RunMode m) {
  switch (m) {
    case RunMode::kEcho:
      return "echo";
    case RunMode::kBroadcast:
      return "broadcast";
    case RunMode::kConnect:
      return "connect";
    case RunMode::kIdle:
      return "idle";
    case RunMode::kRate:
      return "rate";
  }
  return "?";
}

int parse_options(int argc, char** argv, Options* o) {
  std::string mode = "echo", size, prefix;
  CLI::App app{
      "bschub-load: load generator for the bschub BACnet/SC hub. Simulated nodes "
      "connect over TCP -> TLS 1.3 -> WebSocket -> BVLC-SC and exchange "
      "checked Encapsulated-NPDUs through the hub."};
  app.add_option("--uri", o->uri, "hub URI, wss://HOST:PORT (or ws:// for a --no-tls hub)")
      ->required();
  app.add_option("--cert", o->cert, "node certificate (PEM), shared by all nodes");
  app.add_option("--key", o->key, "private key of --cert (PEM)");
  app.add_option("--ca", o->ca, "issuer certificate(s) the hub's certificate must chain to");
  app.add_option("--mode", mode, "echo | broadcast | connect | idle | rate")->capture_default_str();
  app.add_option("--nodes", o->nodes, "simulated nodes (echo/rate: an even number)")
      ->capture_default_str();
  app.add_option("--duration", o->duration_s,
                 "seconds of traffic (idle: holding time; not used by connect)")
      ->capture_default_str();
  app.add_option("--inflight", o->inflight,
                 "echo: messages in flight per pair (default 1); connect: concurrent "
                 "handshakes (default 64)");
  app.add_option("--size", size, "NPDU size in octets, N or MIN-MAX (24..1497, default 64)");
  app.add_option("--rate", o->rate, "rate mode: messages per second, over all senders")
      ->capture_default_str();
  app.add_option("--threads", o->threads, "event-loop threads, each with a share of the nodes")
      ->capture_default_str();
  app.add_option("--senders", o->senders, "broadcast mode: nodes that broadcast")
      ->capture_default_str();
  app.add_option("--heartbeat-interval", o->heartbeat_interval_s,
                 "idle mode: seconds between a node's Heartbeat-Requests")
      ->capture_default_str();
  app.add_option("--json", o->json_file, "also write the summary as a JSON object to FILE");
  app.add_option("--save-tickets", o->save_tickets,
                 "keep each node's TLS session ticket and write them to FILE at the end");
  app.add_option("--resume", o->resume_file,
                 "offer the tickets in FILE (from --save-tickets): nodes resume their TLS "
                 "sessions instead of full handshakes (node i uses ticket i)");
  app.add_option("--groups", o->groups,
                 "TLS key-exchange groups to offer, in order, from " + bsc::tls_group_names() +
                     " (default: " + bsc::tls_group_names(true) + "; the key share is the first's)");
  app.add_option("--ciphersuites", o->ciphersuites,
                 "TLS 1.3 cipher suites to offer, in the nodes' preference order: aes128, "
                 "aes256, chacha20 (default aes128,aes256,chacha20); the hub picks one");
  app.add_option("--failover-uri", o->failover_uri,
                 "failover hub, wss://HOST:PORT: nodes that lose --uri (or cannot reach it) "
                 "connect here, and return to --uri once it is back (docs/load-tool.md)");
  app.add_option("--reconnect-interval", o->reconnect_interval_s,
                 "failover: seconds between checks of the primary while on the failover, "
                 "and the wait after both hubs refused")
      ->capture_default_str();
  app.add_flag("--allow-remote", o->allow_remote, "allow a target outside 127.0.0.0/8 and ::1");
  app.add_option("--vmac-prefix", prefix, "first VMAC octet in hex (default random, x2)");
  app.add_flag("--quiet", o->quiet, "no progress lines on stderr");
  app.add_flag("--busy-poll", o->busy_poll,
               "each thread polls without sleeping (100% of a core per --threads): answers "
               "without a wake-up's delay, so a small in-flight window still keeps the hub "
               "busy; use only with a core per thread");
  app.footer(
      "Exit: 0 = run complete, no lost/duplicate/corrupt/reordered message and no "
      "connection error; 1 = any of those; 2 = bad flags or refused target. With "
      "--failover-uri lost and refused connections are expected: 0 = every node connected "
      "when sending stopped and nothing lost but what was in flight when a node left its "
      "hub.\n"
      "SIGINT stops early and still prints the summary.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + " (see --help)");
  }

  if (mode == "echo")
    o->mode = RunMode::kEcho;
  else if (mode == "broadcast")
    o->mode = RunMode::kBroadcast;
  else if (mode == "connect")
    o->mode = RunMode::kConnect;
  else if (mode == "idle")
    o->mode = RunMode::kIdle;
  else if (mode == "rate")
    o->mode = RunMode::kRate;
  else
    return fail("--mode must be echo, broadcast, connect, idle or rate, got '" + mode + "'");

  if (!size.empty() && !parse_size(size, &o->size_min, &o->size_max))
    return fail("--size must be N or MIN-MAX, got '" + size + "'");
  if (o->size_min < 24 || o->size_max > 1497 || o->size_min > o->size_max)
    return fail("--size must be within 24..1497 octets (MIN <= MAX)");
  if (!prefix.empty()) {
    if (prefix.size() != 2 || !std::isxdigit(uint8_t(prefix[0])) ||
        !std::isxdigit(uint8_t(prefix[1])))
      return fail("--vmac-prefix must be two hex digits, got '" + prefix + "'");
    o->vmac_prefix = int(std::strtoul(prefix.c_str(), nullptr, 16));
    if (o->vmac_prefix == 0xFF || o->vmac_prefix == 0x00)
      return fail("--vmac-prefix 00 and FF are reserved");
  }
  if (o->nodes < 1 || o->nodes > 1000000) return fail("--nodes must be 1..1000000");
  if (pair_mode(o->mode) && (o->nodes < 2 || o->nodes % 2 != 0))
    return fail(std::string("--nodes must be an even number >= 2 in ") + mode_name(o->mode) +
                " mode (nodes work in pairs)");
  if (o->mode == RunMode::kBroadcast && o->nodes < 2)
    return fail("--nodes must be at least 2 in broadcast mode");
  if (o->mode == RunMode::kBroadcast && (o->senders < 1 || o->senders > o->nodes))
    return fail("--senders must be 1..--nodes");
  if (!(o->duration_s > 0 && o->duration_s <= 1e6)) return fail("--duration must be > 0");
  if (o->threads < 1 || o->threads > 256) return fail("--threads must be 1..256");
  if (o->inflight > 1000000) return fail("--inflight must be at most 1000000");
  if (!(o->rate > 0 && o->rate <= 1e9)) return fail("--rate must be > 0");
  if (!(o->heartbeat_interval_s >= 0.05 && o->heartbeat_interval_s <= 3600))
    return fail("--heartbeat-interval must be 0.05..3600 s");

  if (!o->json_file.empty()) {
    FILE* f = std::fopen(o->json_file.c_str(), "a");
    if (!f) return fail("cannot write --json file '" + o->json_file + "'");
    std::fclose(f);
  }
  std::vector<uint16_t> groups;
  if (!o->groups.empty() && !parse_tls_groups(o->groups, &groups))
    return fail("--groups wants names from " + bsc::tls_group_names() + ", got '" + o->groups +
                "'");
  std::vector<uint16_t> suites;
  if (!o->ciphersuites.empty() && !parse_tls_ciphersuites(o->ciphersuites, &suites))
    return fail("--ciphersuites wants names from aes128, aes256, chacha20 (each once), got '" +
                o->ciphersuites + "'");
  if (!(o->reconnect_interval_s >= 0.05 && o->reconnect_interval_s <= 3600))
    return fail("--reconnect-interval must be 0.05..3600 s");
  std::string err;
  if (!parse_uri(o, &err)) return fail(err);
  if (o->tls && (o->cert.empty() || o->key.empty() || o->ca.empty()))
    return fail("--cert, --key and --ca are required for a wss:// hub");
  if (int rc = resolve_target(o); rc >= 0) return rc;
  if (!o->failover()) return -1;
  // The failover hub is parsed and checked the same way, on a scratch copy.
  Options f;
  f.uri = o->failover_uri;
  f.allow_remote = o->allow_remote;
  if (!parse_uri(&f, &err)) return fail("--failover-uri: " + err);
  if (f.tls != o->tls) return fail("--failover-uri must use the scheme of --uri");
  if (int rc = resolve_target(&f); rc >= 0) return rc;
  if (f.spread_sources != o->spread_sources)
    return fail("--uri and --failover-uri must both be loopback, or both not");
  o->failover_host_header = f.host_header;
  o->failover_addr = f.addr;
  return -1;
}

}  // namespace bsc::load
