#include "core/config.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "bsc/bacnet/services_dcc.hpp"
#include "core/conn_ref.hpp"
#include "net/tls_context.hpp"

namespace bsc {

bool is_loopback_host(const std::string& host) {
  in_addr a4;
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6;
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return host == "localhost";
}

std::string default_device_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "bschub";
  return std::string("bschub-") + host;
}

namespace {

// BACnet CharacterStrings are sent as UTF-8 (character set 0): a configured name must be
// valid UTF-8 to be sent as is. Overlong forms and surrogates are refused too.
bool valid_utf8(const std::string& s) {
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};  // shortest form per length
  for (size_t i = 0; i < s.size();) {
    auto c = uint8_t(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 4;
    if (n == 4 || n >= s.size() - i) return false;  // a bad lead octet, or cut short
    uint32_t cp = n == 0 ? c : c & (0x3Fu >> n);
    for (size_t k = 1; k <= n; ++k) {
      auto cc = uint8_t(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// wss://HOST[:PORT][/PATH]: printable ASCII without spaces, a host, a port 1..65535 if one
// is given. The hub does not resolve it: nodes use it to reach the hub from where they are.
bool valid_accept_uri(const std::string& uri) {
  constexpr std::string_view kScheme = "wss://";
  if (uri.size() > Config::kMaxAcceptUriOctets || !uri.starts_with(kScheme)) return false;
  for (char c : uri)
    if (c <= ' ' || c > '~') return false;
  std::string_view rest = std::string_view(uri).substr(kScheme.size());
  std::string_view authority = rest.substr(0, rest.find('/'));
  size_t colon = authority.rfind(':');
  // An IPv6 literal is in brackets: a colon inside them is no port separator.
  if (colon != std::string_view::npos && authority.find(']', colon) != std::string_view::npos)
    colon = std::string_view::npos;
  std::string_view host = authority.substr(0, colon);
  if (host.empty() || host == "[]") return false;
  if (colon == std::string_view::npos) return true;
  std::string_view port = authority.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  unsigned n = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + unsigned(c - '0');
  }
  return n >= 1 && n <= 65535;
}

// Written so that NaN (which "nan" on the command line or in the file parses to) fails.
bool in_range(double v, double lo, double hi) { return v >= lo && v <= hi; }

}  // namespace

const char* identity_binding_name(IdentityBinding b) {
  switch (b) {
    case IdentityBinding::kOff: return "off";
    case IdentityBinding::kPin: return "pin";
    case IdentityBinding::kCertificate: return "certificate";
  }
  return "?";
}

bool parse_identity_binding(std::string_view text, IdentityBinding* out) {
  for (IdentityBinding b : {IdentityBinding::kOff, IdentityBinding::kPin, IdentityBinding::kCertificate}) {
    if (text == identity_binding_name(b)) {
      *out = b;
      return true;
    }
  }
  return false;
}

std::string Config::validate() const {
  if (!tls && !is_loopback_host(listen_host))
    return "--no-tls serves plain ws:// and is allowed on a loopback address only, not " +
           listen_host;
  if (tls && (cert_file.empty() || key_file.empty() || ca_file.empty()))
    return "--cert, --key and --ca are required (or --no-tls on loopback)";
  if (!tls && !crl_files.empty())
    return "--crl revokes TLS client certificates and cannot go with --no-tls";
  if (crl_files.size() > kMaxCrlFiles)
    return "--crl may be given at most " + std::to_string(kMaxCrlFiles) + " times";
  for (const std::string& f : crl_files)
    if (f.empty()) return "--crl wants a file name, not an empty string";
  if (workers < 1 || workers > kMaxWorkers)
    return "--workers must be 1.." + std::to_string(kMaxWorkers);
  // The upper bounds also catch "-1", which CLI11 2.1 wraps to a huge unsigned value.
  if (max_connections < 1 || max_connections > 1000000)
    return "--max-connections must be 1..1000000";
  if (hub_vmac.is_unset() || hub_vmac.is_broadcast())
    return "--vmac must not be 00:00:00:00:00:00 or FF:FF:FF:FF:FF:FF";
  if (!in_range(connect_wait_s, 1, 300)) return "--connect-wait must be 1..300 s";
  if (!in_range(heartbeat_timeout_s, 1, 3600))
    return "--heartbeat-timeout must be 1..3600 s";
  if (idle_trim_s != 0 && !in_range(idle_trim_s, 0.1, 3600))
    return "--idle-trim must be 0 (off) or 0.1..3600 s";
  if (!in_range(handshake_timeout_s, 1, 300))
    return "--handshake-timeout must be 1..300 s";
  if (!in_range(disconnect_wait_s, 0.1, 300)) return "--disconnect-wait must be 0.1..300 s";
  if (!in_range(slow_reader_timeout_s, 0.1, 3600))
    return "--slow-reader-timeout must be 0.1..3600 s";
  if (history_size > 100000) return "--history-size must be 0..100000";
  if (!in_range(history_age_s, 1, 31536000)) return "--history-age must be 1..31536000 s";
  if (max_pending_output < 16384 || max_pending_output > (size_t(1) << 30))
    return "--max-pending-output must be 16384..1073741824";
  if (max_handshakes < 1 || max_handshakes > 1000000)
    return "--max-handshakes must be 1..1000000";
  if (!in_range(handshake_budget_ms, 0, 1000)) return "--handshake-budget must be 0..1000 ms";
  if (!in_range(source_rate, 0, 1e6)) return "--source-rate must be 0..1000000 (0: no limit)";
  if (!in_range(source_burst, 1, 1e6)) return "--source-burst must be 1..1000000";
  std::vector<uint16_t> groups;
  if (!tls_groups.empty() && !parse_tls_groups(tls_groups, &groups))
    return "--tls-groups wants names from " + tls_group_names() +
           " (comma-separated), not '" + tls_groups + "'";
  std::vector<uint16_t> suites;
  if (!parse_tls_ciphersuites(tls_ciphersuites, &suites))
    return "--tls-ciphersuites wants names from aes128, aes256, chacha20 (comma-separated, "
           "each once), not '" + tls_ciphersuites + "'";
  if (ticket_lifetime_s < 1 || ticket_lifetime_s > 604800)
    return "--ticket-lifetime must be 1..604800 s (TLS 1.3 caps tickets at 7 days)";
  if (known_certificates > 10000000) return "--known-certificates must be 0..10000000";
  if (!ticket_key_file.empty() && (!tls || !tls_tickets))
    return "--ticket-key-file needs TLS session tickets (it is set with --no-tls or "
           "--no-tls-tickets)";
  if (!in_range(shutdown_timeout_s, 0.1, 600)) return "--shutdown-timeout must be 0.1..600 s";
  if (!in_range(audit_max_age_s, 60, 315360000))
    return "--audit-max-age must be 60..315360000 s (ten years)";
  if (audit_max_rows < 1 || audit_max_rows > 1000000000)
    return "--audit-max-rows must be 1..1000000000";
  if (audit_queue < 16 || audit_queue > 16777216) return "--audit-queue must be 16..16777216";
  if (!admin_socket.empty() && admin_socket[0] != '/')
    return "--admin-socket must be an absolute path, not '" + admin_socket + "'";
  if (admin_socket.size() > kMaxAdminSocketPath)
    return "--admin-socket must be at most " + std::to_string(kMaxAdminSocketPath) +
           " octets (a Unix socket address)";
  if (!admin_group.empty() && admin_socket.empty()) return "--admin-group needs --admin-socket";
  if (max_pins < 1 || max_pins > 10000000) return "--max-pins must be 1..10000000";
  return validate_device();
}

std::string Config::validate_device() const {
  // -1 is the built-in "no device"; the command line and the file cannot tell it apart.
  if (device_instance < kNoDevice || device_instance > kMaxDeviceInstance)
    return "--device-instance must be 0.." + std::to_string(kMaxDeviceInstance);
  if (network_number > 65534) return "--network-number must be 0..65534";
  if (vendor_identifier > 65535) return "--vendor-identifier must be 0..65535";
  if (device_segment_timeout_ms < 10 || device_segment_timeout_ms > 60000)
    return "--device-segment-timeout must be 10..60000 ms";
  if (device_apdu_retries > 10) return "--device-apdu-retries must be 0..10";
  // Each string goes whole into one APDU of 1476 octets; 255 leaves room for the rest.
  const std::pair<const char*, const std::string*> texts[] = {
      {"--device-name", &device_name}, {"--vendor-name", &vendor_name},
      {"--model-name", &model_name},   {"--description", &description},
      {"--location", &location}};
  for (const auto& [option, text] : texts) {
    if (text->size() > kMaxDeviceText)
      return std::string(option) + " must be at most " + std::to_string(kMaxDeviceText) +
             " octets";
    if (!valid_utf8(*text)) return std::string(option) + " must be UTF-8 text";
  }
  if (!dcc_password.empty() &&
      (!valid_utf8(dcc_password) || !bacnet::valid_dcc_password_length(dcc_password)))
    return "--dcc-password must be UTF-8 text of 1.." +
           std::to_string(bacnet::kMaxDccPasswordChars) + " characters";
  if (accept_uris.size() > kMaxAcceptUris)
    return "--accept-uri may be given at most " + std::to_string(kMaxAcceptUris) + " times";
  for (const std::string& uri : accept_uris)
    if (!valid_accept_uri(uri))
      return "--accept-uri wants wss://HOST[:PORT][/PATH] of at most " +
             std::to_string(kMaxAcceptUriOctets) + " octets, not '" + uri + "'";
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
