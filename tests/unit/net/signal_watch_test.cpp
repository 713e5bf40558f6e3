// SignalWatch: a signal sent to the process while it is blocked is neither delivered to a
// handler nor lost: the loop reads it from the signalfd, also when it was sent before the
// loop started polling, and also when it is sent from another thread. After the watch is
// destroyed the old mask is back and a signal still pending then is discarded, not fatal.
#include <doctest/doctest.h>
#include <pthread.h>
#include <signal.h>

#include <thread>
#include <vector>

#include "net/signal_watch.hpp"

namespace {

struct Seen {
  std::vector<int> signals;
  static void on_signal(uv_loop_t* loop, void* self, int signum) {
    static_cast<Seen*>(self)->signals.push_back(signum);
    uv_stop(loop);
  }
};

bool blocked_now(int signum) {
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  return sigismember(&mask, signum) == 1;
}

}  // namespace

TEST_CASE("SignalWatch: signals sent before and after start() reach the loop, in order") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  Seen seen;
  REQUIRE_FALSE(blocked_now(SIGUSR1));
  {
    bsc::SignalWatch watch;
    std::string err;
    REQUIRE(watch.block({SIGUSR1, SIGUSR2}, &err));
    CHECK(blocked_now(SIGUSR1));
    CHECK(blocked_now(SIGUSR2));
    // Before the loop polls: SIGUSR1's default action would end the process if it were not
    // held pending.
    REQUIRE(kill(getpid(), SIGUSR1) == 0);
    watch.start(&loop, Seen::on_signal, &seen);
    uv_timer_t guard;
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, [](uv_timer_t* t) { uv_stop(t->loop); }, 5000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    REQUIRE(seen.signals == std::vector<int>{SIGUSR1});

    // From a thread started after block(): it inherits the mask, so the signal goes to the fd.
    std::thread([] { kill(getpid(), SIGUSR2); }).join();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(seen.signals == std::vector<int>{SIGUSR1, SIGUSR2});

    // Pending when the watch goes: discarded by the destructor instead of ending the process.
    watch.close();
    REQUIRE(kill(getpid(), SIGUSR1) == 0);
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  CHECK_FALSE(blocked_now(SIGUSR1));
  CHECK_FALSE(blocked_now(SIGUSR2));
  CHECK(seen.signals.size() == 2);
  uv_loop_close(&loop);
}
