#include "core/buf/read_buf.h"

#include <cstring>

namespace tern {

ReadBuf::ReadBuf(std::size_t capacity)
    // Not zeroed: zeroing a 64 MiB buffer would touch every page at
    // construction. Only the padding is zeroed (mapped storage already is,
    // and writing to it would commit its last page), so a SIMD load that
    // strays into it never sees indeterminate bytes.
    : storage_(capacity + 2 * kPadding), capacity_(capacity) {
  static_assert(buf_detail::Storage::kAlignment >= kAlignment);
  if (!storage_.mapped()) {
    std::memset(storage_.data(), 0, kPadding);
    std::memset(storage_.data() + kPadding + capacity, 0, kPadding);
  }
}

void ReadBuf::compact() noexcept {
  if (begin_ == 0) return;
  const std::size_t n = end_ - begin_;
  std::memmove(base(), base() + begin_, n);
  begin_ = 0;
  end_ = n;
}

}  // namespace tern
