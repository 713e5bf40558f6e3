// Formats the hub's /status JSON as an aligned text table (bschub-ctl status).
#pragma once
#include <string>

namespace bsc::ctl {

// Returns the table, or "" and sets *error when the JSON is not a bschub status document.
std::string format_status_table(const std::string& json_text, std::string* error);

}  // namespace bsc::ctl
