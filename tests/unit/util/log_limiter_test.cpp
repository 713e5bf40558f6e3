#include <doctest/doctest.h>

#include "util/log.hpp"
#include "util/log_limiter.hpp"

TEST_CASE("the log limiter lets a burst through per window, then stays quiet") {
  bsc::log::g_level = int(bsc::log::Level::kOff);  // keep the notice out of the test output
  bsc::LogLimiter lim;
  uint64_t t = 1000000;
  for (uint32_t i = 0; i < bsc::LogLimiter::kBurst; ++i) CHECK(lim.allow(t, "x"));
  CHECK_FALSE(lim.allow(t, "x"));
  CHECK_FALSE(lim.allow(t + bsc::LogLimiter::kWindowMs - 1, "x"));
  CHECK(lim.allow(t + bsc::LogLimiter::kWindowMs, "x"));  // a new window
  bsc::log::g_level = int(bsc::log::Level::kInfo);
}
