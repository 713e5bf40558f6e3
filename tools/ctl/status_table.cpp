#include "status_table.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace bsc::ctl {

std::string format_status_table(const std::string& json_text, std::string* error) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("connections") ||
      !doc["connections"].is_array()) {
    *error = "the answer is not a bschub /status document";
    return "";
  }
  static const char* const kColumns[] = {"VMAC", "UUID", "PEER", "STATE", "WORKER",
                                         "CONNECTED SINCE", "PENDING", "LAST ERROR"};
  constexpr size_t kN = std::size(kColumns);
  std::vector<std::vector<std::string>> rows;
  auto text = [](const nlohmann::json& o, const char* key) -> std::string {
    if (!o.contains(key)) return "";
    const auto& v = o[key];
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
  };
  for (const auto& c : doc["connections"]) {
    std::string err = text(c, "last_error");
    rows.push_back({text(c, "vmac"), text(c, "uuid"), text(c, "peer_address"),
                    text(c, "state"), text(c, "worker"), text(c, "connect_time"),
                    text(c, "pending_output_bytes"), err.empty() ? "-" : err});
  }
  size_t width[kN];
  for (size_t i = 0; i < kN; ++i) width[i] = std::string(kColumns[i]).size();
  for (const auto& r : rows)
    for (size_t i = 0; i < kN; ++i) width[i] = std::max(width[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < kN; ++i) {
      out += cells[i];
      if (i + 1 < kN) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    return out + "\n";
  };
  std::string out;
  const auto& hub = doc.value("hub", nlohmann::json::object());
  out += "hub " + text(hub, "uri") + "  vmac " + text(hub, "vmac") + "  uuid " +
         text(hub, "uuid") + "  workers " + text(hub, "workers") + "  nodes " +
         std::to_string(rows.size()) + "\n";
  if (!doc.value("complete", true)) out += "warning: some workers did not answer in time\n";
  out += line(std::vector<std::string>(std::begin(kColumns), std::end(kColumns)));
  for (const auto& r : rows) out += line(r);
  return out;
}

}  // namespace bsc::ctl
