// The HTTP/1.1 WebSocket upgrade (RFC 6455 §4) for the hub port, parsed with llhttp.
// Server side: UpgradeParser checks the request and builds the 101 or the refusal.
// Client side (load tool): make_upgrade_request / UpgradeResponseParser.
// Threads: [owner]; parsers are per connection.
#pragma once
#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bsc {

constexpr std::string_view kHubSubprotocol = "hub.bsc.bacnet.org";
// Bound on the request head: a bigger one gets 431 (slowloris / memory guard).
constexpr size_t kMaxUpgradeHeadBytes = 8192;

// Sec-WebSocket-Accept for a client key: base64(SHA-1(key + RFC 6455 GUID)).
std::string websocket_accept(std::string_view client_key);

class UpgradeParser {
 public:
  enum class Result { kNeedMore, kAccepted, kRefused };
  UpgradeParser();
  UpgradeParser(const UpgradeParser&) = delete;
  UpgradeParser& operator=(const UpgradeParser&) = delete;

  // Feeds request bytes. On kAccepted/kRefused, *consumed says how many octets belonged to
  // the request head (any rest is early WebSocket data). response() then holds the reply.
  Result feed(const uint8_t* data, size_t len, size_t* consumed);
  const std::string& response() const { return response_; }
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }

  // llhttp callbacks (public only so the static settings table can name them).
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);

 private:
  Result feed_headers(const uint8_t* data, size_t len, size_t* consumed);
  void refuse(int status, const char* reason, const char* extra_headers = "");
  void check_request();

  llhttp_t parser_;
  std::string field_, value_;
  std::string upgrade_, connection_, key_, version_, protocols_;
  std::string request_line_;  // until line_done_: the request line so far
  bool line_done_ = false;
  size_t head_bytes_ = 0;
  bool headers_done_ = false;
  int status_ = 0;
  std::string reason_;
  std::string response_;
};

// Client side: the request a node sends to the hub.
std::string make_upgrade_request(std::string_view host_port, std::string_view key);

class UpgradeResponseParser {
 public:
  enum class Result { kNeedMore, kOk, kBad };
  explicit UpgradeResponseParser(std::string expected_accept);
  Result feed(const uint8_t* data, size_t len, size_t* consumed);
  const std::string& error() const { return error_; }

 private:
  std::string head_;
  std::string expected_accept_;
  std::string error_;
};

}  // namespace bsc
