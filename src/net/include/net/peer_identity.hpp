// PeerIdentity: what the hub knows of a node's certificate once TLS is established, the
// same after a full handshake and after a resumed one (the session ticket carries the
// certificate: net/ticket_sealer.hpp). Identity pinning, the deny list and the re-check of
// connected nodes after a reload all read it.
// Threads: built on the connection's worker; immutable afterwards (shared_ptr<const>).
#pragma once
#include <mbedtls/x509_crt.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bsc/vmac.hpp"

namespace bsc {

// A SHA-256 digest, shown as 64 lower-case hex digits.
struct Fingerprint {
  std::array<uint8_t, 32> bytes{};
  std::string to_hex() const;
  // 64 hex digits, either case, optionally in pairs separated by ':' (as `openssl x509
  // -fingerprint -sha256` prints them).
  static std::optional<Fingerprint> parse(std::string_view text);
  bool operator==(const Fingerprint&) const = default;
};
struct FingerprintHash {
  size_t operator()(const Fingerprint& f) const {
    size_t h;
    static_assert(sizeof(h) <= sizeof(f.bytes));
    std::memcpy(&h, f.bytes.data(), sizeof(h));
    return h;
  }
};

struct PeerIdentity {
  Fingerprint certificate;  // SHA-256 of the certificate (DER)
  Fingerprint public_key;   // SHA-256 of its SubjectPublicKeyInfo (DER): a renewed
                            // certificate with the same key has the same one
  Fingerprint issuer_ca;    // SHA-256 of the configured CA certificate that verified it
  // UUIDs the certificate names: the subject CN when it parses as a UUID, and each SAN URI
  // "urn:uuid:<uuid>" (docs/operations.md, identity binding).
  std::vector<Uuid> named_uuids;
  std::string subject;  // "CN=node1, O=site" for logs
  // The certificate itself, for a re-check against a new CA set or CRL.
  std::shared_ptr<const std::vector<uint8_t>> der;
};

// The SHA-256 of `der` (a certificate, a key, a CA): the fingerprints the hub keys by.
Fingerprint sha256_fingerprint(const mbedtls_x509_buf& der);

// Builds the identity of `crt`; `issuer_ca` is the CA certificate that verified it (may be
// nullptr: issuer_ca stays zero).
PeerIdentity peer_identity_of(const mbedtls_x509_crt& crt, const mbedtls_x509_crt* issuer_ca);

}  // namespace bsc
