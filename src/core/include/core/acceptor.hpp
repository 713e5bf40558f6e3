// Acceptor: a worker's listening socket and admission of new TCP connections. Each accepted
// connection gets a slot on the worker (Connection::start); then the policy checks close it
// at once, before any TLS work, so a flood of extra nodes costs little: the per-source rate
// (SourceLimiter, shared by all workers) and --max-connections (counted across workers).
// At the worker's open-handshake limit (HandshakeGate) it stops accepting: new nodes wait
// in the kernel's backlog until a handshake ends (resume()).
//
// Threads: [owner] (the worker's loop), except the [startup] calls.
#pragma once
#include <uv.h>

#include <cstdint>
#include <string>

namespace bsc {

class Connection;
class SourceLimiter;
class Worker;

class Acceptor {
 public:
  explicit Acceptor(Worker& worker) : worker_(worker) {}
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // [startup] Per-source-address connection rate limit shared by all workers (or none).
  void set_source_limiter(SourceLimiter* s) { sources_ = s; }
  // [startup] Adopts a listening socket fd (bound and listening) on `loop`.
  bool listen(uv_loop_t* loop, int listen_fd, std::string* error);
  // Stops accepting for good (shutdown): closes the listening socket.
  void close();
  // A handshake ended and freed a place at the gate: if accepting paused there, takes the
  // connection libuv holds and re-arms the listener.
  void resume();

 private:
  static void on_connection(uv_stream_t* server, int status);
  void accept_one();
  bool source_allowed(Connection* c);

  Worker& worker_;
  SourceLimiter* sources_ = nullptr;
  uv_tcp_t listener_;
  bool open_ = false;
  bool paused_ = false;  // at the gate's limit: a connection waits in the backlog
  uint64_t last_error_log_ms_ = 0;
};

}  // namespace bsc
