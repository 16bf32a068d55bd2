#include "backends/session/wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace tern::session::detail {

Wakeup::~Wakeup() {
  if (fd_ >= 0) ::close(fd_);
}

bool Wakeup::open() noexcept {
  if (fd_ < 0) fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return fd_ >= 0;
}

void Wakeup::signal() noexcept {
  const std::uint64_t one = 1;
  // EAGAIN only when the counter is saturated: it is readable anyway.
  (void)!::write(fd_, &one, sizeof one);
}

void Wakeup::drain() noexcept {
  std::uint64_t n;
  (void)!::read(fd_, &n, sizeof n);
}

}  // namespace tern::session::detail
