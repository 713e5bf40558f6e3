// The hub's BACnet device (core/device.hpp): whole request NPDUs in, whole reply NPDUs out,
// against the vectors of docs/bacnet-device.md §12 where they exist.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "bsc/bacnet/services_read.hpp"
#include "core/connection_history.hpp"
#include "core/device.hpp"
#include "core/device_test_config.hpp"
#include "core/routing_map.hpp"
#include "test_bytes.hpp"

using bsc::Config;
using bsc::Device;
using bsc::DeviceReply;
using bsc::test::Bytes;
using bsc::test::device_config;
using bsc::test::hex;
using bsc::test::kRequester;
using bsc::test::to_hex;

namespace {

struct Rig {
  Config config = device_config();
  Device device{config, "wss://127.0.0.1:4443"};

  // The reply to `request` (hex NPDU), as hex; "" if there is none.
  std::string reply(std::string_view request, DeviceReply::To want = DeviceReply::To::kRequester,
                    bool broadcast = false) {
    Bytes in = hex(request);
    DeviceReply r = device.handle(in, broadcast, kRequester);
    if (r.to == DeviceReply::To::kNobody) return "";
    CHECK(int(r.to) == int(want));
    return to_hex(r.npdu, " ");
  }
};

std::string spaced(std::string_view h) { return to_hex(hex(h), " "); }

}  // namespace

TEST_CASE("device: Who-Is gets an I-Am to everyone, unless the range leaves the device out") {
  Rig rig;
  // Segmentation supported: segmented-transmit (91 01).
  CHECK(rig.reply("01 20 FF FF 00 FF 10 08", DeviceReply::To::kEveryone, true) ==
        spaced("01 20 FF FF 00 FF 10 00 C4 02 00 0F A0 22 05 C4 91 01 22 01 04"));
  CHECK(rig.reply("01 00 10 08 0A 0F A0 1A 0F A0", DeviceReply::To::kEveryone) ==
        spaced("01 20 FF FF 00 FF 10 00 C4 02 00 0F A0 22 05 C4 91 01 22 01 04"));
  CHECK(rig.reply("01 20 FF FF 00 FF 10 08 0A 0F A1 1A 0F A2", DeviceReply::To::kNobody, true)
            .empty());
}

TEST_CASE("device: Who-Has by name or identifier gets an I-Have to everyone") {
  Rig rig;
  auto to_all = DeviceReply::To::kEveryone;
  // By name: the device itself; by identifier: the Network Port.
  CHECK(rig.reply("01 20 FF FF 00 FF 10 07 3D 08 00 48 75 62 73 74 65 72", to_all, true) ==
        spaced("01 20 FF FF 00 FF 10 01 C4 02 00 0F A0 C4 02 00 0F A0 75 08 00 48 75 62 73 74 "
               "65 72"));
  CHECK(rig.reply("01 20 FF FF 00 FF 10 07 2C 0E 00 00 01", to_all, true) ==
        spaced("01 20 FF FF 00 FF 10 01 C4 02 00 0F A0 C4 0E 00 00 01 75 0C 00 53 43 20 68 75 "
               "62 20 70 6F 72 74"));
  // Not here (another name, another instance, the wildcard), or outside the range: nothing.
  CHECK(rig.reply("01 20 FF FF 00 FF 10 07 3D 05 00 6E 6F 70 65", to_all, true).empty());
  CHECK(rig.reply("01 20 FF FF 00 FF 10 07 2C 0E 00 00 02", to_all, true).empty());
  CHECK(rig.reply("01 20 FF FF 00 FF 10 07 2C 02 3F FF FF", to_all, true).empty());
  CHECK(rig.reply("01 20 FF FF 00 FF 10 07 09 00 19 05 3D 08 00 48 75 62 73 74 65 72", to_all,
                  true)
            .empty());
}

TEST_CASE("device: ReadProperty of the Device object") {
  Rig rig;
  // Object_Name (V4 -> V5).
  CHECK(rig.reply("01 04 00 05 01 0C 0C 02 00 0F A0 19 4D") ==
        spaced("01 00 30 01 0C 0C 02 00 0F A0 19 4D 3E 75 08 00 48 75 62 73 74 65 72 3F"));
  // Object_List whole (V5c) and its size (V4b -> V5b).
  CHECK(rig.reply("01 04 00 05 02 0C 0C 02 00 0F A0 19 4C") ==
        spaced("01 00 30 02 0C 0C 02 00 0F A0 19 4C 3E C4 02 00 0F A0 C4 0E 00 00 01 3F"));
  CHECK(rig.reply("01 04 02 65 02 0C 0C 02 00 0F A0 19 4C 29 00") ==
        spaced("01 00 30 02 0C 0C 02 00 0F A0 19 4C 29 00 3E 21 02 3F"));
  // The wildcard instance answers as this device, with its real identifier.
  CHECK(rig.reply("01 04 00 05 03 0C 0C 02 3F FF FF 19 4B") ==
        spaced("01 00 30 03 0C 0C 02 00 0F A0 19 4B 3E C4 02 00 0F A0 3F"));
  // Protocol_Services_Supported: RP, RPM, DCC, Who-Has, Who-Is, ReadRange of 49 bits (the
  // doc's vector with DCC 17 and ReadRange 35 added); object types Device and Network Port
  // of 65.
  CHECK(rig.reply("01 04 00 05 04 0C 0C 02 00 0F A0 19 61") ==
        spaced("01 00 30 04 0C 0C 02 00 0F A0 19 61 3E 85 08 07 00 0A 40 00 70 00 00 3F"));
  CHECK(rig.reply("01 04 00 05 05 0C 0C 02 00 0F A0 19 60") ==
        spaced("01 00 30 05 0C 0C 02 00 0F A0 19 60 3E 85 0A 07 00 80 00 00 00 00 00 80 00 3F"));
  // Device_UUID = the hub's UUID; Device_Address_Binding an empty list.
  CHECK(rig.reply("01 04 00 05 06 0C 0C 02 00 0F A0 1A 01 FB") ==
        spaced("01 00 30 06 0C 0C 02 00 0F A0 1A 01 FB 3E 65 10 00 11 22 33 44 55 66 77 88 99 "
               "AA BB CC DD EE FF 3F"));
  CHECK(rig.reply("01 04 00 05 07 0C 0C 02 00 0F A0 19 1E") ==
        spaced("01 00 30 07 0C 0C 02 00 0F A0 19 1E 3E 3F"));
}

TEST_CASE("device: ReadProperty of the Network Port object") {
  Rig rig;
  // Network_Type secure-connect, MAC_Address = the hub's VMAC, Max_BVLC_Length_Accepted,
  // SC_Hub_Function_Enable, SC_Hub_Function_Binding (the doc's network-port RP-ACKs).
  CHECK(rig.reply("01 04 00 05 05 0C 0C 0E 00 00 01 1A 01 AB") ==
        spaced("01 00 30 05 0C 0C 0E 00 00 01 1A 01 AB 3E 91 0B 3F"));
  CHECK(rig.reply("01 04 00 05 05 0C 0C 0E 00 00 01 1A 01 A7") ==
        spaced("01 00 30 05 0C 0C 0E 00 00 01 1A 01 A7 3E 65 06 42 A1 B2 C3 D4 E5 3F"));
  CHECK(rig.reply("01 04 00 05 05 0C 0C 0E 00 00 01 1B 40 00 00") ==
        spaced("01 00 30 05 0C 0C 0E 00 00 01 1B 40 00 00 3E 22 17 70 3F"));
  CHECK(rig.reply("01 04 00 05 05 0C 0C 0E 00 00 01 1B 40 00 12") ==
        spaced("01 00 30 05 0C 0C 0E 00 00 01 1B 40 00 12 3E 11 3F"));
  CHECK(rig.reply("01 04 00 05 05 0C 0C 0E 00 00 01 1B 40 00 10") ==
        spaced("01 00 30 05 0C 0C 0E 00 00 01 1B 40 00 10 3E 75 0F 00 31 32 37 2E 30 2E 30 "
               "2E 31 3A 34 34 34 33 3F"));
  // The wildcard instance is the port the request came through: there is one.
  CHECK(rig.reply("01 04 00 05 05 0C 0C 0E 3F FF FF 19 4B") ==
        spaced("01 00 30 05 0C 0C 0E 00 00 01 19 4B 3E C4 0E 00 00 01 3F"));
}

TEST_CASE("device: ReadProperty errors") {
  Rig rig;
  // Unknown object (device 4001), unknown property (Present_Value 85), an index on a
  // property that is no array, an index past the array (V8b, V8, V8c, V8d).
  CHECK(rig.reply("01 04 00 05 01 0C 0C 02 00 0F A1 19 4D") ==
        spaced("01 00 50 01 0C 91 01 91 1F"));
  CHECK(rig.reply("01 04 00 05 01 0C 0C 02 00 0F A0 19 55") ==
        spaced("01 00 50 01 0C 91 02 91 20"));
  CHECK(rig.reply("01 04 00 05 01 0C 0C 02 00 0F A0 19 4D 29 01") ==
        spaced("01 00 50 01 0C 91 02 91 32"));
  CHECK(rig.reply("01 04 00 05 01 0C 0C 02 00 0F A0 19 4C 29 03") ==
        spaced("01 00 50 01 0C 91 02 91 2A"));
  // The list Device_Address_Binding takes no index either.
  CHECK(rig.reply("01 04 00 05 01 0C 0C 02 00 0F A0 19 1E 29 00") ==
        spaced("01 00 50 01 0C 91 02 91 32"));
}

TEST_CASE("device: ReadPropertyMultiple (V6 plus one unknown property -> V7)") {
  Rig rig;
  CHECK(rig.reply("01 04 00 05 04 0E 0C 02 00 0F A0 1E 09 4D 09 70 09 8B 1F 0C 0E 00 00 01 1E "
                  "0A 01 AB 0A 01 A5 1F") ==
        spaced("01 00 30 04 0E 0C 02 00 0F A0 1E 29 4D 4E 75 08 00 48 75 62 73 74 65 72 4F 29 "
               "70 4E 91 00 4F 29 8B 4E 21 18 4F 1F 0C 0E 00 00 01 1E 2A 01 AB 4E 91 0B 4F 2A "
               "01 A5 5E 91 02 91 20 5F 1F"));
  // An unknown object answers each of its references with object / unknown-object.
  CHECK(rig.reply("01 04 00 05 04 0E 0C 02 00 0F A1 1E 09 4D 1F") ==
        spaced("01 00 30 04 0E 0C 02 00 0F A1 1E 29 4D 5E 91 01 91 1F 5F 1F"));
}

TEST_CASE("device: ReadPropertyMultiple ALL, REQUIRED and OPTIONAL expand with no errors") {
  Rig rig;
  struct Case {
    const char* object;
    const char* which;
    size_t count;
  };
  // Device: 23 required + 3 optional; Network Port: 10 required + 17 optional.
  for (Case c : {Case{"0C 02 00 0F A0", "08", 26}, Case{"0C 02 00 0F A0", "69", 23},
                 Case{"0C 02 00 0F A0", "50", 3}, Case{"0C 0E 00 00 01", "08", 27},
                 Case{"0C 0E 00 00 01", "69", 10}, Case{"0C 0E 00 00 01", "50", 17}}) {
    CAPTURE(c.object);
    CAPTURE(c.which);
    Bytes in = hex(std::string("01 04 02 05 05 0E ") + c.object + " 1E 09 " + c.which + " 1F");
    DeviceReply r = rig.device.handle(in, false, kRequester);
    REQUIRE(r.to == DeviceReply::To::kRequester);
    REQUIRE(r.npdu.size() > 5);
    CHECK(to_hex(r.npdu.first(5), " ") == "01 00 30 05 0E");
    bsc::bacnet::RpmParser acks(r.npdu.subspan(5));
    bsc::bacnet::ObjectId object;
    size_t results = 0;
    REQUIRE(acks.next_object(object));
    bsc::bacnet::RpmResult result;
    while (acks.next_result(result)) {
      CHECK_FALSE(result.is_error);
      ++results;
    }
    CHECK(acks.status() == bsc::bacnet::Status::kOk);
    CHECK(results == c.count);
  }
}

TEST_CASE("device: the connection lists, from the workers' published histories") {
  // Timestamps are the hub's local time: pin the zone so the doc's vectors apply.
  std::string old_tz = getenv("TZ") ? getenv("TZ") : "";
  bool had_tz = getenv("TZ") != nullptr;
  setenv("TZ", "UTC", 1);
  tzset();
  constexpr int64_t kMay17 = 1715941800000;  // 2024-05-17 (Fri) 10:30:00.00 UTC
  bsc::ConnectionHistory history(bsc::HistoryBounds{10, int64_t(20) * 365 * 86400000});
  Rig rig;
  rig.device.set_history({&history});
  // Empty lists before anything is published (docs/bacnet-device.md §4.3).
  CHECK(rig.reply("01 04 00 05 03 0C 0C 0E 00 00 01 1B 40 00 11") ==
        spaced("01 00 30 03 0C 0C 0E 00 00 01 1B 40 00 11 3E 3F"));

  bsc::NodeRecord e1;  // §4.3 E1: connected, disconnect unspecified
  e1.connect_unix_ms = kMay17;
  e1.peer.ip_len = 4;
  e1.peer.ip = {192, 168, 1, 109};
  e1.peer.port = 50222;
  e1.vmac = *bsc::Vmac::parse("F2:6C:E3:7A:66:2A");
  e1.uuid = *bsc::Uuid::parse("00112233-4455-6677-8899-aabbccddeeff");
  bsc::FailedRecord fcr1;  // §4.3 FCR1: duplicate VMAC, no details
  fcr1.unix_ms = kMay17;
  fcr1.peer.ip_len = 4;
  fcr1.peer.ip = {10, 0, 0, 9};
  fcr1.peer.port = 40000;
  fcr1.has_vmac = fcr1.has_uuid = true;
  fcr1.vmac = *bsc::Vmac::parse("42:A1:B2:C3:D4:E5");
  fcr1.uuid = e1.uuid;
  fcr1.error = bsc::HistoryError{7, 151, ""};
  history.failed(fcr1);
  history.publish({e1}, bsc::unix_now_ms());

  const std::string kE1 =
      "09 01 1E A4 7C 05 11 05 B4 0A 1E 00 00 1F 2E A4 FF FF FF FF B4 FF FF FF FF 2F 3E 0E 1C "
      "C0 A8 01 6D 0F 1A C4 2E 3F 4D 06 F2 6C E3 7A 66 2A 5D 10 00 11 22 33 44 55 66 77 88 99 "
      "AA BB CC DD EE FF";
  CHECK(rig.reply("01 04 00 05 03 0C 0C 0E 00 00 01 1B 40 00 11") ==
        spaced("01 00 30 03 0C 0C 0E 00 00 01 1B 40 00 11 3E " + kE1 + " 3F"));
  CHECK(rig.reply("01 04 00 05 03 0C 0C 0E 00 00 01 1B 40 00 0B") ==
        spaced("01 00 30 03 0C 0C 0E 00 00 01 1B 40 00 0B 3E 0E A4 7C 05 11 05 B4 0A 1E 00 00 "
               "0F 1E 0E 1C 0A 00 00 09 0F 1A 9C 40 1F 2D 06 42 A1 B2 C3 D4 E5 3D 10 00 11 22 "
               "33 44 55 66 77 88 99 AA BB CC DD EE FF 4E 91 07 91 97 4F 3F"));
  // A list takes no index (property / property-is-not-an-array).
  CHECK(rig.reply("01 04 00 05 03 0C 0C 0E 00 00 01 1B 40 00 11 29 00") ==
        spaced("01 00 50 03 0C 91 02 91 32"));
  // One element at a time, as ReadRange will write them.
  const bsc::DeviceObjects& objects = rig.device.objects();
  bsc::bacnet::ObjectId port{56, 1};
  CHECK(objects.list_size(port, 4194321) == 1u);
  CHECK(objects.list_size(port, 4194315) == 1u);
  CHECK_FALSE(objects.list_size(port, 77).has_value());

  if (had_tz) setenv("TZ", old_tz.c_str(), 1);
  else unsetenv("TZ");
  tzset();
}

TEST_CASE("device: Reject, Abort, and what it leaves unanswered") {
  Rig rig;
  // WriteProperty: not executed -> Reject unrecognized-service (V9).
  CHECK(rig.reply("01 04 00 05 07 0F 0C 02 00 0F A0 19 4D 3E 75 03 00 61 62 3F") ==
        spaced("01 00 60 07 09"));
  // A segmented request -> Abort segmentation-not-supported, from the server (V10).
  CHECK(rig.reply("01 04 08 05 03 00 01 0C 0C 02 00 0F A0 19 4D") == spaced("01 00 71 03 04"));
  // An ACK that does not fit the requester's 50 octets: the device does not segment.
  CHECK(rig.reply("01 04 00 00 0A 0C 0C 02 00 0F A0 1A 01 73") == spaced("01 00 71 0A 04"));
  // A confirmed request sent as a broadcast, an I-Am, a network-layer message: nothing.
  CHECK(rig.reply("01 04 00 05 01 0C 0C 02 00 0F A0 19 4D", DeviceReply::To::kNobody, true)
            .empty());
  CHECK(rig.reply("01 20 FF FF 00 FF 10 00 C4 02 00 0F A1 22 05 C4 91 03 22 01 04").empty());
  CHECK(rig.reply("01 80 00 00 01").empty());
}

TEST_CASE("device: replies echo the priority and go back through the source's router") {
  Rig rig;
  // Urgent priority, SNET 5 / SADR AB CD -> DNET 5 / DADR AB CD, hop count 255.
  CHECK(rig.reply("01 0D 00 05 02 AB CD 00 05 01 0C 0C 02 00 0F A0 19 4D") ==
        spaced("01 21 00 05 02 AB CD FF 30 01 0C 0C 02 00 0F A0 19 4D 3E 75 08 00 48 75 62 73 "
               "74 65 72 3F"));
}

TEST_CASE("routing map: the hub's entry routes its VMAC to the device and stays the hub's") {
  bsc::Vmac hub = *bsc::Vmac::parse("42:A1:B2:C3:D4:E5");
  bsc::RoutingMap map(hub, 16);
  CHECK_FALSE(map.lookup(hub).has_value());
  map.add_hub_entry(bsc::kDeviceRef);
  REQUIRE(map.lookup(hub).has_value());
  CHECK(*map.lookup(hub) == bsc::kDeviceRef);
  CHECK(map.size() == 0);
  bsc::ConnRef replaced;
  bsc::Uuid uuid{};
  uuid.bytes[0] = 1;
  CHECK(map.claim(hub, uuid, bsc::ConnRef{0, 1, 1}, &replaced) ==
        bsc::RoutingMap::Claim::kDuplicate);
  map.release(hub, uuid, bsc::ConnRef{0, 1, 1});  // a node's leaving never removes it
  CHECK(map.lookup(hub).has_value());
}

namespace {

// RPM ALL of the Device object and the Network Port: more than one small APDU holds.
constexpr std::string_view kRpmAll = "0C 02 00 0F A0 1E 09 08 1F 0C 0E 00 00 01 1E 09 08 1F";

struct SegmentRig : Rig {
  std::vector<Bytes> sent;
  uint64_t now = 0;
  std::optional<uint64_t> armed;
  SegmentRig() {
    device.set_send([this](const bsc::Vmac& to, std::span<const uint8_t> npdu) {
      CHECK(to == kRequester);
      sent.emplace_back(npdu.begin(), npdu.end());
    });
    device.set_timer([this] { return now; },
                     [this](std::optional<uint64_t> delay) { armed = delay; });
  }
  DeviceReply handle(const std::string& request) {
    Bytes in = hex(request);
    return device.handle(in, false, kRequester);
  }
  // The ComplexACK service data of RPM ALL asked with max-APDU 1476, unsegmented.
  Bytes whole_ack() {
    Bytes in = hex("01 04 02 05 01 0E " + std::string(kRpmAll));
    DeviceReply r = device.handle(in, false, kRequester);
    REQUIRE(r.to == DeviceReply::To::kRequester);
    REQUIRE(r.npdu.size() > 5);
    CHECK(r.npdu[2] == 0x30);
    return Bytes(r.npdu.begin() + 5, r.npdu.end());
  }
};

}  // namespace

TEST_CASE("device: an ACK above the requester's max-APDU goes in segments it acknowledges") {
  for (uint8_t window : {uint8_t(1), uint8_t(4)}) {
    SegmentRig rig;
    const Bytes whole = rig.whole_ack();
    // Segmented response accepted, more than 64 segments, max-APDU 128; invoke ID 9.
    DeviceReply first = rig.handle("01 04 02 71 09 0E " + std::string(kRpmAll));
    CHECK(first.to == DeviceReply::To::kNobody);
    REQUIRE(rig.sent.size() == 1);
    CHECK(rig.armed == rig.config.device_segment_timeout_ms);
    Bytes joined;
    size_t next = 0;
    bool last = false;
    while (!last) {
      REQUIRE(!rig.sent.empty());
      for (const Bytes& npdu : rig.sent) {
        REQUIRE(npdu.size() <= 2 + 128);
        // 01 00 | 3C/38 invoke seq window service | data
        CHECK((npdu[2] & 0xF8) == 0x38);
        CHECK(npdu[3] == 0x09);
        CHECK(npdu[4] == uint8_t(next));
        CHECK(npdu[5] == bsc::DeviceTransactions::kProposedWindow);
        CHECK(npdu[6] == 0x0E);
        joined.insert(joined.end(), npdu.begin() + 7, npdu.end());
        last = (npdu[2] & 0x04) == 0;
        ++next;
      }
      rig.sent.clear();
      char ack[32];
      std::snprintf(ack, sizeof ack, "01 00 40 09 %02X %02X", unsigned(next - 1),
                    unsigned(window));
      CHECK(rig.handle(ack).to == DeviceReply::To::kNobody);
    }
    CHECK(next > 3);
    CHECK(joined == whole);
    CHECK(rig.sent.empty());
    CHECK(rig.device.transactions().size() == 0);
    CHECK(rig.device.transactions().counters().completed == 1);
    CHECK_FALSE(rig.armed.has_value());  // the timer stops with the last transaction
  }
}

TEST_CASE("device: segments again on the timer, then the device gives up silently") {
  SegmentRig rig;
  rig.handle("01 04 02 71 09 0E " + std::string(kRpmAll));
  REQUIRE(rig.sent.size() == 1);
  const Bytes first = rig.sent[0];
  // The same request again meanwhile: a duplicate, dropped.
  CHECK(rig.handle("01 04 02 71 09 0E " + std::string(kRpmAll)).to == DeviceReply::To::kNobody);
  CHECK(rig.sent.size() == 1);
  for (uint32_t retry = 1; retry <= rig.config.device_apdu_retries; ++retry) {
    rig.now += *rig.armed;
    rig.device.on_timer();
    REQUIRE(rig.sent.size() == retry + 1);
    CHECK(rig.sent.back() == first);
  }
  rig.now += *rig.armed;
  rig.device.on_timer();
  CHECK(rig.sent.size() == rig.config.device_apdu_retries + 1);
  CHECK_FALSE(rig.armed.has_value());
  CHECK(rig.device.transactions().counters().timed_out == 1);
}

TEST_CASE("device: the Abort when segments cannot carry the ACK, and when the table is full") {
  SegmentRig rig;
  // No segmented response accepted: segmentation-not-supported (as before).
  CHECK(to_hex(rig.handle("01 04 00 01 09 0E " + std::string(kRpmAll)).npdu, " ") ==
        spaced("01 00 71 09 04"));
  // Accepted, but at most 2 segments of 128: apdu-too-long.
  CHECK(to_hex(rig.handle("01 04 02 11 09 0E " + std::string(kRpmAll)).npdu, " ") ==
        spaced("01 00 71 09 0B"));
  CHECK(rig.sent.empty());
  // The requester's Abort ends its transaction.
  rig.handle("01 04 02 71 01 0E " + std::string(kRpmAll));
  CHECK(rig.device.transactions().size() == 1);
  rig.handle("01 00 70 01 00");
  CHECK(rig.device.transactions().size() == 0);
  // kMaxTransactions in flight: one more gets out-of-resources.
  for (size_t i = 0; i < bsc::DeviceTransactions::kMaxTransactions; ++i) {
    char req[16];
    std::snprintf(req, sizeof req, "01 04 02 71 %02X ", unsigned(0x20 + i));
    CHECK(rig.handle(req + std::string("0E ") + std::string(kRpmAll)).to ==
          DeviceReply::To::kNobody);
  }
  CHECK(to_hex(rig.handle("01 04 02 71 7F 0E " + std::string(kRpmAll)).npdu, " ") ==
        spaced("01 00 71 7F 09"));
  CHECK(rig.device.transactions().counters().refused == 1);
}
