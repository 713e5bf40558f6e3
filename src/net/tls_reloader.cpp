#include "net/tls_reloader.hpp"

#include <ctime>

#include "net/tls_context.hpp"
#include "net/ticket_key_file.hpp"
#include "util/log.hpp"
#include "util/unix_time.hpp"

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
  if (!ctx->init(TlsContext::Role::kServer, cert_file_, key_file_, ca_file_, error, options_,
                 sealer_))
    return nullptr;
  log_stale_crls(*ctx);
  return ctx;
}

std::string TlsReloader::load() {
  std::string err;
  if (options_.session_tickets) {
    sealer_ = make_ticket_sealer(options_, &err);
    if (!sealer_) return err;
    if (!options_.ticket_key_file.empty())
      LOG_INFO("ticket_key", "file=%s name=%s", options_.ticket_key_file.c_str(),
               ticket_key_name_hex(sealer_->keys().current_name()).c_str());
  }
  auto ctx = build(&err);
  if (!ctx) return err;
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(ctx);
  return "";
}

std::string TlsReloader::read_ticket_key(std::shared_ptr<const TicketKey>* key) const {
  if (!sealer_ || options_.ticket_key_file.empty()) return "";
  std::string err;
  *key = load_ticket_key_file(options_.ticket_key_file, unix_now_ms(), &err);
  return err;
}

bool TlsReloader::reload(std::string* error) {
  // Built outside the lock: reading files and parsing keys must not stall an accept.
  std::string err;
  std::shared_ptr<const TicketKey> ticket_key;
  err = read_ticket_key(&ticket_key);
  auto ctx = err.empty() ? build(&err) : nullptr;
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
  if (ticket_key) {
    const TicketKeyName before = sealer_->keys().current_name();
    sealer_->keys().install(ticket_key);
    if (before != ticket_key->name())
      LOG_INFO("ticket_key_rotated", "file=%s name=%s previous=%s previous_accepted_s=%u",
               options_.ticket_key_file.c_str(), ticket_key_name_hex(ticket_key->name()).c_str(),
               ticket_key_name_hex(before).c_str(), options_.ticket_lifetime_s);
  }
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
