// Hub: owns the shared pieces (TLS config, routing table) and the workers; binds the
// listening sockets, runs until SIGINT/SIGTERM, then stops every worker in order.
// The main thread also reloads certificates on SIGHUP and runs the HubHooks the layer above
// supplies (app wires the --metrics endpoint and the drop summaries of src/ops to them).
// Threads: run() is called on the main thread; workers run on their own threads.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace bsc {

class AccessControl;
class Device;
class StateSink;
struct Pin;
struct DenyEntry;
struct Sweep;
class RoutingMap;
class SourceLimiter;
class TlsContext;
class TlsReloader;
class Worker;

// What runs beside the workers on the main thread. Core calls these without knowing what
// they are, so it never depends on the layers above it. Each may be left empty.
struct HubHooks {
  // After the workers exist (Hub::workers()), before they start: a listener bound here
  // fails the start like a busy hub port. Returns "" or one sentence (exit code 2).
  std::function<std::string()> before_start;
  // Every periodic_interval_s while the hub runs.
  std::function<void()> periodic;
  double periodic_interval_s = 0;
  // Before the workers are asked to stop: nothing may wait on a worker after this returns.
  std::function<void()> before_stop;
};

class Hub {
 public:
  explicit Hub(Config config);
  ~Hub();

  // Loads certificates and binds the port. Returns "" or one sentence (exit code 2).
  std::string prepare();
  // Starts the workers, prints the listening line, blocks until a stop signal. Exit code.
  int run(HubHooks hooks);
  // The URI the hub serves (valid after prepare()).
  const std::string& uri() const { return uri_; }
  const Config& config() const { return config_; }
  // The certificate reloader (valid after prepare(); nullptr with --no-tls).
  const TlsReloader* tls() const { return tls_.get(); }
  // The workers (from run()'s before_start hook until run() returns).
  std::vector<Worker*> workers() const;

  // ---- operator control (docs/operations.md, "Who is on the network") ----
  // [startup, after prepare()] Where audit records and pin/deny changes go, and what an
  // earlier run kept.
  void attach_state(StateSink* sink, const std::vector<Pin>& pins,
                    const std::vector<DenyEntry>& denies);
  // The deny list and identity pins (valid after prepare()). [any thread]
  AccessControl& access() { return *access_; }
  // [any thread] After a change to the deny list: forget which node certificates are known
  // to be CA-issued (net/known_certificates.hpp), so each is checked in full again.
  void forget_known_certificates();
  // [any thread but a worker's; while run() serves] Runs `sweep` on every worker: how many
  // connections it closed, or -1 if a worker did not answer within `timeout_ms`.
  long sweep(const Sweep& sweep, int timeout_ms = 5000);
  // [any thread; while run() serves] What SIGHUP does, with its result: reloads the
  // certificate, key, CA and CRL files and, if they load, disconnects every node whose
  // certificate the new set no longer accepts. Serialised with other reloads.
  struct ReloadResult {
    bool ok = false;
    std::string error;     // !ok: why the files were refused (the old set stays)
    long disconnected = 0;  // ok: nodes disconnected by the re-check (-1: a worker timed out)
  };
  ReloadResult reload();

 private:
  Config config_;
  HubHooks hooks_;
  void on_main_signal(int signum);

  std::unique_ptr<TlsReloader> tls_;
  std::unique_ptr<AccessControl> access_;
  StateSink* sink_ = nullptr;
  std::mutex reload_mu_;
  std::unique_ptr<RoutingMap> routing_;
  std::unique_ptr<Device> device_;  // with --device-instance; used by worker 0
  std::unique_ptr<SourceLimiter> sources_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<int> listen_fds_;
  std::atomic<size_t> open_connections_{0};
  std::string uri_;
};

}  // namespace bsc
