#include "core/source_limiter.hpp"

#include <netinet/in.h>

#include <algorithm>

namespace bsc {
namespace {

std::string address_key(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(addr);
    return std::string(reinterpret_cast<const char*>(&a->sin_addr), sizeof a->sin_addr);
  }
  if (addr->sa_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(addr);
    return std::string(reinterpret_cast<const char*>(&a->sin6_addr), sizeof a->sin6_addr);
  }
  return {};
}

}  // namespace

bool SourceLimiter::allow(const sockaddr* addr, uint64_t now_ms) {
  if (rate_ <= 0) return true;
  std::string key = address_key(addr);
  if (key.empty()) return true;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxSources) evict_full(now_ms);
    if (buckets_.size() >= kMaxSources) return true;  // fail open, see the header
    it = buckets_.emplace(std::move(key), Bucket{burst_, now_ms}).first;
  }
  Bucket& b = it->second;
  // Each worker's loop time is cached per iteration: another worker's may be a little ahead.
  if (now_ms > b.last_ms) {
    b.tokens = std::min(burst_, b.tokens + double(now_ms - b.last_ms) * rate_ / 1000.0);
    b.last_ms = now_ms;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void SourceLimiter::evict_full(uint64_t now_ms) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    uint64_t idle = now_ms > it->second.last_ms ? now_ms - it->second.last_ms : 0;
    double t = it->second.tokens + double(idle) * rate_ / 1000.0;
    if (t >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t SourceLimiter::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace bsc
