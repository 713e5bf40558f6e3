#include "core/state_sink.hpp"

namespace bsc {

const char* deny_kind_name(DenyEntry::Kind kind) {
  switch (kind) {
    case DenyEntry::Kind::kCertificate: return "certificate";
    case DenyEntry::Kind::kPublicKey: return "key";
    case DenyEntry::Kind::kUuid: return "uuid";
  }
  return "?";
}

bool parse_deny_kind(std::string_view text, DenyEntry::Kind* out) {
  if (text == "certificate") {
    *out = DenyEntry::Kind::kCertificate;
  } else if (text == "key") {
    *out = DenyEntry::Kind::kPublicKey;
  } else if (text == "uuid") {
    *out = DenyEntry::Kind::kUuid;
  } else {
    return false;
  }
  return true;
}

const char* audit_kind_name(AuditRecord::Kind kind) {
  switch (kind) {
    case AuditRecord::Kind::kConnect: return "connect";
    case AuditRecord::Kind::kDisconnect: return "disconnect";
    case AuditRecord::Kind::kRefuse: return "refuse";
    case AuditRecord::Kind::kAdmin: return "admin";
  }
  return "?";
}

bool parse_audit_kind(std::string_view text, AuditRecord::Kind* out) {
  for (auto k : {AuditRecord::Kind::kConnect, AuditRecord::Kind::kDisconnect,
                 AuditRecord::Kind::kRefuse, AuditRecord::Kind::kAdmin}) {
    if (text == audit_kind_name(k)) {
      *out = k;
      return true;
    }
  }
  return false;
}

}  // namespace bsc
