// File: event_loop.h
//
// EventLoop is the epoll backend's reactor: one thread, one epoll set, a
// timer wheel, a queue of coroutines ready to run, and the tasks spawned on
// it. Sockets register once, edge-triggered, for reading and writing, so a
// steady stream of messages costs one read and one write per message and no
// epoll_ctl (docs/backends.md measures it against level-triggered).
//
// A round of run(): resume what is ready, wait in epoll_wait (timeout: the
// wheel's next expiry, re-computed only from the wheel: no timerfd, so moving
// a deadline never costs a syscall), dispatch up to max_events events, fire
// due timers, take work posted from other threads. Fairness: each coroutine
// resumed gets `budget` operations that complete without waiting (a message
// already buffered, a write the kernel took at once); when they run out its
// next await yields to the back of the ready queue, so one busy socket cannot
// starve timers or other sockets.
//
// Stopping: stop() (any thread) makes run() return after the current round.
// Every coroutine still waiting on a socket, a timer or a resolver is resumed
// with kCancelled, any await it makes while the loop unwinds completes with
// kCancelled too, and after a bounded number of such rounds the frames of
// tasks that still have not finished are destroyed. No frame is resumed after
// it is destroyed: waiters unlink themselves from the loop when their frame
// goes.
//
// Threads: everything but post() and stop() belongs to the loop's thread.
//
//   tern::epoll::EventLoop loop;
//   loop.spawn([&]() -> tern::epoll::Task<absl::Status> {
//     co_await loop.sleep_for(absl::Milliseconds(5));
//     co_return absl::OkStatus();
//   });
//   loop.run();
#ifndef TERN_BACKENDS_EPOLL_EVENT_LOOP_H_
#define TERN_BACKENDS_EPOLL_EVENT_LOOP_H_

#include <atomic>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "backends/epoll/intrusive_list.h"
#include "backends/epoll/task.h"
#include "backends/epoll/timer_wheel.h"

namespace tern::epoll {

class EventLoop;
struct RootPromise;

// A file descriptor's handler: the loop calls on_events with the epoll event
// bits; the object registered must outlive its registration.
struct Pollable {
  void (*on_events)(Pollable* self, std::uint32_t events) = nullptr;
};

namespace detail {

// A suspended coroutine the loop may resume: queued when ready, parked
// (listed for cancellation) while it waits on a socket, timer or resolver.
struct Waiter : ListNode {
  std::coroutine_handle<> handle;
  // stop() calls this on a parked waiter: record kCancelled and detach from
  // whatever it waits on. The loop then resumes it.
  void (*cancel)(Waiter* self) = nullptr;
};

// A loop timer: fire() runs inside the wheel's advance().
struct Timer : TimerNode {
  void (*fire)(Timer* self) = nullptr;
};

// A spawned task's membership in the loop.
struct RootLink : ListNode {
  std::coroutine_handle<> frame;
};

// What another thread holds to reach a loop that may be gone: post() through
// it fails once the loop is destroyed.
struct LoopHandle {
  std::mutex mu;
  EventLoop* loop = nullptr;
};

}  // namespace detail

struct LoopOptions {
  // Events taken per epoll_wait.
  int max_events = 64;
  // Operations a resumed coroutine may complete without waiting before its
  // next await yields to the other work (see the class comment).
  int budget = 64;
  // Before blocking, spin on epoll_wait(timeout 0) for up to this long:
  // lower wake-up latency for a core's worth of CPU. Zero: never spin.
  absl::Duration busy_poll = absl::ZeroDuration();
  // Timer resolution.
  absl::Duration tick = absl::Milliseconds(1);
  // Register sockets level-triggered instead (reading interest always on,
  // writing interest added with epoll_ctl while a write waits). Kept for
  // the comparison in bench/epoll/trigger_bench.cc; edge-triggered is the
  // default because it needs no epoll_ctl per blocked write and no
  // wake-ups for a socket whose reader is busy elsewhere.
  bool level_triggered = false;
};

class EventLoop {
 public:
  using Options = LoopOptions;

  explicit EventLoop(const Options& options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop() or until no spawned task is left.
  void run();
  // Runs for at most `d` (tasks stay as they are when it returns), or less
  // on stop() or when no task is left.
  void run_for(absl::Duration d);
  // Runs until `done()` (asked after every round) is true, stop(), or no task
  // is left.
  void run_until(absl::FunctionRef<bool()> done);
  // Any thread: run() returns after this round, and the tasks still pending
  // are cancelled (see the class comment).
  void stop();
  // Any thread: runs `fn` on the loop thread during a later round.
  void post(absl::AnyInvocable<void() &&> fn);
  // For threads that may outlive the loop: post through the handle; false
  // (and `fn` dropped) once the loop is destroyed.
  std::shared_ptr<detail::LoopHandle> handle() const noexcept { return handle_; }
  static bool post(const std::shared_ptr<detail::LoopHandle>& handle, absl::AnyInvocable<void() &&> fn);

  // Runs `task` detached. on_done gets its result when it finishes (not if
  // it is destroyed at stop()). Without on_done a failure is counted in
  // failed_tasks() and kept in last_task_failure().
  void spawn(Task<absl::Status> task, absl::AnyInvocable<void(absl::Status) &&> on_done = nullptr);
  void spawn(Task<void> task);
  // Runs make_task() (a lambda returning a Task) detached; the lambda and
  // its captures live as long as the task.
  template <typename F>
    requires std::invocable<F&>
  void spawn(F make_task, absl::AnyInvocable<void(absl::Status) &&> on_done = nullptr) {
    spawn(invoke_detached(std::move(make_task)), std::move(on_done));
  }

  // co_await loop.sleep_for(d): OK, or kCancelled if the loop stops first.
  struct SleepAwaiter;
  SleepAwaiter sleep_for(absl::Duration d) noexcept;
  SleepAwaiter sleep_until_ns(std::uint64_t deadline_ns) noexcept;
  // co_await loop.yield(): to the back of the ready queue.
  struct YieldAwaiter;
  YieldAwaiter yield() noexcept;

  // The loop's monotonic clock in nanoseconds (CLOCK_MONOTONIC), read once
  // per round; clock_ns() reads it now.
  std::uint64_t now_ns() const noexcept { return now_ns_; }
  static std::uint64_t clock_ns() noexcept;
  static std::uint64_t to_ns(absl::Duration d) noexcept;

  bool stopping() const noexcept { return stopping_; }
  std::size_t tasks() const noexcept { return task_count_; }
  std::size_t failed_tasks() const noexcept { return failed_tasks_; }
  const absl::Status& last_task_failure() const noexcept { return last_failure_; }

  // --- for the backend's objects (loop thread) ----------------------------
  // Registers fd, edge-triggered for EPOLLIN | EPOLLOUT | EPOLLRDHUP.
  absl::Status add(int fd, Pollable& handler) noexcept;
  absl::Status add_level_triggered(int fd, Pollable& handler, std::uint32_t events) noexcept;
  // Changes a level-triggered registration's events.
  void modify(int fd, Pollable& handler, std::uint32_t events) noexcept;
  void remove(int fd) noexcept;
  bool level_triggered() const noexcept { return options_.level_triggered; }
  // epoll_ctl calls made after registration (interest changes), for tests
  // and benchmarks.
  std::uint64_t interest_changes() const noexcept { return interest_changes_; }
  // A waiter that suspends until something resumes it; cancelled by stop().
  void park(detail::Waiter& w) noexcept { parked_.push_back(w); }
  // Queues `w` to be resumed in this or the next round.
  void make_ready(detail::Waiter& w) noexcept { ready_.push_back(w); }
  // One operation that completed without waiting: false when the current
  // coroutine should yield first (its budget is spent).
  bool take_budget() noexcept { return --budget_ >= 0; }
  void schedule(detail::Timer& t, std::uint64_t deadline_ns) noexcept { wheel_.schedule(t, deadline_ns); }
  void postpone(detail::Timer& t, std::uint64_t deadline_ns) noexcept { wheel_.postpone(t, deadline_ns); }
  void cancel(detail::Timer& t) noexcept { wheel_.cancel(t); }
  const TimerWheel& wheel() const noexcept { return wheel_; }
  // Rounds that waited in the kernel, and syscalls to epoll_wait, for tests.
  std::uint64_t rounds() const noexcept { return rounds_; }

 private:
  friend struct RootPromise;
  template <typename F>
  static Task<absl::Status> invoke_detached(F make_task) {
    using R = decltype(make_task());
    if constexpr (std::is_same_v<R, Task<void>>) {
      co_await make_task();
      co_return absl::OkStatus();
    } else {
      co_return co_await make_task();
    }
  }
  // One round: ready tasks, then one wait. False when the loop should
  // return: nothing left, stop() asked, or `done` true once the ready tasks
  // ran (checked before the wait, which could otherwise block after the
  // awaited task finished).
  bool round(std::int64_t max_wait_ns, absl::FunctionRef<bool()> done);
  void run_ready() noexcept;
  void take_posted();
  void cancel_all() noexcept;
  void wake() noexcept;
  static void on_wake(Pollable* self, std::uint32_t events);

 public:
  // Internal: a spawned task's frame (event_loop.cc) reports through these.
  void finish_task(absl::Status status, absl::AnyInvocable<void(absl::Status) &&>& on_done) noexcept;
  void adopt(detail::RootLink& root) noexcept {
    roots_.push_back(root);
    ++task_count_;
  }
  void release() noexcept { --task_count_; }

 private:

  Options options_;
  std::shared_ptr<detail::LoopHandle> handle_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  struct WakeHandler : Pollable {
    EventLoop* loop = nullptr;
  };
  WakeHandler wake_handler_;
  TimerWheel wheel_;
  std::uint64_t now_ns_ = 0;
  int budget_ = 0;
  std::uint64_t rounds_ = 0;
  std::uint64_t interest_changes_ = 0;
  bool stopping_ = false;
  bool running_ = false;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> posted_{false};
  std::mutex posted_mu_;
  std::vector<absl::AnyInvocable<void() &&>> posted_work_;
  std::vector<absl::AnyInvocable<void() &&>> posted_run_;
  detail::List<detail::Waiter> ready_;
  detail::List<detail::Waiter> parked_;
  detail::List<detail::RootLink> roots_;
  std::size_t task_count_ = 0;
  std::size_t failed_tasks_ = 0;
  absl::Status last_failure_;
};

struct EventLoop::SleepAwaiter : detail::Waiter, detail::Timer {
  EventLoop* loop;
  std::uint64_t deadline_ns;
  absl::Status result;

  SleepAwaiter(EventLoop& l, std::uint64_t deadline) noexcept : loop(&l), deadline_ns(deadline) {}
  SleepAwaiter(SleepAwaiter&&) = delete;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept;
  absl::Status await_resume() noexcept { return std::move(result); }
};

struct EventLoop::YieldAwaiter : detail::Waiter {
  EventLoop* loop;
  explicit YieldAwaiter(EventLoop& l) noexcept : loop(&l) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    handle = h;
    loop->make_ready(*this);
  }
  void await_resume() noexcept {}
};

inline EventLoop::SleepAwaiter EventLoop::sleep_for(absl::Duration d) noexcept {
  return SleepAwaiter(*this, now_ns_ + to_ns(d));
}
inline EventLoop::SleepAwaiter EventLoop::sleep_until_ns(std::uint64_t deadline_ns) noexcept {
  return SleepAwaiter(*this, deadline_ns);
}
inline EventLoop::YieldAwaiter EventLoop::yield() noexcept { return YieldAwaiter(*this); }

}  // namespace tern::epoll

#endif  // TERN_BACKENDS_EPOLL_EVENT_LOOP_H_
