#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/connection_history.hpp"

using namespace bsc;

namespace {

NodeRecord departed_at(int64_t t, uint8_t id) {
  NodeRecord r;
  r.state = HistoryState::kNotConnected;
  r.connect_unix_ms = t - 1000;
  r.disconnect_unix_ms = t;
  r.vmac.bytes[5] = id;
  return r;
}

FailedRecord failed_at(int64_t t, uint16_t code) {
  FailedRecord r;
  r.unix_ms = t;
  r.error.error_code = code;
  return r;
}

NodeRecord connected(uint8_t id) {
  NodeRecord r;
  r.connect_unix_ms = 5;
  r.vmac.bytes[5] = id;
  return r;
}

}  // namespace

TEST_CASE("ConnectionHistory: nothing is visible before publish, then one immutable view") {
  ConnectionHistory h(HistoryBounds{10, 60000});
  REQUIRE(h.latest() != nullptr);
  CHECK(h.latest()->departed.empty());
  CHECK(h.dirty());
  h.departed(departed_at(1000, 1));
  CHECK(h.latest()->departed.empty());  // not published yet
  std::shared_ptr<const HistoryView> before = h.latest();
  h.publish({connected(7)}, 2000);
  CHECK_FALSE(h.dirty());
  std::shared_ptr<const HistoryView> v = h.latest();
  REQUIRE(v->departed.size() == 1);
  CHECK(v->connected.size() == 1);
  CHECK(before->departed.empty());  // a reader's old view never changes
  h.connected_changed();
  CHECK(h.dirty());
}

TEST_CASE("ConnectionHistory: the count bound keeps the newest entries, oldest first") {
  ConnectionHistory h(HistoryBounds{3, 3600000});
  for (int i = 1; i <= 5; ++i) {
    h.departed(departed_at(1000 * i, uint8_t(i)));
    h.failed(failed_at(1000 * i, uint16_t(i)));
  }
  h.publish({}, 6000);
  auto v = h.latest();
  REQUIRE(v->departed.size() == 3);
  CHECK(v->departed[0].vmac.bytes[5] == 3);
  CHECK(v->departed[2].vmac.bytes[5] == 5);
  REQUIRE(v->failed.size() == 3);
  CHECK(v->failed[0].error.error_code == 3);
  CHECK(v->failed[2].error.error_code == 5);
}

TEST_CASE("ConnectionHistory: size 0 keeps no departed or failed entry") {
  ConnectionHistory h(HistoryBounds{0, 3600000});
  h.departed(departed_at(1000, 1));
  h.failed(failed_at(1000, 1));
  h.publish({connected(1)}, 1000);
  CHECK(h.latest()->departed.empty());
  CHECK(h.latest()->failed.empty());
  CHECK(h.latest()->connected.size() == 1);  // connected nodes are always listed
}

TEST_CASE("ConnectionHistory: entries older than the age bound are pruned and not gathered") {
  ConnectionHistory h(HistoryBounds{100, 10000});
  h.departed(departed_at(1000, 1));
  h.failed(failed_at(1000, 1));
  h.departed(departed_at(8000, 2));
  h.failed(failed_at(8000, 2));
  h.publish({}, 12000);  // 1000 is older than 12000 - 10000: pruned
  REQUIRE(h.latest()->departed.size() == 1);
  CHECK(h.latest()->departed[0].vmac.bytes[5] == 2);
  REQUIRE(h.latest()->failed.size() == 1);

  // No change since: the view still holds the 8000 entries, but a gather at 19000 leaves
  // them out (they aged past the bound without any new publish).
  GatheredHistory fresh({&h}, 17000);
  CHECK(fresh.connection_count() == 1);
  CHECK(fresh.failed_count() == 1);
  GatheredHistory old({&h}, 19000);
  CHECK(old.connection_count() == 0);
  CHECK(old.failed_count() == 0);
}

TEST_CASE("GatheredHistory: connected by VMAC first, then departed and failed oldest first") {
  ConnectionHistory a(HistoryBounds{100, 3600000}), b(HistoryBounds{100, 3600000});
  a.departed(departed_at(3000, 0x13));
  b.departed(departed_at(2000, 0x12));
  b.departed(departed_at(4000, 0x14));
  a.failed(failed_at(5000, 5));
  b.failed(failed_at(1000, 1));
  a.publish({connected(9), connected(2)}, 6000);
  b.publish({connected(4)}, 6000);
  GatheredHistory g({&a, &b}, 6000);
  REQUIRE(g.connection_count() == 6);
  std::vector<int> order;
  for (size_t i = 0; i < g.connection_count(); ++i) order.push_back(g.connection(i).vmac.bytes[5]);
  CHECK(order == std::vector<int>{2, 4, 9, 0x12, 0x13, 0x14});
  CHECK(g.connection(0).state == HistoryState::kConnected);
  REQUIRE(g.failed_count() == 2);
  CHECK(g.failed(0).error.error_code == 1);
  CHECK(g.failed(1).error.error_code == 5);
}

TEST_CASE("history names: the Std's error code and state names") {
  CHECK(std::string(history_error_name(173)) == "websocket-closed-abnormally");
  CHECK(std::string(history_error_name(151)) == "node-duplicate-vmac");
  CHECK(std::string(history_error_name(4242)) == "other");
  CHECK(std::string(history_state_name(HistoryState::kDisconnectedWithErrors)) ==
        "disconnected-with-errors");
}
