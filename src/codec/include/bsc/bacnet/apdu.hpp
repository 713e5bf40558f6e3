// APDU fixed headers (ASHRAE 135 clause 20.1; docs/bacnet-device.md §5) for all eight PDU
// types, the max-APDU / max-segments codes, and the short PDUs a server sends whole:
// SimpleACK, Segment-ACK, Error, Reject, Abort. Threads: stateless functions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "bsc/bacnet/asn1_tags.hpp"
#include "bsc/bacnet/enums.hpp"

namespace bsc::bacnet {

enum class PduType : uint8_t {
  kConfirmedRequest = 0,
  kUnconfirmedRequest = 1,
  kSimpleAck = 2,
  kComplexAck = 3,
  kSegmentAck = 4,
  kError = 5,
  kReject = 6,
  kAbort = 7,
};

// The fixed part of any APDU. Which fields are meaningful depends on `type` (20.1.2-20.1.9).
struct ApduHeader {
  PduType type = PduType::kConfirmedRequest;
  bool segmented = false;                    // Confirmed-Request, ComplexACK
  bool more_follows = false;                 // Confirmed-Request, ComplexACK
  bool segmented_response_accepted = false;  // Confirmed-Request
  bool negative_ack = false;                 // Segment-ACK
  bool from_server = false;                  // Segment-ACK, Abort
  uint8_t max_segments_code = 0;             // Confirmed-Request, 0..7
  uint8_t max_apdu_code = 0;                 // Confirmed-Request, 0..5
  uint8_t invoke_id = 0;                     // all but Unconfirmed-Request
  uint8_t sequence_number = 0;               // segmented PDUs and Segment-ACK
  uint8_t window_size = 0;                   // proposed (segments) or actual (Segment-ACK)
  uint8_t service_choice = 0;                // requests, SimpleACK, ComplexACK, Error
  uint8_t reason = 0;                        // Reject, Abort
  size_t header_size = 0;                    // decoded: where the service data starts
};

// Decodes the fixed header. kTruncated if cut short; kBadValue for a PDU type above 7;
// kOutOfRange for a reserved max-APDU code (6..15) or a window size of 0 or above 127.
Status decode_apdu_header(std::span<const uint8_t> apdu, ApduHeader& out) noexcept;
// Writes the fixed header of `h.type`; the service data follows.
void encode_apdu_header(Writer& w, const ApduHeader& h) noexcept;

// Max-APDU-length-accepted codes (20.1.2.5): 0=50, 1=128, 2=206, 3=480, 4=1024, 5=1476.
size_t max_apdu_octets(uint8_t code) noexcept;  // 0 for a reserved code
uint8_t max_apdu_code(size_t octets) noexcept;   // the largest code not above `octets`
// Max-segments-accepted codes (20.1.2.4): 0 unspecified, 1..6 = 2..64, 7 = more than 64.
constexpr unsigned kSegmentsUnspecified = 0;
constexpr unsigned kSegmentsMoreThan64 = 65;
unsigned max_segments(uint8_t code) noexcept;

// ---- whole short PDUs ----
void encode_simple_ack(Writer& w, uint8_t invoke_id, uint8_t service) noexcept;
void encode_segment_ack(Writer& w, uint8_t invoke_id, uint8_t sequence_number,
                        uint8_t actual_window, bool negative, bool from_server) noexcept;
// Error PDU: error class and code as application ENUMERATEDs (20.1.7; 21 Error).
void encode_error(Writer& w, uint8_t invoke_id, uint8_t service, ErrorClass error_class,
                  ErrorCode code) noexcept;
void encode_reject(Writer& w, uint8_t invoke_id, RejectReason reason) noexcept;
void encode_abort(Writer& w, uint8_t invoke_id, AbortReason reason, bool from_server) noexcept;

// The class and code an Error PDU (or a constructed Error value) carries.
struct ErrorPair {
  uint32_t error_class = 0;
  uint32_t error_code = 0;
  friend bool operator==(const ErrorPair&, const ErrorPair&) = default;
};
void put_error_pair(Writer& w, ErrorPair e) noexcept;    // two application ENUMERATEDs
Status get_error_pair(Reader& r, ErrorPair& e) noexcept;

// The Reject a confirmed request gets for a service-data decode failure.
RejectReason reject_reason(Status s) noexcept;

}  // namespace bsc::bacnet
