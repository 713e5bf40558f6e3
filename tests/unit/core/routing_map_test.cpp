#include <doctest/doctest.h>

#include "core/routing_map.hpp"

using bsc::ConnRef;
using bsc::RoutingMap;
using bsc::Uuid;
using bsc::Vmac;

namespace {
Vmac vmac(uint8_t last) { return Vmac{{0x02, 0, 0, 0, 0, last}}; }
Uuid uuid(uint8_t last) {
  Uuid u;
  u.bytes[15] = last;
  return u;
}
const Vmac kHub{{0x92, 0x7B, 0xF7, 0x1A, 0x96, 0xA2}};
}  // namespace

TEST_CASE("a free VMAC is claimed and found") {
  RoutingMap t(kHub, 16);
  ConnRef replaced;
  CHECK(t.claim(vmac(1), uuid(1), {0, 5, 1}, &replaced) == RoutingMap::Claim::kAccepted);
  REQUIRE(t.lookup(vmac(1)));
  CHECK(*t.lookup(vmac(1)) == ConnRef{0, 5, 1});
  CHECK(!t.lookup(vmac(2)));
}

TEST_CASE("a VMAC held by another UUID is a duplicate and the holder keeps it") {
  RoutingMap t(kHub, 16);
  ConnRef replaced;
  t.claim(vmac(1), uuid(1), {0, 1, 1}, &replaced);
  CHECK(t.claim(vmac(1), uuid(2), {0, 2, 1}, &replaced) == RoutingMap::Claim::kDuplicate);
  CHECK(*t.lookup(vmac(1)) == ConnRef{0, 1, 1});
}

TEST_CASE("the hub's own VMAC is never given to a node") {
  RoutingMap t(kHub, 16);
  ConnRef replaced;
  CHECK(t.claim(kHub, uuid(1), {0, 1, 1}, &replaced) == RoutingMap::Claim::kDuplicate);
}

TEST_CASE("the same UUID replaces its old connection, even with a new VMAC") {
  RoutingMap t(kHub, 16);
  ConnRef replaced;
  t.claim(vmac(1), uuid(1), {0, 1, 1}, &replaced);
  CHECK(t.claim(vmac(3), uuid(1), {0, 2, 1}, &replaced) == RoutingMap::Claim::kReplaced);
  CHECK(replaced == ConnRef{0, 1, 1});
  CHECK(!t.lookup(vmac(1)));
  CHECK(*t.lookup(vmac(3)) == ConnRef{0, 2, 1});
  // The replaced connection's late release must not remove its successor.
  t.release(vmac(1), uuid(1), {0, 1, 1});
  CHECK(*t.lookup(vmac(3)) == ConnRef{0, 2, 1});
  t.release(vmac(3), uuid(1), {0, 2, 1});
  CHECK(t.size() == 0);
}

TEST_CASE("a known UUID moving onto another node's VMAC is refused without side effects") {
  RoutingMap t(kHub, 16);
  ConnRef replaced;
  t.claim(vmac(1), uuid(1), {0, 1, 1}, &replaced);
  t.claim(vmac(2), uuid(2), {0, 2, 1}, &replaced);
  CHECK(t.claim(vmac(2), uuid(1), {0, 3, 1}, &replaced) == RoutingMap::Claim::kDuplicate);
  CHECK(*t.lookup(vmac(1)) == ConnRef{0, 1, 1});
  CHECK(*t.lookup(vmac(2)) == ConnRef{0, 2, 1});
}

TEST_CASE("a released VMAC can be claimed by another node") {
  RoutingMap t(kHub, 16);
  ConnRef replaced;
  t.claim(vmac(1), uuid(1), {0, 1, 1}, &replaced);
  t.release(vmac(1), uuid(1), {0, 1, 1});
  CHECK(t.claim(vmac(1), uuid(2), {0, 1, 2}, &replaced) == RoutingMap::Claim::kAccepted);
}

#include <atomic>
#include <thread>
#include <vector>

TEST_CASE("two nodes racing for one VMAC on two threads: exactly one wins") {
  for (int round = 0; round < 200; ++round) {
    RoutingMap t(kHub, 16);
    std::atomic<int> go{0};
    RoutingMap::Claim results[2];
    std::thread racers[2];
    for (int w = 0; w < 2; ++w) {
      racers[w] = std::thread([&, w] {
        ConnRef replaced;
        go.fetch_add(1);
        while (go.load() < 2) {
        }
        results[w] = t.claim(vmac(7), uuid(uint8_t(w + 1)), {uint32_t(w), 1, 1}, &replaced);
      });
    }
    for (auto& r : racers) r.join();
    int won = (results[0] == RoutingMap::Claim::kAccepted) + (results[1] == RoutingMap::Claim::kAccepted);
    int lost = (results[0] == RoutingMap::Claim::kDuplicate) + (results[1] == RoutingMap::Claim::kDuplicate);
    REQUIRE(won == 1);
    REQUIRE(lost == 1);
    uint32_t winner = results[0] == RoutingMap::Claim::kAccepted ? 0 : 1;
    CHECK(t.lookup(vmac(7))->worker == winner);
  }
}

TEST_CASE("lookups stay correct while other VMACs churn on another thread") {
  RoutingMap t(kHub, 64);
  ConnRef replaced;
  for (uint8_t i = 0; i < 32; ++i) t.claim(vmac(i), uuid(i), {0, i, 100}, &replaced);
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    for (int n = 0; n < 20000; ++n) {
      uint8_t i = uint8_t(32 + n % 64);
      Vmac v{{0x12, 0, 0, uint8_t(n >> 8), 0, i}};
      t.claim(v, uuid(i), {1, i, uint32_t(n)}, &replaced);
      t.release(v, uuid(i), {1, i, uint32_t(n)});
    }
    stop = true;
  });
  size_t bad = 0, rounds = 0;
  while (!stop.load()) {
    for (uint8_t i = 0; i < 32; ++i) {
      auto r = t.lookup(vmac(i));
      if (!r || !(*r == ConnRef{0, i, 100})) ++bad;
    }
    ++rounds;
  }
  churn.join();
  CHECK(bad == 0);
  CHECK(rounds > 0);
  CHECK(t.size() == 32);
}

TEST_CASE("heavy churn of distinct VMACs never fills the table with tombstones") {
  RoutingMap t(kHub, 16);  // capacity 64
  ConnRef replaced;
  for (uint32_t n = 0; n < 100000; ++n) {
    Vmac v = Vmac::from_key(0x020000000000ULL + n * 7919ULL);
    REQUIRE(t.claim(v, uuid(1), {0, 1, n}, &replaced) == RoutingMap::Claim::kAccepted);
    t.release(v, uuid(1), {0, 1, n});
  }
  CHECK(t.size() == 0);
  CHECK(t.claim(vmac(1), uuid(2), {0, 2, 1}, &replaced) == RoutingMap::Claim::kAccepted);
}

TEST_CASE("ConnRef packs into one word and back") {
  ConnRef r{7, 0xABCDEF, 0xDEADBEEF};
  CHECK(RoutingMap::unpack(RoutingMap::pack(r)) == r);
}
