// File: faulty_backend.h
//
// Faulty<B> is a model of the Backend concept that wraps another (posix,
// epoll, Asio) and makes its n-th transport operation fail, for the
// deterministic fault injection the pool and session suites run (Boost.Beast
// tests its streams this way: fail operation n for n = 0, 1, 2, ... until
// the scenario completes without a fault):
//
//   Faulty<B>::arm(n);                  // the n-th operation from now fails (0: the next)
//   ... run the scenario over Faulty<B> ...
//   if (!Faulty<B>::fired()) break;     // it never got that far: done
//
// Counted operations: connect_websocket, accept_websocket, connect_http,
// recv, send_text, send_binary, send_ping, flush, send (HTTP). A failed
// connect returns kUnavailable without connecting; a failed operation on a
// connection returns kUnavailable and poisons that connection, as a reset
// would: every later operation on it fails the same way and usable() is
// false (close() still runs, so the peer sees the connection end). Not
// counted: close, listen, accept, sleep_for, now, spawn, run, queue_*. The
// state is per B, one scenario at a time (a mutex makes it safe for the
// posix backend's threads).
#ifndef TERN_TESTS_SUPPORT_FAULTY_BACKEND_H_
#define TERN_TESTS_SUPPORT_FAULTY_BACKEND_H_

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "backends/backend.h"

namespace tern::testing {

template <Backend B>
struct Faulty {
  static constexpr std::string_view kName = B::kName;
  static constexpr bool kBlocking = B::kBlocking;
  using Context = typename B::Context;
  template <typename T>
  using Task = typename B::template Task<T>;
  using WebSocket = typename B::WebSocket;
  using HttpConnection = typename B::HttpConnection;
  using Listener = typename B::Listener;
  using Socket = typename B::Socket;

  // The n-th counted operation from now fails (n >= 0); disarm() for none.
  static void arm(std::int64_t n) {
    std::lock_guard<std::mutex> lock(state().mu);
    state().countdown = n;
    state().fired = false;
    state().operations = 0;
    state().poisoned.clear();
  }
  static void disarm() {
    std::lock_guard<std::mutex> lock(state().mu);
    state().countdown = -1;
  }
  static bool fired() {
    std::lock_guard<std::mutex> lock(state().mu);
    return state().fired;
  }
  // Counted operations since arm().
  static std::int64_t operations() {
    std::lock_guard<std::mutex> lock(state().mu);
    return state().operations;
  }

  static Task<absl::StatusOr<WebSocket>> connect_websocket(Context& ctx, std::string url, WebSocketOptions o) {
    if (fault()) co_return injected("connect_websocket");
    co_return co_await B::connect_websocket(ctx, std::move(url), std::move(o));
  }
  static Task<absl::StatusOr<WebSocket>> accept_websocket(Context& ctx, Socket s, WebSocketOptions o) {
    if (fault()) co_return injected("accept_websocket");
    co_return co_await B::accept_websocket(ctx, std::move(s), std::move(o));
  }
  static Task<absl::StatusOr<HttpConnection>> connect_http(Context& ctx, std::string url, HttpOptions o) {
    if (fault()) co_return injected("connect_http");
    co_return co_await B::connect_http(ctx, std::move(url), std::move(o));
  }
  static absl::StatusOr<Listener> listen(Context& ctx, std::string_view host, std::uint16_t port) {
    return B::listen(ctx, host, port);
  }
  static auto accept(Listener& l, const SocketOptions& o) { return B::accept(l, o); }
  static std::uint16_t port(const Listener& l) { return B::port(l); }

  static Task<absl::StatusOr<ws::Message>> recv(WebSocket& ws) {
    if (fault(&ws)) co_return injected("recv");
    co_return co_await B::recv(ws);
  }
  static Task<absl::Status> send_text(WebSocket& ws, std::string_view s) {
    if (fault(&ws)) co_return injected("send_text");
    co_return co_await B::send_text(ws, s);
  }
  static Task<absl::Status> send_binary(WebSocket& ws, std::span<const std::uint8_t> b) {
    if (fault(&ws)) co_return injected("send_binary");
    co_return co_await B::send_binary(ws, b);
  }
  static Task<absl::Status> send_ping(WebSocket& ws, std::span<const std::uint8_t> b) {
    if (fault(&ws)) co_return injected("send_ping");
    co_return co_await B::send_ping(ws, b);
  }
  static absl::Status queue_text(WebSocket& ws, std::string_view s) { return B::queue_text(ws, s); }
  static absl::Status queue_binary(WebSocket& ws, std::span<const std::uint8_t> b) {
    return B::queue_binary(ws, b);
  }
  static Task<absl::Status> flush(WebSocket& ws) {
    if (fault(&ws)) co_return injected("flush");
    co_return co_await B::flush(ws);
  }
  static auto close(WebSocket& ws, ws::CloseCode code, std::string reason) {
    return B::close(ws, code, std::move(reason));
  }
  static Task<absl::StatusOr<HttpResponse>> send(HttpConnection& c, http::ResponseReader& reader) {
    if (fault(&c)) co_return injected("send");
    co_return co_await B::send(c, reader);
  }

  static bool usable(const WebSocket& ws) { return !poisoned(&ws) && B::usable(ws); }
  static bool usable(const HttpConnection& c) { return !poisoned(&c) && B::usable(c); }
  static auto sleep_for(Context& ctx, absl::Duration d) { return B::sleep_for(ctx, d); }
  static absl::Time now(Context& ctx) { return B::now(ctx); }
  static void spawn(Context& ctx, absl::AnyInvocable<Task<absl::Status>() &&> make_task) {
    B::spawn(ctx, std::move(make_task));
  }
  static absl::Status run(Context& ctx, Task<absl::Status> task) { return B::run(ctx, std::move(task)); }

 private:
  struct State {
    std::mutex mu;
    std::int64_t countdown = -1;
    std::int64_t operations = 0;
    bool fired = false;
    absl::flat_hash_set<const void*> poisoned;  // connections a fault hit
  };
  static State& state() {
    static State* s = new State;
    return *s;
  }
  // Counts one operation (on `conn`, if any); true if it is to fail, which
  // it is anyway on a connection an earlier fault poisoned.
  static bool fault(const void* conn = nullptr) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    if (conn != nullptr && s.poisoned.contains(conn)) return true;
    ++s.operations;
    if (s.countdown < 0 || s.countdown-- != 0) return false;
    s.fired = true;
    if (conn != nullptr) s.poisoned.insert(conn);
    return true;
  }
  static bool poisoned(const void* conn) {
    std::lock_guard<std::mutex> lock(state().mu);
    return state().poisoned.contains(conn);
  }
  static absl::Status injected(std::string_view what) {
    return absl::UnavailableError(absl::StrCat("injected fault: ", absl::string_view(what.data(), what.size())));
  }
};

}  // namespace tern::testing

#endif  // TERN_TESTS_SUPPORT_FAULTY_BACKEND_H_
