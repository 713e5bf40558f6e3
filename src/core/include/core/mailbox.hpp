// Mailbox: one worker's end of the cross-worker hand-off (core/batch.hpp says how frames
// travel). Outgoing: an open batch per peer, filled during the iteration, and the full ones
// waiting for publish() (the drain pass), which hands them over in one bulk enqueue per peer
// and wakes that peer once. Incoming: the inbox other workers publish into, and the returns
// queue through which this worker's batches come home to its pool.
//
// Threads: [owner] for everything but the noted [startup] and [any thread] calls; the
// moodycamel queues are the only state other workers touch (they enqueue into inbox_ and
// returns_, and signal wake_).
#pragma once
#include <concurrentqueue/concurrentqueue.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/batch.hpp"
#include "core/owner_thread.hpp"
#include "core/stats.hpp"
#include "net/wake_fd.hpp"

namespace bsc {

class Mailbox {
 public:
  // Bound on this worker's batches in flight to other workers. At light load a batch
  // carries one frame per loop iteration, so the count must cover the longest time a busy
  // 2-core machine may leave the consumer unscheduled (128 ran out in ~6 ms at 20k msgs/s).
  // Pages of a batch are touched only as far as it is filled, so resident memory follows the
  // bytes in flight; the hard ceiling is 1024 x 64 KiB = 64 MiB per worker. Beyond it frames
  // are dropped and counted (drop_inbox_full), never queued without bound.
  static constexpr size_t kMaxBatches = 1024;
  // Inbox budget per wake-up: a flood from the other workers cannot starve this loop's own
  // reads; the rest waits for the next iteration.
  static constexpr size_t kInboxBudget = 64;

  Mailbox(uint32_t id, WorkerStats& stats, const OwnerThread& owner)
      : id_(id), stats_(stats), owner_(owner) {}
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // [startup] The wake-up: `on_mail(data)` runs on `loop` after a peer published. Unref'd:
  // it never keeps the loop alive. False if no eventfd could be made.
  bool init_wake(uv_loop_t* loop, WakeFd::Callback on_mail, void* data);
  // [owner] Closes the wake-up: only once no peer can signal it any more (every worker
  // thread has ended), so a late signal never meets a closed handle.
  void close_wake() { wake_.close(); }
  // [startup] Every worker's mailbox, this one included, indexed by worker id.
  void connect_peers(const std::vector<Mailbox*>& peers);
  size_t peer_count() const { return peers_.size(); }

  // Room for one frame of `len` octets in the open batch for `worker` (!= this one), sent
  // at the next publish(). nullptr when the batch pool is exhausted (the target is not
  // keeping up): counted in drop_inbox_full, and the caller drops the frame.
  uint8_t* reserve(uint32_t worker, RecordKind kind, uint32_t slot, uint32_t generation,
                   size_t len);
  // Hands every filled batch to its worker and wakes it (the drain pass calls it).
  void publish();
  // Calls deliver(const Batch&) for the batches in the inbox, up to kInboxBudget of them,
  // and sends each home. Wake-ups coalesce (many sends, one callback), so it drains until
  // empty or out of budget; with more waiting it wakes itself for the next iteration.
  template <class F>
  void drain(F&& deliver);

  // [any thread] Batches queued in the inbox (approximate, moodycamel).
  size_t depth() const { return inbox_.size_approx(); }
  // Batches this worker has allocated (they live as long as the mailbox).
  size_t batches_owned() const { return owned_.size(); }

 private:
  Batch* take_batch();

  const uint32_t id_;
  WorkerStats& stats_;
  const OwnerThread& owner_;
  WakeFd wake_;  // net/wake_fd.hpp: why not a uv_async_t
  moodycamel::ConcurrentQueue<Batch*> inbox_;    // batches for this worker's connections
  moodycamel::ConcurrentQueue<Batch*> returns_;  // this worker's batches coming home
  std::vector<Mailbox*> peers_;
  std::vector<std::unique_ptr<moodycamel::ProducerToken>> tokens_;  // one per peer inbox
  std::vector<Batch*> open_;                     // batch being filled, per peer
  std::vector<std::vector<Batch*>> ready_;       // full batches waiting for publish, per peer
  std::vector<Batch*> free_;
  // Every batch this worker ever allocated; batches still queued anywhere are freed with it
  // (the queues hold raw pointers only).
  std::vector<std::unique_ptr<Batch>> owned_;
  bool has_outgoing_ = false;  // open/ready batches wait for publish()
};

template <class F>
void Mailbox::drain(F&& deliver) {
  assert(owner_.current());
  Batch* got[16];
  size_t budget = kInboxBudget;
  while (budget > 0) {
    size_t n = inbox_.try_dequeue_bulk(got, budget < 16 ? budget : 16);
    if (n == 0) return;
    budget -= n;
    for (size_t i = 0; i < n; ++i) {
      deliver(*got[i]);
      peers_[got[i]->home]->returns_.enqueue(got[i]);
    }
  }
  wake_.signal();  // more waiting: continue in the next iteration
}

}  // namespace bsc
