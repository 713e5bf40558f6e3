// BACnet/SC constructed types (src/codec/sc_types.cpp) against docs/bacnet-device.md's
// encoded examples (E1, E2, the two-entry RP-ACK, H1, FCR1), decoded back; and the
// non-standard forms other stacks send, which must not decode as valid.
#include <doctest/doctest.h>

#include <array>

#include "bacnet_test_util.hpp"
#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/sc_types.hpp"
#include "bsc/bacnet/services_read.hpp"

using namespace bsc::bacnet;
using bacnet_test::encode;
using bacnet_test::hex;

namespace {

const char* kE1 =
    "09 01 1E A4 7C 05 11 05 B4 0A 1E 00 00 1F 2E A4 FF FF FF FF B4 FF FF FF FF 2F 3E 0E 1C "
    "C0 A8 01 6D 0F 1A C4 2E 3F 4D 06 F2 6C E3 7A 66 2A 5D 10 00 11 22 33 44 55 66 77 88 99 "
    "AA BB CC DD EE FF";
const char* kE2 =
    "09 02 1E A4 7C 05 11 05 B4 0A 1E 00 00 1F 2E A4 FF FF FF FF B4 FF FF FF FF 2F 3E 0E 1C "
    "C0 A8 01 6D 0F 1A C4 2E 3F 4D 06 F2 6C E3 7A 66 2A 5D 10 00 11 22 33 44 55 66 77 88 99 "
    "AA BB CC DD EE FF 6E 91 07 91 AD 6F 7D 08 00 74 69 6D 65 6F 75 74";
const char* kUuidHex = "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF";

const DateTime kConnected{{124, 5, 17, 5}, {10, 30, 0, 0}};  // 2024-05-17 (Fri) 10:30:00.00
const std::array<uint8_t, 4> kPeerIp{192, 168, 1, 109};
const bsc::Vmac kWorkstation{{0xF2, 0x6C, 0xE3, 0x7A, 0x66, 0x2A}};
const bsc::Vmac kHub{{0x42, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5}};

bsc::Uuid uuid() {
  bsc::Uuid u;
  const auto b = hex(kUuidHex);
  std::copy(b.begin(), b.end(), u.bytes.begin());
  return u;
}

ScHubFunctionConnection e1() {
  ScHubFunctionConnection c;
  c.state = ScConnectionState::kConnected;
  c.connect = kConnected;
  c.peer = {HostNPort::Host::kIp, kPeerIp, {}, 50222};
  c.vmac = kWorkstation;
  c.uuid = uuid();
  return c;
}

ScHubFunctionConnection e2() {
  ScHubFunctionConnection c = e1();
  c.state = ScConnectionState::kDisconnectedWithErrors;
  c.error = {true,
             {uint32_t(ErrorClass::kCommunication), uint32_t(ErrorCode::kWebsocketClosedAbnormally)},
             true, "timeout"};
  return c;
}

void check_same(const ScHubFunctionConnection& a, const ScHubFunctionConnection& b) {
  CHECK(a.state == b.state);
  CHECK(a.connect == b.connect);
  CHECK(a.disconnect == b.disconnect);
  CHECK(a.peer.host == b.peer.host);
  CHECK(bacnet_test::to_hex(a.peer.ip) == bacnet_test::to_hex(b.peer.ip));
  CHECK(a.peer.port == b.peer.port);
  CHECK(a.vmac == b.vmac);
  CHECK(a.uuid == b.uuid);
  CHECK(a.error.present == b.error.present);
  CHECK(a.error.error == b.error.error);
  CHECK(a.error.has_details == b.error.has_details);
  CHECK(a.error.details == b.error.details);
}

// The decoded entry points into `bytes` (peer.ip is a span): they must outlive it.
ScHubFunctionConnection decode_entry(std::vector<uint8_t>&& bytes) = delete;
ScHubFunctionConnection decode_entry(const std::vector<uint8_t>& bytes) {
  Reader r(bytes);
  ScHubFunctionConnection c;
  REQUIRE(get_sc_hub_function_connection(r, c) == Status::kOk);
  CHECK(r.at_end());
  return c;
}

}  // namespace

TEST_CASE("BACnetSCHubFunctionConnection: a connected entry (E1, 64 octets)") {
  const auto bytes = encode([](Writer& w) { put_sc_hub_function_connection(w, e1()); });
  CHECK(bytes.size() == 64);
  CHECK_BYTES(bytes, kE1);
  const auto raw = hex(kE1);
  const auto back = decode_entry(raw);
  check_same(back, e1());
  CHECK(back.disconnect.unspecified());
}

TEST_CASE("BACnetSCHubFunctionConnection: disconnected with errors (E2, 80 octets)") {
  const auto bytes = encode([](Writer& w) { put_sc_hub_function_connection(w, e2()); });
  CHECK(bytes.size() == 80);
  CHECK_BYTES(bytes, kE2);
  const auto raw = hex(kE2);
  check_same(decode_entry(raw), e2());
}

TEST_CASE("SC_Hub_Function_Connection_Status RP-ACK with two entries, and empty") {
  const ObjectPropertyRef status{{56, 1}, {4194321}};
  auto ack = [&](bool with_entries) {
    return encode([&](Writer& w) {
      encode_apdu_header(w, {.type = PduType::kComplexAck, .invoke_id = 3, .service_choice = 12});
      encode_read_property_ack_begin(w, status);
      if (with_entries) {
        put_sc_hub_function_connection(w, e1());
        put_sc_hub_function_connection(w, e2());
      }
      encode_read_property_ack_end(w);
    });
  };
  const auto two = ack(true);
  CHECK(two.size() == 158);
  CHECK_BYTES(two, std::string("30 03 0C 0C 0E 00 00 01 1B 40 00 11 3E ") + kE1 + " " + kE2 + " 3F");
  CHECK_BYTES(ack(false), "30 03 0C 0C 0E 00 00 01 1B 40 00 11 3E 3F");

  // Decoded back as a list: RP-ACK value, then entries until the value ends.
  ObjectPropertyRef ref;
  std::span<const uint8_t> value;
  REQUIRE(decode_read_property_ack(std::span(two).subspan(3), ref, value) == Status::kOk);
  Reader r(value);
  std::vector<ScConnectionState> states;
  while (!r.at_end()) {
    ScHubFunctionConnection c;
    REQUIRE(get_sc_hub_function_connection(r, c) == Status::kOk);
    states.push_back(c.state);
  }
  CHECK(states == std::vector{ScConnectionState::kConnected,
                              ScConnectionState::kDisconnectedWithErrors});
}

TEST_CASE("BACnetSCHubConnection (H1)") {
  const ScHubConnection h1{ScConnectionState::kConnected, kConnected, {}, {}};
  const char* text = "09 01 1E A4 7C 05 11 05 B4 0A 1E 00 00 1F 2E A4 FF FF FF FF B4 FF FF FF FF 2F";
  CHECK_BYTES(encode([&](Writer& w) { put_sc_hub_connection(w, h1); }), text);
  const auto bytes = hex(text);
  Reader r(bytes);
  ScHubConnection back;
  REQUIRE(get_sc_hub_connection(r, back) == Status::kOk);
  CHECK(r.at_end());
  CHECK(back.state == ScConnectionState::kConnected);
  CHECK(back.connect == kConnected);
  CHECK_FALSE(back.error.present);
}

TEST_CASE("BACnetSCFailedConnectionRequest for a duplicate VMAC (FCR1)") {
  const std::array<uint8_t, 4> peer{10, 0, 0, 9};
  ScFailedConnectionRequest f;
  f.timestamp = kConnected;
  f.peer = {HostNPort::Host::kIp, peer, {}, 40000};
  f.has_vmac = true;
  f.vmac = kHub;
  f.has_uuid = true;
  f.uuid = uuid();
  f.error = {uint32_t(ErrorClass::kCommunication), uint32_t(ErrorCode::kNodeDuplicateVmac)};
  const std::string text = std::string(
      "0E A4 7C 05 11 05 B4 0A 1E 00 00 0F 1E 0E 1C 0A 00 00 09 0F 1A 9C 40 1F 2D 06 42 A1 "
      "B2 C3 D4 E5 3D 10 ") + kUuidHex + " 4E 91 07 91 97 4F";
  CHECK_BYTES(encode([&](Writer& w) { put_sc_failed_connection_request(w, f); }), text);
  const auto bytes = hex(text);
  Reader r(bytes);
  ScFailedConnectionRequest back;
  REQUIRE(get_sc_failed_connection_request(r, back) == Status::kOk);
  CHECK(r.at_end());
  CHECK(back.peer.port == 40000);
  CHECK(back.vmac == kHub);
  CHECK(back.uuid == uuid());
  CHECK(back.error == f.error);
  CHECK_FALSE(back.has_details);

  // Before the Connect-Request is read, VMAC and UUID are unknown: both left out.
  f.has_vmac = f.has_uuid = false;
  const auto short_form = encode([&](Writer& w) { put_sc_failed_connection_request(w, f); });
  CHECK_BYTES(short_form,
              "0E A4 7C 05 11 05 B4 0A 1E 00 00 0F 1E 0E 1C 0A 00 00 09 0F 1A 9C 40 1F "
              "4E 91 07 91 97 4F");
  Reader rs(short_form);
  REQUIRE(get_sc_failed_connection_request(rs, back) == Status::kOk);
  CHECK_FALSE(back.has_vmac);
  CHECK_FALSE(back.has_uuid);
  // The error is mandatory here.
  const auto no_error = hex("0E A4 7C 05 11 05 B4 0A 1E 00 00 0F 1E 0E 1C 0A 00 00 09 0F 1A 9C 40 1F");
  Reader rn(no_error);
  CHECK(get_sc_failed_connection_request(rn, back) == Status::kTruncated);
}

TEST_CASE("BACnetHostNPort: IPv4, IPv6, name and none") {
  const std::array<uint8_t, 4> loopback{127, 0, 0, 1};
  CHECK_BYTES(encode([&](Writer& w) { put_host_n_port(w, {HostNPort::Host::kIp, loopback, {}, 4443}, 3); }),
              "3E 0E 1C 7F 00 00 01 0F 1A 11 5B 3F");
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  const auto v6_bytes =
      encode([&](Writer& w) { put_host_n_port(w, {HostNPort::Host::kIp, v6, {}, 443}, 1); });
  CHECK_BYTES(v6_bytes, "1E 0E 1D 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 0F 1A 01 BB 1F");
  const auto named = encode([](Writer& w) { put_host_n_port(w, {HostNPort::Host::kName, {}, "hub", 1}, 3); });
  CHECK_BYTES(named, "3E 0E 2C 00 68 75 62 0F 19 01 3F");
  const auto none = encode([](Writer& w) { put_host_n_port(w, {}, 3); });
  CHECK_BYTES(none, "3E 0E 08 0F 19 00 3F");
  for (const auto* bytes : {&v6_bytes, &named, &none}) {
    Reader r(*bytes);
    HostNPort back;
    CHECK(get_host_n_port(r, back, (*bytes)[0] >> 4) == Status::kOk);
    CHECK(r.at_end());
  }
  Reader r(named);
  HostNPort back;
  REQUIRE(get_host_n_port(r, back, 3) == Status::kOk);
  CHECK(back.host == HostNPort::Host::kName);
  CHECK(back.name == "hub");
}

TEST_CASE("other stacks' non-standard forms do not decode as the Std's") {
  // The peer IP as 6 characters of text ("127.0.") instead of 4 octets.
  const auto text_ip = hex("3E 0E 1D 06 31 32 37 2E 30 2E 0F 1A 11 5B 3F");
  Reader r(text_ip);
  HostNPort peer;
  CHECK(get_host_n_port(r, peer, 3) == Status::kBadLength);
  // `error` as a primitive context ENUMERATED holding only the code: not the constructed
  // Error, so it is left over, and a list decoder stops at it.
  auto primitive = hex(kE1);
  primitive[1] = 0x02;
  for (uint8_t b : hex("69 AD")) primitive.push_back(b);
  Reader list(primitive);
  ScHubFunctionConnection c;
  REQUIRE(get_sc_hub_function_connection(list, c) == Status::kOk);
  CHECK_FALSE(c.error.present);
  CHECK(get_sc_hub_function_connection(list, c) == Status::kUnexpectedTag);
  // A connection state beyond failed-to-connect.
  auto bad_state = hex(kE1);
  bad_state[1] = 0x04;
  Reader rs(bad_state);
  CHECK(get_sc_hub_function_connection(rs, c) == Status::kBadValue);
  // A VMAC of 5 octets.
  const auto short_vmac = hex(
      "09 01 1E A4 7C 05 11 05 B4 0A 1E 00 00 1F 2E A4 FF FF FF FF B4 FF FF FF FF 2F 3E 0E 1C "
      "C0 A8 01 6D 0F 1A C4 2E 3F 4D 05 F2 6C E3 7A 66");
  Reader rv(short_vmac);
  CHECK(get_sc_hub_function_connection(rv, c) == Status::kBadLength);
  // Every truncation of E2, decoded as a list, fails cleanly and never reads past the end;
  // only the cuts after the UUID (64) or after the error (70) leave shorter valid entries.
  const auto full = hex(kE2);
  for (size_t n = 1; n < full.size(); ++n) {
    CAPTURE(n);
    Reader rt{std::span<const uint8_t>(full).first(n)};
    ScHubFunctionConnection t;
    Status s = Status::kOk;
    while (s == Status::kOk && !rt.at_end()) s = get_sc_hub_function_connection(rt, t);
    CHECK((s == Status::kOk) == (n == 64 || n == 70));
  }
}
