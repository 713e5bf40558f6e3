#include "core/mailbox.hpp"

namespace bsc {

bool Mailbox::init_wake(uv_loop_t* loop, WakeFd::Callback on_mail, void* data) {
  if (!wake_.init(loop, on_mail, data)) return false;
  wake_.unref();
  return true;
}

void Mailbox::connect_peers(const std::vector<Mailbox*>& peers) {
  peers_ = peers;
  open_.assign(peers.size(), nullptr);
  ready_.assign(peers.size(), {});
  for (Mailbox* p : peers) tokens_.push_back(std::make_unique<moodycamel::ProducerToken>(p->inbox_));
}

Batch* Mailbox::take_batch() {
  if (free_.empty()) {
    Batch* back[32];
    size_t n = returns_.try_dequeue_bulk(back, 32);
    free_.insert(free_.end(), back, back + n);
  }
  if (free_.empty()) {
    if (owned_.size() >= kMaxBatches) return nullptr;
    // Default-initialised, not value-initialised: make_unique<Batch>() would zero all 64 KiB
    // and touch every page, where the pool's memory should follow the bytes in flight.
    owned_.push_back(std::make_unique_for_overwrite<Batch>());
    owned_.back()->home = id_;
    free_.push_back(owned_.back().get());
  }
  Batch* b = free_.back();
  free_.pop_back();
  b->used = 0;
  return b;
}

uint8_t* Mailbox::reserve(uint32_t worker, RecordKind kind, uint32_t slot, uint32_t generation,
                          size_t len) {
  assert(owner_.current());
  assert(worker < peers_.size() && worker != id_);
  Batch*& open = open_[worker];
  if (open && !open->fits(len)) {
    ready_[worker].push_back(open);
    open = nullptr;
  }
  if (!open) {
    open = take_batch();
    if (!open) {
      bump(stats_.drop_inbox_full);
      return nullptr;
    }
    if (!open->fits(len)) return nullptr;  // larger than a batch: never for BVLC sizes
  }
  has_outgoing_ = true;
  return open->append(kind, slot, generation, len);
}

// GCC 12 reports a false -Wstringop-overflow inside moodycamel's enqueue_bulk (an atomic
// load it cannot see the bounds of); the queue is correct, so silence it for this function.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
void Mailbox::publish() {
  assert(owner_.current());
  if (!has_outgoing_) return;
  has_outgoing_ = false;
  for (size_t w = 0; w < peers_.size(); ++w) {
    std::vector<Batch*>& ready = ready_[w];
    if (open_[w]) {
      ready.push_back(open_[w]);
      open_[w] = nullptr;
    }
    if (ready.empty()) continue;
    // One bulk enqueue with our producer token keeps per-source FIFO order; one wake-up.
    peers_[w]->inbox_.enqueue_bulk(*tokens_[w], ready.begin(), ready.size());
    bump(stats_.batches_sent, ready.size());
    ready.clear();
    peers_[w]->wake_.signal();
  }
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace bsc
