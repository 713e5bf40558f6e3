// BVLC-SC codec: the test vectors of docs/protocol.md §7, the hub rewrite, and
// one or more cases per §4 error row.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "bsc/bvlc.hpp"
#include "test_bytes.hpp"

using namespace bsc;
using namespace bsc::test;

namespace {

std::span<const uint8_t> part(const Bytes& b, Span s) {
  return std::span<const uint8_t>(b).subspan(s.offset, s.length);
}

// Fixtures of §7.
const Vmac kA{{0x02, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5}};
const Vmac kB{{0x12, 0xF0, 0xE1, 0xD2, 0xC3, 0xB4}};
const Vmac kHub{{0x92, 0x7B, 0xF7, 0x1A, 0x96, 0xA2}};
const Uuid kUuidA = *Uuid::parse("00112233445566778899AABBCCDDEEFF");
const Uuid kUuidHub = *Uuid::parse("FFEEDDCCBBAA99887766554433221100");
constexpr const char* kNpdu = "01040000010C0C000000051955";
constexpr const char* kConnectBody = "02A1B2C3D4E500112233445566778899AABBCCDDEEFF064005D9";

constexpr const char* V1 = "0600000102A1B2C3D4E500112233445566778899AABBCCDDEEFF064005D9";
constexpr const char* V2 = "07000001927BF71A96A2FFEEDDCCBBAA99887766554433221100177005D9";
constexpr const char* V3 = "0A000102";
constexpr const char* V4 = "0B000102";
constexpr const char* V5 = "08000203";
constexpr const char* V6 = "09000203";
constexpr const char* V7 = "0000000106010000070097";
constexpr const char* V8 = "0000000106010000070071";
constexpr const char* V9 = "0104B5EC12F0E1D2C3B401040000010C0C000000051955";
constexpr const char* V10 = "0108B5EC02A1B2C3D4E501040000010C0C000000051955";
constexpr const char* V11 = "010C000002A1B2C3D4E512F0E1D2C3B401040000010C0C000000051955";
constexpr const char* V12 = "0108000002A1B2C3D4E501040000010C0C000000051955";
constexpr const char* V13 = "01040010FFFFFFFFFFFF01040000010C0C000000051955";
constexpr const char* V14 = "010C001002A1B2C3D4E5FFFFFFFFFFFF01040000010C0C000000051955";
constexpr const char* V15 = "0105002012F0E1D2C3B44101040000010C0C000000051955";
constexpr const char* V16 = "0109002002A1B2C3D4E54101040000010C0C000000051955";
constexpr const char* V17 =
    "0107003012F0E1D2C3B43F0006022B01C0FFEE4101040000010C0C000000051955";
constexpr const char* V18 =
    "010B003002A1B2C3D4E53F0006022B01C0FFEE4101040000010C0C000000051955";
constexpr const char* V19 = "0504004012F0E1D2C3B4";
constexpr const char* V20 = "0404004102A1B2C3D4E50100064005D9";
constexpr const char* V21 = "0204005012F0E1D2C3B4";
constexpr const char* V22 = "0304005002A1B2C3D4E57773733A2F2F31302E302E302E353A34343433";
constexpr const char* V23 = "0C04006012F0E1D2C3B4022B07AABB";
constexpr const char* V24 = "0106003112F0E1D2C3B47F0003022B0101040000010C0C000000051955";
constexpr const char* V25 = "0004003102A1B2C3D4E501017F00070092";
constexpr const char* V26 = "000000700D01000007008F62616420666E";
constexpr const char* V27 =
    "0107B5EC927BF71A96A2BF0007022BBAC5ECC0993F00030309390101040000010C0C000000051955";
constexpr const char* V28 =
    "010BB5EC02A1B2C3D4E5BF0007022BBAC5ECC0993F00030309390101040000010C0C000000051955";

constexpr const char* kAllVectors[] = {V1,  V2,  V3,  V4,  V5,  V6,  V7,  V8,  V9,  V10,
                                       V11, V12, V13, V14, V15, V16, V17, V18, V19, V20,
                                       V21, V22, V23, V24, V25, V26, V27, V28};

// Decodes `text` and checks it fails with `code`, the given NAK permission and marker.
DecodeError expect_error(std::string_view text, ErrorCode code, bool nak_allowed,
                         uint8_t error_marker = 0) {
  CAPTURE(text);
  const Bytes b = hex(text);
  const DecodeResult r = decode(b);
  REQUIRE_FALSE(r.ok);
  CHECK(error_code_name(r.err.code) == std::string_view(error_code_name(code)));
  CHECK(r.err.nak_allowed == nak_allowed);
  CHECK(int(r.err.error_marker) == int(error_marker));
  CHECK(std::string_view(r.err.why).size() > 0);
  return r.err;
}

DecodeResult expect_ok(const Bytes& b) {
  CAPTURE(to_hex(b));
  const DecodeResult r = decode(b);
  CAPTURE(r.err.why);
  REQUIRE(r.ok);
  return r;
}

Bytes reencode(const Message& m, const Bytes& b) {
  Bytes out;
  encode_message(out, Function(m.function), m.message_id, m.has_origin ? &m.origin : nullptr,
                 m.has_dest ? &m.dest : nullptr, part(b, m.dest_options),
                 part(b, m.data_options), part(b, m.payload));
  return out;
}

// The octets encode_message() writes for these fields, in hex (options and payload in hex).
std::string encoded(Function f, uint16_t id, const Vmac* origin, const Vmac* dest,
                    std::string_view dest_options, std::string_view data_options,
                    std::string_view payload) {
  Bytes out;
  encode_message(out, f, id, origin, dest, hex(dest_options), hex(data_options), hex(payload));
  return to_hex(out);
}

std::string rewrite(const char* in, const Vmac& sender, bool broadcast) {
  const Bytes b = hex(in);
  const DecodeResult r = expect_ok(b);
  Bytes out(rewritten_size(r.msg, b.size(), broadcast), 0xEE);
  const size_t n = rewrite_for_forward(r.msg, b, sender, broadcast, out.data());
  CHECK(n == out.size());
  return to_hex(out);
}

// Error rows that need nothing beyond the verdict: each message, whether a NAK may answer
// it, and the marker it names. Grouped by the error code they must get.
struct ErrorRow {
  std::string text;
  bool nak_allowed;
  uint8_t error_marker = 0;
};
struct ErrorGroup {
  const char* what;
  ErrorCode code;
  std::vector<ErrorRow> rows;
};

const std::string kConnect25 = std::string(kConnectBody).substr(0, 50);

const ErrorGroup kErrorGroups[] = {
    {"an Encapsulated-NPDU without NPDU is PAYLOAD_EXPECTED", ErrorCode::kPayloadExpected,
     {{"0104B5EC12F0E1D2C3B4", true}}},
    {"a proprietary option without data is HEADER_ENCODING_ERROR naming its marker",
     ErrorCode::kHeaderEncodingError,
     {{"0102B5EC1F", true, 0x1F}}},
    {"a reserved control flag bit is PARAMETER_OUT_OF_RANGE", ErrorCode::kParameterOutOfRange,
     {{"0A100102", true},
      {"0A800102", true},
      {"01F4B5EC12F0E1D2C3B401", true},
      {"0B100102", false}}},
    {"an option list that is cut short is MESSAGE_INCOMPLETE", ErrorCode::kMessageIncomplete,
     {{"0102B5EC", true},              // flagged, absent
      {"0102B5EC85", true},            // More on last
      {"0101B5ECC1", true},            // More on last
      {"0102B5EC3F00", true},          // length cut
      {"0102B5EC3F0005022B01", true},  // data cut
      {"0103B5EC3F0003022B01", true}}},  // no data list
    {"Secure Path with data is HEADER_ENCODING_ERROR naming its marker",
     ErrorCode::kHeaderEncodingError,
     {{"0101B5EC61000001040000", true, 0x61}, {"0101B5EC6100020102 01", true, 0x61}}},
    {"Secure Path in destination options is HEADER_ENCODING_ERROR naming its marker",
     ErrorCode::kHeaderEncodingError,
     {{"0106B5EC12F0E1D2C3B44101040000", true, 0x41},
      {"0106B5EC12F0E1D2C3B40101040000", true, 0x01}}},
    {"a proprietary option with less than 3 data octets is HEADER_ENCODING_ERROR",
     ErrorCode::kHeaderEncodingError,
     {{"0101B5EC5F01", true, 0x5F},
      {"0102B5EC3F0002022B01", true, 0x3F},
      // The marker is the offending entry's, not the list's first.
      {"0102B5ECBF0003022B011F01", true, 0x1F},
      // A broadcast is never answered, whatever is wrong with it.
      {"0106B5ECFFFFFFFFFFFF1F01", false, 0x1F}}},
    {"a required payload that is missing is PAYLOAD_EXPECTED", ErrorCode::kPayloadExpected,
     {{"00000001", false},
      {"0104B5EC12F0E1D2C3B4", true},
      {"0101B5EC41", true},  // options, then nothing
      {"0404004102A1B2C3D4E5", true},
      {"06000001", true},
      {"07000001", false},
      {"0C04006012F0E1D2C3B4", true}}},
    {"a fixed payload that is too short is MESSAGE_INCOMPLETE", ErrorCode::kMessageIncomplete,
     {{"06000001" + kConnect25, true},
      {"07000001" + kConnect25, false},
      {"00000001060100000700", false},     // NAK of 6
      {"0004000102A1B2C3D4E506", false},   // Result of 1
      {"0404004102A1B2C3D4E50100064005", true},
      {"0C04006012F0E1D2C3B4022B", true}}},
    {"a payload longer than defined is UNEXPECTED_DATA", ErrorCode::kUnexpectedData,
     {{std::string("06000001") + kConnectBody + "00", true},
      {std::string("07000001") + kConnectBody + "00", false},
      {"0004000102A1B2C3D4E50C0000", false},  // ACK of 3
      {"0404004102A1B2C3D4E50100064005D900", true},
      {"0204005012F0E1D2C3B400", true},
      {"0504004012F0E1D2C3B400", true},
      {"0800020300", true},
      {"0900020300", false},
      {"0A00010200", true},
      {"0B00010200", false}}},
    {"an out-of-range Advertisement or Result code is PARAMETER_OUT_OF_RANGE",
     ErrorCode::kParameterOutOfRange,
     {{"0404004102A1B2C3D4E50300064005D9", true},
      {"0404004102A1B2C3D4E50102064005D9", true},
      {"0004000102A1B2C3D4E50602", false},
      {"0004000102A1B2C3D4E506FF0000070097", false}}},
    {"a NUL inside NAK error details is INCONSISTENT_PARAMETERS",
     ErrorCode::kInconsistentParameters,
     {{"000000700D01000007008F62610064", false}, {"000000700D01000007008F00", false}}},
};

}  // namespace

// ---- §7 test vectors ------------------------------------------------------------------

TEST_CASE("every test vector decodes and re-encodes to identical bytes") {
  for (const char* v : kAllVectors) {
    CAPTURE(v);
    const Bytes b = hex(v);
    const DecodeResult r = expect_ok(b);
    CHECK(to_hex(reencode(r.msg, b)) == v);
    CHECK(r.msg.payload.offset + r.msg.payload.length == b.size());
    CHECK(r.msg.body_offset == 4 + (r.msg.has_origin ? 6 : 0) + (r.msg.has_dest ? 6 : 0));
  }
}

TEST_CASE("V1 Connect-Request carries node A's VMAC, UUID and limits") {
  const Bytes b = hex(V1);
  const Message m = expect_ok(b).msg;
  CHECK(m.function == uint8_t(Function::kConnectRequest));
  CHECK(m.flags == 0);
  CHECK(m.message_id == 0x0001);
  CHECK_FALSE(m.has_origin);
  CHECK_FALSE(m.has_dest);
  CHECK(m.payload.offset == 4);
  CHECK(m.payload.length == kConnectPayloadSize);
  const ConnectPayload p = decode_connect_payload(part(b, m.payload));
  CHECK(p.vmac == kA);
  CHECK(p.uuid == kUuidA);
  CHECK(p.max_bvlc_length == 1600);
  CHECK(p.max_npdu_length == 1497);
  Bytes out;
  CHECK(encode_connect_request(out, 0x0001, p) == b.size());
  CHECK(to_hex(out) == V1);
}

TEST_CASE("V2 Connect-Accept carries the hub's VMAC, UUID and limits") {
  const Bytes b = hex(V2);
  const Message m = expect_ok(b).msg;
  CHECK(m.function == uint8_t(Function::kConnectAccept));
  CHECK(m.message_id == 0x0001);
  const ConnectPayload p = decode_connect_payload(part(b, m.payload));
  CHECK(p.vmac == kHub);
  CHECK(p.uuid == kUuidHub);
  CHECK(p.max_bvlc_length == 6000);
  CHECK(p.max_npdu_length == 1497);
  Bytes out;
  encode_connect_accept(out, 0x0001, ConnectPayload{kHub, kUuidHub, 6000, 1497});
  CHECK(to_hex(out) == V2);
}

TEST_CASE("V3..V6 header-only messages decode and encode with encode_simple") {
  struct Case {
    const char* text;
    Function function;
    uint16_t id;
  };
  for (const Case& c : {Case{V3, Function::kHeartbeatRequest, 0x0102},
                        Case{V4, Function::kHeartbeatAck, 0x0102},
                        Case{V5, Function::kDisconnectRequest, 0x0203},
                        Case{V6, Function::kDisconnectAck, 0x0203}}) {
    CAPTURE(c.text);
    const Message m = expect_ok(hex(c.text)).msg;
    CHECK(m.function == uint8_t(c.function));
    CHECK(m.message_id == c.id);
    CHECK(m.flags == 0);
    CHECK(m.payload.length == 0);
    CHECK(m.body_offset == 4);
    Bytes out;
    CHECK(encode_simple(out, c.function, c.id) == 4);
    CHECK(to_hex(out) == c.text);
  }
}

TEST_CASE("V7 and V8 duplicate-VMAC NAKs decode and encode with encode_nak") {
  for (const char* v : {V7, V8}) {
    CAPTURE(v);
    const Bytes b = hex(v);
    const Message m = expect_ok(b).msg;
    CHECK(m.function == uint8_t(Function::kResult));
    CHECK(m.message_id == 0x0001);
    CHECK_FALSE(m.has_dest);
    const ResultPayload p = decode_result_payload(part(b, m.payload));
    CHECK(p.for_function == uint8_t(Function::kConnectRequest));
    CHECK(p.result_code == 1);
    CHECK(p.error_marker == 0);
    CHECK(p.error_class == kErrorClassCommunication);
    CHECK(p.details.empty());
    Bytes out;
    CHECK(encode_nak(out, 0x0001, nullptr, 0x06, 0, ErrorCode(p.error_code), "") == 11);
    CHECK(to_hex(out) == v);
  }
  CHECK(decode_result_payload(part(hex(V7), {4, 7})).error_code == 151);
  CHECK(decode_result_payload(part(hex(V8), {4, 7})).error_code == 0x0071);
}

TEST_CASE("V9 Std-form unicast has D only and the NPDU as payload") {
  const Bytes b = hex(V9);
  const Message m = expect_ok(b).msg;
  CHECK(m.function == uint8_t(Function::kEncapsulatedNpdu));
  CHECK(m.flags == flag::kDest);
  CHECK(m.message_id == 0xB5EC);
  CHECK_FALSE(m.has_origin);
  REQUIRE(m.has_dest);
  CHECK(m.dest == kB);
  CHECK(m.body_offset == 10);
  CHECK(to_hex(part(b, m.payload)) == kNpdu);
  CHECK(encoded(Function::kEncapsulatedNpdu, 0xB5EC, nullptr, &kB, "", "", kNpdu) == V9);
}

TEST_CASE("V10 and V12 forwarded unicasts carry O only") {
  for (const char* v : {V10, V12}) {
    CAPTURE(v);
    const Bytes b = hex(v);
    const Message m = expect_ok(b).msg;
    CHECK(m.flags == flag::kOrigin);
    CHECK(m.origin == kA);
    CHECK_FALSE(m.has_dest);
    CHECK(to_hex(part(b, m.payload)) == kNpdu);
  }
  CHECK(encoded(Function::kEncapsulatedNpdu, 0xB5EC, &kA, nullptr, "", "", kNpdu) == V10);
}

TEST_CASE("V11 bac_py unicast carries O and D with message id 0") {
  const Bytes b = hex(V11);
  const Message m = expect_ok(b).msg;
  CHECK(m.flags == (flag::kOrigin | flag::kDest));
  CHECK(m.message_id == 0);
  CHECK(m.origin == kA);
  CHECK(m.dest == kB);
  CHECK(m.body_offset == 16);
  CHECK(encoded(Function::kEncapsulatedNpdu, 0, &kA, &kB, "", "", kNpdu) == V11);
}

TEST_CASE("V13 and V14 broadcasts carry the broadcast VMAC as D") {
  const Message m13 = expect_ok(hex(V13)).msg;
  CHECK(m13.dest.is_broadcast());
  CHECK_FALSE(m13.has_origin);
  CHECK(m13.message_id == 0x0010);
  const Message m14 = expect_ok(hex(V14)).msg;
  CHECK(m14.dest.is_broadcast());
  CHECK(m14.origin == kA);
  const Vmac bc = Vmac::broadcast();
  CHECK(encoded(Function::kEncapsulatedNpdu, 0x0010, &kA, &bc, "", "", kNpdu) == V14);
}

TEST_CASE("V15 and V16 keep the Secure Path data option in front of the payload") {
  for (const char* v : {V15, V16}) {
    CAPTURE(v);
    const Bytes b = hex(v);
    const Message m = expect_ok(b).msg;
    CHECK((m.flags & flag::kDataOptions) != 0);
    CHECK(m.dest_options.length == 0);
    CHECK(m.data_options.offset == 10);
    CHECK(to_hex(part(b, m.data_options)) == "41");
    CHECK(to_hex(part(b, m.payload)) == kNpdu);
  }
  CHECK(encoded(Function::kEncapsulatedNpdu, 0x0020, nullptr, &kB, "", "41", kNpdu) == V15);
}

TEST_CASE("V17 and V18 split the proprietary destination option from the data option") {
  for (const char* v : {V17, V18}) {
    CAPTURE(v);
    const Bytes b = hex(v);
    const Message m = expect_ok(b).msg;
    CHECK(to_hex(part(b, m.dest_options)) == "3F0006022B01C0FFEE");
    CHECK(to_hex(part(b, m.data_options)) == "41");
    CHECK(to_hex(part(b, m.payload)) == kNpdu);
  }
  CHECK(encoded(Function::kEncapsulatedNpdu, 0x0030, nullptr, &kB, "3F0006022B01C0FFEE",
                "41", kNpdu) == V17);
}

TEST_CASE("V19..V23 unicast control and proprietary messages decode with their payloads") {
  {
    const Message m = expect_ok(hex(V19)).msg;
    CHECK(m.function == uint8_t(Function::kAdvertisementSolicitation));
    CHECK(m.dest == kB);
    CHECK(m.payload.length == 0);
    CHECK(encoded(Function::kAdvertisementSolicitation, 0x0040, nullptr, &kB, "", "", "") ==
          V19);
  }
  {
    const Bytes b = hex(V20);
    const Message m = expect_ok(b).msg;
    CHECK(m.function == uint8_t(Function::kAdvertisement));
    CHECK(m.dest == kA);
    CHECK(to_hex(part(b, m.payload)) == "0100064005D9");
    CHECK(encoded(Function::kAdvertisement, 0x0041, nullptr, &kA, "", "", "0100064005D9") ==
          V20);
  }
  {
    const Message m = expect_ok(hex(V21)).msg;
    CHECK(m.function == uint8_t(Function::kAddressResolution));
    CHECK(m.message_id == 0x0050);
    CHECK(m.payload.length == 0);
  }
  {
    const Bytes b = hex(V22);
    const Message m = expect_ok(b).msg;
    CHECK(m.function == uint8_t(Function::kAddressResolutionAck));
    const auto p = part(b, m.payload);
    CHECK(std::string(p.begin(), p.end()) == "wss://10.0.0.5:4443");
  }
  {
    const Bytes b = hex(V23);
    const Message m = expect_ok(b).msg;
    CHECK(m.function == uint8_t(Function::kProprietaryMessage));
    CHECK(m.message_id == 0x0060);
    CHECK(to_hex(part(b, m.payload)) == "022B07AABB");
    CHECK(encoded(Function::kProprietaryMessage, 0x0060, nullptr, &kB, "", "", "022B07AABB") ==
          V23);
  }
}

TEST_CASE("V24 Must-Understand proprietary destination option passes decode") {
  const Bytes b = hex(V24);
  const Message m = expect_ok(b).msg;
  CHECK(to_hex(part(b, m.dest_options)) == "7F0003022B01");
  CHECK(m.data_options.length == 0);
  CHECK(to_hex(part(b, m.payload)) == kNpdu);
}

TEST_CASE("V25 HEADER_NOT_UNDERSTOOD NAK names marker 0x7F and is addressed to A") {
  const Bytes b = hex(V25);
  const Message m = expect_ok(b).msg;
  CHECK(m.dest == kA);
  CHECK(m.message_id == 0x0031);
  const ResultPayload p = decode_result_payload(part(b, m.payload));
  CHECK(p.for_function == 0x01);
  CHECK(p.result_code == 1);
  CHECK(p.error_marker == 0x7F);
  CHECK(p.error_class == 7);
  CHECK(p.error_code == 146);
  Bytes out;
  encode_nak(out, 0x0031, &kA, 0x01, 0x7F, ErrorCode::kHeaderNotUnderstood, "");
  CHECK(to_hex(out) == V25);
}

TEST_CASE("V26 BVLC_FUNCTION_UNKNOWN NAK carries its error details") {
  const Bytes b = hex(V26);
  const Message m = expect_ok(b).msg;
  const ResultPayload p = decode_result_payload(part(b, m.payload));
  CHECK(p.for_function == 0x0D);
  CHECK(p.error_code == 143);
  CHECK(p.details == "bad fn");
  Bytes out;
  encode_nak(out, 0x0070, nullptr, 0x0D, 0, ErrorCode::kBvlcFunctionUnknown, "bad fn");
  CHECK(to_hex(out) == V26);
}

TEST_CASE("V27 Std Fig. AB-5 example decodes with two proprietary destination options") {
  const Bytes b = hex(V27);
  const Message m = expect_ok(b).msg;
  CHECK(m.dest == kHub);
  CHECK(to_hex(part(b, m.dest_options)) == "BF0007022BBAC5ECC0993F0003030939");
  CHECK(to_hex(part(b, m.data_options)) == "01");
  CHECK(to_hex(part(b, m.payload)) == kNpdu);
  CHECK(encoded(Function::kEncapsulatedNpdu, 0xB5EC, nullptr, &kHub,
                "BF0007022BBAC5ECC0993F0003030939", "01", kNpdu) == V27);
}

// ---- hub rewrite (docs/protocol.md §6) ----------------------------------------------------

TEST_CASE("unicast rewrite replaces D with O = sender, keeping id, options and payload") {
  CHECK(rewrite(V9, kA, false) == V10);
  CHECK(rewrite(V15, kA, false) == V16);
  CHECK(rewrite(V17, kA, false) == V18);
  CHECK(rewrite(V27, kA, false) == V28);
}

TEST_CASE("unicast rewrite of an O+D message shrinks it by 6 octets (V11 to V12)") {
  CHECK(rewrite(V11, kA, false) == V12);
  CHECK(hex(V12).size() == hex(V11).size() - 6);
}

TEST_CASE("broadcast rewrite of a D-only message grows it by 6 octets (V13 to V14)") {
  CHECK(rewrite(V13, kA, true) == V14);
  CHECK(hex(V14).size() == hex(V13).size() + 6);
}

TEST_CASE("broadcast rewrite of an O+D message keeps its size") {
  CHECK(rewrite("0C0C0061 02A1B2C3D4E5 FFFFFFFFFFFF 022B07AA", kA, true) ==
        "0C0C006102A1B2C3D4E5FFFFFFFFFFFF022B07AA");
}

TEST_CASE("rewrite forwards a NAK from B to A with O = B") {
  CHECK(rewrite(V25, kB, false) == "0008003112F0E1D2C3B401017F00070092");
}

TEST_CASE("rewritten copies decode again") {
  for (const char* v : {V9, V11, V15, V17, V23, V27}) {
    CAPTURE(v);
    for (const bool broadcast : {false, true}) {
      const Bytes out = hex(rewrite(v, kB, broadcast));
      const Message m = expect_ok(out).msg;
      CHECK(m.origin == kB);
      CHECK(m.has_dest == broadcast);
    }
  }
}

// ---- "Short checks" of docs/protocol.md §7 -------------------------------------------------

TEST_CASE("a message shorter than 4 octets is never answered") {
  for (const char* text : {"", "0A", "0A00", "0A0001"}) {
    const DecodeError e = expect_error(text, ErrorCode::kMessageIncomplete, false);
    CHECK_FALSE(e.has_origin);
  }
}

TEST_CASE("an unknown function from a node is NAKed 143 unless it is a broadcast") {
  const DecodeError e = expect_error("0D040070112233445566", ErrorCode::kBvlcFunctionUnknown, true);
  CHECK(e.function == 0x0D);
  CHECK(e.message_id == 0x0070);
  CHECK_FALSE(e.has_origin);
  expect_error("0D040070FFFFFFFFFFFF", ErrorCode::kBvlcFunctionUnknown, false);
}



TEST_CASE("a Heartbeat-Request carrying O is HEADER_ENCODING_ERROR") {
  const DecodeError e =
      expect_error("0A080102010203040506", ErrorCode::kHeaderEncodingError, true);
  CHECK(e.message_id == 0x0102);
  CHECK(e.has_origin);
  CHECK(e.origin == Vmac{{1, 2, 3, 4, 5, 6}});
}

// ---- §4 error rows --------------------------------------------------------------------

TEST_CASE("a cut-short originating or destination VMAC is MESSAGE_INCOMPLETE") {
  expect_error("010800010102", ErrorCode::kMessageIncomplete, true);
  expect_error("0104000112F0E1D2C3", ErrorCode::kMessageIncomplete, true);
  const DecodeError e =
      expect_error("010C000102A1B2C3D4E512F0", ErrorCode::kMessageIncomplete, true);
  CHECK(e.has_origin);
  CHECK(e.origin == kA);
  CHECK(std::string_view(e.why) == "destination VMAC cut short");
  // A cut-short D cannot be known to be a broadcast; a response is still never answered.
  expect_error("000400011122", ErrorCode::kMessageIncomplete, false);
}

TEST_CASE("an unknown function is reported with whatever header was readable") {
  const DecodeError e =
      expect_error("0D08007002A1B2C3D4E5", ErrorCode::kBvlcFunctionUnknown, true);
  CHECK(e.has_origin);
  CHECK(e.origin == kA);
  expect_error("FF000001", ErrorCode::kBvlcFunctionUnknown, true);
  // The function verdict comes before the option lists are read.
  expect_error("0D020070FF", ErrorCode::kBvlcFunctionUnknown, true);
}






TEST_CASE("an option list with more than 32 entries is HEADER_ENCODING_ERROR") {
  auto with_entries = [](size_t n) {
    Bytes b = hex("0102B5EC");
    for (size_t i = 0; i < n; ++i) b.push_back(i + 1 < n ? 0x85 : 0x05);
    b.push_back(0x01);  // NPDU
    return b;
  };
  expect_ok(with_entries(32));
  const DecodeResult r = decode(with_entries(33));
  REQUIRE_FALSE(r.ok);
  CHECK(r.err.code == ErrorCode::kHeaderEncodingError);
  CHECK(r.err.error_marker == 0x05);
  CHECK(r.err.nak_allowed);
}

TEST_CASE("unknown option types pass through decode") {
  // Types 5 (no data), 2 (Hello, one octet) and 0, then the NPDU.
  const Bytes b = hex("0106000112F0E1D2C3B485A2000101000104");
  const Message m = expect_ok(b).msg;
  CHECK(to_hex(part(b, m.dest_options)) == "85A200010100");
  CHECK(to_hex(part(b, m.payload)) == "0104");
  // Hello in a Connect-Request's destination options; Identity after Secure Path 0xC1.
  expect_ok(hex(std::string("06020001220001 01") + kConnectBody));
  expect_ok(hex("01010001C12300030000010104"));
}

TEST_CASE("O or D on a connection-control function is HEADER_ENCODING_ERROR") {
  for (uint8_t f = 0x06; f <= 0x0B; ++f) {
    CAPTURE(int(f));
    for (const char* tail : {"040001 12F0E1D2C3B4", "080001 02A1B2C3D4E5"}) {
      const std::string text = to_hex(Bytes{f}) + tail;
      expect_error(text, ErrorCode::kHeaderEncodingError, !is_response(f));
    }
  }
  expect_error(std::string("0608000102A1B2C3D4E5") + kConnectBody,
               ErrorCode::kHeaderEncodingError, true);
}

TEST_CASE("data options on any function but Encapsulated-NPDU are INCONSISTENT_PARAMETERS") {
  for (uint8_t f = 0x00; f <= kMaxKnownFunction; ++f) {
    if (f == uint8_t(Function::kEncapsulatedNpdu)) continue;
    CAPTURE(int(f));
    expect_error(to_hex(Bytes{f}) + "01000141", ErrorCode::kInconsistentParameters,
                 !is_response(f));
  }
  expect_error("0C05006012F0E1D2C3B441022B07", ErrorCode::kInconsistentParameters, true);
}






TEST_CASE("§4 error rows: each gets its error code, NAK permission and marker") {
  for (const ErrorGroup& g : kErrorGroups) {
    CAPTURE(g.what);
    for (const ErrorRow& r : g.rows) expect_error(r.text, g.code, r.nak_allowed, r.error_marker);
  }
}

TEST_CASE("a message longer than 65535 octets is MESSAGE_TOO_LONG") {
  Bytes b = hex("0104B5EC12F0E1D2C3B4");
  b.resize(0xFFFF, 0x01);
  expect_ok(b);
  b.push_back(0x01);
  const DecodeResult r = decode(b);
  REQUIRE_FALSE(r.ok);
  CHECK(r.err.code == ErrorCode::kMessageTooLong);
  CHECK(r.err.nak_allowed);
}

TEST_CASE("boundary payloads that the Std allows are accepted") {
  expect_ok(hex("0004000102A1B2C3D4E50C00"));             // ACK of exactly 2 octets
  expect_ok(hex("0304005002A1B2C3D4E5"));                 // empty Address-Resolution-ACK
  expect_ok(hex("0404004102A1B2C3D4E50201064005D9"));     // failover hub, direct accepted
  expect_ok(hex("0C04006012F0E1D2C3B4022B07"));           // proprietary of exactly 3
  expect_ok(hex("0104B5EC12F0E1D2C3B401"));               // one-octet NPDU
  const Bytes ack = hex("0004000102A1B2C3D4E50C00");
  const ResultPayload p = decode_result_payload(part(ack, expect_ok(ack).msg.payload));
  CHECK(p.for_function == 0x0C);
  CHECK(p.result_code == 0);
  CHECK(p.error_code == 0);
  CHECK(p.details.empty());
}

// ---- parse_option_list, names, encoders ------------------------------------------------

TEST_CASE("parse_option_list reports where a list ends") {
  const Bytes b = hex("AABB BF0007022BBAC5ECC099 3F0003030939 01 0104");
  size_t end = 0;
  DecodeError err;
  REQUIRE(parse_option_list(b, 2, true, &end, &err));
  CHECK(end == 18);
  REQUIRE(parse_option_list(b, 18, false, &end, &err));
  CHECK(end == 19);
  CHECK_FALSE(parse_option_list(b, 18, true, &end, &err));  // Secure Path in dest list
  CHECK(err.code == ErrorCode::kHeaderEncodingError);
  CHECK(err.error_marker == 0x01);
  CHECK(std::string_view(err.why) == "Secure Path option in destination options");
  CHECK_FALSE(parse_option_list(b, b.size(), false, &end, nullptr));
}

TEST_CASE("function and error code names come from the Std's vocabulary") {
  CHECK(std::string_view(function_name(0x00)) == "BVLC-Result");
  CHECK(std::string_view(function_name(0x01)) == "Encapsulated-NPDU");
  CHECK(std::string_view(function_name(0x0C)) == "Proprietary-Message");
  CHECK(std::string_view(function_name(0x0D)) == "unknown");
  CHECK(std::string_view(error_code_name(ErrorCode::kNodeDuplicateVmac)) ==
        "NODE_DUPLICATE_VMAC");
  CHECK(std::string_view(error_code_name(ErrorCode::kOther)) == "OTHER");
  CHECK(std::string_view(error_code_name(ErrorCode(9999))) == "unknown");
}

TEST_CASE("encoders append to the buffer and return the octets added") {
  Bytes out = {0xAA};
  CHECK(encode_simple(out, Function::kHeartbeatAck, 0xBEEF) == 4);
  CHECK(encode_nak(out, 0x0001, &kB, 0x01, 0x7F, ErrorCode::kHeaderNotUnderstood, "x") == 18);
  CHECK(to_hex(out) == "AA" "0B00BEEF" "0004000112F0E1D2C3B401017F00070092" "78");
  const Bytes b(out.begin() + 5, out.end());
  const Message m = expect_ok(b).msg;
  CHECK(m.flags == flag::kDest);
  CHECK(decode_result_payload(part(b, m.payload)).details == "x");
}
