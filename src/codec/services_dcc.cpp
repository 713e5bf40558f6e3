// DeviceCommunicationControl service data (ASHRAE 135 clause 16.1).
#include "bsc/bacnet/services_dcc.hpp"

namespace bsc::bacnet {

namespace {

// Characters, not octets: UTF-8 continuation octets (10xxxxxx) do not start one.
size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (uint8_t(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

bool valid_dcc_password_length(std::string_view password) noexcept {
  const size_t chars = utf8_chars(password);
  return chars >= 1 && chars <= kMaxDccPasswordChars;
}

Status decode_dcc(std::span<const uint8_t> data, DccRequest& out) noexcept {
  Reader r(data);
  out = DccRequest{};
  Status s = Status::kOk;
  out.has_duration = r.next_is(ctx(0));
  if (out.has_duration) {
    uint32_t minutes = 0;
    s = get_unsigned(r, minutes, UINT16_MAX, ctx(0));
    out.duration_minutes = uint16_t(minutes);
  }
  uint32_t state = 0;
  if (s == Status::kOk) s = get_enumerated(r, state, ctx(1));
  if (s == Status::kOk && state > uint32_t(EnableDisable::kDisableInitiation)) s = Status::kBadValue;
  if (s == Status::kOk) out.state = EnableDisable(state);
  if (s == Status::kOk && r.next_is(ctx(2))) {
    out.has_password = true;
    s = get_character_string(r, out.password, ctx(2));
    if (s == Status::kOk && !valid_dcc_password_length(out.password)) s = Status::kOutOfRange;
  }
  return expect_end(r, s);
}

void encode_dcc(Writer& w, const DccRequest& v) noexcept {
  if (v.has_duration) put_unsigned(w, v.duration_minutes, ctx(0));
  put_enumerated(w, uint32_t(v.state), ctx(1));
  if (v.has_password) put_character_string(w, v.password, ctx(2));
}

}  // namespace bsc::bacnet
