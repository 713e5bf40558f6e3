// BACnet tag octets (ASHRAE 135 clause 20.2.1): see bsc/bacnet/asn1_tags.hpp.
#include "bsc/bacnet/asn1_tags.hpp"

#include <array>

namespace bsc::bacnet {

namespace {

// Initial tag octet (20.2.1.1): tag number in bits 7..4 (0xF: an extended number octet
// follows), class in bit 3 (1 = context), length/value/type in bits 2..0.
constexpr uint8_t kClassContext = 0x08;
constexpr uint8_t kExtendedNumber = 0x0F;
constexpr uint8_t kLvtExtended = 5;
constexpr uint8_t kLvtOpening = 6;
constexpr uint8_t kLvtClosing = 7;
// Extended length octet values (20.2.1.3.1): 254 = two octets follow, 255 = four.
constexpr uint8_t kLength16 = 254;
constexpr uint8_t kLength32 = 255;

uint32_t read_be(std::span<const uint8_t> d, size_t at, unsigned n) {
  uint32_t v = 0;
  for (unsigned i = 0; i < n; ++i) v = (v << 8) | d[at + i];
  return v;
}

// Decodes the tag at `pos`; on success sets `tag` and the position after it in `end`.
Status decode_tag(std::span<const uint8_t> d, size_t pos, Tag& tag, size_t& end) {
  if (pos >= d.size()) return Status::kTruncated;
  const uint8_t first = d[pos++];
  tag = Tag{};
  tag.id.context = (first & kClassContext) != 0;
  tag.id.number = first >> 4;
  if (tag.id.number == kExtendedNumber) {
    if (pos >= d.size()) return Status::kTruncated;
    tag.id.number = d[pos++];
    if (tag.id.number == 0xFF) return Status::kBadTag;  // reserved (20.2.1.2)
  }
  const uint8_t lvt = first & 0x07;
  if (lvt == kLvtOpening || lvt == kLvtClosing) {
    if (!tag.id.context) return Status::kBadTag;  // only context tags open or close
    tag.kind = lvt == kLvtOpening ? TagKind::kOpening : TagKind::kClosing;
    end = pos;
    return Status::kOk;
  }
  uint32_t length = lvt;
  if (lvt == kLvtExtended) {
    if (pos >= d.size()) return Status::kTruncated;
    const uint8_t ext = d[pos++];
    const unsigned n = ext == kLength16 ? 2 : ext == kLength32 ? 4 : 0;
    if (n > 0) {
      if (d.size() - pos < n) return Status::kTruncated;
      length = read_be(d, pos, n);
      pos += n;
    } else {
      length = ext;
    }
  }
  tag.length = length;
  if (tag.is_app_boolean()) {
    if (length > 1) return Status::kBadLength;  // the value lives in the LVT field
    end = pos;
    return Status::kOk;
  }
  if (length > d.size() - pos) return Status::kLengthOverrun;
  tag.content = d.subspan(pos, length);
  end = pos + length;
  return Status::kOk;
}

}  // namespace

const char* status_name(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kTruncated: return "truncated";
    case Status::kBadTag: return "bad tag";
    case Status::kLengthOverrun: return "length runs past the data";
    case Status::kUnexpectedTag: return "unexpected tag";
    case Status::kWrongType: return "wrong datatype";
    case Status::kBadLength: return "bad length for the datatype";
    case Status::kOutOfRange: return "value out of range";
    case Status::kBadValue: return "undefined enumeration value";
    case Status::kInconsistent: return "inconsistent parameters";
    case Status::kTooMany: return "too many arguments";
    case Status::kUnsupportedCharset: return "character set not supported";
  }
  return "unknown";
}

Status Reader::peek(Tag& tag) const noexcept {
  size_t end = 0;
  return decode_tag(data_, pos_, tag, end);
}

Status Reader::read(Tag& tag) noexcept {
  size_t end = 0;
  const Status s = decode_tag(data_, pos_, tag, end);
  if (s == Status::kOk) pos_ = end;
  return s;
}

Status Reader::take(size_t n, std::span<const uint8_t>& out) noexcept {
  if (data_.size() - pos_ < n) return Status::kTruncated;
  out = data_.subspan(pos_, n);
  pos_ += n;
  return Status::kOk;
}

bool Reader::next_is(TagId id) const noexcept {
  Tag t;
  return peek(t) == Status::kOk && t.kind == TagKind::kPrimitive && t.id == id;
}

bool Reader::at_opening(uint8_t number) const noexcept {
  Tag t;
  return peek(t) == Status::kOk && t.kind == TagKind::kOpening && t.id == ctx(number);
}

bool Reader::at_closing(uint8_t number) const noexcept {
  Tag t;
  return peek(t) == Status::kOk && t.kind == TagKind::kClosing && t.id == ctx(number);
}

namespace {

void put_first(Writer& w, uint8_t number, bool context, uint8_t lvt) {
  const uint8_t cls = context ? kClassContext : 0;
  if (number < kExtendedNumber) {
    w.put(uint8_t(number << 4 | cls | lvt));
  } else {
    w.put(uint8_t(kExtendedNumber << 4 | cls | lvt));
    w.put(number);
  }
}

Status get_boundary(Reader& r, uint8_t number, TagKind kind) {
  Tag t;
  const Status s = r.read(t);
  if (s != Status::kOk) return s;
  return t.kind == kind && t.id == ctx(number) ? Status::kOk : Status::kUnexpectedTag;
}

}  // namespace

void put_tag(Writer& w, TagId id, uint32_t length) noexcept {
  if (length < kLvtExtended) {
    put_first(w, id.number, id.context, uint8_t(length));
    return;
  }
  put_first(w, id.number, id.context, kLvtExtended);
  if (length < kLength16) {
    w.put(uint8_t(length));
  } else if (length <= 0xFFFF) {
    w.put(kLength16);
    w.put_be(length, 2);
  } else {
    w.put(kLength32);
    w.put_be(length, 4);
  }
}

void put_opening(Writer& w, uint8_t number) noexcept { put_first(w, number, true, kLvtOpening); }
void put_closing(Writer& w, uint8_t number) noexcept { put_first(w, number, true, kLvtClosing); }

Status get_opening(Reader& r, uint8_t number) noexcept {
  return get_boundary(r, number, TagKind::kOpening);
}
Status get_closing(Reader& r, uint8_t number) noexcept {
  return get_boundary(r, number, TagKind::kClosing);
}

Status get_enclosed(Reader& r, uint8_t number, std::span<const uint8_t>& inside) noexcept {
  const Status s = get_opening(r, number);
  return s == Status::kOk ? get_until_closing(r, number, inside) : s;
}

Status get_until_closing(Reader& r, uint8_t number, std::span<const uint8_t>& inside) noexcept {
  const std::span<const uint8_t> start = r.rest();
  const size_t first = r.offset();
  // The open constructed values inside, innermost last: each must close with its own
  // number. A fixed stack, so hostile nesting costs neither heap nor call depth.
  std::array<uint8_t, kMaxNesting> open{};
  size_t depth = 0;
  for (;;) {
    const size_t before = r.offset();
    Tag t;
    const Status s = r.read(t);
    if (s != Status::kOk) return s;
    if (t.kind == TagKind::kOpening) {
      if (depth == open.size()) return Status::kBadTag;
      open[depth++] = t.id.number;
    } else if (t.kind == TagKind::kClosing) {
      const uint8_t expected = depth == 0 ? number : open[depth - 1];
      if (t.id.number != expected) return Status::kUnexpectedTag;
      if (depth == 0) {
        inside = start.first(before - first);
        return Status::kOk;
      }
      --depth;
    }
  }
}

}  // namespace bsc::bacnet
