#include "net/tls_context.hpp"

#include <mbedtls/error.h>
#include <psa/crypto.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "net/ticket_key_file.hpp"
#include "util/unix_time.hpp"

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
// ALPN: the one protocol a WebSocket hub speaks (config_for: selected only when offered).
const char* kAlpn[] = {"http/1.1", nullptr};

// "0x0403": an IANA id this file has no name for.
std::string hex_id(uint16_t id) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%04x", unsigned(id));
  return hex;
}

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

// Every sound TLS 1.3 group mbedTLS 3.6 implements, cheapest first (hub CPU per handshake
// in docs/tls.md, bench/tls_group_cost.sh): secp256r1 is mandatory (Std AB.7.4) and the
// cheapest in mbedTLS; the rest serve nodes whose policy bans P-256 or wants another
// family. Brainpool is absent from TLS 1.3's group list (RFC 8446 4.2.7), so from here too.
struct Group {
  const char* name;       // --tls-groups name
  const char* iana_name;  // also accepted; used in logs
  uint16_t id;
  bool in_default;        // ffdhe4096 and up: 100-800 ms of hub CPU per handshake
};
const Group kGroups[] = {
    {"p256", "secp256r1", MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, true},
    {"x25519", "x25519", MBEDTLS_SSL_IANA_TLS_GROUP_X25519, true},
    {"p384", "secp384r1", MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, true},
    {"p521", "secp521r1", MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1, true},
    {"x448", "x448", MBEDTLS_SSL_IANA_TLS_GROUP_X448, true},
    {"ffdhe2048", "ffdhe2048", MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE2048, true},
    {"ffdhe3072", "ffdhe3072", MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE3072, true},
    {"ffdhe4096", "ffdhe4096", MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE4096, false},
    {"ffdhe6144", "ffdhe6144", MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE6144, false},
    {"ffdhe8192", "ffdhe8192", MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE8192, false},
};
const NamedId* group_name_table(size_t* n) {
  static const std::vector<NamedId> table = [] {
    std::vector<NamedId> t;
    for (const Group& g : kGroups) {
      t.push_back({g.name, g.id});
      if (std::string(g.name) != g.iana_name) t.push_back({g.iana_name, g.id});
    }
    return t;
  }();
  *n = table.size();
  return table.data();
}
const NamedId kSuiteNames[] = {
    {"aes128", MBEDTLS_TLS1_3_AES_128_GCM_SHA256},
    {"aes256", MBEDTLS_TLS1_3_AES_256_GCM_SHA384},
    {"chacha20", MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256},
};

}  // namespace

bool parse_tls_groups(const std::string& list, std::vector<uint16_t>* out) {
  size_t n;
  const NamedId* table = group_name_table(&n);
  return parse_named_ids(list, table, n, false, out);
}

std::string tls_group_names(bool defaults_only) {
  std::string names;
  for (const Group& g : kGroups) {
    if (defaults_only && !g.in_default) continue;
    if (!names.empty()) names += ',';
    names += g.name;
  }
  return names;
}

const std::vector<uint16_t>& tls_default_groups() {
  static const std::vector<uint16_t> groups = [] {
    std::vector<uint16_t> v;
    for (const Group& g : kGroups)
      if (g.in_default) v.push_back(g.id);
    return v;
  }();
  return groups;
}

std::string tls_group_name(uint16_t id) {
  for (const Group& g : kGroups)
    if (g.id == id) return g.iana_name;
  return hex_id(id);
}

bool parse_tls_ciphersuites(const std::string& list, std::vector<uint16_t>* out) {
  // A repeated suite is a typo, not a preference.
  return parse_named_ids(list, kSuiteNames, std::size(kSuiteNames), true, out);
}

std::shared_ptr<TicketSealer> make_ticket_sealer(const TlsOptions& options, std::string* error) {
  if (options.ticket_lifetime_s < 1 || options.ticket_lifetime_s > 604800) {
    *error = "ticket lifetime must be 1..604800 s (TLS 1.3 caps it at 7 days)";
    return nullptr;
  }
  if (psa_crypto_init() != PSA_SUCCESS) {  // keys live in PSA; idempotent
    *error = "TLS session tickets: the PSA crypto library did not initialise";
    return nullptr;
  }
  auto sealer = std::make_shared<TicketSealer>(options.ticket_lifetime_s);
  std::shared_ptr<const TicketKey> fixed;
  if (!options.ticket_key_file.empty()) {
    fixed = load_ticket_key_file(options.ticket_key_file, unix_now_ms(), error);
    if (!fixed) return nullptr;
  }
  std::string why;
  if (!sealer->init(std::move(fixed), &why)) {
    *error = "TLS session tickets: " + why;
    return nullptr;
  }
  return sealer;
}

std::string tls_error_text(int code) {
  char buf[160];
  mbedtls_strerror(code, buf, sizeof buf);
  return buf;
}

TlsContext::~TlsContext() {
  variants_.clear();
  if (!initialised_) return;
  sealer_.reset();
  mbedtls_pk_free(&key_);
  mbedtls_x509_crl_free(&crl_);
  mbedtls_x509_crt_free(&ca_);
  mbedtls_x509_crt_free(&no_anchor_);
  mbedtls_x509_crt_free(&cert_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

bool TlsContext::init(Role role, const std::string& cert_file, const std::string& key_file,
                      const std::string& ca_file, std::string* error,
                      const TlsOptions& options, std::shared_ptr<TicketSealer> sealer) {
  role_ = role;
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_x509_crt_init(&cert_);
  mbedtls_x509_crt_init(&ca_);
  mbedtls_x509_crt_init(&no_anchor_);
  mbedtls_x509_crl_init(&crl_);
  mbedtls_pk_init(&key_);
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
  if (!load_crls(options.crl_files, error)) return false;

  if (role == Role::kServer) known_ = std::make_unique<KnownCertificates>(options.known_certificates);
  if (options.session_tickets && role == Role::kServer) {
    // Our own sealing, not mbedtls_ssl_ticket_*: the ticket must carry the certificate.
    sealer_ = sealer ? std::move(sealer) : make_ticket_sealer(options, error);
    if (!sealer_) return false;
  }
  session_tickets_ = options.session_tickets;
  if (options.groups.empty()) {
    groups_ = tls_default_groups();
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
  if (!add_variant(suites_, error)) return false;
  suites_.push_back(0);
  // Server preference (config_for): one variant per suite; with one suite [0] is that.
  if (role == Role::kServer && suites_.size() > 2) {
    for (size_t i = 0; i + 1 < suites_.size(); ++i)
      if (!add_variant({suites_[i]}, error)) return false;
  }
  return true;
}

bool TlsContext::add_variant(std::vector<int> suites, std::string* error) {
  auto v = std::make_unique<Variant>();
  v->suites = std::move(suites);
  v->suites.push_back(0);
  if (!configure(&v->alpn, v->suites.data(), true, error)) return false;
  if (role_ == Role::kServer && !configure(&v->no_alpn, v->suites.data(), false, error))
    return false;
  variants_.push_back(std::move(v));
  return true;
}

const mbedtls_ssl_config* TlsContext::config_for(const ClientHelloPeek& hello) const {
  const Variant* pick = variants_[0].get();
  for (size_t i = 1; i < variants_.size(); ++i)
    if (hello.offers(uint16_t(variants_[i]->suites[0]))) {
      pick = variants_[i].get();
      break;
    }
  return hello.offers_alpn("http/1.1") ? &pick->alpn : &pick->no_alpn;
}

bool TlsContext::allows_any_of(const ClientHelloPeek& hello) const {
  for (size_t i = 0; i + 1 < suites_.size(); ++i)
    if (hello.offers(uint16_t(suites_[i]))) return true;
  return false;
}

namespace {

// TLS 1.3 signature schemes (RFC 8446 4.2.3) our certificate's key can make.
std::vector<uint16_t> schemes_for_key(const mbedtls_pk_context& pk) {
  switch (mbedtls_pk_get_type(&pk)) {
    case MBEDTLS_PK_ECKEY:
    case MBEDTLS_PK_ECDSA:
      switch (mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(pk))) {
        case MBEDTLS_ECP_DP_SECP256R1: return {MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256};
        case MBEDTLS_ECP_DP_SECP384R1: return {MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384};
        case MBEDTLS_ECP_DP_SECP521R1: return {MBEDTLS_TLS1_3_SIG_ECDSA_SECP521R1_SHA512};
        default: return {};
      }
    case MBEDTLS_PK_RSA:
      return {MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256, MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA384,
              MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA512};
    default:
      return {};
  }
}

template <class Ids, class Name>
std::string join(const Ids& ids, size_t n, Name name) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (!s.empty()) s += ',';
    s += name(ids[i]);
  }
  return s.empty() ? "none" : s;
}

}  // namespace

std::string TlsContext::explain_mismatch(const ClientHelloPeek& hello) const {
  if (hello.status != ClientHelloPeek::Status::kFound) return "";
  const size_t n_suites = suites_.size() - 1, n_groups = groups_.size() - 1;
  if (!allows_any_of(hello))
    return "no cipher suite in common (client offers " +
           join(hello.suites, hello.suites.size(), hex_id) + "; hub allows " +
           join(suites_, n_suites, [](int id) {
             return std::string(mbedtls_ssl_get_ciphersuite_name(id));
           }) + ")";
  if (!hello.extensions_read) return "";
  bool group_in_common = false;
  for (size_t i = 0; i < n_groups; ++i) group_in_common |= hello.groups.contains(groups_[i]);
  if (!group_in_common)
    return "no key exchange group in common (client offers " +
           join(hello.groups, hello.groups.size(), tls_group_name) + "; hub allows " +
           join(groups_, n_groups, tls_group_name) + ")";
  const std::vector<uint16_t> ours = schemes_for_key(key_);
  bool scheme_in_common = false;
  for (uint16_t scheme : ours) scheme_in_common |= hello.signature_algorithms.contains(scheme);
  if (!scheme_in_common)
    return "no signature algorithm in common for the hub's certificate (client accepts " +
           join(hello.signature_algorithms, hello.signature_algorithms.size(), hex_id) +
           "; the hub's key signs with " + join(ours, ours.size(), hex_id) + ")";
  return "";
}

// Everything but the suite list is the same for every config of this context.
bool TlsContext::configure(mbedtls_ssl_config* conf, const int* suites, bool alpn,
                           std::string* error) {
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
  // Mutual authentication: the peer's certificate must be signed by our issuer(s). The
  // server verifies in OPTIONAL mode and refuses a bad certificate itself once the
  // handshake is over (TlsSession::refuse_unverified_peer): mbedTLS 3.6 would send the
  // alert under the handshake keys after the client has switched to the application keys,
  // and the node would read "bad record mac" instead of why it was refused.
  mbedtls_ssl_conf_authmode(conf, role_ == Role::kServer ? MBEDTLS_SSL_VERIFY_OPTIONAL
                                                         : MBEDTLS_SSL_VERIFY_REQUIRED);
  if (role_ == Role::kServer) {
    // The server trusts no anchor in mbedTLS's own check: verify_peer, called from the
    // verify callback, checks the CA signature (or finds it in the known-certificate
    // cache) and the CRLs. The CertificateRequest still names our CAs (dn_hints).
    mbedtls_ssl_conf_ca_chain(conf, &no_anchor_, nullptr);
    mbedtls_ssl_conf_dn_hints(conf, &ca_);
  } else {
    mbedtls_ssl_conf_ca_chain(conf, &ca_, crl_info_.empty() ? nullptr : &crl_);
  }
  mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &drbg_);
  mbedtls_ssl_conf_ciphersuites(conf, suites);
  mbedtls_ssl_conf_groups(conf, groups_.data());
  // Every key exchange includes a fresh (EC)DHE, resumption too (psk_dhe_ke): a resumed
  // session stays forward secret. Pure psk_ke would save ~1.4 ms per side, but mbedTLS
  // prefers (EC)DHE whenever a client also sends a key share, and OpenSSL-based nodes offer
  // psk_dhe_ke only, so it would buy nothing for real nodes.
  mbedtls_ssl_conf_tls13_key_exchange_modes(conf,
                                            MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ALL);
  if (sealer_) {
    // The write callback issues a ticket only for a verified peer (TicketPeer), so a node
    // refused for its certificate cannot come back by resumption without one.
    mbedtls_ssl_conf_session_tickets_cb(conf, TicketSealer::write_ticket,
                                        TicketSealer::parse_ticket, sealer_.get());
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
  if (alpn && (rc = mbedtls_ssl_conf_alpn_protocols(conf, kAlpn)) != 0) {
    *error = "TLS ALPN: " + tls_error_text(rc);
    return false;
  }
  return true;
}

}  // namespace bsc
