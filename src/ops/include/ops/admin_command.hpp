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

}  // namespace bsc
