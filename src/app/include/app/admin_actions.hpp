// HubAdmin: what the admin socket's commands do to a running hub (docs/operations.md,
// "Admin socket"): disconnect, the deny list, the pins, reload, the audit log. Every
// action is logged and written to the audit log with who asked.
// Threads: handle() runs on the admin server's thread.
#pragma once
#include "ops/admin_command.hpp"

namespace bsc {

class Hub;
class StateStore;

class HubAdmin final : public AdminHandler {
 public:
  // `store` may be nullptr (no --state-dir: no audit log to read or write).
  HubAdmin(Hub& hub, StateStore* store) : hub_(hub), store_(store) {}
  AdminReply handle(const AdminCommand& command, const AdminPeer& peer) override;

 private:
  AdminReply disconnect(const std::string& target, const std::string& actor);
  AdminReply deny_add(const AdminCommand& command, const std::string& actor);
  AdminReply deny_remove(const AdminCommand& command);
  AdminReply deny_list();
  AdminReply pin_list();
  AdminReply pin_clear(const std::string& target);
  AdminReply reload();
  AdminReply history(const AdminCommand& command);
  void audit(const std::string& actor, const std::string& what, const AdminReply& reply);

  Hub& hub_;
  StateStore* store_;
};

}  // namespace bsc
