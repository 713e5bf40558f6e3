// Maps TlsSession's failure sentence to the bounded reason set of the handshake-failure
// metric (the log line keeps the full sentence). Pure; any thread.
#pragma once
#include <string>

#include "core/stats.hpp"

namespace bsc {

inline HandshakeFailure classify_tls_failure(const std::string& reason) {
  // The sentences are fixed by TlsSession::set_failure; match on their fixed starts.
  if (reason.rfind("no client certificate", 0) == 0) return HandshakeFailure::tls_no_client_certificate;
  if (reason.rfind("peer does not offer TLS 1.3", 0) == 0) return HandshakeFailure::tls_version;
  if (reason.rfind("certificate rejected", 0) == 0) return HandshakeFailure::tls_certificate_rejected;
  return HandshakeFailure::tls_other;
}

}  // namespace bsc
