// File: backend.h
//
// Backend is the C++20 concept that names what code written once over every
// tern backend (the connection pools, the resilient session, the interop
// programs) needs from one: open a WebSocket or HTTP connection from a URL
// with options, receive and send, tell whether a connection is usable, wait,
// read a monotonic clock, and run work in the background. Each backend
// provides one traits struct that models it (tern::posix::Backend,
// tern::epoll::Backend, tern::asio::Backend) and static_asserts so.
//
// The shared code is a coroutine template over B: it returns
// B::Task<T> and awaits B's operations,
//
//   template <tern::Backend B>
//   typename B::template Task<absl::Status> hello(typename B::Context& ctx) {
//     auto ws = co_await B::connect_websocket(ctx, "ws://127.0.0.1:9001/", {});
//     if (!ws.ok()) co_return ws.status();
//     co_return co_await B::send_text(*ws, "hello");
//   }
//
// and runs unchanged: on posix, B::Task is SyncTask and every operation a
// Ready value from a blocking call, so it simply blocks (kBlocking);
// on epoll and Asio it suspends. B::run() drives a top-level task to its end
// on the context.
//
// Time: now() is monotonic (the loop's clock), as an absl::Time that is
// only meaningful in differences; the sans-IO policies take it as "now".
#ifndef TERN_BACKENDS_BACKEND_H_
#define TERN_BACKENDS_BACKEND_H_

#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/http_response.h"
#include "backends/options.h"
#include "core/http/response_reader.h"
#include "core/ws/close_code.h"
#include "core/ws/frame_reader.h"

namespace tern {

namespace backend_detail {

// What `co_await a` yields, for an awaitable type A (its member operator
// co_await, if any, gives the awaiter).
template <typename A>
struct awaiter_type {
  using type = A;
};
template <typename A>
  requires requires { std::declval<A>().operator co_await(); }
struct awaiter_type<A> {
  using type = decltype(std::declval<A>().operator co_await());
};
template <typename A>
using await_result_t = decltype(std::declval<typename awaiter_type<A>::type&>().await_resume());

template <typename A, typename T>
concept AwaitableOf = std::same_as<std::remove_cvref_t<await_result_t<A>>, T>;

}  // namespace backend_detail

template <typename B>
concept Backend =
    requires {
      { B::kName } -> std::convertible_to<std::string_view>;
      { B::kBlocking } -> std::convertible_to<bool>;
      typename B::Context;
      typename B::WebSocket;
      typename B::HttpConnection;
      typename B::Listener;
      typename B::Socket;
      typename B::template Task<absl::Status>;
    } &&
    requires(typename B::Context& ctx, std::string url, WebSocketOptions ws_options, HttpOptions http_options,
             SocketOptions socket_options, typename B::WebSocket& ws, const typename B::WebSocket& cws,
             typename B::HttpConnection& http, const typename B::HttpConnection& chttp,
             typename B::Listener& listener, typename B::Socket socket, std::string_view text,
             std::span<const std::uint8_t> bytes, http::ResponseReader& reader, absl::Duration d) {
      // Connections.
      { B::connect_websocket(ctx, url, ws_options) } ->
          backend_detail::AwaitableOf<absl::StatusOr<typename B::WebSocket>>;
      { B::accept_websocket(ctx, std::move(socket), ws_options) } ->
          backend_detail::AwaitableOf<absl::StatusOr<typename B::WebSocket>>;
      { B::connect_http(ctx, url, http_options) } ->
          backend_detail::AwaitableOf<absl::StatusOr<typename B::HttpConnection>>;
      { B::listen(ctx, text, std::uint16_t{0}) } -> std::same_as<absl::StatusOr<typename B::Listener>>;
      { B::accept(listener, socket_options) } -> backend_detail::AwaitableOf<absl::StatusOr<typename B::Socket>>;
      { B::port(listener) } -> std::same_as<std::uint16_t>;
      // WebSocket traffic; a received message borrows the connection's buffer.
      { B::recv(ws) } -> backend_detail::AwaitableOf<absl::StatusOr<ws::Message>>;
      { B::send_text(ws, text) } -> backend_detail::AwaitableOf<absl::Status>;
      { B::send_binary(ws, bytes) } -> backend_detail::AwaitableOf<absl::Status>;
      { B::send_ping(ws, bytes) } -> backend_detail::AwaitableOf<absl::Status>;
      { B::queue_text(ws, text) } -> std::same_as<absl::Status>;
      { B::queue_binary(ws, bytes) } -> std::same_as<absl::Status>;
      { B::flush(ws) } -> backend_detail::AwaitableOf<absl::Status>;
      { B::close(ws, ws::CloseCode::Normal, std::string()) } -> backend_detail::AwaitableOf<absl::Status>;
      // HTTP: the request is in request_buffer().
      { B::send(http, reader) } -> backend_detail::AwaitableOf<absl::StatusOr<HttpResponse>>;
      // Health, time, background work.
      { B::usable(cws) } -> std::same_as<bool>;
      { B::usable(chttp) } -> std::same_as<bool>;
      { B::sleep_for(ctx, d) } -> backend_detail::AwaitableOf<absl::Status>;
      { B::now(ctx) } -> std::same_as<absl::Time>;
      // Runs the task detached: a thread on posix, a task on a loop.
      B::spawn(ctx, std::declval<absl::AnyInvocable<typename B::template Task<absl::Status>() &&>>());
      // Runs the task to its end on the context and returns its result.
      { B::run(ctx, std::declval<typename B::template Task<absl::Status>>()) } -> std::same_as<absl::Status>;
    };

}  // namespace tern

#endif  // TERN_BACKENDS_BACKEND_H_
