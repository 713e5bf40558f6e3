#include "admin_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace bsc::ctl {
namespace {

constexpr int kReplyTimeoutS = 60;             // a reload or disconnect may take seconds
constexpr size_t kMaxReply = 64 * 1024 * 1024;  // a long history, not a runaway

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

bool admin_call(const std::string& path, const std::string& line, AdminReply* reply,
                std::string* error) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) {
    *error = "--admin-socket " + path + " is longer than a Unix socket address (107 octets)";
    return false;
  }
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  Fd s{socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0 || connect(s.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    *error = "cannot connect to " + path + ": " + std::strerror(errno);
    return false;
  }
  timeval tv{kReplyTimeoutS, 0};
  setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string request = line + "\n";
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // the hub may have answered already (a refusal): read it
    sent += size_t(n);
  }
  std::string text;
  char buf[65536];
  for (;;) {
    std::string why;
    int done = decode_admin_reply(text, reply, &why);
    if (done == 1) return true;
    if (done < 0) {
      *error = "unexpected reply from " + path + ": " + why;
      return false;
    }
    ssize_t n = recv(s.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      *error = "no reply from " + path + " within " + std::to_string(kReplyTimeoutS) + " s";
      return false;
    }
    if (n <= 0) {
      *error = "the hub closed " + path + " before the end of its reply" +
               (n < 0 ? std::string(": ") + std::strerror(errno) : "");
      return false;
    }
    text.append(buf, size_t(n));
    if (text.size() > kMaxReply) {
      *error = "the reply from " + path + " is larger than 64 MiB";
      return false;
    }
  }
}

bool parse_since(const std::string& text, int64_t* unix_ms) {
  if (!text.empty() && text.size() <= 12 &&
      text.find_first_not_of("0123456789") == std::string::npos) {
    *unix_ms = std::stoll(text) * 1000;
    return true;
  }
  tm t{};
  char z = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &t.tm_year, &t.tm_mon, &t.tm_mday,
                  &t.tm_hour, &t.tm_min, &t.tm_sec, &z, &used) != 7 ||
      z != 'Z' || size_t(used) != text.size())
    return false;
  tm want = t;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  time_t secs = timegm(&t);
  // timegm normalises 2026-02-30 into March: such a date was not a date.
  if (secs < 0 || t.tm_year + 1900 != want.tm_year || t.tm_mon + 1 != want.tm_mon ||
      t.tm_mday != want.tm_mday || t.tm_hour != want.tm_hour || t.tm_min != want.tm_min ||
      t.tm_sec != want.tm_sec)
    return false;
  *unix_ms = int64_t(secs) * 1000;
  return true;
}

}  // namespace bsc::ctl
