// File: websocket.h
//
// WebSocket is one WebSocket connection as an Asio I/O object: a client
// (async_connect() from a ws:// or wss:// URL on an executor) or a server
// (async_accept() of a socket from an asio::ip::tcp::acceptor). It owns a
// Transport that carries the core's ws::Connection through a tls::Channel
// (TLS is the core's codec, not asio::ssl): the core makes every protocol
// decision (handshake, Pong replies, the Close echo, close codes, handshake
// and close timeouts), so behaviour and statuses are those of every tern
// backend (backends/status.h).
//
// Every async_* function takes a completion token (use_awaitable, a
// callback, use_future, experimental::deferred, ...) and completes with one
// value: void(absl::StatusOr<ws::Message>) for receives,
// void(absl::Status) for sends and close, void(absl::StatusOr<WebSocket>)
// to open. Nothing throws; errors are statuses.
//
// The fast path. A message already in the read buffer, or a frame the
// kernel takes whole, needs no waiting, but an initiating function may not
// invoke its handler, so async_* posts the result (one scheduler round
// trip) and, with use_awaitable, suspends. The coroutine helpers recv(),
// send_text(), ... and flush() check first and return without suspending
// when no wait is needed; try_recv() is the same check for any code. They
// are what the Backend traits (backend.h) use.
//
//   asio::awaitable<absl::Status> feed(asio::any_io_executor ex) {
//     auto ws = co_await tern::asio::WebSocket::async_connect(ex, "wss://feed.example/v1", {},
//                                                             asio::use_awaitable);
//     if (!ws.ok()) co_return ws.status();
//     co_await ws->send_text(R"({"op":"subscribe"})");
//     for (;;) {
//       absl::StatusOr<tern::ws::Message> m = co_await ws->recv();   // zero-copy view
//       if (!m.ok()) co_return m.status();
//     }
//   }
//
// Views: a received message's payload borrows the read buffer until the
// next receive (sending in between is fine). A send's payload is copied
// into the write buffer by the time the frame is queued: keep it valid until
// the operation completes (usually it is queued inside the initiating call).
// Batched writes: queue_text() and friends only queue; flush() writes every
// queued frame in one send(2).
//
// One receive and one send may be pending at a time (a second one completes
// with kFailedPrecondition). The connection's handlers run on its executor
// (the socket's, or the one given to async_connect): on a thread pool, use
// a strand and call the connection from it.
//
// Cancellation (per operation, through the handler's cancellation slot):
//   receive  any type: the operation ends with kCancelled; the connection
//            stays usable and no byte is lost (a partial frame stays in
//            the buffer for the next receive).
//   send     nothing of the queued bytes had left: terminal or partial
//            cancellation ends it with kCancelled and the connection stays
//            usable; its frames stay queued and leave with the next send or
//            flush (total is refused: that would be a side effect). Bytes
//            had left (a frame half-sent): terminal cancellation
//            poisons the connection (kCancelled now and for later calls; our
//            direction is shut down so the peer sees the stream end); partial
//            and total are refused and the write goes on (write_timeout
//            still bounds it).
//   close    the closing handshake is abandoned: kCancelled, connection
//            ended.
//   open     kCancelled; the connection is discarded.
// Destroying the WebSocket closes the socket: pending operations complete
// with kCancelled ("connection destroyed").
#ifndef TERN_BACKENDS_ASIO_WEBSOCKET_H_
#define TERN_BACKENDS_ASIO_WEBSOCKET_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asio/any_io_executor.hpp"
#include "asio/async_result.hpp"
#include "asio/awaitable.hpp"
#include "asio/ip/tcp.hpp"
#include "backends/asio/op.h"
#include "backends/asio/spawn.h"
#include "backends/asio/transport.h"
#include "backends/options.h"
#include "backends/owned_message.h"
#include "core/ws/connection.h"

namespace tern::asio {

using WebSocketOptions = ::tern::WebSocketOptions;

namespace detail {

using WsTransport = Transport<ws::Connection>;
using SendKind = ::tern::steps::WsSend;

struct RecvOp : OpOn<ws::Connection> {
  static constexpr Side kSide = Side::Reader;
  using Result = absl::StatusOr<ws::Message>;
  explicit RecvOp(WsTransport& t, Want first = Want::Done) noexcept : OpOn(t, kSide) { this->first = first; }
  static Want run(Op* op) noexcept;
  Result result{ws::Message{}};
};

struct SendOp : OpOn<ws::Connection> {
  static constexpr Side kSide = Side::Writer;
  using Result = absl::Status;
  SendOp(WsTransport& t, SendKind kind, std::span<const std::uint8_t> payload) noexcept
      : OpOn(t, kSide), kind(kind), payload(payload) {}
  static Want run(Op* op) noexcept;
  Result result;
  SendKind kind;
  bool framed = false;  // the frame is in the write buffer
  std::span<const std::uint8_t> payload;
};

struct CloseOp : OpOn<ws::Connection> {
  static constexpr Side kSide = Side::Reader;
  using Result = absl::Status;
  CloseOp(WsTransport& t, ws::CloseCode code, std::string reason) noexcept
      : OpOn(t, kSide), code(code), reason(std::move(reason)) {}
  static Want run(Op* op) noexcept;
  Result result;
  ws::CloseCode code;
  std::string reason;
  bool started = false;
};

// The opening handshake (TLS inside it) to Open or failure.
struct OpenOp : OpOn<ws::Connection> {
  static constexpr Side kSide = Side::Reader;
  using Result = absl::Status;
  explicit OpenOp(WsTransport& t) noexcept : OpOn(t, kSide) {}
  static Want run(Op* op) noexcept;
  Result result;
};

}  // namespace detail

class WebSocket {
 public:
  using executor_type = ::asio::any_io_executor;
  using OwnedMessage = ::tern::OwnedMessage;
  struct State;

  // Resolves, connects, runs TLS (wss://) and the upgrade, on `executor`.
  // Completion: void(absl::StatusOr<WebSocket>).
  template <typename Token>
  static auto async_connect(executor_type executor, std::string url, WebSocketOptions options, Token&& token);
  // TLS (when options.tls is set) and the upgrade on an accepted socket; the
  // connection runs on the socket's executor.
  template <typename Token>
  static auto async_accept(::asio::ip::tcp::socket socket, WebSocketOptions options, Token&& token);

  WebSocket(WebSocket&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  WebSocket& operator=(WebSocket&& o) noexcept;
  ~WebSocket();

  // --- receiving ------------------------------------------------------------
  // The next message (Text, Binary, Ping already answered, Pong, or the
  // peer's Close, already answered), or the error. Completion:
  // void(absl::StatusOr<ws::Message>).
  template <typename Token>
  auto async_recv(Token&& token);
  // A message from bytes already received, without any I/O; nullopt when
  // the next one needs a read (then use async_recv()).
  std::optional<absl::StatusOr<ws::Message>> try_recv() noexcept;
  // try_recv(), else co_await async_recv(use_awaitable).
  ::asio::awaitable<absl::StatusOr<ws::Message>> recv();
  ::asio::awaitable<absl::StatusOr<OwnedMessage>> recv_owned();

  // --- sending --------------------------------------------------------------
  // One frame queued and written (with anything queued before it).
  // Completion: void(absl::Status), OK once it has all left.
  template <typename Token>
  auto async_send_text(std::string_view payload, Token&& token);
  template <typename Token>
  auto async_send_binary(std::span<const std::uint8_t> payload, Token&& token);
  template <typename Token>
  auto async_send_ping(std::span<const std::uint8_t> payload, Token&& token);
  template <typename Token>
  auto async_send_pong(std::span<const std::uint8_t> payload, Token&& token);
  // Writes everything queued.
  template <typename Token>
  auto async_flush(Token&& token);
  // The same, suspending only when the kernel does not take it all at once.
  ::asio::awaitable<absl::Status> send_text(std::string_view payload);
  ::asio::awaitable<absl::Status> send_binary(std::span<const std::uint8_t> payload);
  ::asio::awaitable<absl::Status> send_ping(std::span<const std::uint8_t> payload = {});
  ::asio::awaitable<absl::Status> send_pong(std::span<const std::uint8_t> payload = {});
  ::asio::awaitable<absl::Status> flush();
  // Batched writes: queue frames (no syscall), then flush.
  absl::Status queue_text(std::string_view payload) noexcept;
  absl::Status queue_binary(std::span<const std::uint8_t> payload) noexcept;
  absl::Status queue_ping(std::span<const std::uint8_t> payload = {}) noexcept;
  absl::Status queue_pong(std::span<const std::uint8_t> payload = {}) noexcept;

  // --- closing --------------------------------------------------------------
  // Sends Close, waits up to close_timeout for the peer's (discarding
  // data), then ends our side. OK if the peer answered. Uses the receive
  // side. Completion: void(absl::Status).
  template <typename Token>
  auto async_close(ws::CloseCode code, std::string reason, Token&& token);
  ::asio::awaitable<absl::Status> close(ws::CloseCode code = ws::CloseCode::Normal, std::string reason = {});

  executor_type get_executor() const noexcept;
  bool is_open() const noexcept;
  ws::Role role() const noexcept;
  std::string_view subprotocol() const noexcept;
  std::optional<ws::Error> protocol_error() const noexcept;
  const ws::Connection& connection() const noexcept;
  // Socket reads and writes so far (completed reads; direct and
  // asynchronous writes).
  std::uint64_t read_calls() const noexcept;
  std::uint64_t write_calls() const noexcept;
  // Operations that did not fit the connection's own memory (tests: 0).
  std::size_t overflows() const noexcept;
  // Times the idle connection gave its buffers back (release_memory_when_idle).
  std::uint64_t memory_releases() const noexcept;

 private:
  explicit WebSocket(State* s) noexcept : s_(s) {}
  detail::WsTransport& transport() const noexcept;
  static ::asio::awaitable<absl::StatusOr<WebSocket>> connect_impl(executor_type executor, std::string url,
                                                                    WebSocketOptions options);
  static ::asio::awaitable<absl::StatusOr<WebSocket>> accept_impl(::asio::ip::tcp::socket socket,
                                                                   WebSocketOptions options);
  static ::asio::awaitable<absl::StatusOr<WebSocket>> open(State* state);
  template <typename Token>
  auto async_send(detail::SendKind kind, std::span<const std::uint8_t> payload, Token&& token);
  ::asio::awaitable<absl::Status> send(detail::SendKind kind, std::span<const std::uint8_t> payload);
  template <typename Token>
  auto async_open(Token&& token);
  // async_recv() for a caller that has just found it must wait `first`.
  template <typename Token>
  auto async_recv_waiting(detail::Want first, Token&& token);

  State* s_;
};

// --- templates ----------------------------------------------------------------

template <typename Token>
auto WebSocket::async_connect(executor_type executor, std::string url, WebSocketOptions options, Token&& token) {
  return ::asio::async_initiate<Token, void(absl::StatusOr<WebSocket>)>(
      [](auto handler, executor_type ex, std::string url, WebSocketOptions o) {
        detail::spawn(ex, connect_impl(ex, std::move(url), std::move(o)), std::move(handler));
      },
      token, std::move(executor), std::move(url), std::move(options));
}

template <typename Token>
auto WebSocket::async_accept(::asio::ip::tcp::socket socket, WebSocketOptions options, Token&& token) {
  return ::asio::async_initiate<Token, void(absl::StatusOr<WebSocket>)>(
      [](auto handler, ::asio::ip::tcp::socket socket, WebSocketOptions o) {
        executor_type ex = socket.get_executor();
        detail::spawn(ex, accept_impl(std::move(socket), std::move(o)), std::move(handler));
      },
      token, std::move(socket), std::move(options));
}

template <typename Token>
auto WebSocket::async_recv(Token&& token) {
  return ::asio::async_initiate<Token, void(absl::StatusOr<ws::Message>)>(
      [](auto handler, detail::WsTransport* t) { t->start<detail::RecvOp>(std::move(handler)); }, token,
      &transport());
}

template <typename Token>
auto WebSocket::async_recv_waiting(detail::Want first, Token&& token) {
  return ::asio::async_initiate<Token, void(absl::StatusOr<ws::Message>)>(
      [](auto handler, detail::WsTransport* t, detail::Want first) {
        t->start<detail::RecvOp>(std::move(handler), first);
      },
      token, &transport(), first);
}

template <typename Token>
auto WebSocket::async_send(detail::SendKind kind, std::span<const std::uint8_t> payload, Token&& token) {
  return ::asio::async_initiate<Token, void(absl::Status)>(
      [](auto handler, detail::WsTransport* t, detail::SendKind kind, std::span<const std::uint8_t> payload) {
        t->start<detail::SendOp>(std::move(handler), kind, payload);
      },
      token, &transport(), kind, payload);
}

template <typename Token>
auto WebSocket::async_send_text(std::string_view payload, Token&& token) {
  return async_send(detail::SendKind::Text,
                    {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()},
                    std::forward<Token>(token));
}
template <typename Token>
auto WebSocket::async_send_binary(std::span<const std::uint8_t> payload, Token&& token) {
  return async_send(detail::SendKind::Binary, payload, std::forward<Token>(token));
}
template <typename Token>
auto WebSocket::async_send_ping(std::span<const std::uint8_t> payload, Token&& token) {
  return async_send(detail::SendKind::Ping, payload, std::forward<Token>(token));
}
template <typename Token>
auto WebSocket::async_send_pong(std::span<const std::uint8_t> payload, Token&& token) {
  return async_send(detail::SendKind::Pong, payload, std::forward<Token>(token));
}
template <typename Token>
auto WebSocket::async_flush(Token&& token) {
  return async_send(detail::SendKind::Flush, {}, std::forward<Token>(token));
}

template <typename Token>
auto WebSocket::async_close(ws::CloseCode code, std::string reason, Token&& token) {
  return ::asio::async_initiate<Token, void(absl::Status)>(
      [](auto handler, detail::WsTransport* t, ws::CloseCode code, std::string reason) {
        t->start<detail::CloseOp>(std::move(handler), code, std::move(reason));
      },
      token, &transport(), code, std::move(reason));
}

template <typename Token>
auto WebSocket::async_open(Token&& token) {
  return ::asio::async_initiate<Token, void(absl::Status)>(
      [](auto handler, detail::WsTransport* t) { t->start<detail::OpenOp>(std::move(handler)); }, token,
      &transport());
}

}  // namespace tern::asio

#endif  // TERN_BACKENDS_ASIO_WEBSOCKET_H_
