#include "core/buf/read_buf.h"

#include <cstring>

namespace tern {

ReadBuf::ReadBuf(std::size_t capacity)
    // Value-initialized so padding never exposes indeterminate bytes to the
    // SIMD kernels that may load it (MSan/valgrind stay quiet).
    : storage_(new std::uint8_t[capacity + 2 * kPadding]()),
      capacity_(capacity) {}

void ReadBuf::compact() noexcept {
  if (begin_ == 0) return;
  const std::size_t n = end_ - begin_;
  std::memmove(base(), base() + begin_, n);
  begin_ = 0;
  end_ = n;
}

}  // namespace tern
