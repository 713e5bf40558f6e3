// TLS 1.3 configuration shared by all sessions of one role (hub server or load client):
// own certificate + key, the trusted issuer(s), RNG. mbedTLS 3.6.
// Threads: built at [startup]; afterwards read-only and shared by every worker (the RNG is
// mbedTLS's thread-safe CTR-DRBG).
#pragma once
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bsc {

// Handshake-cost settings (issue: reconnect storms).
struct TlsOptions {
  // TLS 1.3 session tickets. Server: issue one per full handshake and accept them, so a
  // returning node skips both certificate signatures (~2.1 ms of the ~3.2 ms of ECC). Client
  // (bschub-load): keep the tickets it gets so that a later session can resume.
  bool session_tickets = true;
  // Server: a ticket is accepted for this long; the ticket key also rotates at this period
  // (mbedTLS keeps the current and the previous key), so no key outlives 2x this.
  uint32_t ticket_lifetime_s = 3600;
  // Key exchange groups in preference order (IANA ids); empty: kDefaultGroups.
  std::vector<uint16_t> groups;
};

class TlsContext {
 public:
  enum class Role { kServer, kClient };
  TlsContext() = default;
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Loads PEM files and builds the config: TLS 1.3 only, peer certificate required and
  // verified against `ca_file` only (no system trust store), ALPN http/1.1.
  // Returns false and sets *error to one clear sentence on failure.
  bool init(Role role, const std::string& cert_file, const std::string& key_file,
            const std::string& ca_file, std::string* error, const TlsOptions& options = {});

  const mbedtls_ssl_config* config() const { return &conf_; }
  Role role() const { return role_; }

 private:
  Role role_ = Role::kServer;
  bool initialised_ = false;
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_x509_crt cert_;
  mbedtls_x509_crt ca_;
  mbedtls_pk_context key_;
  mbedtls_ssl_config conf_;
  bool tickets_ = false;
  mbedtls_ssl_ticket_context ticket_;  // server: ticket keys (own mutex: shared by workers)
  std::vector<uint16_t> groups_;       // zero-terminated, referenced by conf_
};

// Parses "p256,x25519,p384" (names in preference order) into IANA ids; false if a name is
// unknown.
bool parse_tls_groups(const std::string& list, std::vector<uint16_t>* out);

// Text of an mbedTLS error code ("X509 - Certificate verification failed ...").
std::string tls_error_text(int code);

}  // namespace bsc
