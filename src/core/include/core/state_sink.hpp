// What the hub asks to be kept across restarts (the pins, the deny list) and the audit log
// of who came, left, was refused or was acted on. Core produces these records; a StateSink
// (ops/state_store.hpp: SQLite, on a thread of its own) keeps them. Core never waits on it.
// Threads: every StateSink method may be called from [any thread] and must not block
// (it queues; a full queue drops and counts, never waits).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "bsc/vmac.hpp"
#include "net/peer_identity.hpp"

namespace bsc {

// The first certificate a device UUID connected with, by its public key.
struct Pin {
  Uuid uuid;
  Fingerprint public_key;
  int64_t pinned_unix_ms = 0;
  std::string subject;  // of the certificate that made the pin, for operators
};

// A deny-list entry: a certificate, a public key or a device UUID that must not connect.
struct DenyEntry {
  enum class Kind : uint8_t { kCertificate, kPublicKey, kUuid };
  Kind kind = Kind::kCertificate;
  std::string value;  // Fingerprint::to_hex() or Uuid::to_string()
  std::string note;   // the operator's reason, may be empty
  int64_t added_unix_ms = 0;
};
const char* deny_kind_name(DenyEntry::Kind kind);  // "certificate", "key", "uuid"
bool parse_deny_kind(std::string_view text, DenyEntry::Kind* out);

// One line of the audit log.
struct AuditRecord {
  enum class Kind : uint8_t { kConnect, kDisconnect, kRefuse, kAdmin };
  Kind kind = Kind::kConnect;
  int64_t unix_ms = 0;
  std::string vmac;         // Vmac::to_string(), "" if not known
  std::string uuid;         // Uuid::to_string(), "" if not known
  std::string peer;         // "198.51.100.7:50123", or the admin client "uid=0 pid=123"
  std::string fingerprint;  // the certificate's, "" if not known
  std::string reason;       // one sentence
};
const char* audit_kind_name(AuditRecord::Kind kind);  // "connect", "disconnect", "refuse", "admin"
bool parse_audit_kind(std::string_view text, AuditRecord::Kind* out);

class StateSink {
 public:
  virtual ~StateSink() = default;
  virtual void pin_added(const Pin& pin) = 0;
  virtual void pin_cleared(const Uuid& uuid) = 0;
  virtual void deny_added(const DenyEntry& entry) = 0;
  virtual void deny_removed(DenyEntry::Kind kind, const std::string& value) = 0;
  virtual void audit(AuditRecord record) = 0;
};

}  // namespace bsc
