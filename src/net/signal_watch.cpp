#include "net/signal_watch.hpp"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bsc {

SignalWatch::~SignalWatch() {
  if (fd_ >= 0) ::close(fd_);
  if (!blocked_) return;
  // A signal that came after the loop stopped reading (a second SIGTERM during a graceful
  // stop) would otherwise be delivered with its default action the moment the mask lifts.
  const timespec now{0, 0};
  while (sigtimedwait(&set_, nullptr, &now) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

bool SignalWatch::block(std::initializer_list<int> signals, std::string* error) {
  sigemptyset(&set_);
  for (int s : signals) sigaddset(&set_, s);
  if (pthread_sigmask(SIG_BLOCK, &set_, &old_mask_) != 0) {
    *error = "cannot block signals";
    return false;
  }
  blocked_ = true;
  fd_ = signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd_ < 0) {
    *error = std::string("signalfd: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void SignalWatch::start(uv_loop_t* loop, Callback cb, void* data) {
  cb_ = cb;
  data_ = data;
  uv_poll_init(loop, &poll_, fd_);
  poll_.data = this;
  uv_poll_start(&poll_, UV_READABLE, on_readable);
  polling_ = true;
}

void SignalWatch::on_readable(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<SignalWatch*>(handle->data);
  if (status < 0) return;
  signalfd_siginfo info;
  // Each read takes one pending signal; the callback may close the watch, so check after it.
  while (self->polling_ && ::read(self->fd_, &info, sizeof info) == ssize_t(sizeof info))
    self->cb_(handle->loop, self->data_, int(info.ssi_signo));
}

void SignalWatch::close() {
  if (!polling_) return;
  polling_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), nullptr);
}

}  // namespace bsc
