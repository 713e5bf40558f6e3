// Reads the cipher_suites list out of the first TLS record of a connection, before mbedTLS
// sees it, so that the hub can pick the suite by ITS preference (mbedTLS 3.6's TLS 1.3
// server takes the first suite in the client's list). A peek only: it never consumes bytes
// and never rejects anything; whatever it cannot read, mbedTLS judges as usual.
// Threads: a pure function.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bsc {

struct ClientHelloPeek {
  enum class Status {
    kNeedMore,     // the first record is still incomplete: wait for more bytes
    kFound,        // suites/suites_len hold the client's list (non-empty, even length)
    kUndecidable,  // not a ClientHello this peek can read (malformed, fragmented, not TLS)
  };
  Status status = Status::kUndecidable;
  const uint8_t* suites = nullptr;  // big-endian 16-bit suite ids, inside the peeked bytes
  size_t suites_len = 0;            // in bytes

  // True if the client's list holds `suite` (IANA id).
  bool offers(uint16_t suite) const;
};

// `data`: the first bytes received on a connection (any amount). The answer depends only on
// the first record, so it is final once the record is complete; a record is at most
// kMaxPeekBytes, so a caller never needs to hold more than that to get kFound/kUndecidable.
ClientHelloPeek peek_client_hello(const uint8_t* data, size_t len);

// TLS record header + the largest plaintext record (2^14, RFC 8446 5.1).
constexpr size_t kMaxPeekBytes = 5 + 16384;

}  // namespace bsc
