// Reads mbedTLS 3.6 private fields: the buffer addresses and the record layer's progress
// counters have no public getter. Checked against 3.6.6; the static_assert below stops a
// build where the buffers' length is not the fixed one this relies on.
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "net/tls_record_buffers.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace bsc {
namespace {

#if defined(MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH)
#error "buffer lengths vary per session: use ssl.in_buf_len/out_buf_len instead of the *_CONTENT_LEN bounds"
#endif

// The front of each buffer holds live state between records (in TLS the incoming record
// counter is in_buf[0..8), then the record header and IV): it is never released.
constexpr size_t kLiveFront = 64;

// Each buffer is one heap allocation of at least *_CONTENT_LEN octets (plus header and
// expansion room), so [buf, buf + content_len) is always inside it.
size_t release_interior(unsigned char* buf, size_t content_len) {
  if (!buf) return 0;
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (uintptr_t(buf) + kLiveFront + page - 1) & ~(page - 1);
  uintptr_t end = (uintptr_t(buf) + content_len) & ~(page - 1);
  if (end <= begin) return 0;
  if (madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED) != 0) return 0;
  return end - begin;
}

}  // namespace

bool tls_record_buffers_idle(const mbedtls_ssl_context& ssl) {
  // Public checks first: no unread application data, no held-back message, no further
  // handshake message in the current record.
  if (mbedtls_ssl_get_bytes_avail(&ssl) != 0 || mbedtls_ssl_check_pending(&ssl) != 0)
    return false;
  // What check_pending does not see on a stream transport: a record only partly read
  // (in_left counts its octets so far), a handshake message whose fragments are being
  // gathered (3.6.3+; the field is badmac_seen in DTLS, unused by us), and ciphertext
  // not yet given to the send callback (out_left).
  if (ssl.in_left != 0 || ssl.out_left != 0) return false;
#if MBEDTLS_VERSION_NUMBER >= 0x03060300
  if (ssl.badmac_seen_or_in_hsfraglen != 0) return false;
#endif
  return true;
}

size_t tls_release_record_buffer_pages(mbedtls_ssl_context& ssl) {
  return release_interior(ssl.in_buf, MBEDTLS_SSL_IN_CONTENT_LEN) +
         release_interior(ssl.out_buf, MBEDTLS_SSL_OUT_CONTENT_LEN);
}

}  // namespace bsc
