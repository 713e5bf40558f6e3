// The device's one decoder for everything that reaches it from the network: NPDU, APDU
// header and service data in one call, with the Std's verdict on what to do (docs/
// bacnet-device.md §11). Which services the device executes is decided here: Who-Is and
// Who-Has (unconfirmed); ReadProperty, ReadPropertyMultiple, ReadRange and
// DeviceCommunicationControl (confirmed). Total over arbitrary bytes, no allocation: the
// fuzz target fuzz/bacnet_apdu_fuzz.cpp drives it. Threads: stateless function.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/npdu.hpp"
#include "bsc/bacnet/services_dcc.hpp"
#include "bsc/bacnet/services_range.hpp"
#include "bsc/bacnet/services_read.hpp"
#include "bsc/bacnet/services_who.hpp"

namespace bsc::bacnet {

enum class RequestAction : uint8_t {
  kIgnore,       // drop silently: not for this device, not a request, or unanswerable
  kServe,        // execute `service`; its parameters below are decoded and checked
  kReject,       // answer Reject(`reason`) to the confirmed request
  kAbort,        // answer Abort(`reason`, from server) to the confirmed request
  kTransaction,  // Segment-ACK or client Abort for a response the device is sending
};

enum class DeviceService : uint8_t {
  kNone,
  kWhoIs,
  kWhoHas,
  kReadProperty,
  kReadPropertyMultiple,
  kReadRange,
  kDeviceCommunicationControl,
};

struct DeviceRequest {
  RequestAction action = RequestAction::kIgnore;
  const char* why = "";  // static text: why ignored / rejected / aborted (logs)
  Npdu npdu{};
  ApduHeader apdu{};
  DeviceService service = DeviceService::kNone;
  uint8_t reason = 0;                     // RejectReason or AbortReason
  std::span<const uint8_t> service_data{};  // the octets after the APDU header
  // Parameters of the service in `service` (the others are left default).
  WhoIs who_is{};
  WhoHas who_has{};
  ObjectPropertyRef read_property{};
  size_t rpm_references = 0;  // RPM: walk service_data with RpmParser
  ReadRangeRequest read_range{};
  DccRequest dcc{};
};

// Decodes one NPDU (the payload of an Encapsulated-NPDU). Views point into `npdu`.
DeviceRequest decode_device_request(std::span<const uint8_t> npdu) noexcept;

}  // namespace bsc::bacnet
