// File: storage.h
//
// Logically private: the memory behind ReadBuf and WriteBuf. Large buffers
// (kMapThreshold and up) are mapped straight from the kernel: page-aligned,
// zero-filled, committed only as pages are first touched, and returnable
// with release(). So a connection sized for 16 MiB messages that only ever
// sees small ones keeps a page or two resident, and an idle one can give
// even those back. Small buffers come from operator new.
#ifndef TERN_CORE_BUF_STORAGE_H_
#define TERN_CORE_BUF_STORAGE_H_

#include <cstddef>
#include <cstdint>
#include <utility>

namespace tern::buf_detail {

class Storage {
 public:
  static constexpr std::size_t kMapThreshold = 64 * 1024;
  static constexpr std::size_t kAlignment = 64;

  // `bytes` of storage, kAlignment-aligned. Mapped storage is zero-filled;
  // heap storage is not.
  explicit Storage(std::size_t bytes);
  Storage(Storage&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(o.size_), mapped_(o.mapped_) {}
  Storage& operator=(Storage&& o) noexcept {
    if (this != &o) {
      free();
      data_ = std::exchange(o.data_, nullptr);
      size_ = o.size_;
      mapped_ = o.mapped_;
    }
    return *this;
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() { free(); }

  std::uint8_t* data() const noexcept { return data_; }
  bool mapped() const noexcept { return mapped_; }
  // Mapped storage: hands every page back to the kernel (madvise
  // MADV_DONTNEED); they read as zero and are committed again when next
  // touched. Call it only when the bytes no longer matter. Heap: no-op.
  void release() noexcept;

 private:
  void free() noexcept;

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace tern::buf_detail

#endif  // TERN_CORE_BUF_STORAGE_H_
