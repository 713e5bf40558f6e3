// BVLC-SC message codec (ASHRAE 135 Annex AB.2): parse, validate, encode, hub rewrite.
// Pure code: no I/O, no allocation on the decode/rewrite path, so it can be unit-tested,
// fuzzed and benchmarked alone. Threads: stateless functions, safe from any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bsc/vmac.hpp"

namespace bsc {

enum class Function : uint8_t {
  kResult = 0x00,
  kEncapsulatedNpdu = 0x01,
  kAddressResolution = 0x02,
  kAddressResolutionAck = 0x03,
  kAdvertisement = 0x04,
  kAdvertisementSolicitation = 0x05,
  kConnectRequest = 0x06,
  kConnectAccept = 0x07,
  kDisconnectRequest = 0x08,
  kDisconnectAck = 0x09,
  kHeartbeatRequest = 0x0A,
  kHeartbeatAck = 0x0B,
  kProprietaryMessage = 0x0C,
};
constexpr uint8_t kMaxKnownFunction = 0x0C;
const char* function_name(uint8_t function);  // "Encapsulated-NPDU", or "unknown"

// Response messages never get a BVLC-Result back (Std AB.2, AB.3.1.1).
constexpr bool is_response(uint8_t function) {
  return function == 0x00 || function == 0x03 || function == 0x07 || function == 0x09 ||
         function == 0x0B;
}

namespace flag {
constexpr uint8_t kReserved = 0xF0;
constexpr uint8_t kOrigin = 0x08;
constexpr uint8_t kDest = 0x04;
constexpr uint8_t kDestOptions = 0x02;
constexpr uint8_t kDataOptions = 0x01;
}  // namespace flag

// Header option marker bits (Std AB.2.3).
namespace marker {
constexpr uint8_t kMore = 0x80;
constexpr uint8_t kMustUnderstand = 0x40;
constexpr uint8_t kHasData = 0x20;
constexpr uint8_t kTypeMask = 0x1F;
}  // namespace marker

constexpr uint8_t kOptionSecurePath = 1;
constexpr uint8_t kOptionProprietary = 31;

constexpr uint16_t kErrorClassSecurity = 4;
constexpr uint16_t kErrorClassCommunication = 7;

// Error codes a hub sends (values from BACnet Clause 21 via BStack bacenum.h).
#define BSC_ERROR_CODE_MAP(X)                                   \
  X(kOther, 0, "OTHER")                                         \
  X(kInconsistentParameters, 7, "INCONSISTENT_PARAMETERS")      \
  X(kOptionalFunctionalityNotSupported, 45, "OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED") \
  X(kParameterOutOfRange, 80, "PARAMETER_OUT_OF_RANGE")         \
  X(kAccessDenied, 85, "ACCESS_DENIED")                         \
  X(kMessageTooLong, 113, "MESSAGE_TOO_LONG")                   \
  X(kOutOfMemory, 133, "OUT_OF_MEMORY")                         \
  X(kBvlcFunctionUnknown, 143, "BVLC_FUNCTION_UNKNOWN")         \
  X(kBvlcProprietaryFunctionUnknown, 144, "BVLC_PROPRIETARY_FUNCTION_UNKNOWN") \
  X(kHeaderEncodingError, 145, "HEADER_ENCODING_ERROR")         \
  X(kHeaderNotUnderstood, 146, "HEADER_NOT_UNDERSTOOD")         \
  X(kMessageIncomplete, 147, "MESSAGE_INCOMPLETE")              \
  X(kNotABacnetScHub, 148, "NOT_A_BACNET_SC_HUB")               \
  X(kPayloadExpected, 149, "PAYLOAD_EXPECTED")                  \
  X(kUnexpectedData, 150, "UNEXPECTED_DATA")                    \
  X(kNodeDuplicateVmac, 151, "NODE_DUPLICATE_VMAC")

enum class ErrorCode : uint16_t {
#define BSC_X(name, value, text) name = value,
  BSC_ERROR_CODE_MAP(BSC_X)
#undef BSC_X
};
const char* error_code_name(ErrorCode code);  // "NODE_DUPLICATE_VMAC"

// A byte range inside the message buffer (offset from its first octet).
struct Span {
  uint16_t offset = 0;
  uint16_t length = 0;
};

// A decoded message: a view over the caller's buffer (the buffer must outlive it).
struct Message {
  uint8_t function = 0;
  uint8_t flags = 0;  // reserved bits already masked off
  uint16_t message_id = 0;
  bool has_origin = false;
  bool has_dest = false;
  Vmac origin;
  Vmac dest;
  Span dest_options;  // the whole list, markers included (empty if absent)
  Span data_options;
  // Offset of the first octet after the VMACs: options and payload, copied verbatim on
  // forward (Std AB.3.1.3, AB.3.1.4).
  uint16_t body_offset = 0;
  Span payload;
};

// Why a message is bad, and what a NAK for it would say. nak_allowed is false where the
// Std forbids answering (responses, broadcasts, < 4 octets); the hub then drops silently.
struct DecodeError {
  ErrorCode code = ErrorCode::kOther;
  uint8_t error_marker = 0;  // the offending header-option marker, else 0
  const char* why = "";      // static text for logs and NAK details
  bool nak_allowed = false;
  // What was readable of the header, to address the NAK (valid when nak_allowed).
  uint8_t function = 0;
  uint16_t message_id = 0;
  bool has_origin = false;
  Vmac origin;
};

struct DecodeResult {
  bool ok = false;
  Message msg;      // valid when ok
  DecodeError err;  // valid when !ok
};

// Parses and strictly validates one BVLC-SC message (one WebSocket binary message):
// header, both option lists (structure only: unknown types pass), O/D presence per
// function, data options where allowed, payload sizes per function (docs/protocol.md
// §4). Does not judge routing (spoofed origin, unknown destination): that is the hub's.
DecodeResult decode(std::span<const uint8_t> bytes) noexcept;

// Walks one header-option list starting at `offset`; on success stores the end offset.
// Exposed for tests and fuzzing.
bool parse_option_list(std::span<const uint8_t> bytes, size_t offset, bool dest_list,
                       size_t* end, DecodeError* err) noexcept;

// ---- payloads --------------------------------------------------------------------

// Connect-Request / Connect-Accept payload: 26 octets.
struct ConnectPayload {
  Vmac vmac;
  Uuid uuid;
  uint16_t max_bvlc_length = 0;
  uint16_t max_npdu_length = 0;
};
constexpr size_t kConnectPayloadSize = 26;
// REQUIRES: payload.size() == 26 (decode() already checked it).
ConnectPayload decode_connect_payload(std::span<const uint8_t> payload) noexcept;

struct ResultPayload {
  uint8_t for_function = 0;
  uint8_t result_code = 0;  // 0 ACK, 1 NAK
  uint8_t error_marker = 0;
  uint16_t error_class = 0;
  uint16_t error_code = 0;
  std::string_view details;  // view into the message buffer
};
// REQUIRES: a BVLC-Result that decode() accepted.
ResultPayload decode_result_payload(std::span<const uint8_t> payload) noexcept;

// ---- encoders: append to `out`, return the number of octets appended -------------

size_t encode_connect_request(std::vector<uint8_t>& out, uint16_t message_id,
                              const ConnectPayload& p);
size_t encode_connect_accept(std::vector<uint8_t>& out, uint16_t message_id,
                             const ConnectPayload& p);
// Header-only messages: Heartbeat-Request/ACK, Disconnect-Request/ACK,
// Advertisement-Solicitation without VMACs.
size_t encode_simple(std::vector<uint8_t>& out, Function function, uint16_t message_id);
// A NAK (Result Code 1; class COMMUNICATION unless told). `dest` set => Destination VMAC
// present.
size_t encode_nak(std::vector<uint8_t>& out, uint16_t message_id, const Vmac* dest,
                  uint8_t for_function, uint8_t error_marker, ErrorCode code,
                  std::string_view details, uint16_t error_class = kErrorClassCommunication);
// A general message with optional VMACs, raw option lists and payload (used by tests and
// the load tool to build arbitrary traffic).
size_t encode_message(std::vector<uint8_t>& out, Function function, uint16_t message_id,
                      const Vmac* origin, const Vmac* dest,
                      std::span<const uint8_t> dest_options,
                      std::span<const uint8_t> data_options,
                      std::span<const uint8_t> payload);

// ---- hub rewrite (Std AB.5.3; docs/protocol.md §6) ----------------------------------

// Size of the forwarded copy of `m` (unicast: O only; broadcast: O + D=BC).
inline size_t rewritten_size(const Message& m, size_t input_size, bool broadcast) {
  return 4 + 6 + (broadcast ? 6 : 0) + (input_size - m.body_offset);
}
// Writes the forwarded copy into `out` (at least rewritten_size() octets): flags keep only
// the option bits, O = sender, D removed (unicast) or D = broadcast; Message ID, option
// lists and payload copied byte for byte. Returns octets written.
size_t rewrite_for_forward(const Message& m, std::span<const uint8_t> input, const Vmac& sender,
                           bool broadcast, uint8_t* out) noexcept;

}  // namespace bsc
