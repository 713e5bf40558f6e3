// Reads the first TLS record of a connection before mbedTLS sees it: the cipher_suites list,
// so that the hub can pick the suite by ITS preference (mbedTLS 3.6's TLS 1.3 server takes
// the first suite in the client's list), the ALPN list, so that the hub selects http/1.1
// only for clients that offer it (mbedTLS refuses every other list outright), and the
// groups, key shares and signature algorithms, so that a failed negotiation is logged with
// what each side had. A peek only: it never consumes bytes and never rejects anything;
// whatever it cannot read, mbedTLS judges as usual.
// Threads: a pure function.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bsc {

// A list of big-endian 16-bit ids inside the peeked bytes (suites, groups, signature
// algorithms).
struct U16List {
  const uint8_t* data = nullptr;
  size_t len = 0;  // in bytes, even
  size_t size() const { return len / 2; }
  uint16_t operator[](size_t i) const { return uint16_t((data[2 * i] << 8) | data[2 * i + 1]); }
  bool contains(uint16_t id) const;
};

struct ClientHelloPeek {
  enum class Status {
    kNeedMore,     // the first record is still incomplete: wait for more bytes
    kFound,        // suites holds the client's list (non-empty); the extensions below are read
    kUndecidable,  // not a ClientHello this peek can read (malformed, fragmented, not TLS)
  };
  Status status = Status::kUndecidable;
  U16List suites;  // cipher_suites, in the client's order

  // Extensions, kFound only. extensions_read: the whole extension block was in the first
  // record and well-formed; otherwise the fields below are empty and say nothing.
  bool extensions_read = false;
  const uint8_t* alpn = nullptr;  // ALPN protocol_name_list (RFC 7301 3.1), if sent
  size_t alpn_len = 0;
  U16List groups;            // supported_groups
  U16List signature_algorithms;
  const uint8_t* key_shares = nullptr;  // key_share client_shares (RFC 8446 4.2.8)
  size_t key_shares_len = 0;

  // True if the client's list holds `suite` (IANA id).
  bool offers(uint16_t suite) const;
  // True if the ALPN list names `protocol` exactly.
  bool offers_alpn(std::string_view protocol) const;
  // Calls f(group) for each key share's group, in the client's order.
  template <class F>
  void for_each_key_share(F&& f) const {
    for (size_t i = 0; i + 4 <= key_shares_len;) {
      f(uint16_t((key_shares[i] << 8) | key_shares[i + 1]));
      i += 4 + ((size_t(key_shares[i + 2]) << 8) | key_shares[i + 3]);
    }
  }
};

// `data`: the first bytes received on a connection (any amount). The answer depends only on
// the first record, so it is final once it is not kNeedMore; a record is at most
// kMaxPeekBytes, so a caller never needs to hold more than that to get kFound/kUndecidable.
ClientHelloPeek peek_client_hello(const uint8_t* data, size_t len);

// TLS record header + the largest plaintext record (2^14, RFC 8446 5.1).
constexpr size_t kMaxPeekBytes = 5 + 16384;

}  // namespace bsc
