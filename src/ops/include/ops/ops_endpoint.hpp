// OpsEndpoint: --metrics for a running hub: GET /metrics and /status on an OpsHttpServer,
// read from the hub's workers and certificate reloader (OpsView).
// Threads: start()/stop() on the main thread (HubHooks before_start/before_stop).
#pragma once
#include <memory>
#include <string>

namespace bsc {

class Hub;
class OpsHttpServer;
class StateStore;

class OpsEndpoint {
 public:
  OpsEndpoint();
  ~OpsEndpoint();

  // Once the hub's workers exist, before they start: binds config().metrics_host:port and
  // prints where it listens. Returns "" or one sentence.
  std::string start(Hub& hub);
  // Before start(): the state store whose counters /metrics shows (none by default).
  void set_store(const StateStore* store) { store_ = store; }
  // Closes the listener; no request waits on a worker after this. Idempotent.
  void stop();

 private:
  std::unique_ptr<OpsHttpServer> server_;
  const StateStore* store_ = nullptr;
};

}  // namespace bsc
