// Which objects and properties the device has, and the rules of reading them (arrays,
// lists, errors). The values themselves are in device_object.cpp and network_port_object.cpp.
#include "core/device_objects.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "bsc/bacnet/enums.hpp"

namespace bsc {

using namespace bacnet;
namespace prop = bacnet::property;

namespace {

constexpr uint16_t kDeviceType = uint16_t(ObjectType::kDevice);
constexpr uint16_t kPortType = uint16_t(ObjectType::kNetworkPort);

// The Device object (clause 12.11). Required: the properties the Std requires of every
// device, and Max_Segments_Accepted and APDU_Segment_Timeout, required of a device that
// segments (this one sends segmented responses).
constexpr PropertySpec kDeviceProperties[] = {
    {prop::kObjectIdentifier, true},
    {prop::kObjectName, true},
    {prop::kObjectType, true},
    {prop::kSystemStatus, true},
    {prop::kVendorName, true},
    {prop::kVendorIdentifier, true},
    {prop::kModelName, true},
    {prop::kFirmwareRevision, true},
    {prop::kApplicationSoftwareVersion, true},
    {prop::kProtocolVersion, true},
    {prop::kProtocolRevision, true},
    {prop::kProtocolServicesSupported, true},
    {prop::kProtocolObjectTypesSupported, true},
    {prop::kObjectList, true},
    {prop::kMaxApduLengthAccepted, true},
    {prop::kSegmentationSupported, true},
    {prop::kMaxSegmentsAccepted, true},
    {prop::kApduSegmentTimeout, true},
    {prop::kApduTimeout, true},
    {prop::kNumberOfApduRetries, true},
    {prop::kDeviceAddressBinding, true},
    {prop::kDatabaseRevision, true},
    {prop::kPropertyList, true},
    {prop::kDescription, false},
    {prop::kLocation, false},
    {prop::kDeviceUuid, false},
};

// The Network Port object of the SC port (clause 12.56, Addendum 135-2020cc). The SC block
// is optional in the Std's table; a hub port has these with truthful values. The two
// connection lists are written by port_connection_lists.cpp.
constexpr PropertySpec kPortProperties[] = {
    {prop::kObjectIdentifier, true},
    {prop::kObjectName, true},
    {prop::kObjectType, true},
    {prop::kStatusFlags, true},
    {prop::kReliability, true},
    {prop::kOutOfService, true},
    {prop::kNetworkType, true},
    {prop::kProtocolLevel, true},
    {prop::kChangesPending, true},
    {prop::kPropertyList, true},
    {prop::kNetworkNumber, false},
    {prop::kNetworkNumberQuality, false},
    {prop::kMacAddress, false},
    {prop::kApduLength, false},
    {prop::kLinkSpeed, false},
    {prop::kMaxBvlcLengthAccepted, false},
    {prop::kMaxNpduLengthAccepted, false},
    {prop::kScConnectWaitTimeout, false},
    {prop::kScDisconnectWaitTimeout, false},
    {prop::kScHeartbeatTimeout, false},
    {prop::kScHubFunctionEnable, false},
    {prop::kScHubFunctionAcceptUris, false},
    {prop::kScHubFunctionBinding, false},
    {prop::kScHubFunctionConnectionStatus, false},
    {prop::kScFailedConnectionRequests, false},
    {prop::kScDirectConnectInitiateEnable, false},
    {prop::kScDirectConnectAcceptEnable, false},
};

// Property_List leaves out these four (clause 12.1.1.4.1): every object has them.
bool in_property_list(uint32_t id) {
  return id != prop::kObjectIdentifier && id != prop::kObjectName &&
         id != prop::kObjectType && id != prop::kPropertyList;
}

// The Property_List element `index` (1-based) of `props`.
uint32_t property_list_element(std::span<const PropertySpec> props, uint32_t index) {
  for (const PropertySpec& p : props)
    if (in_property_list(p.id) && --index == 0) return p.id;
  return 0;  // not reached: the index was checked against the size
}

uint32_t property_list_size(std::span<const PropertySpec> props) {
  return uint32_t(std::count_if(props.begin(), props.end(),
                                [](const PropertySpec& p) { return in_property_list(p.id); }));
}

constexpr ErrorPair property_error(bacnet::ErrorCode e) {
  return ErrorPair{uint32_t(bacnet::ErrorClass::kProperty), uint32_t(e)};
}

// "HOST:PORT" of a "wss://HOST:PORT" URI.
std::string authority(const std::string& uri) {
  size_t at = uri.find("://");
  return at == std::string::npos ? uri : uri.substr(at + 3);
}

}  // namespace

DeviceObjects::DeviceObjects(const Config& config, std::string hub_uri)
    : config_(config), hub_uri_(std::move(hub_uri)), binding_(authority(hub_uri_)) {}

ObjectId DeviceObjects::device_id() const {
  return ObjectId{kDeviceType, uint32_t(config_.device_instance)};
}

std::optional<ObjectId> DeviceObjects::resolve(ObjectId id) const {
  if (id.type == kDeviceType &&
      (id.instance == ObjectId::kMaxInstance || id.instance == device_id().instance))
    return device_id();
  if (id.type == kPortType &&
      (id.instance == ObjectId::kMaxInstance || id.instance == kNetworkPortInstance))
    return ObjectId{kPortType, kNetworkPortInstance};
  return std::nullopt;
}

std::optional<ObjectId> DeviceObjects::find(ObjectId id) const {
  if (id.instance == ObjectId::kMaxInstance) return std::nullopt;
  return resolve(id);
}

std::optional<ObjectId> DeviceObjects::find(std::string_view name) const {
  for (ObjectId id : {device_id(), ObjectId{kPortType, kNetworkPortInstance}})
    if (object_name(id) == name) return id;
  return std::nullopt;
}

std::string_view DeviceObjects::object_name(ObjectId object) const {
  if (object.type == kDeviceType) return config_.device_name;
  return kNetworkPortName;
}

std::span<const PropertySpec> DeviceObjects::properties(ObjectId object) const {
  if (object.type == kDeviceType) return kDeviceProperties;
  return kPortProperties;
}

bool DeviceObjects::has_property(ObjectId object, uint32_t property) const {
  auto props = properties(object);
  return std::any_of(props.begin(), props.end(),
                     [&](const PropertySpec& p) { return p.id == property; });
}

std::optional<uint32_t> DeviceObjects::array_size(ObjectId object, uint32_t property) const {
  switch (property) {
    case prop::kPropertyList:
      return property_list_size(properties(object));
    case prop::kObjectList:
      return object.type == kDeviceType ? std::optional<uint32_t>(2) : std::nullopt;
    case prop::kScHubFunctionAcceptUris:
      if (object.type != kPortType) return std::nullopt;
      return uint32_t(config_.accept_uris.empty() ? 1 : config_.accept_uris.size());
    default:
      return std::nullopt;
  }
}

std::optional<ErrorPair> DeviceObjects::error_of(ObjectId object, const PropertyRef& ref) const {
  if (!has_property(object, ref.property))
    return property_error(bacnet::ErrorCode::kUnknownProperty);
  if (!ref.has_index) return std::nullopt;
  std::optional<uint32_t> size = array_size(object, ref.property);
  // A BACnetLIST (Device_Address_Binding, the SC connection lists) takes no index either
  // (docs/bacnet-device.md §7).
  if (!size) return property_error(bacnet::ErrorCode::kPropertyIsNotAnArray);
  if (ref.index > *size) return property_error(bacnet::ErrorCode::kInvalidArrayIndex);
  return std::nullopt;
}

void DeviceObjects::put_value(Writer& w, ObjectId object, const PropertyRef& ref) const {
  if (ref.has_index) {
    if (ref.index == 0) put_unsigned(w, *array_size(object, ref.property));
    else put_element(w, object, ref.property, ref.index);
    return;
  }
  if (std::optional<uint32_t> size = list_size(object, ref.property)) {
    // Stops early once the reply is too long (the Writer overflowed): it becomes an Abort.
    for (uint32_t i = 1; i <= *size && !w.overflow(); ++i)
      put_list_element(w, object, ref.property, i);
    return;
  }
  if (object.type == kDeviceType) put_device_value(w, ref.property);
  else put_port_value(w, ref.property);
}

void DeviceObjects::put_element(Writer& w, ObjectId object, uint32_t property,
                                uint32_t index) const {
  switch (property) {
    case prop::kPropertyList:
      put_enumerated(w, property_list_element(properties(object), index));
      return;
    case prop::kObjectList:
      put_object_id(w, index == 1 ? device_id() : ObjectId{kPortType, kNetworkPortInstance});
      return;
    case prop::kScHubFunctionAcceptUris:
      // --accept-uri replaces the listen URI: nodes are told where to connect from outside.
      put_character_string(w, config_.accept_uris.empty() ? std::string_view(hub_uri_)
                                                          : config_.accept_uris[index - 1]);
      return;
    default:
      return;
  }
}

std::optional<uint32_t> DeviceObjects::list_length(ObjectId object, uint32_t property) const {
  switch (property) {
    case prop::kDeviceAddressBinding:  // empty: the device binds no one
      return object.type == kDeviceType ? std::optional<uint32_t>(0) : std::nullopt;
    default:
      return object.type == kPortType ? port_list_length(property) : std::nullopt;
  }
}

void DeviceObjects::put_list_entry(Writer& w, ObjectId object, uint32_t property,
                                   uint32_t index) const {
  // Device_Address_Binding is empty: only the port's lists have entries.
  if (object.type == kPortType) put_port_list_entry(w, property, index);
}

std::optional<uint32_t> DeviceObjects::list_size(ObjectId object, uint32_t property) const {
  if (!has_property(object, property)) return std::nullopt;
  if (std::optional<uint32_t> n = array_size(object, property)) return n;
  return list_length(object, property);
}

void DeviceObjects::put_list_element(Writer& w, ObjectId object, uint32_t property,
                                     uint32_t index) const {
  if (array_size(object, property)) put_element(w, object, property, index);
  else put_list_entry(w, object, property, index);
}

}  // namespace bsc
