#include "ops/admin_server.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "util/log.hpp"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59  // Linux 4.13; older glibc headers lack the name
#endif

namespace bsc {
namespace {

constexpr size_t kMaxClients = 16;  // operators and scripts, not the public
constexpr const char* kTooLong = "request too long (the limit is 4096 octets)";
static_assert(kMaxAdminRequest == 4096, "kTooLong names the limit");

std::string errno_text(int e) { return std::strerror(e); }

// The supplementary groups of the peer as the kernel saw them at connect() (race-free);
// /proc/<pid>/status where SO_PEERGROUPS is missing.
std::vector<gid_t> peer_groups(int fd, int32_t pid) {
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 2; ++attempt) {
    socklen_t len = socklen_t(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      return groups;
    }
    if (errno != ERANGE) break;
    groups.resize(len / sizeof(gid_t) + 1);  // the kernel said how many there are
  }
  groups.clear();
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.compare(0, 7, "Groups:") != 0) continue;
    std::istringstream in(line.substr(7));
    for (gid_t g; in >> g;) groups.push_back(g);
  }
  return groups;
}

// A stale socket (no one accepting) may be replaced; a live one or any other file not.
std::string clear_path(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return "";
    return "cannot use --admin-socket " + path + ": " + errno_text(errno);
  }
  if (!S_ISSOCK(st.st_mode))
    return "--admin-socket " + path + " exists and is not a socket; refusing to replace it";
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  bool live = probe >= 0 && connect(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  if (probe >= 0) close(probe);
  if (live) return "--admin-socket " + path + " is in use by another process";
  if (unlink(path.c_str()) != 0 && errno != ENOENT)
    return "cannot remove the stale socket " + path + ": " + errno_text(errno);
  return "";
}

// The bound, listening socket with its final mode; -1 and *error on failure.
int make_socket(const std::string& path, std::optional<gid_t> group, std::string* error) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = "cannot create the admin socket: " + errno_text(errno);
    return -1;
  }
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  // The file is born owner-only: there is no moment in which others could connect. (umask
  // is per process; start() runs at startup, before any other thread creates files.)
  mode_t old_mask = umask(0177);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  int bind_errno = errno;
  umask(old_mask);
  if (rc != 0) {
    *error = "cannot bind --admin-socket " + path + ": " + errno_text(bind_errno);
    close(fd);
    return -1;
  }
  // Group first, then the group's permission: never group-writable by the wrong group.
  if (group && (chown(path.c_str(), uid_t(-1), *group) != 0 || chmod(path.c_str(), 0660) != 0)) {
    *error = "cannot give --admin-socket " + path + " to group " + std::to_string(*group) + ": " +
             errno_text(errno);
    close(fd);
    unlink(path.c_str());
    return -1;
  }
  if (listen(fd, 16) != 0) {
    *error = "cannot listen on --admin-socket " + path + ": " + errno_text(errno);
    close(fd);
    unlink(path.c_str());
    return -1;
  }
  return fd;
}

}  // namespace

std::optional<gid_t> resolve_admin_group(const std::string& name, std::string* error) {
  std::vector<char> buf(16384);
  group gr;
  group* found = nullptr;
  if (!name.empty() && getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) == 0 &&
      found != nullptr)
    return found->gr_gid;
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
      name.size() < 10)
    return gid_t(std::stoul(name));
  *error = "--admin-group: no group named '" + name + "'";
  return std::nullopt;
}

struct AdminServer::Client {
  AdminServer* server;
  uv_pipe_t pipe;
  uv_timer_t timer;
  uv_write_t write_req;
  std::string request;
  std::string response;  // kept until the write completes
  AdminPeer peer;
  bool answered = false;
  int open_handles = 2;
};

AdminServer::AdminServer() { uv_loop_init(&loop_); }

AdminServer::~AdminServer() {
  stop();
  uv_loop_close(&loop_);
}

std::string AdminServer::start(const std::string& path, std::optional<gid_t> allowed_group,
                               AdminHandler& handler) {
  if (path.empty() || path[0] != '/') return "--admin-socket must be an absolute path";
  if (path.size() > sizeof(sockaddr_un{}.sun_path) - 1)
    return "--admin-socket must be at most 107 octets (a Unix socket address)";
  std::string err = clear_path(path);
  if (!err.empty()) return err;
  int fd = make_socket(path, allowed_group, &err);
  if (fd < 0) return err;
  struct stat st;
  lstat(path.c_str(), &st);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  path_ = path;
  handler_ = &handler;
  group_ = allowed_group;
  uv_pipe_init(&loop_, &listener_, 0);
  listener_.data = this;
  uv_async_init(&loop_, &stop_async_, on_stop);
  stop_async_.data = this;
  int rc = uv_pipe_open(&listener_, fd);
  if (rc != 0) close(fd);  // else the handle owns it
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 16, on_connection);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    unlink(path.c_str());
    return "cannot listen on --admin-socket " + path + ": " + uv_strerror(rc);
  }
  started_ = true;
  thread_ = std::thread([this] {
    log::set_thread_worker(-1);
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
  LOG_INFO("admin_listening", "path=\"%s\" mode=%s", path.c_str(), group_ ? "0660" : "0600");
  return "";
}

void AdminServer::stop() {
  if (!started_) return;
  started_ = false;
  uv_async_send(&stop_async_);
  thread_.join();
  struct stat st;
  if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
    unlink(path_.c_str());
}

void AdminServer::on_stop(uv_async_t* h) {
  auto* s = static_cast<AdminServer*>(h->data);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->listener_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->stop_async_), nullptr);
  for (Client* c : std::unordered_set<Client*>(s->clients_)) s->close_client(c);
}

void AdminServer::on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;  // EMFILE and friends: the operator retries
  static_cast<AdminServer*>(server->data)->accept_one();
}

bool AdminServer::allowed(const AdminPeer& peer, int fd) const {
  if (peer.uid == 0 || peer.uid == geteuid()) return true;
  if (!group_) return false;
  if (peer.gid == *group_) return true;
  for (gid_t g : peer_groups(fd, peer.pid))
    if (g == *group_) return true;
  return false;
}

void AdminServer::accept_one() {
  auto* c = new Client{};
  c->server = this;
  uv_pipe_init(&loop_, &c->pipe, 0);
  uv_timer_init(&loop_, &c->timer);
  c->pipe.data = c->timer.data = c->write_req.data = c;
  clients_.insert(c);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_),
                reinterpret_cast<uv_stream_t*>(&c->pipe)) != 0) {
    close_client(c);
    return;
  }
  uv_os_fd_t fd = -1;
  uv_fileno(reinterpret_cast<uv_handle_t*>(&c->pipe), &fd);
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    close_client(c);
    return;
  }
  c->peer = AdminPeer{uint32_t(cred.uid), uint32_t(cred.gid), int32_t(cred.pid)};
  if (!allowed(c->peer, fd)) {
    LOG_WARN("admin_refused", "uid=%u gid=%u pid=%d", c->peer.uid, c->peer.gid, c->peer.pid);
    reply(c, AdminReply{false, "permission denied: uid " + std::to_string(c->peer.uid) +
                                   " is not allowed", {}});
    return;
  }
  if (clients_.size() > kMaxClients) {
    LOG_WARN("admin_client_refused", "reason=\"%zu clients already open\"", kMaxClients);
    reply(c, AdminReply{false, "too many admin clients at once; try again", {}});
    return;
  }
  uv_timer_start(&c->timer, [](uv_timer_t* t) {
    auto* cl = static_cast<Client*>(t->data);
    LOG_INFO("admin_timeout", "uid=%u pid=%d", cl->peer.uid, cl->peer.pid);
    cl->server->reply(cl, AdminReply{false, "no request within " +
                                                std::to_string(cl->server->read_timeout_ms_) +
                                                " ms", {}});
  }, read_timeout_ms_, 0);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->pipe),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        static thread_local char space[4096];
        *buf = uv_buf_init(space, sizeof space);
      },
      [](uv_stream_t* st, ssize_t n, const uv_buf_t* buf) {
        auto* cl = static_cast<Client*>(st->data);
        AdminServer* s = cl->server;
        if (cl->answered) return;
        if (n < 0) {
          // The end of the stream ends the line too (`printf reload | socat ...`).
          if (n == UV_EOF && !cl->request.empty()) {
            s->on_line(cl, cl->request);
          } else {
            s->close_client(cl);
          }
          return;
        }
        size_t before = cl->request.size();
        cl->request.append(buf->base, size_t(n));
        size_t nl = cl->request.find('\n', before);
        if (nl != std::string::npos) {
          if (nl >= kMaxAdminRequest) {
            s->reply(cl, AdminReply{false, kTooLong, {}});
          } else {
            s->on_line(cl, std::string_view(cl->request).substr(0, nl));
          }
        } else if (cl->request.size() >= kMaxAdminRequest) {
          s->reply(cl, AdminReply{false, kTooLong, {}});
        }
      });
}

void AdminServer::on_line(Client* c, std::string_view line) {
  AdminCommand command;
  std::string error;
  if (!parse_admin_command(line, &command, &error)) {
    LOG_INFO("admin_command", "verb=none uid=%u pid=%d result=error error=\"%s\"", c->peer.uid,
             c->peer.pid, error.c_str());
    reply(c, AdminReply{false, error, {}});
    return;
  }
  AdminReply r;
  try {
    r = handler_->handle(command, c->peer);
  } catch (const std::exception& e) {
    r = AdminReply{false, std::string("internal error: ") + e.what(), {}};
  }
  // The target is a VMAC, UUID or fingerprint, never a secret; the note is not logged.
  LOG_INFO("admin_command", "verb=\"%s\" target=\"%s\" uid=%u pid=%d result=%s error=\"%s\"",
           admin_verb_name(command.verb), command.target.c_str(), c->peer.uid, c->peer.pid,
           r.ok ? "ok" : "error", r.ok ? "" : r.error.c_str());
  reply(c, r);
}

void AdminServer::reply(Client* c, const AdminReply& r) {
  c->answered = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->pipe));
  // A client that does not read its reply is cut after the same time it had to ask.
  uv_timer_start(&c->timer, [](uv_timer_t* t) {
    auto* cl = static_cast<Client*>(t->data);
    cl->server->close_client(cl);
  }, read_timeout_ms_, 0);
  c->response = encode_admin_reply(r);
  uv_buf_t b = uv_buf_init(c->response.data(), unsigned(c->response.size()));
  int rc = uv_write(&c->write_req, reinterpret_cast<uv_stream_t*>(&c->pipe), &b, 1,
                    [](uv_write_t* w, int) {
                      auto* cl = static_cast<Client*>(w->data);
                      cl->server->close_client(cl);
                    });
  if (rc != 0) close_client(c);
}

void AdminServer::close_client(Client* c) {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->pipe))) return;
  auto on_closed = [](uv_handle_t* h) {
    auto* cl = static_cast<Client*>(h->data);
    if (--cl->open_handles == 0) {
      cl->server->clients_.erase(cl);
      delete cl;
    }
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&c->pipe), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), on_closed);
}

}  // namespace bsc
