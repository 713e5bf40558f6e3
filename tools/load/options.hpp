// The command line of bschub-load, checked and resolved into one Options value.
// Threads: built by main() before any thread starts; read-only afterwards.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace bsc::load {

enum class RunMode { kEcho, kBroadcast, kConnect, kIdle, kRate };
const char* mode_name(RunMode m);
// Modes whose nodes work in pairs (both nodes of a pair on one thread).
inline bool pair_mode(RunMode m) { return m == RunMode::kEcho || m == RunMode::kRate; }

struct Options {
  std::string uri;
  std::string cert, key, ca;
  RunMode mode = RunMode::kEcho;
  uint32_t nodes = 2;
  double duration_s = 10;
  uint32_t inflight = 0;  // 0 = the mode's default (echo 1, connect 64)
  uint32_t size_min = 64, size_max = 64;
  double rate = 10000;  // rate mode: messages per second over all senders
  uint32_t threads = 1;
  uint32_t senders = 1;             // broadcast mode
  double heartbeat_interval_s = 2;  // idle mode
  std::string json_file;
  std::string save_tickets;   // write the nodes' TLS session tickets here at the end
  std::string resume_file;    // offer the tickets saved in this file (TLS resumption)
  std::string groups;         // TLS key-exchange groups offered, in order ("" = default)
  std::string ciphersuites;   // TLS 1.3 cipher suites offered, in order ("" = default)
  bool allow_remote = false;
  int vmac_prefix = -1;  // first VMAC octet, -1 = random (low nibble 0010)
  bool quiet = false;
  bool busy_poll = false;  // each loop spins instead of sleeping in epoll_wait
  // Failover (docs/load-tool.md, "Failover"): nodes behave as a hub connector with a
  // primary (--uri) and a failover hub; lost or refused connections are made again.
  std::string failover_uri;
  double reconnect_interval_s = 1;  // failover: wait after both hubs failed; primary probe

  // Derived from uri.
  bool tls = true;
  std::string host;         // as written, without [] around IPv6
  std::string host_header;  // "host:port" for the HTTP upgrade
  uint16_t port = 0;
  sockaddr_storage addr{};      // the resolved target
  bool spread_sources = false;  // target in 127.0.0.0/8: bind node i to 127.0.0.(1+i%250)
  // Derived from failover_uri (same scheme as uri).
  std::string failover_host_header;
  sockaddr_storage failover_addr{};

  bool failover() const { return !failover_uri.empty(); }
  // The hub a node connects to: 0 = primary (--uri), 1 = failover.
  const sockaddr_storage& hub_addr(int hub) const { return hub ? failover_addr : addr; }
  const std::string& hub_host_header(int hub) const {
    return hub ? failover_host_header : host_header;
  }

  uint32_t effective_inflight() const {
    if (inflight) return inflight;
    return mode == RunMode::kConnect ? 64 : 1;
  }
};

// Parses and checks argv. Returns -1 to go on, or the exit code to leave with (0 after
// --help, 2 after a bad flag or a refused target; one clear line is already on stderr).
int parse_options(int argc, char** argv, Options* out);

}  // namespace bsc::load
