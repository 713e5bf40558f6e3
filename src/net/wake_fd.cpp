#include "net/wake_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace bsc {

WakeFd::~WakeFd() {
  if (fd_ >= 0) ::close(fd_);
}

bool WakeFd::init(uv_loop_t* loop, Callback cb, void* data) {
  fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd_ < 0) return false;
  cb_ = cb;
  data_ = data;
  uv_poll_init(loop, &poll_, fd_);
  poll_.data = this;
  uv_poll_start(&poll_, UV_READABLE, on_readable);
  polling_ = true;
  return true;
}

void WakeFd::signal() {
  if (pending_.exchange(true, std::memory_order_acq_rel)) return;
  const uint64_t one = 1;
  // Cannot fail short of a counter overflow (2^64 - 1 unread writes); EINTR is not possible
  // for a non-blocking eventfd write.
  ssize_t n = ::write(fd_, &one, sizeof one);
  (void)n;
}

void WakeFd::on_readable(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<WakeFd*>(handle->data);
  if (status < 0) return;
  uint64_t count;
  ssize_t n = ::read(self->fd_, &count, sizeof count);
  (void)n;
  // Read first, then clear: a signal() after the clear writes again; one between the two saw
  // the flag still set and wrote nothing, but this exchange reads its store (acquire against
  // its release), so the callback below sees what it queued before signalling.
  self->pending_.exchange(false, std::memory_order_acq_rel);
  self->cb_(self->data_);
}

void WakeFd::close() {
  if (!polling_) return;
  polling_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), nullptr);
}

void WakeFd::unref() { uv_unref(reinterpret_cast<uv_handle_t*>(&poll_)); }

}  // namespace bsc
