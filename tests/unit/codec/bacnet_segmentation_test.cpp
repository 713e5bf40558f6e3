// ComplexACK sizing and segment framing (src/codec/segmentation.cpp).
#include <doctest/doctest.h>

#include <numeric>

#include "bacnet_test_util.hpp"
#include "bsc/bacnet/segmentation.hpp"

using namespace bsc::bacnet;
using bacnet_test::encode;

namespace {

ApduHeader request(uint8_t max_apdu_code, bool accepts_segments, uint8_t max_segments_code = 0) {
  return {.type = PduType::kConfirmedRequest, .segmented_response_accepted = accepts_segments,
          .max_segments_code = max_segments_code, .max_apdu_code = max_apdu_code,
          .invoke_id = 7, .service_choice = uint8_t(ConfirmedService::kReadProperty)};
}

// Service data of an RP-ACK of SC_Hub_Function_Connection_Status with `n` 64-octet
// entries: object id (5), property id (4), opening and closing tag.
size_t status_ack(size_t n) { return 5 + 4 + 1 + 64 * n + 1; }

}  // namespace

TEST_CASE("connected entries per unsegmented RP-ACK: 7 at 480, 15 at 1024, 22 at 1476") {
  const std::pair<uint8_t, size_t> limits[] = {{3, 7}, {4, 15}, {5, 22}};
  for (const auto& [code, entries] : limits) {
    CAPTURE(code);
    CHECK(plan_complex_ack(status_ack(entries), request(code, false), 1476, 64).fit == AckFit::kWhole);
    CHECK(plan_complex_ack(status_ack(entries + 1), request(code, false), 1476, 64).fit ==
          AckFit::kNotAccepted);
  }
  // Our own limit counts too: a 1476-octet requester, a device that takes only 480.
  CHECK(plan_complex_ack(status_ack(8), request(5, false), 480, 64).fit == AckFit::kNotAccepted);
}

TEST_CASE("segment count within the requester's max-segments") {
  AckPlan p = plan_complex_ack(2000, request(3, true), 1476, 64);
  CHECK(p.fit == AckFit::kSegmented);
  CHECK(p.apdu_limit == 480);
  CHECK(p.segment_data == 475);
  CHECK(p.segments == 5);
  CHECK(plan_complex_ack(2000, request(3, true, 3), 1476, 64).fit == AckFit::kSegmented);  // 8
  CHECK(plan_complex_ack(2000, request(3, true, 2), 1476, 64).fit == AckFit::kTooManySegments);  // 4
  CHECK(plan_complex_ack(2000, request(3, true, 1), 1476, 64).fit == AckFit::kTooManySegments);
  CHECK(plan_complex_ack(2000, request(3, true, 7), 1476, 4).fit == AckFit::kTooManySegments);
  // 300 connected nodes (19,211 octets) to a 1476/64 requester: 14 segments.
  p = plan_complex_ack(status_ack(300), request(5, true, 6), 1476, 64);
  CHECK(p.fit == AckFit::kSegmented);
  CHECK(p.segments == 14);
  // 10,000 entries exceed even "more than 64" segments: the sequence number has 256 values.
  CHECK(plan_complex_ack(status_ack(10000), request(5, true, 7), 1476, 1000).fit ==
        AckFit::kTooManySegments);
}

TEST_CASE("segments carry the header fields and reassemble to the service data") {
  std::vector<uint8_t> data(100);
  std::iota(data.begin(), data.end(), uint8_t(0));
  const ApduHeader req = request(0, true);  // 50-octet APDUs: 45 octets of data each
  const AckPlan plan = plan_complex_ack(data.size(), req, 1476, 64);
  REQUIRE(plan.fit == AckFit::kSegmented);
  REQUIRE(plan.segments == 3);
  std::vector<uint8_t> joined;
  for (uint8_t seq = 0; seq < plan.segments; ++seq) {
    const auto seg = encode([&](Writer& w) { encode_complex_ack_segment(w, req, plan, data, seq, 4); });
    CHECK(seg.size() <= plan.apdu_limit);
    ApduHeader h;
    REQUIRE(decode_apdu_header(seg, h) == Status::kOk);
    CHECK(h.type == PduType::kComplexAck);
    CHECK(h.segmented);
    CHECK(h.more_follows == (seq + 1u < plan.segments));
    CHECK(h.invoke_id == 7);
    CHECK(h.sequence_number == seq);
    CHECK(h.window_size == 4);
    CHECK(h.service_choice == 12);
    joined.insert(joined.end(), seg.begin() + long(h.header_size), seg.end());
  }
  CHECK(joined == data);
  const auto last = encode([&](Writer& w) { encode_complex_ack_segment(w, req, plan, data, 2, 4); });
  CHECK(bacnet_test::to_hex(std::span<const uint8_t>(last).first(5)) == "38 07 02 04 0C");
}
