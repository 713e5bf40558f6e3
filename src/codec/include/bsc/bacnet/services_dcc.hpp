// DeviceCommunicationControl request (ASHRAE 135 clause 16.1; docs/bacnet-device.md §9).
// The reply is a SimpleACK or an Error (apdu.hpp). Service data only.
// Threads: stateless functions.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "bsc/bacnet/asn1_values.hpp"

namespace bsc::bacnet {

enum class EnableDisable : uint8_t { kEnable = 0, kDisable = 1, kDisableInitiation = 2 };

constexpr size_t kMaxDccPasswordChars = 20;  // CharacterString SIZE(1..20)
// Whether `password` (UTF-8) has 1..20 characters, counted as characters, not octets.
bool valid_dcc_password_length(std::string_view password) noexcept;

struct DccRequest {
  bool has_duration = false;
  uint16_t duration_minutes = 0;  // [0] Unsigned16, absent = indefinite
  EnableDisable state = EnableDisable::kEnable;
  bool has_password = false;
  std::string_view password{};      // UTF-8, 1..20 characters
};
// kBadValue: an undefined enable-disable value; kOutOfRange: duration above 65535 or a
// password of 0 or more than 20 characters.
Status decode_dcc(std::span<const uint8_t> data, DccRequest& out) noexcept;
void encode_dcc(Writer& w, const DccRequest& v) noexcept;

}  // namespace bsc::bacnet
