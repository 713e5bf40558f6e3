// libFuzzer target: the admin socket's grammar (ops/admin_command.hpp) on arbitrary bytes:
// parse_admin_command() on the first line, decode_admin_reply() on the whole input.
// Checks: a parsed command's canonical line parses back to the same command, its fields are
// in canonical form; an error is one non-empty line; a decoded reply re-encodes to a reply
// that decodes the same; an encoded reply built from the input always decodes whole.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "ops/admin_command.hpp"

namespace {

bool one_line(std::string_view s, bool tabs = false) {
  for (char c : s)
    if ((static_cast<unsigned char>(c) < 0x20 && !(tabs && c == '\t')) || c == 0x7F)
      return false;
  return true;
}

void check_command(std::string_view line) {
  bsc::AdminCommand c;
  std::string err;
  if (!bsc::parse_admin_command(line, &c, &err)) {
    FUZZ_CHECK(!err.empty() && one_line(err));
    return;
  }
  FUZZ_CHECK(line.size() < bsc::kMaxAdminRequest);
  FUZZ_CHECK(c.target.find(' ') == std::string::npos && one_line(c.target));
  FUZZ_CHECK(c.note.size() <= bsc::kMaxAdminNote && one_line(c.note, true));
  FUZZ_CHECK(c.limit >= 1 && c.limit <= bsc::kMaxAdminHistoryLimit && c.since_unix_ms >= 0);
  if (c.verb == bsc::AdminCommand::Verb::kDisconnect)
    FUZZ_CHECK(bsc::Vmac::parse(c.target) || bsc::Uuid::parse(c.target));
  if (c.verb == bsc::AdminCommand::Verb::kPinClear)
    FUZZ_CHECK(bsc::Uuid::parse(c.target) && bsc::Uuid::parse(c.target)->to_string() == c.target);
  std::string canonical = bsc::format_admin_command(c);
  bsc::AdminCommand again;
  FUZZ_CHECK(bsc::parse_admin_command(canonical, &again, &err));
  FUZZ_CHECK(bsc::format_admin_command(again) == canonical);
  FUZZ_CHECK(again.verb == c.verb && again.target == c.target && again.note == c.note &&
             again.vmac == c.vmac && again.uuid == c.uuid &&
             again.since_unix_ms == c.since_unix_ms && again.limit == c.limit &&
             again.deny_kind == c.deny_kind);
}

void check_reply(std::string_view text) {
  bsc::AdminReply r;
  std::string err;
  int done = bsc::decode_admin_reply(text, &r, &err);
  if (done < 0) FUZZ_CHECK(!err.empty());
  if (done != 1) return;
  std::string wire = bsc::encode_admin_reply(r);
  bsc::AdminReply back;
  FUZZ_CHECK(bsc::decode_admin_reply(wire, &back, &err) == 1);
  FUZZ_CHECK(back.ok == r.ok && back.lines.size() == r.lines.size());
}

// Whatever a handler returns, the reply stays one reply with as many lines.
void check_encode(std::string_view text) {
  bsc::AdminReply r;
  r.ok = !text.empty() && (text[0] & 1);
  r.error = std::string(text.substr(0, text.size() / 3));
  for (size_t at = 0; at < text.size();) {
    size_t next = text.find('|', at);
    if (next == std::string_view::npos) next = text.size();
    r.lines.emplace_back(text.substr(at, next - at));
    at = next + 1;
  }
  std::string wire = bsc::encode_admin_reply(r);
  bsc::AdminReply back;
  std::string err;
  FUZZ_CHECK(bsc::decode_admin_reply(wire, &back, &err) == 1);
  FUZZ_CHECK(back.ok == r.ok && back.lines.size() == r.lines.size());
  FUZZ_CHECK(wire.size() == bsc::encode_admin_reply(back).size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_command(in.substr(0, in.find('\n')));
  check_reply(in);
  check_encode(in);
  return 0;
}
