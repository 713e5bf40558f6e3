// HubServices: what runs beside the hub (src/ops), set up from the config and handed to the
// hub as HubHooks, so core never depends on it: the --metrics endpoint, the periodic drop
// summaries, the lasting state (--state-dir) and the admin socket (--admin-socket).
// Threads: all on the main thread (each piece runs its own thread inside).
#pragma once
#include <memory>
#include <string>

#include "core/hub.hpp"

namespace bsc {

class AdminServer;
class DropReporter;
class HubAdmin;
class OpsEndpoint;
class StateStore;

class HubServices {
 public:
  explicit HubServices(Hub& hub);
  ~HubServices();

  // After hub.prepare(), before hub.run(): opens the state store and gives the hub what it
  // kept (pins, deny list) and where to send changes. Returns "" or one sentence (exit 2).
  std::string prepare();
  // The hooks for hub.run(): the endpoint and the admin socket start once the workers exist
  // and stop before they are asked to.
  HubHooks hooks();
  // After hub.run() returned (every worker joined): the last audit records are written.
  void finish();

 private:
  std::string start_listeners();
  void stop_listeners();

  Hub& hub_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<OpsEndpoint> endpoint_;
  std::unique_ptr<DropReporter> drops_;
  std::unique_ptr<HubAdmin> admin_;
  std::unique_ptr<AdminServer> admin_server_;
};

}  // namespace bsc
