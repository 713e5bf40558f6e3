// WakeFd: no signal is lost. A producer thread publishes items (a counter) and signals after
// each; the loop takes what was published in the callback. A lost wake-up would leave the
// last items untaken with the loop asleep, which the 10 s guard timer turns into a failure.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "net/wake_fd.hpp"

namespace {

struct Consumer {
  std::atomic<int> published{0};
  bsc::WakeFd wake;
  uv_timer_t guard;
  uv_loop_t* loop = nullptr;
  int expected = 0;
  int received = 0;
  int callbacks = 0;
  bool monotonic = true;

  static void on_wake(void* self) {
    auto* c = static_cast<Consumer*>(self);
    ++c->callbacks;
    int now = c->published.load(std::memory_order_acquire);
    if (now < c->received) c->monotonic = false;
    c->received = now;
    if (c->received == c->expected) uv_stop(c->loop);
  }
};

}  // namespace

TEST_CASE("WakeFd: every item signalled from another thread is taken, with coalesced wake-ups") {
  constexpr int kItems = 200000;
  uv_loop_t loop;
  uv_loop_init(&loop);
  Consumer c;
  c.loop = &loop;
  c.expected = kItems;
  REQUIRE(c.wake.init(&loop, Consumer::on_wake, &c));
  uv_timer_init(&loop, &c.guard);
  uv_timer_start(&c.guard, [](uv_timer_t* t) { uv_stop(t->loop); }, 10000, 0);

  std::thread producer([&] {
    for (int i = 1; i <= kItems; ++i) {
      c.published.store(i, std::memory_order_release);
      c.wake.signal();
    }
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  producer.join();

  CHECK(c.received == kItems);
  CHECK(c.monotonic);
  CHECK(c.callbacks >= 1);
  CHECK(c.callbacks < kItems);  // signals coalesce while a wake-up is pending

  c.wake.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&c.guard), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
