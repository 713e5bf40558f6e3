// Service data codecs (src/codec/services_*.cpp): Who-Is/I-Am, Who-Has/I-Have,
// ReadProperty, ReadPropertyMultiple, ReadRange, DeviceCommunicationControl, against the
// vectors of docs/bacnet-device.md (whole APDUs), decoded back, and the malformed cases.
#include <doctest/doctest.h>

#include <array>
#include <tuple>

#include "bacnet_test_util.hpp"
#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/services_dcc.hpp"
#include "bsc/bacnet/services_range.hpp"
#include "bsc/bacnet/services_read.hpp"
#include "bsc/bacnet/services_who.hpp"

using namespace bsc::bacnet;
using bacnet_test::encode;
using bacnet_test::hex;
using bacnet_test::kDevice4000;
using bacnet_test::kPort1;

namespace {

constexpr uint32_t kObjectList = 76, kObjectName = 77, kSystemStatus = 112,
                   kProtocolRevision = 139, kNetworkType = 427, kLinkSpeeds = 421,
                   kHubConnectionStatus = 4194321;

ApduHeader unconfirmed(UnconfirmedService s) {
  return {.type = PduType::kUnconfirmedRequest, .service_choice = uint8_t(s)};
}
ApduHeader confirmed(uint8_t invoke, ConfirmedService s, bool sa = false, uint8_t max_segs = 0) {
  return {.type = PduType::kConfirmedRequest, .segmented_response_accepted = sa,
          .max_segments_code = max_segs, .max_apdu_code = 5, .invoke_id = invoke,
          .service_choice = uint8_t(s)};
}
ApduHeader complex_ack(uint8_t invoke, ConfirmedService s) {
  return {.type = PduType::kComplexAck, .invoke_id = invoke, .service_choice = uint8_t(s)};
}

// The service data of a whole APDU (its fixed header decoded and skipped).
std::vector<uint8_t> service_data(std::string_view apdu_hex) {
  const auto apdu = hex(apdu_hex);
  ApduHeader h;
  REQUIRE(decode_apdu_header(apdu, h) == Status::kOk);
  return {apdu.begin() + long(h.header_size), apdu.end()};
}

// An RP-ACK carrying one value written by `value(Writer&)`.
template <class F>
std::vector<uint8_t> rp_ack(uint8_t invoke, ObjectPropertyRef ref, F value) {
  return encode([&](Writer& w) {
    encode_apdu_header(w, complex_ack(invoke, ConfirmedService::kReadProperty));
    encode_read_property_ack_begin(w, ref);
    value(w);
    encode_read_property_ack_end(w);
  });
}

std::string rp_ack_value(std::string_view apdu_hex, ObjectPropertyRef expected) {
  ObjectPropertyRef ref;
  std::span<const uint8_t> value;
  const auto data = service_data(apdu_hex);
  REQUIRE(decode_read_property_ack(data, ref, value) == Status::kOk);
  CHECK(ref == expected);
  return bacnet_test::to_hex(value);
}

}  // namespace

TEST_CASE("Who-Is without and with a range (V1, V2, V2b)") {
  const WhoIs all{};
  const WhoIs one{{true, 4000, 4000}};
  const WhoIs everything{{true, 0, 4194303}};
  const std::pair<WhoIs, const char*> cases[] = {
      {all, "10 08"}, {one, "10 08 0A 0F A0 1A 0F A0"}, {everything, "10 08 09 00 1B 3F FF FF"}};
  for (const auto& [who, text] : cases) {
    CAPTURE(text);
    CHECK_BYTES(encode([&](Writer& w) {
                  encode_apdu_header(w, unconfirmed(UnconfirmedService::kWhoIs));
                  encode_who_is(w, who);
                }),
                text);
    WhoIs back;
    REQUIRE(decode_who_is(service_data(text), back) == Status::kOk);
    CHECK(back.range.present == who.range.present);
    CHECK(back.range.low == who.range.low);
    CHECK(back.range.high == who.range.high);
  }
  CHECK(one.range.contains(4000));
  CHECK_FALSE(one.range.contains(4001));
  CHECK(all.range.contains(4194303));
}

TEST_CASE("I-Am (V3, V3b)") {
  const IAm iam{kDevice4000, 1476, Segmentation::kNone, 260};
  const char* v3 = "10 00 C4 02 00 0F A0 22 05 C4 91 03 22 01 04";
  CHECK_BYTES(encode([&](Writer& w) {
                encode_apdu_header(w, unconfirmed(UnconfirmedService::kIAm));
                encode_i_am(w, iam);
              }),
              v3);
  IAm back;
  REQUIRE(decode_i_am(service_data(v3), back) == Status::kOk);
  CHECK(back.device == kDevice4000);
  CHECK(back.max_apdu == 1476);
  CHECK(back.segmentation == Segmentation::kNone);
  CHECK(back.vendor_id == 260);
  IAm small = iam;
  small.max_apdu = 480;
  CHECK_BYTES(encode([&](Writer& w) {
                encode_apdu_header(w, unconfirmed(UnconfirmedService::kIAm));
                encode_i_am(w, small);
              }),
              "10 00 C4 02 00 0F A0 22 01 E0 91 03 22 01 04");
  CHECK(decode_i_am(hex("C4 02 00 0F A0 22 05 C4 91 04 22 01 04"), back) == Status::kBadValue);
}

TEST_CASE("Who-Has by identifier and by name, I-Have (encodings per clause 16.9)") {
  WhoHas by_id{.object = kPort1};
  CHECK_BYTES(encode([&](Writer& w) { encode_who_has(w, by_id); }), "2C 0E 00 00 01");
  WhoHas by_name{.range = {true, 1, 5000}, .by_name = true, .name = "Hub"};
  const auto bytes = encode([&](Writer& w) { encode_who_has(w, by_name); });
  CHECK_BYTES(bytes, "09 01 1A 13 88 3C 00 48 75 62");
  WhoHas back;
  REQUIRE(decode_who_has(bytes, back) == Status::kOk);
  CHECK(back.by_name);
  CHECK(back.name == "Hub");
  CHECK(back.range.high == 5000);
  REQUIRE(decode_who_has(hex("2C 0E 00 00 01"), back) == Status::kOk);
  CHECK_FALSE(back.by_name);
  CHECK(back.object == kPort1);

  const IHave ihave{kDevice4000, kPort1, "SC port"};
  const auto ih = encode([&](Writer& w) { encode_i_have(w, ihave); });
  CHECK_BYTES(ih, "C4 02 00 0F A0 C4 0E 00 00 01 75 08 00 53 43 20 70 6F 72 74");
  IHave ih_back;
  REQUIRE(decode_i_have(ih, ih_back) == Status::kOk);
  CHECK(ih_back.object == kPort1);
  CHECK(ih_back.name == "SC port");
}

TEST_CASE("ReadProperty requests (V4, V4b, V4c)") {
  const std::tuple<uint8_t, ObjectPropertyRef, bool, uint8_t, const char*> cases[] = {
      {1, {kDevice4000, {kObjectName}}, false, 0, "00 05 01 0C 0C 02 00 0F A0 19 4D"},
      {2, {kDevice4000, {kObjectList, true, 0}}, true, 6, "02 65 02 0C 0C 02 00 0F A0 19 4C 29 00"},
      {3, {kPort1, {kHubConnectionStatus}}, false, 0, "00 05 03 0C 0C 0E 00 00 01 1B 40 00 11"},
  };
  for (const auto& [invoke, ref, sa, segs, text] : cases) {
    CAPTURE(text);
    CHECK_BYTES(encode([&](Writer& w) {
                  encode_apdu_header(w, confirmed(invoke, ConfirmedService::kReadProperty, sa, segs));
                  encode_read_property(w, ref);
                }),
                text);
    ObjectPropertyRef back;
    REQUIRE(decode_read_property(service_data(text), back) == Status::kOk);
    CHECK(back == ref);
  }
}

TEST_CASE("ReadProperty-ACKs of the Device object (V5, V5b, V5c)") {
  const ObjectPropertyRef name{kDevice4000, {kObjectName}};
  const char* v5 = "30 01 0C 0C 02 00 0F A0 19 4D 3E 75 08 00 48 75 62 73 74 65 72 3F";
  CHECK_BYTES(rp_ack(1, name, [](Writer& w) { put_character_string(w, "Hubster"); }), v5);
  CHECK(rp_ack_value(v5, name) == "75 08 00 48 75 62 73 74 65 72");

  const ObjectPropertyRef count{kDevice4000, {kObjectList, true, 0}};
  const char* v5b = "30 02 0C 0C 02 00 0F A0 19 4C 29 00 3E 21 02 3F";
  CHECK_BYTES(rp_ack(2, count, [](Writer& w) { put_unsigned(w, 2); }), v5b);
  CHECK(rp_ack_value(v5b, count) == "21 02");

  const ObjectPropertyRef list{kDevice4000, {kObjectList}};
  const char* v5c = "30 02 0C 0C 02 00 0F A0 19 4C 3E C4 02 00 0F A0 C4 0E 00 00 01 3F";
  CHECK_BYTES(rp_ack(2, list, [](Writer& w) {
                put_object_id(w, kDevice4000);
                put_object_id(w, kPort1);
              }),
              v5c);
  CHECK(rp_ack_value(v5c, list) == "C4 02 00 0F A0 C4 0E 00 00 01");
}

TEST_CASE("ReadProperty-ACKs of the Network Port object") {
  const std::array<uint8_t, 6> vmac{0x42, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5};
  auto ack = [](uint32_t property, auto value) {
    return rp_ack(5, {kPort1, {property}}, value);
  };
  CHECK_BYTES(ack(kNetworkType, [](Writer& w) { put_enumerated(w, 11); }),
              "30 05 0C 0C 0E 00 00 01 1A 01 AB 3E 91 0B 3F");
  CHECK_BYTES(ack(423, [&](Writer& w) { put_octet_string(w, vmac); }),
              "30 05 0C 0C 0E 00 00 01 1A 01 A7 3E 65 06 42 A1 B2 C3 D4 E5 3F");
  CHECK_BYTES(ack(4194304, [](Writer& w) { put_unsigned(w, 1600); }),
              "30 05 0C 0C 0E 00 00 01 1B 40 00 00 3E 22 06 40 3F");
  CHECK_BYTES(ack(4194318, [](Writer& w) { put_enumerated(w, 1); }),
              "30 05 0C 0C 0E 00 00 01 1B 40 00 0E 3E 91 01 3F");
  CHECK_BYTES(ack(4194322, [](Writer& w) { put_boolean(w, true); }),
              "30 05 0C 0C 0E 00 00 01 1B 40 00 12 3E 11 3F");
  CHECK_BYTES(ack(4194320, [](Writer& w) { put_character_string(w, "50050"); }),
              "30 05 0C 0C 0E 00 00 01 1B 40 00 10 3E 75 06 00 35 30 30 35 30 3F");
  CHECK_BYTES(ack(4194306, [](Writer& w) { put_object_id(w, ObjectId{10, 5}); }),
              "30 05 0C 0C 0E 00 00 01 1B 40 00 02 3E C4 02 80 00 05 3F");
}

TEST_CASE("ReadPropertyMultiple requests (V6, V6b)") {
  const char* v6 =
      "00 05 04 0E 0C 02 00 0F A0 1E 09 4D 09 70 09 8B 1F 0C 0E 00 00 01 1E 0A 01 AB 1F";
  CHECK_BYTES(encode([](Writer& w) {
                encode_apdu_header(w, confirmed(4, ConfirmedService::kReadPropertyMultiple));
                rpm_begin_object(w, kDevice4000);
                for (uint32_t p : {kObjectName, kSystemStatus, kProtocolRevision}) rpm_put_reference(w, {p});
                rpm_end_object(w);
                rpm_begin_object(w, kPort1);
                rpm_put_reference(w, {kNetworkType});
                rpm_end_object(w);
              }),
              v6);
  const auto data = service_data(v6);
  size_t refs = 0;
  REQUIRE(validate_rpm_request(data, refs) == Status::kOk);
  CHECK(refs == 4);
  RpmParser p(data);
  ObjectId object;
  PropertyRef ref;
  REQUIRE(p.next_object(object));
  CHECK(object == kDevice4000);
  std::vector<uint32_t> seen;
  while (p.next_reference(ref)) seen.push_back(ref.property);
  CHECK(seen == std::vector<uint32_t>{kObjectName, kSystemStatus, kProtocolRevision});
  REQUIRE(p.next_object(object));
  CHECK(object == kPort1);
  REQUIRE(p.next_reference(ref));
  CHECK(ref.property == kNetworkType);
  CHECK_FALSE(p.next_reference(ref));
  CHECK_FALSE(p.next_object(object));
  CHECK(p.status() == Status::kOk);

  const char* v6b = "02 05 05 0E 0C 02 00 0F A0 1E 09 08 1F";
  CHECK_BYTES(encode([](Writer& w) {
                encode_apdu_header(w, confirmed(5, ConfirmedService::kReadPropertyMultiple, true));
                rpm_begin_object(w, kDevice4000);
                rpm_put_reference(w, {property::kAll});
                rpm_end_object(w);
              }),
              v6b);
  const auto all_data = service_data(v6b);
  RpmParser all(all_data);
  REQUIRE(all.next_object(object));
  REQUIRE(all.next_reference(ref));
  CHECK(ref.property == property::kAll);
}

TEST_CASE("ReadPropertyMultiple-ACK with values and an embedded error (V7)") {
  const char* v7 =
      "30 04 0E 0C 02 00 0F A0 1E 29 4D 4E 75 08 00 48 75 62 73 74 65 72 4F 29 70 4E 91 00 4F "
      "29 8B 4E 21 18 4F 1F 0C 0E 00 00 01 1E 2A 01 AB 4E 91 0B 4F 2A 01 A5 5E 91 02 91 20 5F 1F";
  CHECK_BYTES(encode([](Writer& w) {
                encode_apdu_header(w, complex_ack(4, ConfirmedService::kReadPropertyMultiple));
                rpm_begin_object(w, kDevice4000);
                rpm_begin_value(w, {kObjectName});
                put_character_string(w, "Hubster");
                rpm_end_value(w);
                rpm_begin_value(w, {kSystemStatus});
                put_enumerated(w, 0);
                rpm_end_value(w);
                rpm_begin_value(w, {kProtocolRevision});
                put_unsigned(w, 24);
                rpm_end_value(w);
                rpm_end_object(w);
                rpm_begin_object(w, kPort1);
                rpm_begin_value(w, {kNetworkType});
                put_enumerated(w, 11);
                rpm_end_value(w);
                rpm_put_error(w, {kLinkSpeeds}, {uint32_t(ErrorClass::kProperty),
                                                 uint32_t(ErrorCode::kUnknownProperty)});
                rpm_end_object(w);
              }),
              v7);
  const auto data = service_data(v7);
  RpmParser p(data);
  ObjectId object;
  RpmResult res;
  REQUIRE(p.next_object(object));
  std::vector<std::string> values;
  while (p.next_result(res)) values.push_back(bacnet_test::to_hex(res.value));
  CHECK(values == std::vector<std::string>{"75 08 00 48 75 62 73 74 65 72", "91 00", "21 18"});
  REQUIRE(p.next_object(object));
  CHECK(object == kPort1);
  REQUIRE(p.next_result(res));
  CHECK_FALSE(res.is_error);
  REQUIRE(p.next_result(res));
  CHECK(res.is_error);
  CHECK(res.ref.property == kLinkSpeeds);
  CHECK(res.error == ErrorPair{2, 32});
  CHECK_FALSE(p.next_result(res));
  CHECK_FALSE(p.next_object(object));
  CHECK(p.status() == Status::kOk);
}

TEST_CASE("RpmParser skips a list the caller left unfinished") {
  const auto data = service_data(
      "00 05 04 0E 0C 02 00 0F A0 1E 09 4D 09 70 09 8B 1F 0C 0E 00 00 01 1E 0A 01 AB 1F");
  RpmParser p(data);
  ObjectId object;
  PropertyRef ref;
  REQUIRE(p.next_object(object));
  REQUIRE(p.next_reference(ref));
  REQUIRE(p.next_object(object));
  CHECK(object == kPort1);
}

TEST_CASE("ReadRange by position, by sequence number and by time; the ACK") {
  const ObjectPropertyRef status{kPort1, {kHubConnectionStatus}};
  ReadRangeRequest by_position{status, RangeKind::kByPosition, 1, {}, 10};
  auto bytes = encode([&](Writer& w) { encode_read_range(w, by_position); });
  CHECK_BYTES(bytes, "0C 0E 00 00 01 1B 40 00 11 3E 21 01 31 0A 3F");
  ReadRangeRequest back;
  REQUIRE(decode_read_range(bytes, back) == Status::kOk);
  CHECK(back.kind == RangeKind::kByPosition);
  CHECK(back.reference == 1);
  CHECK(back.count == 10);
  CHECK(back.target == status);

  ReadRangeRequest by_seq{status, RangeKind::kBySequenceNumber, 5, {}, -5};
  bytes = encode([&](Writer& w) { encode_read_range(w, by_seq); });
  CHECK_BYTES(bytes, "0C 0E 00 00 01 1B 40 00 11 6E 21 05 31 FB 6F");
  REQUIRE(decode_read_range(bytes, back) == Status::kOk);
  CHECK(back.kind == RangeKind::kBySequenceNumber);
  CHECK(back.count == -5);

  ReadRangeRequest by_time{status, RangeKind::kByTime, 0, {{124, 5, 17, 5}, {10, 30, 0, 0}}, 1};
  bytes = encode([&](Writer& w) { encode_read_range(w, by_time); });
  CHECK_BYTES(bytes, "0C 0E 00 00 01 1B 40 00 11 7E A4 7C 05 11 05 B4 0A 1E 00 00 31 01 7F");
  REQUIRE(decode_read_range(bytes, back) == Status::kOk);
  CHECK(back.kind == RangeKind::kByTime);
  CHECK(back.reference_time == by_time.reference_time);

  REQUIRE(decode_read_range(hex("0C 0E 00 00 01 1B 40 00 11"), back) == Status::kOk);
  CHECK(back.kind == RangeKind::kAll);

  ReadRangeAck ack{status, {true, true, false}, 1};
  bytes = encode([&](Writer& w) {
    encode_read_range_ack_begin(w, ack);
    put_unsigned(w, 7);
    encode_read_range_ack_end(w, ack);
  });
  CHECK_BYTES(bytes, "0C 0E 00 00 01 1B 40 00 11 3A 05 C0 49 01 5E 21 07 5F");
  ReadRangeAck ack_back;
  REQUIRE(decode_read_range_ack(bytes, ack_back) == Status::kOk);
  CHECK(ack_back.flags == ResultFlags{true, true, false});
  CHECK(ack_back.item_count == 1);
  CHECK(bacnet_test::to_hex(ack_back.items) == "21 07");
  CHECK_FALSE(ack_back.has_first_sequence);
  ack.has_first_sequence = true;
  ack.first_sequence = 9;
  bytes = encode([&](Writer& w) {
    encode_read_range_ack_begin(w, ack);
    encode_read_range_ack_end(w, ack);
  });
  CHECK_BYTES(bytes, "0C 0E 00 00 01 1B 40 00 11 3A 05 C0 49 01 5E 5F 69 09");
  REQUIRE(decode_read_range_ack(bytes, ack_back) == Status::kOk);
  CHECK(ack_back.first_sequence == 9);
}

TEST_CASE("DeviceCommunicationControl requests") {
  const DccRequest full{true, 5, EnableDisable::kDisable, true, "secret"};
  const auto bytes = encode([&](Writer& w) { encode_dcc(w, full); });
  CHECK_BYTES(bytes, "09 05 19 01 2D 07 00 73 65 63 72 65 74");
  DccRequest back;
  REQUIRE(decode_dcc(bytes, back) == Status::kOk);
  CHECK(back.has_duration);
  CHECK(back.duration_minutes == 5);
  CHECK(back.state == EnableDisable::kDisable);
  CHECK(back.password == "secret");
  REQUIRE(decode_dcc(hex("19 00"), back) == Status::kOk);
  CHECK_FALSE(back.has_duration);
  CHECK_FALSE(back.has_password);
  CHECK(back.state == EnableDisable::kEnable);
  // 20 characters are allowed, even when multi-octet ("é" is two octets).
  REQUIRE(decode_dcc(hex("19 02 2D 29 00 "
                         "C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 "
                         "C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9 C3 A9"),
                     back) == Status::kOk);
  CHECK(back.state == EnableDisable::kDisableInitiation);
}

TEST_CASE("malformed service data gives the precise Status") {
  WhoIs who;
  CHECK(decode_who_is(hex("09 05"), who) == Status::kInconsistent);        // low limit only
  CHECK(decode_who_is(hex("1A 0F A0"), who) == Status::kInconsistent);     // high limit only
  CHECK(decode_who_is(hex("09 00 19 05 29 00"), who) == Status::kTooMany);
  CHECK(decode_who_is(hex("0B 40 00 00 19 01"), who) == Status::kOutOfRange);  // 4194304
  CHECK(decode_who_is(hex("09 00 29 05"), who) == Status::kUnexpectedTag);
  WhoHas has;
  CHECK(decode_who_has(hex(""), has) == Status::kTruncated);
  CHECK(decode_who_has(hex("3C 04 41 42 43"), has) == Status::kUnsupportedCharset);
  ObjectPropertyRef rp;
  CHECK(decode_read_property(hex("0C 02 00 0F A0"), rp) == Status::kTruncated);
  CHECK(decode_read_property(hex("1C 02 00 0F A0 19 4D"), rp) == Status::kUnexpectedTag);
  CHECK(decode_read_property(hex("C4 02 00 0F A0 19 4D"), rp) == Status::kUnexpectedTag);
  CHECK(decode_read_property(hex("0C 02 00 0F A0 1D FE FF FF"), rp) == Status::kLengthOverrun);
  CHECK(decode_read_property(hex("0C 02 00 0F A0 19 4D 29 00 39 01"), rp) == Status::kTooMany);
  CHECK(decode_read_property(hex("0B 02 00 0F 19 4D"), rp) == Status::kBadLength);
  size_t refs = 0;
  CHECK(validate_rpm_request({}, refs) == Status::kTruncated);
  CHECK(validate_rpm_request(hex("0C 02 00 0F A0 1E 09 4D"), refs) == Status::kTruncated);
  CHECK(validate_rpm_request(hex("0C 02 00 0F A0 09 4D"), refs) == Status::kUnexpectedTag);
  CHECK(validate_rpm_request(hex("0C 02 00 0F A0 1E 19 4D 1F"), refs) == Status::kUnexpectedTag);
  ObjectPropertyRef ack_ref;
  std::span<const uint8_t> value;
  CHECK(decode_read_property_ack(hex("0C 02 00 0F A0 19 4D 3E 21 02"), ack_ref, value) ==
        Status::kTruncated);
  ReadRangeRequest rr;
  CHECK(decode_read_range(hex("0C 0E 00 00 01 1B 40 00 11 4E 21 01 31 0A 4F"), rr) ==
        Status::kUnexpectedTag);  // tag 4: a removed form
  CHECK(decode_read_range(hex("0C 0E 00 00 01 1B 40 00 11 3E 21 01 33 00 80 00 3F"), rr) ==
        Status::kOutOfRange);     // count 32768 is not an INTEGER16
  CHECK(decode_read_range(hex("0C 0E 00 00 01 1B 40 00 11 3E 21 01 3F"), rr) ==
        Status::kUnexpectedTag);  // count missing
  DccRequest dcc;
  CHECK(decode_dcc(hex("19 03"), dcc) == Status::kBadValue);
  CHECK(decode_dcc(hex("0B 01 11 70 19 00"), dcc) == Status::kOutOfRange);  // 70000 minutes
  CHECK(decode_dcc(hex("19 00 2D 16 00 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41"),
                   dcc) == Status::kOutOfRange);                             // 21 characters
  CHECK(decode_dcc(hex("19 00 29 00"), dcc) == Status::kOutOfRange);        // empty password
  CHECK(decode_dcc(hex("19 00 28"), dcc) == Status::kBadLength);            // no charset octet
  CHECK(decode_dcc(hex("09 05"), dcc) == Status::kTruncated);
}
