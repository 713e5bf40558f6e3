// The hub device's ReadRange (clause 15.8) and DeviceCommunicationControl (clause 16.1):
// whole request NPDUs in, whole reply NPDUs out (docs/bacnet-device.md §14.2). The DCC
// duration runs on a fake clock.
#include <doctest/doctest.h>

#include "bsc/bacnet/services_range.hpp"
#include "core/device.hpp"
#include "core/device_test_config.hpp"
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

uint64_t g_now = 0;  // the device's clock, in milliseconds

struct Rig {
  Config config = device_config();
  Device device{config, "wss://127.0.0.1:4443"};

  explicit Rig(std::string password = "") {
    config.dcc_password = std::move(password);
    device.set_timer([] { return g_now; }, nullptr);
  }

  // The reply to `request` (hex NPDU) as hex; "" if there is none.
  std::string reply(std::string_view request, bool broadcast = false) {
    Bytes in = hex(request);
    DeviceReply r = device.handle(in, broadcast, kRequester);
    if (r.to == DeviceReply::To::kNobody) return "";
    return to_hex(r.npdu, " ");
  }

  // The decoded ACK of a ReadRange (hex APDU service data after `01 04 00 MM II 1A`).
  bsc::bacnet::ReadRangeAck range(std::string_view service_data, char max_apdu = '5',
                                  size_t* apdu_size = nullptr) {
    Bytes in = hex(std::string("01 04 00 0") + max_apdu + " 09 1A " + std::string(service_data));
    DeviceReply r = device.handle(in, false, kRequester);
    REQUIRE(r.to == DeviceReply::To::kRequester);
    REQUIRE(r.npdu.size() > 5);
    REQUIRE(to_hex(r.npdu.first(5), " ") == "01 00 30 09 1A");
    if (apdu_size) *apdu_size = r.npdu.size() - 2;
    last_ = Bytes(r.npdu.begin(), r.npdu.end());
    bsc::bacnet::ReadRangeAck ack;
    REQUIRE(bsc::bacnet::decode_read_range_ack(std::span(last_).subspan(5), ack) ==
            bsc::bacnet::Status::kOk);
    return ack;
  }
  Bytes last_;
};

std::string spaced(std::string_view h) { return to_hex(hex(h), " "); }

// ReadRange requests (invoke 9) of the Device's Object_List and their ACK prefix.
constexpr const char* kObjectList = "0C 02 00 0F A0 19 4C";
constexpr const char* kAckHead = "01 00 30 09 1A 0C 02 00 0F A0 19 4C";
constexpr const char* kDevice = "C4 02 00 0F A0";
constexpr const char* kPort = "C4 0E 00 00 01";

std::string rr(std::string_view range) {
  return std::string("01 04 00 05 09 1A ") + kObjectList + " " + std::string(range);
}
std::string ack(std::string_view flags, std::string_view count, std::string_view items) {
  return spaced(std::string(kAckHead) + " 3A 05 " + std::string(flags) + " 49 " +
                std::string(count) + " 5E " + std::string(items) + " 5F");
}

}  // namespace

TEST_CASE("ReadRange by position: forwards, backwards, flags, out of range") {
  Rig rig;
  const std::string both = std::string(kDevice) + " " + kPort;
  // Item 1, one item: first-item only; the whole list forwards or backwards: first and last.
  CHECK(rig.reply(rr("3E 21 01 31 01 3F")) == ack("80", "01", kDevice));
  CHECK(rig.reply(rr("3E 21 01 31 02 3F")) == ack("C0", "02", both));
  CHECK(rig.reply(rr("3E 21 02 31 FE 3F")) == ack("C0", "02", both));
  // Backwards from item 2 by one: last-item only. A count beyond the end stops there.
  CHECK(rig.reply(rr("3E 21 02 31 FF 3F")) == ack("40", "01", kPort));
  CHECK(rig.reply(rr("3E 21 02 31 7F 3F")) == ack("40", "01", kPort));
  CHECK(rig.reply(rr("3E 21 01 31 80 3F")) == ack("80", "01", kDevice));
  // A reference index that names no item (0, past the end), or a count of 0: no items.
  CHECK(rig.reply(rr("3E 21 03 31 01 3F")) == ack("00", "00", ""));
  CHECK(rig.reply(rr("3E 21 00 31 01 3F")) == ack("00", "00", ""));
  CHECK(rig.reply(rr("3E 21 01 31 00 3F")) == ack("00", "00", ""));
  // No range: the whole list.
  CHECK(rig.reply(rr("")) == ack("C0", "02", both));
  // The empty list Device_Address_Binding, whole or by position.
  CHECK(rig.reply("01 04 00 05 09 1A 0C 02 00 0F A0 19 1E") ==
        spaced("01 00 30 09 1A 0C 02 00 0F A0 19 1E 3A 05 00 49 00 5E 5F"));
  CHECK(rig.reply("01 04 00 05 09 1A 0C 02 00 0F A0 19 1E 3E 21 01 31 05 3F") ==
        spaced("01 00 30 09 1A 0C 02 00 0F A0 19 1E 3A 05 00 49 00 5E 5F"));
  // The wildcard instance: the ACK names the real object.
  CHECK(rig.reply("01 04 00 05 09 1A 0C 02 3F FF FF 19 4C 3E 21 01 31 01 3F") ==
        ack("80", "01", kDevice));
}

TEST_CASE("ReadRange of the Network Port's Property_List and Accept URIs") {
  Rig rig;
  // Property_List: 23 items (27 properties but the four every object has).
  bsc::bacnet::ReadRangeAck a = rig.range("0C 0E 00 00 01 1A 01 73 3E 21 17 31 FF 3F");
  CHECK(a.item_count == 1);
  CHECK(a.flags == bsc::bacnet::ResultFlags{false, true, false});
  CHECK(to_hex(a.items, " ") == "93 40 00 05");  // SC_Direct_Connect_Accept_Enable
  a = rig.range("0C 0E 00 00 01 1B 40 00 0F");
  CHECK(a.item_count == 1);
  CHECK(a.flags == bsc::bacnet::ResultFlags{true, true, false});
}

TEST_CASE("ReadRange that does not fit returns fewer items with more-items") {
  Rig rig;
  size_t size = 0;
  // Forwards from 1 at max-APDU 50: the first items, first-item and more-items.
  bsc::bacnet::ReadRangeAck a = rig.range("0C 0E 00 00 01 1A 01 73 3E 21 01 31 17 3F", '0', &size);
  CHECK(size <= 50);
  CHECK(a.item_count > 3);
  CHECK(a.item_count < 23);
  CHECK(a.flags == bsc::bacnet::ResultFlags{true, false, true});
  CHECK(to_hex(a.items.first(2), " ") == "91 6F");  // Status_Flags (111), the first
  // Backwards from 23: the items nearest the reference, last-item and more-items.
  a = rig.range("0C 0E 00 00 01 1A 01 73 3E 21 17 31 E9 3F", '0', &size);
  CHECK(size <= 50);
  CHECK(a.item_count > 3);
  CHECK(a.item_count < 23);
  CHECK(a.flags == bsc::bacnet::ResultFlags{false, true, true});
  CHECK(to_hex(a.items.last(4), " ") == "93 40 00 05");
  // No range at max-APDU 50: as forwards.
  a = rig.range("0C 0E 00 00 01 1A 01 73", '0', &size);
  CHECK(a.flags == bsc::bacnet::ResultFlags{true, false, true});
}

TEST_CASE("ReadRange errors") {
  Rig rig;
  auto error = [](std::string_view class_code) {
    return spaced("01 00 50 09 1A " + std::string(class_code));
  };
  // Unknown object, unknown property, a property that is no list (Object_Name).
  CHECK(rig.reply("01 04 00 05 09 1A 0C 02 00 0F A1 19 4C") == error("91 01 91 1F"));
  CHECK(rig.reply("01 04 00 05 09 1A 0C 02 00 0F A0 19 55") == error("91 02 91 20"));
  CHECK(rig.reply("01 04 00 05 09 1A 0C 02 00 0F A0 19 4D 3E 21 01 31 01 3F") ==
        error("91 02 91 16"));
  // An index: an array's element is no list; a list is no array.
  CHECK(rig.reply("01 04 00 05 09 1A 0C 02 00 0F A0 19 4C 29 01") == error("91 02 91 16"));
  CHECK(rig.reply("01 04 00 05 09 1A 0C 02 00 0F A0 19 1E 29 01") == error("91 02 91 32"));
  // By sequence number and by time: the device's lists carry neither.
  CHECK(rig.reply(rr("6E 21 01 31 01 6F")) == error("91 05 91 2D"));
  CHECK(rig.reply(rr("7E A4 7C 05 11 05 B4 0A 1E 00 00 31 01 7F")) == error("91 05 91 2D"));
}

namespace {

constexpr const char* kReadName = "01 04 00 05 01 0C 0C 02 00 0F A0 19 4D";
constexpr const char* kNameAck =
    "01 00 30 01 0C 0C 02 00 0F A0 19 4D 3E 75 08 00 48 75 62 73 74 65 72 3F";
constexpr const char* kWhoIs = "01 20 FF FF 00 FF 10 08";
constexpr const char* kIAm = "01 20 FF FF 00 FF 10 00 C4 02 00 0F A0 22 05 C4 91 01 22 01 04";
constexpr const char* kWhoHasPort = "01 20 FF FF 00 FF 10 07 2C 0E 00 00 01";
// DCC, invoke 7: [0] minutes (optional), [1] state, [2] password "secret" (optional).
constexpr const char* kDccAck = "01 00 20 07 11";
std::string dcc(std::string_view fields) { return "01 04 00 05 07 11 " + std::string(fields); }
constexpr const char* kSecret = "2D 07 00 73 65 63 72 65 74";

}  // namespace

TEST_CASE("DCC: the password is checked when one is configured") {
  Rig rig("secret");
  const std::string failure = spaced("01 00 50 07 11 91 04 91 1A");
  CHECK(rig.reply(dcc("19 01")) == failure);                             // none
  CHECK(rig.reply(dcc("19 01 2D 06 00 73 65 63 72 65")) == failure);     // "secre"
  CHECK(rig.device.communication() == bsc::bacnet::EnableDisable::kEnable);
  CHECK(rig.reply(dcc(std::string("19 01 ") + kSecret)) == spaced(kDccAck));
  CHECK(rig.device.communication() == bsc::bacnet::EnableDisable::kDisable);
  // Wrong password while disabled: still answered, and still disabled.
  CHECK(rig.reply(dcc("19 00")) == failure);
  CHECK(rig.reply(kReadName).empty());
  CHECK(rig.reply(dcc(std::string("19 00 ") + kSecret)) == spaced(kDccAck));
  CHECK(rig.reply(kReadName) == spaced(kNameAck));
}

TEST_CASE("DCC without a configured password accepts any or none") {
  Rig rig;
  CHECK(rig.reply(dcc("19 01")) == spaced(kDccAck));
  CHECK(rig.reply(dcc(std::string("19 00 ") + kSecret)) == spaced(kDccAck));
  CHECK(rig.reply(kReadName) == spaced(kNameAck));
}

TEST_CASE("DCC disable: only DCC is answered; no I-Am, no I-Have, no Reject") {
  Rig rig;
  REQUIRE(rig.reply(dcc("19 01")) == spaced(kDccAck));
  CHECK(rig.reply(kReadName).empty());
  CHECK(rig.reply(kWhoIs, true).empty());
  CHECK(rig.reply(kWhoHasPort, true).empty());
  CHECK(rig.reply(rr("3E 21 01 31 01 3F")).empty());
  CHECK(rig.reply("01 04 00 05 07 0F 0C 02 00 0F A0 19 4D 3E 75 03 00 61 62 3F").empty());
  // A malformed DCC is still a DCC: its Reject is sent.
  CHECK(rig.reply(dcc("19 03")) == spaced("01 00 60 07 08"));
  CHECK(rig.reply(dcc("19 00")) == spaced(kDccAck));
  CHECK(rig.reply(kWhoIs, true) == spaced(kIAm));
}

TEST_CASE("DCC disable-initiation: requests answered, I-Am to a Who-Is, no I-Have") {
  Rig rig;
  REQUIRE(rig.reply(dcc("19 02")) == spaced(kDccAck));
  CHECK(rig.reply(kReadName) == spaced(kNameAck));
  CHECK(rig.reply(kWhoIs, true) == spaced(kIAm));
  CHECK(rig.reply(kWhoHasPort, true).empty());
  CHECK(rig.reply(dcc("19 00")) == spaced(kDccAck));
  CHECK_FALSE(rig.reply(kWhoHasPort, true).empty());
}

TEST_CASE("DCC duration: communication comes back when the minutes are over") {
  constexpr uint64_t seconds = 1000, minutes = 60 * seconds;
  Rig rig;
  g_now = 1000 * seconds;
  // Disable for 2 minutes.
  REQUIRE(rig.reply(dcc("09 02 19 01")) == spaced(kDccAck));
  g_now += 119 * seconds;
  CHECK(rig.reply(kReadName).empty());
  g_now += 1 * seconds;
  CHECK(rig.reply(kReadName) == spaced(kNameAck));
  CHECK(rig.device.communication() == bsc::bacnet::EnableDisable::kEnable);
  // Disable-initiation for 1 minute, then a new DCC without duration: indefinite.
  REQUIRE(rig.reply(dcc("09 01 19 02")) == spaced(kDccAck));
  CHECK(rig.reply(kWhoHasPort, true).empty());
  REQUIRE(rig.reply(dcc("19 01")) == spaced(kDccAck));
  g_now += 600 * minutes;
  CHECK(rig.reply(kReadName).empty());
  // A duration of 0 is indefinite too; enable with a duration simply enables.
  REQUIRE(rig.reply(dcc("09 00 19 01")) == spaced(kDccAck));
  g_now += 600 * minutes;
  CHECK(rig.reply(kReadName).empty());
  REQUIRE(rig.reply(dcc("09 05 19 00")) == spaced(kDccAck));
  CHECK(rig.reply(kReadName) == spaced(kNameAck));
}
