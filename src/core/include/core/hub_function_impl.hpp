// The member bodies of BasicHubFunction (core/hub_function.hpp). Include only where the
// template is instantiated: hub_function.cpp (the hub's) and the unit test (fakes).
#pragma once
#include <cstring>
#include <optional>

#include "bsc/bacnet/enums.hpp"
#include "core/access_control.hpp"
#include "core/device.hpp"
#include "core/hub_function.hpp"
#include "core/hub_ports.hpp"
#include "core/routing_map.hpp"
#include "net/ws_session.hpp"
#include "util/log.hpp"
#include "util/unix_time.hpp"

namespace bsc {
namespace hub_detail {

// A recipient's announced Max-BVLC below this is treated as "unknown": BACnet Stack nodes
// send it byte-swapped (docs/protocol.md §8 item 10), and a tiny limit would make them deaf.
// 1497 octets of NPDU plus the 4-octet fixed header is the least any node must take.
inline constexpr uint16_t kMinPlausibleMaxBvlc = 1497 + 4;

inline bool may_broadcast(uint8_t function) {
  // Only Encapsulated-NPDU and Proprietary-Message may be broadcast (Std AB.2.5, AB.2.16).
  return function == uint8_t(Function::kEncapsulatedNpdu) ||
         function == uint8_t(Function::kProprietaryMessage);
}

// The first destination option with Must Understand set, or 0. The hub itself understands
// no destination option that may carry Must Understand (Hello is Must Understand = 0), so
// any such option in a message addressed to the hub is one it does not understand.
// REQUIRES: the list was validated by decode().
inline uint8_t first_must_understand(const uint8_t* data, Span list) {
  for (size_t i = list.offset; i < size_t(list.offset) + list.length;) {
    uint8_t mk = data[i++];
    if (mk & marker::kMustUnderstand) return mk;
    if (mk & marker::kHasData) i += 2 + size_t((data[i] << 8) | data[i + 1]);
    if (!(mk & marker::kMore)) break;
  }
  return 0;
}

}  // namespace hub_detail

template <class W, class N>
void BasicHubFunction<W, N>::on_message(N& from, const uint8_t* data, size_t len) {
  static_assert(HubNode<N> && HubWorker<W, N>, "see core/hub_ports.hpp");
  WorkerStats& st = worker_.stats();
  bump(st.frames_in);
  bump(st.bytes_in, len);
  if (len > 0) {
    size_t f = function_slot(data[0]);
    bump(st.fn_frames_in[f]);
    bump(st.fn_bytes_in[f], len);
  }
  if (len > worker_.config().max_bvlc_length) {
    // Std AB.7.5.3: a message above our announced max BVLC is dropped unprocessed.
    bump(st.drop_oversize);
    return;
  }
  DecodeResult r = decode({data, len});
  if (!r.ok) {
    bump(st.malformed);
    const DecodeError& e = r.err;
    LOG_DEBUG("bvlc_malformed", "peer=%s function=0x%02X reason=\"%s\"", from.peer().c_str(),
              e.function, e.why);
    bool awaiting = from.state() == NodeState::kAwaitingRequest;
    if (!e.nak_allowed) return;
    if (awaiting && e.function != uint8_t(Function::kConnectRequest)) return;
    send_nak(from, e.message_id, e.has_origin ? &e.origin : nullptr, e.function,
             e.error_marker, e.code, e.why);
    // A Connect-Request we cannot accept ends the connection (docs/protocol.md §8 item 7).
    if (awaiting) {
      from.note_refused(uint16_t(bacnet::ErrorCode::kOther), nullptr, nullptr, e.why);
      from.close(ws_close::kNormal, "malformed Connect-Request");
    }
    return;
  }
  const Message& m = r.msg;
  auto fn = Function(m.function);
  bool awaiting = from.state() == NodeState::kAwaitingRequest;

  if (!m.has_dest && !is_response(m.function)) {
    // Addressed to the hub: a must-understand option it does not know is refused (Std
    // AB.3.1.5), before the message is acted on.
    if (uint8_t mk = hub_detail::first_must_understand(data, m.dest_options)) {
      if (awaiting && fn != Function::kConnectRequest) return;
      send_nak(from, m.message_id, m.has_origin ? &m.origin : nullptr, m.function, mk,
               ErrorCode::kHeaderNotUnderstood, "must-understand option not understood");
      if (awaiting) {
        from.note_refused(uint16_t(bacnet::ErrorCode::kOther), nullptr, nullptr,
                          "must-understand option not understood");
        from.close(ws_close::kNormal, "Connect-Request with a must-understand option");
      }
      return;
    }
  }

  if (awaiting) {
    if (fn == Function::kConnectRequest) {
      on_connect_request(from, m, data);
    } else {
      // The Std is silent; like BACnet Stack we drop it and keep waiting.
      bump(st.drop_not_connected);
    }
    return;
  }

  switch (fn) {
    case Function::kHeartbeatRequest:
      bump(st.heartbeats_answered);
      send_simple(from, Function::kHeartbeatAck, m.message_id);
      return;
    case Function::kHeartbeatAck:
    case Function::kConnectAccept:
      return;  // liveness already refreshed by the read; nothing to answer
    case Function::kConnectRequest:
      return;  // second Connect-Request on a live connection: dropped (docs/protocol.md §5)
    case Function::kDisconnectRequest:
      send_simple(from, Function::kDisconnectAck, m.message_id);
      from.end_cleanly();
      from.close(ws_close::kNormal, "Disconnect-Request");
      return;
    case Function::kDisconnectAck:
      // Asked for (we are disconnecting it) or not (a confused peer): either way it ends.
      if (from.state() == NodeState::kDisconnecting) from.end_cleanly();
      from.close(ws_close::kNormal, from.state() == NodeState::kDisconnecting
                           ? "Disconnect-ACK"
                           : "unsolicited Disconnect-ACK");
      return;
    case Function::kResult:
      if (!m.has_dest) {
        // Addressed to the hub. A NAK for our Disconnect-Request ends it like an ACK.
        if (from.state() == NodeState::kDisconnecting) {
          ResultPayload p = decode_result_payload(
              {data + m.payload.offset, m.payload.length});
          if (p.for_function == uint8_t(Function::kDisconnectRequest)) {
            from.end_cleanly();
            from.close(ws_close::kNormal, "Disconnect-Request NAKed");
          }
        }
        return;  // consumed silently, never NAKed
      }
      break;
    default:
      break;
  }
  route(from, m, data, len);
}

template <class W, class N>
void BasicHubFunction<W, N>::on_connect_request(N& c, const Message& m, const uint8_t* data) {
  WorkerStats& st = worker_.stats();
  ConnectPayload p = decode_connect_payload({data + m.payload.offset, m.payload.length});
  if (p.vmac.is_unset() || p.vmac.is_broadcast()) {
    send_nak(c, m.message_id, nullptr, m.function, 0, ErrorCode::kParameterOutOfRange,
             "reserved VMAC");
    c.note_refused(uint16_t(bacnet::ErrorCode::kValueOutOfRange), &p.vmac, &p.uuid,
                   "reserved VMAC");
    c.close(ws_close::kNormal, "reserved VMAC in Connect-Request");
    return;
  }
  bool new_pin = false;
  if (refuse_by_policy(c, m, p, &new_pin)) return;
  ConnRef replaced;
  RoutingMap::Claim claim = worker_.routing().claim(p.vmac, p.uuid, c.ref(), &replaced);
  if (new_pin && (claim == RoutingMap::Claim::kDuplicate || claim == RoutingMap::Claim::kFull))
    worker_.access()->forget_new_pin(p.uuid, *c.peer_identity());
  if (claim == RoutingMap::Claim::kFull) {
    // Only reachable if tombstones fill the table (see routing_map.hpp); never silently.
    LOG_ERROR("routing_map_full", "peer=%s vmac=%s", c.peer().c_str(), p.vmac.to_string().c_str());
    send_nak(c, m.message_id, nullptr, m.function, 0, ErrorCode::kOutOfMemory, "");
    c.note_refused(uint16_t(bacnet::ErrorCode::kOther), &p.vmac, &p.uuid, "routing map full");
    c.close(ws_close::kNormal, "routing map full");
    return;
  }
  if (claim == RoutingMap::Claim::kDuplicate) {
    bump(st.duplicate_vmac);
    LOG_WARN("duplicate_vmac", "peer=%s vmac=%s uuid=%s", c.peer().c_str(),
             p.vmac.to_string().c_str(), p.uuid.to_string().c_str());
    // No Error Details: the exact bytes of the Std's NAK (docs/protocol.md §7 V7), which some
    // nodes compare whole.
    send_nak(c, m.message_id, nullptr, m.function, 0, ErrorCode::kNodeDuplicateVmac, "");
    c.note_refused(uint16_t(bacnet::ErrorCode::kNodeDuplicateVmac), &p.vmac, &p.uuid,
                   "VMAC in use by another node (another UUID)");
    c.close(ws_close::kNormal, "duplicate VMAC");
    return;
  }
  c.set_identity(p.vmac, p.uuid, p.max_bvlc_length);
  c.set_registered(true);
  if (claim == RoutingMap::Claim::kReplaced) {
    bump(st.nodes_replaced);
    // The old connection no longer owns the VMAC (claim re-pointed it); it is asked to go,
    // by its own worker.
    LOG_INFO("node_replaced", "vmac=%s uuid=%s new_peer=%s", p.vmac.to_string().c_str(),
             p.uuid.to_string().c_str(), c.peer().c_str());
    if (replaced.worker == worker_.id()) {
      if (N* old = worker_.find(replaced)) retire(*old);
    } else {
      if (!worker_.remote_reserve(replaced.worker, RecordKind::kReplaced, replaced.slot,
                                  replaced.generation, 0))
        // Its worker is far behind: the old connection lingers (unrouted) until its
        // liveness check closes it.
        LOG_WARN("replace_notice_dropped", "vmac=%s", p.vmac.to_string().c_str());
    }
  }
  ConnectPayload accept;
  accept.vmac = worker_.config().hub_vmac;
  accept.uuid = worker_.config().hub_uuid;
  accept.max_bvlc_length = worker_.config().max_bvlc_length;
  accept.max_npdu_length = worker_.config().max_npdu_length;
  scratch_.clear();
  encode_connect_accept(scratch_, m.message_id, accept);
  c.send_message(scratch_.data(), scratch_.size());
  c.set_state(NodeState::kConnected);
  bump(st.nodes_connected);
  LOG_INFO("node_connected", "peer=%s vmac=%s uuid=%s max_bvlc=%u max_npdu=%u",
           c.peer().c_str(), p.vmac.to_string().c_str(), p.uuid.to_string().c_str(),
           p.max_bvlc_length, p.max_npdu_length);
}

template <class W, class N>
bool BasicHubFunction<W, N>::refuse_by_policy(N& c, const Message& m, const ConnectPayload& p,
                                              bool* new_pin) {
  AccessControl* access = worker_.access();
  if (access == nullptr) return false;
  AccessControl::Verdict v = access->admit(p.uuid, c.peer_identity(), unix_now_ms());
  *new_pin = v.new_pin;
  if (v.ok) return false;
  // SECURITY / ACCESS_DENIED: the node is authenticated (its certificate passed) but not
  // allowed this identity; docs/protocol.md §9 says why this code.
  WorkerStats& st = worker_.stats();
  bump(v.denied ? st.denied : st.identity_refused);
  LOG_WARN(v.denied ? "connect_denied" : "identity_refused", "peer=%s vmac=%s uuid=%s reason=\"%s\"",
           c.peer().c_str(), p.vmac.to_string().c_str(), p.uuid.to_string().c_str(),
           v.why.c_str());
  send_nak(c, m.message_id, nullptr, m.function, 0, ErrorCode::kAccessDenied, v.why.c_str(),
           kErrorClassSecurity);
  c.note_refused(uint16_t(bacnet::ErrorCode::kAccessDenied), &p.vmac, &p.uuid, v.why.c_str(),
                 uint16_t(bacnet::ErrorClass::kSecurity));
  c.close(ws_close::kNormal, v.denied ? "device UUID denied" : "identity refused");
  return true;
}

template <class W, class N>
void BasicHubFunction<W, N>::on_leaving(N& c) {
  if (!c.registered()) return;
  worker_.routing().release(c.vmac(), c.uuid(), c.ref());
  c.set_registered(false);
}

template <class W, class N>
void BasicHubFunction<W, N>::retire(N& c) {
  c.set_registered(false);  // its routing entries already belong to the newcomer
  start_disconnect(c);
}

template <class W, class N>
void BasicHubFunction<W, N>::start_disconnect(N& c) {
  if (c.state() != NodeState::kConnected) return;
  send_simple(c, Function::kDisconnectRequest, worker_.next_message_id());
  c.set_state(NodeState::kDisconnecting);
}

template <class W, class N>
void BasicHubFunction<W, N>::send_heartbeat_request(N& c) {
  send_simple(c, Function::kHeartbeatRequest, worker_.next_message_id());
}

template <class W, class N>
void BasicHubFunction<W, N>::route(N& from, const Message& m, const uint8_t* data, size_t len) {
  WorkerStats& st = worker_.stats();
  if (m.has_origin && !(m.origin == from.vmac())) {
    // Anti-spoofing: a node may name only itself as the origin (docs/protocol.md §6).
    bump(st.drop_spoofed_origin);
    LOG_DEBUG("spoofed_origin", "peer=%s vmac=%s claimed=%s", from.peer().c_str(),
              from.vmac().to_string().c_str(), m.origin.to_string().c_str());
    return;
  }
  if (!m.has_dest) {
    // Addressed to the hub itself. Responses are consumed; requests the hub function does
    // not serve get a NAK (BACnet Stack's answer). Must-understand options were handled in
    // on_message.
    if (is_response(m.function)) return;
    send_nak(from, m.message_id, m.has_origin ? &m.origin : nullptr, m.function, 0,
             ErrorCode::kHeaderEncodingError, "destination VMAC required");
    return;
  }
  if (m.dest.is_broadcast()) {
    if (!hub_detail::may_broadcast(m.function)) {
      bump(st.malformed);
      return;  // broadcasts are never NAKed
    }
    bump(st.broadcast_in);
    forward_broadcast(from, m, data, len);
    return;
  }
  if (m.dest == from.vmac()) {
    bump(st.drop_to_self);  // never send back on the connection it came from (Std AB.5.1)
    return;
  }
  std::optional<ConnRef> ref = worker_.routing().lookup(m.dest);
  if (ref && ref->worker != worker_.id()) {
    // Owned by another worker: rewrite straight into its batch; it checks the generation.
    size_t size = rewritten_size(m, len, false);
    uint8_t* out = worker_.remote_reserve(ref->worker, RecordKind::kUnicast, ref->slot,
                                          ref->generation, size);
    if (!out) return;  // counted by remote_reserve
    rewrite_for_forward(m, {data, len}, from.vmac(), false, out);
    bump(st.unicast_forwarded);
    return;
  }
  N* to = ref ? worker_.find(*ref) : nullptr;
  if (!to) {
    // The hub's own device is no connection: only a frame that finds none looks for it.
    if (device_ && ref && *ref == kDeviceRef) {
      to_device(from.vmac(), m, data, false);
      return;
    }
    // Unknown destination: discarded silently (Std AB.5.3.2).
    bump(ref ? st.drop_stale_ref : st.drop_unknown_dest);
    return;
  }
  forward_unicast(from, *to, m, data, len);
}

template <class W, class N>
bool BasicHubFunction<W, N>::fits_recipient(const N& to, size_t size) const {
  uint16_t max = to.peer_max_bvlc();
  return max < hub_detail::kMinPlausibleMaxBvlc || size <= max;
}

template <class W, class N>
void BasicHubFunction<W, N>::forward_unicast(N& from, N& to, const Message& m,
                                             const uint8_t* data, size_t len) {
  WorkerStats& st = worker_.stats();
  size_t size = rewritten_size(m, len, false);
  if (!fits_recipient(to, size)) {
    bump(st.drop_oversize);
    return;
  }
  // The rewrite writes straight into the target's output: one copy per forwarded frame.
  uint8_t* out = to.reserve_frame(size);
  if (!out) {
    bump(st.drop_output_full);
    return;
  }
  rewrite_for_forward(m, {data, len}, from.vmac(), false, out);
  bump(st.unicast_forwarded);
  bump(st.unicast_delivered);
  count_out(st, m.function, size);
}

template <class W, class N>
void BasicHubFunction<W, N>::forward_broadcast(N& from, const Message& m,
                                               const uint8_t* data, size_t len) {
  size_t size = rewritten_size(m, len, true);
  // Rewrite once; every copy is the same bytes (docs/protocol.md §6).
  scratch_.resize(size);
  rewrite_for_forward(m, {data, len}, from.vmac(), true, scratch_.data());
  spread_broadcast(&from, scratch_.data(), size);
  // The device sees each broadcast once, on worker 0: here if it arrived here, else as
  // the record deliver_batch() fans out.
  if (device_) to_device(from.vmac(), m, data, true);
}

template <class W, class N>
void BasicHubFunction<W, N>::spread_broadcast(const N* sender, const uint8_t* frame,
                                              size_t size) {
  fan_out(sender, frame, size);
  // One record per other worker, which fans it out to its own nodes.
  for (uint32_t w = 0; w < worker_.worker_count(); ++w) {
    if (w == worker_.id()) continue;
    uint8_t* out = worker_.remote_reserve(w, RecordKind::kBroadcast, 0, 0, size);
    if (out) std::memcpy(out, frame, size);
  }
}

template <class W, class N>
void BasicHubFunction<W, N>::fan_out(const N* sender, const uint8_t* frame, size_t size) {
  WorkerStats& st = worker_.stats();
  uint64_t copies = 0;
  // By index from the back: a recipient closed in the loop (slow reader) leaves the vector
  // by swapping with the last one, which has already been served.
  const std::vector<N*>& nodes = worker_.connected();
  for (size_t i = nodes.size(); i-- > 0;) {
    N* to = nodes[i];
    if (to == sender) continue;  // never echoed to the sender
    if (!fits_recipient(*to, size)) {
      bump(st.drop_oversize);
      continue;
    }
    if (!to->send_broadcast_copy(frame, size)) {
      bump(st.drop_broadcast_share);
      continue;
    }
    ++copies;
  }
  bump(st.broadcast_copies, copies);
}

template <class W, class N>
void BasicHubFunction<W, N>::deliver_batch(const Batch& batch) {
  WorkerStats& st = worker_.stats();
  batch.for_each([&](const RecordHeader& h, const uint8_t* frame) {
    bump(st.remote_frames_in);
    if (h.kind == RecordKind::kBroadcast) {
      fan_out(nullptr, frame, h.length);
      if (device_) to_device(frame, h.length, true);
      return;
    }
    N* to = worker_.find(ConnRef{worker_.id(), h.slot, h.generation});
    if (h.kind == RecordKind::kReplaced) {
      if (to) retire(*to);
      return;
    }
    if (!to || !to->routable()) {
      if (!to && device_ && h.slot == kDeviceRef.slot && h.generation == kDeviceRef.generation) {
        to_device(frame, h.length, false);  // for the hub's VMAC (see route())
        return;
      }
      bump(st.drop_stale_ref);  // closed (and maybe its slot reused) since the lookup
      return;
    }
    if (!fits_recipient(*to, h.length)) {
      bump(st.drop_oversize);
      return;
    }
    if (!to->send_message(frame, h.length)) bump(st.drop_output_full);
    else bump(st.unicast_delivered);
  });
}

template <class W, class N>
void BasicHubFunction<W, N>::attach_device(Device* device) {
  device_ = device;
  // Segments leave like the reply handle() returns: during handle() or the device's timer,
  // never while scratch_ holds another frame.
  device_->set_send([this](const Vmac& to, std::span<const uint8_t> npdu) {
    send_device_reply(to, DeviceReply{DeviceReply::To::kRequester, npdu});
  });
}

template <class W, class N>
void BasicHubFunction<W, N>::to_device(const Vmac& source, const Message& m,
                                       const uint8_t* data, bool broadcast) {
  // The device speaks BACnet: an NPDU. Anything else for the hub's VMAC is dropped, as it
  // was before the hub had a device.
  if (m.function != uint8_t(Function::kEncapsulatedNpdu)) return;
  DeviceReply reply =
      device_->handle({data + m.payload.offset, m.payload.length}, broadcast, source);
  if (reply.to != DeviceReply::To::kNobody) send_device_reply(source, reply);
}

template <class W, class N>
void BasicHubFunction<W, N>::to_device(const uint8_t* frame, size_t len, bool broadcast) {
  // A frame another worker forwarded: the hub wrote it, its origin is the sender.
  DecodeResult r = decode({frame, len});
  if (r.ok && r.msg.has_origin) to_device(r.msg.origin, r.msg, frame, broadcast);
}

template <class W, class N>
void BasicHubFunction<W, N>::send_device_reply(const Vmac& requester, const DeviceReply& reply) {
  // As the hub forwards a node's frame: origin = the device's VMAC (the hub's), and no
  // destination for a unicast, the broadcast VMAC for a broadcast (Std AB.5.3).
  static constexpr Vmac kBroadcast = Vmac::broadcast();
  bool everyone = reply.to == DeviceReply::To::kEveryone;
  scratch_.clear();
  encode_message(scratch_, Function::kEncapsulatedNpdu, worker_.next_message_id(),
                 &worker_.config().hub_vmac, everyone ? &kBroadcast : nullptr, {}, {},
                 reply.npdu);
  const size_t size = scratch_.size();
  if (everyone) {
    spread_broadcast(nullptr, scratch_.data(), size);
    return;
  }
  WorkerStats& st = worker_.stats();
  std::optional<ConnRef> ref = worker_.routing().lookup(requester);
  if (ref && ref->worker != worker_.id()) {
    uint8_t* out = worker_.remote_reserve(ref->worker, RecordKind::kUnicast, ref->slot,
                                          ref->generation, size);
    if (out) std::memcpy(out, scratch_.data(), size);
    return;
  }
  N* to = ref ? worker_.find(*ref) : nullptr;
  if (!to) return;  // the requester left meanwhile
  if (!fits_recipient(*to, size)) {
    bump(st.drop_oversize);
    return;
  }
  if (!to->send_message(scratch_.data(), size)) bump(st.drop_output_full);
}

template <class W, class N>
void BasicHubFunction<W, N>::send_nak(N& c, uint16_t message_id, const Vmac* dest,
                                      uint8_t for_function, uint8_t marker, ErrorCode code,
                                      const char* details, uint16_t error_class) {
  scratch_.clear();
  encode_nak(scratch_, message_id, dest, for_function, marker, code, details, error_class);
  if (c.send_message(scratch_.data(), scratch_.size())) bump(worker_.stats().naks_sent);
  else bump(worker_.stats().drop_output_full);
  c.set_last_error(*details ? details : "NAK sent");
}

template <class W, class N>
void BasicHubFunction<W, N>::send_simple(N& c, Function f, uint16_t message_id) {
  scratch_.clear();
  encode_simple(scratch_, f, message_id);
  if (!c.send_message(scratch_.data(), scratch_.size())) bump(worker_.stats().drop_output_full);
}

}  // namespace bsc
