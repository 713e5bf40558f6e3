// StateStore's queues and its writer thread (the file's side: state_store_db.cpp).
#include "ops/state_store.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "state_db.hpp"
#include "util/log.hpp"

namespace bsc {

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kDropWarnWindowMs = 10000;  // one queue-full warning per window at most
constexpr size_t kDequeueChunk = 1024;

}  // namespace

StateStore::StateStore() = default;

StateStore::~StateStore() {
  stop();
  statements_.reset();  // statements before their connection
  if (db_) sqlite3_close_v2(db_);
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the directory's flock
}

// ---- producers: [any thread], never blocking on the writer --------------------------------

void StateStore::audit(AuditRecord record) {
  if (!accepting_.load(std::memory_order_relaxed)) {
    audit_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Reserve a place first: the bound holds however many producers race here.
  size_t depth = audit_depth_.fetch_add(1, std::memory_order_relaxed);
  if (depth >= options_.audit_queue) {
    audit_depth_.fetch_sub(1, std::memory_order_relaxed);
    audit_dropped_.fetch_add(1, std::memory_order_relaxed);
    warn_audit_dropped();
    return;
  }
  audit_queue_.enqueue(std::move(record));
  // Half full: wake the writer now rather than at its next interval. A wake-up lost to a
  // race only delays it to that interval.
  if (depth + 1 == options_.audit_queue / 2) {
    wake_early_.store(true, std::memory_order_relaxed);
    wake_.notify_one();
  }
}

void StateStore::warn_audit_dropped() {
  int64_t now = steady_ms();
  int64_t last = last_drop_warn_ms_.load(std::memory_order_relaxed);
  if (last != 0 && now - last < kDropWarnWindowMs) return;
  // One thread wins the window; the others stay silent (the count stays exact).
  if (!last_drop_warn_ms_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  LOG_WARN("audit_queue_full", "capacity=%zu audit_dropped=%llu note=\"audit records are "
           "written slower than they come; further drops are counted, warned once per %llds\"",
           options_.audit_queue,
           static_cast<unsigned long long>(audit_dropped_.load(std::memory_order_relaxed)),
           static_cast<long long>(kDropWarnWindowMs / 1000));
}

void StateStore::push_state(StateChange change) {
  bool full = false;
  if (accepting_.load(std::memory_order_relaxed)) {
    std::lock_guard lock(state_mutex_);  // held for one push_back; the writer only swaps
    if (state_queue_.size() < options_.state_queue) {
      state_queue_.push_back(std::move(change));
      state_depth_.store(state_queue_.size(), std::memory_order_relaxed);
      return;
    }
    full = true;
  }
  uint64_t dropped = state_dropped_.fetch_add(1, std::memory_order_relaxed) + 1;
  LOG_ERROR("state_change_dropped", "reason=%s state_dropped=%llu note=\"a pin or deny-list "
            "change was not saved; it holds until the hub restarts\"",
            full ? "queue_full" : "store_stopped", static_cast<unsigned long long>(dropped));
}

void StateStore::pin_added(const Pin& pin) { push_state(pin); }
void StateStore::pin_cleared(const Uuid& uuid) { push_state(PinClear{uuid}); }
void StateStore::deny_added(const DenyEntry& entry) { push_state(entry); }
void StateStore::deny_removed(DenyEntry::Kind kind, const std::string& value) {
  push_state(DenyRemove{kind, value});
}

// ---- the writer ------------------------------------------------------------------------

bool StateStore::start(std::string* error) {
  if (db_ == nullptr) {
    *error = "the state store is not open";
    return false;
  }
  if (writer_.joinable()) return true;
  if (!accepting_.load()) {
    *error = "the state store was stopped";
    return false;
  }
  statements_ = std::make_unique<StateStatements>(db_);
  if (!statements_->ok()) {
    *error = "cannot prepare the state store's statements: " + sql_error(db_);
    statements_.reset();
    return false;
  }
  last_prune_ms_ = steady_ms();  // open() pruned
  writer_ = std::thread([this] { writer_loop(); });
  return true;
}

void StateStore::writer_loop() {
  log::set_thread_worker(-1);
  const auto interval = std::chrono::duration<double>(options_.flush_interval_s);
  for (;;) {
    uint64_t serving;
    bool stopping;
    {
      std::unique_lock lock(wake_mutex_);
      wake_.wait_for(lock, interval, [&] {
        return stopping_ || flush_requests_ != flushes_done_ ||
               wake_early_.load(std::memory_order_relaxed);
      });
      wake_early_.store(false, std::memory_order_relaxed);
      serving = flush_requests_;
      stopping = stopping_;
    }
    write_batch();
    if (stopping) write_batch();  // what raced in while stop() closed the queues
    int64_t now = steady_ms();
    if (now - last_prune_ms_ >= int64_t(options_.prune_interval_s * 1000)) {
      prune();
      last_prune_ms_ = now;
    }
    {
      std::lock_guard lock(wake_mutex_);
      flushes_done_ = serving;
    }
    flushed_.notify_all();
    if (stopping) break;
  }
  {
    std::lock_guard lock(wake_mutex_);
    writer_done_ = true;
  }
  flushed_.notify_all();
}

void StateStore::write_batch() {
  std::vector<StateChange> changes = std::move(state_retry_);
  state_retry_.clear();
  {
    std::lock_guard lock(state_mutex_);
    if (changes.empty()) {
      changes.swap(state_queue_);
    } else {
      for (auto& c : state_queue_) changes.push_back(std::move(c));
      state_queue_.clear();
    }
    state_depth_.store(0, std::memory_order_relaxed);
  }
  // At most one queue's worth per transaction, so a flood cannot keep one batch open.
  std::vector<AuditRecord> audits;
  while (audits.size() < options_.audit_queue) {
    size_t have = audits.size();
    audits.resize(have + kDequeueChunk);
    size_t got = audit_queue_.try_dequeue_bulk(audits.begin() + ptrdiff_t(have), kDequeueChunk);
    audits.resize(have + got);
    if (got == 0) break;
  }
  audit_depth_.fetch_sub(audits.size(), std::memory_order_relaxed);
  if (changes.empty() && audits.empty()) return;

  std::string error;
  if (apply(changes, audits, &error)) {
    state_written_.fetch_add(changes.size(), std::memory_order_relaxed);
    uint64_t total = audit_written_.fetch_add(audits.size(), std::memory_order_relaxed) +
                     audits.size();
    if (options_.after_commit) options_.after_commit(total);
    return;
  }
  // Rolled back. Pin and deny changes are tried again with the next batch (a full disk may
  // clear); audit records are given up, counted, so a broken disk cannot grow memory.
  uint64_t errors = write_errors_.fetch_add(1, std::memory_order_relaxed) + 1;
  audit_dropped_.fetch_add(audits.size(), std::memory_order_relaxed);
  if (changes.size() > options_.state_queue) {
    state_dropped_.fetch_add(changes.size() - options_.state_queue, std::memory_order_relaxed);
    changes.resize(options_.state_queue);
  }
  state_retry_ = std::move(changes);
  // At most one line per failed batch, and batches are at least flush_interval apart.
  LOG_ERROR("state_write_failed", "file=%s error=\"%s\" audit_lost=%zu state_retried=%zu "
            "write_errors=%llu", path_.c_str(), error.c_str(), audits.size(),
            state_retry_.size(), static_cast<unsigned long long>(errors));
}

void StateStore::stop(double timeout_s) {
  accepting_.store(false);
  if (writer_.joinable()) {
    std::unique_lock lock(wake_mutex_);
    stopping_ = true;
    wake_.notify_one();
    if (!flushed_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                           [&] { return writer_done_; })) {
      LOG_ERROR("state_store_stop_slow", "file=%s timeout_s=%g note=\"interrupting the "
                "write in progress; its batch is lost\"", path_.c_str(), timeout_s);
      sqlite3_interrupt(db_);
    }
    lock.unlock();
    writer_.join();
  }
  // Whatever a producer slipped in after the last drain is counted, not silently kept.
  // (Also what was queued if the writer never started.)
  AuditRecord r;
  while (audit_queue_.try_dequeue(r)) {
    audit_dropped_.fetch_add(1, std::memory_order_relaxed);
    audit_depth_.fetch_sub(1, std::memory_order_relaxed);
  }
  std::lock_guard state_lock(state_mutex_);
  state_dropped_.fetch_add(state_queue_.size() + state_retry_.size(), std::memory_order_relaxed);
  state_queue_.clear();
  state_retry_.clear();
  state_depth_.store(0, std::memory_order_relaxed);
}

bool StateStore::flush(double timeout_s) {
  std::unique_lock lock(wake_mutex_);
  if (!writer_.joinable() || writer_done_) return false;
  uint64_t mine = ++flush_requests_;
  wake_.notify_one();
  return flushed_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                           [&] { return flushes_done_ >= mine || writer_done_; }) &&
         flushes_done_ >= mine;
}

StateStoreStats StateStore::stats() const {
  StateStoreStats s;
  s.audit_written = audit_written_.load(std::memory_order_relaxed);
  s.audit_dropped = audit_dropped_.load(std::memory_order_relaxed);
  s.state_written = state_written_.load(std::memory_order_relaxed);
  s.state_dropped = state_dropped_.load(std::memory_order_relaxed);
  s.write_errors = write_errors_.load(std::memory_order_relaxed);
  s.audit_pruned = audit_pruned_.load(std::memory_order_relaxed);
  s.audit_queued = audit_depth_.load(std::memory_order_relaxed);
  s.state_queued = state_depth_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace bsc
