#include "net/client_hello.hpp"

namespace bsc {
namespace {

constexpr uint8_t kRecordHandshake = 22;
constexpr uint8_t kClientHello = 1;
constexpr size_t kRecordHeader = 5;
constexpr size_t kMaxRecord = kMaxPeekBytes - kRecordHeader;

uint16_t be16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }

// Walks the first record's body field by field. `have` bytes of it are here; `limit` is
// where the field being read must end (the record, or the ClientHello if that is shorter).
// A field past `limit` can never become readable (malformed, or a hello spanning records):
// undecidable. A field inside `limit` but past `have` waits for more bytes.
struct Reader {
  const uint8_t* body;
  size_t have, limit;
  size_t pos = 0;
  ClientHelloPeek::Status failed = ClientHelloPeek::Status::kUndecidable;

  const uint8_t* take(size_t n) {
    if (pos + n > limit) {
      failed = ClientHelloPeek::Status::kUndecidable;
      return nullptr;
    }
    if (pos + n > have) {
      failed = ClientHelloPeek::Status::kNeedMore;
      return nullptr;
    }
    const uint8_t* p = body + pos;
    pos += n;
    return p;
  }
};

}  // namespace

bool ClientHelloPeek::offers(uint16_t suite) const {
  if (status != Status::kFound) return false;
  for (size_t i = 0; i + 1 < suites_len; i += 2)
    if (be16(suites + i) == suite) return true;
  return false;
}

ClientHelloPeek peek_client_hello(const uint8_t* data, size_t len) {
  ClientHelloPeek r;  // kUndecidable until proven otherwise
  // Judge each header byte as soon as it is here: garbage (an SSLv2 hello, plain HTTP) is
  // undecidable at once instead of waiting for a record that never comes.
  if (len >= 1 && data[0] != kRecordHandshake) return r;
  if (len >= 2 && data[1] != 3) return r;  // legacy record version 3.x
  if (len < kRecordHeader) {
    r.status = ClientHelloPeek::Status::kNeedMore;
    return r;
  }
  size_t record_len = be16(data + 3);
  if (record_len == 0 || record_len > kMaxRecord) return r;
  size_t have = len - kRecordHeader;
  Reader in{data + kRecordHeader, have < record_len ? have : record_len, record_len};

  const uint8_t* p = in.take(4);  // msg_type (1), length (3)
  if (!p) {
    r.status = in.failed;
    return r;
  }
  if (p[0] != kClientHello) return r;
  size_t msg_end = 4 + ((size_t(p[1]) << 16) | (size_t(p[2]) << 8) | p[3]);
  if (msg_end < in.limit) in.limit = msg_end;

  const uint8_t* session_id_len = nullptr;
  const uint8_t* suites_len = nullptr;
  const uint8_t* suites = nullptr;
  // legacy_version (2) + random (32), legacy_session_id <0..32>, cipher_suites <2..2^16-2>.
  if (in.take(2 + 32) && (session_id_len = in.take(1))) {
    if (*session_id_len > 32) return r;
    if (in.take(*session_id_len) && (suites_len = in.take(2))) {
      size_t n = be16(suites_len);
      if (n == 0 || n % 2 != 0) return r;
      suites = in.take(n);
      if (suites) {
        r.status = ClientHelloPeek::Status::kFound;
        r.suites = suites;
        r.suites_len = n;
        return r;
      }
    }
  }
  r.status = in.failed;
  return r;
}

}  // namespace bsc
