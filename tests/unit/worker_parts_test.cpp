// The parts of a Worker that work without a running loop: OwnerThread (the [owner] check),
// ConnectionTable (slots, generations, the dirty and CONNECTED lists) and Mailbox (batch
// hand-off and reuse).
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/connection_table.hpp"
#include "core/mailbox.hpp"

using namespace bsc;

TEST_CASE("OwnerThread: only the bound thread is the owner; before binding, any is") {
  OwnerThread owner;
  bool other = false;
  std::thread([&] { other = owner.current(); }).join();
  CHECK(other);  // [startup]: no loop thread yet
  owner.bind();
  CHECK(owner.current());
  std::thread([&] { other = owner.current(); }).join();
  CHECK_FALSE(other);
  std::thread([&] {
    owner.bind();  // the loop is handed over (Worker::run, the destructor)
    other = owner.current();
  }).join();
  CHECK(other);
  CHECK_FALSE(owner.current());
}

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

namespace {

struct Mailboxes {
  OwnerThread owner;
  WorkerStats stats0, stats1;
  Mailbox m0{0, stats0, owner};
  Mailbox m1{1, stats1, owner};
  Mailboxes() {
    m0.connect_peers({&m0, &m1});
    m1.connect_peers({&m0, &m1});
  }
};

}  // namespace

// No loop: the wake-ups are never initialised (a signal writes to no eventfd, harmlessly).
TEST_CASE("Mailbox: frames reach the other worker in order and the batch comes home") {
  Mailboxes m;
  uint8_t* p = m.m0.reserve(1, RecordKind::kUnicast, 5, 9, 3);
  REQUIRE(p);
  std::memcpy(p, "abc", 3);
  p = m.m0.reserve(1, RecordKind::kBroadcast, 0, 0, 2);
  REQUIRE(p);
  std::memcpy(p, "de", 2);
  CHECK(m.m1.depth() == 0);  // nothing leaves before publish (the drain pass)
  m.m0.publish();
  CHECK(m.m1.depth() == 1);
  CHECK(m.stats0.batches_sent.load() == 1);
  std::vector<std::string> got;
  m.m1.drain([&](const Batch& b) {
    CHECK(b.home == 0);
    b.for_each([&](const RecordHeader& h, const uint8_t* frame) {
      got.push_back(std::to_string(int(h.kind)) + ":" + std::to_string(h.slot) + ":" +
                    std::to_string(h.generation) + ":" +
                    std::string(reinterpret_cast<const char*>(frame), h.length));
    });
  });
  CHECK(got == std::vector<std::string>{"1:5:9:abc", "2:0:0:de"});
  CHECK(m.m1.depth() == 0);
  // The block went home: the next frame reuses it instead of allocating.
  REQUIRE(m.m0.reserve(1, RecordKind::kUnicast, 1, 1, 1));
  m.m0.publish();
  CHECK(m.m0.batches_owned() == 1);
}

TEST_CASE("Mailbox: an exhausted batch pool drops the frame and counts it") {
  Mailboxes m;
  // Frames too large to share a batch: each takes a batch of its own.
  const size_t big = kBatchBytes / 2 + 1;
  for (size_t i = 0; i < Mailbox::kMaxBatches; ++i)
    REQUIRE(m.m0.reserve(1, RecordKind::kUnicast, 0, 0, big));
  CHECK(m.m0.reserve(1, RecordKind::kUnicast, 0, 0, big) == nullptr);
  CHECK(m.stats0.drop_inbox_full.load() == 1);
  CHECK(m.m0.batches_owned() == Mailbox::kMaxBatches);
}
