#include "net/tls_context.hpp"

#include <mbedtls/error.h>
#include <psa/crypto.h>

#include <cstdio>
#include <iterator>

namespace bsc {
namespace {

// What bschub-load offers unless told (--ciphersuites), in its order: AES-128-GCM, the suite
// every BACnet/SC node must offer (Std AB.7.4), first.
const uint16_t kClientSuites[] = {MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
                                  MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
                                  MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256};
// The hub's preference unless told (--tls-ciphersuites; keep the two in step). In mbedTLS
// ChaCha20-Poly1305 costs the hub the same as AES-128-GCM per 100-byte frame and ~22% less
// per 1,400-byte frame; AES-128-GCM, which every node offers, catches the rest. README
// "Cipher suites" has the figures.
const uint16_t kServerSuites[] = {MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
                                  MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
                                  MBEDTLS_TLS1_3_AES_256_GCM_SHA384};
// secp256r1 is mandatory (Std AB.7.4) and its key exchange is cheaper in mbedTLS than
// X25519 (840 vs 1,050 us); X25519 is kept for clients that offer only it. A TLS 1.3 server
// takes the client's key share when it is in this list, so the order matters only for the
// client's own offer and for a HelloRetryRequest (see README "Reconnect storms").
const uint16_t kDefaultGroups[] = {MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                   MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
                                   MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1};
const char* kAlpn[] = {"http/1.1", nullptr};

bool file_readable(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::fclose(f);
  return true;
}

}  // namespace

namespace {

struct NamedId {
  const char* name;
  uint16_t id;
};

// "a,b,c" -> ids in that order; false on an unknown or empty name or an empty list, and on a
// repeat when `repeats_are_typos`.
bool parse_named_ids(const std::string& list, const NamedId* table, size_t table_size,
                     bool repeats_are_typos, std::vector<uint16_t>* out) {
  out->clear();
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    const std::string name = list.substr(pos, end - pos);
    const NamedId* hit = nullptr;
    for (size_t i = 0; i < table_size && !hit; ++i)
      if (name == table[i].name) hit = &table[i];
    if (!hit) return false;
    for (uint16_t seen : *out)
      if (seen == hit->id && repeats_are_typos) return false;
    out->push_back(hit->id);
    pos = end + 1;
  }
  return !out->empty();
}

const NamedId kGroupNames[] = {
    {"p256", MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1},
    {"secp256r1", MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1},
    {"x25519", MBEDTLS_SSL_IANA_TLS_GROUP_X25519},
    {"p384", MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1},
    {"secp384r1", MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1},
};
const NamedId kSuiteNames[] = {
    {"aes128", MBEDTLS_TLS1_3_AES_128_GCM_SHA256},
    {"aes256", MBEDTLS_TLS1_3_AES_256_GCM_SHA384},
    {"chacha20", MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256},
};

}  // namespace

bool parse_tls_groups(const std::string& list, std::vector<uint16_t>* out) {
  return parse_named_ids(list, kGroupNames, std::size(kGroupNames), false, out);
}

bool parse_tls_ciphersuites(const std::string& list, std::vector<uint16_t>* out) {
  // A repeated suite is a typo, not a preference.
  return parse_named_ids(list, kSuiteNames, std::size(kSuiteNames), true, out);
}

std::string tls_error_text(int code) {
  char buf[160];
  mbedtls_strerror(code, buf, sizeof buf);
  return buf;
}

TlsContext::~TlsContext() {
  one_suite_.clear();
  if (!initialised_) return;
  mbedtls_ssl_config_free(&conf_);
  if (tickets_) mbedtls_ssl_ticket_free(&ticket_);
  mbedtls_pk_free(&key_);
  mbedtls_x509_crt_free(&ca_);
  mbedtls_x509_crt_free(&cert_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

bool TlsContext::init(Role role, const std::string& cert_file, const std::string& key_file,
                      const std::string& ca_file, std::string* error,
                      const TlsOptions& options) {
  role_ = role;
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_x509_crt_init(&cert_);
  mbedtls_x509_crt_init(&ca_);
  mbedtls_pk_init(&key_);
  mbedtls_ssl_config_init(&conf_);
  initialised_ = true;

  // TLS 1.3 in mbedTLS 3.6 runs its key schedule through PSA.
  if (psa_crypto_init() != PSA_SUCCESS) {
    *error = "cannot initialise PSA crypto";
    return false;
  }
  static const char kPers[] = "bschub";
  int rc = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                 reinterpret_cast<const unsigned char*>(kPers), sizeof kPers);
  if (rc != 0) {
    *error = "cannot seed the random generator: " + tls_error_text(rc);
    return false;
  }
  for (const auto* f : {&cert_file, &key_file, &ca_file}) {
    if (!file_readable(*f)) {
      *error = "cannot read " + *f;
      return false;
    }
  }
  if ((rc = mbedtls_x509_crt_parse_file(&cert_, cert_file.c_str())) != 0) {
    *error = "bad certificate " + cert_file + ": " + tls_error_text(rc);
    return false;
  }
  if ((rc = mbedtls_pk_parse_keyfile(&key_, key_file.c_str(), nullptr, mbedtls_ctr_drbg_random,
                                     &drbg_)) != 0) {
    *error = "bad private key " + key_file + ": " + tls_error_text(rc);
    return false;
  }
  if ((rc = mbedtls_pk_check_pair(&cert_.pk, &key_, mbedtls_ctr_drbg_random, &drbg_)) != 0) {
    *error = "private key " + key_file + " does not match certificate " + cert_file;
    return false;
  }
  if ((rc = mbedtls_x509_crt_parse_file(&ca_, ca_file.c_str())) != 0) {
    *error = "bad CA certificate " + ca_file + ": " + tls_error_text(rc);
    return false;
  }

  if (options.session_tickets && role == Role::kServer) {
    if (options.ticket_lifetime_s < 1 || options.ticket_lifetime_s > 604800) {
      *error = "ticket lifetime must be 1..604800 s (TLS 1.3 caps it at 7 days)";
      return false;
    }
    mbedtls_ssl_ticket_init(&ticket_);
    tickets_ = true;
    if ((rc = mbedtls_ssl_ticket_setup(&ticket_, mbedtls_ctr_drbg_random, &drbg_,
                                       MBEDTLS_CIPHER_AES_256_GCM,
                                       options.ticket_lifetime_s)) != 0) {
      *error = "TLS session tickets: " + tls_error_text(rc);
      return false;
    }
  }
  session_tickets_ = options.session_tickets;
  if (options.groups.empty()) {
    groups_.assign(std::begin(kDefaultGroups), std::end(kDefaultGroups));
  } else {
    groups_ = options.groups;
  }
  groups_.push_back(0);
  if (!options.ciphersuites.empty()) {
    suites_.assign(options.ciphersuites.begin(), options.ciphersuites.end());
  } else if (role == Role::kServer) {
    suites_.assign(std::begin(kServerSuites), std::end(kServerSuites));
  } else {
    suites_.assign(std::begin(kClientSuites), std::end(kClientSuites));
  }
  suites_.push_back(0);
  if (!configure(&conf_, suites_.data(), error)) return false;
  // Server preference (config_for): one config per suite; with one suite conf_ is that.
  if (role == Role::kServer && suites_.size() > 2) {
    for (size_t i = 0; i + 1 < suites_.size(); ++i) {
      auto one = std::make_unique<OneSuite>();
      one->suite[0] = suites_[i];
      one->suite[1] = 0;
      if (!configure(&one->conf, one->suite, error)) return false;
      one_suite_.push_back(std::move(one));
    }
  }
  return true;
}

const mbedtls_ssl_config* TlsContext::config_for(const ClientHelloPeek& hello) const {
  for (const auto& one : one_suite_)
    if (hello.offers(uint16_t(one->suite[0]))) return &one->conf;
  return &conf_;
}

bool TlsContext::allows_any_of(const ClientHelloPeek& hello) const {
  for (size_t i = 0; i + 1 < suites_.size(); ++i)
    if (hello.offers(uint16_t(suites_[i]))) return true;
  return false;
}

// Everything but the suite list is the same for every config of this context.
bool TlsContext::configure(mbedtls_ssl_config* conf, const int* suites, std::string* error) {
  int rc;
  int endpoint = role_ == Role::kServer ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT;
  if ((rc = mbedtls_ssl_config_defaults(conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
    *error = "TLS config: " + tls_error_text(rc);
    return false;
  }
  // BACnet/SC requires TLS 1.3 (Std AB.7.4): a TLS 1.2 ClientHello is refused.
  mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
  mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
  // Mutual authentication: the peer's certificate must be signed by our issuer(s).
  mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(conf, &ca_, nullptr);
  mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &drbg_);
  mbedtls_ssl_conf_ciphersuites(conf, suites);
  mbedtls_ssl_conf_groups(conf, groups_.data());
  // Every key exchange includes a fresh (EC)DHE, resumption too (psk_dhe_ke): a resumed
  // session stays forward secret. Pure psk_ke would save ~1.4 ms per side, but mbedTLS
  // prefers (EC)DHE whenever a client also sends a key share, and OpenSSL-based nodes offer
  // psk_dhe_ke only, so it would buy nothing for real nodes.
  mbedtls_ssl_conf_tls13_key_exchange_modes(conf,
                                            MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ALL);
  if (tickets_) {
    mbedtls_ssl_conf_session_tickets_cb(conf, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
                                        &ticket_);
    // One ticket per full handshake: a node reconnects with one session at a time.
    mbedtls_ssl_conf_new_session_tickets(conf, 1);
  } else if (session_tickets_ && role_ == Role::kClient) {
    mbedtls_ssl_conf_session_tickets(conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
  } else if (role_ == Role::kServer) {
    mbedtls_ssl_conf_new_session_tickets(conf, 0);
  }
  if ((rc = mbedtls_ssl_conf_own_cert(conf, &cert_, &key_)) != 0) {
    *error = "TLS own certificate: " + tls_error_text(rc);
    return false;
  }
  if ((rc = mbedtls_ssl_conf_alpn_protocols(conf, kAlpn)) != 0) {
    *error = "TLS ALPN: " + tls_error_text(rc);
    return false;
  }
  return true;
}

}  // namespace bsc
