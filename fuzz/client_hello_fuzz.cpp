// libFuzzer target: bsc::peek_client_hello (the hub's look at the cipher_suites list and
// extensions of a connection's first TLS record, before mbedTLS sees it) on arbitrary first
// bytes. Checks: a found list lies inside the input, is even and non-empty, and offers its
// own first suite; every extension list found lies inside the input and can be walked; the answer never asks for more bytes once a whole record could be here
// (the wait is bounded); and a prefix never contradicts the whole input: a prefix that
// found the list finds the same one, a prefix that gave up gives up on the whole too.
#include <cstddef>
#include <cstdint>

#include "net/client_hello.hpp"
#include "fuzz_check.hpp"

namespace {

using bsc::ClientHelloPeek;

bool inside(const uint8_t* data, size_t size, const uint8_t* p, size_t len) {
  return len == 0 || (p >= data && p + len <= data + size);
}

void check_alone(const uint8_t* data, size_t size, const ClientHelloPeek& p) {
  if (p.status == ClientHelloPeek::Status::kFound) {
    FUZZ_CHECK(inside(data, size, p.suites.data, p.suites.len));
    FUZZ_CHECK(p.suites.len >= 2 && p.suites.len % 2 == 0);
    FUZZ_CHECK(p.offers(p.suites[0]));
  } else {
    FUZZ_CHECK(p.suites.data == nullptr && p.suites.len == 0 && !p.offers(0x1301));
  }
  FUZZ_CHECK(p.extensions_read || (p.alpn_len == 0 && p.groups.len == 0 &&
                                   p.signature_algorithms.len == 0 && p.key_shares_len == 0));
  FUZZ_CHECK(inside(data, size, p.alpn, p.alpn_len));
  FUZZ_CHECK(inside(data, size, p.groups.data, p.groups.len) && p.groups.len % 2 == 0);
  FUZZ_CHECK(inside(data, size, p.signature_algorithms.data, p.signature_algorithms.len));
  FUZZ_CHECK(inside(data, size, p.key_shares, p.key_shares_len));
  p.offers_alpn("http/1.1");  // walks the list: ASan catches a walk off its end
  size_t shares = 0;
  p.for_each_key_share([&](uint16_t) { ++shares; });
  FUZZ_CHECK(shares <= p.key_shares_len / 5);
  if (size >= bsc::kMaxPeekBytes) FUZZ_CHECK(p.status != ClientHelloPeek::Status::kNeedMore);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ClientHelloPeek whole = bsc::peek_client_hello(data, size);
  check_alone(data, size, whole);
  // A prefix cut at a point hashed from the data: what arrived first of the same stream.
  size_t cut = size == 0 ? 0 : (size_t(data[size - 1]) * 131 + size) % size;
  const ClientHelloPeek part = bsc::peek_client_hello(data, cut);
  check_alone(data, cut, part);
  if (part.status == ClientHelloPeek::Status::kFound) {
    FUZZ_CHECK(whole.status == ClientHelloPeek::Status::kFound);
    FUZZ_CHECK(whole.suites.data == part.suites.data && whole.suites.len == part.suites.len);
    FUZZ_CHECK(whole.extensions_read == part.extensions_read && whole.alpn == part.alpn);
  }
  if (part.status == ClientHelloPeek::Status::kUndecidable)
    FUZZ_CHECK(whole.status == ClientHelloPeek::Status::kUndecidable);
  return 0;
}
