// File: frame_pool.h
//
// FramePool recycles coroutine frames so that steady-state traffic allocates
// nothing: a coroutine's frame (an epoll Task, a posix SyncTask, a spawned
// task) is taken from a free list of its size class and returned there when
// the coroutine ends. The first frames of each size come from operator new;
// after that, a thread running the same kinds of coroutine reuses them.
//
// One pool per thread, which for tern's epoll backend is one pool per event
// loop (a loop runs on one thread). A frame freed on another thread joins that thread's lists;
// nothing is shared, so there are no locks. Frames above kMaxPooled bytes are
// not pooled. Memory stays with the thread until it exits (then freed): the
// lists hold at most the peak number of frames alive at once.
#ifndef TERN_BACKENDS_FRAME_POOL_H_
#define TERN_BACKENDS_FRAME_POOL_H_

#include <cstddef>

namespace tern {

class FramePool {
 public:
  // Size classes are multiples of kGranule up to kMaxPooled.
  static constexpr std::size_t kGranule = 64;
  static constexpr std::size_t kMaxPooled = 8192;

  static void* allocate(std::size_t size);
  static void deallocate(void* frame, std::size_t size) noexcept;

  // This thread's frames obtained from operator new so far (for tests).
  static std::size_t fresh_allocations() noexcept;
};

}  // namespace tern

#endif  // TERN_BACKENDS_FRAME_POOL_H_
