#include "ops/ops_endpoint.hpp"

#include <cstdio>

#include "core/hub.hpp"
#include "ops/http_server.hpp"
#include "ops/ops_view.hpp"
#include "util/unix_time.hpp"

namespace bsc {

OpsEndpoint::OpsEndpoint() = default;
OpsEndpoint::~OpsEndpoint() = default;

std::string OpsEndpoint::start(Hub& hub) {
  const Config& config = hub.config();
  auto view = std::make_shared<OpsView>();
  view->hub.uri = hub.uri();
  view->hub.vmac = config.hub_vmac.to_string();
  view->hub.uuid = config.hub_uuid.to_string();
  view->hub.version = BSCHUB_VERSION;
  view->hub.started_unix_ms = unix_now_ms();
  view->workers = hub.workers();
  view->tls = hub.tls();
  view->access = &hub.access();
  view->store = store_;
  server_ = std::make_unique<OpsHttpServer>([view](const std::string& path) {
    HttpResponse r;
    if (path == "/metrics") {
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = render_metrics(*view, view->gather());
    } else if (path == "/status") {
      r.content_type = "application/json";
      r.body = render_status(*view, view->gather());
    } else {
      r.status = 404;
      r.body = "not found: try /metrics or /status\n";
    }
    return r;
  });
  std::string err = server_->start(config.metrics_host, config.metrics_port);
  if (!err.empty()) return err;
  bool v6 = config.metrics_host.find(':') != std::string::npos;
  std::printf("bschub metrics on http://%s%s%s:%u (/metrics, /status)\n", v6 ? "[" : "",
              config.metrics_host.c_str(), v6 ? "]" : "", unsigned(server_->port()));
  return "";
}

void OpsEndpoint::stop() {
  if (server_) server_->stop();
}

}  // namespace bsc
