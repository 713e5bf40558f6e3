// TlsReloader: the hub's current TLS server config, replaceable at run time (SIGHUP).
//
// Threads: load() at [startup]; reload() on the main thread; current() from [any thread]
// (each worker calls it once per accepted connection, never per frame).
// A reload builds a whole new TlsContext from the configured files and swaps it in only if
// that succeeded. Sessions keep a shared_ptr to the context they started with; the hub then
// re-checks connected nodes against the new one (Hub::reload, TlsContext::recheck). The CRL
// files (TlsOptions::crl_files) are re-read too. The ticket sealer outlives reloads, so
// tickets issued before a SIGHUP still resume; with TlsOptions::ticket_key_file a reload
// re-reads the file, and a changed file becomes the new key while the old one still opens
// tickets for one lifetime (TicketKeyRing).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "net/tls_context.hpp"

namespace bsc {


class TlsReloader {
 public:
  TlsReloader(std::string cert_file, std::string key_file, std::string ca_file,
              TlsOptions options);

  // [startup] First load. Returns "" or one sentence (exit code 2).
  std::string load();
  // [one thread at a time] Rebuilds from the same files; on failure keeps the current
  // config, logs event=reload_failed and sets *error (if given) to the reason. True if the
  // new config is in use.
  bool reload(std::string* error = nullptr);
  // [any thread] The config new connections use.
  std::shared_ptr<const TlsContext> current() const;
  // [any thread] Reloads done and refused since start, for the metrics.
  uint64_t reloads_ok() const { return reloads_ok_.load(std::memory_order_relaxed); }
  uint64_t reloads_failed() const { return reloads_failed_.load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<const TlsContext> build(std::string* error) const;
  // Reload: the key file's key, installed once the new config is in use; "" or an error.
  std::string read_ticket_key(std::shared_ptr<const TicketKey>* key) const;

  const std::string cert_file_, key_file_, ca_file_;
  const TlsOptions options_;
  std::shared_ptr<TicketSealer> sealer_;  // server with tickets: shared by every config
  mutable std::mutex mu_;  // guards current_ only: held for a pointer copy, never for I/O
  std::shared_ptr<const TlsContext> current_;
  std::atomic<uint64_t> reloads_ok_{0}, reloads_failed_{0};
};

}  // namespace bsc
