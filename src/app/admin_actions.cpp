#include "app/admin_actions.hpp"

#include "core/access_control.hpp"
#include "core/hub.hpp"
#include "core/sweep.hpp"
#include "ops/state_store.hpp"
#include "util/log.hpp"
#include "util/unix_time.hpp"

namespace bsc {

namespace {

AdminReply fail(std::string why) {
  AdminReply r;
  r.ok = false;
  r.error = std::move(why);
  return r;
}

AdminReply say(std::string line) {
  AdminReply r;
  r.lines.push_back(std::move(line));
  return r;
}

std::string plural(long n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// The sweep result as the operator reads it.
std::string swept(long n) {
  return n < 0 ? "a worker did not answer in time; its nodes are checked when it does"
               : plural(n, "node") + " disconnected";
}

bool changes_state(AdminCommand::Verb v) {
  return v != AdminCommand::Verb::kDenyList && v != AdminCommand::Verb::kPinList &&
         v != AdminCommand::Verb::kHistory;
}

}  // namespace

AdminReply HubAdmin::handle(const AdminCommand& c, const AdminPeer& peer) {
  const std::string actor = "uid=" + std::to_string(peer.uid) + " pid=" + std::to_string(peer.pid);
  AdminReply r;
  switch (c.verb) {
    case AdminCommand::Verb::kDisconnect: r = disconnect(c.target, actor); break;
    case AdminCommand::Verb::kDenyAdd: r = deny_add(c, actor); break;
    case AdminCommand::Verb::kDenyRemove: r = deny_remove(c); break;
    case AdminCommand::Verb::kDenyList: r = deny_list(); break;
    case AdminCommand::Verb::kPinList: r = pin_list(); break;
    case AdminCommand::Verb::kPinClear: r = pin_clear(c.target); break;
    case AdminCommand::Verb::kReload: r = reload(); break;
    case AdminCommand::Verb::kHistory: r = history(c); break;
  }
  if (changes_state(c.verb)) {
    std::string what = admin_verb_name(c.verb);
    if (!c.target.empty()) what += " " + c.target;
    audit(actor, what, r);
  }
  return r;
}

void HubAdmin::audit(const std::string& actor, const std::string& what, const AdminReply& r) {
  std::string result = r.ok ? (r.lines.empty() ? "ok" : r.lines.front()) : "error: " + r.error;
  LOG_INFO("admin_action", "actor=\"%s\" command=\"%s\" result=\"%s\"", actor.c_str(),
           what.c_str(), result.c_str());
  if (!store_) return;
  AuditRecord a;
  a.kind = AuditRecord::Kind::kAdmin;
  a.unix_ms = unix_now_ms();
  a.peer = actor;
  a.reason = what + ": " + result;
  store_->audit(std::move(a));
}

AdminReply HubAdmin::disconnect(const std::string& target, const std::string& actor) {
  std::optional<Vmac> vmac = Vmac::parse(target);
  std::optional<Uuid> uuid = vmac ? std::nullopt : Uuid::parse(target);
  if (!vmac && !uuid) return fail("'" + target + "' is neither a VMAC nor a UUID");
  Sweep s;
  s.cause = Sweep::Cause::kAdmin;
  std::string why = "disconnected by the operator (" + actor + ")";
  s.check = [vmac, uuid, why](const SweepTarget& t) -> std::string {
    if (!t.routable) return "";
    bool match = vmac ? *t.vmac == *vmac : *t.uuid == *uuid;
    return match ? why : std::string();
  };
  long n = hub_.sweep(s);
  if (n == 0) return fail("no connected node has " + std::string(vmac ? "VMAC " : "UUID ") + target);
  return say(swept(n));
}

AdminReply HubAdmin::deny_add(const AdminCommand& c, const std::string& actor) {
  DenyEntry e;
  e.kind = c.deny_kind;
  e.value = c.target;
  e.note = c.note.empty() ? "added by " + actor : c.note;
  e.added_unix_ms = unix_now_ms();
  AccessControl& access = hub_.access();
  bool added = access.deny_add(e);
  hub_.forget_known_certificates();
  // Whoever is connected with it now goes (also when it was listed already: a retry after a
  // worker timed out finishes the job).
  Sweep s;
  s.cause = Sweep::Cause::kDenied;
  AccessControl* a = &access;
  s.check = [a](const SweepTarget& t) { return a->still_allowed(t.uuid, t.identity); };
  long n = hub_.sweep(s);
  return say(std::string(added ? "denied " : "already denied: ") + deny_kind_name(e.kind) + " " +
             e.value + "; " + swept(n));
}

AdminReply HubAdmin::deny_remove(const AdminCommand& c) {
  if (!hub_.access().deny_remove(c.deny_kind, c.target))
    return fail(std::string(deny_kind_name(c.deny_kind)) + " " + c.target +
                " is not on the deny list");
  hub_.forget_known_certificates();
  return say(std::string("removed ") + deny_kind_name(c.deny_kind) + " " + c.target);
}

AdminReply HubAdmin::deny_list() {
  AdminReply r;
  for (const DenyEntry& d : hub_.access().denies())
    r.lines.push_back(std::string(deny_kind_name(d.kind)) + " " + d.value + " added=" +
                      iso8601_utc(d.added_unix_ms) + (d.note.empty() ? "" : " note=" + d.note));
  return r;
}

AdminReply HubAdmin::pin_list() {
  AdminReply r;
  for (const Pin& p : hub_.access().pins())
    r.lines.push_back(p.uuid.to_string() + " key=" + p.public_key.to_hex() + " pinned=" +
                      iso8601_utc(p.pinned_unix_ms) + " subject=" + p.subject);
  return r;
}

AdminReply HubAdmin::pin_clear(const std::string& target) {
  std::optional<Uuid> uuid = Uuid::parse(target);
  if (!uuid) return fail("'" + target + "' is not a UUID");
  if (!hub_.access().clear_pin(*uuid)) return fail("no pin for UUID " + target);
  return say("pin cleared for " + uuid->to_string() +
             "; the next certificate to connect with it is pinned");
}

AdminReply HubAdmin::history(const AdminCommand& c) {
  if (!store_) return fail("the hub keeps no audit log (start it with --state-dir)");
  AuditQuery q;
  q.vmac = c.vmac;
  q.uuid = c.uuid;
  q.since_unix_ms = c.since_unix_ms;
  q.limit = c.limit;
  std::string err;
  std::vector<AuditRecord> rows = store_->query_audit(q, &err);
  if (!err.empty()) return fail("reading the audit log: " + err);
  AdminReply r;
  // Oldest first, like a log (the store returns the newest `limit`, newest first).
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    const AuditRecord& a = *it;
    std::string line = iso8601_utc(a.unix_ms) + " " + audit_kind_name(a.kind);
    if (!a.vmac.empty()) line += " vmac=" + a.vmac;
    if (!a.uuid.empty()) line += " uuid=" + a.uuid;
    if (!a.peer.empty()) line += " peer=" + a.peer;
    if (!a.fingerprint.empty()) line += " certificate=" + a.fingerprint.substr(0, 16);
    line += " reason=\"" + a.reason + "\"";
    r.lines.push_back(std::move(line));
  }
  return r;
}

AdminReply HubAdmin::reload() {
  Hub::ReloadResult r = hub_.reload();
  if (!r.ok) return fail("reload failed, previous certificates kept: " + r.error);
  return say("reloaded; re-check: " + swept(r.disconnected));
}

}  // namespace bsc
