// BACnet tag layer (ASHRAE 135 clause 20.2.1; docs/bacnet-device.md §2): the tag octet,
// extended tag numbers and lengths, opening/closing tags, and a bounds-checked Reader.
// Every decoder in bsc/bacnet/ is total: any input gives kOk or a Status, never a read
// past the input. Threads: stateless functions; Reader and Writer have one owner.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "bsc/bacnet/writer.hpp"

namespace bsc::bacnet {

// Why a decode failed. reject_reason() maps each to the Reject a confirmed request gets.
enum class Status : uint8_t {
  kOk,
  kTruncated,        // the data ends inside an item, or before a required one
  kBadTag,           // tag octets the Std does not allow (reserved forms)
  kLengthOverrun,    // a tag's length runs past the end of the data
  kUnexpectedTag,    // a tag other than the one this position requires
  kWrongType,        // an application tag of another datatype than required
  kBadLength,        // a content length the datatype does not allow
  kOutOfRange,       // a value outside its permitted range
  kBadValue,         // an enumeration value that is not defined
  kInconsistent,     // parameters that contradict each other (one limit of a pair)
  kTooMany,          // octets left after the last parameter
  kUnsupportedCharset,
};
const char* status_name(Status s);  // "truncated", ...

// Application tag numbers (clause 20.2.1.4).
enum class AppTag : uint8_t {
  kNull = 0,
  kBoolean = 1,
  kUnsigned = 2,
  kSigned = 3,
  kReal = 4,
  kDouble = 5,
  kOctetString = 6,
  kCharacterString = 7,
  kBitString = 8,
  kEnumerated = 9,
  kDate = 10,
  kTime = 11,
  kObjectId = 12,
};

// Which tag an item carries: an application tag, or context tag `number`.
struct TagId {
  uint8_t number = 0;
  bool context = false;
  friend bool operator==(const TagId&, const TagId&) = default;
};
constexpr TagId ctx(uint8_t number) { return {number, true}; }
// "The datatype's own application tag": the default of every value encoder/decoder.
constexpr TagId kApplication{0xFF, false};

enum class TagKind : uint8_t { kPrimitive, kOpening, kClosing };

struct Tag {
  TagId id{};
  TagKind kind = TagKind::kPrimitive;
  // Primitive: the content length, except an application BOOLEAN, whose value it is (the
  // tag has no content octets, clause 20.2.3).
  uint32_t length = 0;
  std::span<const uint8_t> content{};  // the content octets (primitive; empty otherwise)
  bool is_app_boolean() const { return !id.context && id.number == uint8_t(AppTag::kBoolean); }
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) noexcept : data_(data) {}

  bool at_end() const noexcept { return pos_ >= data_.size(); }
  size_t offset() const noexcept { return pos_; }
  std::span<const uint8_t> rest() const noexcept { return data_.subspan(pos_); }

  // Decodes the next tag (and, if primitive, its content) without consuming it.
  Status peek(Tag& tag) const noexcept;
  // Decodes and consumes the next tag and its content.
  Status read(Tag& tag) noexcept;
  // Consumes `n` raw octets (no tag); kTruncated if fewer remain.
  Status take(size_t n, std::span<const uint8_t>& out) noexcept;

  // True if the next tag is a primitive with this id / the opening / closing tag `number`.
  bool next_is(TagId id) const noexcept;
  bool at_opening(uint8_t number) const noexcept;
  bool at_closing(uint8_t number) const noexcept;

 private:
  std::span<const uint8_t> data_{};
  size_t pos_ = 0;
};

// Writes a tag header: a primitive with `length` content octets follows.
void put_tag(Writer& w, TagId id, uint32_t length) noexcept;
void put_opening(Writer& w, uint8_t number) noexcept;
void put_closing(Writer& w, uint8_t number) noexcept;

// Consumes opening / closing context tag `number` (kUnexpectedTag if it is not next).
Status get_opening(Reader& r, uint8_t number) noexcept;
Status get_closing(Reader& r, uint8_t number) noexcept;

// Consumes opening tag `number`, everything up to its matching closing tag (nested
// constructed values included) and that closing tag; `inside` is the octets between.
// Nesting deeper than kMaxNesting inside gives kBadTag; a closing tag that does not match
// the innermost open one, kUnexpectedTag.
// Used for values of any type (ReadProperty-ACK, RPM results, ReadRange item data).
constexpr size_t kMaxNesting = 32;
Status get_enclosed(Reader& r, uint8_t number, std::span<const uint8_t>& inside) noexcept;
// The same after the opening tag was already consumed.
Status get_until_closing(Reader& r, uint8_t number, std::span<const uint8_t>& inside) noexcept;

// A service's last parameter was decoded with `s`: kTooMany if octets remain after it.
inline Status expect_end(const Reader& r, Status s) noexcept {
  return s == Status::kOk && !r.at_end() ? Status::kTooMany : s;
}

}  // namespace bsc::bacnet
