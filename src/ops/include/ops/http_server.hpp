// OpsHttpServer: the small HTTP/1.1 listener behind --metrics, on its own thread and uv
// loop, never on a forwarding worker (a slow scraper must not cost the hub a frame).
//
// One request per connection (answered with Connection: close). Bounds: 8 KiB per request
// (431 beyond), 16 concurrent connections (more are closed at once), 5 s to send a request.
// Only GET is served (405 otherwise); what a path returns is the handler's business.
//
// Threads: start()/stop() from the main thread; the handler runs on the server's thread.
#pragma once
#include <uv.h>

#include <functional>
#include <string>
#include <thread>
#include <unordered_set>

namespace bsc {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class OpsHttpServer {
 public:
  // Gets the path of a GET request (query string removed) and returns the answer.
  using Handler = std::function<HttpResponse(const std::string& path)>;

  explicit OpsHttpServer(Handler handler);
  ~OpsHttpServer();
  OpsHttpServer(const OpsHttpServer&) = delete;
  OpsHttpServer& operator=(const OpsHttpServer&) = delete;

  // Binds HOST:PORT (port 0: any) and starts the thread. Returns "" or one sentence.
  std::string start(const std::string& host, uint16_t port);
  // The port actually bound (valid after start()).
  uint16_t port() const { return port_; }
  // Closes the listener and every client, ends the thread. Idempotent.
  void stop();

 private:
  struct Client;
  static void on_connection(uv_stream_t* server, int status);
  static void on_stop(uv_async_t* h);
  void accept_one();
  void respond(Client* c, int status, const std::string& content_type, const std::string& body,
               const char* extra_headers = "");
  void close_client(Client* c);

  Handler handler_;
  uv_loop_t loop_;
  uv_tcp_t listener_;
  uv_async_t stop_async_;
  std::thread thread_;
  uint16_t port_ = 0;
  bool started_ = false;
  std::unordered_set<Client*> clients_;  // open clients, owned here until their handles close
};

}  // namespace bsc
