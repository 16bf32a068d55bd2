#include "backends/frame_pool.h"

#include <new>

namespace tern {
namespace {

struct FreeFrame {
  FreeFrame* next;
};

constexpr std::size_t kClasses = FramePool::kMaxPooled / FramePool::kGranule;

// The thread's free lists; frees everything at thread exit.
struct Lists {
  FreeFrame* heads[kClasses] = {};
  std::size_t fresh = 0;
  ~Lists() {
    for (FreeFrame*& head : heads) {
      while (head != nullptr) {
        FreeFrame* next = head->next;
        ::operator delete(head);
        head = next;
      }
    }
  }
};

thread_local Lists lists;

std::size_t size_class(std::size_t size) noexcept {
  return (size + FramePool::kGranule - 1) / FramePool::kGranule - 1;
}

}  // namespace

void* FramePool::allocate(std::size_t size) {
  if (size > kMaxPooled || size == 0) return ::operator new(size);
  const std::size_t c = size_class(size);
  if (FreeFrame* f = lists.heads[c]; f != nullptr) {
    lists.heads[c] = f->next;
    return f;
  }
  ++lists.fresh;
  return ::operator new((c + 1) * kGranule);
}

void FramePool::deallocate(void* frame, std::size_t size) noexcept {
  if (size > kMaxPooled || size == 0) {
    ::operator delete(frame);
    return;
  }
  const std::size_t c = size_class(size);
  auto* f = static_cast<FreeFrame*>(frame);
  f->next = lists.heads[c];
  lists.heads[c] = f;
}

std::size_t FramePool::fresh_allocations() noexcept { return lists.fresh; }

}  // namespace tern
