#include "http_get.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bsc::ctl {
namespace {
constexpr size_t kMaxAnswer = 64u << 20;  // a /status of 100k nodes is ~30 MiB
}

HttpResult http_get(const std::string& host, uint16_t port, const std::string& path) {
  HttpResult r;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  int gai = getaddrinfo(h.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (gai != 0) {
    r.error = "cannot resolve " + host + ": " + gai_strerror(gai);
    return r;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // also bounds connect()
  int rc = connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  std::string where = host + ":" + std::to_string(port);
  if (rc != 0) {
    r.error = "cannot connect to " + where + ": " + std::strerror(errno) +
              " (is bschub running with --metrics?)";
    close(fd);
    return r;
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + where +
                    "\r\nUser-Agent: bschub-ctl\r\nConnection: close\r\n\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
    r.error = "cannot send to " + where + ": " + std::strerror(errno);
    close(fd);
    return r;
  }
  std::string answer;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;  // the server closes after one answer
    if (n < 0) {
      r.error = "reading from " + where + ": " + std::strerror(errno);
      close(fd);
      return r;
    }
    answer.append(buf, size_t(n));
    if (answer.size() > kMaxAnswer) {
      r.error = "answer from " + where + " larger than 64 MiB";
      close(fd);
      return r;
    }
  }
  close(fd);
  size_t head_end = answer.find("\r\n\r\n");
  if (answer.compare(0, 9, "HTTP/1.1 ") != 0 || head_end == std::string::npos) {
    r.error = "not an HTTP answer from " + where;
    return r;
  }
  r.ok = true;
  r.status = std::atoi(answer.c_str() + 9);
  r.body = answer.substr(head_end + 4);
  return r;
}

}  // namespace bsc::ctl
