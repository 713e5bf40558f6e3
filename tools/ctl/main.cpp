// bschub-ctl: asks a running hub's --metrics listener for its status table or metrics.
//   bschub-ctl status  [--metrics HOST:PORT]   aligned table of the connected nodes
//   bschub-ctl metrics [--metrics HOST:PORT]   the raw Prometheus scrape
// Exit codes: 0 ok, 1 hub unreachable or bad answer, 2 bad command line.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "http_get.hpp"
#include "status_table.hpp"

namespace {

bool parse_endpoint(std::string text, std::string* host, uint16_t* port) {
  if (text.find(':') == std::string::npos) text = "127.0.0.1:" + text;  // bare PORT
  size_t colon = text.rfind(':');
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  char* end = nullptr;
  unsigned long p = std::strtoul(text.c_str() + colon + 1, &end, 10);
  if (h.empty() || *end != '\0' || colon + 1 == text.size() || p == 0 || p > 65535)
    return false;
  *host = h;
  *port = uint16_t(p);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bschub-ctl: show a running bschub's connection table or metrics"};
  std::string endpoint = "127.0.0.1:9464";
  app.add_option("--metrics", endpoint, "the hub's --metrics HOST:PORT (or PORT)")
      ->capture_default_str();
  app.require_subcommand(1);
  CLI::App* status = app.add_subcommand("status", "print the connected nodes as a table");
  CLI::App* metrics = app.add_subcommand("metrics", "print the raw Prometheus scrape");
  status->fallthrough();
  metrics->fallthrough();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "bschub-ctl: %s (see --help)\n", e.what());
    return 2;
  }
  std::string host;
  uint16_t port = 0;
  if (!parse_endpoint(endpoint, &host, &port)) {
    std::fprintf(stderr, "bschub-ctl: --metrics wants HOST:PORT or PORT, not '%s'\n",
                 endpoint.c_str());
    return 2;
  }
  bool want_status = status->parsed();
  bsc::ctl::HttpResult r = bsc::ctl::http_get(host, port, want_status ? "/status" : "/metrics");
  if (!r.ok) {
    std::fprintf(stderr, "bschub-ctl: %s\n", r.error.c_str());
    return 1;
  }
  if (r.status != 200) {
    std::fprintf(stderr, "bschub-ctl: the hub answered HTTP %d: %s", r.status, r.body.c_str());
    return 1;
  }
  if (!want_status) {
    std::fwrite(r.body.data(), 1, r.body.size(), stdout);
    return 0;
  }
  std::string err;
  std::string table = bsc::ctl::format_status_table(r.body, &err);
  if (table.empty()) {
    std::fprintf(stderr, "bschub-ctl: %s\n", err.c_str());
    return 1;
  }
  std::fwrite(table.data(), 1, table.size(), stdout);
  return 0;
}
