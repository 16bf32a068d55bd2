#include "core/buf/read_buf.h"

#include <cstring>

namespace tern {

ReadBuf::ReadBuf(std::size_t capacity)
    // Default-initialized: zeroing a 64 MiB buffer would touch every page at
    // construction. Only the padding is zeroed, so a SIMD load that strays
    // into it never sees indeterminate bytes.
    : storage_(static_cast<std::uint8_t*>(::operator new[](
          capacity + 2 * kPadding, std::align_val_t{kAlignment}))),
      capacity_(capacity) {
  std::memset(storage_.get(), 0, kPadding);
  std::memset(storage_.get() + kPadding + capacity, 0, kPadding);
}

void ReadBuf::compact() noexcept {
  if (begin_ == 0) return;
  const std::size_t n = end_ - begin_;
  std::memmove(base(), base() + begin_, n);
  begin_ = 0;
  end_ = n;
}

}  // namespace tern
