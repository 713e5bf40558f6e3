// Wakes a loop from other threads: an eventfd the loop polls, and a flag so that a burst of
// signals costs one write() until the loop has taken the wake-up. signal() stays safe after
// close() (the fd lives until the destructor).
// Used for a worker's inbox and a load-tool shard's wake-ups instead of uv_async_t: when
// libuv's receiving side finds a sender between setting its flag and writing its eventfd, it
// spins and then sched_yield()s until the sender finishes. With two workers on one core a preempted sender made the other worker spin
// through its time slice (hundreds of sched_yield calls a second under echo load).
// Threads: signal() from any thread; init/close and the callback on the [owner] loop.
#pragma once
#include <uv.h>

#include <atomic>

namespace bsc {

class WakeFd {
 public:
  using Callback = void (*)(void* data);
  WakeFd() = default;
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  ~WakeFd();

  // False if no eventfd could be made (out of descriptors).
  bool init(uv_loop_t* loop, Callback cb, void* data);
  // Any thread: the callback runs on the owner loop after this call (at least once).
  void signal();
  // Owner loop: stops polling; the fd is closed when the handle is (or in the destructor).
  void close();
  // Like uv_unref: the wake-up alone does not keep the loop running.
  void unref();

 private:
  static void on_readable(uv_poll_t* handle, int status, int events);

  int fd_ = -1;
  uv_poll_t poll_{};
  bool polling_ = false;
  Callback cb_ = nullptr;
  void* data_ = nullptr;
  std::atomic<bool> pending_{false};  // a write is on its way or unread: no need for another
};

}  // namespace bsc
