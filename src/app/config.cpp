#include "app/config.hpp"

#include <arpa/inet.h>

#include <random>

namespace bsc {

bool is_loopback_host(const std::string& host) {
  in_addr a4;
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6;
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return host == "localhost";
}

std::string Config::validate() const {
  if (!tls && !is_loopback_host(listen_host))
    return "--no-tls serves plain ws:// and is allowed on a loopback address only, not " +
           listen_host;
  if (tls && (cert_file.empty() || key_file.empty() || ca_file.empty()))
    return "--cert, --key and --ca are required (or --no-tls on loopback)";
  if (workers < 1 || workers > 256) return "--workers must be 1..256";
  if (max_connections < 1) return "--max-connections must be at least 1";
  if (hub_vmac.is_unset() || hub_vmac.is_broadcast())
    return "--vmac must not be 00:00:00:00:00:00 or FF:FF:FF:FF:FF:FF";
  if (connect_wait_s < 1 || connect_wait_s > 300) return "--connect-wait must be 1..300 s";
  if (heartbeat_timeout_s < 1 || heartbeat_timeout_s > 3600)
    return "--heartbeat-timeout must be 1..3600 s";
  if (handshake_timeout_s < 1 || handshake_timeout_s > 300)
    return "--handshake-timeout must be 1..300 s";
  if (slow_reader_timeout_s < 0.1 || slow_reader_timeout_s > 3600)
    return "--slow-reader-timeout must be 0.1..3600 s";
  if (max_pending_output < 16384) return "--max-pending-output must be at least 16384";
  if (shutdown_timeout_s < 0.1 || shutdown_timeout_s > 600)
    return "--shutdown-timeout must be 0.1..600 s";
  return "";
}

Vmac random_vmac() {
  std::random_device rd;
  Vmac v;
  for (auto& b : v.bytes) b = uint8_t(rd());
  // Random-48: low nibble of the first octet is 0010 (locally administered, unicast).
  v.bytes[0] = uint8_t((v.bytes[0] & 0xF0) | 0x02);
  return v;
}

Uuid random_uuid() {
  std::random_device rd;
  Uuid u;
  for (auto& b : u.bytes) b = uint8_t(rd());
  u.bytes[6] = uint8_t((u.bytes[6] & 0x0F) | 0x40);  // version 4
  u.bytes[8] = uint8_t((u.bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return u;
}

}  // namespace bsc
