#include "backends/epoll/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "backends/status.h"

namespace tern::epoll {

// The frame of a spawned task: it owns the Task it awaits, belongs to the
// loop's list of tasks (so stop() can destroy it), and frees itself when the
// task ends.
struct RootPromise {
  struct Root {
    using promise_type = RootPromise;
    std::coroutine_handle<RootPromise> handle;
  };

  template <typename... Args>
  explicit RootPromise(EventLoop& loop, Args&...) noexcept : loop(&loop) {
    link.frame = std::coroutine_handle<RootPromise>::from_promise(*this);
    start.handle = link.frame;
    loop.adopt(link);
  }
  ~RootPromise() { loop->release(); }

  static void* operator new(std::size_t size) { return ::tern::FramePool::allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    ::tern::FramePool::deallocate(frame, size);
  }
  Root get_return_object() noexcept {
    return {std::coroutine_handle<RootPromise>::from_promise(*this)};
  }
  std::suspend_always initial_suspend() noexcept { return {}; }
  std::suspend_never final_suspend() noexcept { return {}; }
  void return_void() noexcept {}
  [[noreturn]] void unhandled_exception() noexcept { std::abort(); }

  EventLoop* loop;
  detail::RootLink link;
  detail::Waiter start;
};

namespace {

RootPromise::Root run_root(EventLoop& loop, Task<absl::Status> task,
                           absl::AnyInvocable<void(absl::Status) &&> on_done) {
  absl::Status status = co_await std::move(task);
  loop.finish_task(std::move(status), on_done);
}

// Rounds given to cancelled tasks to unwind after stop() before their
// frames are destroyed.
constexpr int kUnwindRounds = 64;

int to_epoll_ms(std::int64_t ns) {
  if (ns < 0) return -1;
  // Round up: waking before a timer is due would only spin.
  const std::int64_t ms = (ns + 999'999) / 1'000'000;
  return ms > (1 << 30) ? (1 << 30) : static_cast<int>(ms);
}

}  // namespace

std::uint64_t EventLoop::clock_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t EventLoop::to_ns(absl::Duration d) noexcept {
  if (d <= absl::ZeroDuration()) return 0;
  if (d >= absl::Hours(24 * 365 * 100)) return std::uint64_t{1} << 62;  // "never"
  return static_cast<std::uint64_t>(absl::ToInt64Nanoseconds(d));
}

EventLoop::EventLoop(const Options& options)
    : options_(options),
      handle_(std::make_shared<detail::LoopHandle>()),
      wheel_(clock_ns(), std::max<std::uint64_t>(1, to_ns(options.tick))),
      now_ns_(clock_ns()) {
  options_.max_events = std::clamp(options_.max_events, 1, 4096);
  options_.budget = std::max(options_.budget, 1);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) std::abort();  // out of descriptors at startup
  wake_handler_.on_events = &EventLoop::on_wake;
  wake_handler_.loop = this;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &wake_handler_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) std::abort();
  posted_work_.reserve(16);
  posted_run_.reserve(16);
  handle_->loop = this;
}

EventLoop::~EventLoop() {
  {
    std::lock_guard<std::mutex> lock(handle_->mu);
    handle_->loop = nullptr;
  }
  // Tasks never run to the end: destroy their frames (with the Tasks they
  // await), which unlinks every waiter and timer they held.
  while (detail::RootLink* r = roots_.pop_front()) r->frame.destroy();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

absl::Status EventLoop::add(int fd, Pollable& handler) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = &handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return errno_status(errno, "epoll_ctl(ADD)");
  return absl::OkStatus();
}

absl::Status EventLoop::add_level_triggered(int fd, Pollable& handler, std::uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return errno_status(errno, "epoll_ctl(ADD)");
  return absl::OkStatus();
}

void EventLoop::modify(int fd, Pollable& handler, std::uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &handler;
  ++interest_changes_;
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::remove(int fd) noexcept { (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::spawn(Task<absl::Status> task, absl::AnyInvocable<void(absl::Status) &&> on_done) {
  RootPromise::Root root = run_root(*this, std::move(task), std::move(on_done));
  make_ready(root.handle.promise().start);
}

void EventLoop::spawn(Task<void> task) {
  spawn([](Task<void> t) -> Task<absl::Status> {
    co_await std::move(t);
    co_return absl::OkStatus();
  }(std::move(task)));
}

void EventLoop::finish_task(absl::Status status, absl::AnyInvocable<void(absl::Status) &&>& on_done) noexcept {
  if (on_done) {
    std::move(on_done)(std::move(status));
    return;
  }
  if (!status.ok() && !absl::IsCancelled(status)) {
    ++failed_tasks_;
    last_failure_ = std::move(status);
  }
}

void EventLoop::post(absl::AnyInvocable<void() &&> fn) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_work_.push_back(std::move(fn));
  }
  posted_.store(true, std::memory_order_release);
  wake();
}

bool EventLoop::post(const std::shared_ptr<detail::LoopHandle>& handle,
                     absl::AnyInvocable<void() &&> fn) {
  std::lock_guard<std::mutex> lock(handle->mu);
  if (handle->loop == nullptr) return false;
  handle->loop->post(std::move(fn));
  return true;
}

void EventLoop::stop() {
  stop_requested_.store(true, std::memory_order_release);
  wake();
}

void EventLoop::wake() noexcept {
  const std::uint64_t one = 1;
  // A full counter (never, in practice) still leaves the loop woken.
  (void)!::write(wake_fd_, &one, sizeof one);
}

void EventLoop::on_wake(Pollable* self, std::uint32_t) {
  EventLoop* loop = static_cast<WakeHandler*>(self)->loop;
  std::uint64_t n;
  while (::read(loop->wake_fd_, &n, sizeof n) > 0) {
  }
}

void EventLoop::take_posted() {
  if (!posted_.load(std::memory_order_acquire)) return;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_run_.swap(posted_work_);
    posted_.store(false, std::memory_order_relaxed);
  }
  for (auto& fn : posted_run_) std::move(fn)();
  posted_run_.clear();
}

void EventLoop::run_ready() noexcept {
  // Only what is queued now: work queued while running waits a round, so
  // a coroutine that yields in a loop cannot keep the kernel unvisited.
  detail::List<detail::Waiter> batch;
  ready_.move_to(batch);
  while (detail::Waiter* w = batch.pop_front()) {
    budget_ = options_.budget;
    w->handle.resume();
  }
}

bool EventLoop::round(std::int64_t max_wait_ns, absl::FunctionRef<bool()> done) {
  run_ready();
  take_posted();
  if (stop_requested_.load(std::memory_order_acquire) || done()) return false;
  if (task_count_ == 0 && ready_.empty() && !posted_.load(std::memory_order_acquire)) return false;

  std::int64_t wait_ns = -1;
  if (!ready_.empty() || posted_.load(std::memory_order_acquire)) {
    wait_ns = 0;
  } else {
    const std::uint64_t next = wheel_.next_expiry();
    if (next != TimerWheel::kNever) {
      const std::uint64_t now = clock_ns();
      wait_ns = next > now ? static_cast<std::int64_t>(next - now) : 0;
    }
  }
  if (max_wait_ns >= 0 && (wait_ns < 0 || wait_ns > max_wait_ns)) wait_ns = max_wait_ns;

  epoll_event events[256];
  const int max_events = std::min(options_.max_events, 256);
  int n = 0;
  if (wait_ns != 0 && options_.busy_poll > absl::ZeroDuration()) {
    // Spin without sleeping: a wake-up costs no context switch.
    const std::uint64_t until = clock_ns() + to_ns(options_.busy_poll);
    do {
      n = ::epoll_wait(epoll_fd_, events, max_events, 0);
    } while (n == 0 && clock_ns() < until);
  }
  if (n == 0) {
    n = ::epoll_wait(epoll_fd_, events, max_events, to_epoll_ms(wait_ns));
  }
  ++rounds_;
  now_ns_ = clock_ns();
  for (int i = 0; i < n; ++i) {
    budget_ = options_.budget;
    auto* handler = static_cast<Pollable*>(events[i].data.ptr);
    handler->on_events(handler, events[i].events);
  }
  wheel_.advance(now_ns_, [this](TimerNode& node) {
    budget_ = options_.budget;
    auto& timer = static_cast<detail::Timer&>(node);
    timer.fire(&timer);
  });
  return true;
}

void EventLoop::run() {
  run_until([] { return false; });
}

void EventLoop::run_for(absl::Duration d) {
  const std::uint64_t until = clock_ns() + to_ns(d);
  now_ns_ = clock_ns();
  running_ = true;
  while (true) {
    const std::uint64_t now = clock_ns();
    if (now >= until) break;
    if (!round(static_cast<std::int64_t>(until - now), [] { return false; })) break;
  }
  running_ = false;
  if (stop_requested_.exchange(false)) cancel_all();
}

void EventLoop::run_until(absl::FunctionRef<bool()> done) {
  now_ns_ = clock_ns();
  running_ = true;
  while (!done() && round(-1, done)) {
  }
  running_ = false;
  if (stop_requested_.exchange(false)) cancel_all();
}

void EventLoop::cancel_all() noexcept {
  stopping_ = true;
  // Every parked waiter records kCancelled, detaches, and is resumed.
  while (detail::Waiter* w = parked_.pop_front()) {
    w->cancel(w);
    make_ready(*w);
  }
  // Awaits made while unwinding complete with kCancelled through the ready
  // queue, so a task that ignores errors still returns here every round.
  for (int i = 0; i < kUnwindRounds && !ready_.empty(); ++i) {
    run_ready();
    while (detail::Waiter* w = parked_.pop_front()) {
      w->cancel(w);
      make_ready(*w);
    }
  }
  // Whatever has still not finished is destroyed; its waiters unlink
  // themselves from the ready queue as their frames go.
  while (detail::RootLink* r = roots_.pop_front()) r->frame.destroy();
  detail::List<detail::Waiter> leftover;
  ready_.move_to(leftover);
  stopping_ = false;
}

void EventLoop::SleepAwaiter::await_suspend(std::coroutine_handle<> h) noexcept {
  handle = h;
  if (loop->stopping()) {
    result = absl::CancelledError("event loop stopped");
    loop->make_ready(*this);
    return;
  }
  cancel = [](detail::Waiter* w) {
    auto* self = static_cast<SleepAwaiter*>(w);
    self->loop->cancel(*self);
    self->result = absl::CancelledError("event loop stopped");
  };
  fire = [](detail::Timer* t) {
    // Resumed after advance() returns, never inside it: the coroutine may
    // run a loop round of its own, and other due timers fire first.
    auto* self = static_cast<SleepAwaiter*>(t);
    self->loop->make_ready(*self);
  };
  loop->schedule(*this, deadline_ns);
  loop->park(*this);
}

}  // namespace tern::epoll
