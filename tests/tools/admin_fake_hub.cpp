// admin_fake_hub: an AdminServer (ops/admin_server.hpp) in front of a fake AdminHandler, for
// tests/integration/test_admin_socket.py. The handler prints every command it gets
// ("command <request line> uid=U gid=G pid=P", flushed) and answers with canned replies:
//   disconnect 02:00:00:00:00:EE          -> error "no node with VMAC 02:00:00:00:00:EE"
//   deny list                             -> ok, two entries
//   history ...                           -> ok, one line echoing the filters
//   anything else                         -> ok, "done <request line>"
// A command whose target is the UUID 00000000-0000-0000-0000-0000000000ff sleeps
// --slow-ms first (a handler that blocks for a bounded time).
//   admin_fake_hub --socket PATH [--group NAME] [--timeout-ms N] [--slow-ms N]
// Prints "ready" once the socket exists; runs until SIGTERM/SIGINT, then removes it.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "ops/admin_server.hpp"

namespace {

class FakeHandler : public bsc::AdminHandler {
 public:
  uint64_t slow_ms = 0;
  bsc::AdminReply handle(const bsc::AdminCommand& c, const bsc::AdminPeer& peer) override {
    std::string line = bsc::format_admin_command(c);
    std::printf("command %s uid=%u gid=%u pid=%d\n", line.c_str(), peer.uid, peer.gid, peer.pid);
    std::fflush(stdout);
    if (c.target == "00000000-0000-0000-0000-0000000000ff")
      std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));
    using V = bsc::AdminCommand::Verb;
    if (c.verb == V::kDisconnect && c.target == "02:00:00:00:00:EE")
      return {false, "no node with VMAC 02:00:00:00:00:EE", {}};
    if (c.verb == V::kDenyList)
      return {true, "", {"certificate " + std::string(64, 'a') + " lost laptop",
                         "uuid 12345678-1234-1234-1234-123456789abc"}};
    if (c.verb == V::kHistory)
      return {true, "", {"vmac=" + c.vmac + " uuid=" + c.uuid + " since=" +
                         std::to_string(c.since_unix_ms) + " limit=" + std::to_string(c.limit)}};
    return {true, "", {"done " + line}};
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string path, group_name;
  uint64_t timeout_ms = 5000;
  FakeHandler handler;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string opt = argv[i];
    if (opt == "--socket") path = argv[i + 1];
    else if (opt == "--group") group_name = argv[i + 1];
    else if (opt == "--timeout-ms") timeout_ms = std::strtoull(argv[i + 1], nullptr, 10);
    else if (opt == "--slow-ms") handler.slow_ms = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "admin_fake_hub: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  std::optional<gid_t> group;
  std::string err;
  if (!group_name.empty() && !(group = bsc::resolve_admin_group(group_name, &err))) {
    std::fprintf(stderr, "admin_fake_hub: %s\n", err.c_str());
    return 2;
  }
  // The server thread inherits the mask: only sigwait() below sees these.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  bsc::AdminServer server;
  server.set_read_timeout_ms(timeout_ms);
  err = server.start(path, group, handler);
  if (!err.empty()) {
    std::fprintf(stderr, "admin_fake_hub: %s\n", err.c_str());
    return 2;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  server.stop();
  return 0;
}
