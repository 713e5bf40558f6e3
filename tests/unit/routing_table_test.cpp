#include <doctest/doctest.h>

#include "core/routing_table.hpp"

using bsc::ConnRef;
using bsc::RoutingTable;
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
  RoutingTable t(kHub);
  ConnRef replaced;
  CHECK(t.claim(vmac(1), uuid(1), {0, 5, 1}, &replaced) == RoutingTable::Claim::kAccepted);
  REQUIRE(t.lookup(vmac(1)));
  CHECK(*t.lookup(vmac(1)) == ConnRef{0, 5, 1});
  CHECK(!t.lookup(vmac(2)));
}

TEST_CASE("a VMAC held by another UUID is a duplicate and the holder keeps it") {
  RoutingTable t(kHub);
  ConnRef replaced;
  t.claim(vmac(1), uuid(1), {0, 1, 1}, &replaced);
  CHECK(t.claim(vmac(1), uuid(2), {0, 2, 1}, &replaced) == RoutingTable::Claim::kDuplicate);
  CHECK(*t.lookup(vmac(1)) == ConnRef{0, 1, 1});
}

TEST_CASE("the hub's own VMAC is never given to a node") {
  RoutingTable t(kHub);
  ConnRef replaced;
  CHECK(t.claim(kHub, uuid(1), {0, 1, 1}, &replaced) == RoutingTable::Claim::kDuplicate);
}

TEST_CASE("the same UUID replaces its old connection, even with a new VMAC") {
  RoutingTable t(kHub);
  ConnRef replaced;
  t.claim(vmac(1), uuid(1), {0, 1, 1}, &replaced);
  CHECK(t.claim(vmac(3), uuid(1), {0, 2, 1}, &replaced) == RoutingTable::Claim::kReplaced);
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
  RoutingTable t(kHub);
  ConnRef replaced;
  t.claim(vmac(1), uuid(1), {0, 1, 1}, &replaced);
  t.claim(vmac(2), uuid(2), {0, 2, 1}, &replaced);
  CHECK(t.claim(vmac(2), uuid(1), {0, 3, 1}, &replaced) == RoutingTable::Claim::kDuplicate);
  CHECK(*t.lookup(vmac(1)) == ConnRef{0, 1, 1});
  CHECK(*t.lookup(vmac(2)) == ConnRef{0, 2, 1});
}

TEST_CASE("a released VMAC can be claimed by another node") {
  RoutingTable t(kHub);
  ConnRef replaced;
  t.claim(vmac(1), uuid(1), {0, 1, 1}, &replaced);
  t.release(vmac(1), uuid(1), {0, 1, 1});
  CHECK(t.claim(vmac(1), uuid(2), {0, 1, 2}, &replaced) == RoutingTable::Claim::kAccepted);
}
