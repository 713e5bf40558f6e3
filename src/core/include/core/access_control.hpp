// AccessControl: who may be on the network beyond "holds a certificate from a configured
// CA" (docs/operations.md, "Identity binding" and "Deny list"):
//   - the deny list: certificates, public keys and device UUIDs that must not connect;
//   - identity binding (--identity-binding): with `pin`, the first public key a device UUID
//     connects with is remembered and a Connect-Request claiming that UUID with another key
//     is refused (a node cannot knock another off by claiming its UUID); with
//     `certificate`, the UUID must be one the certificate names (PeerIdentity::named_uuids).
// Changes go to the StateSink (pins and denies last across restarts) as they happen.
//
// Threads: [any thread]. Checks run at TLS completion and at Connect-Request, never per
// frame; they take a shared lock, changes (a first pin, an admin command) the exclusive one,
// held for a map update only (the sink queues without blocking).
#pragma once
#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bsc/vmac.hpp"
#include "core/config.hpp"
#include "core/state_sink.hpp"
#include "net/peer_identity.hpp"

namespace bsc {

class AccessControl {
 public:
  // `sink` may be nullptr (no --state-dir: nothing lasts); `max_pins` bounds the pin table
  // (beyond it new UUIDs connect unpinned, logged).
  AccessControl(IdentityBinding binding, size_t max_pins, StateSink* sink);
  // [startup] Where pin and deny changes go from now on (nullptr: nowhere).
  void set_sink(StateSink* sink) { sink_ = sink; }

  IdentityBinding binding() const { return binding_; }
  // [startup] What the state store kept from earlier runs (the sink is not told again).
  void load(const std::vector<Pin>& pins, const std::vector<DenyEntry>& denies);

  // After TLS: "" or why this certificate may not connect (its certificate or key denied).
  std::string refuse_certificate(const PeerIdentity& id) const;

  // A Connect-Request claiming `uuid` over a session with `id` (nullptr without TLS).
  struct Verdict {
    bool ok = true;
    bool denied = false;   // !ok: the UUID is on the deny list (else: identity binding)
    bool new_pin = false;  // ok: this request made the UUID's pin
    std::string why;       // !ok: one sentence for the log, the history and the NAK
  };
  Verdict admit(const Uuid& uuid, const PeerIdentity* id, int64_t now_unix_ms);
  // Undoes the pin admit() just made when the Connect-Request was refused after all
  // (duplicate VMAC): only a connected node leaves a pin behind.
  void forget_new_pin(const Uuid& uuid, const PeerIdentity& id);

  // A connection, after the deny list changed: "" or why it must go (`uuid` nullptr before
  // its Connect-Request, `id` without TLS).
  std::string still_allowed(const Uuid* uuid, const PeerIdentity* id) const;

  // ---- operator actions (the admin socket) ----
  std::vector<Pin> pins() const;
  bool clear_pin(const Uuid& uuid);  // false if there was none
  bool deny_add(const DenyEntry& entry);  // false if it was there already
  bool deny_remove(DenyEntry::Kind kind, const std::string& value);  // false if absent
  std::vector<DenyEntry> denies() const;
  size_t pin_count() const;
  size_t deny_count() const;

 private:
  bool denied_locked(DenyEntry::Kind kind, const std::string& value) const;
  // `v`, refused unless `id` has the public key `pin` (of UUID `key`) holds.
  static Verdict check_pin(const Pin& pin, const PeerIdentity& id, const std::string& key,
                           Verdict v);

  const IdentityBinding binding_;
  const size_t max_pins_;
  StateSink* sink_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Pin> pins_;  // by Uuid::to_string()
  // Deny entries by kind, value: the lists an operator sees; lookups by the same text.
  std::unordered_map<std::string, DenyEntry> denies_[3];
  bool pins_full_logged_ = false;
};

}  // namespace bsc
