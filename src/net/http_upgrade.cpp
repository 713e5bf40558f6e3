#include "net/http_upgrade.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace bsc {
namespace {

constexpr std::string_view kWsGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if the comma-separated header value holds `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token, bool case_insensitive) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (case_insensitive ? iequals(item, token) : item == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

const llhttp_settings_t* request_settings();

}  // namespace

std::string websocket_accept(std::string_view client_key) {
  std::string text(client_key);
  text.append(kWsGuid);
  unsigned char digest[20];
  mbedtls_sha1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  unsigned char out[32];
  size_t olen = 0;
  mbedtls_base64_encode(out, sizeof out, &olen, digest, sizeof digest);
  return std::string(reinterpret_cast<char*>(out), olen);
}

UpgradeParser::UpgradeParser() {
  llhttp_init(&parser_, HTTP_REQUEST, request_settings());
  parser_.data = this;
}

int UpgradeParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  static_cast<UpgradeParser*>(p->data)->field_.append(at, len);
  return 0;
}

int UpgradeParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  static_cast<UpgradeParser*>(p->data)->value_.append(at, len);
  return 0;
}

int UpgradeParser::on_header_value_complete(llhttp_t* p) {
  auto* self = static_cast<UpgradeParser*>(p->data);
  auto append = [&](std::string& dst) {
    if (!dst.empty()) dst += ',';
    dst += self->value_;
  };
  const std::string& f = self->field_;
  if (iequals(f, "upgrade")) append(self->upgrade_);
  else if (iequals(f, "connection")) append(self->connection_);
  else if (iequals(f, "sec-websocket-key")) append(self->key_);
  else if (iequals(f, "sec-websocket-version")) append(self->version_);
  else if (iequals(f, "sec-websocket-protocol")) append(self->protocols_);
  self->field_.clear();
  self->value_.clear();
  return 0;
}

int UpgradeParser::on_headers_complete(llhttp_t* p) {
  static_cast<UpgradeParser*>(p->data)->headers_done_ = true;
  return 2;  // no body: stop here with HPE_PAUSED_UPGRADE so we can see where the head ends
}

namespace {
const llhttp_settings_t* request_settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_header_field = UpgradeParser::on_header_field;
    s.on_header_value = UpgradeParser::on_header_value;
    s.on_header_value_complete = UpgradeParser::on_header_value_complete;
    s.on_headers_complete = UpgradeParser::on_headers_complete;
    return s;
  }();
  return &settings;
}
}  // namespace

void UpgradeParser::refuse(int status, const char* reason, const char* extra_headers) {
  static const struct { int code; const char* text; } kStatus[] = {
      {400, "Bad Request"}, {405, "Method Not Allowed"}, {426, "Upgrade Required"},
      {431, "Request Header Fields Too Large"}, {503, "Service Unavailable"}};
  const char* text = "Bad Request";
  for (const auto& s : kStatus)
    if (s.code == status) text = s.text;
  status_ = status;
  reason_ = reason;
  response_ = "HTTP/1.1 " + std::to_string(status) + " " + text +
              "\r\nConnection: close\r\nContent-Type: text/plain\r\n" + extra_headers +
              "Content-Length: " + std::to_string(std::strlen(reason) + 1) + "\r\n\r\n" +
              reason + "\n";
}

void UpgradeParser::check_request() {
  if (llhttp_get_method(&parser_) != HTTP_GET)
    return refuse(405, "the WebSocket upgrade needs GET", "Allow: GET\r\n");
  if (llhttp_get_http_major(&parser_) != 1 || llhttp_get_http_minor(&parser_) < 1)
    return refuse(400, "the WebSocket upgrade needs HTTP/1.1");
  if (!has_token(upgrade_, "websocket", true))
    return refuse(400, "missing 'Upgrade: websocket'");
  if (!has_token(connection_, "upgrade", true))
    return refuse(400, "missing 'Connection: Upgrade'");
  if (trim(version_) != "13")
    return refuse(426, "unsupported Sec-WebSocket-Version (need 13)",
                  "Sec-WebSocket-Version: 13\r\n");
  std::string_view key = trim(key_);
  unsigned char raw[32];
  size_t raw_len = 0;
  if (key.empty() ||
      mbedtls_base64_decode(raw, sizeof raw, &raw_len,
                            reinterpret_cast<const unsigned char*>(key.data()), key.size()) != 0 ||
      raw_len != 16)
    return refuse(400, "bad Sec-WebSocket-Key (need 16 octets in base64)");
  // The hub port serves hub connections only (Std AB.5.3.1); dc.bsc.bacnet.org is refused.
  if (!has_token(protocols_, kHubSubprotocol, false))
    return refuse(400, "subprotocol hub.bsc.bacnet.org required");
  status_ = 101;
  response_ = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
              websocket_accept(key) + "\r\nSec-WebSocket-Protocol: " +
              std::string(kHubSubprotocol) + "\r\n\r\n";
}

namespace {

// A request-target without its leading "/" ("GET hub/x HTTP/1.1": libwebsockets 4.1 sends
// its URL path that way) gets one; llhttp would refuse it, and the hub serves every path
// alike. Origin-form with "/", "*" and absolute-form ("wss://...") are left as they are.
void add_missing_slash(std::string* request_line) {
  const size_t sp = request_line->find(' ');
  if (sp == std::string::npos || sp + 1 >= request_line->size()) return;
  const size_t start = sp + 1;
  const char first = (*request_line)[start];
  if (first == '/' || first == '*' || first == ' ' || first == '\r' || first == '\n') return;
  const size_t end = request_line->find(' ', start);
  if (request_line->substr(start, end - start).find("://") != std::string::npos) return;
  request_line->insert(start, 1, '/');
}

}  // namespace

UpgradeParser::Result UpgradeParser::feed(const uint8_t* data, size_t len, size_t* consumed) {
  *consumed = 0;
  if (status_ != 0) return status_ == 101 ? Result::kAccepted : Result::kRefused;
  size_t line_part = 0;  // octets of `data` that went into the request line
  if (!line_done_) {
    // The request line is held until it is whole, then handed to llhttp, mended.
    const void* nl = std::memchr(data, '\n', len);
    line_part = nl ? size_t(static_cast<const uint8_t*>(nl) - data) + 1 : len;
    request_line_.append(reinterpret_cast<const char*>(data), line_part);
    head_bytes_ += line_part;
    if (head_bytes_ > kMaxUpgradeHeadBytes) {
      *consumed = len;
      refuse(431, "request head too large");
      return Result::kRefused;
    }
    if (!nl) {
      *consumed = len;
      return Result::kNeedMore;
    }
    line_done_ = true;
    add_missing_slash(&request_line_);
    if (llhttp_execute(&parser_, request_line_.data(), request_line_.size()) != HPE_OK) {
      *consumed = len;
      refuse(400, "malformed HTTP request");
      return Result::kRefused;
    }
    std::string().swap(request_line_);
    data += line_part;
    len -= line_part;
  }
  Result r = feed_headers(data, len, consumed);
  *consumed += line_part;
  return r;
}

UpgradeParser::Result UpgradeParser::feed_headers(const uint8_t* data, size_t len,
                                                  size_t* consumed) {
  llhttp_errno_t err = llhttp_execute(&parser_, reinterpret_cast<const char*>(data), len);
  if (err == HPE_PAUSED_UPGRADE && headers_done_) {
    size_t used = size_t(llhttp_get_error_pos(&parser_) - reinterpret_cast<const char*>(data));
    *consumed = used;
    if (head_bytes_ + used > kMaxUpgradeHeadBytes) {
      refuse(431, "request head too large");
    } else {
      check_request();
    }
  } else if (err != HPE_OK) {
    *consumed = len;
    refuse(400, "malformed HTTP request");
  } else {
    *consumed = len;
    head_bytes_ += len;
    if (head_bytes_ > kMaxUpgradeHeadBytes) refuse(431, "request head too large");
    else return Result::kNeedMore;
  }
  return status_ == 101 ? Result::kAccepted : Result::kRefused;
}

// ---- client side ------------------------------------------------------------------

std::string make_upgrade_request(std::string_view host_port, std::string_view key) {
  std::string r = "GET / HTTP/1.1\r\nHost: ";
  r.append(host_port);
  r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  r.append(key);
  r += "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ";
  r.append(kHubSubprotocol);
  r += "\r\n\r\n";
  return r;
}

UpgradeResponseParser::UpgradeResponseParser(std::string expected_accept)
    : expected_accept_(std::move(expected_accept)) {}

UpgradeResponseParser::Result UpgradeResponseParser::feed(const uint8_t* data, size_t len,
                                                          size_t* consumed) {
  size_t before = head_.size();
  head_.append(reinterpret_cast<const char*>(data), len);
  size_t end = head_.find("\r\n\r\n");
  if (end == std::string::npos) {
    *consumed = len;
    if (head_.size() > kMaxUpgradeHeadBytes) {
      error_ = "upgrade response head too large";
      return Result::kBad;
    }
    return Result::kNeedMore;
  }
  *consumed = end + 4 - before;
  std::string_view head(head_.data(), end + 2);
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.substr(0, 12) != "HTTP/1.1 101") {
    error_ = "hub refused the upgrade: " + std::string(status_line);
    return Result::kBad;
  }
  bool accept_ok = false, proto_ok = false;
  for (size_t pos = eol + 2; pos < head.size();) {
    size_t next = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, next - pos);
    pos = next + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (iequals(name, "sec-websocket-accept")) accept_ok = value == expected_accept_;
    if (iequals(name, "sec-websocket-protocol")) proto_ok = value == kHubSubprotocol;
  }
  if (!accept_ok) error_ = "bad Sec-WebSocket-Accept from hub";
  else if (!proto_ok) error_ = "hub did not echo subprotocol hub.bsc.bacnet.org";
  return error_.empty() ? Result::kOk : Result::kBad;
}

}  // namespace bsc
