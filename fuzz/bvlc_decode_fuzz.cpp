// libFuzzer target: bsc::decode on arbitrary bytes, then the hub's forward rewrite (unicast
// and broadcast) of every accepted message and the NAK for every rejected one, with the
// codec's invariants checked (__builtin_trap on a violation, so libFuzzer reports a crash).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "bsc/bvlc.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr bsc::Vmac kSender{{0x02, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5}};
constexpr size_t kMaxMessage = 0xFFFF;

bool span_inside(const bsc::Span& s, size_t size) {
  return size_t(s.offset) + size_t(s.length) <= size;
}

bool same_bytes(std::span<const uint8_t> a, const bsc::Span& sa, std::span<const uint8_t> b,
                const bsc::Span& sb) {
  return sa.length == sb.length &&
         (sa.length == 0 ||
          std::memcmp(a.data() + sa.offset, b.data() + sb.offset, sa.length) == 0);
}

// Structural invariants of an accepted message.
void check_message(const bsc::Message& m, std::span<const uint8_t> in) {
  const size_t n = in.size();
  FUZZ_CHECK(n >= 4 && n <= kMaxMessage);
  FUZZ_CHECK(m.function <= bsc::kMaxKnownFunction);
  FUZZ_CHECK(m.function == in[0]);
  FUZZ_CHECK((m.flags & bsc::flag::kReserved) == 0);
  FUZZ_CHECK(m.flags == in[1]);
  FUZZ_CHECK(m.message_id == uint16_t(in[2] << 8 | in[3]));
  FUZZ_CHECK(m.has_origin == ((m.flags & bsc::flag::kOrigin) != 0));
  FUZZ_CHECK(m.has_dest == ((m.flags & bsc::flag::kDest) != 0));
  FUZZ_CHECK(m.body_offset == 4 + (m.has_origin ? 6 : 0) + (m.has_dest ? 6 : 0));
  FUZZ_CHECK(m.body_offset <= n);
  if (m.has_origin) FUZZ_CHECK(std::memcmp(m.origin.bytes.data(), in.data() + 4, 6) == 0);
  if (m.has_dest) {
    FUZZ_CHECK(std::memcmp(m.dest.bytes.data(), in.data() + 4 + (m.has_origin ? 6 : 0), 6) ==
               0);
  }
  FUZZ_CHECK(span_inside(m.dest_options, n));
  FUZZ_CHECK(span_inside(m.data_options, n));
  FUZZ_CHECK(span_inside(m.payload, n));
  // Layout: body = [dest options][data options] payload, the payload running to the end.
  size_t pos = m.body_offset;
  if (m.flags & bsc::flag::kDestOptions) {
    FUZZ_CHECK(m.dest_options.offset == pos && m.dest_options.length > 0);
    pos += m.dest_options.length;
  } else {
    FUZZ_CHECK(m.dest_options.length == 0);
  }
  if (m.flags & bsc::flag::kDataOptions) {
    FUZZ_CHECK(m.function == uint8_t(bsc::Function::kEncapsulatedNpdu));
    FUZZ_CHECK(m.data_options.offset == pos && m.data_options.length > 0);
    pos += m.data_options.length;
  } else {
    FUZZ_CHECK(m.data_options.length == 0);
  }
  FUZZ_CHECK(m.payload.offset == pos);
  FUZZ_CHECK(size_t(m.payload.offset) + m.payload.length == n);

  // Each option list re-parses on its own to the same end.
  for (const bool dest_list : {true, false}) {
    const bsc::Span& s = dest_list ? m.dest_options : m.data_options;
    if (s.length == 0) continue;
    size_t end = 0;
    bsc::DecodeError e;
    FUZZ_CHECK(bsc::parse_option_list(in, s.offset, dest_list, &end, &e));
    FUZZ_CHECK(end == size_t(s.offset) + s.length);
  }

  // Payload decoders the hub calls on accepted messages (ASan checks their reads).
  auto payload = in.subspan(m.payload.offset, m.payload.length);
  if (m.function == uint8_t(bsc::Function::kConnectRequest) ||
      m.function == uint8_t(bsc::Function::kConnectAccept)) {
    FUZZ_CHECK(payload.size() == bsc::kConnectPayloadSize);
    bsc::ConnectPayload p = bsc::decode_connect_payload(payload);
    FUZZ_CHECK(std::memcmp(p.vmac.bytes.data(), payload.data(), 6) == 0);
  } else if (m.function == uint8_t(bsc::Function::kResult)) {
    bsc::ResultPayload p = bsc::decode_result_payload(payload);
    FUZZ_CHECK(p.result_code <= 1);
    if (p.result_code == 1) {
      FUZZ_CHECK(payload.size() >= 7);
      FUZZ_CHECK(p.details.size() == payload.size() - 7);
      FUZZ_CHECK(p.details.find('\0') == std::string_view::npos);
    } else {
      FUZZ_CHECK(payload.size() == 2);
    }
  }
}

// The hub's forward copy of an accepted message.
void check_rewrite(const bsc::Message& m, std::span<const uint8_t> in, bool broadcast) {
  const size_t size = bsc::rewritten_size(m, in.size(), broadcast);
  FUZZ_CHECK(size >= 10 + (broadcast ? 6 : 0));
  // Exactly rewritten_size() octets on the heap, so ASan flags any overrun.
  std::vector<uint8_t> out(size);
  const size_t written = bsc::rewrite_for_forward(m, in, kSender, broadcast, out.data());
  FUZZ_CHECK(written == size);
  FUZZ_CHECK(out[0] == in[0] && out[2] == in[2] && out[3] == in[3]);
  FUZZ_CHECK((out[1] & ~uint8_t(bsc::flag::kDestOptions | bsc::flag::kDataOptions)) ==
             (bsc::flag::kOrigin | (broadcast ? bsc::flag::kDest : 0)));
  FUZZ_CHECK((out[1] & 0x03) == (m.flags & 0x03));
  if (size > kMaxMessage) return;  // decode() rejects those by design (16-bit offsets)

  const bsc::DecodeResult r = bsc::decode(out);
  const auto& rule_fn = m.function;
  const bool vmacs_allowed = !(rule_fn >= uint8_t(bsc::Function::kConnectRequest) &&
                               rule_fn <= uint8_t(bsc::Function::kHeartbeatAck));
  if (!vmacs_allowed) {
    // Connection-control functions never carry VMACs: the copy must not decode. (The hub
    // never forwards them anyway.)
    FUZZ_CHECK(!r.ok);
    return;
  }
  FUZZ_CHECK(r.ok);
  const bsc::Message& f = r.msg;
  FUZZ_CHECK(f.function == m.function);
  FUZZ_CHECK(f.message_id == m.message_id);
  FUZZ_CHECK(f.has_origin && f.origin == kSender);
  if (broadcast) {
    FUZZ_CHECK(f.has_dest && f.dest.is_broadcast());
  } else {
    FUZZ_CHECK(!f.has_dest);
  }
  FUZZ_CHECK((f.flags & 0x03) == (m.flags & 0x03));
  FUZZ_CHECK(same_bytes(in, m.dest_options, out, f.dest_options));
  FUZZ_CHECK(same_bytes(in, m.data_options, out, f.data_options));
  FUZZ_CHECK(same_bytes(in, m.payload, out, f.payload));
  check_message(f, out);
}

void check_error(const bsc::DecodeError& err, std::span<const uint8_t> in) {
  FUZZ_CHECK(err.why != nullptr);
  FUZZ_CHECK(err.why[0] != '\0');
  if (in.size() < 4) FUZZ_CHECK(!err.nak_allowed);
  if (!err.nak_allowed) return;
  FUZZ_CHECK(in.size() >= 4);
  FUZZ_CHECK(!bsc::is_response(err.function));
  FUZZ_CHECK(err.function == in[0]);
  FUZZ_CHECK(err.message_id == uint16_t(in[2] << 8 | in[3]));
  if (err.has_origin) FUZZ_CHECK(std::memcmp(err.origin.bytes.data(), in.data() + 4, 6) == 0);

  // The NAK the hub would send back (Std AB.3.1.2: D = the offender's O, if any).
  std::vector<uint8_t> nak;
  const std::string_view details(err.why);
  const size_t n = bsc::encode_nak(nak, err.message_id, err.has_origin ? &err.origin : nullptr,
                                   err.function, err.error_marker, err.code, details);
  FUZZ_CHECK(n == nak.size());
  const bsc::DecodeResult r = bsc::decode(nak);
  FUZZ_CHECK(r.ok);
  FUZZ_CHECK(r.msg.function == uint8_t(bsc::Function::kResult));
  FUZZ_CHECK(r.msg.message_id == err.message_id);
  FUZZ_CHECK(!r.msg.has_origin);
  FUZZ_CHECK(r.msg.has_dest == err.has_origin);
  if (err.has_origin) FUZZ_CHECK(r.msg.dest == err.origin);
  check_message(r.msg, nak);
  const bsc::ResultPayload p = bsc::decode_result_payload(
      std::span<const uint8_t>(nak).subspan(r.msg.payload.offset, r.msg.payload.length));
  FUZZ_CHECK(p.for_function == err.function);
  FUZZ_CHECK(p.result_code == 1);
  FUZZ_CHECK(p.error_marker == err.error_marker);
  FUZZ_CHECK(p.error_class == bsc::kErrorClassCommunication);
  FUZZ_CHECK(p.error_code == uint16_t(err.code));
  FUZZ_CHECK(p.details == details);
  FUZZ_CHECK(bsc::error_code_name(err.code) != nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  const bsc::DecodeResult r = bsc::decode(in);
  (void)bsc::function_name(size > 0 ? data[0] : 0);
  if (r.ok) {
    check_message(r.msg, in);
    check_rewrite(r.msg, in, false);
    check_rewrite(r.msg, in, true);
  } else {
    check_error(r.err, in);
  }
  return 0;
}
