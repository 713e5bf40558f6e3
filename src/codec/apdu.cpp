// APDU fixed headers (ASHRAE 135 clause 20.1): see bsc/bacnet/apdu.hpp.
#include "bsc/bacnet/apdu.hpp"

#include <array>

#include "bsc/bacnet/asn1_values.hpp"

namespace bsc::bacnet {

namespace {

// Octet 0 flag bits (20.1.2.1-20.1.2.3, 20.1.5, 20.1.6, 20.1.9).
constexpr uint8_t kSegmented = 0x08;
constexpr uint8_t kMoreFollows = 0x04;
constexpr uint8_t kSegmentedResponseAccepted = 0x02;
constexpr uint8_t kNegativeAck = 0x02;
constexpr uint8_t kServer = 0x01;
constexpr uint8_t kMaxWindow = 127;  // 20.1.2.8: proposed/actual window 1..127

constexpr std::array<uint16_t, 6> kMaxApdu{50, 128, 206, 480, 1024, 1476};

bool has_segment_fields(const ApduHeader& h) {
  return h.segmented &&
         (h.type == PduType::kConfirmedRequest || h.type == PduType::kComplexAck);
}

}  // namespace

size_t max_apdu_octets(uint8_t code) noexcept { return code < kMaxApdu.size() ? kMaxApdu[code] : 0; }

uint8_t max_apdu_code(size_t octets) noexcept {
  uint8_t code = 0;
  while (code + 1u < kMaxApdu.size() && kMaxApdu[code + 1u] <= octets) ++code;
  return code;
}

unsigned max_segments(uint8_t code) noexcept {
  if (code == 0) return kSegmentsUnspecified;
  return code >= 7 ? kSegmentsMoreThan64 : 1u << code;
}

Status decode_apdu_header(std::span<const uint8_t> apdu, ApduHeader& out) noexcept {
  out = ApduHeader{};
  if (apdu.empty()) return Status::kTruncated;
  const uint8_t first = apdu[0];
  if ((first >> 4) > uint8_t(PduType::kAbort)) return Status::kBadValue;
  out.type = PduType(first >> 4);
  size_t pos = 1;
  auto next = [&](uint8_t& v) {
    if (pos >= apdu.size()) return false;
    v = apdu[pos++];
    return true;
  };
  bool ok = true;
  switch (out.type) {
    case PduType::kConfirmedRequest: {
      out.segmented = (first & kSegmented) != 0;
      out.more_follows = (first & kMoreFollows) != 0;
      out.segmented_response_accepted = (first & kSegmentedResponseAccepted) != 0;
      uint8_t limits = 0;
      ok = next(limits) && next(out.invoke_id);
      out.max_segments_code = (limits >> 4) & 0x07;
      out.max_apdu_code = limits & 0x0F;
      break;
    }
    case PduType::kUnconfirmedRequest:
      break;
    case PduType::kComplexAck:
      out.segmented = (first & kSegmented) != 0;
      out.more_follows = (first & kMoreFollows) != 0;
      ok = next(out.invoke_id);
      break;
    case PduType::kSegmentAck:
      out.negative_ack = (first & kNegativeAck) != 0;
      out.from_server = (first & kServer) != 0;
      ok = next(out.invoke_id) && next(out.sequence_number) && next(out.window_size);
      break;
    case PduType::kAbort:
      out.from_server = (first & kServer) != 0;
      [[fallthrough]];
    case PduType::kReject:
      ok = next(out.invoke_id) && next(out.reason);
      break;
    case PduType::kSimpleAck:
    case PduType::kError:
      ok = next(out.invoke_id);
      break;
  }
  if (ok && has_segment_fields(out)) ok = next(out.sequence_number) && next(out.window_size);
  const bool has_service = out.type != PduType::kSegmentAck && out.type != PduType::kReject &&
                           out.type != PduType::kAbort;
  if (ok && has_service) ok = next(out.service_choice);
  if (!ok) return Status::kTruncated;
  out.header_size = pos;
  if (out.type == PduType::kConfirmedRequest && max_apdu_octets(out.max_apdu_code) == 0) {
    return Status::kOutOfRange;
  }
  const bool has_window = has_segment_fields(out) || out.type == PduType::kSegmentAck;
  if (has_window && (out.window_size == 0 || out.window_size > kMaxWindow)) {
    return Status::kOutOfRange;
  }
  return Status::kOk;
}

void encode_apdu_header(Writer& w, const ApduHeader& h) noexcept {
  uint8_t first = uint8_t(uint8_t(h.type) << 4);
  switch (h.type) {
    case PduType::kConfirmedRequest:
      if (h.segmented_response_accepted) first |= kSegmentedResponseAccepted;
      [[fallthrough]];
    case PduType::kComplexAck:
      if (h.segmented) first |= kSegmented;
      if (h.more_follows) first |= kMoreFollows;
      break;
    case PduType::kSegmentAck:
      if (h.negative_ack) first |= kNegativeAck;
      [[fallthrough]];
    case PduType::kAbort:
      if (h.from_server) first |= kServer;
      break;
    default:
      break;
  }
  w.put(first);
  if (h.type == PduType::kConfirmedRequest) {
    w.put(uint8_t((h.max_segments_code & 0x07) << 4 | (h.max_apdu_code & 0x0F)));
  }
  if (h.type != PduType::kUnconfirmedRequest) w.put(h.invoke_id);
  if (has_segment_fields(h) || h.type == PduType::kSegmentAck) {
    w.put(h.sequence_number);
    w.put(h.window_size);
  }
  if (h.type == PduType::kReject || h.type == PduType::kAbort) {
    w.put(h.reason);
  } else if (h.type != PduType::kSegmentAck) {
    w.put(h.service_choice);
  }
}

void encode_simple_ack(Writer& w, uint8_t invoke_id, uint8_t service) noexcept {
  encode_apdu_header(w, {.type = PduType::kSimpleAck, .invoke_id = invoke_id,
                         .service_choice = service});
}

void encode_segment_ack(Writer& w, uint8_t invoke_id, uint8_t sequence_number,
                        uint8_t actual_window, bool negative, bool from_server) noexcept {
  encode_apdu_header(w, {.type = PduType::kSegmentAck, .negative_ack = negative,
                         .from_server = from_server, .invoke_id = invoke_id,
                         .sequence_number = sequence_number, .window_size = actual_window});
}

void encode_error(Writer& w, uint8_t invoke_id, uint8_t service, ErrorClass error_class,
                  ErrorCode code) noexcept {
  encode_apdu_header(w, {.type = PduType::kError, .invoke_id = invoke_id,
                         .service_choice = service});
  put_error_pair(w, {uint32_t(error_class), uint32_t(code)});
}

void encode_reject(Writer& w, uint8_t invoke_id, RejectReason reason) noexcept {
  encode_apdu_header(w, {.type = PduType::kReject, .invoke_id = invoke_id,
                         .reason = uint8_t(reason)});
}

void encode_abort(Writer& w, uint8_t invoke_id, AbortReason reason, bool from_server) noexcept {
  encode_apdu_header(w, {.type = PduType::kAbort, .from_server = from_server,
                         .invoke_id = invoke_id, .reason = uint8_t(reason)});
}

void put_error_pair(Writer& w, ErrorPair e) noexcept {
  put_enumerated(w, e.error_class);
  put_enumerated(w, e.error_code);
}

Status get_error_pair(Reader& r, ErrorPair& e) noexcept {
  Status s = get_enumerated(r, e.error_class);
  if (s == Status::kOk) s = get_enumerated(r, e.error_code);
  return s;
}

RejectReason reject_reason(Status s) noexcept {
  switch (s) {
    case Status::kOk: return RejectReason::kOther;
    case Status::kTruncated: return RejectReason::kMissingRequiredParameter;
    case Status::kBadTag:
    case Status::kLengthOverrun:
    case Status::kUnexpectedTag:
    case Status::kBadLength: return RejectReason::kInvalidTag;
    case Status::kWrongType: return RejectReason::kInvalidParameterDataType;
    case Status::kOutOfRange:
    case Status::kUnsupportedCharset: return RejectReason::kParameterOutOfRange;
    case Status::kBadValue: return RejectReason::kUndefinedEnumeration;
    case Status::kInconsistent: return RejectReason::kInconsistentParameters;
    case Status::kTooMany: return RejectReason::kTooManyArguments;
  }
  return RejectReason::kOther;
}

}  // namespace bsc::bacnet
