// TLS 1.3 configuration shared by all sessions of one role (hub server or load client):
// own certificate + key, the trusted issuer(s), RNG. mbedTLS 3.6.
// Threads: built at [startup]; afterwards read-only and shared by every worker (the RNG is
// mbedTLS's thread-safe CTR-DRBG; the ticket key ring rotates under its own mutex).
#pragma once
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/client_hello.hpp"
#include "net/known_certificates.hpp"
#include "net/peer_identity.hpp"
#include "net/ticket_sealer.hpp"

namespace bsc {

// Handshake-cost settings (issue: reconnect storms).
struct TlsOptions {
  // TLS 1.3 session tickets. Server: issue one per full handshake and accept them, so a
  // returning node skips both certificate signatures (~2.1 ms of the ~3.2 ms of ECC). Client
  // (bschub-load): keep the tickets it gets so that a later session can resume.
  bool session_tickets = true;
  // Server: a ticket is accepted for this long; a random ticket key also rotates at this
  // period, and a replaced key still opens tickets for one more. Our tickets carry the
  // peer's certificate (net/ticket_sealer.hpp).
  uint32_t ticket_lifetime_s = 3600;
  // Server: seal tickets with the key derived from this file (net/ticket_key_file.hpp)
  // instead of random keys, so that they open after a restart and on a failover hub given
  // the same file. Empty: random keys, held in memory only.
  std::string ticket_key_file;
  // Key exchange groups in preference order (IANA ids); empty: tls_default_groups().
  std::vector<uint16_t> groups;
  // TLS 1.3 cipher suites (IANA ids), empty: the role's default. Server: the allowed set in
  // the hub's preference order, which wins over the client's (config_for()). Client: the
  // offer, in the client's preference order.
  std::vector<uint16_t> ciphersuites;
  // Certificate revocation lists (PEM or DER files), each issued by one of the configured
  // CAs (docs/tls.md "Revocation"). Checked at every full handshake and by recheck().
  std::vector<std::string> crl_files;
  // Server: node certificates remembered as issued by a configured CA, so that a returning
  // node's certificate costs no second CA signature check (net/known_certificates.hpp).
  // 0: check the signature at every full handshake.
  size_t known_certificates = 100000;
};

// Verification flags the hub ignores: a CRL past its next-update (EXPIRED) or not yet in
// force (FUTURE). mbedTLS sets them on every certificate of that CA, which would lock the
// whole site out because one CRL was not refreshed in time; the CRL's revoked serials still
// apply (docs/tls.md "Revocation", stale CRLs). Cleared in the verify callback.
constexpr uint32_t kStaleCrlFlags = MBEDTLS_X509_BADCRL_EXPIRED | MBEDTLS_X509_BADCRL_FUTURE;

// One loaded CRL (TlsOptions::crl_files), for logs and the stale-CRL gauge.
struct CrlInfo {
  std::string file;
  std::string issuer;           // "O=site, CN=site CA"
  int64_t next_update = 0;      // Unix time; 0: the CRL names none (never stale)
  size_t revoked = 0;           // serials it lists
  bool stale(int64_t now) const { return next_update != 0 && next_update < now; }
};

struct PeerIdentity;

class TlsContext {
 public:
  enum class Role { kServer, kClient };
  TlsContext() = default;
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Loads PEM files and builds the configs: TLS 1.3 only, peer certificate required and
  // verified against `ca_file` only (no system trust store).
  // Returns false and sets *error to one clear sentence on failure.
  // Server with session tickets: `sealer` seals them (TlsReloader passes one that outlives
  // reloads, so tickets survive a SIGHUP); nullptr: a sealer of this context's own
  // (make_ticket_sealer()).
  bool init(Role role, const std::string& cert_file, const std::string& key_file,
            const std::string& ca_file, std::string* error, const TlsOptions& options = {},
            std::shared_ptr<TicketSealer> sealer = nullptr);

  // Client: the config (every suite, ALPN http/1.1 offered).
  const mbedtls_ssl_config* config() const { return &variants_[0]->alpn; }
  // Server: the config for a connection whose ClientHello is `hello`.
  // - Suite: mbedTLS 3.6 takes the first suite of the CLIENT's list that the config allows,
  //   so server preference means a config that allows just one suite: the first of ours the
  //   client offers. When the peek could not read the list, or nothing is in common, the
  //   config with every suite: mbedTLS then negotiates or fails as without the peek.
  // - ALPN: mbedTLS refuses a client whose ALPN list lacks every configured protocol (fatal
  //   no_application_protocol), and libwebsockets-based nodes send lists without http/1.1.
  //   RFC 7301 lets a server that speaks none of the client's protocols go on without ALPN,
  //   so http/1.1 is configured only when the client offers it.
  const mbedtls_ssl_config* config_for(const ClientHelloPeek& hello) const;
  // True if `hello` offers at least one suite this context allows.
  bool allows_any_of(const ClientHelloPeek& hello) const;
  // Server, after a handshake failed: what `hello` and this context have no common value for
  // (suite, key exchange group, signature algorithm for our certificate), as one sentence
  // naming both sides' lists; empty if the peek shows no such gap.
  std::string explain_mismatch(const ClientHelloPeek& hello) const;
  Role role() const { return role_; }

  // Revocation (tls_revocation.cpp). The CRLs loaded, in file order (one file may hold
  // several).
  const std::vector<CrlInfo>& crls() const { return crl_info_; }
  // How many of them are past their next-update now (a gauge: a CRL goes stale while the
  // hub runs). Stale CRLs still apply; see kStaleCrlFlags.
  size_t stale_crls() const;
  // "" if the certificate of `id` (id.der) would still be accepted by this context, else one
  // sentence naming why not ("revoked by CRL of CN=site CA", "no longer issued by a
  // configured CA", "certificate expired"). If the CA that verified it (id.issuer_ca) is still one of
  // ours, only its dates and our CRLs are checked (its signature was verified at the
  // handshake); otherwise the whole chain check runs against our CAs and CRLs.
  // A resumed session's certificate (carried by its ticket) is re-checked the same way; a
  // reason naming the dates contains "expired" or "not yet valid" (TlsSession picks the
  // alert from that: certificate_expired, else certificate_revoked).
  std::string recheck(const PeerIdentity& id) const;
  // Server: the verdict on a node's certificate chain, from TlsSession's verify callback at
  // depth 0 (tls_peer_verify.cpp). The server configs give mbedTLS no trust anchor, so its
  // own walk of the chain checks only the node's certificate (dates, algorithms, key size:
  // `leaf_flags`) and any chain the node sent (`linked_parent`: the certificate mbedTLS
  // found to have signed it, or nullptr); this decides which configured CA issued it, via
  // the known-certificate cache when it can. Returns the verification flags (0: accepted)
  // and sets *issuer to the configured CA certificate (nullptr when refused).
  uint32_t verify_peer(mbedtls_x509_crt* leaf, uint32_t leaf_flags,
                       const mbedtls_x509_crt* linked_parent,
                       const mbedtls_x509_crt** issuer) const;
  // Server: the cache verify_peer uses (clear() it when the deny list changes).
  KnownCertificates& known_certificates() const { return *known_; }
  // Server with session tickets: the sealer (tests rotate its keys); nullptr otherwise.
  TicketSealer* ticket_sealer() const { return sealer_.get(); }

 private:
  Role role_ = Role::kServer;
  bool initialised_ = false;
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_x509_crt cert_;
  mbedtls_x509_crt ca_;
  mbedtls_x509_crt no_anchor_;        // server configs' trust list: empty (verify_peer decides)
  mbedtls_x509_crl crl_;              // every CRL of every file, one chain
  std::vector<CrlInfo> crl_info_;     // in crl_ chain order
  mbedtls_pk_context key_;
  bool session_tickets_ = false;       // TlsOptions::session_tickets
  std::shared_ptr<TicketSealer> sealer_;  // server: ticket keys (own mutex: shared by workers)
  std::unique_ptr<KnownCertificates> known_;  // server: CA verdicts (own mutex)
  std::vector<uint16_t> groups_;       // zero-terminated, referenced by every config
  std::vector<int> suites_;            // preference order, zero-terminated

  // One allowed suite set, with and without ALPN (same certificates, groups, ticket keys).
  struct Variant {
    std::vector<int> suites;  // zero-terminated, referenced by both configs
    mbedtls_ssl_config alpn;     // http/1.1 (client: offered; server: selected)
    mbedtls_ssl_config no_alpn;  // server: no ALPN extension at all
    Variant() {
      mbedtls_ssl_config_init(&alpn);
      mbedtls_ssl_config_init(&no_alpn);
    }
    ~Variant() {
      mbedtls_ssl_config_free(&alpn);
      mbedtls_ssl_config_free(&no_alpn);
    }
  };
  // [0]: every suite of suites_; server with 2+ suites: then one per suite, in suites_ order.
  std::vector<std::unique_ptr<Variant>> variants_;

  bool load_crls(const std::vector<std::string>& files, std::string* error);
  // The CRL (ours, issued by crt's issuer) that lists `crt`, or nullptr.
  const mbedtls_x509_crl* revoked_by(const mbedtls_x509_crt& crt) const;
  // The configured CA byte-identical to `crt`, or nullptr.
  const mbedtls_x509_crt* configured_ca(const mbedtls_x509_crt& crt) const;
  bool add_variant(std::vector<int> suites, std::string* error);
  bool configure(mbedtls_ssl_config* conf, const int* suites, bool alpn, std::string* error);
};

// Key exchange groups by name, as --tls-groups takes them: every sound group this mbedTLS
// build can use for TLS 1.3, cheapest first (tls_group_names() lists them).
// Parses "p256,x25519,p384" (names in preference order) into IANA ids; false if a name is
// unknown or the list is empty.
bool parse_tls_groups(const std::string& list, std::vector<uint16_t>* out);
// The names parse_tls_groups accepts, comma-separated, in the default preference order;
// `defaults_only`: just those of tls_default_groups().
std::string tls_group_names(bool defaults_only = false);
// The groups used when none are configured: every group but ffdhe4096, ffdhe6144 and
// ffdhe8192, whose key exchange costs the hub 100-800 ms per handshake (an unauthenticated
// peer could spend that much of a worker with one ClientHello).
const std::vector<uint16_t>& tls_default_groups();
// The name of an IANA group id ("secp384r1"), or its hex value.
std::string tls_group_name(uint16_t id);

// Parses "aes128,chacha20" (names in preference order, each once) into IANA suite ids:
// aes128 = TLS_AES_128_GCM_SHA256, aes256 = TLS_AES_256_GCM_SHA384, chacha20 =
// TLS_CHACHA20_POLY1305_SHA256. False if a name is unknown or repeated, or the list empty.
bool parse_tls_ciphersuites(const std::string& list, std::vector<uint16_t>* out);

// The server's ticket sealer for `options`: keys from options.ticket_key_file, else random.
// nullptr and *error (one sentence) if the lifetime is out of range or the key file unusable.
std::shared_ptr<TicketSealer> make_ticket_sealer(const TlsOptions& options, std::string* error);

// Text of an mbedTLS error code ("X509 - Certificate verification failed ...").
std::string tls_error_text(int code);

}  // namespace bsc
