#include <doctest/doctest.h>

#include "core/tls_failure.hpp"

using bsc::HandshakeFailure;

TEST_CASE("TLS failure kinds map to the bounded metric reasons") {
  using F = bsc::TlsSession::Failure;
  CHECK(bsc::classify_tls_failure(F::kNoClientCertificate) ==
        HandshakeFailure::tls_no_client_certificate);
  CHECK(bsc::classify_tls_failure(F::kVersion) == HandshakeFailure::tls_version);
  CHECK(bsc::classify_tls_failure(F::kCertificateRejected) ==
        HandshakeFailure::tls_certificate_rejected);
  CHECK(bsc::classify_tls_failure(F::kNoCommonParameters) ==
        HandshakeFailure::tls_no_common_parameters);
  CHECK(bsc::classify_tls_failure(F::kOther) == HandshakeFailure::tls_other);
}
