#include "status_table.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace bsc::ctl {
namespace {

using Row = std::vector<std::string>;

std::string text(const nlohmann::json& o, const char* key) {
  if (!o.is_object() || !o.contains(key) || o[key].is_null()) return "";
  const auto& v = o[key];
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string or_dash(std::string s) { return s.empty() ? "-" : s; }

// Columns aligned to the widest cell, two spaces apart.
std::string table(const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const Row& r : rows)
    for (size_t i = 0; i < header.size(); ++i) width[i] = std::max(width[i], r[i].size());
  auto line = [&](const Row& cells) {
    std::string out;
    for (size_t i = 0; i < header.size(); ++i) {
      out += cells[i];
      if (i + 1 < header.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    return out + "\n";
  };
  std::string out = line(header);
  for (const Row& r : rows) out += line(r);
  return out;
}

// "websocket-closed-abnormally (7/173): peer closed TCP", or "-" without an error.
std::string error_text(const nlohmann::json& e) {
  if (!e.contains("error")) return "-";
  std::string out = text(e, "error") + " (" + text(e, "error_class") + "/" +
                    text(e, "error_code") + ")";
  std::string details = text(e, "error_details");
  return details.empty() ? out : out + ": " + details;
}

}  // namespace

std::string format_status_table(const std::string& json_text, std::string* error) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("connections") ||
      !doc["connections"].is_array()) {
    *error = "the answer is not a bschub /status document";
    return "";
  }
  std::vector<Row> rows;
  for (const auto& c : doc["connections"]) {
    rows.push_back({text(c, "vmac"), text(c, "uuid"), text(c, "peer_address"),
                    text(c, "state"), text(c, "worker"), text(c, "connect_time"),
                    text(c, "pending_output_bytes"), or_dash(text(c, "last_error"))});
  }
  std::string out;
  const auto& hub = doc.value("hub", nlohmann::json::object());
  out += "hub " + text(hub, "uri") + "  vmac " + text(hub, "vmac") + "  uuid " +
         text(hub, "uuid") + "  workers " + text(hub, "workers") + "  nodes " +
         std::to_string(rows.size()) + "\n";
  if (!doc.value("complete", true)) out += "warning: some workers did not answer in time\n";
  out += table({"VMAC", "UUID", "PEER", "STATE", "WORKER", "CONNECTED SINCE", "PENDING",
                "LAST ERROR"},
               rows);

  // The connection history: what the device's Network Port lists (docs/operations.md).
  const auto& history = doc.value("history", nlohmann::json::object());
  if (!history.is_object()) return out;
  std::vector<Row> connections, failed;
  for (const auto& c : history.value("connections", nlohmann::json::array()))
    connections.push_back({text(c, "state"), text(c, "vmac"), text(c, "uuid"),
                           text(c, "peer_address"), text(c, "connect_time"),
                           or_dash(text(c, "disconnect_time")), error_text(c)});
  for (const auto& f : history.value("failed_requests", nlohmann::json::array()))
    failed.push_back({text(f, "time"), text(f, "peer_address"), or_dash(text(f, "vmac")),
                      or_dash(text(f, "uuid")), error_text(f)});
  out += "\nconnection history (" + std::to_string(connections.size()) + ")\n";
  out += table({"STATE", "VMAC", "UUID", "PEER", "CONNECTED", "DISCONNECTED", "ERROR"},
               connections);
  out += "\nfailed connection requests (" + std::to_string(failed.size()) + ")\n";
  out += table({"TIME", "PEER", "VMAC", "UUID", "ERROR"}, failed);
  return out;
}

}  // namespace bsc::ctl
