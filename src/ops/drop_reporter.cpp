#include "ops/drop_reporter.hpp"

#include "core/stats.hpp"
#include "core/worker.hpp"
#include "util/log.hpp"

namespace bsc {
namespace {

struct Watched {
  const char* event;
  const char* reason;
  std::atomic<uint64_t> WorkerStats::*field;
};

const Watched kWatched[] = {
    {"messages_dropped", "output_full", &WorkerStats::drop_output_full},
    {"messages_dropped", "inbox_full", &WorkerStats::drop_inbox_full},
    {"messages_dropped", "oversize", &WorkerStats::drop_oversize},
    {"messages_dropped", "spoofed_origin", &WorkerStats::drop_spoofed_origin},
    {"messages_dropped", "malformed", &WorkerStats::malformed},
    {"connections_refused", "max_connections", &WorkerStats::refused_max_connections},
    {"connections_refused", "tls_handshake", &WorkerStats::tls_handshake_failed},
    {"connections_refused", "handshake_timeout", &WorkerStats::handshake_timeouts},
    {"connections_refused", "accept_error", &WorkerStats::accept_failed},
    {"connections_refused", "source_rate", &WorkerStats::refused_source_rate},
    // Not a refusal: new nodes waited in the listen backlog (--max-handshakes open).
    {"accepts_paused", "max_handshakes", &WorkerStats::accept_paused},
};

}  // namespace

void DropReporter::check(const std::vector<Worker*>& workers) {
  last_.resize(std::size(kWatched), 0);
  for (size_t i = 0; i < std::size(kWatched); ++i) {
    uint64_t total = 0;
    for (Worker* w : workers) total += (w->stats_view().*kWatched[i].field).load(std::memory_order_relaxed);
    if (total > last_[i]) {
      LOG_WARN(kWatched[i].event, "reason=%s count=%llu interval_s=%g total=%llu",
               kWatched[i].reason, (unsigned long long)(total - last_[i]), kIntervalSeconds,
               (unsigned long long)total);
    }
    last_[i] = total;
  }
}

}  // namespace bsc
