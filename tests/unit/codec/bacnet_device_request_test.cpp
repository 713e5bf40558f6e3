// The device's request decoder (src/codec/device_request.cpp): which NPDUs it serves,
// rejects, aborts or ignores, per docs/bacnet-device.md §11.
#include <doctest/doctest.h>

#include "bacnet_test_util.hpp"
#include "bsc/bacnet/device_request.hpp"

using namespace bsc::bacnet;
using bacnet_test::hex;

namespace {

struct Decoded {
  std::vector<uint8_t> bytes;  // owns what the request's views point into
  DeviceRequest req;
};

Decoded decode(std::string_view npdu_hex) {
  Decoded d{hex(npdu_hex), {}};
  d.req = decode_device_request(d.bytes);
  return d;
}

}  // namespace

TEST_CASE("served: Who-Is as a global broadcast (V1n), with a range") {
  auto d = decode("01 20 FF FF 00 FF 10 08");
  CHECK(d.req.action == RequestAction::kServe);
  CHECK(d.req.service == DeviceService::kWhoIs);
  CHECK_FALSE(d.req.who_is.range.present);
  d = decode("01 00 10 08 0A 0F A0 1A 0F A0");
  CHECK(d.req.action == RequestAction::kServe);
  CHECK(d.req.who_is.range.contains(4000));
  d = decode("01 00 10 07 3C 00 48 75 62");
  CHECK(d.req.service == DeviceService::kWhoHas);
  CHECK(d.req.who_has.name == "Hub");
}

TEST_CASE("served: ReadProperty (V4n), RPM (V6), ReadRange, DCC") {
  auto d = decode("01 04 00 05 01 0C 0C 02 00 0F A0 19 4D");
  REQUIRE(d.req.action == RequestAction::kServe);
  CHECK(d.req.service == DeviceService::kReadProperty);
  CHECK(d.req.apdu.invoke_id == 1);
  CHECK(d.req.npdu.expecting_reply);
  CHECK(d.req.read_property.object == ObjectId{8, 4000});
  CHECK(d.req.read_property.property.property == 77);
  d = decode("01 04 00 05 04 0E 0C 02 00 0F A0 1E 09 4D 09 70 09 8B 1F 0C 0E 00 00 01 1E 0A 01 AB 1F");
  REQUIRE(d.req.action == RequestAction::kServe);
  CHECK(d.req.service == DeviceService::kReadPropertyMultiple);
  CHECK(d.req.rpm_references == 4);
  d = decode("01 04 02 75 07 1A 0C 0E 00 00 01 1B 40 00 11 3E 21 01 31 0A 3F");
  REQUIRE(d.req.action == RequestAction::kServe);
  CHECK(d.req.service == DeviceService::kReadRange);
  CHECK(d.req.read_range.kind == RangeKind::kByPosition);
  CHECK(d.req.apdu.segmented_response_accepted);
  CHECK(max_segments(d.req.apdu.max_segments_code) == kSegmentsMoreThan64);
  d = decode("01 04 00 05 08 11 09 05 19 01 2D 07 00 73 65 63 72 65 74");
  REQUIRE(d.req.action == RequestAction::kServe);
  CHECK(d.req.service == DeviceService::kDeviceCommunicationControl);
  CHECK(d.req.dcc.password == "secret");
}

TEST_CASE("the reply address and priority come from the request's NPDU") {
  auto d = decode("01 0E 00 05 06 F2 6C E3 7A 66 2A 00 05 01 0C 0C 02 00 0F A0 19 4D");
  REQUIRE(d.req.action == RequestAction::kServe);
  CHECK(d.req.npdu.has_source);
  CHECK(d.req.npdu.source.net == 5);
  CHECK(bacnet_test::to_hex(d.req.npdu.source.mac) == "F2 6C E3 7A 66 2A");
  CHECK(d.req.npdu.priority == Priority::kCriticalEquipment);
}

TEST_CASE("rejected: unknown confirmed services and malformed service data") {
  auto d = decode("01 04 00 05 09 0F 0C 02 00 0F A0 19 55 3E 44 00 00 00 00 3F");  // WriteProperty
  CHECK(d.req.action == RequestAction::kReject);
  CHECK(d.req.reason == uint8_t(RejectReason::kUnrecognizedService));
  CHECK(d.req.apdu.invoke_id == 9);
  d = decode("01 04 00 05 01 0C 0C 02 00 0F A0");  // property missing
  CHECK(d.req.action == RequestAction::kReject);
  CHECK(d.req.reason == uint8_t(RejectReason::kMissingRequiredParameter));
  d = decode("01 04 00 05 01 0C 1C 02 00 0F A0 19 4D");
  CHECK(d.req.reason == uint8_t(RejectReason::kInvalidTag));
  d = decode("01 04 00 05 01 0C 0C 02 00 0F A0 19 4D 29 00 39 00");
  CHECK(d.req.reason == uint8_t(RejectReason::kTooManyArguments));
  d = decode("01 04 00 05 01 0E");  // RPM without any object
  CHECK(d.req.reason == uint8_t(RejectReason::kMissingRequiredParameter));
  d = decode("01 04 00 05 01 11 19 07");
  CHECK(d.req.reason == uint8_t(RejectReason::kUndefinedEnumeration));
}

TEST_CASE("aborted: a segmented request") {
  const auto d = decode("01 04 0C 05 01 00 04 0C 0C 02 00 0F A0 19 4D");
  CHECK(d.req.action == RequestAction::kAbort);
  CHECK(d.req.reason == uint8_t(AbortReason::kSegmentationNotSupported));
  CHECK(d.req.apdu.invoke_id == 1);
}

TEST_CASE("transactions: Segment-ACK and client Abort reach the device's TSM") {
  CHECK(decode("01 00 40 05 03 04").req.action == RequestAction::kTransaction);
  CHECK(decode("01 00 70 05 01").req.action == RequestAction::kTransaction);
}

TEST_CASE("ignored: not for this device, responses, malformed, unanswerable") {
  const char* ignored[] = {
      "",                                            // empty
      "02 00 10 08",                                 // NPDU version 2
      "01 80 01",                                    // network-layer message
      "01 20 00 07 00 FF 10 08",                     // for network 7 (not a router)
      "01 24 FF FF 00 FF 00 05 01 0C 0C 02 00 0F A0 19 4D",  // confirmed as global broadcast
      "01 00 10 00 C4 02 00 0F A0 22 05 C4 91 03 22 01 04",  // an I-Am from another device
      "01 00 10 08 09 05",                           // malformed Who-Is: never answered
      "01 00 10 63",                                 // unknown unconfirmed service
      "01 00 30 01 0C 0C 02 00 0F A0 19 4D 3E 21 02 3F",      // a ComplexACK
      "01 00 20 09 0F", "01 00 50 01 0C 91 02 91 20", "01 00 60 07 09",
      "01 00 71 03 04",                              // an Abort from a server
      "01 04 00 05",                                 // header cut short
      "01 04 00 0F 01 0C 0C 02 00 0F A0 19 4D",      // reserved max-APDU code
      "01 00 F0 00",                                 // PDU type 15
  };
  for (const char* text : ignored) {
    CAPTURE(text);
    const auto d = decode(text);
    CHECK(d.req.action == RequestAction::kIgnore);
    CHECK(d.req.why[0] != '\0');
  }
}
