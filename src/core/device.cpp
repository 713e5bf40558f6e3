#include "core/device.hpp"

#include <algorithm>
#include <utility>

#include "util/log.hpp"

namespace bsc {

using namespace bacnet;

namespace {

constexpr ErrorPair kUnknownObject{uint32_t(bacnet::ErrorClass::kObject),
                                   uint32_t(bacnet::ErrorCode::kUnknownObject)};

}  // namespace

Device::Device(const Config& config, std::string hub_uri)
    : objects_(config, std::move(hub_uri)) {}

DeviceReply Device::handle(std::span<const uint8_t> npdu, bool broadcast) {
  DeviceRequest req = decode_device_request(npdu);
  // One gathered view of the connection lists for everything this request reads.
  if (req.action == RequestAction::kServe &&
      (req.service == DeviceService::kReadProperty ||
       req.service == DeviceService::kReadPropertyMultiple))
    objects_.begin_request();
  bool confirmed = req.apdu.type == PduType::kConfirmedRequest;
  if (req.action != RequestAction::kIgnore)
    LOG_DEBUG("device_request", "service=%u action=%u why=\"%s\"", unsigned(req.service),
              unsigned(req.action), req.why);
  // Confirmed services are for one device at a time (clause 5.4): a broadcast one is left.
  if (broadcast && confirmed) return {};
  switch (req.action) {
    case RequestAction::kIgnore:
    case RequestAction::kTransaction:  // no segmented response is ever in progress
      return {};
    case RequestAction::kReject:
      return reject(req, RejectReason(req.reason));
    case RequestAction::kAbort:
      return abort(req, AbortReason(req.reason));
    case RequestAction::kServe:
      break;
  }
  switch (req.service) {
    case DeviceService::kWhoIs:
      return who_is(req);
    case DeviceService::kWhoHas:
      return who_has(req);
    case DeviceService::kReadProperty:
      return read_property(req);
    case DeviceService::kReadPropertyMultiple:
      return read_property_multiple(req);
    default:
      // Decoded by the codec but not executed yet (ReadRange, DeviceCommunicationControl):
      // refused like any other confirmed service the device does not execute.
      if (confirmed) return reject(req, RejectReason::kUnrecognizedService);
      return {};
  }
}

Writer Device::begin_reply(const DeviceRequest& req, size_t limit) {
  Npdu h;
  h.priority = req.npdu.priority;
  if (req.npdu.has_source) {
    // From beyond a router: back to that station (clause 6.2.2).
    h.has_dest = true;
    h.dest = req.npdu.source;
    h.hop_count = 0xFF;
  }
  Writer w(out_);
  encode_npdu(w, h);
  npci_size_ = w.size();  // at most kMaxNpci: SADR is at most 255 octets
  return Writer(std::span<uint8_t>(out_).subspan(npci_size_, limit));
}

DeviceReply Device::finish(const Writer& apdu, DeviceReply::To to) const {
  return DeviceReply{to, std::span<const uint8_t>(out_.data(), npci_size_ + apdu.size())};
}

size_t Device::apdu_limit(const DeviceRequest& req) const {
  return std::min(max_apdu_octets(req.apdu.max_apdu_code), DeviceObjects::kMaxApdu);
}

Writer Device::begin_complex_ack(const DeviceRequest& req) {
  Writer w = begin_reply(req, apdu_limit(req));
  ApduHeader head;
  head.type = PduType::kComplexAck;
  head.invoke_id = req.apdu.invoke_id;
  head.service_choice = req.apdu.service_choice;
  encode_apdu_header(w, head);
  return w;
}

Writer Device::begin_broadcast(UnconfirmedService service) {
  Npdu h;
  h.has_dest = true;
  h.dest.net = kGlobalNetwork;
  h.hop_count = 0xFF;
  Writer w(out_);
  encode_npdu(w, h);
  npci_size_ = w.size();
  Writer apdu(std::span<uint8_t>(out_).subspan(npci_size_, DeviceObjects::kMaxApdu));
  ApduHeader head;
  head.type = PduType::kUnconfirmedRequest;
  head.service_choice = uint8_t(service);
  encode_apdu_header(apdu, head);
  return apdu;
}

DeviceReply Device::who_is(const DeviceRequest& req) {
  ObjectId id = objects_.device_id();
  if (!req.who_is.range.contains(id.instance)) return {};
  // I-Am goes to everyone as a global broadcast (clause 16.10.2), whoever asked.
  Writer apdu = begin_broadcast(UnconfirmedService::kIAm);
  encode_i_am(apdu, IAm{id, uint32_t(DeviceObjects::kMaxApdu), Segmentation::kNone,
                        objects_.vendor_identifier()});
  return finish(apdu, DeviceReply::To::kEveryone);
}

DeviceReply Device::who_has(const DeviceRequest& req) {
  const WhoHas& q = req.who_has;
  if (!q.range.contains(objects_.device_id().instance)) return {};
  std::optional<ObjectId> found = q.by_name ? objects_.find(q.name) : objects_.find(q.object);
  if (!found) return {};  // the object is not here: others may answer (clause 16.9.2)
  // I-Have goes to everyone as a global broadcast, like I-Am.
  Writer apdu = begin_broadcast(UnconfirmedService::kIHave);
  encode_i_have(apdu, IHave{objects_.device_id(), *found, objects_.object_name(*found)});
  return finish(apdu, DeviceReply::To::kEveryone);
}

DeviceReply Device::read_property(const DeviceRequest& req) {
  ObjectPropertyRef ref = req.read_property;
  std::optional<ObjectId> object = objects_.resolve(ref.object);
  if (!object) return error(req, kUnknownObject);
  if (std::optional<ErrorPair> e = objects_.error_of(*object, ref.property)) return error(req, *e);
  ref.object = *object;  // the wildcard instance answered with the real one
  Writer w = begin_complex_ack(req);
  encode_read_property_ack_begin(w, ref);
  objects_.put_value(w, *object, ref.property);
  encode_read_property_ack_end(w);
  if (w.overflow()) return too_long(req);
  return finish(w, DeviceReply::To::kRequester);
}

DeviceReply Device::read_property_multiple(const DeviceRequest& req) {
  Writer w = begin_complex_ack(req);
  // One result for (object, ref): its value or its error (clause 15.7.2).
  auto result = [&](ObjectId object, const PropertyRef& ref) {
    if (std::optional<ErrorPair> e = objects_.error_of(object, ref)) {
      rpm_put_error(w, ref, *e);
      return;
    }
    rpm_begin_value(w, ref);
    objects_.put_value(w, object, ref);
    rpm_end_value(w);
  };
  RpmParser requests(req.service_data);  // checked whole by the codec
  ObjectId asked;
  while (requests.next_object(asked)) {
    std::optional<ObjectId> object = objects_.resolve(asked);
    rpm_begin_object(w, object ? *object : asked);
    PropertyRef ref;
    while (requests.next_reference(ref)) {
      uint32_t p = ref.property;
      bool special = p == property::kAll || p == property::kRequired || p == property::kOptional;
      if (!object) {
        rpm_put_error(w, ref, kUnknownObject);
      } else if (!special) {
        result(*object, ref);
      } else {
        // ALL, REQUIRED and OPTIONAL expand to the object's properties, each with its own
        // identifier in the ACK (clause 15.7.3.1.2).
        for (const PropertySpec& spec : objects_.properties(*object)) {
          if ((p == property::kRequired && !spec.required) ||
              (p == property::kOptional && spec.required))
            continue;
          result(*object, PropertyRef{spec.id, false, 0});
        }
      }
    }
    rpm_end_object(w);
  }
  if (requests.status() != Status::kOk)
    return reject(req, reject_reason(requests.status()));  // not reached: validated
  if (w.overflow()) return too_long(req);
  return finish(w, DeviceReply::To::kRequester);
}

DeviceReply Device::error(const DeviceRequest& req, ErrorPair e) {
  Writer w = begin_reply(req, DeviceObjects::kMaxApdu);
  encode_error(w, req.apdu.invoke_id, req.apdu.service_choice, bacnet::ErrorClass(e.error_class),
               bacnet::ErrorCode(e.error_code));
  return finish(w, DeviceReply::To::kRequester);
}

DeviceReply Device::reject(const DeviceRequest& req, RejectReason reason) {
  Writer w = begin_reply(req, DeviceObjects::kMaxApdu);
  encode_reject(w, req.apdu.invoke_id, reason);
  return finish(w, DeviceReply::To::kRequester);
}

DeviceReply Device::abort(const DeviceRequest& req, AbortReason reason) {
  Writer w = begin_reply(req, DeviceObjects::kMaxApdu);
  encode_abort(w, req.apdu.invoke_id, reason, true);
  return finish(w, DeviceReply::To::kRequester);
}

DeviceReply Device::too_long(const DeviceRequest& req) {
  return abort(req, AbortReason::kSegmentationNotSupported);
}

}  // namespace bsc
