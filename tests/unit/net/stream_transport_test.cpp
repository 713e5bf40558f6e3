// StreamTransport: plaintext comes out in arrival order (with put-back bytes first); output
// crosses a real loopback TCP pair intact; while the kernel has not taken a write, a second
// flush does nothing and the idle-buffer release refuses; after it, both work again.
#include <doctest/doctest.h>

#include <uv.h>

#include <cstring>
#include <string>
#include <vector>

#include "net/stream_transport.hpp"

namespace {

using bsc::StreamTransport;
using bsc::TlsSession;

// One end: keeps every plaintext octet it receives and what the transport reported.
struct End final : StreamTransport::Events {
  StreamTransport t{this};
  std::string received;
  int writes_done = 0;
  int write_status = 1;
  bool read_ended = false;
  bool closed = false;

  void on_transport_read(const uint8_t* data, size_t len) override {
    t.feed(data, len);
    uint8_t buf[4096];
    TlsSession::Status st;
    while (size_t n = t.pull_plain(buf, sizeof buf, &st))
      received.append(reinterpret_cast<char*>(buf), n);
  }
  void on_transport_read_end(int) override { read_ended = true; }
  void on_transport_written(int status) override {
    ++writes_done;
    write_status = status;
  }
  void on_transport_closed() override { closed = true; }
};

std::string pull_all(StreamTransport& t, size_t chunk) {
  std::string s;
  std::vector<uint8_t> buf(chunk);
  TlsSession::Status st;
  while (size_t n = t.pull_plain(buf.data(), buf.size(), &st))
    s.append(reinterpret_cast<char*>(buf.data()), n);
  return s;
}

void feed(StreamTransport& t, const char* text) {
  t.feed(reinterpret_cast<const uint8_t*>(text), std::strlen(text));
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char('a' + (i * 7 + i / 251) % 26);
  return s;
}

// A connected loopback pair on one loop: `client` connected, `server` accepted (not reading).
struct Pair {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_connect_t connect_req;
  std::vector<uint8_t> read_buf = std::vector<uint8_t>(64 * 1024);
  End client;
  End server;
  bool connected = false;
  bool accepted = false;

  Pair() {
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &listener);
    listener.data = this;
    sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    REQUIRE(uv_tcp_bind(&listener, reinterpret_cast<const sockaddr*>(&addr), 0) == 0);
    REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(&listener), 4, [](uv_stream_t* l, int) {
              auto* p = static_cast<Pair*>(l->data);
              p->server.t.init(&p->loop, p->read_buf.data(), p->read_buf.size());
              p->accepted =
                  uv_accept(l, reinterpret_cast<uv_stream_t*>(p->server.t.tcp())) == 0;
            }) == 0);
    int len = sizeof addr;
    uv_tcp_getsockname(&listener, reinterpret_cast<sockaddr*>(&addr), &len);
    REQUIRE(client.t.init(&loop, read_buf.data(), read_buf.size()) == 0);
    connect_req.data = this;
    REQUIRE(uv_tcp_connect(&connect_req, client.t.tcp(), reinterpret_cast<const sockaddr*>(&addr),
                           [](uv_connect_t* r, int status) {
                             static_cast<Pair*>(r->data)->connected = status == 0;
                           }) == 0);
    REQUIRE(run_until([this] { return connected && accepted; }));
  }

  ~Pair() {
    client.t.close();
    server.t.close();
    uv_close(reinterpret_cast<uv_handle_t*>(&listener), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }

  // Runs the loop until `done` (false after 10 s).
  template <class F>
  bool run_until(F done) {
    uint64_t deadline = uv_hrtime() + 10'000'000'000ULL;
    while (!done()) {
      if (uv_hrtime() > deadline) return false;
      uv_run(&loop, UV_RUN_NOWAIT);
    }
    return true;
  }
};

}  // namespace

TEST_CASE("StreamTransport: plaintext in arrival order, put-back bytes first") {
  End e;  // no socket: input is fed by hand
  CHECK(e.t.closing());
  feed(e.t, "GET / ");
  feed(e.t, "HTTP/1.1\r\n");
  uint8_t buf[4];
  TlsSession::Status st;
  REQUIRE(e.t.pull_plain(buf, sizeof buf, &st) == 4);
  CHECK(std::memcmp(buf, "GET ", 4) == 0);
  CHECK(st == TlsSession::Status::kOk);
  // The rest of a read that went to a parser goes back in front of what is still unread.
  e.t.unread(reinterpret_cast<const uint8_t*>("xy"), 2);
  feed(e.t, "tail");
  CHECK(pull_all(e.t, 3) == "xy/ HTTP/1.1\r\ntail");
  CHECK(e.t.pull_plain(buf, sizeof buf, &st) == 0);
  CHECK(st == TlsSession::Status::kOk);
}

TEST_CASE("StreamTransport: idle buffers are not released while input is unread") {
  End e;
  feed(e.t, "abc");
  CHECK_FALSE(e.t.release_idle_buffers());
  CHECK(pull_all(e.t, 2) == "abc");
  CHECK(e.t.release_idle_buffers());
  e.t.output().push_back(1);
  CHECK_FALSE(e.t.release_idle_buffers());
}

TEST_CASE("StreamTransport: output crosses loopback TCP intact") {
  Pair p;
  p.server.t.start_reading();
  std::string msg = pattern(300 * 1000);
  std::vector<uint8_t>& out = p.client.t.output();
  out.insert(out.end(), msg.begin(), msg.end());
  CHECK(p.client.t.pending_output() == msg.size());
  StreamTransport::Flush f = p.client.t.flush();
  CHECK((f == StreamTransport::Flush::kSent || f == StreamTransport::Flush::kQueued));
  CHECK(p.client.t.pending_output() == 0);
  REQUIRE(p.run_until([&] { return p.server.received.size() >= msg.size(); }));
  CHECK(p.server.received == msg);
  CHECK(p.client.t.flush() == StreamTransport::Flush::kNothing);
  // The peer closing shows as the end of reading, not as data.
  p.client.t.close();
  REQUIRE(p.run_until([&] { return p.server.read_ended && p.client.closed; }));
  CHECK(p.client.t.closing());
  CHECK(p.client.t.flush() == StreamTransport::Flush::kBusy);
}

TEST_CASE("StreamTransport: a write the kernel has not taken blocks flush and buffer release") {
  Pair p;  // the server does not read yet: the kernel's buffers fill
  std::string msg = pattern(32 * 1024 * 1024);
  std::vector<uint8_t>& out = p.client.t.output();
  out.insert(out.end(), msg.begin(), msg.end());
  REQUIRE(p.client.t.flush() == StreamTransport::Flush::kQueued);
  CHECK(p.client.t.in_flight() > 0);
  CHECK(p.client.t.in_flight() < msg.size());
  CHECK_FALSE(p.client.t.release_idle_buffers());
  // More output waits for the next flush after the write completes.
  out.push_back('!');
  CHECK(p.client.t.flush() == StreamTransport::Flush::kBusy);
  CHECK(p.client.t.pending_output() == 1);

  p.server.t.start_reading();
  REQUIRE(p.run_until([&] { return p.client.writes_done == 1; }));
  CHECK(p.client.write_status == 0);
  CHECK(p.client.t.in_flight() == 0);
  CHECK(p.client.t.flush() != StreamTransport::Flush::kBusy);
  REQUIRE(p.run_until([&] { return p.server.received.size() >= msg.size() + 1; }));
  CHECK(p.server.received.size() == msg.size() + 1);
  CHECK(p.server.received.compare(0, msg.size(), msg) == 0);
  CHECK(p.server.received.back() == '!');
  CHECK(p.client.t.release_idle_buffers());

  // Read budget: a paused reader takes nothing until resumed.
  p.server.t.pause_reading();
  p.server.received.clear();
  out.insert(out.end(), {'x', 'y'});
  p.client.t.flush();
  for (int i = 0; i < 20; ++i) uv_run(&p.loop, UV_RUN_NOWAIT);
  CHECK(p.server.received.empty());
  p.server.t.resume_reading();
  REQUIRE(p.run_until([&] { return p.server.received == "xy"; }));
}
