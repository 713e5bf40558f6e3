// NPDU headers and APDU fixed headers (src/codec/npdu.cpp, apdu.cpp) against the vectors
// of docs/bacnet-device.md, plus the malformed cases.
#include <doctest/doctest.h>

#include <array>

#include "bacnet_test_util.hpp"
#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/npdu.hpp"

using namespace bsc::bacnet;
using bacnet_test::encode;
using bacnet_test::hex;

namespace {

// The decoded addresses view the input: keep the last one alive.
Npdu decode_ok(std::string_view text) {
  static std::vector<uint8_t> bytes;
  bytes = hex(text);
  Npdu n;
  REQUIRE(decode_npdu(bytes, n) == Status::kOk);
  CHECK(n.header_size == bytes.size());
  return n;
}

Status npdu_status(std::string_view text) {
  const auto bytes = hex(text);
  Npdu n;
  return decode_npdu(bytes, n);
}

ApduHeader header_ok(std::string_view text) {
  const auto bytes = hex(text);
  ApduHeader h;
  REQUIRE(decode_apdu_header(bytes, h) == Status::kOk);
  // Re-encoding the decoded header gives the same octets.
  CHECK_BYTES(encode([&](Writer& w) { encode_apdu_header(w, h); }), text);
  return h;
}

Status header_status(std::string_view text) {
  const auto bytes = hex(text);
  ApduHeader h;
  return decode_apdu_header(bytes, h);
}

}  // namespace

TEST_CASE("NPDU: local, confirmed-request and global-broadcast headers") {
  CHECK_BYTES(encode([](Writer& w) { encode_npdu(w, Npdu{}); }), "01 00");
  CHECK_BYTES(encode([](Writer& w) { encode_npdu(w, Npdu{.expecting_reply = true}); }), "01 04");
  const Npdu global{.has_dest = true, .dest = {kGlobalNetwork, {}}, .hop_count = 255};
  CHECK_BYTES(encode([&](Writer& w) { encode_npdu(w, global); }), "01 20 FF FF 00 FF");

  CHECK_FALSE(decode_ok("01 00").expecting_reply);
  CHECK(decode_ok("01 04").expecting_reply);
  const Npdu g = decode_ok("01 20 FF FF 00 FF");
  CHECK(g.global_broadcast());
  CHECK(g.dest.mac.empty());
  CHECK(g.hop_count == 255);
  CHECK(decode_ok("01 03").priority == Priority::kLifeSafety);
}

TEST_CASE("NPDU: SNET/SADR, and the hop count after the source fields") {
  const std::array<uint8_t, 1> dadr{0x0A};
  const std::array<uint8_t, 2> sadr{0xAB, 0xCD};
  const Npdu n{.priority = Priority::kUrgent, .has_dest = true, .dest = {7, dadr},
               .hop_count = 0xFE, .has_source = true, .source = {5, sadr}};
  const auto bytes = encode([&](Writer& w) { encode_npdu(w, n); });
  CHECK_BYTES(bytes, "01 29 00 07 01 0A 00 05 02 AB CD FE");
  const Npdu back = decode_ok("01 29 00 07 01 0A 00 05 02 AB CD FE");
  CHECK(back.dest.net == 7);
  CHECK(bacnet_test::to_hex(back.dest.mac) == "0A");
  CHECK(back.source.net == 5);
  CHECK(bacnet_test::to_hex(back.source.mac) == "AB CD");
  CHECK(back.hop_count == 0xFE);
  CHECK(back.priority == Priority::kUrgent);
  CHECK_FALSE(back.global_broadcast());
}

TEST_CASE("NPDU: network-layer messages, standard and proprietary") {
  const Npdu std_msg = decode_ok("01 80 01");
  CHECK(std_msg.network_message);
  CHECK(std_msg.message_type == 1);
  const Npdu vendor = decode_ok("01 80 80 01 04");
  CHECK(vendor.message_type == 0x80);
  CHECK(vendor.vendor_id == 260);
  CHECK_BYTES(encode([&](Writer& w) { encode_npdu(w, vendor); }), "01 80 80 01 04");
}

TEST_CASE("NPDU: malformed headers") {
  CHECK(npdu_status("") == Status::kTruncated);
  CHECK(npdu_status("01") == Status::kTruncated);
  CHECK(npdu_status("02 00") == Status::kBadValue);           // version 2
  CHECK(npdu_status("01 40") == Status::kOutOfRange);         // reserved bit 6
  CHECK(npdu_status("01 10") == Status::kOutOfRange);         // reserved bit 4
  CHECK(npdu_status("01 20 FF FF 06 01") == Status::kTruncated);  // DADR cut short
  CHECK(npdu_status("01 20 FF FF 00") == Status::kTruncated);     // hop count missing
  CHECK(npdu_status("01 08 FF FF 01 05") == Status::kOutOfRange);  // SNET 0xFFFF
  CHECK(npdu_status("01 08 00 05 00") == Status::kOutOfRange);     // SLEN 0
  CHECK(npdu_status("01 80") == Status::kTruncated);              // message type missing
  CHECK(npdu_status("01 80 80 01") == Status::kTruncated);        // vendor id cut short
}

TEST_CASE("APDU headers of the doc's vectors, decoded and re-encoded") {
  ApduHeader h = header_ok("00 05 01 0C");  // V4
  CHECK(h.type == PduType::kConfirmedRequest);
  CHECK(h.max_apdu_code == 5);
  CHECK(h.max_segments_code == 0);
  CHECK(h.invoke_id == 1);
  CHECK(h.service_choice == 12);
  CHECK(h.header_size == 4);
  h = header_ok("02 65 02 0C");  // V4b: segmented response accepted, 64 segments
  CHECK(h.segmented_response_accepted);
  CHECK(max_segments(h.max_segments_code) == 64);
  CHECK(max_apdu_octets(h.max_apdu_code) == 1476);
  h = header_ok("10 08");  // V1
  CHECK(h.type == PduType::kUnconfirmedRequest);
  CHECK(h.service_choice == 8);
  CHECK(h.header_size == 2);
  h = header_ok("30 04 0E");  // V7's ComplexACK
  CHECK(h.type == PduType::kComplexAck);
  CHECK(h.invoke_id == 4);
  h = header_ok("3C 05 00 04 0C");  // segmented ComplexACK, more follows, seq 0, window 4
  CHECK(h.segmented);
  CHECK(h.more_follows);
  CHECK(h.sequence_number == 0);
  CHECK(h.window_size == 4);
  CHECK(h.header_size == 5);
  h = header_ok("0A 05 07 02 03 0E");  // segmented request with SA, seq 2, window 3
  CHECK(h.sequence_number == 2);
  CHECK(h.window_size == 3);
  CHECK(h.header_size == 6);
  h = header_ok("40 05 03 04");
  CHECK(h.type == PduType::kSegmentAck);
  CHECK_FALSE(h.from_server);
  h = header_ok("43 05 03 04");
  CHECK(h.negative_ack);
  CHECK(h.from_server);
  h = header_ok("71 03 04");  // V10
  CHECK(h.from_server);
  CHECK(h.reason == 4);
}

TEST_CASE("short PDUs: SimpleACK, Segment-ACK, Error, Reject, Abort") {
  CHECK_BYTES(encode([](Writer& w) { encode_simple_ack(w, 9, 15); }), "20 09 0F");  // V11
  CHECK_BYTES(encode([](Writer& w) { encode_segment_ack(w, 5, 3, 4, false, true); }), "41 05 03 04");
  CHECK_BYTES(encode([](Writer& w) { encode_segment_ack(w, 5, 3, 4, true, false); }), "42 05 03 04");
  CHECK_BYTES(encode([](Writer& w) {
                encode_error(w, 1, 12, ErrorClass::kProperty, ErrorCode::kUnknownProperty);
              }),
              "50 01 0C 91 02 91 20");  // V8
  CHECK_BYTES(encode([](Writer& w) {
                encode_error(w, 1, 12, ErrorClass::kObject, ErrorCode::kUnknownObject);
              }),
              "50 01 0C 91 01 91 1F");  // V8b
  CHECK_BYTES(encode([](Writer& w) {
                encode_error(w, 1, 12, ErrorClass::kProperty, ErrorCode::kPropertyIsNotAnArray);
              }),
              "50 01 0C 91 02 91 32");  // V8c
  CHECK_BYTES(encode([](Writer& w) {
                encode_error(w, 1, 12, ErrorClass::kProperty, ErrorCode::kInvalidArrayIndex);
              }),
              "50 01 0C 91 02 91 2A");  // V8d
  CHECK_BYTES(encode([](Writer& w) {
                encode_error(w, 9, 12, ErrorClass::kProperty, ErrorCode::kPropertyIsNotAnArray);
              }),
              "50 09 0C 91 02 91 32");  // RP of a list with an index
  CHECK_BYTES(encode([](Writer& w) { encode_reject(w, 7, RejectReason::kUnrecognizedService); }),
              "60 07 09");  // V9
  CHECK_BYTES(encode([](Writer& w) {
                encode_abort(w, 3, AbortReason::kSegmentationNotSupported, true);
              }),
              "71 03 04");  // V10
  CHECK_BYTES(encode([](Writer& w) { encode_abort(w, 3, AbortReason::kBufferOverflow, true); }),
              "71 03 01");  // V10b

  const auto error = hex("50 01 0C 91 02 91 20");
  ApduHeader h;
  REQUIRE(decode_apdu_header(error, h) == Status::kOk);
  Reader r{std::span<const uint8_t>(error).subspan(h.header_size)};
  ErrorPair e;
  REQUIRE(get_error_pair(r, e) == Status::kOk);
  CHECK(e == ErrorPair{2, 32});
}

TEST_CASE("max-APDU and max-segments codes") {
  const std::pair<uint8_t, size_t> apdu[] = {{0, 50}, {1, 128}, {2, 206}, {3, 480}, {4, 1024}, {5, 1476}};
  for (const auto& [code, octets] : apdu) {
    CHECK(max_apdu_octets(code) == octets);
    CHECK(max_apdu_code(octets) == code);
  }
  CHECK(max_apdu_octets(6) == 0);
  CHECK(max_apdu_code(1000) == 3);
  CHECK(max_apdu_code(10) == 0);
  CHECK(max_apdu_code(65535) == 5);
  CHECK(max_segments(0) == kSegmentsUnspecified);
  CHECK(max_segments(1) == 2);
  CHECK(max_segments(6) == 64);
  CHECK(max_segments(7) == kSegmentsMoreThan64);
}

TEST_CASE("APDU: malformed fixed headers") {
  CHECK(header_status("") == Status::kTruncated);
  CHECK(header_status("00 05 01") == Status::kTruncated);  // no service choice
  CHECK(header_status("10") == Status::kTruncated);
  CHECK(header_status("08 05 01 00") == Status::kTruncated);  // segmented: window missing
  CHECK(header_status("40 05 03") == Status::kTruncated);
  CHECK(header_status("60 07") == Status::kTruncated);
  CHECK(header_status("80 00") == Status::kBadValue);        // PDU type 8
  CHECK(header_status("00 06 01 0C") == Status::kOutOfRange);  // reserved max-APDU code
  CHECK(header_status("08 05 01 00 00 0C") == Status::kOutOfRange);  // window 0
  CHECK(header_status("40 05 03 80") == Status::kOutOfRange);        // window 128
}

TEST_CASE("reject reasons for decode failures") {
  CHECK(reject_reason(Status::kTruncated) == RejectReason::kMissingRequiredParameter);
  CHECK(reject_reason(Status::kUnexpectedTag) == RejectReason::kInvalidTag);
  CHECK(reject_reason(Status::kLengthOverrun) == RejectReason::kInvalidTag);
  CHECK(reject_reason(Status::kWrongType) == RejectReason::kInvalidParameterDataType);
  CHECK(reject_reason(Status::kOutOfRange) == RejectReason::kParameterOutOfRange);
  CHECK(reject_reason(Status::kBadValue) == RejectReason::kUndefinedEnumeration);
  CHECK(reject_reason(Status::kInconsistent) == RejectReason::kInconsistentParameters);
  CHECK(reject_reason(Status::kTooMany) == RejectReason::kTooManyArguments);
}
