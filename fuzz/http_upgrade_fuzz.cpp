// libFuzzer target: the server-side WebSocket upgrade parser (bsc::UpgradeParser, llhttp)
// fed the input in two pieces split at a data-derived point, with the 101/refusal reply
// checked; then the client-side bsc::UpgradeResponseParser on the same bytes, and on the
// hub's own 101 reply (which must satisfy it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/http_upgrade.hpp"
#include "fuzz_check.hpp"

namespace {

// Split point from the data itself (FNV-1a), so seed files stay plain HTTP text and every
// mutation also moves the split.
size_t split_point(const uint8_t* data, size_t size) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
  return size == 0 ? 0 : h % (size + 1);
}

std::string_view header_value(std::string_view head, std::string_view name) {
  size_t at = head.find(name);
  if (at == std::string_view::npos) return {};
  at += name.size();
  size_t eol = head.find("\r\n", at);
  if (eol == std::string_view::npos) return {};
  return head.substr(at, eol - at);
}

void check_server(const uint8_t* data, size_t size, size_t split) {
  bsc::UpgradeParser parser;
  using R = bsc::UpgradeParser::Result;
  size_t consumed = 0;
  size_t total = 0;
  R r = parser.feed(data, split, &consumed);
  FUZZ_CHECK(consumed <= split);
  total += consumed;
  if (r == R::kNeedMore) {
    FUZZ_CHECK(consumed == split);
    FUZZ_CHECK(parser.status() == 0 && parser.response().empty());
    r = parser.feed(data + split, size - split, &consumed);
    FUZZ_CHECK(consumed <= size - split);
    total += consumed;
  }
  FUZZ_CHECK(total <= size);
  if (r == R::kNeedMore) {
    FUZZ_CHECK(parser.status() == 0 && parser.response().empty());
    return;
  }
  const std::string& resp = parser.response();
  FUZZ_CHECK(!resp.empty());
  if (r == R::kAccepted) {
    FUZZ_CHECK(parser.status() == 101);
    FUZZ_CHECK(resp.find("101") != std::string::npos);
    FUZZ_CHECK(resp.rfind("HTTP/1.1 101 ", 0) == 0);
    FUZZ_CHECK(resp.size() >= 4 && resp.compare(resp.size() - 4, 4, "\r\n\r\n") == 0);
    FUZZ_CHECK(resp.find("\r\nSec-WebSocket-Protocol: hub.bsc.bacnet.org\r\n") !=
               std::string::npos);
    // The accepted head contains the whole request head, "\r\n\r\n" included.
    FUZZ_CHECK(total >= 4);
    // The client side of this code base accepts the hub's reply.
    std::string_view accept = header_value(resp, "\r\nSec-WebSocket-Accept: ");
    FUZZ_CHECK(accept.size() == 28);
    bsc::UpgradeResponseParser client{std::string(accept)};
    size_t used = 0;
    FUZZ_CHECK(client.feed(reinterpret_cast<const uint8_t*>(resp.data()), resp.size(),
                           &used) == bsc::UpgradeResponseParser::Result::kOk);
    FUZZ_CHECK(used == resp.size());
  } else {
    FUZZ_CHECK(parser.status() >= 400 && parser.status() < 600);
    FUZZ_CHECK(resp.find("101") == std::string::npos);
    FUZZ_CHECK(resp.rfind("HTTP/1.1 4", 0) == 0 || resp.rfind("HTTP/1.1 5", 0) == 0);
    FUZZ_CHECK(!parser.reason().empty());
  }
  // Once decided, the parser stays decided and takes no more input.
  const R again = parser.feed(data, size, &consumed);
  FUZZ_CHECK(again == r && consumed == 0);
}

void check_client(const uint8_t* data, size_t size, size_t split) {
  // websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") from RFC 6455 §1.3.
  static const std::string kAccept = bsc::websocket_accept("dGhlIHNhbXBsZSBub25jZQ==");
  FUZZ_CHECK(kAccept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  bsc::UpgradeResponseParser client{kAccept};
  using R = bsc::UpgradeResponseParser::Result;
  size_t consumed = 0;
  R r = client.feed(data, split, &consumed);
  FUZZ_CHECK(consumed <= split);
  if (r == R::kNeedMore) {
    FUZZ_CHECK(consumed == split);
    r = client.feed(data + split, size - split, &consumed);
    FUZZ_CHECK(consumed <= size - split);
  }
  if (r == R::kBad) FUZZ_CHECK(!client.error().empty());
  if (r == R::kOk) FUZZ_CHECK(client.error().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t split = split_point(data, size);
  check_server(data, size, split);
  check_client(data, size, split);
  // The Sec-WebSocket-Accept computation on arbitrary keys.
  if (size <= 256) {
    std::string a = bsc::websocket_accept(
        std::string_view(reinterpret_cast<const char*>(data), size));
    FUZZ_CHECK(a.size() == 28);
  }
  return 0;
}
