// The client side of the hub's admin socket (docs/operations.md, "Admin socket"): one
// request line out, one reply (ops/admin_command.hpp's encoding) back.
#pragma once
#include <string>

#include "ops/admin_command.hpp"

namespace bsc::ctl {

// Sends `line` to the socket at `path` and reads the whole reply. Returns false with one
// sentence in *error when the hub cannot be reached or its reply is cut short or malformed.
bool admin_call(const std::string& path, const std::string& line, AdminReply* reply,
                std::string* error);

// "1764669600" (unix seconds) or "2026-12-02T10:00:00Z" (ISO 8601, UTC) -> unix ms.
bool parse_since(const std::string& text, int64_t* unix_ms);

}  // namespace bsc::ctl
