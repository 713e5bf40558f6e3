// Hub: owns the shared pieces (TLS config, routing table) and the workers; binds the
// listening sockets, runs until SIGINT/SIGTERM, then stops every worker in order.
// The main thread also reloads certificates on SIGHUP and logs drop/flood summaries; the
// --metrics listener runs on its own thread (src/ops).
// Threads: run() is called on the main thread; workers run on their own threads.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace bsc {

class DropReporter;
class OpsHttpServer;
class RoutingMap;
class SourceLimiter;
class TlsContext;
class TlsReloader;
class Worker;

class Hub {
 public:
  explicit Hub(Config config);
  ~Hub();

  // Loads certificates and binds the port. Returns "" or one sentence (exit code 2).
  std::string prepare();
  // Starts the workers, prints the listening line, blocks until a stop signal. Exit code.
  int run();
  // The URI the hub serves (valid after prepare()).
  const std::string& uri() const { return uri_; }

 private:
  Config config_;
  std::string start_ops_server();
  void on_main_signal(int signum);

  std::unique_ptr<TlsReloader> tls_;
  std::unique_ptr<OpsHttpServer> ops_;
  std::unique_ptr<DropReporter> drops_;
  std::unique_ptr<RoutingMap> routing_;
  std::unique_ptr<SourceLimiter> sources_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<int> listen_fds_;
  std::atomic<size_t> open_connections_{0};
  std::string uri_;
};

}  // namespace bsc
