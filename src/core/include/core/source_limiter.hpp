// SourceLimiter: a token bucket per source IP address for new connections, shared by all
// workers (SO_REUSEPORT spreads one address's connections over every worker, so per-worker
// buckets would let through workers x the rate). Policy: a connection that finds its
// address's bucket empty is closed right after accept, before any TLS work: cheap for the
// hub, and the node retries later.
//
// Threads: [any worker], on the accept path only (never per frame): one mutex.
// Bounded: at most kMaxSources addresses are tracked; when the table is full, buckets that
// have refilled (equal to a fresh one) are dropped, and if none has, the new address is let
// through uncounted (fail open: a flood from many addresses must not lock out real nodes).
#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace bsc {

class SourceLimiter {
 public:
  // rate: connections per second per address (0: no limit); burst: bucket size.
  SourceLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

  // True if a connection from `addr` may proceed now (takes one token).
  bool allow(const sockaddr* addr, uint64_t now_ms);
  size_t tracked() const;

  static constexpr size_t kMaxSources = 65536;

 private:
  struct Bucket {
    double tokens;
    uint64_t last_ms;
  };
  void evict_full(uint64_t now_ms);

  const double rate_, burst_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // key: raw address octets
};

}  // namespace bsc
