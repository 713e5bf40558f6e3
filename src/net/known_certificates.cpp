#include "net/known_certificates.hpp"

namespace bsc {

const mbedtls_x509_crt* KnownCertificates::find(const Fingerprint& certificate) {
  const mbedtls_x509_crt* issuer = nullptr;
  if (capacity_ > 0) {
    std::lock_guard lock(mu_);
    auto it = issuers_.find(certificate);
    if (it != issuers_.end()) issuer = it->second;
  }
  (issuer ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return issuer;
}

void KnownCertificates::remember(const Fingerprint& certificate, const mbedtls_x509_crt* issuer) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mu_);
  if (!issuers_.emplace(certificate, issuer).second) return;  // two handshakes raced: one entry
  order_.push_back(certificate);
  if (order_.size() > capacity_) {
    issuers_.erase(order_.front());
    order_.pop_front();
  }
}

void KnownCertificates::clear() {
  std::lock_guard lock(mu_);
  issuers_.clear();
  order_.clear();
}

size_t KnownCertificates::size() const {
  std::lock_guard lock(mu_);
  return issuers_.size();
}

}  // namespace bsc
