// File: handler_memory.h
//
// HandlerMemory is a connection's own memory for the operations Asio
// allocates on its behalf (a socket read or write in flight, a timer wait, a
// completion posted for later): a few fixed blocks inside the connection,
// handed out through HandlerAllocator, the associated allocator of every
// internal handler. So steady-state traffic allocates nothing, whatever the
// thread's recycling cache holds (Asio 1.22 keeps two blocks per purpose and
// per thread, which one thread serving many connections outgrows).
//
// A request larger than a block, or made while every block is taken, falls
// back to operator new and is counted in overflows() (tests assert zero).
// Allocation and release may happen on different threads (Asio frees an
// operation's memory before dispatching its handler through a strand), so
// the block map is atomic.
#ifndef TERN_BACKENDS_ASIO_HANDLER_MEMORY_H_
#define TERN_BACKENDS_ASIO_HANDLER_MEMORY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace tern::asio::detail {

class HandlerMemory {
 public:
  // Fits a socket operation (Asio's op, its buffers and handler_work: 224
  // bytes on x86-64 with Asio 1.22), a timer wait (184) and a posted
  // completion (48); the zero-allocation tests in tests/asio check that
  // nothing overflowed.
  static constexpr std::size_t kBlockSize = 256;
  // A read and a write in flight, two timer waits (a re-armed deadline
  // overlaps the cancelled wait), two posted completions, one spare.
  static constexpr std::size_t kBlocks = 8;

  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  void* allocate(std::size_t size, std::size_t align) {
    if (size <= kBlockSize && align <= alignof(std::max_align_t)) {
      std::uint32_t used = used_.load(std::memory_order_relaxed);
      while (used != kAllUsed) {
        const int i = __builtin_ctz(~used);
        if (used_.compare_exchange_weak(used, used | (1u << i), std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
          return blocks_[i];
        }
      }
    }
    overflows_.fetch_add(1, std::memory_order_relaxed);
    return ::operator new(size, std::align_val_t{align < alignof(std::max_align_t) ? alignof(std::max_align_t)
                                                                                      : align});
  }

  void deallocate(void* p, std::size_t size, std::size_t align) noexcept {
    auto* b = static_cast<unsigned char*>(p);
    if (b >= &blocks_[0][0] && b < &blocks_[0][0] + sizeof blocks_) {
      const auto i = static_cast<std::uint32_t>((b - &blocks_[0][0]) / kBlockSize);
      used_.fetch_and(~(1u << i), std::memory_order_release);
      return;
    }
    (void)size;
    ::operator delete(p, std::align_val_t{align < alignof(std::max_align_t) ? alignof(std::max_align_t) : align});
  }

  // Requests served by operator new so far.
  std::size_t overflows() const noexcept { return overflows_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::uint32_t kAllUsed = (1u << kBlocks) - 1;
  static_assert(kBlocks < 32);

  alignas(std::max_align_t) unsigned char blocks_[kBlocks][kBlockSize];
  std::atomic<std::uint32_t> used_{0};
  std::atomic<std::size_t> overflows_{0};
};

// The associated allocator of a connection's internal handlers.
template <typename T>
class HandlerAllocator {
 public:
  using value_type = T;

  explicit HandlerAllocator(HandlerMemory* memory) noexcept : memory_(memory) {}
  template <typename U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n, alignof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { memory_->deallocate(p, sizeof(T) * n, alignof(T)); }

  template <typename U>
  bool operator==(const HandlerAllocator<U>& other) const noexcept {
    return memory_ == other.memory_;
  }
  template <typename U>
  bool operator!=(const HandlerAllocator<U>& other) const noexcept {
    return memory_ != other.memory_;
  }

 private:
  template <typename U>
  friend class HandlerAllocator;
  HandlerMemory* memory_;
};

}  // namespace tern::asio::detail

#endif  // TERN_BACKENDS_ASIO_HANDLER_MEMORY_H_
