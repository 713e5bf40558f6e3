// libFuzzer target: the BACnet device's request decoder (bsc::bacnet::decode_device_request:
// NPDU + APDU header + service data) on arbitrary bytes, with its verdict and every decoded
// view checked, and each served request re-encoded and decoded again to the same value.
// The service data is also fed to the ACK and SC-type decoders, so every decoder of
// src/codec/ (the ones clients and tests use too) runs on hostile input.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "bsc/bacnet/device_request.hpp"
#include "bsc/bacnet/sc_types.hpp"
#include "bsc/bacnet/segmentation.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace bsc::bacnet;

bool inside(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
  return part.empty() || (part.data() >= whole.data() &&
                          part.data() + part.size() <= whole.data() + whole.size());
}

// Encodes with `put` into a bounded buffer and decodes the result with `get`.
template <class Put, class Get>
Status round_trip(Put put, Get get, std::array<uint8_t, 2048>& buf) {
  Writer w(buf);
  put(w);
  FUZZ_CHECK(w.ok());  // the input was shorter than the buffer, and re-encoding is minimal
  return get(w.written());
}

void check_served(const DeviceRequest& d) {
  std::array<uint8_t, 2048> buf{};
  switch (d.service) {
    case DeviceService::kWhoIs: {
      WhoIs back;
      FUZZ_CHECK(round_trip([&](Writer& w) { encode_who_is(w, d.who_is); },
                            [&](auto s) { return decode_who_is(s, back); }, buf) == Status::kOk);
      FUZZ_CHECK(back.range.present == d.who_is.range.present && back.range.low == d.who_is.range.low &&
                 back.range.high == d.who_is.range.high);
      break;
    }
    case DeviceService::kWhoHas: {
      WhoHas back;
      FUZZ_CHECK(round_trip([&](Writer& w) { encode_who_has(w, d.who_has); },
                            [&](auto s) { return decode_who_has(s, back); }, buf) == Status::kOk);
      FUZZ_CHECK(back.by_name == d.who_has.by_name && back.name == d.who_has.name &&
                 back.object == d.who_has.object);
      break;
    }
    case DeviceService::kReadProperty: {
      ObjectPropertyRef back;
      FUZZ_CHECK(round_trip([&](Writer& w) { encode_read_property(w, d.read_property); },
                            [&](auto s) { return decode_read_property(s, back); }, buf) == Status::kOk);
      FUZZ_CHECK(back == d.read_property);
      break;
    }
    case DeviceService::kReadPropertyMultiple: {
      // Walk, re-encode and validate again: the same references.
      Writer w(buf);
      RpmParser p(d.service_data);
      ObjectId object;
      PropertyRef ref;
      size_t walked = 0;
      while (p.next_object(object)) {
        rpm_begin_object(w, object);
        while (p.next_reference(ref)) {
          rpm_put_reference(w, ref);
          ++walked;
        }
        rpm_end_object(w);
      }
      FUZZ_CHECK(p.status() == Status::kOk && walked == d.rpm_references);
      size_t again = 0;
      FUZZ_CHECK(w.ok() && validate_rpm_request(w.written(), again) == Status::kOk);
      FUZZ_CHECK(again == walked);
      break;
    }
    case DeviceService::kReadRange: {
      ReadRangeRequest back;
      FUZZ_CHECK(round_trip([&](Writer& w) { encode_read_range(w, d.read_range); },
                            [&](auto s) { return decode_read_range(s, back); }, buf) == Status::kOk);
      FUZZ_CHECK(back.target == d.read_range.target && back.kind == d.read_range.kind &&
                 back.count == d.read_range.count);
      break;
    }
    case DeviceService::kDeviceCommunicationControl: {
      DccRequest back;
      FUZZ_CHECK(round_trip([&](Writer& w) { encode_dcc(w, d.dcc); },
                            [&](auto s) { return decode_dcc(s, back); }, buf) == Status::kOk);
      FUZZ_CHECK(back.state == d.dcc.state && back.password == d.dcc.password &&
                 back.duration_minutes == d.dcc.duration_minutes);
      break;
    }
    case DeviceService::kNone:
      FUZZ_CHECK(false);
  }
}

// Treats the request's own service data as an ACK to send back: every planned segment is
// within the APDU limit, and the segments rejoin to the data.
void check_segments(const DeviceRequest& d) {
  const AckPlan plan = plan_complex_ack(d.service_data.size(), d.apdu, 1476, 64);
  FUZZ_CHECK(plan.apdu_limit >= 50 && plan.apdu_limit <= 1476);
  if (plan.fit == AckFit::kWhole) {
    FUZZ_CHECK(kComplexAckHeader + d.service_data.size() <= plan.apdu_limit);
    return;
  }
  if (plan.fit != AckFit::kSegmented) return;
  FUZZ_CHECK(plan.segments >= 2 && plan.segments <= 64 && d.apdu.segmented_response_accepted);
  size_t joined = 0;
  for (size_t seq = 0; seq < plan.segments; ++seq) {
    std::array<uint8_t, 1476> buf{};
    Writer w(buf);
    encode_complex_ack_segment(w, d.apdu, plan, d.service_data, uint8_t(seq), 1);
    FUZZ_CHECK(w.ok() && w.size() <= plan.apdu_limit);
    ApduHeader h;
    FUZZ_CHECK(decode_apdu_header(w.written(), h) == Status::kOk);
    FUZZ_CHECK(h.more_follows == (seq + 1 < plan.segments));
    const auto part = w.written().subspan(h.header_size);
    FUZZ_CHECK(std::memcmp(part.data(), d.service_data.data() + joined, part.size()) == 0);
    joined += part.size();
  }
  FUZZ_CHECK(joined == d.service_data.size());
}

// The decoders a client (or a test) runs on what a device sends: bounds only.
void run_response_decoders(std::span<const uint8_t> data) {
  ObjectPropertyRef ref;
  std::span<const uint8_t> value;
  if (decode_read_property_ack(data, ref, value) == Status::kOk) {
    FUZZ_CHECK(inside(value, data));
    Reader r(value);
    ScHubFunctionConnection c;
    while (!r.at_end() && get_sc_hub_function_connection(r, c) == Status::kOk) {
      FUZZ_CHECK(inside(c.peer.ip, value));
    }
  }
  Reader fr(data);
  ScFailedConnectionRequest f;
  while (!fr.at_end() && get_sc_failed_connection_request(fr, f) == Status::kOk) {}
  Reader hr(data);
  ScHubConnection h;
  while (!hr.at_end() && get_sc_hub_connection(hr, h) == Status::kOk) {}
  RpmParser p(data);
  ObjectId object;
  RpmResult result;
  while (p.next_object(object)) {
    while (p.next_result(result)) FUZZ_CHECK(inside(result.value, data));
  }
  ReadRangeAck rr;
  if (decode_read_range_ack(data, rr) == Status::kOk) FUZZ_CHECK(inside(rr.items, data));
  IAm iam;
  (void)decode_i_am(data, iam);
  IHave ihave;
  if (decode_i_have(data, ihave) == Status::kOk) {
    FUZZ_CHECK(inside({reinterpret_cast<const uint8_t*>(ihave.name.data()), ihave.name.size()}, data));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  const DeviceRequest d = decode_device_request(in);
  FUZZ_CHECK(d.why != nullptr);
  FUZZ_CHECK(inside(d.service_data, in));
  FUZZ_CHECK(inside(d.npdu.dest.mac, in) && inside(d.npdu.source.mac, in));
  switch (d.action) {
    case RequestAction::kServe:
      FUZZ_CHECK(d.apdu.type == PduType::kConfirmedRequest ||
                 d.apdu.type == PduType::kUnconfirmedRequest);
      FUZZ_CHECK(!d.npdu.network_message);
      check_served(d);
      if (d.apdu.type == PduType::kConfirmedRequest) check_segments(d);
      break;
    case RequestAction::kReject:
      FUZZ_CHECK(d.apdu.type == PduType::kConfirmedRequest && !d.apdu.segmented);
      FUZZ_CHECK(d.reason <= uint8_t(RejectReason::kUnrecognizedService) && d.reason != 0);
      break;
    case RequestAction::kAbort:
      FUZZ_CHECK(d.apdu.type == PduType::kConfirmedRequest && d.apdu.segmented);
      FUZZ_CHECK(d.reason == uint8_t(AbortReason::kSegmentationNotSupported));
      break;
    case RequestAction::kTransaction:
      FUZZ_CHECK(d.apdu.type == PduType::kSegmentAck ||
                 (d.apdu.type == PduType::kAbort && !d.apdu.from_server));
      break;
    case RequestAction::kIgnore:
      FUZZ_CHECK(d.why[0] != '\0');
      break;
  }
  // Whatever the verdict, the octets after the NPDU header go through the other decoders.
  if (size > 2) run_response_decoders(in.subspan(2));
  return 0;
}
