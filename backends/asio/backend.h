// File: backend.h
//
// tern::asio::Backend: the Asio backend as a model of the Backend concept
// (backends/backend.h), for code written once over every backend. The
// context is an asio::io_context; tasks are asio::awaitable<T>; operations
// are the connections' coroutine helpers (recv(), send_text(), ...), which
// return without suspending when nothing needs to wait. run() drives a task
// to its end on the io_context's calling thread (other work keeps its
// state); spawn() co_spawns a task detached.
#ifndef TERN_BACKENDS_ASIO_BACKEND_H_
#define TERN_BACKENDS_ASIO_BACKEND_H_

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/awaitable.hpp"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/experimental/as_tuple.hpp"
#include "asio/io_context.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/asio/http_connection.h"
#include "backends/asio/socket.h"
#include "backends/asio/websocket.h"
#include "backends/backend.h"

namespace tern::asio {

struct Backend {
  static constexpr std::string_view kName = "asio";
  static constexpr bool kBlocking = false;
  using Context = ::asio::io_context;
  template <typename T>
  using Task = ::asio::awaitable<T>;
  using WebSocket = asio::WebSocket;
  using HttpConnection = asio::HttpConnection;
  using Listener = ::asio::ip::tcp::acceptor;
  using Socket = ::asio::ip::tcp::socket;

  static Task<absl::StatusOr<WebSocket>> connect_websocket(Context& io, std::string url, WebSocketOptions o) {
    return WebSocket::async_connect(io.get_executor(), std::move(url), std::move(o), ::asio::use_awaitable);
  }
  static Task<absl::StatusOr<WebSocket>> accept_websocket(Context&, Socket socket, WebSocketOptions o) {
    return WebSocket::async_accept(std::move(socket), std::move(o), ::asio::use_awaitable);
  }
  static Task<absl::StatusOr<HttpConnection>> connect_http(Context& io, std::string url, HttpOptions o) {
    return HttpConnection::async_connect(io.get_executor(), std::move(url), std::move(o), ::asio::use_awaitable);
  }
  static absl::StatusOr<Listener> listen(Context& io, std::string_view host, std::uint16_t port) {
    return asio::listen(io.get_executor(), host, port);
  }
  static Task<absl::StatusOr<Socket>> accept(Listener& l, const SocketOptions& o) { return asio::accept(l, o); }
  static std::uint16_t port(const Listener& l) {
    std::error_code ec;
    return l.local_endpoint(ec).port();
  }

  static Task<absl::StatusOr<ws::Message>> recv(WebSocket& ws) { return ws.recv(); }
  static Task<absl::Status> send_text(WebSocket& ws, std::string_view s) { return ws.send_text(s); }
  static Task<absl::Status> send_binary(WebSocket& ws, std::span<const std::uint8_t> b) {
    return ws.send_binary(b);
  }
  static Task<absl::Status> send_ping(WebSocket& ws, std::span<const std::uint8_t> b) { return ws.send_ping(b); }
  static absl::Status queue_text(WebSocket& ws, std::string_view s) { return ws.queue_text(s); }
  static absl::Status queue_binary(WebSocket& ws, std::span<const std::uint8_t> b) { return ws.queue_binary(b); }
  static Task<absl::Status> flush(WebSocket& ws) { return ws.flush(); }
  static Task<absl::Status> close(WebSocket& ws, ws::CloseCode code, std::string reason) {
    return ws.close(code, std::move(reason));
  }
  static Task<absl::StatusOr<HttpResponse>> send(HttpConnection& c, http::ResponseReader& reader) {
    return c.send(reader);
  }

  static bool usable(const WebSocket& ws) { return ws.is_open(); }
  static bool usable(const HttpConnection& c) { return c.reusable(); }
  static Task<absl::Status> sleep_for(Context& io, absl::Duration d) {
    ::asio::steady_timer timer(io, absl::ToChronoNanoseconds(d));
    auto [ec] = co_await timer.async_wait(::asio::experimental::as_tuple(::asio::use_awaitable));
    co_return ec ? absl::CancelledError("sleep cancelled") : absl::OkStatus();
  }
  static absl::Time now(Context&) {
    return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  }
  // Runs the task detached on the io_context.
  static void spawn(Context& io, absl::AnyInvocable<Task<absl::Status>() &&> make_task) {
    ::asio::co_spawn(
        io,
        [make_task = std::move(make_task)]() mutable -> Task<void> { (void)co_await std::move(make_task)(); },
        ::asio::detached);
  }
  // Runs the io_context on this thread until `task` ends.
  static absl::Status run(Context& io, Task<absl::Status> task) {
    std::optional<absl::Status> result;
    ::asio::co_spawn(io, std::move(task), [&result](std::exception_ptr e, absl::Status st) {
      result = e ? absl::InternalError("exception escaped the task") : std::move(st);
    });
    io.restart();
    while (!result.has_value() && io.run_one() != 0) {
    }
    return result.has_value() ? *std::move(result)
                              : absl::CancelledError("io_context stopped before the task ended");
  }
};

static_assert(::tern::Backend<Backend>);

}  // namespace tern::asio

#endif  // TERN_BACKENDS_ASIO_BACKEND_H_
