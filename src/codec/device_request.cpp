// The device's request decoder: see bsc/bacnet/device_request.hpp.
#include "bsc/bacnet/device_request.hpp"

namespace bsc::bacnet {

namespace {

DeviceRequest& ignore(DeviceRequest& d, const char* why) {
  d.action = RequestAction::kIgnore;
  d.why = why;
  return d;
}

void decide(DeviceRequest& d, Status s) {
  if (s == Status::kOk) {
    d.action = RequestAction::kServe;
    return;
  }
  d.why = status_name(s);
  if (d.apdu.type == PduType::kConfirmedRequest) {
    d.action = RequestAction::kReject;
    d.reason = uint8_t(reject_reason(s));
  } else {
    d.action = RequestAction::kIgnore;  // unconfirmed requests are never answered with errors
  }
}

void decode_confirmed(DeviceRequest& d) {
  switch (ConfirmedService(d.apdu.service_choice)) {
    case ConfirmedService::kReadProperty:
      d.service = DeviceService::kReadProperty;
      decide(d, decode_read_property(d.service_data, d.read_property));
      return;
    case ConfirmedService::kReadPropertyMultiple:
      d.service = DeviceService::kReadPropertyMultiple;
      decide(d, validate_rpm_request(d.service_data, d.rpm_references));
      return;
    case ConfirmedService::kReadRange:
      d.service = DeviceService::kReadRange;
      decide(d, decode_read_range(d.service_data, d.read_range));
      return;
    case ConfirmedService::kDeviceCommunicationControl:
      d.service = DeviceService::kDeviceCommunicationControl;
      decide(d, decode_dcc(d.service_data, d.dcc));
      return;
    default:
      // Every other confirmed service, WriteProperty included (clause 18.9).
      d.action = RequestAction::kReject;
      d.reason = uint8_t(RejectReason::kUnrecognizedService);
      d.why = "service not executed by this device";
      return;
  }
}

void decode_unconfirmed(DeviceRequest& d) {
  switch (UnconfirmedService(d.apdu.service_choice)) {
    case UnconfirmedService::kWhoIs:
      d.service = DeviceService::kWhoIs;
      decide(d, decode_who_is(d.service_data, d.who_is));
      return;
    case UnconfirmedService::kWhoHas:
      d.service = DeviceService::kWhoHas;
      decide(d, decode_who_has(d.service_data, d.who_has));
      return;
    default:
      ignore(d, "unconfirmed service not executed by this device");
      return;
  }
}

}  // namespace

DeviceRequest decode_device_request(std::span<const uint8_t> npdu) noexcept {
  DeviceRequest d;
  if (decode_npdu(npdu, d.npdu) != Status::kOk) return ignore(d, "malformed NPDU header");
  if (d.npdu.network_message) return ignore(d, "network-layer message (not a router)");
  // A non-router processes only local traffic and global broadcasts (clause 6.5.2.1).
  if (d.npdu.has_dest && !d.npdu.global_broadcast()) return ignore(d, "for another network");
  const std::span<const uint8_t> apdu = npdu.subspan(d.npdu.header_size);
  const Status header = decode_apdu_header(apdu, d.apdu);
  if (d.apdu.type == PduType::kConfirmedRequest && header != Status::kTruncated) {
    if (d.npdu.global_broadcast()) return ignore(d, "confirmed request sent as a broadcast");
    // The device does not reassemble segmented requests (clause 5.4.5.1).
    if (d.apdu.segmented) {
      d.action = RequestAction::kAbort;
      d.reason = uint8_t(AbortReason::kSegmentationNotSupported);
      d.why = "segmented request";
      return d;
    }
  }
  if (header != Status::kOk) return ignore(d, "malformed APDU header");
  d.service_data = apdu.subspan(d.apdu.header_size);
  switch (d.apdu.type) {
    case PduType::kConfirmedRequest: decode_confirmed(d); break;
    case PduType::kUnconfirmedRequest: decode_unconfirmed(d); break;
    case PduType::kSegmentAck:
      d.action = RequestAction::kTransaction;
      break;
    case PduType::kAbort:
      if (!d.apdu.from_server) {
        d.action = RequestAction::kTransaction;
        break;
      }
      [[fallthrough]];
    default:
      ignore(d, "a response: the device sends no requests");
      break;
  }
  return d;
}

}  // namespace bsc::bacnet
