// A bounded octet writer over a caller-provided buffer: every BACnet encoder writes through
// it. Running out of room sets overflow() and stops all further writing (nothing is ever
// written past the buffer), so an encoder can write a whole APDU and check once at the
// end; after an overflow the written octets are a cut-off encoding, to be discarded.
// Threads: a plain value, one owner.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace bsc::bacnet {

class Writer {
 public:
  explicit Writer(std::span<uint8_t> buffer) noexcept : buf_(buffer) {}

  void put(uint8_t octet) noexcept {
    if (!room(1)) return;
    buf_[len_++] = octet;
  }
  void put(std::span<const uint8_t> octets) noexcept {
    if (!room(octets.size())) return;
    if (!octets.empty()) std::memcpy(buf_.data() + len_, octets.data(), octets.size());
    len_ += octets.size();
  }
  // The low `octets` octets of `value`, most significant first (BACnet is big-endian).
  void put_be(uint64_t value, unsigned octets) noexcept {
    if (!room(octets)) return;
    for (unsigned i = octets; i-- > 0;) buf_[len_++] = uint8_t(value >> (8 * i));
  }

  size_t size() const noexcept { return len_; }
  bool overflow() const noexcept { return overflow_; }
  bool ok() const noexcept { return !overflow_; }
  std::span<const uint8_t> written() const noexcept { return {buf_.data(), len_}; }

 private:
  bool room(size_t n) noexcept {
    if (overflow_ || n > buf_.size() - len_) {
      overflow_ = true;
      return false;
    }
    return true;
  }

  std::span<uint8_t> buf_;
  size_t len_ = 0;
  bool overflow_ = false;
};

}  // namespace bsc::bacnet
