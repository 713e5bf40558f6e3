#include "net/client_hello.hpp"

#include <cstring>

namespace bsc {
namespace {

constexpr uint8_t kRecordHandshake = 22;
constexpr uint8_t kClientHello = 1;
constexpr size_t kRecordHeader = 5;
constexpr size_t kMaxRecord = kMaxPeekBytes - kRecordHeader;

// Extension types (IANA).
constexpr uint16_t kExtSupportedGroups = 10;
constexpr uint16_t kExtSignatureAlgorithms = 13;
constexpr uint16_t kExtAlpn = 16;
constexpr uint16_t kExtKeyShare = 51;

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

// An opaque vector with a 16-bit length that exactly fills `len` bytes at `p`; its body.
bool vector16(const uint8_t* p, size_t len, const uint8_t** body, size_t* body_len) {
  if (len < 2 || be16(p) != len - 2) return false;
  *body = p + 2;
  *body_len = len - 2;
  return true;
}

bool u16_list(const uint8_t* p, size_t len, U16List* out) {
  const uint8_t* body;
  size_t n;
  if (!vector16(p, len, &body, &n) || n % 2 != 0) return false;
  *out = U16List{body, n};
  return true;
}

// RFC 7301 3.1: non-empty names with 8-bit lengths that exactly fill the list.
bool alpn_list(const uint8_t* p, size_t len, ClientHelloPeek* out) {
  const uint8_t* body;
  size_t n;
  if (!vector16(p, len, &body, &n) || n == 0) return false;
  for (size_t i = 0; i < n; i += 1 + body[i])
    if (body[i] == 0 || i + 1 + body[i] > n) return false;
  out->alpn = body;
  out->alpn_len = n;
  return true;
}

// RFC 8446 4.2.8: entries of group (2), key_exchange<1..2^16-1> that exactly fill the list.
bool key_share_list(const uint8_t* p, size_t len, ClientHelloPeek* out) {
  const uint8_t* body;
  size_t n;
  if (!vector16(p, len, &body, &n)) return false;
  for (size_t i = 0; i < n;) {
    if (i + 4 > n) return false;
    size_t share = be16(body + i + 2);
    if (share == 0 || i + 4 + share > n) return false;
    i += 4 + share;
  }
  out->key_shares = body;
  out->key_shares_len = n;
  return true;
}

// legacy_compression_methods and the extension block, which must end exactly at `end`. The
// extensions this peek reports are kept; a malformed block reports none of them.
bool read_extensions(const uint8_t* p, const uint8_t* end, ClientHelloPeek* r) {
  ClientHelloPeek found = *r;
  if (p >= end || size_t(end - p) < 1u + *p) return false;
  p += 1 + *p;              // compression methods
  if (p == end) return false;  // no extensions: not TLS 1.3, mbedTLS says so
  const uint8_t* block;
  size_t block_len;
  if (!vector16(p, size_t(end - p), &block, &block_len)) return false;
  for (size_t i = 0; i < block_len;) {
    if (i + 4 > block_len) return false;
    uint16_t type = be16(block + i);
    size_t len = be16(block + i + 2);
    const uint8_t* data = block + i + 4;
    if (i + 4 + len > block_len) return false;
    bool ok = true;
    switch (type) {
      case kExtSupportedGroups: ok = u16_list(data, len, &found.groups); break;
      case kExtSignatureAlgorithms: ok = u16_list(data, len, &found.signature_algorithms); break;
      case kExtAlpn: ok = alpn_list(data, len, &found); break;
      case kExtKeyShare: ok = key_share_list(data, len, &found); break;
      default: break;
    }
    if (!ok) return false;
    i += 4 + len;
  }
  *r = found;
  r->extensions_read = true;
  return true;
}

}  // namespace

bool U16List::contains(uint16_t id) const {
  for (size_t i = 0; i < size(); ++i)
    if ((*this)[i] == id) return true;
  return false;
}

bool ClientHelloPeek::offers(uint16_t suite) const {
  return status == Status::kFound && suites.contains(suite);
}

bool ClientHelloPeek::offers_alpn(std::string_view protocol) const {
  for (size_t i = 0; i < alpn_len; i += 1 + alpn[i])
    if (alpn[i] == protocol.size() && std::memcmp(alpn + i + 1, protocol.data(), alpn[i]) == 0)
      return true;
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
    }
  }
  if (!suites) {
    r.status = in.failed;
    return r;
  }
  // The rest of the hello (as much of it as this record holds) must be here before the
  // answer is final: the extensions are read from it.
  if (in.have < in.limit) {
    r.status = ClientHelloPeek::Status::kNeedMore;
    return r;
  }
  r.status = ClientHelloPeek::Status::kFound;
  r.suites = U16List{suites, size_t(be16(suites_len))};
  // A hello that spans records has its extensions cut off: they stay unread.
  if (msg_end <= record_len) read_extensions(in.body + in.pos, in.body + in.limit, &r);
  return r;
}

}  // namespace bsc
