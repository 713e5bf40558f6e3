#include "core/access_control.hpp"

#include <algorithm>
#include <mutex>

#include "util/log.hpp"

namespace bsc {

namespace {

size_t kind_index(DenyEntry::Kind k) { return size_t(k); }

bool names_uuid(const PeerIdentity& id, const Uuid& uuid) {
  return std::find(id.named_uuids.begin(), id.named_uuids.end(), uuid) != id.named_uuids.end();
}

}  // namespace

AccessControl::AccessControl(IdentityBinding binding, size_t max_pins, StateSink* sink)
    : binding_(binding), max_pins_(max_pins), sink_(sink) {}

void AccessControl::load(const std::vector<Pin>& pins, const std::vector<DenyEntry>& denies) {
  std::unique_lock lock(mu_);
  for (const Pin& p : pins) pins_[p.uuid.to_string()] = p;
  for (const DenyEntry& d : denies) denies_[kind_index(d.kind)][d.value] = d;
}

bool AccessControl::denied_locked(DenyEntry::Kind kind, const std::string& value) const {
  const auto& m = denies_[kind_index(kind)];
  return !m.empty() && m.count(value) != 0;
}

std::string AccessControl::refuse_certificate(const PeerIdentity& id) const {
  std::shared_lock lock(mu_);
  if (denied_locked(DenyEntry::Kind::kCertificate, id.certificate.to_hex()))
    return "certificate " + id.certificate.to_hex() + " is on the deny list";
  if (denied_locked(DenyEntry::Kind::kPublicKey, id.public_key.to_hex()))
    return "public key " + id.public_key.to_hex() + " is on the deny list";
  return "";
}

AccessControl::Verdict AccessControl::check_pin(const Pin& pin, const PeerIdentity& id,
                                                const std::string& key, Verdict v) {
  if (!(pin.public_key == id.public_key)) {
    v.ok = false;
    v.why = "device UUID " + key + " is pinned to another public key (" +
            pin.public_key.to_hex().substr(0, 16) + "...)";
  }
  return v;
}

AccessControl::Verdict AccessControl::admit(const Uuid& uuid, const PeerIdentity* id,
                                            int64_t now_unix_ms) {
  Verdict v;
  const std::string key = uuid.to_string();
  {
    std::shared_lock lock(mu_);
    if (denied_locked(DenyEntry::Kind::kUuid, key)) {
      v.ok = false;
      v.denied = true;
      v.why = "device UUID " + key + " is on the deny list";
      return v;
    }
    if (id == nullptr || binding_ == IdentityBinding::kOff) return v;  // nothing to bind to
    if (binding_ == IdentityBinding::kCertificate) {
      if (!names_uuid(*id, uuid)) {
        v.ok = false;
        v.why = "certificate (" + id->subject + ") does not name device UUID " + key;
      }
      return v;
    }
    auto it = pins_.find(key);
    if (it != pins_.end()) return check_pin(it->second, *id, key, v);
  }
  // First connection of this UUID: pin it, unless another worker just did.
  std::unique_lock lock(mu_);
  auto [it, inserted] = pins_.try_emplace(key);
  if (!inserted) return check_pin(it->second, *id, key, v);
  if (pins_.size() > max_pins_) {
    pins_.erase(it);
    if (!pins_full_logged_) {
      pins_full_logged_ = true;
      LOG_ERROR("pin_table_full", "pins=%zu uuid=%s: new UUIDs connect unpinned", max_pins_,
                key.c_str());
    }
    return v;
  }
  it->second = Pin{uuid, id->public_key, now_unix_ms, id->subject};
  v.new_pin = true;
  if (sink_) sink_->pin_added(it->second);
  return v;
}

void AccessControl::forget_new_pin(const Uuid& uuid, const PeerIdentity& id) {
  std::unique_lock lock(mu_);
  auto it = pins_.find(uuid.to_string());
  if (it == pins_.end() || !(it->second.public_key == id.public_key)) return;
  pins_.erase(it);
  if (sink_) sink_->pin_cleared(uuid);
}

std::string AccessControl::still_allowed(const Uuid* uuid, const PeerIdentity* id) const {
  if (id) {
    std::string why = refuse_certificate(*id);
    if (!why.empty()) return why;
  }
  if (!uuid) return "";
  std::shared_lock lock(mu_);
  if (denied_locked(DenyEntry::Kind::kUuid, uuid->to_string()))
    return "device UUID " + uuid->to_string() + " is on the deny list";
  return "";
}

std::vector<Pin> AccessControl::pins() const {
  std::shared_lock lock(mu_);
  std::vector<Pin> out;
  out.reserve(pins_.size());
  for (const auto& [k, p] : pins_) out.push_back(p);
  std::sort(out.begin(), out.end(), [](const Pin& a, const Pin& b) {
    return a.pinned_unix_ms != b.pinned_unix_ms ? a.pinned_unix_ms < b.pinned_unix_ms
                                                : a.uuid.to_string() < b.uuid.to_string();
  });
  return out;
}

bool AccessControl::clear_pin(const Uuid& uuid) {
  std::unique_lock lock(mu_);
  if (pins_.erase(uuid.to_string()) == 0) return false;
  if (sink_) sink_->pin_cleared(uuid);
  return true;
}

bool AccessControl::deny_add(const DenyEntry& entry) {
  std::unique_lock lock(mu_);
  if (!denies_[kind_index(entry.kind)].try_emplace(entry.value, entry).second) return false;
  if (sink_) sink_->deny_added(entry);
  return true;
}

bool AccessControl::deny_remove(DenyEntry::Kind kind, const std::string& value) {
  std::unique_lock lock(mu_);
  if (denies_[kind_index(kind)].erase(value) == 0) return false;
  if (sink_) sink_->deny_removed(kind, value);
  return true;
}

std::vector<DenyEntry> AccessControl::denies() const {
  std::shared_lock lock(mu_);
  std::vector<DenyEntry> out;
  for (const auto& m : denies_)
    for (const auto& [k, d] : m) out.push_back(d);
  std::sort(out.begin(), out.end(), [](const DenyEntry& a, const DenyEntry& b) {
    return a.added_unix_ms < b.added_unix_ms;
  });
  return out;
}

size_t AccessControl::pin_count() const {
  std::shared_lock lock(mu_);
  return pins_.size();
}

size_t AccessControl::deny_count() const {
  std::shared_lock lock(mu_);
  return denies_[0].size() + denies_[1].size() + denies_[2].size();
}

}  // namespace bsc
