// The values of the hub device's Network Port object for its SC port (clause 12.56,
// Addendum 135-2020cc), from the running configuration. Array properties (Property_List,
// SC_Hub_Function_Accept_URIs) are written by device_objects.cpp.
#include <cmath>

#include "bsc/bacnet/enums.hpp"
#include "core/device_objects.hpp"

namespace bsc {

using namespace bacnet;
namespace prop = bacnet::property;

namespace {

// The SC timeouts are Unsigned seconds; the hub's are configured as fractional seconds.
uint64_t whole_seconds(double s) { return uint64_t(std::llround(s)); }

constexpr uint8_t kNoStatusFlags[] = {0x00};  // in-alarm, fault, overridden, out-of-service

}  // namespace

void DeviceObjects::put_port_value(Writer& w, uint32_t property) const {
  switch (property) {
    case prop::kObjectIdentifier:
      return put_object_id(w, ObjectId{uint16_t(ObjectType::kNetworkPort), kNetworkPortInstance});
    case prop::kObjectName: return put_character_string(w, kNetworkPortName);
    case prop::kObjectType: return put_enumerated(w, uint32_t(ObjectType::kNetworkPort));
    case prop::kStatusFlags: return put_bit_string(w, BitString{kNoStatusFlags, 4});
    case prop::kReliability: return put_enumerated(w, kReliabilityNoFaultDetected);
    case prop::kOutOfService: return put_boolean(w, false);
    case prop::kNetworkType: return put_enumerated(w, kNetworkTypeSecureConnect);
    case prop::kProtocolLevel: return put_enumerated(w, kProtocolLevelBacnetApplication);
    case prop::kChangesPending: return put_boolean(w, false);
    case prop::kNetworkNumber: return put_unsigned(w, config_.network_number);
    case prop::kNetworkNumberQuality:
      return put_enumerated(w, config_.network_number != 0 ? kNetworkNumberConfigured
                                                           : kNetworkNumberUnknown);
    case prop::kMacAddress: return put_octet_string(w, config_.hub_vmac.bytes);
    case prop::kApduLength: return put_unsigned(w, kMaxApdu);
    case prop::kLinkSpeed: return put_real(w, 0.0f);  // not known (a virtual link)
    case prop::kMaxBvlcLengthAccepted: return put_unsigned(w, config_.max_bvlc_length);
    case prop::kMaxNpduLengthAccepted: return put_unsigned(w, config_.max_npdu_length);
    case prop::kScConnectWaitTimeout: return put_unsigned(w, whole_seconds(config_.connect_wait_s));
    case prop::kScDisconnectWaitTimeout:
      return put_unsigned(w, whole_seconds(config_.disconnect_wait_s));
    case prop::kScHeartbeatTimeout:
      return put_unsigned(w, whole_seconds(config_.heartbeat_timeout_s));
    case prop::kScHubFunctionEnable: return put_boolean(w, true);
    case prop::kScHubFunctionBinding: return put_character_string(w, binding_);
    // The hub accepts no direct connections and initiates none (it is a hub only).
    case prop::kScDirectConnectInitiateEnable:
    case prop::kScDirectConnectAcceptEnable: return put_boolean(w, false);
    default: return;
  }
}

}  // namespace bsc
