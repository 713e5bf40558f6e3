// FloodLog: the kinds of per-connection warning a worker rate-limits (one LogLimiter each,
// see util/log_limiter.hpp), with the event name each kind is logged under.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bsc {

// X(enumerator, the event name its lines and its log_rate_limited notice carry)
#define BSC_FLOOD_LOG_MAP(X)                \
  X(kRefused, "connection_refused")         \
  X(kTlsFailed, "tls_handshake_failed")     \
  X(kUpgradeRefused, "upgrade_refused")     \
  X(kHandshakeTimeout, "handshake_timeout")

enum class FloodLog : uint8_t {
#define BSC_X(kind, event) kind,
  BSC_FLOOD_LOG_MAP(BSC_X)
#undef BSC_X
  kCount
};

inline const char* flood_log_name(FloodLog kind) {
  static constexpr const char* kNames[] = {
#define BSC_X(kind, event) event,
      BSC_FLOOD_LOG_MAP(BSC_X)
#undef BSC_X
  };
  return kNames[size_t(kind)];
}

}  // namespace bsc
