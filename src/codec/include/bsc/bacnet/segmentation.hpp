// Sizing and framing of a ComplexACK that may need segments (ASHRAE 135 clauses 5.2, 5.4.4,
// 20.1.5; docs/bacnet-device.md §5.2): whether the encoded ACK fits one APDU, how many
// segments it needs within the requester's limits, and the octets of one segment. The
// windowing, Segment-ACK handling and timeouts (clause 5.4) stay with the device.
// Threads: stateless functions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "bsc/bacnet/apdu.hpp"

namespace bsc::bacnet {

constexpr size_t kComplexAckHeader = 3;           // type, invoke id, service choice
constexpr size_t kSegmentedComplexAckHeader = 5;  // + sequence number, proposed window

enum class AckFit : uint8_t {
  kWhole,            // one unsegmented ComplexACK
  kSegmented,        // `segments` segments of at most `segment_data` service-data octets
  kNotAccepted,      // too big, and the requester did not accept a segmented response
  kTooManySegments,  // more segments than the requester's max-segments allows
};

struct AckPlan {
  AckFit fit = AckFit::kWhole;
  size_t apdu_limit = 0;    // the largest APDU either side accepts
  size_t segment_data = 0;  // service-data octets per segment
  size_t segments = 1;
};

// `service_data` octets of ACK for `request` (a decoded Confirmed-Request header), from a
// device that accepts APDUs up to `own_max_apdu` octets and sends at most `own_max_segments`
// segments (the sequence number is one octet: 256 at most).
AckPlan plan_complex_ack(size_t service_data, const ApduHeader& request, size_t own_max_apdu,
                         size_t own_max_segments) noexcept;

// Writes segment `sequence` of `service_data` as planned: the segmented ComplexACK header
// (more-follows on all but the last) and that segment's slice.
void encode_complex_ack_segment(Writer& w, const ApduHeader& request, const AckPlan& plan,
                                std::span<const uint8_t> service_data, uint8_t sequence,
                                uint8_t proposed_window) noexcept;

}  // namespace bsc::bacnet
