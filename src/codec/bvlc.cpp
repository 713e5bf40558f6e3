// BVLC-SC codec (ASHRAE 135 Annex AB.2): decode with strict validation, encoders, and the
// hub's forward rewrite. Every multi-octet number is big-endian (Std AB.2.1).
#include "bsc/bvlc.hpp"

#include <cstring>

namespace bsc {
namespace {

constexpr size_t kHeaderSize = 4;
constexpr size_t kVmacSize = 6;
// Span offsets are 16-bit; the hub caps WebSocket messages well below this anyway.
constexpr size_t kMaxMessageSize = 0xFFFF;
// bac_py's limit (BStack allows 4). A longer list is answered HEADER_ENCODING_ERROR, with
// the 33rd marker as Error Header Marker: our NAKs are always class COMMUNICATION, and a
// list that long is a malformed header rather than a resource problem of ours.
constexpr size_t kMaxOptionsPerList = 32;

uint16_t get_u16(std::span<const uint8_t> b, size_t at) {
  return uint16_t(b[at] << 8 | b[at + 1]);
}

Vmac get_vmac(std::span<const uint8_t> b, size_t at) {
  Vmac v;
  std::memcpy(v.bytes.data(), b.data() + at, kVmacSize);
  return v;
}

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

void put_bytes(std::vector<uint8_t>& out, std::span<const uint8_t> b) {
  out.insert(out.end(), b.begin(), b.end());
}

// Per-function rules (Std AB.2.4-AB.2.16; BStack's checks where the Std is silent).
struct FunctionRule {
  bool vmacs_allowed;         // O/D may be present (not on 0x06..0x0B)
  bool data_options_allowed;  // only Encapsulated-NPDU (AB.2.5)
  uint16_t min_payload;       // > 0: payload required; shorter is MESSAGE_INCOMPLETE
  uint16_t max_payload;       // longer is UNEXPECTED_DATA
};
constexpr uint16_t kOpen = 0xFFFF;
constexpr FunctionRule kRules[kMaxKnownFunction + 1] = {
    {true, false, 2, kOpen},                    // 0x00 BVLC-Result (ACK 2, NAK >= 7)
    {true, true, 1, kOpen},                     // 0x01 Encapsulated-NPDU
    {true, false, 0, 0},                        // 0x02 Address-Resolution
    {true, false, 0, kOpen},                    // 0x03 Address-Resolution-ACK (may be empty)
    {true, false, 6, 6},                        // 0x04 Advertisement
    {true, false, 0, 0},                        // 0x05 Advertisement-Solicitation
    {false, false, kConnectPayloadSize, kConnectPayloadSize},  // 0x06 Connect-Request
    {false, false, kConnectPayloadSize, kConnectPayloadSize},  // 0x07 Connect-Accept
    {false, false, 0, 0},                       // 0x08 Disconnect-Request
    {false, false, 0, 0},                       // 0x09 Disconnect-ACK
    {false, false, 0, 0},                       // 0x0A Heartbeat-Request
    {false, false, 0, 0},                       // 0x0B Heartbeat-ACK
    {true, false, 3, kOpen},                    // 0x0C Proprietary-Message
};

constexpr size_t kAckSize = 2;
constexpr size_t kNakMinSize = 7;

// Value checks inside payloads whose size is already right. Returns nullptr when fine,
// else the reason, with the error code in *code.
const char* check_payload_values(uint8_t function, std::span<const uint8_t> p,
                                 ErrorCode* code) {
  if (function == uint8_t(Function::kAdvertisement)) {
    *code = ErrorCode::kParameterOutOfRange;
    if (p[0] > 2) return "Advertisement hub status above 2";
    if (p[1] > 1) return "Advertisement accept-direct above 1";
    return nullptr;
  }
  if (function != uint8_t(Function::kResult)) return nullptr;
  // BVLC-Result (Std AB.2.4.1).
  if (p[1] > 1) {
    *code = ErrorCode::kParameterOutOfRange;
    return "result code not 0 (ACK) or 1 (NAK)";
  }
  if (p[1] == 0) {
    *code = ErrorCode::kUnexpectedData;
    return p.size() > kAckSize ? "ACK longer than 2 octets" : nullptr;
  }
  if (p.size() < kNakMinSize) {
    *code = ErrorCode::kMessageIncomplete;
    return "NAK shorter than 7 octets";
  }
  // Error Details is plain UTF-8 without a terminator (BStack rejects NUL).
  if (std::memchr(p.data() + kNakMinSize, 0, p.size() - kNakMinSize) != nullptr) {
    *code = ErrorCode::kInconsistentParameters;
    return "NUL inside NAK error details";
  }
  return nullptr;
}

}  // namespace

const char* function_name(uint8_t function) {
  static constexpr const char* kNames[kMaxKnownFunction + 1] = {
      "BVLC-Result",        "Encapsulated-NPDU",          "Address-Resolution",
      "Address-Resolution-ACK", "Advertisement",        "Advertisement-Solicitation",
      "Connect-Request",    "Connect-Accept",             "Disconnect-Request",
      "Disconnect-ACK",     "Heartbeat-Request",          "Heartbeat-ACK",
      "Proprietary-Message"};
  return function <= kMaxKnownFunction ? kNames[function] : "unknown";
}

const char* error_code_name(ErrorCode code) {
  switch (code) {
#define BSC_X(name, value, text) \
  case ErrorCode::name:          \
    return text;
    BSC_ERROR_CODE_MAP(BSC_X)
#undef BSC_X
  }
  return "unknown";
}

bool parse_option_list(std::span<const uint8_t> bytes, size_t offset, bool dest_list,
                       size_t* end, DecodeError* err) noexcept {
  auto fail = [err](ErrorCode code, const char* why, uint8_t bad_marker) {
    if (err != nullptr) {
      err->code = code;
      err->why = why;
      err->error_marker = bad_marker;
    }
    return false;
  };
  size_t pos = offset;
  for (size_t count = 1;; ++count) {
    // The list ends at the first entry without the More bit (Std AB.2.3).
    if (pos >= bytes.size()) {
      return fail(ErrorCode::kMessageIncomplete,
                  count == 1 ? "option list flagged but absent"
                             : "More bit set on the last option",
                  0);
    }
    const uint8_t m = bytes[pos++];
    if (count > kMaxOptionsPerList) {
      return fail(ErrorCode::kHeaderEncodingError, "more than 32 options in one list", m);
    }
    const uint8_t type = m & marker::kTypeMask;
    const bool has_data = (m & marker::kHasData) != 0;
    size_t data_length = 0;
    if (has_data) {
      if (bytes.size() - pos < 2) {
        return fail(ErrorCode::kMessageIncomplete, "option header length cut short", 0);
      }
      data_length = get_u16(bytes, pos);
      pos += 2;
      if (bytes.size() - pos < data_length) {
        return fail(ErrorCode::kMessageIncomplete, "option data runs past the end", 0);
      }
      pos += data_length;
    }
    // Structure of the two types the Std defines a layout for (Table AB-3). Every other
    // type, 0 included, passes untouched: options are forwarded opaquely (AB.3.1.4).
    if (type == kOptionSecurePath) {
      if (dest_list) {
        return fail(ErrorCode::kHeaderEncodingError,
                    "Secure Path option in destination options", m);
      }
      if (has_data) {
        return fail(ErrorCode::kHeaderEncodingError, "Secure Path option carries data", m);
      }
    } else if (type == kOptionProprietary) {
      if (!has_data) {
        return fail(ErrorCode::kHeaderEncodingError, "proprietary option without data", m);
      }
      if (data_length < 3) {
        return fail(ErrorCode::kHeaderEncodingError,
                    "proprietary option data shorter than 3 octets", m);
      }
    }
    if ((m & marker::kMore) == 0) {
      *end = pos;
      return true;
    }
  }
}

DecodeResult decode(std::span<const uint8_t> bytes) noexcept {
  DecodeResult r;
  DecodeError& err = r.err;
  auto fail = [&r](ErrorCode code, const char* why, uint8_t bad_marker = 0) {
    r.ok = false;
    r.err.code = code;
    r.err.why = why;
    r.err.error_marker = bad_marker;
    return r;
  };

  if (!bytes.empty()) err.function = bytes[0];
  if (bytes.size() < kHeaderSize) {
    // No Message ID to answer with: drop silently (AB.3.1.5).
    err.nak_allowed = false;
    return fail(ErrorCode::kMessageIncomplete, "shorter than 4 octets");
  }

  // Read what we can of the header first, so every later error can address a NAK.
  const uint8_t function = bytes[0];
  const uint8_t raw_flags = bytes[1];
  const uint8_t flags = raw_flags & uint8_t(~flag::kReserved);
  err.message_id = get_u16(bytes, 2);
  size_t pos = kHeaderSize;
  bool origin_cut = false;
  bool dest_cut = false;
  bool dest_is_broadcast = false;
  Message& m = r.msg;
  if (flags & flag::kOrigin) {
    if (bytes.size() - pos < kVmacSize) {
      origin_cut = true;
    } else {
      m.has_origin = true;
      m.origin = get_vmac(bytes, pos);
      err.has_origin = true;
      err.origin = m.origin;
      pos += kVmacSize;
    }
  }
  if ((flags & flag::kDest) && !origin_cut) {
    if (bytes.size() - pos < kVmacSize) {
      dest_cut = true;
    } else {
      m.has_dest = true;
      m.dest = get_vmac(bytes, pos);
      dest_is_broadcast = m.dest.is_broadcast();
      pos += kVmacSize;
    }
  }
  // Never answer a response or a broadcast (AB.2, AB.3.1.1, AB.3.1.5).
  err.nak_allowed = !is_response(function) && !dest_is_broadcast;

  if (bytes.size() > kMaxMessageSize) {
    return fail(ErrorCode::kMessageTooLong, "longer than 65535 octets");
  }
  if (raw_flags & flag::kReserved) {
    return fail(ErrorCode::kParameterOutOfRange, "reserved control flag bit set");
  }
  if (origin_cut) return fail(ErrorCode::kMessageIncomplete, "originating VMAC cut short");
  if (dest_cut) return fail(ErrorCode::kMessageIncomplete, "destination VMAC cut short");
  if (function > kMaxKnownFunction) {
    return fail(ErrorCode::kBvlcFunctionUnknown, "BVLC function unknown");
  }

  const FunctionRule& rule = kRules[function];
  if (!rule.vmacs_allowed && (m.has_origin || m.has_dest)) {
    return fail(ErrorCode::kHeaderEncodingError,
                "VMAC present on a connection-control function");
  }
  if (!rule.data_options_allowed && (flags & flag::kDataOptions)) {
    return fail(ErrorCode::kInconsistentParameters, "data options not allowed here");
  }

  m.function = function;
  m.flags = flags;
  m.message_id = err.message_id;
  m.body_offset = uint16_t(pos);
  for (const bool dest_list : {true, false}) {
    if (!(flags & (dest_list ? flag::kDestOptions : flag::kDataOptions))) continue;
    size_t end = 0;
    if (!parse_option_list(bytes, pos, dest_list, &end, &err)) {
      r.ok = false;
      return r;
    }
    Span& list = dest_list ? m.dest_options : m.data_options;
    list = Span{uint16_t(pos), uint16_t(end - pos)};
    pos = end;
  }

  const size_t payload_size = bytes.size() - pos;
  if (payload_size == 0 && rule.min_payload > 0) {
    return fail(ErrorCode::kPayloadExpected, "required payload missing");
  }
  if (payload_size < rule.min_payload) {
    return fail(ErrorCode::kMessageIncomplete, "payload shorter than its fixed part");
  }
  if (payload_size > rule.max_payload) {
    return fail(ErrorCode::kUnexpectedData, rule.max_payload == 0
                                                ? "payload on a function that has none"
                                                : "payload longer than defined");
  }
  ErrorCode value_error = ErrorCode::kOther;
  if (const char* why = check_payload_values(function, bytes.subspan(pos), &value_error)) {
    return fail(value_error, why);
  }
  m.payload = Span{uint16_t(pos), uint16_t(payload_size)};
  r.ok = true;
  return r;
}

ConnectPayload decode_connect_payload(std::span<const uint8_t> payload) noexcept {
  // VMAC(6), Device UUID(16), Max BVLC Length(2), Max NPDU Length(2) (Std AB.2.10.1).
  ConnectPayload p;
  p.vmac = get_vmac(payload, 0);
  std::memcpy(p.uuid.bytes.data(), payload.data() + kVmacSize, p.uuid.bytes.size());
  p.max_bvlc_length = get_u16(payload, 22);
  p.max_npdu_length = get_u16(payload, 24);
  return p;
}

ResultPayload decode_result_payload(std::span<const uint8_t> payload) noexcept {
  // Std AB.2.4.1: the NAK-only fields follow when Result Code is 1.
  ResultPayload p;
  p.for_function = payload[0];
  p.result_code = payload[1];
  if (p.result_code == 1 && payload.size() >= kNakMinSize) {
    p.error_marker = payload[2];
    p.error_class = get_u16(payload, 3);
    p.error_code = get_u16(payload, 5);
    p.details = std::string_view(reinterpret_cast<const char*>(payload.data()) + kNakMinSize,
                                 payload.size() - kNakMinSize);
  }
  return p;
}

size_t encode_message(std::vector<uint8_t>& out, Function function, uint16_t message_id,
                      const Vmac* origin, const Vmac* dest,
                      std::span<const uint8_t> dest_options,
                      std::span<const uint8_t> data_options,
                      std::span<const uint8_t> payload) {
  const size_t start = out.size();
  // A present option list holds at least one marker, so "empty" means "absent".
  uint8_t flags = 0;
  if (origin != nullptr) flags |= flag::kOrigin;
  if (dest != nullptr) flags |= flag::kDest;
  if (!dest_options.empty()) flags |= flag::kDestOptions;
  if (!data_options.empty()) flags |= flag::kDataOptions;
  out.push_back(uint8_t(function));
  out.push_back(flags);
  put_u16(out, message_id);
  if (origin != nullptr) put_bytes(out, origin->bytes);
  if (dest != nullptr) put_bytes(out, dest->bytes);
  put_bytes(out, dest_options);
  put_bytes(out, data_options);
  put_bytes(out, payload);
  return out.size() - start;
}

namespace {
size_t encode_connect(std::vector<uint8_t>& out, Function function, uint16_t message_id,
                      const ConnectPayload& p) {
  uint8_t body[kConnectPayloadSize];
  std::memcpy(body, p.vmac.bytes.data(), kVmacSize);
  std::memcpy(body + kVmacSize, p.uuid.bytes.data(), p.uuid.bytes.size());
  body[22] = uint8_t(p.max_bvlc_length >> 8);
  body[23] = uint8_t(p.max_bvlc_length);
  body[24] = uint8_t(p.max_npdu_length >> 8);
  body[25] = uint8_t(p.max_npdu_length);
  return encode_message(out, function, message_id, nullptr, nullptr, {}, {}, body);
}
}  // namespace

size_t encode_connect_request(std::vector<uint8_t>& out, uint16_t message_id,
                              const ConnectPayload& p) {
  return encode_connect(out, Function::kConnectRequest, message_id, p);
}

size_t encode_connect_accept(std::vector<uint8_t>& out, uint16_t message_id,
                             const ConnectPayload& p) {
  return encode_connect(out, Function::kConnectAccept, message_id, p);
}

size_t encode_simple(std::vector<uint8_t>& out, Function function, uint16_t message_id) {
  return encode_message(out, function, message_id, nullptr, nullptr, {}, {}, {});
}

size_t encode_nak(std::vector<uint8_t>& out, uint16_t message_id, const Vmac* dest,
                  uint8_t for_function, uint8_t error_marker, ErrorCode code,
                  std::string_view details, uint16_t error_class) {
  // Std AB.2.4.1 NAK; addressed per AB.3.1.2 (D = the offender's O, if it had one).
  const size_t start = out.size();
  encode_message(out, Function::kResult, message_id, nullptr, dest, {}, {}, {});
  out.push_back(for_function);
  out.push_back(1);  // Result Code: NAK
  out.push_back(error_marker);
  put_u16(out, error_class);
  put_u16(out, uint16_t(code));
  out.insert(out.end(), details.begin(), details.end());
  return out.size() - start;
}

size_t rewrite_for_forward(const Message& m, std::span<const uint8_t> input, const Vmac& sender,
                           bool broadcast, uint8_t* out) noexcept {
  // Std AB.5.3: the hub sets O = the sender and drops D (unicast) or keeps D = broadcast;
  // Message ID, options and payload are copied unchanged (AB.3.1.3, AB.3.1.4).
  const uint8_t option_bits = m.flags & (flag::kDestOptions | flag::kDataOptions);
  out[0] = input[0];
  out[1] = uint8_t(option_bits | flag::kOrigin | (broadcast ? flag::kDest : 0));
  out[2] = input[2];
  out[3] = input[3];
  size_t pos = kHeaderSize;
  std::memcpy(out + pos, sender.bytes.data(), kVmacSize);
  pos += kVmacSize;
  if (broadcast) {
    std::memcpy(out + pos, Vmac::broadcast().bytes.data(), kVmacSize);
    pos += kVmacSize;
  }
  const size_t rest = input.size() - m.body_offset;
  if (rest > 0) std::memcpy(out + pos, input.data() + m.body_offset, rest);
  return pos + rest;
}

}  // namespace bsc
