// TLS 1.3 configuration shared by all sessions of one role (hub server or load client):
// own certificate + key, the trusted issuer(s), RNG. mbedTLS 3.6.
// Threads: built at [startup]; afterwards read-only and shared by every worker (the RNG is
// mbedTLS's thread-safe CTR-DRBG).
#pragma once
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <string>

namespace bsc {

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
            const std::string& ca_file, std::string* error);

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
};

// Text of an mbedTLS error code ("X509 - Certificate verification failed ...").
std::string tls_error_text(int code);

}  // namespace bsc
