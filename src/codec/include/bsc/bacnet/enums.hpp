// BACnet enumerations the device codec needs (ASHRAE 135 clause 21 and the clauses cited);
// values as on the wire. Only the members the hub's device uses or must recognise.
#pragma once
#include <cstdint>

namespace bsc::bacnet {

// BACnetObjectType (21).
enum class ObjectType : uint16_t { kDevice = 8, kFile = 10, kNetworkPort = 56 };

// Special property identifiers of ReadPropertyMultiple (15.7.1.1.2). Property ids are
// ENUMERATED values; the SC ones (4194304 and up) need three content octets.
namespace property {
constexpr uint32_t kAll = 8;
constexpr uint32_t kOptional = 80;
constexpr uint32_t kRequired = 105;
}  // namespace property

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
  kNodeDuplicateVmac = 151,
  kWebsocketClosedAbnormally = 173,
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
