// AdminServer: the --admin-socket listener (docs/operations.md, "Admin socket"). A Unix
// domain socket only, never TCP: the kernel tells who is calling (SO_PEERCRED), and the file
// mode keeps everyone else from even connecting.
//
// Who may act: uid 0, the hub's own effective uid, and (with --admin-group) members of that
// group (the peer's gid or supplementary groups). Anyone else gets
// "error permission denied: uid N is not allowed" and is closed.
//
// One request line per connection (ops/admin_command.hpp), then the reply, then close.
// Bounds: kMaxAdminRequest octets per request, a read timeout (5 s), 16 clients at once.
// The handler runs on the server's own thread and loop, one command at a time.
//
// Threads: start()/stop() from the main thread; the handler on the server's thread.
#pragma once
#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>

#include "ops/admin_command.hpp"

namespace bsc {

// The gid of group `name` (a name or a number), or one sentence in *error.
std::optional<gid_t> resolve_admin_group(const std::string& name, std::string* error);

class AdminServer {
 public:
  AdminServer();
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // How long a client has to send its request line (default 5000 ms). Before start().
  void set_read_timeout_ms(uint64_t ms) { read_timeout_ms_ = ms; }

  // Creates the socket at `path` (mode 0600, or 0660 and group `allowed_group`), replacing
  // only a stale socket, and starts the thread. Returns "" or one sentence.
  std::string start(const std::string& path, std::optional<gid_t> allowed_group,
                    AdminHandler& handler);
  // Closes the listener and every client, ends the thread, removes the socket file (if it is
  // still ours). Idempotent.
  void stop();

 private:
  struct Client;
  static void on_connection(uv_stream_t* server, int status);
  static void on_stop(uv_async_t* h);
  void accept_one();
  void on_line(Client* c, std::string_view line);
  void reply(Client* c, const AdminReply& r);
  void close_client(Client* c);
  bool allowed(const AdminPeer& peer, int fd) const;

  AdminHandler* handler_ = nullptr;
  std::optional<gid_t> group_;
  std::string path_;
  dev_t dev_ = 0;  // the socket file we made, so stop() never removes someone else's
  ino_t ino_ = 0;
  uint64_t read_timeout_ms_ = 5000;
  uv_loop_t loop_;
  uv_pipe_t listener_;
  uv_async_t stop_async_;
  std::thread thread_;
  bool started_ = false;
  std::unordered_set<Client*> clients_;
};

}  // namespace bsc
