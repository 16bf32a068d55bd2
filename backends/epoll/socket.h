// File: socket.h
//
// TCP sockets for the epoll backend before they carry a connection:
//   connect_tcp()   a coroutine that resolves a host and connects,
//                   non-blocking, trying each address within one overall
//                   connect_timeout;
//   Listener        a listening socket whose accept() suspends until a
//                   client arrives;
//   Socket          the connected descriptor either returns, which a
//                   WebSocket or HttpConnection then takes over.
//
// Name resolution never blocks the loop: an IPv4 or IPv6 literal is used as
// is, and a name is resolved by getaddrinfo on a short-lived helper thread
// whose answer is posted back to the loop (a stopped loop or a cancelled
// connect drops it). connect_timeout bounds the resolution too.
//
//   absl::StatusOr<tern::epoll::Socket> s =
//       co_await tern::epoll::connect_tcp(loop, "127.0.0.1", 9001, {});
#ifndef TERN_BACKENDS_EPOLL_SOCKET_H_
#define TERN_BACKENDS_EPOLL_SOCKET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/epoll/event_loop.h"
#include "backends/epoll/task.h"
#include "backends/options.h"

namespace tern::epoll {

// A connected TCP socket (non-blocking, SocketOptions applied). Owns its
// descriptor until release().
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Socket& operator=(Socket&& o) noexcept;
  ~Socket();

  int fd() const noexcept { return fd_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// Resolves `host` (unless numeric) and connects to `port`, applying
// `options`. Errors as in backends/status.h: kNotFound (resolution),
// kUnavailable (refused, unreachable), kDeadlineExceeded (connect_timeout),
// kCancelled (the loop stopped).
Task<absl::StatusOr<Socket>> connect_tcp(EventLoop& loop, std::string host, std::uint16_t port,
                                         SocketOptions options);

class Listener {
 public:
  // Binds host:port (port 0: any free port, see port()) and listens.
  static absl::StatusOr<Listener> bind(EventLoop& loop, std::string_view host, std::uint16_t port,
                                       int backlog = 1024);

  Listener(Listener&&) noexcept = default;
  Listener& operator=(Listener&&) noexcept = default;
  ~Listener();

  // co_await listener.accept(options): the next client, with `options`
  // applied, or kCancelled when the loop stops or close() is called.
  struct AcceptAwaiter;
  AcceptAwaiter accept(const SocketOptions& options = {}) noexcept;

  std::uint16_t port() const noexcept;
  // Stops listening; a pending accept() ends with kCancelled. Safe whether
  // the loop still lives or not (destroying a Listener calls it).
  void close() noexcept;

  struct State;

 private:
  explicit Listener(std::unique_ptr<State> s) noexcept : s_(std::move(s)) {}
  std::unique_ptr<State> s_;
};

struct Listener::State : Pollable {
  EventLoop* loop = nullptr;
  std::shared_ptr<detail::LoopHandle> loop_handle;  // to tell whether `loop` still lives
  int fd = -1;
  std::uint16_t port = 0;
  struct AcceptAwaiter* waiter = nullptr;
};

struct Listener::AcceptAwaiter : detail::Waiter {
  State* state;
  SocketOptions options;
  absl::StatusOr<Socket> result;
  bool done = false;

  AcceptAwaiter(State* s, const SocketOptions& o) noexcept : state(s), options(o) {}
  AcceptAwaiter(AcceptAwaiter&&) = delete;
  ~AcceptAwaiter();
  bool await_ready() noexcept;
  void await_suspend(std::coroutine_handle<> h) noexcept;
  absl::StatusOr<Socket> await_resume() noexcept { return std::move(result); }
  // One accept4(); false when it would block.
  bool try_accept() noexcept;
};

inline Listener::AcceptAwaiter Listener::accept(const SocketOptions& options) noexcept {
  return AcceptAwaiter(s_.get(), options);
}

}  // namespace tern::epoll

#endif  // TERN_BACKENDS_EPOLL_SOCKET_H_
