#include "core/buf/storage.h"

#include <sys/mman.h>

#include <new>

namespace tern::buf_detail {

Storage::Storage(std::size_t bytes) : size_(bytes) {
  if (bytes >= kMapThreshold) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      data_ = static_cast<std::uint8_t*>(p);
      mapped_ = true;
      return;
    }
  }
  data_ = static_cast<std::uint8_t*>(::operator new[](bytes, std::align_val_t{kAlignment}));
}

void Storage::release() noexcept {
  if (mapped_) (void)::madvise(data_, size_, MADV_DONTNEED);
}

void Storage::free() noexcept {
  if (data_ == nullptr) return;
  if (mapped_) {
    ::munmap(data_, size_);
  } else {
    ::operator delete[](data_, std::align_val_t{kAlignment});
  }
  data_ = nullptr;
}

}  // namespace tern::buf_detail
