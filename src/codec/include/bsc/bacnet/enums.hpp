// BACnet enumerations the device codec needs (ASHRAE 135 clause 21 and the clauses cited);
// values as on the wire. Only the members the hub's device uses or must recognise.
#pragma once
#include <cstdint>

namespace bsc::bacnet {

// BACnetObjectType (21).
enum class ObjectType : uint16_t { kDevice = 8, kFile = 10, kNetworkPort = 56 };

// BACnetPropertyIdentifier (21). Property ids are ENUMERATED values; the SC ones (Addendum
// 135-2020cc, 4194304 and up) need three content octets.
namespace property {
// Special identifiers of ReadPropertyMultiple (15.7.1.1.2).
constexpr uint32_t kAll = 8;
constexpr uint32_t kOptional = 80;
constexpr uint32_t kRequired = 105;
// Device object (12.11).
constexpr uint32_t kApplicationSoftwareVersion = 12;
constexpr uint32_t kApduSegmentTimeout = 10;
constexpr uint32_t kApduTimeout = 11;
constexpr uint32_t kDescription = 28;
constexpr uint32_t kDeviceAddressBinding = 30;
constexpr uint32_t kFirmwareRevision = 44;
constexpr uint32_t kLocation = 58;
constexpr uint32_t kMaxApduLengthAccepted = 62;
constexpr uint32_t kModelName = 70;
constexpr uint32_t kNumberOfApduRetries = 73;
constexpr uint32_t kObjectIdentifier = 75;
constexpr uint32_t kObjectList = 76;
constexpr uint32_t kObjectName = 77;
constexpr uint32_t kObjectType = 79;
constexpr uint32_t kOutOfService = 81;
constexpr uint32_t kProtocolObjectTypesSupported = 96;
constexpr uint32_t kProtocolServicesSupported = 97;
constexpr uint32_t kProtocolVersion = 98;
constexpr uint32_t kReliability = 103;
constexpr uint32_t kSegmentationSupported = 107;
constexpr uint32_t kStatusFlags = 111;
constexpr uint32_t kSystemStatus = 112;
constexpr uint32_t kVendorIdentifier = 120;
constexpr uint32_t kVendorName = 121;
constexpr uint32_t kProtocolRevision = 139;
constexpr uint32_t kDatabaseRevision = 155;
constexpr uint32_t kMaxSegmentsAccepted = 167;
constexpr uint32_t kPropertyList = 371;
constexpr uint32_t kDeviceUuid = 507;
// Network Port object (12.56), and its BACnet/SC block.
constexpr uint32_t kApduLength = 399;
constexpr uint32_t kChangesPending = 416;
constexpr uint32_t kLinkSpeed = 420;
constexpr uint32_t kMacAddress = 423;
constexpr uint32_t kNetworkNumber = 425;
constexpr uint32_t kNetworkNumberQuality = 426;
constexpr uint32_t kNetworkType = 427;
constexpr uint32_t kProtocolLevel = 482;
constexpr uint32_t kMaxBvlcLengthAccepted = 4194304;
constexpr uint32_t kMaxNpduLengthAccepted = 4194305;
constexpr uint32_t kScConnectWaitTimeout = 4194308;
constexpr uint32_t kScDirectConnectAcceptEnable = 4194309;
constexpr uint32_t kScDirectConnectInitiateEnable = 4194313;
constexpr uint32_t kScDisconnectWaitTimeout = 4194314;
constexpr uint32_t kScFailedConnectionRequests = 4194315;
constexpr uint32_t kScHubFunctionAcceptUris = 4194319;
constexpr uint32_t kScHubFunctionBinding = 4194320;
constexpr uint32_t kScHubFunctionConnectionStatus = 4194321;
constexpr uint32_t kScHubFunctionEnable = 4194322;
constexpr uint32_t kScHeartbeatTimeout = 4194323;
}  // namespace property

// BACnetServicesSupported bit positions (21): which services a device executes.
namespace service_bit {
constexpr unsigned kReadProperty = 12;
constexpr unsigned kReadPropertyMultiple = 14;
constexpr unsigned kDeviceCommunicationControl = 17;
constexpr unsigned kWhoHas = 33;
constexpr unsigned kWhoIs = 34;
constexpr unsigned kReadRange = 35;
// The string's length at Protocol_Revision 24..28.
constexpr unsigned kCount = 49;
}  // namespace service_bit
// BACnetObjectTypesSupported has one bit per object type; 65 bits at revisions 24..30.
constexpr unsigned kObjectTypeBits = 65;

// Values of the Device's and Network Port's enumerated properties (21).
constexpr uint32_t kDeviceStatusOperational = 0;      // BACnetDeviceStatus
constexpr uint32_t kReliabilityNoFaultDetected = 0;   // BACnetReliability
constexpr uint32_t kNetworkTypeSecureConnect = 11;    // BACnetNetworkType
constexpr uint32_t kProtocolLevelBacnetApplication = 2;  // BACnetProtocolLevel
// BACnetNetworkNumberQuality.
constexpr uint32_t kNetworkNumberUnknown = 0;
constexpr uint32_t kNetworkNumberConfigured = 3;

// BACnetConfirmedServiceChoice (21).
enum class ConfirmedService : uint8_t {
  kReadProperty = 12,
  kReadPropertyMultiple = 14,
  kWriteProperty = 15,
  kDeviceCommunicationControl = 17,
  kReadRange = 26,
};

// BACnetUnconfirmedServiceChoice (21).
enum class UnconfirmedService : uint8_t {
  kIAm = 0,
  kIHave = 1,
  kWhoHas = 7,
  kWhoIs = 8,
};

// BACnetSegmentation (21).
enum class Segmentation : uint8_t { kBoth = 0, kTransmit = 1, kReceive = 2, kNone = 3 };

// Error class (18; the Error PDU's first ENUMERATED).
enum class ErrorClass : uint16_t {
  kDevice = 0,
  kObject = 1,
  kProperty = 2,
  kResources = 3,
  kSecurity = 4,
  kServices = 5,
  kVt = 6,
  kCommunication = 7,
};

// Error codes (18) the device sends or reports in its SC connection lists.
enum class ErrorCode : uint16_t {
  kOther = 0,
  kConfigurationInProgress = 2,
  kDeviceBusy = 3,
  kInconsistentParameters = 7,
  kInvalidDataType = 9,
  kMissingRequiredParameter = 16,
  kPropertyIsNotAList = 22,
  kPasswordFailure = 26,
  kReadAccessDenied = 27,
  kServiceRequestDenied = 29,
  kTimeout = 30,
  kUnknownObject = 31,
  kUnknownProperty = 32,
  kValueOutOfRange = 37,
  kWriteAccessDenied = 40,
  kInvalidArrayIndex = 42,
  kOptionalFunctionalityNotSupported = 45,
  kPropertyIsNotAnArray = 50,
  kAccessDenied = 85,
  kNodeDuplicateVmac = 151,
  kHttpUpgradeError = 162,
  kWebsocketClosedByPeer = 169,
  kWebsocketProtocolError = 171,
  kWebsocketDataNotAccepted = 172,
  kWebsocketClosedAbnormally = 173,
  kTlsClientCertificateError = 180,
  kTlsClientCertificateRevoked = 186,
  kTlsError = 188,
};

// BACnetRejectReason (18.9; 21).
enum class RejectReason : uint8_t {
  kOther = 0,
  kBufferOverflow = 1,
  kInconsistentParameters = 2,
  kInvalidParameterDataType = 3,
  kInvalidTag = 4,
  kMissingRequiredParameter = 5,
  kParameterOutOfRange = 6,
  kTooManyArguments = 7,
  kUndefinedEnumeration = 8,
  kUnrecognizedService = 9,
};

// BACnetAbortReason (18.10; 21).
enum class AbortReason : uint8_t {
  kOther = 0,
  kBufferOverflow = 1,
  kInvalidApduInThisState = 2,
  kPreemptedByHigherPriorityTask = 3,
  kSegmentationNotSupported = 4,
  kSecurityError = 5,
  kInsufficientSecurity = 6,
  kWindowSizeOutOfRange = 7,
  kApplicationExceededReplyTime = 8,
  kOutOfResources = 9,
  kTsmTimeout = 10,
  kApduTooLong = 11,
};

}  // namespace bsc::bacnet
