// The BACnet/SC constructed types a hub's Network Port object reports (ASHRAE 135
// Addendum cc types in clause 21; docs/bacnet-device.md §10): BACnetHostNPort,
// BACnetSCHubFunctionConnection (SC_Hub_Function_Connection_Status entries),
// BACnetSCFailedConnectionRequest (SC_Failed_Connection_Requests entries) and
// BACnetSCHubConnection. Always the Std's forms: the peer IP as 4 or 16 octets, an
// unspecified timestamp as all 0xFF, `error` as the constructed [n] { class, code }.
// Each encodes one list element (no enclosing tag). Threads: stateless functions.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/asn1_values.hpp"
#include "bsc/vmac.hpp"

namespace bsc::bacnet {

// BACnetSCConnectionState.
enum class ScConnectionState : uint8_t {
  kNotConnected = 0,
  kConnected = 1,
  kDisconnectedWithErrors = 2,
  kFailedToConnect = 3,
};

// BACnetHostNPort: host is none, an IP address (4 or 16 octets) or a name; then the port.
struct HostNPort {
  enum class Host : uint8_t { kNone = 0, kIp = 1, kName = 2 };
  Host host = Host::kNone;
  std::span<const uint8_t> ip{};  // 4 (IPv4) or 16 (IPv6) octets, network order
  std::string_view name{};
  uint16_t port = 0;
};
// Written as context tag `number` enclosing [0] host CHOICE and [1] port.
void put_host_n_port(Writer& w, const HostNPort& v, uint8_t number) noexcept;
// kBadLength for an IP of another size than 4 or 16 octets.
Status get_host_n_port(Reader& r, HostNPort& v, uint8_t number) noexcept;

// The optional error and error-details of a connection entry.
struct ScError {
  bool present = false;  // the Std sends it for disconnected-with-errors / failed-to-connect
  ErrorPair error{};
  bool has_details = false;
  std::string_view details{};
};

struct ScHubFunctionConnection {
  ScConnectionState state = ScConnectionState::kNotConnected;
  DateTime connect{};     // [1]
  DateTime disconnect{};  // [2]; unspecified while connected
  HostNPort peer{};       // [3]
  Vmac vmac{};            // [4]
  Uuid uuid{};            // [5]
  ScError error{};        // [6] error, [7] error-details
};
void put_sc_hub_function_connection(Writer& w, const ScHubFunctionConnection& v) noexcept;
Status get_sc_hub_function_connection(Reader& r, ScHubFunctionConnection& v) noexcept;

struct ScFailedConnectionRequest {
  DateTime timestamp{};  // [0]
  HostNPort peer{};      // [1]
  bool has_vmac = false;
  Vmac vmac{};           // [2] OPTIONAL: unknown before the Connect-Request was read
  bool has_uuid = false;
  Uuid uuid{};           // [3] OPTIONAL
  ErrorPair error{};     // [4] mandatory
  bool has_details = false;
  std::string_view details{};  // [5] OPTIONAL
};
void put_sc_failed_connection_request(Writer& w, const ScFailedConnectionRequest& v) noexcept;
Status get_sc_failed_connection_request(Reader& r, ScFailedConnectionRequest& v) noexcept;

struct ScHubConnection {
  ScConnectionState state = ScConnectionState::kNotConnected;
  DateTime connect{};     // [1]
  DateTime disconnect{};  // [2]
  ScError error{};        // [3] error, [4] error-details
};
void put_sc_hub_connection(Writer& w, const ScHubConnection& v) noexcept;
Status get_sc_hub_connection(Reader& r, ScHubConnection& v) noexcept;

}  // namespace bsc::bacnet
