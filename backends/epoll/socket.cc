#include "backends/epoll/socket.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/net.h"
#include "backends/status.h"

namespace tern::epoll {
namespace {

const absl::Status& cancelled() {
  static const absl::Status* const s = new absl::Status(absl::CancelledError("event loop stopped"));
  return *s;
}

// getaddrinfo on a helper thread; the answer comes back through the loop.
struct ResolveJob {
  std::string host;
  std::uint16_t port = 0;
  absl::StatusOr<std::vector<net::Address>> result;
  struct ResolveAwaiter* waiter = nullptr;  // loop thread only
};

struct ResolveAwaiter : detail::Waiter, detail::Timer {
  EventLoop* loop;
  std::shared_ptr<ResolveJob> job;
  std::uint64_t deadline_ns;
  absl::StatusOr<std::vector<net::Address>> result;

  ResolveAwaiter(EventLoop& l, std::string host, std::uint16_t port, std::uint64_t deadline) : loop(&l),
        job(std::make_shared<ResolveJob>()), deadline_ns(deadline) {
    job->host = std::move(host);
    job->port = port;
  }
  ResolveAwaiter(ResolveAwaiter&&) = delete;
  ~ResolveAwaiter() {
    if (job) job->waiter = nullptr;
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    handle = h;
    if (loop->stopping()) {
      result = cancelled();
      loop->make_ready(*this);
      return;
    }
    job->waiter = this;
    cancel = [](detail::Waiter* w) {
      auto* self = static_cast<ResolveAwaiter*>(w);
      self->job->waiter = nullptr;
      self->loop->cancel(*self);
      self->result = cancelled();
    };
    fire = [](detail::Timer* t) {
      auto* self = static_cast<ResolveAwaiter*>(t);
      self->job->waiter = nullptr;
      self->result = absl::DeadlineExceededError(absl::StrCat("resolve ", self->job->host, ": timed out"));
      self->loop->make_ready(*self);
    };
    loop->schedule(*this, deadline_ns);
    loop->park(*this);
    std::thread([job = job, handle = loop->handle()]() mutable {
      job->result = net::resolve(job->host, job->port);
      EventLoop::post(handle, [job] {
        ResolveAwaiter* w = job->waiter;
        if (w == nullptr) return;  // cancelled or timed out meanwhile
        job->waiter = nullptr;
        w->result = std::move(job->result);
        w->loop->cancel(*w);
        w->loop->make_ready(*w);
      });
    }).detach();
  }
  absl::StatusOr<std::vector<net::Address>> await_resume() { return std::move(result); }
};

// Waits for a non-blocking connect() to finish, within the deadline.
struct ConnectAwaiter : detail::Waiter, detail::Timer, Pollable {
  EventLoop* loop;
  int fd;
  std::uint64_t deadline_ns;
  std::string_view what;  // "connect host:port", for errors
  bool registered = false;
  absl::Status result;

  ConnectAwaiter(EventLoop& l, int f, std::uint64_t deadline, std::string_view w) noexcept
      : loop(&l), fd(f), deadline_ns(deadline), what(w) {}
  ConnectAwaiter(ConnectAwaiter&&) = delete;
  ~ConnectAwaiter() { detach(); }
  void detach() noexcept {
    if (registered) loop->remove(fd);
    registered = false;
    loop->cancel(*this);
  }
  void finish(absl::Status st) noexcept {
    result = std::move(st);
    detach();
    loop->make_ready(*this);
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    handle = h;
    if (loop->stopping()) {
      result = cancelled();
      loop->make_ready(*this);
      return;
    }
    on_events = [](Pollable* p, std::uint32_t) {
      auto* self = static_cast<ConnectAwaiter*>(p);
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(self->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == EINPROGRESS || err == EALREADY) return;
      self->finish(err == 0 ? absl::OkStatus() : errno_status(err, self->what));
    };
    fire = [](detail::Timer* t) {
      static_cast<ConnectAwaiter*>(t)->finish(absl::DeadlineExceededError("connect timed out"));
    };
    cancel = [](detail::Waiter* w) {
      auto* self = static_cast<ConnectAwaiter*>(w);
      self->detach();
      self->result = cancelled();
    };
    if (absl::Status st = loop->add(fd, *this); !st.ok()) {
      result = st;
      loop->make_ready(*this);
      return;
    }
    registered = true;
    loop->schedule(*this, deadline_ns);
    loop->park(*this);
  }
  absl::Status await_resume() noexcept { return std::move(result); }
};

}  // namespace

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

Task<absl::StatusOr<Socket>> connect_tcp(EventLoop& loop, std::string host, std::uint16_t port,
                                         SocketOptions options) {
  const std::uint64_t deadline = EventLoop::clock_ns() + EventLoop::to_ns(options.connect_timeout);
  const std::string where = absl::StrCat(host, ":", port);
  std::vector<net::Address> addresses;
  if (std::optional<net::Address> a = net::numeric_address(host, port)) {
    addresses.push_back(*a);
  } else {
    absl::StatusOr<std::vector<net::Address>> resolved = co_await ResolveAwaiter(loop, host, port, deadline);
    if (!resolved.ok()) co_return resolved.status();
    addresses = *std::move(resolved);
  }
  absl::Status last = absl::UnavailableError(absl::StrCat("connect ", where, ": no address"));
  for (const net::Address& a : addresses) {
    const int fd = ::socket(a.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      last = errno_status(errno, "socket");
      continue;
    }
    Socket s(fd);
    if (::connect(fd, a.get(), a.length) != 0) {
      if (errno != EINPROGRESS) {
        last = errno_status(errno, absl::StrCat("connect ", where));
        continue;
      }
      const std::string what = absl::StrCat("connect ", where);
      absl::Status st = co_await ConnectAwaiter(loop, fd, deadline, what);
      if (absl::IsCancelled(st)) co_return st;
      if (absl::IsDeadlineExceeded(st)) {
        // The deadline covers every address.
        co_return absl::DeadlineExceededError(absl::StrCat(
            "connect ", where, ": timed out after ", absl::FormatDuration(options.connect_timeout)));
      }
      if (!st.ok()) {
        last = std::move(st);
        continue;
      }
    }
    if (absl::Status st = net::apply_socket_options(fd, options); !st.ok()) {
      last = st;
      continue;
    }
    co_return s;
  }
  co_return last;
}

absl::StatusOr<Listener> Listener::bind(EventLoop& loop, std::string_view host, std::uint16_t port,
                                        int backlog) {
  absl::StatusOr<net::ListeningSocket> l = net::listen_tcp(host, port, backlog, /*nonblocking=*/true);
  if (!l.ok()) return l.status();
  auto state = std::make_unique<State>();
  state->loop = &loop;
  state->loop_handle = loop.handle();
  state->fd = l->fd;
  state->port = l->port;
  state->on_events = [](Pollable* p, std::uint32_t) {
    auto* self = static_cast<State*>(p);
    AcceptAwaiter* w = self->waiter;
    if (w == nullptr || !w->try_accept()) return;
    self->waiter = nullptr;
    self->loop->make_ready(*w);
  };
  if (absl::Status st = loop.add(state->fd, *state); !st.ok()) {
    ::close(state->fd);
    return st;
  }
  return Listener(std::move(state));
}

Listener::~Listener() { close(); }

std::uint16_t Listener::port() const noexcept { return s_ ? s_->port : 0; }

void Listener::close() noexcept {
  if (!s_ || s_->fd < 0) return;
  // The loop may be gone already (destroyed first): then its epoll set and
  // its queue went with it.
  const bool loop_alive = s_->loop_handle->loop != nullptr;
  if (loop_alive) s_->loop->remove(s_->fd);
  ::close(s_->fd);
  s_->fd = -1;
  if (AcceptAwaiter* w = s_->waiter) {
    // A pending accept ends with kCancelled and forgets this listener, so
    // its frame may outlive it.
    s_->waiter = nullptr;
    w->state = nullptr;
    w->result = absl::CancelledError("listener closed");
    if (loop_alive) s_->loop->make_ready(*w);
  }
}

Listener::AcceptAwaiter::~AcceptAwaiter() {
  if (state != nullptr && state->waiter == this) state->waiter = nullptr;
}

bool Listener::AcceptAwaiter::try_accept() noexcept {
  done = true;
  if (state->fd < 0) {
    result = absl::CancelledError("listener closed");
    return true;
  }
  for (;;) {
    const int fd = ::accept4(state->fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      Socket s(fd);
      if (absl::Status st = net::apply_socket_options(fd, options); !st.ok()) {
        result = st;
      } else {
        result = std::move(s);
      }
      return true;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      done = false;
      return false;
    }
    result = errno_status(errno, "accept");
    return true;
  }
}

bool Listener::AcceptAwaiter::await_ready() noexcept {
  if (state->loop->stopping()) {
    result = cancelled();
    done = true;
    return false;
  }
  return try_accept() && state->loop->take_budget();
}

void Listener::AcceptAwaiter::await_suspend(std::coroutine_handle<> h) noexcept {
  handle = h;
  // A result already set (stopping, or a budget spent): resume next round.
  if (done) {
    state->loop->make_ready(*this);
    return;
  }
  cancel = [](detail::Waiter* w) {
    auto* self = static_cast<AcceptAwaiter*>(w);
    if (self->state != nullptr && self->state->waiter == self) self->state->waiter = nullptr;
    self->result = cancelled();
  };
  state->waiter = this;
  state->loop->park(*this);
}

}  // namespace tern::epoll
