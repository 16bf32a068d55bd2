// File: task.h
//
// Task<T> is the coroutine type of the epoll backend: a lazily started
// computation that produces a T (absl::Status or absl::StatusOr<U> by
// convention; void is allowed). Awaiting a Task starts it. Errors are values:
// a Task never throws, and an exception escaping one aborts the process.
//
// Resumption: a task that finishes while it is being started (it never
// suspended) hands control back by returning from the start, and its caller
// continues without suspending at all; one that finishes later resumes its
// caller by symmetric transfer (its handle returned from final_suspend). So
// a loop of many awaits that complete at once keeps the stack flat in every
// build, including -O0 and sanitizer builds, where GCC emits no tail call
// for symmetric transfer; only nesting (a task awaiting a task awaiting ...)
// deepens the stack, as recursion does.
//
// Ownership: a Task owns its coroutine frame and destroys it (with every
// local, and any Task that frame was awaiting) when the Task is destroyed.
// Frames come from FramePool, so a loop that keeps running the same
// coroutines allocates nothing after warming up.
//
// A Task runs on the loop that resumes it; it is not thread-safe. To run one
// detached, hand it to EventLoop::spawn().
//
//   tern::epoll::Task<absl::StatusOr<int>> answer() { co_return 42; }
//   tern::epoll::Task<absl::Status> caller() {
//     absl::StatusOr<int> v = co_await answer();
//     co_return v.status();
//   }
#ifndef TERN_BACKENDS_EPOLL_TASK_H_
#define TERN_BACKENDS_EPOLL_TASK_H_

#include <coroutine>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

#include "backends/frame_pool.h"

namespace tern::epoll {

template <typename T = void>
class Task;

namespace detail {

struct TaskPromiseBase {
  // Resumed when the task ends: the awaiting coroutine, or nothing.
  std::coroutine_handle<> continuation = std::noop_coroutine();
  // Where the awaiting coroutine is: still inside the start (kStarting),
  // told the task finished there (kFinishedAtStart), or suspended (kIdle).
  enum class Start : unsigned char { kIdle, kStarting, kFinishedAtStart };
  Start start = Start::kIdle;

  static void* operator new(std::size_t size) { return ::tern::FramePool::allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    ::tern::FramePool::deallocate(frame, size);
  }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      TaskPromiseBase& p = self.promise();
      if (p.start == Start::kStarting) {
        // The caller is still in its await_suspend: return to it.
        p.start = Start::kFinishedAtStart;
        return std::noop_coroutine();
      }
      return p.continuation;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  // tern does not use exceptions; one escaping a task is a bug.
  [[noreturn]] void unhandled_exception() noexcept { std::abort(); }
};

template <typename T>
struct TaskPromise : TaskPromiseBase {
  TaskPromise() noexcept {}
  ~TaskPromise() {
    if (has_value) value.~T();
  }
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    ::new (static_cast<void*>(&value)) T(std::forward<U>(v));
    has_value = true;
  }
  T take() noexcept { return std::move(value); }

  union {
    T value;
  };
  bool has_value = false;
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() noexcept {}
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle h) noexcept : h_(h) {}
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(h_); }
  bool done() const noexcept { return !h_ || h_.done(); }

  struct Awaiter {
    Handle h;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      promise_type& p = h.promise();
      p.continuation = awaiting;
      p.start = detail::TaskPromiseBase::Start::kStarting;
      h.resume();
      if (p.start == detail::TaskPromiseBase::Start::kFinishedAtStart) return false;  // go on
      p.start = detail::TaskPromiseBase::Start::kIdle;
      return true;  // it suspended: it resumes us when it ends
    }
    T await_resume() noexcept { return h.promise().take(); }
  };
  // Starts the task and suspends the caller until it ends. Await once.
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

  // For the loop's spawn(): the frame, handed over.
  Handle release() noexcept { return std::exchange(h_, {}); }

 private:
  Handle h_;
};

namespace detail {
template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace tern::epoll

#endif  // TERN_BACKENDS_EPOLL_TASK_H_
