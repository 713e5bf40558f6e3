// libFuzzer target: bsc::peek_client_hello (the hub's look at the cipher_suites list of a
// connection's first TLS record, before mbedTLS sees it) on arbitrary first bytes.
// Checks: a found list lies inside the input, is even and non-empty, and offers its own
// first suite; the answer never asks for more bytes once a whole record could be here
// (the wait is bounded); and a prefix never contradicts the whole input: a prefix that
// found the list finds the same one, a prefix that gave up gives up on the whole too.
#include <cstddef>
#include <cstdint>

#include "net/client_hello.hpp"

#define FUZZ_CHECK(cond)           \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

namespace {

using bsc::ClientHelloPeek;

void check_alone(const uint8_t* data, size_t size, const ClientHelloPeek& p) {
  if (p.status == ClientHelloPeek::Status::kFound) {
    FUZZ_CHECK(p.suites >= data && p.suites + p.suites_len <= data + size);
    FUZZ_CHECK(p.suites_len >= 2 && p.suites_len % 2 == 0);
    FUZZ_CHECK(p.offers(uint16_t((p.suites[0] << 8) | p.suites[1])));
  } else {
    FUZZ_CHECK(p.suites == nullptr && p.suites_len == 0 && !p.offers(0x1301));
  }
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
    FUZZ_CHECK(whole.suites == part.suites && whole.suites_len == part.suites_len);
  }
  if (part.status == ClientHelloPeek::Status::kUndecidable)
    FUZZ_CHECK(whole.status == ClientHelloPeek::Status::kUndecidable);
  return 0;
}
