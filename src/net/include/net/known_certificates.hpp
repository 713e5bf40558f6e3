// KnownCertificates: which node certificates a configured CA has already been seen to sign.
// A node that reconnects with the certificate it used before then costs the hub no second
// check of the CA's signature (an ECDSA verify, ~0.9 ms of the ~3 ms a full handshake costs);
// its validity dates, the CRLs and its CertificateVerify (proof that it holds the key) are
// still checked at every handshake (TlsContext::verify_peer, docs/tls.md "Known
// certificates").
// Keyed by the SHA-256 of the certificate's DER, so a different certificate with the same
// subject or key is a stranger. One cache per TlsContext: a reload (new CAs or CRLs) starts
// an empty one; a change to the deny list clears it (clear()).
// Threads: shared by every worker; one mutex, held for a hash lookup or insert only.
#pragma once
#include <mbedtls/x509_crt.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "net/peer_identity.hpp"

namespace bsc {

class KnownCertificates {
 public:
  // At most `capacity` certificates (the oldest is forgotten first); 0: remember none.
  explicit KnownCertificates(size_t capacity) : capacity_(capacity) {}

  // The configured CA that signed the certificate whose SHA-256 is `certificate`, or
  // nullptr if not known. Counts a hit or a miss.
  const mbedtls_x509_crt* find(const Fingerprint& certificate);
  // Remembers that `issuer` (one of the context's CA certificates) signed it.
  void remember(const Fingerprint& certificate, const mbedtls_x509_crt* issuer);
  // Forgets every certificate (the deny list changed).
  void clear();

  size_t size() const;
  size_t capacity() const { return capacity_; }
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<Fingerprint, const mbedtls_x509_crt*, FingerprintHash> issuers_;
  std::deque<Fingerprint> order_;  // oldest first, for eviction
  std::atomic<uint64_t> hits_{0}, misses_{0};
};

}  // namespace bsc
