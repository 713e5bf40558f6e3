// BACnet/SC constructed types (ASHRAE 135 clause 21, Addendum cc): see bsc/bacnet/sc_types.hpp.
#include "bsc/bacnet/sc_types.hpp"

#include <algorithm>

namespace bsc::bacnet {

namespace {

constexpr uint8_t kHostTag = 0;  // BACnetHostNPort host [0], port [1]
constexpr uint8_t kPortTag = 1;

Status get_state(Reader& r, ScConnectionState& state) {
  uint32_t v = 0;
  const Status s = get_enumerated(r, v, ctx(0));
  if (s != Status::kOk) return s;
  if (v > uint32_t(ScConnectionState::kFailedToConnect)) return Status::kBadValue;
  state = ScConnectionState(v);
  return Status::kOk;
}

// An OCTET STRING of exactly N octets (VMAC 6, UUID 16) into a fixed array.
template <size_t N>
Status get_fixed_octets(Reader& r, std::array<uint8_t, N>& out, uint8_t number) {
  std::span<const uint8_t> v;
  const Status s = get_octet_string(r, v, ctx(number));
  if (s != Status::kOk) return s;
  if (v.size() != N) return Status::kBadLength;
  std::copy(v.begin(), v.end(), out.begin());
  return Status::kOk;
}

// error [n] { class, code } then error-details [n+1], each optional.
void put_sc_error(Writer& w, const ScError& e, uint8_t number) {
  if (e.present) {
    put_opening(w, number);
    put_error_pair(w, e.error);
    put_closing(w, number);
  }
  if (e.has_details) put_character_string(w, e.details, ctx(uint8_t(number + 1)));
}

Status get_constructed_error(Reader& r, ErrorPair& e, uint8_t number) {
  Status s = get_opening(r, number);
  if (s == Status::kOk) s = get_error_pair(r, e);
  if (s == Status::kOk) s = get_closing(r, number);
  return s;
}

Status get_details(Reader& r, bool& has, std::string_view& details, uint8_t number) {
  has = r.next_is(ctx(number));
  return has ? get_character_string(r, details, ctx(number)) : Status::kOk;
}

Status get_sc_error(Reader& r, ScError& e, uint8_t number) {
  e = ScError{};
  e.present = r.at_opening(number);
  const Status s = e.present ? get_constructed_error(r, e.error, number) : Status::kOk;
  return s == Status::kOk ? get_details(r, e.has_details, e.details, uint8_t(number + 1)) : s;
}

// state [0], connect-timestamp [1], disconnect-timestamp [2]: the common head.
void put_connection_head(Writer& w, ScConnectionState state, const DateTime& connect,
                         const DateTime& disconnect) {
  put_enumerated(w, uint32_t(state), ctx(0));
  put_date_time(w, connect, 1);
  put_date_time(w, disconnect, 2);
}

Status get_connection_head(Reader& r, ScConnectionState& state, DateTime& connect,
                           DateTime& disconnect) {
  Status s = get_state(r, state);
  if (s == Status::kOk) s = get_date_time(r, connect, 1);
  if (s == Status::kOk) s = get_date_time(r, disconnect, 2);
  return s;
}

}  // namespace

void put_host_n_port(Writer& w, const HostNPort& v, uint8_t number) noexcept {
  put_opening(w, number);
  put_opening(w, kHostTag);
  switch (v.host) {
    case HostNPort::Host::kNone: put_null(w, ctx(0)); break;
    case HostNPort::Host::kIp: put_octet_string(w, v.ip, ctx(1)); break;
    case HostNPort::Host::kName: put_character_string(w, v.name, ctx(2)); break;
  }
  put_closing(w, kHostTag);
  put_unsigned(w, v.port, ctx(kPortTag));
  put_closing(w, number);
}

Status get_host_n_port(Reader& r, HostNPort& v, uint8_t number) noexcept {
  v = HostNPort{};
  Status s = get_opening(r, number);
  if (s == Status::kOk) s = get_opening(r, kHostTag);
  if (s != Status::kOk) return s;
  if (r.next_is(ctx(0))) {
    s = get_null(r, ctx(0));
  } else if (r.next_is(ctx(1))) {
    v.host = HostNPort::Host::kIp;
    s = get_octet_string(r, v.ip, ctx(1));
    if (s == Status::kOk && v.ip.size() != 4 && v.ip.size() != 16) s = Status::kBadLength;
  } else if (r.next_is(ctx(2))) {
    v.host = HostNPort::Host::kName;
    s = get_character_string(r, v.name, ctx(2));
  } else {
    s = r.at_end() ? Status::kTruncated : Status::kUnexpectedTag;
  }
  uint32_t port = 0;
  if (s == Status::kOk) s = get_closing(r, kHostTag);
  if (s == Status::kOk) s = get_unsigned(r, port, UINT16_MAX, ctx(kPortTag));
  if (s == Status::kOk) s = get_closing(r, number);
  v.port = uint16_t(port);
  return s;
}

void put_sc_hub_function_connection(Writer& w, const ScHubFunctionConnection& v) noexcept {
  put_connection_head(w, v.state, v.connect, v.disconnect);
  put_host_n_port(w, v.peer, 3);
  put_octet_string(w, v.vmac.bytes, ctx(4));
  put_octet_string(w, v.uuid.bytes, ctx(5));
  put_sc_error(w, v.error, 6);
}

Status get_sc_hub_function_connection(Reader& r, ScHubFunctionConnection& v) noexcept {
  Status s = get_connection_head(r, v.state, v.connect, v.disconnect);
  if (s == Status::kOk) s = get_host_n_port(r, v.peer, 3);
  if (s == Status::kOk) s = get_fixed_octets(r, v.vmac.bytes, 4);
  if (s == Status::kOk) s = get_fixed_octets(r, v.uuid.bytes, 5);
  if (s == Status::kOk) s = get_sc_error(r, v.error, 6);
  return s;
}

void put_sc_failed_connection_request(Writer& w, const ScFailedConnectionRequest& v) noexcept {
  put_date_time(w, v.timestamp, 0);
  put_host_n_port(w, v.peer, 1);
  if (v.has_vmac) put_octet_string(w, v.vmac.bytes, ctx(2));
  if (v.has_uuid) put_octet_string(w, v.uuid.bytes, ctx(3));
  put_sc_error(w, ScError{true, v.error, v.has_details, v.details}, 4);
}

Status get_sc_failed_connection_request(Reader& r, ScFailedConnectionRequest& v) noexcept {
  v = ScFailedConnectionRequest{};
  Status s = get_date_time(r, v.timestamp, 0);
  if (s == Status::kOk) s = get_host_n_port(r, v.peer, 1);
  if (s == Status::kOk && (v.has_vmac = r.next_is(ctx(2)))) s = get_fixed_octets(r, v.vmac.bytes, 2);
  if (s == Status::kOk && (v.has_uuid = r.next_is(ctx(3)))) s = get_fixed_octets(r, v.uuid.bytes, 3);
  if (s == Status::kOk) s = get_constructed_error(r, v.error, 4);  // mandatory here
  if (s == Status::kOk) s = get_details(r, v.has_details, v.details, 5);
  return s;
}

void put_sc_hub_connection(Writer& w, const ScHubConnection& v) noexcept {
  put_connection_head(w, v.state, v.connect, v.disconnect);
  put_sc_error(w, v.error, 3);
}

Status get_sc_hub_connection(Reader& r, ScHubConnection& v) noexcept {
  Status s = get_connection_head(r, v.state, v.connect, v.disconnect);
  if (s == Status::kOk) s = get_sc_error(r, v.error, 3);
  return s;
}

}  // namespace bsc::bacnet
