#include "core/hub.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "core/access_control.hpp"
#include "core/device.hpp"
#include "core/routing_map.hpp"
#include "core/source_limiter.hpp"
#include "core/stats.hpp"
#include "core/worker.hpp"
#include "net/signal_watch.hpp"
#include "net/tls_context.hpp"
#include "net/tls_reloader.hpp"
#include "util/log.hpp"

namespace bsc {
namespace {

// Binds a listening socket. Every worker gets its own socket on the same port
// (SO_REUSEPORT), so the kernel spreads new connections over the workers.
int bind_listener(const std::string& host, uint16_t port, std::string* error,
                  uint16_t* bound_port) {
  sockaddr_storage ss{};
  socklen_t len;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, h.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    len = sizeof *a4;
  } else if (inet_pton(AF_INET6, h.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    len = sizeof *a6;
  } else {
    *error = "--listen host must be an IPv4 or IPv6 address, not '" + host + "'";
    return -1;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 1024) != 0) {
    *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " +
             std::strerror(errno);
    close(fd);
    return -1;
  }
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *bound_port = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
  return fd;
}

// A second listener on a port someone else holds would also succeed with SO_REUSEPORT if
// that other process set it too; refuse up front if a connect to the port already works.
bool port_in_use(const std::string& host, uint16_t port) {
  if (port == 0) return false;
  sockaddr_storage ss{};
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  socklen_t len;
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, h.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    len = sizeof *a4;
    if (a4->sin_addr.s_addr == htonl(INADDR_ANY)) a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (inet_pton(AF_INET6, h.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    len = sizeof *a6;
    if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr)) a6->sin6_addr = in6addr_loopback;
  } else {
    return false;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool used = connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  close(fd);
  return used;
}

// Each node costs one descriptor. Raise the soft limit as far as the hard limit allows and
// warn when --max-connections cannot be reached (accepts would then fail with EMFILE).
void raise_fd_limit(size_t max_connections, unsigned workers) {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t want = rlim_t(max_connections) + 16 * workers + 64;
  if (rl.rlim_cur < want) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min<rlim_t>(want, rl.rlim_max);
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur < want)
    LOG_WARN("fd_limit_low", "limit=%llu wanted=%llu reason=\"--max-connections needs one fd "
             "per node; raise the hard RLIMIT_NOFILE (systemd LimitNOFILE)\"",
             (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

}  // namespace

Hub::Hub(Config config) : config_(std::move(config)) {}

Hub::~Hub() {
  for (int fd : listen_fds_) close(fd);
}

std::vector<Worker*> Hub::workers() const {
  std::vector<Worker*> all;
  for (auto& w : workers_) all.push_back(w.get());
  return all;
}

void Hub::on_main_signal(int signum) {
  if (signum == SIGHUP) {
    // Certificate rotation: new connections get the new files; connected nodes are
    // re-checked against them (CA set, CRLs).
    reload();
    return;
  }
  LOG_INFO("stopping", "signal=%d shutdown_timeout_s=%g", signum, config_.shutdown_timeout_s);
}

std::string Hub::prepare() {
  std::string err = config_.validate();
  if (!err.empty()) return err;
  if (config_.tls) {
    TlsOptions opts;
    opts.session_tickets = config_.tls_tickets;
    opts.ticket_lifetime_s = config_.ticket_lifetime_s;
    opts.ticket_key_file = config_.ticket_key_file;
    opts.known_certificates = config_.known_certificates;
    if (!config_.tls_groups.empty())
      parse_tls_groups(config_.tls_groups, &opts.groups);  // checked by validate()
    parse_tls_ciphersuites(config_.tls_ciphersuites, &opts.ciphersuites);  // likewise
    opts.crl_files = config_.crl_files;
    tls_ = std::make_unique<TlsReloader>(config_.cert_file, config_.key_file, config_.ca_file,
                                         opts);
    err = tls_->load();
    if (!err.empty()) return err;
  }
  raise_fd_limit(config_.max_connections, config_.workers);
  if (port_in_use(config_.listen_host, config_.listen_port))
    return "cannot listen on " + config_.listen_host + ":" +
           std::to_string(config_.listen_port) + ": address already in use";
  uint16_t port = config_.listen_port;
  for (unsigned i = 0; i < config_.workers; ++i) {
    uint16_t bound = 0;
    int fd = bind_listener(config_.listen_host, port, &err, &bound);
    if (fd < 0) return err;
    listen_fds_.push_back(fd);
    port = bound;  // port 0: the first socket picks it, the others join it
  }
  bool v6 = config_.listen_host.find(':') != std::string::npos;
  uri_ = std::string(config_.tls ? "wss://" : "ws://") + (v6 ? "[" : "") +
         config_.listen_host + (v6 ? "]" : "") + ":" + std::to_string(port);
  routing_ = std::make_unique<RoutingMap>(config_.hub_vmac, config_.max_connections);
  if (config_.device_enabled()) {
    // The device answers at the hub's VMAC, from worker 0 (core/device.hpp).
    device_ = std::make_unique<Device>(config_, uri_);
    routing_->add_hub_entry(kDeviceRef);
    LOG_INFO("device", "instance=%lld name=\"%s\" network=%u",
             static_cast<long long>(config_.device_instance), config_.device_name.c_str(),
             config_.network_number);
  }
  sources_ = std::make_unique<SourceLimiter>(config_.source_rate, config_.source_burst);
  access_ = std::make_unique<AccessControl>(config_.identity_binding, config_.max_pins, nullptr);
  return "";
}

int Hub::run(HubHooks hooks) {
  hooks_ = std::move(hooks);
  // Before any thread starts, so that every thread inherits the mask (see SignalWatch).
  SignalWatch signals;
  std::string signal_err;
  if (!signals.block({SIGINT, SIGTERM, SIGHUP}, &signal_err)) {
    std::fprintf(stderr, "bschub: %s\n", signal_err.c_str());
    return 2;
  }
  for (unsigned i = 0; i < config_.workers; ++i) {
    workers_.push_back(
        std::make_unique<Worker>(i, config_, tls_.get(), *routing_, open_connections_));
  }
  if (device_) {
    std::vector<const ConnectionHistory*> histories;
    for (auto& w : workers_) histories.push_back(&w->history_view());
    device_->set_history(std::move(histories));
    workers_[0]->attach_device(device_.get());
  }
  std::vector<Worker*> peers;
  for (auto& w : workers_) peers.push_back(w.get());
  for (auto& w : workers_) {
    w->connect_peers(peers);
    w->set_source_limiter(sources_.get());
    w->set_access(access_.get(), sink_);
  }
  if (hooks_.before_start) {
    // Before the workers start, so a busy metrics port fails like a busy hub port.
    std::string err = hooks_.before_start();
    if (!err.empty()) {
      std::fprintf(stderr, "bschub: %s\n", err.c_str());
      return 2;
    }
  }
  for (unsigned i = 0; i < config_.workers; ++i) {
    std::string err;
    if (!workers_[i]->start(listen_fds_[i], &err)) {
      std::fprintf(stderr, "bschub: %s\n", err.c_str());
      if (hooks_.before_stop) hooks_.before_stop();
      for (unsigned j = 0; j < i; ++j) workers_[j]->request_stop();
      for (auto& w : workers_) w->join();
      return 2;
    }
    listen_fds_[i] = -1;  // now owned by the worker's uv_tcp_t
  }
  listen_fds_.clear();
  // The main thread waits for a stop signal, reloads certificates on SIGHUP and runs the
  // periodic hook (bschub: drop and refusal summaries).
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_timer_t periodic;
  uv_timer_init(&loop, &periodic);
  periodic.data = this;
  auto on_signal = [](uv_loop_t* main_loop, void* hub, int signum) {
    static_cast<Hub*>(hub)->on_main_signal(signum);
    if (signum != SIGHUP) uv_stop(main_loop);
  };
  signals.start(&loop, on_signal, this);
  if (hooks_.periodic && hooks_.periodic_interval_s > 0) {
    uint64_t every = uint64_t(hooks_.periodic_interval_s * 1000);
    auto on_periodic = [](uv_timer_t* t) { static_cast<Hub*>(t->data)->hooks_.periodic(); };
    uv_timer_start(&periodic, on_periodic, every, every);
  }
  // Serving from here on. A stop signal sent any time since block() is handled by this loop.
  std::printf("bschub listening on %s (workers=%u, hub vmac %s, uuid %s)\n", uri_.c_str(),
              config_.workers, config_.hub_vmac.to_string().c_str(),
              config_.hub_uuid.to_string().c_str());
  std::fflush(stdout);
  uv_run(&loop, UV_RUN_DEFAULT);
  signals.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&periodic), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);

  // The hook goes first (bschub: the metrics endpoint): a snapshot request must never wait
  // on a worker that has ended.
  if (hooks_.before_stop) hooks_.before_stop();
  // Graceful: each worker stops accepting, sends every node a Disconnect-Request and ends
  // when all are closed, or at --shutdown-timeout.
  for (auto& w : workers_) w->request_stop();
  for (auto& w : workers_) w->join();

  // Totals over all workers, one line: what the hub did in its lifetime.
  std::vector<const WorkerStats*> stats;
  for (auto& w : workers_) stats.push_back(&w->stats_view());
  LOG_INFO("stopped", "%s", lifetime_totals(stats).c_str());
  workers_.clear();
  return 0;
}

}  // namespace bsc
