// tern example: WebSocket connections as Asio I/O objects.
//
// One io_context, one thread: a tern WebSocket echo server accepting from an
// ordinary asio::ip::tcp::acceptor, and a client written three ways, as an
// Asio user would: a coroutine (use_awaitable, through the helpers that do
// not suspend when nothing needs to wait), plain callbacks, and a
// cancellation through a cancellation slot. No second event loop: tern's
// connections are operations on the user's io_context.
//
//   bazel run //docs/examples:asio_demo [-- messages]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

#include "asio/bind_cancellation_slot.hpp"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/experimental/as_tuple.hpp"
#include "asio/io_context.hpp"
#include "asio/steady_timer.hpp"
#include "asio/this_coro.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/asio/socket.h"
#include "backends/asio/websocket.h"

namespace {

using ::asio::use_awaitable;
using tern::asio::WebSocket;

// The server: every accepted socket becomes a WebSocket echoing Text and
// Binary until the client closes (Pings and the Close are answered by tern).
::asio::awaitable<void> serve(::asio::ip::tcp::socket socket) {
  absl::StatusOr<WebSocket> ws = co_await WebSocket::async_accept(std::move(socket), {}, use_awaitable);
  if (!ws.ok()) co_return;
  for (;;) {
    absl::StatusOr<tern::ws::Message> m = co_await ws->recv();  // a view into the read buffer
    if (!m.ok() || m->opcode == tern::ws::Opcode::Close) co_return;
    if (m->opcode == tern::ws::Opcode::Text) (void)co_await ws->send_text(m->text());
    if (m->opcode == tern::ws::Opcode::Binary) (void)co_await ws->send_binary(m->payload);
  }
}

::asio::awaitable<void> accept_loop(::asio::ip::tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(::asio::experimental::as_tuple(use_awaitable));
    if (ec) co_return;
    ::asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), ::asio::detached);
  }
}

// A coroutine client: echoes `count` messages, then batches, then closes.
::asio::awaitable<absl::Status> coroutine_client(std::string url, int count) {
  auto ex = co_await ::asio::this_coro::executor;
  tern::WebSocketOptions o;
  o.socket.read_timeout = absl::Seconds(5);  // no silent hangs
  absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(ex, url, o, use_awaitable);
  if (!ws.ok()) co_return ws.status();
  const std::string text = R"({"op":"subscribe","channel":"trades"})";
  for (int i = 0; i < count; ++i) {
    // Returns without suspending when the kernel takes the frame at once.
    if (absl::Status st = co_await ws->send_text(text); !st.ok()) co_return st;
    absl::StatusOr<tern::ws::Message> m = co_await ws->recv();
    if (!m.ok()) co_return m.status();
    if (m->text() != text) co_return absl::DataLossError("echo differs");
  }
  std::printf("coroutine client: %d messages echoed\n", count);
  // Batched writes: three frames, one send(2).
  for (const char* part : {"a", "b", "c"}) {
    if (absl::Status st = ws->queue_text(part); !st.ok()) co_return st;
  }
  if (absl::Status st = co_await ws->flush(); !st.ok()) co_return st;
  std::string batch;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<tern::ws::Message> m = co_await ws->recv();
    if (!m.ok()) co_return m.status();
    batch += m->text();
  }
  std::printf("coroutine client: batch echoed as \"%s\"\n", batch.c_str());
  // Cancelling a receive: the operation ends with kCancelled and the
  // connection stays usable (nothing received is lost).
  ::asio::cancellation_signal cancel;
  ::asio::steady_timer timer(ex, std::chrono::milliseconds(20));
  timer.async_wait([&cancel](std::error_code ec) {
    if (!ec) cancel.emit(::asio::cancellation_type::terminal);
  });
  absl::StatusOr<tern::ws::Message> nothing =
      co_await ws->async_recv(::asio::bind_cancellation_slot(cancel.slot(), use_awaitable));
  std::printf("coroutine client: idle receive cancelled (%s), still open: %s\n",
              absl::StatusCodeToString(nothing.status().code()).c_str(), ws->is_open() ? "yes" : "no");
  co_return co_await ws->close(tern::ws::CloseCode::Normal, "bye");
}

// The same client with plain callbacks: each completion starts the next
// operation. Handlers run on the io_context, never inside the call.
struct CallbackClient {
  std::optional<WebSocket> ws;
  int left = 0;
  int echoed = 0;
  std::string text = "tick";
  std::optional<absl::Status> result;
  std::function<void()> on_done;

  void start(::asio::io_context& io, const std::string& url, int count) {
    left = count;
    WebSocket::async_connect(io.get_executor(), url, {}, [this](absl::StatusOr<WebSocket> w) {
      if (!w.ok()) return done(w.status());
      ws.emplace(*std::move(w));
      round();
    });
  }
  void round() {
    ws->async_send_text(text, [this](absl::Status st) {
      if (!st.ok()) return done(st);
      ws->async_recv([this](absl::StatusOr<tern::ws::Message> m) {
        if (!m.ok()) return done(m.status());
        ++echoed;
        if (--left > 0) return round();
        ws->async_close(tern::ws::CloseCode::Normal, "", [this](absl::Status st) { done(st); });
      });
    });
  }
  void done(const absl::Status& st) {
    std::printf("callback client: %d messages echoed, %s\n", echoed, st.ok() ? "closed" : st.ToString().c_str());
    result = st;
    ws.reset();  // inside its own handler: fine, pending work ends with it
    on_done();
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 10000;
  ::asio::io_context io;
  absl::StatusOr<::asio::ip::tcp::acceptor> acceptor = tern::asio::listen(io.get_executor(), "127.0.0.1", 0);
  if (!acceptor.ok()) {
    std::printf("listen: %s\n", acceptor.status().ToString().c_str());
    return 1;
  }
  const std::string url = "ws://127.0.0.1:" + std::to_string(acceptor->local_endpoint().port()) + "/";
  ::asio::co_spawn(io, accept_loop(*acceptor), ::asio::detached);

  std::optional<absl::Status> coroutine_result;
  CallbackClient callbacks;
  // When both clients are done, stop accepting: io.run() then returns.
  auto finish = [&] {
    if (coroutine_result && callbacks.result) acceptor->close();
  };
  callbacks.on_done = finish;
  ::asio::co_spawn(io, coroutine_client(url, count), [&](std::exception_ptr, absl::Status st) {
    if (!st.ok()) std::printf("coroutine client: %s\n", st.ToString().c_str());
    coroutine_result = st;
    finish();
  });
  callbacks.start(io, url, count);

  io.run();  // both clients and the server interleave on this one thread
  const bool ok = coroutine_result && coroutine_result->ok() && callbacks.result && callbacks.result->ok() &&
                  callbacks.echoed == count;
  std::printf("asio_demo: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
