// Mailbox: cross-worker batch hand-off, reuse and the pool bound (no loop needed).
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "core/mailbox.hpp"

using namespace bsc;

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
