// Maps TlsSession's failure kind to the bounded reason set of the handshake-failure metric
// (the log line keeps the full sentence). Pure; any thread.
#pragma once
#include "core/stats.hpp"
#include "net/tls_session.hpp"

namespace bsc {

inline HandshakeFailure classify_tls_failure(TlsSession::Failure why) {
  switch (why) {
    case TlsSession::Failure::kNoClientCertificate: return HandshakeFailure::tls_no_client_certificate;
    case TlsSession::Failure::kVersion: return HandshakeFailure::tls_version;
    case TlsSession::Failure::kCertificateRejected: return HandshakeFailure::tls_certificate_rejected;
    case TlsSession::Failure::kNoCommonParameters: return HandshakeFailure::tls_no_common_parameters;
    case TlsSession::Failure::kNone:
    case TlsSession::Failure::kOther: break;
  }
  return HandshakeFailure::tls_other;
}

}  // namespace bsc
