// File: sync_task.h
//
// SyncTask<T> and Ready<T> let code written once as a coroutine over the
// Backend concept (pools, sessions, the interop programs) run on the
// blocking posix backend. A SyncTask starts at once and runs to its end
// before the call that created it returns, because everything it awaits is a
// Ready: a value already computed by a blocking call. So on posix
// `co_await B::recv(ws)` is just ws.recv(), and the same source runs as a
// suspending coroutine on epoll and Asio.
//
// A SyncTask must only await Ready values or other SyncTasks (a suspending
// awaitable would leave it stuck; get() aborts in that case). Frames come
// from FramePool. Not thread-safe; each thread runs its own.
//
//   tern::SyncTask<absl::Status> hello() {
//     absl::StatusOr<int> v = co_await tern::Ready<absl::StatusOr<int>>{42};
//     co_return v.status();
//   }
//   absl::Status st = hello().get();
#ifndef TERN_BACKENDS_SYNC_TASK_H_
#define TERN_BACKENDS_SYNC_TASK_H_

#include <coroutine>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

#include "backends/frame_pool.h"

namespace tern {

// An awaitable that already holds its result.
template <typename T>
struct Ready {
  T value;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  T await_resume() noexcept { return std::move(value); }
};
template <typename T>
Ready(T) -> Ready<T>;

template <typename T>
class [[nodiscard]] SyncTask {
 public:
  struct promise_type {
    promise_type() noexcept {}
    ~promise_type() {
      if (has_value) value.~T();
    }
    static void* operator new(std::size_t size) { return FramePool::allocate(size); }
    static void operator delete(void* frame, std::size_t size) noexcept { FramePool::deallocate(frame, size); }
    SyncTask get_return_object() noexcept {
      return SyncTask(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    template <typename U>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
      ::new (static_cast<void*>(&value)) T(std::forward<U>(v));
      has_value = true;
    }
    [[noreturn]] void unhandled_exception() noexcept { std::abort(); }

    union {
      T value;
    };
    bool has_value = false;
  };

  SyncTask(SyncTask&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  SyncTask& operator=(SyncTask&&) = delete;
  ~SyncTask() {
    if (h_) h_.destroy();
  }

  // The result; the task has already run.
  T get() && noexcept {
    if (!h_.done()) std::abort();  // it awaited something that suspends
    return std::move(h_.promise().value);
  }
  // Awaiting a SyncTask from another one: it is already done.
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  T await_resume() noexcept { return std::move(*this).get(); }

 private:
  explicit SyncTask(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

}  // namespace tern

#endif  // TERN_BACKENDS_SYNC_TASK_H_
