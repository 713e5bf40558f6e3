#include "ops/http_server.hpp"

#include <llhttp.h>

#include <cstring>

#include "util/log.hpp"

namespace bsc {
namespace {

constexpr size_t kMaxRequestBytes = 8192;  // a scrape request is a few hundred octets
constexpr size_t kMaxClients = 16;          // scrapers and operators, not the public
constexpr uint64_t kRequestTimeoutMs = 5000;

const char* status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

struct OpsHttpServer::Client {
  OpsHttpServer* server;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t write_req;
  llhttp_t parser;
  std::string url;
  std::string response;  // kept until the write completes
  size_t seen = 0;
  bool complete = false;   // a whole request head arrived
  bool answered = false;
  int open_handles = 2;
};

namespace {

int on_url(llhttp_t* p, const char* at, size_t len) {
  static_cast<std::string*>(p->data)->append(at, len);
  return 0;
}

int on_headers_complete(llhttp_t*) {
  // Method and path are known: answer now. No request here has a body worth reading, and
  // a POST with one still gets its 405 at once. One request per connection.
  return HPE_PAUSED;
}

const llhttp_settings_t* settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t x;
    llhttp_settings_init(&x);
    x.on_url = on_url;
    x.on_headers_complete = on_headers_complete;
    return x;
  }();
  return &s;
}

}  // namespace

OpsHttpServer::OpsHttpServer(Handler handler) : handler_(std::move(handler)) {
  uv_loop_init(&loop_);
}

OpsHttpServer::~OpsHttpServer() {
  stop();
  uv_loop_close(&loop_);
}

std::string OpsHttpServer::start(const std::string& host, uint16_t port) {
  sockaddr_storage ss{};
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (uv_ip4_addr(h.c_str(), port, reinterpret_cast<sockaddr_in*>(&ss)) != 0 &&
      uv_ip6_addr(h.c_str(), port, reinterpret_cast<sockaddr_in6*>(&ss)) != 0)
    return "--metrics host must be an IPv4 or IPv6 address, not '" + host + "'";
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  uv_async_init(&loop_, &stop_async_, on_stop);
  stop_async_.data = this;
  int rc = uv_tcp_bind(&listener_, reinterpret_cast<sockaddr*>(&ss), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 64, on_connection);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    return "cannot listen for --metrics on " + host + ":" + std::to_string(port) + ": " +
           uv_strerror(rc);
  }
  int len = sizeof ss;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  started_ = true;
  thread_ = std::thread([this] {
    log::set_thread_worker(-1);
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
  return "";
}

void OpsHttpServer::stop() {
  if (!started_) return;
  started_ = false;
  uv_async_send(&stop_async_);
  thread_.join();
}

void OpsHttpServer::on_stop(uv_async_t* h) {
  auto* s = static_cast<OpsHttpServer*>(h->data);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->listener_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->stop_async_), nullptr);
  for (Client* c : std::unordered_set<Client*>(s->clients_)) s->close_client(c);
  // The loop returns once the last client's handles are closed.
}

void OpsHttpServer::on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;  // EMFILE and friends: the scraper retries
  static_cast<OpsHttpServer*>(server->data)->accept_one();
}

void OpsHttpServer::accept_one() {
  auto* c = new Client{};
  c->server = this;
  uv_tcp_init(&loop_, &c->tcp);
  uv_timer_init(&loop_, &c->timer);
  c->tcp.data = c->timer.data = c->write_req.data = c;
  clients_.insert(c);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_),
                reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    close_client(c);
    return;
  }
  if (clients_.size() > kMaxClients) {
    LOG_WARN("metrics_client_refused", "reason=\"%zu clients already open\"", kMaxClients);
    close_client(c);
    return;
  }
  llhttp_init(&c->parser, HTTP_REQUEST, settings());
  c->parser.data = &c->url;
  uv_timer_start(&c->timer, [](uv_timer_t* t) {
    auto* cl = static_cast<Client*>(t->data);
    cl->server->close_client(cl);
  }, kRequestTimeoutMs, 0);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        static thread_local char space[4096];
        *buf = uv_buf_init(space, sizeof space);
      },
      [](uv_stream_t* st, ssize_t n, const uv_buf_t* buf) {
        auto* cl = static_cast<Client*>(st->data);
        OpsHttpServer* s = cl->server;
        if (n < 0) {
          s->close_client(cl);
          return;
        }
        if (n == 0 || cl->answered) return;
        cl->seen += size_t(n);
        if (cl->seen > kMaxRequestBytes) {
          s->respond(cl, 431, "text/plain; charset=utf-8", "request larger than 8 KiB\n");
          return;
        }
        llhttp_errno_t err = llhttp_execute(&cl->parser, buf->base, size_t(n));
        if (err == HPE_PAUSED) {
          cl->complete = true;
        } else if (err != HPE_OK) {
          s->respond(cl, 400, "text/plain; charset=utf-8",
                     std::string("bad request: ") + llhttp_errno_name(err) + "\n");
          return;
        }
        if (cl->url.size() > kMaxRequestBytes) {
          s->respond(cl, 431, "text/plain; charset=utf-8", "request larger than 8 KiB\n");
          return;
        }
        if (!cl->complete) return;
        if (llhttp_get_method(&cl->parser) != HTTP_GET) {
          s->respond(cl, 405, "text/plain; charset=utf-8", "only GET is served\n",
                     "Allow: GET\r\n");
          return;
        }
        std::string path = cl->url.substr(0, cl->url.find('?'));
        HttpResponse r = s->handler_(path);
        s->respond(cl, r.status, r.content_type, r.body);
      });
}

void OpsHttpServer::respond(Client* c, int status, const std::string& content_type,
                            const std::string& body, const char* extra_headers) {
  c->answered = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
  c->response = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) +
                "\r\nContent-Type: " + content_type +
                "\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
  uv_buf_t b = uv_buf_init(c->response.data(), unsigned(c->response.size()));
  int rc = uv_write(&c->write_req, reinterpret_cast<uv_stream_t*>(&c->tcp), &b, 1,
                    [](uv_write_t* w, int) {
                      auto* cl = static_cast<Client*>(w->data);
                      cl->server->close_client(cl);
                    });
  if (rc != 0) close_client(c);
}

void OpsHttpServer::close_client(Client* c) {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp))) return;
  auto on_closed = [](uv_handle_t* h) {
    auto* cl = static_cast<Client*>(h->data);
    if (--cl->open_handles == 0) {
      cl->server->clients_.erase(cl);
      delete cl;
    }
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), on_closed);
}

}  // namespace bsc
