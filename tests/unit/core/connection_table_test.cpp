// ConnectionTable: slots, generations, the dirty and CONNECTED lists (no loop needed).
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "core/connection_table.hpp"

using namespace bsc;

namespace {

struct FakeConn {
  explicit FakeConn(ConnRef r, int* alive) : ref_(r), alive_(alive) { ++*alive_; }
  ~FakeConn() { --*alive_; }
  ConnRef ref() const { return ref_; }
  ConnRef ref_;
  int* alive_;
  bool in_dirty_list = false;
  size_t connected_index = SIZE_MAX;
};

struct Table {
  OwnerThread owner;
  int alive = 0;
  ConnectionTable<FakeConn> table{3, owner};
  FakeConn* add() {
    return table.add([this](ConnRef r) { return std::make_unique<FakeConn>(r, &alive); });
  }
};

}  // namespace

TEST_CASE("ConnectionTable: a ref finds its connection until it is released") {
  Table t;
  FakeConn* a = t.add();
  FakeConn* b = t.add();
  CHECK(a->ref() == ConnRef{3, 0, 1});
  CHECK(b->ref() == ConnRef{3, 1, 1});
  CHECK(t.table.find(a->ref()) == a);
  CHECK(t.table.find(b->ref()) == b);
  CHECK(t.table.find(ConnRef{4, 0, 1}) == nullptr);  // another worker's
  CHECK(t.table.find(ConnRef{3, 7, 1}) == nullptr);  // no such slot
  ConnRef old = a->ref();
  t.table.release(a);
  CHECK(t.alive == 1);
  CHECK(t.table.find(old) == nullptr);
  // The slot is reused under a new generation: the old ref still finds nothing.
  FakeConn* c = t.add();
  CHECK(c->ref() == ConnRef{3, 0, 2});
  CHECK(t.table.find(old) == nullptr);
  CHECK(t.table.find(c->ref()) == c);
  int seen = 0;
  t.table.for_each([&seen](FakeConn&) { ++seen; });
  CHECK(seen == 2);
}

TEST_CASE("ConnectionTable: the drain pass flushes each dirty connection once") {
  Table t;
  FakeConn* a = t.add();
  FakeConn* b = t.add();
  FakeConn* gone = t.add();
  CHECK(t.table.mark_dirty(a));  // first on the list: the caller arms its idle handle
  CHECK_FALSE(t.table.mark_dirty(a));
  CHECK_FALSE(t.table.mark_dirty(gone));
  t.table.release(gone);  // released while listed: skipped, not touched
  std::vector<FakeConn*> flushed;
  bool again = true;
  CHECK_FALSE(t.table.drain_dirty([&](FakeConn& c) {
    flushed.push_back(&c);
    if (again) {  // output produced during the pass waits for the next one
      again = false;
      t.table.mark_dirty(b);
    }
  }));
  CHECK(flushed == std::vector<FakeConn*>{a});
  CHECK_FALSE(a->in_dirty_list);
  CHECK(t.table.has_dirty());
  flushed.clear();
  CHECK(t.table.drain_dirty([&](FakeConn& c) { flushed.push_back(&c); }));
  CHECK(flushed == std::vector<FakeConn*>{b});
  CHECK_FALSE(t.table.has_dirty());
}

TEST_CASE("ConnectionTable: the CONNECTED list adds and removes in O(1)") {
  Table t;
  FakeConn* a = t.add();
  FakeConn* b = t.add();
  FakeConn* c = t.add();
  t.table.add_connected(a);
  t.table.add_connected(b);
  t.table.add_connected(c);
  t.table.remove_connected(a);  // the last one takes its place
  CHECK(t.table.connected() == std::vector<FakeConn*>{c, b});
  CHECK(c->connected_index == 0);
  CHECK(a->connected_index == SIZE_MAX);
  t.table.remove_connected(a);  // not listed: nothing happens
  CHECK(t.table.connected().size() == 2);
}
