// File: backend.h
//
// tern::epoll::Backend: the epoll backend as a model of the Backend concept
// (backends/backend.h), for code written once over every backend. The
// context is the EventLoop; tasks are epoll::Task; operations are the
// connections' own awaitables, so shared code costs nothing over code
// written for epoll directly.
#ifndef TERN_BACKENDS_EPOLL_BACKEND_H_
#define TERN_BACKENDS_EPOLL_BACKEND_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/backend.h"
#include "backends/epoll/event_loop.h"
#include "backends/epoll/http_connection.h"
#include "backends/epoll/socket.h"
#include "backends/epoll/task.h"
#include "backends/epoll/websocket.h"

namespace tern::epoll {

struct Backend {
  static constexpr std::string_view kName = "epoll";
  static constexpr bool kBlocking = false;
  using Context = EventLoop;
  template <typename T>
  using Task = epoll::Task<T>;
  using WebSocket = epoll::WebSocket;
  using HttpConnection = epoll::HttpConnection;
  using Listener = epoll::Listener;
  using Socket = epoll::Socket;

  static Task<absl::StatusOr<WebSocket>> connect_websocket(EventLoop& loop, std::string url, WebSocketOptions o) {
    return WebSocket::connect(loop, std::move(url), std::move(o));
  }
  static Task<absl::StatusOr<WebSocket>> accept_websocket(EventLoop& loop, Socket socket, WebSocketOptions o) {
    return WebSocket::accept(loop, std::move(socket), std::move(o));
  }
  static Task<absl::StatusOr<HttpConnection>> connect_http(EventLoop& loop, std::string url, HttpOptions o) {
    return HttpConnection::connect(loop, std::move(url), std::move(o));
  }
  static absl::StatusOr<Listener> listen(EventLoop& loop, std::string_view host, std::uint16_t port) {
    return Listener::bind(loop, host, port);
  }
  static Listener::AcceptAwaiter accept(Listener& l, const SocketOptions& o) { return l.accept(o); }
  static std::uint16_t port(const Listener& l) { return l.port(); }

  static WebSocket::RecvAwaiter recv(WebSocket& ws) { return ws.recv(); }
  static WebSocket::SendAwaiter send_text(WebSocket& ws, std::string_view s) { return ws.send_text(s); }
  static WebSocket::SendAwaiter send_binary(WebSocket& ws, std::span<const std::uint8_t> b) {
    return ws.send_binary(b);
  }
  static WebSocket::SendAwaiter send_ping(WebSocket& ws, std::span<const std::uint8_t> b) { return ws.send_ping(b); }
  static absl::Status queue_text(WebSocket& ws, std::string_view s) { return ws.queue_text(s); }
  static absl::Status queue_binary(WebSocket& ws, std::span<const std::uint8_t> b) { return ws.queue_binary(b); }
  static WebSocket::SendAwaiter flush(WebSocket& ws) { return ws.flush(); }
  static Task<absl::Status> close(WebSocket& ws, ws::CloseCode code, std::string reason) {
    return ws.close(code, std::move(reason));
  }
  static HttpConnection::RequestAwaiter send(HttpConnection& c, http::ResponseReader& reader) {
    return c.send(reader);
  }

  static bool usable(const WebSocket& ws) { return ws.is_open(); }
  static bool usable(const HttpConnection& c) { return c.reusable(); }
  static EventLoop::SleepAwaiter sleep_for(EventLoop& loop, absl::Duration d) { return loop.sleep_for(d); }
  static absl::Time now(EventLoop& loop) { return absl::FromUnixNanos(static_cast<std::int64_t>(loop.now_ns())); }
  static void spawn(EventLoop& loop, absl::AnyInvocable<Task<absl::Status>() &&> make_task) {
    loop.spawn([make_task = std::move(make_task)]() mutable { return std::move(make_task)(); });
  }
  // Runs the loop until `task` ends (other tasks keep their state).
  static absl::Status run(EventLoop& loop, Task<absl::Status> task) {
    absl::Status result = absl::CancelledError("event loop stopped before the task ended");
    bool done = false;
    loop.spawn(std::move(task), [&](absl::Status st) {
      result = std::move(st);
      done = true;
    });
    loop.run_until([&] { return done; });
    return result;
  }
};

static_assert(::tern::Backend<Backend>);

}  // namespace tern::epoll

#endif  // TERN_BACKENDS_EPOLL_BACKEND_H_
