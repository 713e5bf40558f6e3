// bschub-ctl: asks a running hub's --metrics listener for its status table or metrics, and
// acts on it through its --admin-socket (docs/operations.md, "Admin socket").
//   bschub-ctl status  [--metrics HOST:PORT]   aligned table of the connected nodes
//   bschub-ctl metrics [--metrics HOST:PORT]   the raw Prometheus scrape
//   bschub-ctl [--admin-socket PATH] disconnect|deny|pin|reload|history ...
// Exit codes: status/metrics: 0 ok, 1 hub unreachable or bad answer, 2 bad command line.
// Admin commands: 0 ok, 1 the hub answered an error, 2 bad command line or socket unreachable.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "admin_client.hpp"
#include "http_get.hpp"
#include "ops/admin_command.hpp"
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

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const std::string& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

// Validates `line` with the hub's own parser (same errors, before connecting), sends its
// canonical form, prints the result lines.
int run_admin(const std::string& path, const std::string& line) {
  bsc::AdminCommand command;
  std::string err;
  if (!bsc::parse_admin_command(line, &command, &err)) {
    std::fprintf(stderr, "bschub-ctl: %s\n", err.c_str());
    return 2;
  }
  bsc::AdminReply reply;
  if (!bsc::ctl::admin_call(path, bsc::format_admin_command(command), &reply, &err)) {
    std::fprintf(stderr, "bschub-ctl: %s\n", err.c_str());
    return 2;
  }
  for (const std::string& l : reply.lines) std::printf("%s\n", l.c_str());
  if (!reply.ok) {
    std::fprintf(stderr, "bschub-ctl: %s\n", reply.error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bschub-ctl: show a running bschub's connection table or metrics, or act on it "
               "through its admin socket"};
  std::string endpoint = "127.0.0.1:9464";
  app.add_option("--metrics", endpoint, "the hub's --metrics HOST:PORT (or PORT)")
      ->capture_default_str();
  app.require_subcommand(1);
  CLI::App* status = app.add_subcommand("status", "print the connected nodes as a table");
  CLI::App* metrics = app.add_subcommand("metrics", "print the raw Prometheus scrape");
  status->fallthrough();
  metrics->fallthrough();

  // Admin commands: each builds the request line; run_admin() validates it.
  std::string admin_socket = "/run/bschub/admin.sock";
  app.add_option("--admin-socket", admin_socket, "the hub's --admin-socket PATH")
      ->capture_default_str();
  std::string line, target, kind, value, vmac, uuid, since;
  std::vector<std::string> note;
  uint32_t limit = 100;
  CLI::App* disconnect =
      app.add_subcommand("disconnect", "disconnect the node with this VMAC or device UUID");
  disconnect->add_option("target", target, "VMAC or device UUID")->required();
  CLI::App* deny = app.add_subcommand("deny", "the deny list: add, remove, list");
  deny->require_subcommand(1);
  CLI::App* deny_add = deny->add_subcommand("add", "deny a certificate, key or device UUID");
  deny_add->add_option("kind", kind, "certificate, key or uuid")->required();
  deny_add->add_option("value", value, "SHA-256 fingerprint (64 hex digits) or UUID")
      ->required();
  deny_add->add_option("note", note, "the reason, kept with the entry");
  CLI::App* deny_remove = deny->add_subcommand("remove", "remove a deny-list entry");
  deny_remove->add_option("kind", kind, "certificate, key or uuid")->required();
  deny_remove->add_option("value", value, "SHA-256 fingerprint or UUID")->required();
  CLI::App* deny_list = deny->add_subcommand("list", "print the deny list");
  CLI::App* pin = app.add_subcommand("pin", "identity pins: list, clear");
  pin->require_subcommand(1);
  CLI::App* pin_list = pin->add_subcommand("list", "print the pinned device UUIDs");
  CLI::App* pin_clear = pin->add_subcommand("clear", "forget the pin of a device UUID");
  pin_clear->add_option("uuid", target, "device UUID")->required();
  CLI::App* reload = app.add_subcommand("reload", "reload certificates and CA (like SIGHUP)");
  CLI::App* history = app.add_subcommand("history", "print the audit log, newest last");
  history->add_option("--vmac", vmac, "only this VMAC");
  history->add_option("--uuid", uuid, "only this device UUID");
  history->add_option("--since", since,
                      "only from this time on: unix seconds or 2026-12-02T10:00:00Z (UTC)");
  history->add_option("--limit", limit, "at most this many records (1..10000)")
      ->capture_default_str();
  for (CLI::App* sub : {disconnect, deny, deny_add, deny_remove, deny_list, pin, pin_list,
                        pin_clear, reload, history})
    sub->fallthrough();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "bschub-ctl: %s (see --help)\n", e.what());
    return 2;
  }
  if (disconnect->parsed()) return run_admin(admin_socket, "disconnect " + target);
  if (deny_add->parsed())
    return run_admin(admin_socket, "deny add " + kind + " " + value +
                                       (note.empty() ? "" : " " + joined(note)));
  if (deny_remove->parsed()) return run_admin(admin_socket, "deny remove " + kind + " " + value);
  if (deny_list->parsed()) return run_admin(admin_socket, "deny list");
  if (pin_list->parsed()) return run_admin(admin_socket, "pin list");
  if (pin_clear->parsed()) return run_admin(admin_socket, "pin clear " + target);
  if (reload->parsed()) return run_admin(admin_socket, "reload");
  if (history->parsed()) {
    line = "history limit=" + std::to_string(limit);
    if (!vmac.empty()) line += " vmac=" + vmac;
    if (!uuid.empty()) line += " uuid=" + uuid;
    if (!since.empty()) {
      int64_t ms = 0;
      if (!bsc::ctl::parse_since(since, &ms)) {
        std::fprintf(stderr,
                     "bschub-ctl: --since wants unix seconds or 2026-12-02T10:00:00Z, not '%s'\n",
                     since.c_str());
        return 2;
      }
      line += " since=" + std::to_string(ms);
    }
    return run_admin(admin_socket, line);
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
