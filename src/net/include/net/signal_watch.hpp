// A loop's view of process signals, read from a signalfd instead of an asynchronous handler.
// block() masks the signals in the calling thread before it starts any other: every thread
// inherits the mask, so the kernel keeps the signals pending until the loop reads them. No
// handler ever interrupts a thread mid-call (libuv's handler takes a pipe lock, and a
// sanitizer that defers handlers can lose or stall it), and a signal sent between block()
// and start() waits instead of killing the process or being dropped.
// Threads: block() on the main thread before any other exists; the rest on the loop's thread.
#pragma once
#include <signal.h>
#include <uv.h>

#include <initializer_list>
#include <string>

namespace bsc {

class SignalWatch {
 public:
  using Callback = void (*)(uv_loop_t* loop, void* data, int signum);
  SignalWatch() = default;
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;
  // Discards what is still pending of the watched signals, then restores the old mask.
  ~SignalWatch();

  // Masks the signals (process-wide for threads started afterwards) and opens the signalfd.
  // False with *error if the descriptor cannot be made.
  bool block(std::initializer_list<int> signals, std::string* error);
  // Polls the signalfd on the loop; cb runs once per signal read.
  void start(uv_loop_t* loop, Callback cb, void* data);
  // Stops polling (the handle closes with the loop's next turn).
  void close();

 private:
  static void on_readable(uv_poll_t* handle, int status, int events);

  int fd_ = -1;
  sigset_t set_{};
  sigset_t old_mask_{};
  bool blocked_ = false;
  uv_poll_t poll_{};
  bool polling_ = false;
  Callback cb_ = nullptr;
  void* data_ = nullptr;
};

}  // namespace bsc
