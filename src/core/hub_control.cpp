// Hub: operator control of who is on the network (docs/operations.md): the access policy,
// the lasting state it reports to, sweeps over every worker, and the reload that re-checks
// connected nodes. Called from the main thread (SIGHUP) and the admin thread.
#include "core/access_control.hpp"
#include "core/hub.hpp"
#include "core/sweep.hpp"
#include "core/worker.hpp"
#include "net/tls_context.hpp"
#include "net/tls_reloader.hpp"
#include "util/log.hpp"

namespace bsc {

namespace {

// A reload's re-check may verify a signature per node (about 1 ms each) when the CA that
// issued it changed: allow for a large shard.
constexpr int kRecheckTimeoutMs = 30000;

}  // namespace

void Hub::attach_state(StateSink* sink, const std::vector<Pin>& pins,
                       const std::vector<DenyEntry>& denies) {
  sink_ = sink;
  access_->load(pins, denies);
  access_->set_sink(sink);
}

void Hub::forget_known_certificates() {
  if (!tls_) return;
  if (std::shared_ptr<const TlsContext> ctx = tls_->current()) ctx->known_certificates().clear();
}

long Hub::sweep(const Sweep& sweep, int timeout_ms) {
  long total = 0;
  bool late = false;
  for (auto& w : workers_) {
    long n = w->sweep(sweep, timeout_ms);
    if (n < 0) late = true;
    else total += n;
  }
  return late ? -1 : total;
}

Hub::ReloadResult Hub::reload() {
  std::lock_guard<std::mutex> lock(reload_mu_);
  ReloadResult r;
  if (!tls_) {
    r.error = "--no-tls: no certificates to reload";
    LOG_WARN("reload_ignored", "reason=\"%s\"", r.error.c_str());
    return r;
  }
  if (!tls_->reload(&r.error)) return r;
  r.ok = true;
  // Connected nodes were admitted by the old set: each is checked against the new one on
  // its own worker, and those it no longer accepts are disconnected.
  std::shared_ptr<const TlsContext> ctx = tls_->current();
  Sweep s;
  s.cause = Sweep::Cause::kRevoked;
  s.check = [ctx](const SweepTarget& t) -> std::string {
    return t.identity ? ctx->recheck(*t.identity) : std::string();
  };
  r.disconnected = sweep(s, kRecheckTimeoutMs);
  LOG_INFO("reload_recheck", "disconnected=%ld", r.disconnected);
  return r;
}

}  // namespace bsc
