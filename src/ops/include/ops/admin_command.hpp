// The admin socket's commands (docs/operations.md, "Admin socket"): parsed from one request
// line by parse_admin_command(), carried out by an AdminHandler (the app wires it to the
// hub), answered with an AdminReply.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/state_sink.hpp"

namespace bsc {

struct AdminCommand {
  enum class Verb : uint8_t {
    kDisconnect,  // target: a VMAC or a UUID
    kDenyAdd,     // deny_kind + target (+ note)
    kDenyRemove,  // deny_kind + target
    kDenyList,
    kPinList,
    kPinClear,    // target: a UUID
    kReload,      // like SIGHUP, with the result returned
    kHistory,     // the audit log, filtered
  };
  Verb verb = Verb::kDenyList;
  std::string target;  // VMAC, UUID or fingerprint text, as validated by the parser
  DenyEntry::Kind deny_kind = DenyEntry::Kind::kCertificate;
  std::string note;
  // history filters
  std::string vmac, uuid;
  int64_t since_unix_ms = 0;
  uint32_t limit = 100;
};

// What the socket sends back: `ok` and the lines of the result, or the error sentence.
struct AdminReply {
  bool ok = true;
  std::string error;               // one sentence when !ok
  std::vector<std::string> lines;  // the result, one item per line
};

// The process on the other end of the socket (SO_PEERCRED), for the audit log.
struct AdminPeer {
  uint32_t uid = 0, gid = 0;
  int32_t pid = 0;
};

class AdminHandler {
 public:
  virtual ~AdminHandler() = default;
  // Called on the admin thread, one command at a time; may block for a bounded time (a
  // disconnect waits for the workers, a reload for the certificate files).
  virtual AdminReply handle(const AdminCommand& command, const AdminPeer& peer) = 0;
};

// --- The wire (docs/operations.md, "Admin socket") ---------------------------------------
// Request: one line of words separated by spaces, ended by "\n" (or the end of the
// stream), at most kMaxAdminRequest octets with the "\n". Reply: "ok" or "error SENTENCE",
// then the result lines, then one empty line.
inline constexpr size_t kMaxAdminRequest = 4096;
inline constexpr size_t kMaxAdminNote = 256;          // octets of a deny note
inline constexpr uint32_t kMaxAdminHistoryLimit = 10000;

// "disconnect", "deny add", ... as on the wire (for logs).
const char* admin_verb_name(AdminCommand::Verb verb);
// Parses one request line (without its "\n"; a trailing "\r" is allowed). On success fills
// *out with every argument validated and in canonical form (VMAC "02:A1:...", UUID lower-case
// 8-4-4-4-12, fingerprint 64 lower-case hex digits); else sets *error to one sentence.
bool parse_admin_command(std::string_view line, AdminCommand* out, std::string* error);
// The request line for `command` (without "\n"); parse_admin_command() reads it back.
std::string format_admin_command(const AdminCommand& command);

// The reply as sent: never ambiguous, whatever the handler put in its lines (control
// characters become '?', an empty line becomes "-").
std::string encode_admin_reply(const AdminReply& reply);
// Reads a whole reply. Returns 1 when `text` holds a complete one (filled into *out), 0 when
// more is needed, -1 when it is malformed (*error says why).
int decode_admin_reply(std::string_view text, AdminReply* out, std::string* error);

}  // namespace bsc
