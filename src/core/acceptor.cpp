#include "core/acceptor.hpp"

#include "core/connection.hpp"
#include "core/source_limiter.hpp"
#include "core/worker.hpp"
#include "util/log.hpp"

namespace bsc {

bool Acceptor::listen(uv_loop_t* loop, int listen_fd, std::string* error) {
  uv_tcp_init(loop, &listener_);
  listener_.data = this;
  open_ = true;
  int rc = uv_tcp_open(&listener_, listen_fd);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, on_connection);
  if (rc != 0) {
    *error = std::string("cannot listen: ") + uv_strerror(rc);
    return false;
  }
  return true;
}

void Acceptor::close() {
  if (!open_) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  open_ = false;
}

void Acceptor::on_connection(uv_stream_t* server, int status) {
  auto* a = static_cast<Acceptor*>(server->data);
  Worker& w = a->worker_;
  if (status < 0) {
    // Out of descriptors (EMFILE) repeats on every wake-up: log at most once a second.
    bump(w.stats().accept_failed);
    if (w.now_ms() - a->last_error_log_ms_ >= 1000) {
      a->last_error_log_ms_ = w.now_ms();
      LOG_ERROR("accept_failed", "error=\"%s\" total=%llu", uv_strerror(status),
                (unsigned long long)w.stats().accept_failed.load());
    }
    return;
  }
  if (w.handshakes_full()) {
    // Leaving the connection un-accepted makes libuv stop polling the listener until
    // accept_one() runs (resume()): new nodes wait in the kernel's backlog.
    a->paused_ = true;
    bump(w.stats().accept_paused);  // reported every 10 s by DropReporter, not per event
    return;
  }
  a->accept_one();
}

void Acceptor::resume() {
  if (paused_ && open_ && !worker_.handshakes_full()) {
    paused_ = false;
    accept_one();
  }
}

void Acceptor::accept_one() {
  size_t open = 0;
  Connection* c = worker_.new_connection(&open);
  if (!c->start(reinterpret_cast<uv_stream_t*>(&listener_))) return;  // released on close
  bump(worker_.stats().accepted);
  if (!source_allowed(c)) return;
  const Config& config = worker_.config();
  if (open > config.max_connections) {
    // Policy: close at once, before any TLS work, so a flood of extra nodes costs little.
    bump(worker_.stats().refused_max_connections);
    if (worker_.log_allowed(FloodLog::kRefused))
      LOG_WARN("connection_refused", "peer=%s reason=\"max connections (%zu) reached\"",
               c->peer().c_str(), config.max_connections);
    c->abort("max connections");
    return;
  }
  LOG_DEBUG("tcp_accepted", "peer=%s", c->peer().c_str());
}

bool Acceptor::source_allowed(Connection* c) {
  if (!sources_) return true;
  // An unknown address (AF_UNSPEC) has no bucket: SourceLimiter lets it through.
  if (sources_->allow(reinterpret_cast<const sockaddr*>(&c->peer_address()), worker_.now_ms()))
    return true;
  // Policy: close before any TLS work (the node retries later).
  bump(worker_.stats().refused_source_rate);
  if (worker_.log_allowed(FloodLog::kRefused))
    LOG_WARN("connection_refused", "peer=%s reason=\"source over --source-rate (%g/s)\"",
             c->peer().c_str(), worker_.config().source_rate);
  c->abort("source rate");
  return false;
}

}  // namespace bsc
