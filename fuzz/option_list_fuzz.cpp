// libFuzzer target: bsc::parse_option_list (header-option lists, Std AB.2.3) on arbitrary
// bytes, as a destination-option list and as a data-option list.
#include <cstddef>
#include <cstdint>
#include <span>

#include "bsc/bvlc.hpp"
#include "fuzz_check.hpp"

namespace {

struct Outcome {
  bool ok;
  size_t end;
};

Outcome parse(std::span<const uint8_t> in, size_t offset, bool dest_list) {
  size_t end = 0;
  bsc::DecodeError err;
  err.why = nullptr;
  const bool ok = bsc::parse_option_list(in, offset, dest_list, &end, &err);
  if (ok) {
    FUZZ_CHECK(end > offset && end <= in.size());
  } else {
    FUZZ_CHECK(err.why != nullptr && err.why[0] != '\0');
    // The Error Header Marker, when set, is the marker of an option the list holds.
    if (err.error_marker != 0) {
      FUZZ_CHECK(err.code == bsc::ErrorCode::kHeaderEncodingError);
    }
  }
  // Without an error sink the answer is the same.
  size_t end2 = 0;
  FUZZ_CHECK(bsc::parse_option_list(in, offset, dest_list, &end2, nullptr) == ok);
  if (ok) FUZZ_CHECK(end2 == end);
  return {ok, end};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  const Outcome dest = parse(in, 0, true);
  const Outcome data_list = parse(in, 0, false);
  // The destination list is the stricter one (it also refuses Secure Path): whatever it
  // accepts, the data list accepts, with the same extent.
  if (dest.ok) FUZZ_CHECK(data_list.ok && data_list.end == dest.end);

  // The same list behind a 4-octet prefix parses the same way, shifted by 4 (offsets are
  // relative to the message start in decode()).
  if (size <= 4096) {
    uint8_t buf[4 + 4096];
    buf[0] = 0x01;
    buf[1] = 0x03;
    buf[2] = 0x00;
    buf[3] = 0x00;
    for (size_t i = 0; i < size; ++i) buf[4 + i] = data[i];
    const std::span<const uint8_t> shifted(buf, 4 + size);
    for (const bool dest_list : {true, false}) {
      const Outcome a = dest_list ? dest : data_list;
      const Outcome b = parse(shifted, 4, dest_list);
      FUZZ_CHECK(a.ok == b.ok);
      if (a.ok) FUZZ_CHECK(b.end == a.end + 4);
    }
  }
  // Offset at or past the end: always "absent".
  FUZZ_CHECK(!parse(in, size, true).ok);
  return 0;
}
