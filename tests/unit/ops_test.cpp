#include <doctest/doctest.h>

#include "core/stats.hpp"
#include "core/tls_failure.hpp"
#include "util/log_limiter.hpp"

using bsc::HandshakeFailure;

TEST_CASE("handshake latencies land in the first bucket that holds them") {
  bsc::WorkerStats s;
  bsc::observe_handshake(s, 500);        // 0.5 ms -> le 1 ms
  bsc::observe_handshake(s, 1000);       // exactly 1 ms -> le 1 ms (bounds are inclusive)
  bsc::observe_handshake(s, 1001);       // -> le 2.5 ms
  bsc::observe_handshake(s, 60000000);   // 60 s -> +Inf
  CHECK(s.handshake_buckets[0].load() == 2);
  CHECK(s.handshake_buckets[1].load() == 1);
  CHECK(s.handshake_buckets[bsc::kHandshakeBuckets].load() == 1);
  CHECK(s.handshake_sum_us.load() == 500 + 1000 + 1001 + 60000000);
}

TEST_CASE("outgoing frames are counted per BVLC function, unknown codes in the last slot") {
  bsc::WorkerStats s;
  bsc::count_out(s, 0x01, 100);
  bsc::count_out(s, 0x01, 20);
  bsc::count_out(s, 0x0C, 7);
  bsc::count_out(s, 0x42, 9);
  CHECK(s.fn_frames_out[1].load() == 2);
  CHECK(s.fn_bytes_out[1].load() == 120);
  CHECK(s.fn_frames_out[0x0C].load() == 1);
  CHECK(s.fn_frames_out[bsc::kFunctionSlots - 1].load() == 1);
  CHECK(s.fn_bytes_out[bsc::kFunctionSlots - 1].load() == 9);
}

TEST_CASE("TLS failure kinds map to the bounded metric reasons") {
  using F = bsc::TlsSession::Failure;
  CHECK(bsc::classify_tls_failure(F::kNoClientCertificate) ==
        HandshakeFailure::tls_no_client_certificate);
  CHECK(bsc::classify_tls_failure(F::kVersion) == HandshakeFailure::tls_version);
  CHECK(bsc::classify_tls_failure(F::kCertificateRejected) ==
        HandshakeFailure::tls_certificate_rejected);
  CHECK(bsc::classify_tls_failure(F::kNoCommonParameters) ==
        HandshakeFailure::tls_no_common_parameters);
  CHECK(bsc::classify_tls_failure(F::kOther) == HandshakeFailure::tls_other);
}

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
