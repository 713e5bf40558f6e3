#include <doctest/doctest.h>

#include <string>

#include "core/flood_log.hpp"

TEST_CASE("each rate-limited warning kind carries the event name its lines use") {
  CHECK(std::string(bsc::flood_log_name(bsc::FloodLog::kRefused)) == "connection_refused");
  CHECK(std::string(bsc::flood_log_name(bsc::FloodLog::kTlsFailed)) == "tls_handshake_failed");
  CHECK(std::string(bsc::flood_log_name(bsc::FloodLog::kUpgradeRefused)) == "upgrade_refused");
  CHECK(std::string(bsc::flood_log_name(bsc::FloodLog::kHandshakeTimeout)) ==
        "handshake_timeout");
}
