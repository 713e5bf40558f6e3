// One blocking HTTP/1.1 GET to the hub's --metrics listener (bschub-ctl only).
#pragma once
#include <cstdint>
#include <string>

namespace bsc::ctl {

struct HttpResult {
  bool ok = false;      // transport worked and a status line was read
  int status = 0;
  std::string body;
  std::string error;    // one sentence when !ok
};

// Every step is bounded: 5 s to connect, send and between reads; 64 MiB of answer.
HttpResult http_get(const std::string& host, uint16_t port, const std::string& path);

}  // namespace bsc::ctl
