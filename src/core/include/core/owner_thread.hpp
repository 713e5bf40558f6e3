// OwnerThread: which thread owns a worker's loop, for the debug check that [owner] entry
// points (Worker, ConnectionTable, Mailbox) are not called from another thread:
//   assert(owner.current());
// compiled out with NDEBUG (release builds); the sanitizer builds keep asserts
// (-Db_ndebug=false), so a cross-thread call fails loudly in the ASan/TSan runs.
//
// Threads: bind() by whoever takes the loop over: the loop thread as it starts, the thread
// that runs the loop itself (Worker::listen), the destructor's once the loop thread has
// ended. current() from any thread (a relaxed load: the binding happens-before every
// owner-side call through the thread start or join that hands the loop over).
#pragma once
#include <atomic>
#include <thread>

namespace bsc {

class OwnerThread {
 public:
  void bind() { id_.store(std::this_thread::get_id(), std::memory_order_relaxed); }
  // True on the owner thread, and before any bind() ([startup]: the main thread builds and
  // wires the worker before a loop thread exists).
  bool current() const {
    std::thread::id owner = id_.load(std::memory_order_relaxed);
    return owner == std::thread::id() || owner == std::this_thread::get_id();
  }

 private:
  std::atomic<std::thread::id> id_{};
};

}  // namespace bsc
