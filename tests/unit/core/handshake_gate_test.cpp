// HandshakeGate: the bound on open handshakes and the per-iteration step budget of the
// reconnect-storm design (docs/reconnect-storms.md).
#include <doctest/doctest.h>

#include <vector>

#include "core/handshake_gate.hpp"

TEST_CASE("HandshakeGate: the bound on open handshakes") {
  bsc::HandshakeGate gate(2, 0);
  CHECK_FALSE(gate.full());
  gate.opened();
  gate.opened();
  CHECK(gate.full());
  gate.closed();
  CHECK_FALSE(gate.full());
  CHECK(gate.open() == 1);
}

TEST_CASE("HandshakeGate: steps run in order within the budget, the rest wait") {
  bsc::HandshakeGate gate(100, 3000);  // 3 us budget
  for (uint32_t i = 0; i < 5; ++i) gate.queue(bsc::ConnRef{0, i, 1});
  uint64_t clock = 0;
  std::vector<uint32_t> ran;
  // Each step "takes" 1 us of the fake clock: the third reaches the budget.
  bool more = gate.run([&](bsc::ConnRef r) { ran.push_back(r.slot); clock += 1000; },
                       [&] { return clock; });
  CHECK(more);
  CHECK(ran == std::vector<uint32_t>{0, 1, 2});
  more = gate.run([&](bsc::ConnRef r) { ran.push_back(r.slot); clock += 1000; },
                  [&] { return clock; });
  CHECK_FALSE(more);
  CHECK(ran == std::vector<uint32_t>{0, 1, 2, 3, 4});
  CHECK(gate.empty());

  bsc::HandshakeGate unbounded(100, 0);  // budget 0: everything at once
  for (uint32_t i = 0; i < 50; ++i) unbounded.queue(bsc::ConnRef{0, i, 1});
  int n = 0;
  CHECK_FALSE(unbounded.run([&](bsc::ConnRef) { ++n; clock += 1000000; }, [&] { return clock; }));
  CHECK(n == 50);
}
