#include "app/hub_services.hpp"

#include "app/admin_actions.hpp"
#include "ops/admin_server.hpp"
#include "ops/drop_reporter.hpp"
#include "ops/ops_endpoint.hpp"
#include "ops/state_store.hpp"

namespace bsc {

HubServices::HubServices(Hub& hub)
    : hub_(hub), endpoint_(std::make_unique<OpsEndpoint>()),
      drops_(std::make_unique<DropReporter>()) {}

HubServices::~HubServices() { stop_listeners(); }

std::string HubServices::prepare() {
  const Config& c = hub_.config();
  if (c.state_dir.empty()) return "";
  StateStoreOptions o;
  o.audit_queue = c.audit_queue;
  o.audit_max_age_s = c.audit_max_age_s;
  o.audit_max_rows = c.audit_max_rows;
  store_ = std::make_unique<StateStore>();
  std::string err;
  if (!store_->open(c.state_dir, o, &err)) return err;
  std::vector<Pin> pins = store_->load_pins(&err);
  if (!err.empty()) return "--state-dir " + c.state_dir + ": " + err;
  std::vector<DenyEntry> denies = store_->load_denies(&err);
  if (!err.empty()) return "--state-dir " + c.state_dir + ": " + err;
  hub_.attach_state(store_.get(), pins, denies);
  endpoint_->set_store(store_.get());
  return "";
}

HubHooks HubServices::hooks() {
  HubHooks h;
  h.before_start = [this] { return start_listeners(); };
  h.before_stop = [this] { stop_listeners(); };
  h.periodic = [this] { drops_->check(hub_.workers()); };
  h.periodic_interval_s = DropReporter::kIntervalSeconds;
  return h;
}

std::string HubServices::start_listeners() {
  const Config& c = hub_.config();
  // Threads start here, inside Hub::run, so that they inherit its blocked stop signals.
  std::string store_err;
  if (store_ && !store_->start(&store_err)) return store_err;
  if (c.metrics) {
    std::string err = endpoint_->start(hub_);
    if (!err.empty()) return err;
  }
  if (!c.admin_socket.empty()) {
    std::string err;
    std::optional<gid_t> group;
    if (!c.admin_group.empty()) {
      group = resolve_admin_group(c.admin_group, &err);
      if (!group) return err;
    }
    admin_ = std::make_unique<HubAdmin>(hub_, store_.get());
    admin_server_ = std::make_unique<AdminServer>();
    err = admin_server_->start(c.admin_socket, group, *admin_);
    if (!err.empty()) return err;
  }
  return "";
}

void HubServices::stop_listeners() {
  // No admin command or scrape may wait on a worker once the workers are told to stop.
  if (admin_server_) admin_server_->stop();
  endpoint_->stop();
}

void HubServices::finish() {
  stop_listeners();
  if (store_) store_->stop();
}

}  // namespace bsc
