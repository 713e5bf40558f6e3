#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "net/http_upgrade.hpp"

using bsc::UpgradeParser;

namespace {

std::string request(const std::string& extra_or_replace, const char* protocol = "hub.bsc.bacnet.org",
                    const char* version = "13", const char* key = "dGhlIHNhbXBsZSBub25jZQ==") {
  std::string r = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  "Connection: keep-alive, Upgrade\r\n";
  if (key) r += std::string("Sec-WebSocket-Key: ") + key + "\r\n";
  if (version) r += std::string("Sec-WebSocket-Version: ") + version + "\r\n";
  if (protocol) r += std::string("Sec-WebSocket-Protocol: ") + protocol + "\r\n";
  return r + extra_or_replace + "\r\n";
}

UpgradeParser::Result feed_all(UpgradeParser& p, const std::string& text, size_t* used) {
  return p.feed(reinterpret_cast<const uint8_t*>(text.data()), text.size(), used);
}

}  // namespace

TEST_CASE("Sec-WebSocket-Accept matches the RFC 6455 example") {
  CHECK(bsc::websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("a valid hub upgrade is accepted and the subprotocol echoed") {
  UpgradeParser p;
  size_t used = 0;
  std::string req = request("");
  REQUIRE(feed_all(p, req, &used) == UpgradeParser::Result::kAccepted);
  CHECK(used == req.size());
  CHECK(p.status() == 101);
  CHECK(p.response().find("Sec-WebSocket-Protocol: hub.bsc.bacnet.org\r\n") != std::string::npos);
  CHECK(p.response().find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") !=
        std::string::npos);
}

TEST_CASE("the subprotocol may be one of several offered") {
  UpgradeParser p;
  size_t used = 0;
  CHECK(feed_all(p, request("", "dc.bsc.bacnet.org, hub.bsc.bacnet.org"), &used) ==
        UpgradeParser::Result::kAccepted);
}

TEST_CASE("a request split into single bytes is parsed the same") {
  UpgradeParser p;
  std::string req = request("");
  UpgradeParser::Result r = UpgradeParser::Result::kNeedMore;
  for (size_t i = 0; i < req.size() && r == UpgradeParser::Result::kNeedMore; ++i) {
    size_t used = 0;
    r = p.feed(reinterpret_cast<const uint8_t*>(req.data() + i), 1, &used);
  }
  CHECK(r == UpgradeParser::Result::kAccepted);
}

TEST_CASE("bytes after the request head are left for the WebSocket layer") {
  UpgradeParser p;
  size_t used = 0;
  std::string req = request("");
  std::string both = req + "\x82\x04" "abcd";
  REQUIRE(feed_all(p, both, &used) == UpgradeParser::Result::kAccepted);
  CHECK(used == req.size());
}

TEST_CASE("refusals carry the right HTTP status") {
  struct Case {
    std::string text;
    int status;
  };
  Case cases[] = {
      {request("", nullptr), 400},                       // missing subprotocol
      {request("", "dc.bsc.bacnet.org"), 400},           // direct-connect subprotocol
      {request("", "HUB.BSC.BACNET.ORG"), 400},          // subprotocols are case-sensitive
      {request("", "hub.bsc.bacnet.org", "8"), 426},     // wrong version
      {request("", "hub.bsc.bacnet.org", "13", "short"), 400},  // key not 16 octets
      {request("", "hub.bsc.bacnet.org", "13", nullptr), 400},  // no key
      {"POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
       "Sec-WebSocket-Protocol: hub.bsc.bacnet.org\r\nContent-Length: 0\r\n\r\n", 405},
      {"GET / HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: hub.bsc.bacnet.org\r\n\r\n", 400},
      {"\x16\x03\x01garbage that is not HTTP\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    UpgradeParser p;
    size_t used = 0;
    CHECK(feed_all(p, c.text, &used) == UpgradeParser::Result::kRefused);
    CHECK(p.status() == c.status);
    CHECK(p.response().rfind("HTTP/1.1 " + std::to_string(c.status), 0) == 0);
    CHECK(p.response().find("101") == std::string::npos);
  }
}

TEST_CASE("an oversized request head is refused with 431") {
  UpgradeParser p;
  std::string big = "GET / HTTP/1.1\r\nX-Pad: " + std::string(bsc::kMaxUpgradeHeadBytes, 'a');
  size_t used = 0;
  CHECK(feed_all(p, big, &used) == UpgradeParser::Result::kRefused);
  CHECK(p.status() == 431);
}

TEST_CASE("the client checks the hub's 101 answer") {
  std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  std::string good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                     "Sec-WebSocket-Protocol: hub.bsc.bacnet.org\r\n\r\n";
  bsc::UpgradeResponseParser ok(bsc::websocket_accept(key));
  size_t used = 0;
  CHECK(ok.feed(reinterpret_cast<const uint8_t*>(good.data()), good.size(), &used) ==
        bsc::UpgradeResponseParser::Result::kOk);
  CHECK(used == good.size());

  std::string no_proto = "HTTP/1.1 101 Switching Protocols\r\n"
                         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  bsc::UpgradeResponseParser bad(bsc::websocket_accept(key));
  CHECK(bad.feed(reinterpret_cast<const uint8_t*>(no_proto.data()), no_proto.size(), &used) ==
        bsc::UpgradeResponseParser::Result::kBad);
}

namespace {

// The request of request("") with its request line replaced.
std::string with_request_line(const std::string& line) {
  std::string r = request("");
  return line + r.substr(r.find("\r\n"));
}

}  // namespace

TEST_CASE("request-targets: any path, with or without its leading slash, and absolute form") {
  // libwebsockets 4.1 sends the path of wss://host/hub/x as "hub/x".
  for (const char* line : {"GET hub/x HTTP/1.1", "GET /hub/x?y=1 HTTP/1.1", "GET // HTTP/1.1",
                           "GET wss://127.0.0.1:4443/hub HTTP/1.1", "GET x HTTP/1.1"}) {
    CAPTURE(line);
    for (size_t step : {size_t(1), size_t(7), size_t(4096)}) {
      CAPTURE(step);
      UpgradeParser p;
      const std::string req = with_request_line(line) + "\x82\x80";  // early WebSocket data
      size_t used_total = 0;
      UpgradeParser::Result r = UpgradeParser::Result::kNeedMore;
      for (size_t i = 0; i < req.size() && r == UpgradeParser::Result::kNeedMore; i += step) {
        size_t used = 0;
        const size_t n = std::min(step, req.size() - i);
        r = p.feed(reinterpret_cast<const uint8_t*>(req.data() + i), n, &used);
        used_total += used;
      }
      CHECK(r == UpgradeParser::Result::kAccepted);
      CHECK(used_total == req.size() - 2);  // the two WebSocket octets are not the head's
    }
  }
}

TEST_CASE("a request line that never ends is refused at the head bound") {
  UpgradeParser p;
  std::string line = "GET /" + std::string(bsc::kMaxUpgradeHeadBytes, 'a');
  size_t used = 0;
  CHECK(feed_all(p, line, &used) == UpgradeParser::Result::kRefused);
  CHECK(p.status() == 431);
}

TEST_CASE("a malformed request line is still refused") {
  for (const char* line : {"GET", "G\x01T / HTTP/1.1", "GET / HTTX/1.1", "GET hub x HTTP/1.1"}) {
    CAPTURE(line);
    UpgradeParser p;
    size_t used = 0;
    CHECK(feed_all(p, with_request_line(line), &used) == UpgradeParser::Result::kRefused);
    CHECK(p.status() == 400);
  }
}
