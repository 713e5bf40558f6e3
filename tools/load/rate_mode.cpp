#include "rate_mode.hpp"

#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.hpp"
#include "shard.hpp"
#include "traffic_check.hpp"

namespace bsc::load {
namespace {
constexpr size_t kMaxBacklog = 4 << 20;  // a node's unsent octets before sends are skipped
constexpr uint64_t kMaxBurst = 4096;     // sends per pump call, so reads get their turn
constexpr uint64_t kSpinNs = 20'000;     // closer than this: spin instead of sleeping
}  // namespace

RateMode::RateMode(Shard& shard) : Mode(shard), tx_(shard.size(), 0), rx_(shard.size()) {}

void RateMode::start(uint64_t t0_ns) {
  for (uint32_t i = 0; i + 1 < shard_.size(); i += 2) {
    if (!shard_.node(i).connected() || !shard_.node(i + 1).connected()) continue;
    senders_.push_back(i);
    senders_.push_back(i + 1);
  }
  uint64_t all = shard_.ctx().connected_at_start.load(std::memory_order_acquire);
  if (senders_.empty() || all == 0) return;
  double shard_rate = shard_.options().rate * double(senders_.size()) / double(all);
  interval_ns_ = 1e9 / shard_rate;
  // Stagger shards a little so they do not all send at the same instant.
  t0_ = t0_ns + uint64_t(interval_ns_ * double(shard_.id() % 7) / 7.0);
  due_ = t0_;
  tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd_ < 0) return;
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // this (shard) thread: wake on time
  sending_ = true;
  uv_idle_init(shard_.loop(), &idle_);
  uv_poll_init(shard_.loop(), &poll_, tfd_);
  idle_.data = poll_.data = this;
  uv_poll_start(&poll_, UV_READABLE, on_timerfd);
  handles_ = true;
  pump(now_ns());
}

void RateMode::arm(uint64_t due_ns) {
  itimerspec its{};
  its.it_value.tv_sec = time_t(due_ns / kNsPerSec);
  its.it_value.tv_nsec = long(due_ns % kNsPerSec);
  timerfd_settime(tfd_, TFD_TIMER_ABSTIME, &its, nullptr);
}

void RateMode::on_idle(uv_idle_t* h) {
  auto* m = static_cast<RateMode*>(h->data);
  m->pump(now_ns());
}

void RateMode::on_timerfd(uv_poll_t* h, int status, int events) {
  (void)status, (void)events;
  auto* m = static_cast<RateMode*>(h->data);
  uint64_t expirations;
  ssize_t rc = read(m->tfd_, &expirations, sizeof expirations);
  (void)rc;
  m->pump(now_ns());
}

void RateMode::pump(uint64_t now) {
  uint64_t burst = 0;
  while (sending_ && due_ <= now && burst < kMaxBurst) {
    uint32_t local = senders_[k_ % senders_.size()];
    Node& from = shard_.node(local);
    Node& to = shard_.node(local ^ 1);
    if (from.backlog() > kMaxBacklog) {
      bump(shard_.stats().skipped);
    } else if (shard_.send_npdu(from, to.vmac(), shard_.pick_size(), Kind::kRate, tx_[local],
                                due_)) {
      ++tx_[local];
      ++sent_;
    }
    ++k_;
    ++burst;
    due_ = t0_ + uint64_t(double(k_) * interval_ns_);
  }
  if (!sending_) return;
  if (due_ <= now || due_ - now < kSpinNs) {
    uv_idle_start(&idle_, on_idle);
  } else {
    uv_idle_stop(&idle_);
    arm(due_);
  }
}

void RateMode::stop_sending() {
  sending_ = false;
  if (handles_) {
    uv_idle_stop(&idle_);
    uv_poll_stop(&poll_);
  }
}

void RateMode::on_npdu(Node& to, const Message& m, const uint8_t* data, uint64_t now_ns) {
  uint32_t local = to.local_index();
  if ((local ^ 1) >= shard_.size()) {
    count_stray(shard_, m);
    return;
  }
  PayloadInfo info;
  if (!read_partner_message(shard_, shard_.node(local ^ 1), m, data, Kind::kRate, &info)) return;
  if (!book_seq(shard_, rx_[local], info.seq)) return;
  ++received_;
  shard_.stats().latency.record(now_ns > info.ts_ns ? now_ns - info.ts_ns : 0);
}

void RateMode::finish() {
  stop_sending();
  uint64_t lost = 0;
  for (uint32_t i = 0; i < tx_.size(); ++i) {
    if ((i ^ 1) < rx_.size()) lost += missing(tx_[i], rx_[i ^ 1].unique());
  }
  bump(shard_.stats().lost, lost);
  if (handles_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
    // The fd goes once libuv has let go of it.
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_),
             [](uv_handle_t* h) { close(static_cast<RateMode*>(h->data)->tfd_); });
    handles_ = false;
  }
}

}  // namespace bsc::load
