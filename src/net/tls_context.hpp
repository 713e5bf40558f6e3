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
#include <memory>
#include <string>
#include <vector>

#include "net/client_hello.hpp"

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
  // TLS 1.3 cipher suites (IANA ids), empty: the role's default. Server: the allowed set in
  // the hub's preference order, which wins over the client's (config_for()). Client: the
  // offer, in the client's preference order.
  std::vector<uint16_t> ciphersuites;
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

  // The config with every allowed suite: the client's, and the server's fallback.
  const mbedtls_ssl_config* config() const { return &conf_; }
  // Server: the config for a connection whose ClientHello is `hello`. mbedTLS 3.6 takes the
  // first suite of the CLIENT's list that the config allows, so server preference means a
  // config that allows just one suite: the first of ours the client offers. When the peek
  // could not read the list, or nothing is in common, the full config: mbedTLS then
  // negotiates or fails exactly as without the peek (same alerts, same failure text).
  const mbedtls_ssl_config* config_for(const ClientHelloPeek& hello) const;
  // True if `hello` offers at least one suite this context allows.
  bool allows_any_of(const ClientHelloPeek& hello) const;
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
  bool session_tickets_ = false;       // TlsOptions::session_tickets
  bool tickets_ = false;               // server: ticket_ is set up
  mbedtls_ssl_ticket_context ticket_;  // server: ticket keys (own mutex: shared by workers)
  std::vector<uint16_t> groups_;       // zero-terminated, referenced by conf_
  std::vector<int> suites_;            // preference order, zero-terminated, referenced by conf_

  // Server: a config that allows only `suite` (same certificates, groups, ticket keys).
  struct OneSuite {
    int suite[2];
    mbedtls_ssl_config conf;
    OneSuite() { mbedtls_ssl_config_init(&conf); }
    ~OneSuite() { mbedtls_ssl_config_free(&conf); }
  };
  std::vector<std::unique_ptr<OneSuite>> one_suite_;  // in suites_ order; server, 2+ suites

  bool configure(mbedtls_ssl_config* conf, const int* suites, std::string* error);
};

// Parses "p256,x25519,p384" (names in preference order) into IANA ids; false if a name is
// unknown.
bool parse_tls_groups(const std::string& list, std::vector<uint16_t>* out);

// Parses "aes128,chacha20" (names in preference order, each once) into IANA suite ids:
// aes128 = TLS_AES_128_GCM_SHA256, aes256 = TLS_AES_256_GCM_SHA384, chacha20 =
// TLS_CHACHA20_POLY1305_SHA256. False if a name is unknown or repeated, or the list empty.
bool parse_tls_ciphersuites(const std::string& list, std::vector<uint16_t>* out);

// Text of an mbedTLS error code ("X509 - Certificate verification failed ...").
std::string tls_error_text(int code);

}  // namespace bsc
