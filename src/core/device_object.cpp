// The values of the hub device's Device object (clause 12.11). Array and list properties
// (Object_List, Property_List, Device_Address_Binding) are written by device_objects.cpp.
#include <array>
#include <initializer_list>

#include "bsc/bacnet/enums.hpp"
#include "core/device_objects.hpp"

namespace bsc {

using namespace bacnet;
namespace prop = bacnet::property;

namespace {

// Constant for a running hub: configuration changes need a restart (clause 12.11.35 wants
// the revision to change when objects or their names change, which only a restart does).
constexpr uint32_t kDatabaseRevision = 1;
// What a client should allow for the device's answers; the device sends no requests itself.
constexpr uint32_t kApduTimeoutMs = 3000;
// The device transmits segments but takes none (segmented requests get an Abort), so it
// accepts APDUs of one segment (docs/bacnet-device.md §15).
constexpr uint32_t kMaxSegmentsAccepted = 1;

// A BIT STRING of `bits` bits with the given positions set.
template <size_t Octets>
struct Bits {
  std::array<uint8_t, Octets> octets{};
  constexpr Bits(std::initializer_list<unsigned> set) {
    for (unsigned b : set) octets[b / 8] |= uint8_t(0x80 >> (b % 8));
  }
  BitString view(unsigned bits) const {
    return BitString{octets, uint8_t(Octets * 8 - bits)};
  }
};

// The services the device executes (DS-RP-B, DS-RPM-B, DM-DDB-B, DM-DOB-B, DM-DCC-B, and
// ReadRange by position).
constexpr Bits<(service_bit::kCount + 7) / 8> kServices{
    service_bit::kReadProperty, service_bit::kReadPropertyMultiple,
    service_bit::kDeviceCommunicationControl, service_bit::kWhoHas, service_bit::kWhoIs,
    service_bit::kReadRange};
constexpr Bits<(kObjectTypeBits + 7) / 8> kObjectTypes{unsigned(ObjectType::kDevice),
                                                      unsigned(ObjectType::kNetworkPort)};

}  // namespace

void DeviceObjects::put_device_value(Writer& w, uint32_t property) const {
  switch (property) {
    case prop::kObjectIdentifier: return put_object_id(w, device_id());
    case prop::kObjectName: return put_character_string(w, object_name(device_id()));
    case prop::kObjectType: return put_enumerated(w, uint32_t(ObjectType::kDevice));
    case prop::kSystemStatus: return put_enumerated(w, kDeviceStatusOperational);
    case prop::kVendorName: return put_character_string(w, config_.vendor_name);
    case prop::kVendorIdentifier: return put_unsigned(w, config_.vendor_identifier);
    case prop::kModelName: return put_character_string(w, config_.model_name);
    case prop::kFirmwareRevision:
    case prop::kApplicationSoftwareVersion: return put_character_string(w, BSCHUB_VERSION);
    case prop::kProtocolVersion: return put_unsigned(w, 1);
    case prop::kProtocolRevision: return put_unsigned(w, kProtocolRevision);
    case prop::kProtocolServicesSupported:
      return put_bit_string(w, kServices.view(service_bit::kCount));
    case prop::kProtocolObjectTypesSupported:
      return put_bit_string(w, kObjectTypes.view(kObjectTypeBits));
    case prop::kMaxApduLengthAccepted: return put_unsigned(w, kMaxApdu);
    case prop::kSegmentationSupported:
      return put_enumerated(w, uint32_t(Segmentation::kTransmit));
    case prop::kMaxSegmentsAccepted: return put_unsigned(w, kMaxSegmentsAccepted);
    case prop::kApduSegmentTimeout: return put_unsigned(w, config_.device_segment_timeout_ms);
    case prop::kApduTimeout: return put_unsigned(w, kApduTimeoutMs);
    case prop::kNumberOfApduRetries: return put_unsigned(w, config_.device_apdu_retries);
    case prop::kDatabaseRevision: return put_unsigned(w, kDatabaseRevision);
    case prop::kDescription: return put_character_string(w, config_.description);
    case prop::kLocation: return put_character_string(w, config_.location);
    case prop::kDeviceUuid: return put_octet_string(w, config_.hub_uuid.bytes);
    default: return;
  }
}

}  // namespace bsc
