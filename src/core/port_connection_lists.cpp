// The Network Port's two BACnetLIST properties from the gathered connection history
// (core/connection_history.hpp): SC_Hub_Function_Connection_Status (BACnetSCHubFunction
// Connection: connected and departed nodes) and SC_Failed_Connection_Requests (BACnetSC
// FailedConnectionRequest). Encodings are the Std's forms (bsc/bacnet/sc_types.hpp; not
// bacnet-stack's, docs/bacnet-device.md §6.3).
#include <ctime>

#include "bsc/bacnet/enums.hpp"
#include "bsc/bacnet/sc_types.hpp"
#include "core/device_objects.hpp"

namespace bsc {

using namespace bacnet;
namespace prop = bacnet::property;

namespace {

// The hub's local date and time (timestamps of these lists are local, clause 12.56);
// 0 (never) is the unspecified BACnetDateTime, all 0xFF.
DateTime local_date_time(int64_t unix_ms) {
  if (unix_ms <= 0) return DateTime{};
  time_t secs = time_t(unix_ms / 1000);
  tm t;
  localtime_r(&secs, &t);
  DateTime d;
  d.date.year_since_1900 = uint8_t(t.tm_year);
  d.date.month = uint8_t(t.tm_mon + 1);
  d.date.day = uint8_t(t.tm_mday);
  d.date.weekday = uint8_t(t.tm_wday == 0 ? 7 : t.tm_wday);  // Monday 1 .. Sunday 7
  d.time.hour = uint8_t(t.tm_hour);
  d.time.minute = uint8_t(t.tm_min);
  d.time.second = uint8_t(t.tm_sec);
  d.time.hundredths = uint8_t((unix_ms % 1000) / 10);
  return d;
}

HostNPort host_n_port(const PeerAddress& a) {
  HostNPort h;
  if (a.ip_len != 0) {
    h.host = HostNPort::Host::kIp;
    h.ip = std::span<const uint8_t>(a.ip.data(), a.ip_len);
  }
  h.port = a.port;
  return h;
}

void put_connection(Writer& w, const NodeRecord& r) {
  ScHubFunctionConnection v;
  v.state = r.state;
  v.connect = local_date_time(r.connect_unix_ms);
  v.disconnect = local_date_time(r.disconnect_unix_ms);
  v.peer = host_n_port(r.peer);
  v.vmac = r.vmac;
  v.uuid = r.uuid;
  if (r.has_error) {
    v.error.present = true;
    v.error.error = ErrorPair{r.error.error_class, r.error.error_code};
    v.error.has_details = !r.error.details.empty();
    v.error.details = r.error.details;
  }
  put_sc_hub_function_connection(w, v);
}

void put_failed(Writer& w, const FailedRecord& r) {
  ScFailedConnectionRequest v;
  v.timestamp = local_date_time(r.unix_ms);
  v.peer = host_n_port(r.peer);
  v.has_vmac = r.has_vmac;
  v.vmac = r.vmac;
  v.has_uuid = r.has_uuid;
  v.uuid = r.uuid;
  v.error = ErrorPair{r.error.error_class, r.error.error_code};
  v.has_details = !r.error.details.empty();
  v.details = r.error.details;
  put_sc_failed_connection_request(w, v);
}

}  // namespace

void DeviceObjects::begin_request() { history_ = GatheredHistory(history_sources_, unix_now_ms()); }

std::optional<uint32_t> DeviceObjects::port_list_length(uint32_t property) const {
  switch (property) {
    case prop::kScHubFunctionConnectionStatus: return uint32_t(history_.connection_count());
    case prop::kScFailedConnectionRequests: return uint32_t(history_.failed_count());
    default: return std::nullopt;
  }
}

void DeviceObjects::put_port_list_entry(Writer& w, uint32_t property, uint32_t index) const {
  if (property == prop::kScHubFunctionConnectionStatus)
    put_connection(w, history_.connection(index - 1));
  else if (property == prop::kScFailedConnectionRequests)
    put_failed(w, history_.failed(index - 1));
}

}  // namespace bsc
