// File: websocket.h
//
// WebSocket is one WebSocket connection on the epoll backend, client
// (connect() from a ws:// or wss:// URL) or server (accept() a Socket from a
// Listener), written as coroutines on an EventLoop. It owns a Transport that
// carries the core's ws::Connection through a tls::Channel: the core makes
// every protocol decision (handshake, Pong replies, the Close echo, close
// codes, handshake and close timeouts), this class only moves bytes and
// arms timers, so behaviour and error statuses are those of every tern
// backend (backends/status.h).
//
// recv() is an awaitable, not a Task: a message already in the read buffer
// is returned without suspending and without allocating; its payload borrows
// the read buffer until the next recv() (sending in between is fine).
// Sending: send_text() and friends queue one frame and write it (one
// send(2) when the kernel takes it all, else the coroutine waits for
// EPOLLOUT); queue_text() and friends only queue, and flush() writes
// everything queued in one send(2): batched frames.
//
// One reader and one writer at a time: a second coroutine awaiting recv()
// (or a send) while another waits is not supported.
//
//   tern::epoll::EventLoop loop;
//   loop.spawn([&]() -> tern::epoll::Task<absl::Status> {
//     auto ws = co_await tern::epoll::WebSocket::connect(loop, "ws://127.0.0.1:9001/", {});
//     if (!ws.ok()) co_return ws.status();
//     co_await ws->send_text("hello");
//     auto m = co_await ws->recv();
//     co_return m.status();
//   });
//   loop.run();
#ifndef TERN_BACKENDS_EPOLL_WEBSOCKET_H_
#define TERN_BACKENDS_EPOLL_WEBSOCKET_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/epoll/event_loop.h"
#include "backends/epoll/socket.h"
#include "backends/epoll/task.h"
#include "backends/epoll/transport.h"
#include "backends/options.h"
#include "backends/owned_message.h"
#include "core/ws/connection.h"

namespace tern::epoll {

using WebSocketOptions = ::tern::WebSocketOptions;

class WebSocket {
 public:
  using OwnedMessage = ::tern::OwnedMessage;

  static Task<absl::StatusOr<WebSocket>> connect(EventLoop& loop, std::string url,
                                                 WebSocketOptions options = {});
  // TLS (when options.tls is set) and the upgrade, on a socket accepted
  // from a Listener.
  static Task<absl::StatusOr<WebSocket>> accept(EventLoop& loop, Socket socket,
                                                WebSocketOptions options = {});

  WebSocket(WebSocket&&) noexcept = default;
  WebSocket& operator=(WebSocket&&) noexcept = default;
  ~WebSocket();

  struct State;
  struct RecvAwaiter;
  struct SendAwaiter;
  struct CloseAwaiter;

  // co_await: the next message (Text, Binary, Ping already answered, Pong,
  // or the peer's Close, already answered), or the error.
  RecvAwaiter recv() noexcept;
  Task<absl::StatusOr<OwnedMessage>> recv_owned();

  // co_await: OK once the frame (and anything queued before it) is written.
  SendAwaiter send_text(std::string_view payload) noexcept;
  SendAwaiter send_binary(std::span<const std::uint8_t> payload) noexcept;
  SendAwaiter send_ping(std::span<const std::uint8_t> payload = {}) noexcept;
  SendAwaiter send_pong(std::span<const std::uint8_t> payload = {}) noexcept;
  // Batched writes: queue frames (no syscall), then co_await flush().
  absl::Status queue_text(std::string_view payload) noexcept;
  absl::Status queue_binary(std::span<const std::uint8_t> payload) noexcept;
  absl::Status queue_ping(std::span<const std::uint8_t> payload = {}) noexcept;
  absl::Status queue_pong(std::span<const std::uint8_t> payload = {}) noexcept;
  SendAwaiter flush() noexcept;

  // The closing handshake: sends Close, waits up to close_timeout for the
  // peer's (discarding data), then ends our side. OK if the peer answered.
  Task<absl::Status> close(ws::CloseCode code = ws::CloseCode::Normal, std::string reason = {});

  bool is_open() const noexcept;
  ws::Role role() const noexcept;
  std::string_view subprotocol() const noexcept;
  std::optional<ws::Error> protocol_error() const noexcept;
  const ws::Connection& connection() const noexcept;
  // read(2) and send(2) calls on this connection so far.
  std::uint64_t read_calls() const noexcept;
  std::uint64_t write_calls() const noexcept;

 private:
  explicit WebSocket(std::unique_ptr<State> s) noexcept : s_(std::move(s)) {}
  static Task<absl::StatusOr<WebSocket>> open(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

struct WebSocket::State : detail::Transport<ws::Connection> {
  State(EventLoop& loop, int fd, const WebSocketOptions& o, tls::Channel channel, ws::Connection conn) noexcept;
  // Arms the core's timeout for the current state (handshake, close).
  void arm_state_timer() noexcept;
  // The status later calls return once the connection has ended.
  absl::Status closed_error() const;
  // Records how the connection ended (first wins) and lets the core's
  // queued Close or rejection leave before our side closes.
  absl::Status end(absl::Status why) noexcept;

  struct StateTimer : detail::Timer {
    State* owner = nullptr;
  };
  StateTimer state_timer;
  absl::Status close_reason;
};

struct WebSocket::RecvAwaiter : detail::TransportOp<RecvAwaiter, absl::StatusOr<ws::Message>> {
  explicit RecvAwaiter(State& s) noexcept : TransportOp(s) {}
  detail::Want run() noexcept;
};

struct WebSocket::SendAwaiter : detail::TransportOp<SendAwaiter, absl::Status> {
  SendAwaiter(State& s, steps::WsSend kind, std::span<const std::uint8_t> payload) noexcept
      : TransportOp(s), kind(kind), payload(payload) {
    writer = true;
  }
  detail::Want run() noexcept;

  steps::WsSend kind;
  bool framed = false;  // the frame is in the write buffer
  std::span<const std::uint8_t> payload;
};

// Our Close, then the peer's (close_timeout bounds the wait).
struct WebSocket::CloseAwaiter : detail::TransportOp<CloseAwaiter, absl::Status> {
  CloseAwaiter(State& s, ws::CloseCode code, std::string_view reason) noexcept
      : TransportOp(s), code(code), reason(reason) {}
  detail::Want run() noexcept;

  ws::CloseCode code;
  bool started = false;  // our Close is queued (or was not needed)
  std::string_view reason;  // the caller's, alive across the co_await
};

}  // namespace tern::epoll

#endif  // TERN_BACKENDS_EPOLL_WEBSOCKET_H_
