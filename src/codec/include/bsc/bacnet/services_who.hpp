// Device and object discovery services (ASHRAE 135 clauses 16.9 and 16.10; docs/
// bacnet-device.md §6): Who-Is / I-Am and Who-Has / I-Have. These functions encode and
// decode the service data only (what follows the APDU's fixed header); request decoders
// refuse trailing octets (kTooMany). Views point into the caller's buffer.
// Threads: stateless functions.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "bsc/bacnet/asn1_values.hpp"
#include "bsc/bacnet/enums.hpp"

namespace bsc::bacnet {

// The optional device-instance range of Who-Is and Who-Has: both limits or neither.
struct InstanceRange {
  bool present = false;
  uint32_t low = 0;
  uint32_t high = 0;
  bool contains(uint32_t instance) const { return !present || (low <= instance && instance <= high); }
};

struct WhoIs {
  InstanceRange range{};
};
Status decode_who_is(std::span<const uint8_t> data, WhoIs& out) noexcept;
void encode_who_is(Writer& w, const WhoIs& v) noexcept;

struct IAm {
  ObjectId device{};
  uint32_t max_apdu = 0;
  Segmentation segmentation = Segmentation::kNone;
  uint16_t vendor_id = 0;
};
Status decode_i_am(std::span<const uint8_t> data, IAm& out) noexcept;
void encode_i_am(Writer& w, const IAm& v) noexcept;

// Who-Has names its object by identifier ([2]) or by name ([3]).
struct WhoHas {
  InstanceRange range{};
  bool by_name = false;
  ObjectId object{};             // when !by_name
  std::string_view name{};       // when by_name (UTF-8)
};
Status decode_who_has(std::span<const uint8_t> data, WhoHas& out) noexcept;
void encode_who_has(Writer& w, const WhoHas& v) noexcept;

struct IHave {
  ObjectId device{};
  ObjectId object{};
  std::string_view name{};
};
Status decode_i_have(std::span<const uint8_t> data, IHave& out) noexcept;
void encode_i_have(Writer& w, const IHave& v) noexcept;

}  // namespace bsc::bacnet
