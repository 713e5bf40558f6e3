// libFuzzer target: the hub's whole per-connection input path without TLS. The fuzz input is
// the byte stream of one client on a real loopback TCP connection to a real bsc::Worker (as
// with --no-tls): HTTP upgrade (llhttp) -> WebSocket (wslay) -> BVLC-SC decode -> hub
// function -> routing -> output. A second, well-behaved node (VMAC 02:00:00:00:00:0B, the
// destination the seeds use) is connected first, so unicasts and broadcasts are routed to
// somebody. The worker's loop runs on this thread, one iteration at a time (Worker::listen).
//
// Checked on every input (__builtin_trap on a violation):
//  - the fuzzed client gets nothing, or an HTTP/1.1 response; after a 101 only unmasked
//    frames with the opcodes the hub sends (binary, close, ping, pong), nothing after Close;
//  - every binary message the bystander receives decodes as BVLC-SC (what the hub forwards
//    or says is always well-formed);
//  - once both clients have closed, the worker releases both connections and the routing
//    table is empty again (no VMAC outlives its connection).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "bsc/bvlc.hpp"
#include "core/config.hpp"
#include "core/routing_map.hpp"
#include "core/worker.hpp"
#include "util/log.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr size_t kMaxRounds = 256;  // loop iterations per phase: bounds one execution

struct Hub {
  bsc::Config config;
  std::atomic<size_t> open{0};
  bsc::RoutingMap* routing = nullptr;
  bsc::Worker* worker = nullptr;
  sockaddr_in addr{};
};

Hub& hub() {
  static Hub* h = [] {
    auto* h = new Hub;
    std::signal(SIGPIPE, SIG_IGN);
    bsc::log::g_level = int(bsc::log::Level::kOff);
    bsc::Config& c = h->config;
    c.tls = false;
    c.workers = 1;
    c.hub_vmac = *bsc::Vmac::parse("92:7B:F7:1A:96:A2");
    c.handshake_timeout_s = c.connect_wait_s = c.heartbeat_timeout_s = 3600;
    c.max_pending_output = 256 * 1024;
    h->routing = new bsc::RoutingMap(c.hub_vmac, c.max_connections);
    h->worker = new bsc::Worker(0, c, nullptr, *h->routing, h->open);
    h->worker->connect_peers({h->worker});
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    h->addr.sin_family = AF_INET;
    h->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof h->addr;
    FUZZ_CHECK(fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&h->addr), len) == 0);
    FUZZ_CHECK(::listen(fd, 16) == 0);
    FUZZ_CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&h->addr), &len) == 0);
    std::string error;
    FUZZ_CHECK(h->worker->listen(fd, &error));
    return h;
  }();
  return *h;
}

// One client socket (non-blocking) and everything the hub sent it.
struct Client {
  int fd = -1;
  std::vector<uint8_t> got;

  void open() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    // A new source address in 127.1.0.0/16 for each connection: the hub closes many of
    // them first, and its TIME_WAIT entries would use up one address's ephemeral ports.
    static uint32_t next_source = 0;
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7F010000u | (1 + next_source++ % 65000));
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    FUZZ_CHECK(bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) == 0);
    const sockaddr_in& a = hub().addr;
    // Non-blocking: on a busy machine the handshake may wait for softirq time, and a
    // blocking connect() is then cut short by libFuzzer's SIGALRM (EINTR).
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int rc = connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    if (rc != 0 && (errno == EINPROGRESS || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      int err = ETIMEDOUT;
      socklen_t elen = sizeof err;
      while (poll(&p, 1, 10000) < 0 && errno == EINTR) {
      }
      if (p.revents != 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      std::fprintf(stderr, "connection_fuzz: connect: %s\n", std::strerror(errno));
      __builtin_trap();   // the harness's own trouble, not a finding: see the message
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  void send_all(const uint8_t* p, size_t n) {
    // Loopback takes far more than one input at once; a short write means the hub closed.
    while (n > 0) {
      ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w <= 0) return;
      p += w;
      n -= size_t(w);
    }
  }
  // Reads what is there; true if anything arrived.
  bool pump() {
    if (fd < 0) return false;
    bool any = false;
    uint8_t buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) return any;
      got.insert(got.end(), buf, buf + n);
      any = true;
    }
  }
  void close() {
    // RST, not FIN: a FIN would leave our side in TIME_WAIT.
    linger rst{1, 0};
    if (fd >= 0) {
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof rst);
      ::close(fd);
    }
    fd = -1;
  }
};

// Runs the worker's loop until nothing new reaches the clients for a few iterations.
void drive(Client& a, Client& b) {
  size_t quiet = 0;
  for (size_t i = 0; i < kMaxRounds && quiet < 3; ++i) {
    uv_run(hub().worker->loop(), UV_RUN_NOWAIT);
    bool any = a.pump();
    any = b.pump() || any;
    quiet = any ? 0 : quiet + 1;
  }
}

// Server frames after the 101 head (RFC 6455 §5.2). Calls on_binary for each binary one.
template <typename F>
void check_frames(const uint8_t* p, size_t n, F on_binary) {
  bool closed = false;
  while (n >= 2) {
    FUZZ_CHECK(!closed);           // nothing after a Close
    FUZZ_CHECK((p[1] & 0x80) == 0);  // servers never mask
    uint8_t op = p[0] & 0x0F;
    FUZZ_CHECK(op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA);
    size_t len = p[1] & 0x7F, hdr = 2;
    if (len == 126) {
      if (n < 4) return;
      len = (size_t(p[2]) << 8) | p[3];
      hdr = 4;
    } else if (len == 127) {
      if (n < 10) return;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      hdr = 10;
    }
    if (n - hdr < len) return;  // cut short by the close: fine
    if (op == 0x2) on_binary(p + hdr, len);
    if (op == 0x8) closed = true;
    p += hdr + len;
    n -= hdr + len;
  }
}

size_t head_end(const std::vector<uint8_t>& v) {
  static const char kEnd[] = "\r\n\r\n";
  for (size_t i = 0; i + 4 <= v.size(); ++i)
    if (std::memcmp(v.data() + i, kEnd, 4) == 0) return i + 4;
  return 0;
}

const char kUpgrade[] =
    "GET / HTTP/1.1\r\nHost: hub\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: hub.bsc.bacnet.org\r\n\r\n";

// The bystander's upgrade and Connect-Request (VMAC 02:00:00:00:00:0B), masked with a zero
// key so the frame bytes are the BVLC bytes.
void connect_bystander(Client& b, Client& none) {
  static const uint8_t kConnect[] = {
      0x82, 0x80 | 30, 0, 0, 0, 0,                              // binary, masked, key 0
      0x06, 0x00, 0x00, 0x01,                                   // Connect-Request id 1
      0x02, 0x00, 0x00, 0x00, 0x00, 0x0B,                       // VMAC
      0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7,           // UUID
      0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF,
      0x05, 0xDC, 0x05, 0xD9};                                  // max BVLC 1500, NPDU 1497
  b.open();
  b.send_all(reinterpret_cast<const uint8_t*>(kUpgrade), sizeof kUpgrade - 1);
  b.send_all(kConnect, sizeof kConnect);
  drive(b, none);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Hub& h = hub();
  Client bystander, fuzzed;
  connect_bystander(bystander, fuzzed);
  size_t accepted_at = head_end(bystander.got);
  FUZZ_CHECK(accepted_at > 0);

  // The input goes out in up to four writes, split at points taken from its own bytes, so
  // the hub sees heads, frames and messages cut at varying places.
  fuzzed.open();
  size_t pos = 0;
  for (int piece = 0; piece < 4 && pos < size; ++piece) {
    size_t n = size - pos;
    if (piece < 3 && size > 8) n = 1 + (data[(pos * 7 + piece) % size] * size) / 1024;
    if (n > size - pos) n = size - pos;
    fuzzed.send_all(data + pos, n);
    pos += n;
    drive(fuzzed, bystander);
  }

  // What the fuzzed client got: nothing, or an HTTP/1.1 response (then frames after a 101).
  const std::vector<uint8_t>& out = fuzzed.got;
  if (!out.empty()) {
    FUZZ_CHECK(out.size() >= 9 && std::memcmp(out.data(), "HTTP/1.1 ", 9) == 0);
    size_t end = head_end(out);
    if (end > 0 && std::memcmp(out.data(), "HTTP/1.1 101 ", 13) == 0)
      check_frames(out.data() + end, out.size() - end, [](const uint8_t*, size_t) {});
  }
  // Everything the bystander got is well-formed BVLC-SC.
  check_frames(bystander.got.data() + accepted_at, bystander.got.size() - accepted_at,
               [](const uint8_t* p, size_t n) {
                 FUZZ_CHECK(bsc::decode(std::span<const uint8_t>(p, n)).ok);
               });

  // Both leave: the worker frees both connections and every VMAC they held.
  fuzzed.close();
  bystander.close();
  for (size_t i = 0; i < kMaxRounds && h.open.load() != 0; ++i)
    uv_run(h.worker->loop(), UV_RUN_NOWAIT);
  FUZZ_CHECK(h.open.load() == 0);
  FUZZ_CHECK(h.routing->size() == 0);
  return 0;
}
