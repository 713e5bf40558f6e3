// TlsContext::verify_peer: which configured CA issued a node's certificate, with the
// known-certificate cache (net/known_certificates.hpp) in front of the CA signature check.
// Why it is done here and not by mbedTLS: mbedTLS 3.6 has no hook between parsing the
// node's Certificate message and checking the CA's signature on it, and this Debian build
// lacks the trusted-CA callback (MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK). So the server
// configs trust no anchor: mbedTLS's walk checks what concerns the certificate alone, and
// the verify callback (TlsSession::on_verify) asks this function for the rest.
#include <cstring>

#include "net/tls_context.hpp"

namespace bsc {
namespace {

// The top of the verified chain, as mbedtls_x509_crt_verify reports it (the configured
// CA at the highest depth), and that depth.
struct ChainTop {
  const mbedtls_x509_crt* crt = nullptr;
  int depth = -1;
};

int note_chain_top(void* top, mbedtls_x509_crt* crt, int depth, uint32_t* flags) {
  auto* t = static_cast<ChainTop*>(top);
  if (depth > t->depth) {
    t->crt = crt;
    t->depth = depth;
  }
  *flags &= ~kStaleCrlFlags;  // the stale-CRL policy (tls_context.hpp)
  return 0;
}

// What mbedTLS's chain walk flags on a certificate with no trusted parent, and what it
// cannot know without one: both are decided here.
constexpr uint32_t kAnchorFlags = MBEDTLS_X509_BADCERT_NOT_TRUSTED;

// A CA's own validity, as the chain walk would flag it on the CA.
uint32_t ca_date_flags(const mbedtls_x509_crt& ca) {
  uint32_t flags = 0;
  if (mbedtls_x509_time_is_past(&ca.valid_to)) flags |= MBEDTLS_X509_BADCERT_EXPIRED;
  if (mbedtls_x509_time_is_future(&ca.valid_from)) flags |= MBEDTLS_X509_BADCERT_FUTURE;
  return flags;
}

}  // namespace

const mbedtls_x509_crt* TlsContext::configured_ca(const mbedtls_x509_crt& crt) const {
  for (const mbedtls_x509_crt* c = &ca_; c != nullptr && c->raw.len > 0; c = c->next)
    if (c->raw.len == crt.raw.len && std::memcmp(c->raw.p, crt.raw.p, crt.raw.len) == 0)
      return c;
  return nullptr;
}

uint32_t TlsContext::verify_peer(mbedtls_x509_crt* leaf, uint32_t leaf_flags,
                                 const mbedtls_x509_crt* linked_parent,
                                 const mbedtls_x509_crt** issuer) const {
  *issuer = nullptr;
  const Fingerprint fp = sha256_fingerprint(leaf->raw);
  const mbedtls_x509_crt* ca = known_->find(fp);
  const bool known = ca != nullptr;
  // A node that sent its CA's certificate along: mbedTLS has checked the signature with it
  // already (NOT_TRUSTED would be set on the leaf otherwise); it counts if that certificate
  // is byte for byte one of ours.
  if (ca == nullptr && linked_parent != nullptr && !(leaf_flags & kAnchorFlags))
    ca = configured_ca(*linked_parent);
  if (ca != nullptr) {
    // The CA signature holds; everything that can change since is checked now: the
    // certificate's dates and algorithms (leaf_flags, from mbedTLS's walk), the CA's dates,
    // our CRLs (verified when loaded, so no CRL signature check here).
    uint32_t flags = (leaf_flags & ~kAnchorFlags) | ca_date_flags(*ca);
    if (revoked_by(*leaf) != nullptr) flags |= MBEDTLS_X509_BADCERT_REVOKED;
    if (flags != 0) return flags;
    if (!known) known_->remember(fp, ca);
    *issuer = ca;
    return 0;
  }

  // Not known: the whole check against our CAs. A node that sent its certificate alone can
  // only be issued by a configured CA directly, so our own CRL lookup replaces mbedTLS's
  // (which verifies each CRL's signature again at every call); a longer chain gets the
  // full mbedTLS treatment, CRLs of intermediates included.
  const bool alone = leaf->next == nullptr;
  ChainTop top;
  uint32_t flags = 0;
  int rc = mbedtls_x509_crt_verify_with_profile(
      leaf, const_cast<mbedtls_x509_crt*>(&ca_),
      alone || crl_info_.empty() ? nullptr : const_cast<mbedtls_x509_crl*>(&crl_),
      &mbedtls_x509_crt_profile_default, nullptr, &flags, note_chain_top, &top);
  flags &= ~kStaleCrlFlags;
  if (rc != 0 && rc != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) return flags | MBEDTLS_X509_BADCERT_OTHER;
  if (alone && revoked_by(*leaf) != nullptr) flags |= MBEDTLS_X509_BADCERT_REVOKED;
  if (flags != 0) return flags;
  *issuer = top.crt;
  if (top.depth == 1) known_->remember(fp, top.crt);  // issued by a configured CA directly
  return 0;
}

}  // namespace bsc
