// ComplexACK sizing and segment framing: see bsc/bacnet/segmentation.hpp.
#include "bsc/bacnet/segmentation.hpp"

#include <algorithm>

namespace bsc::bacnet {

namespace {
constexpr size_t kMaxSequenceNumbers = 256;  // 20.1.2.7: the sequence number is one octet
}

AckPlan plan_complex_ack(size_t service_data, const ApduHeader& request, size_t own_max_apdu,
                         size_t own_max_segments) noexcept {
  AckPlan plan;
  plan.apdu_limit = std::min(max_apdu_octets(request.max_apdu_code), own_max_apdu);
  if (kComplexAckHeader + service_data <= plan.apdu_limit) {
    plan.segment_data = service_data;
    return plan;
  }
  if (!request.segmented_response_accepted || plan.apdu_limit <= kSegmentedComplexAckHeader) {
    plan.fit = AckFit::kNotAccepted;
    return plan;
  }
  plan.segment_data = plan.apdu_limit - kSegmentedComplexAckHeader;
  plan.segments = (service_data + plan.segment_data - 1) / plan.segment_data;
  // "Unspecified" max-segments (code 0) sets no limit of its own (20.1.2.4).
  const unsigned theirs = max_segments(request.max_segments_code);
  size_t limit = std::min(own_max_segments, kMaxSequenceNumbers);
  if (theirs != kSegmentsUnspecified && theirs != kSegmentsMoreThan64) {
    limit = std::min<size_t>(limit, theirs);
  }
  plan.fit = plan.segments <= limit ? AckFit::kSegmented : AckFit::kTooManySegments;
  return plan;
}

void encode_complex_ack_segment(Writer& w, const ApduHeader& request, const AckPlan& plan,
                                std::span<const uint8_t> service_data, uint8_t sequence,
                                uint8_t proposed_window) noexcept {
  const size_t first = size_t(sequence) * plan.segment_data;
  const size_t end = std::min(service_data.size(), first + plan.segment_data);
  encode_apdu_header(w, {.type = PduType::kComplexAck, .segmented = true,
                         .more_follows = end < service_data.size(),
                         .invoke_id = request.invoke_id, .sequence_number = sequence,
                         .window_size = proposed_window,
                         .service_choice = request.service_choice});
  if (first < end) w.put(service_data.subspan(first, end - first));
}

}  // namespace bsc::bacnet
