// mbedTLS's two record buffers (16 KiB in + 16 KiB out, allocated once per session by
// mbedtls_ssl_setup) as memory: whether they hold anything mbedTLS still needs, and giving
// their physical pages back to the kernel when they do not.
// The one place that reads mbedTLS private fields; TlsSession::release_idle_buffers() is the
// caller. Threads: [owner] of the session.
#pragma once
#include <mbedtls/ssl.h>

#include <cstddef>

namespace bsc {

// True when neither record buffer holds a partial or unprocessed record: nothing half-read
// (incoming record or handshake fragment), nothing read but not yet consumed, nothing
// encrypted but not yet handed to the send callback.
bool tls_record_buffers_idle(const mbedtls_ssl_context& ssl);

// Releases the whole pages inside both buffers (madvise MADV_DONTNEED: they read back as
// zeros when next touched). REQUIRES: tls_record_buffers_idle(ssl). Returns the octets
// released (0 if madvise failed).
size_t tls_release_record_buffer_pages(mbedtls_ssl_context& ssl);

}  // namespace bsc
