// The device's request dispatch and reply plumbing: NPDU headers, whole or segmented
// ComplexACKs (core/device_transactions.hpp), SimpleACK, Error, Reject, Abort. The
// services themselves are in device_services.cpp.
#include "core/device.hpp"

#include <algorithm>
#include <utility>

#include "bsc/bacnet/segmentation.hpp"
#include "util/log.hpp"

namespace bsc {

using namespace bacnet;

Device::Device(const Config& config, std::string hub_uri)
    : objects_(config, std::move(hub_uri)),
      transactions_(SegmentTiming{config.device_segment_timeout_ms, config.device_apdu_retries},
                    [this](const Vmac& to, std::span<const uint8_t> npdu) {
                      if (send_) send_(to, npdu);
                    }),
      ack_(kMaxAckData),
      dcc_password_(config.dcc_password) {}

void Device::set_timer(Clock now, Arm arm) {
  now_ = std::move(now);
  arm_ = std::move(arm);
}

DeviceReply Device::handle(std::span<const uint8_t> npdu, bool broadcast, const Vmac& from) {
  DeviceRequest req = decode_device_request(npdu);
  bool confirmed = req.apdu.type == PduType::kConfirmedRequest;
  if (req.action != RequestAction::kIgnore)
    LOG_DEBUG("device_request", "service=%u action=%u why=\"%s\"", unsigned(req.service),
              unsigned(req.action), req.why);
  // Confirmed services are for one device at a time (clause 5.4): a broadcast one is left,
  // and so is a broadcast Segment-ACK or Abort.
  if (broadcast && (confirmed || req.action == RequestAction::kTransaction)) return {};
  if (!may_answer(req)) return {};
  from_ = from;
  // The request of a segmented response in flight, again: a duplicate, dropped (clause
  // 5.4.5, SEGMENTED_RESPONSE state).
  if (confirmed && transactions_.size() != 0 &&
      transactions_.in_flight({from, &req.npdu}, req.apdu.invoke_id))
    return {};
  // One gathered view of the connection lists for everything this request reads.
  if (req.action == RequestAction::kServe &&
      (req.service == DeviceService::kReadProperty ||
       req.service == DeviceService::kReadPropertyMultiple ||
       req.service == DeviceService::kReadRange))
    objects_.begin_request();
  switch (req.action) {
    case RequestAction::kIgnore:
      return {};
    case RequestAction::kTransaction:
      segment_pdu(req);
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
    case DeviceService::kReadRange:
      return read_range(req);
    case DeviceService::kDeviceCommunicationControl:
      return communication_control(req);
    default:
      if (confirmed) return reject(req, RejectReason::kUnrecognizedService);  // not reached
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

Writer Device::begin_ack() { return Writer(ack_); }

DeviceReply Device::complex_ack(const DeviceRequest& req, const Writer& ack) {
  // Beyond what the device keeps for one ACK: too long even in segments.
  if (ack.overflow())
    return abort(req, req.apdu.segmented_response_accepted ? AbortReason::kApduTooLong
                                                           : AbortReason::kSegmentationNotSupported);
  const AckPlan plan =
      plan_complex_ack(ack.size(), req.apdu, DeviceObjects::kMaxApdu, kMaxSegmentsSent);
  switch (plan.fit) {
    case AckFit::kWhole: {
      Writer w = begin_reply(req, plan.apdu_limit);
      ApduHeader head;
      head.type = PduType::kComplexAck;
      head.invoke_id = req.apdu.invoke_id;
      head.service_choice = req.apdu.service_choice;
      encode_apdu_header(w, head);
      w.put(ack.written());
      return finish(w, DeviceReply::To::kRequester);
    }
    case AckFit::kNotAccepted:
      // Too big for one APDU and the requester takes no segments (clause 5.4.5.1,
      // CannotSendSegmentedComplexACK); clients fall back on exactly this reason.
      return abort(req, AbortReason::kSegmentationNotSupported);
    case AckFit::kTooManySegments:
      // More segments than the requester's max-segments-accepted (docs/bacnet-device.md §15).
      return abort(req, AbortReason::kApduTooLong);
    case AckFit::kSegmented:
      break;
  }
  begin_reply(req, 0);  // the NPDU header every segment carries
  if (!transactions_.open({from_, &req.npdu}, req.apdu, plan, {out_.data(), npci_size_},
                          ack.written(), now())) {
    LOG_DEBUG("device_busy", "in_flight=%zu refused=%llu", transactions_.size(),
              static_cast<unsigned long long>(transactions_.counters().refused));
    return abort(req, AbortReason::kOutOfResources);
  }
  rearm();
  return {};
}

size_t Device::ack_capacity(const DeviceRequest& req) const {
  // The largest size complex_ack() can send, by bisection over plan_complex_ack(): one
  // source of truth for what fits, whole or in segments.
  auto fits = [&req](size_t n) {
    AckFit fit = plan_complex_ack(n, req.apdu, DeviceObjects::kMaxApdu, kMaxSegmentsSent).fit;
    return fit == AckFit::kWhole || fit == AckFit::kSegmented;
  };
  size_t lo = 0, hi = kMaxAckData;  // fits(lo); everything above hi is refused
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

void Device::segment_pdu(const DeviceRequest& req) {
  if (transactions_.size() == 0) return;
  transactions_.on_pdu({from_, &req.npdu}, req.apdu, now());
  rearm();
}

void Device::on_timer() {
  transactions_.on_timer(now());
  rearm();
}

void Device::rearm() {
  if (!arm_) return;
  std::optional<uint64_t> deadline = transactions_.next_deadline();
  if (!deadline) return arm_(std::nullopt);
  const uint64_t t = now();
  arm_(*deadline > t ? *deadline - t : 0);
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

DeviceReply Device::simple_ack(const DeviceRequest& req) {
  Writer w = begin_reply(req, DeviceObjects::kMaxApdu);
  encode_simple_ack(w, req.apdu.invoke_id, req.apdu.service_choice);
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

}  // namespace bsc
