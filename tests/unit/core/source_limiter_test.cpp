// SourceLimiter: the per-source token bucket of the reconnect-storm design
// (docs/reconnect-storms.md).
#include <doctest/doctest.h>
#include <netinet/in.h>

#include "core/source_limiter.hpp"

namespace {

sockaddr_in v4(uint32_t host_order) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(host_order);
  return a;
}
const sockaddr* sa(const sockaddr_in& a) { return reinterpret_cast<const sockaddr*>(&a); }

}  // namespace

TEST_CASE("SourceLimiter: burst, then the rate, per address") {
  bsc::SourceLimiter lim(10, 3);  // 10/s, 3 at once
  auto a = v4(0x7F000007), b = v4(0x7F000008);
  CHECK(lim.allow(sa(a), 1000));
  CHECK(lim.allow(sa(a), 1000));
  CHECK(lim.allow(sa(a), 1000));
  CHECK_FALSE(lim.allow(sa(a), 1000));
  CHECK(lim.allow(sa(b), 1000));     // another address has its own bucket
  CHECK_FALSE(lim.allow(sa(a), 1050));  // 0.5 token after 50 ms
  CHECK(lim.allow(sa(a), 1100));     // one token after 100 ms
  CHECK_FALSE(lim.allow(sa(a), 1100));
  // A stale clock from another worker: no refill (a wrapped difference would fill it).
  CHECK_FALSE(lim.allow(sa(a), 900));
}

TEST_CASE("SourceLimiter: rate 0 is off; the table stays bounded") {
  bsc::SourceLimiter off(0, 1);
  auto a = v4(0x7F000001);
  for (int i = 0; i < 100; ++i) CHECK(off.allow(sa(a), 0));
  CHECK(off.tracked() == 0);

  bsc::SourceLimiter lim(1, 2);
  for (uint32_t i = 0; i < bsc::SourceLimiter::kMaxSources + 100; ++i) {
    auto x = v4(0x0A000000 + i);
    CHECK(lim.allow(sa(x), 0));  // new addresses are never refused
  }
  CHECK(lim.tracked() <= bsc::SourceLimiter::kMaxSources);
  // Once the buckets have refilled they are evicted to make room.
  auto late = v4(0x0B000001);
  CHECK(lim.allow(sa(late), 10000));
  CHECK(lim.tracked() < bsc::SourceLimiter::kMaxSources);
}
