#include "net/tls_reloader.hpp"

#include <ctime>

#include "net/tls_context.hpp"
#include "util/log.hpp"

namespace bsc {

TlsReloader::TlsReloader(std::string cert_file, std::string key_file, std::string ca_file,
                         TlsOptions options)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      ca_file_(std::move(ca_file)),
      options_(std::move(options)) {}

namespace {

// A stale CRL refuses no one by itself (kStaleCrlFlags), so the only sign of a CRL that
// stopped being refreshed is this line, at start and at every reload, and the gauge.
void log_stale_crls(const TlsContext& ctx) {
  const int64_t now = int64_t(std::time(nullptr));
  for (const CrlInfo& crl : ctx.crls()) {
    if (!crl.stale(now)) continue;
    char when[32];
    const std::time_t t = std::time_t(crl.next_update);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    LOG_ERROR("crl_stale", "file=%s issuer=\"%s\" next_update=%s revoked=%zu action=\"still "
              "applied; refuses only what it lists; publish a fresh CRL and send SIGHUP\"",
              crl.file.c_str(), crl.issuer.c_str(), when, crl.revoked);
  }
}

}  // namespace

std::shared_ptr<const TlsContext> TlsReloader::build(std::string* error) const {
  auto ctx = std::make_shared<TlsContext>();
  if (!ctx->init(TlsContext::Role::kServer, cert_file_, key_file_, ca_file_, error, options_))
    return nullptr;
  log_stale_crls(*ctx);
  return ctx;
}

std::string TlsReloader::load() {
  std::string err;
  auto ctx = build(&err);
  if (!ctx) return err;
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(ctx);
  return "";
}

bool TlsReloader::reload(std::string* error) {
  // Built outside the lock: reading files and parsing keys must not stall an accept.
  std::string err;
  auto ctx = build(&err);
  if (!ctx) {
    if (error) *error = err;
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    LOG_ERROR("reload_failed", "cert=%s key=%s ca=%s reason=\"%s\" action=\"kept the "
              "previous certificates\"", cert_file_.c_str(), key_file_.c_str(),
              ca_file_.c_str(), err.c_str());
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_.swap(ctx);
  }
  reloads_ok_.fetch_add(1, std::memory_order_relaxed);
  // `ctx` now holds the old config; it is freed here unless live sessions still use it.
  LOG_INFO("reloaded", "cert=%s key=%s ca=%s crls=%zu scope=\"new connections; connected "
           "nodes re-checked\"", cert_file_.c_str(), key_file_.c_str(), ca_file_.c_str(),
           current()->crls().size());
  return true;
}

std::shared_ptr<const TlsContext> TlsReloader::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

}  // namespace bsc
