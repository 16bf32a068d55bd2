#include "backends/epoll/websocket.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/status.h"
#include "backends/urls.h"
#include "core/url/url.h"

namespace tern::epoll {

using detail::Want;

WebSocket::State::State(EventLoop& loop, int fd, const WebSocketOptions& o, tls::Channel channel,
                        ws::Connection conn) noexcept
    : Transport(loop, fd, o.socket, std::move(channel), std::move(conn)) {
  state_timer.owner = this;
  state_timer.fire = [](detail::Timer* t) {
    State* self = static_cast<StateTimer*>(t)->owner;
    // The core decides what running out means (handshake or close timeout).
    self->endpoint().expire();
    if (self->endpoint().state() == ws::State::Failed) {
      (void)self->end(websocket_failure_status(self->endpoint()));
    }
    self->wake_reader();
  };
}

void WebSocket::State::arm_state_timer() noexcept {
  const absl::Duration t = endpoint().timeout();
  if (t == absl::InfiniteDuration()) {
    loop().cancel(state_timer);
  } else {
    loop().schedule(state_timer, loop().now_ns() + EventLoop::to_ns(t));
  }
}

absl::Status WebSocket::State::closed_error() const { return steps::ws_closed_error(*this); }

absl::Status WebSocket::State::end(absl::Status why) noexcept {
  if (close_reason.ok()) close_reason = why;
  loop().cancel(state_timer);
  flush_then_close();
  return why;
}

WebSocket::~WebSocket() = default;

Task<absl::StatusOr<WebSocket>> WebSocket::connect(EventLoop& loop, std::string url_text,
                                                   WebSocketOptions o) {
  absl::StatusOr<Url> parsed = websocket_url(url_text);
  if (!parsed.ok()) co_return parsed.status();
  const Url& url = *parsed;
  absl::StatusOr<ws::Connection> conn = ws::Connection::client(url, connection_options(o));
  if (!conn.ok()) co_return conn.status();
  absl::StatusOr<tls::Channel> channel = tls::Channel::for_url(url, o.tls);
  if (!channel.ok()) co_return channel.status();
  absl::StatusOr<Socket> socket = co_await connect_tcp(loop, std::string(url.host), url.port, o.socket);
  if (!socket.ok()) co_return socket.status();
  auto state = std::make_unique<State>(loop, socket->release(), o, *std::move(channel), *std::move(conn));
  co_return co_await open(std::move(state));
}

Task<absl::StatusOr<WebSocket>> WebSocket::accept(EventLoop& loop, Socket socket, WebSocketOptions o) {
  absl::StatusOr<ws::Connection> conn = ws::Connection::server(connection_options(o));
  if (!conn.ok()) co_return conn.status();
  absl::StatusOr<tls::Channel> channel =
      o.tls != nullptr ? tls::Channel::server(*o.tls) : absl::StatusOr<tls::Channel>(tls::Channel::plain());
  if (!channel.ok()) co_return channel.status();
  auto state = std::make_unique<State>(loop, socket.release(), o, *std::move(channel), *std::move(conn));
  co_return co_await open(std::move(state));
}

namespace {

// Runs the opening handshake (TLS inside it) to Open or failure.
struct OpenAwaiter : detail::TransportOp<OpenAwaiter, absl::Status> {
  explicit OpenAwaiter(WebSocket::State& s) noexcept : TransportOp(s), state(&s) {}
  Want run() noexcept { return steps::ws_open(*state, result); }
  WebSocket::State* state;
};

}  // namespace

Task<absl::StatusOr<WebSocket>> WebSocket::open(std::unique_ptr<State> s) {
  if (absl::Status st = s->start(); !st.ok()) co_return st;
  s->arm_state_timer();  // handshake_timeout
  absl::Status st = co_await OpenAwaiter(*s);
  if (!st.ok()) co_return st;
  s->arm_state_timer();  // none while Open
  co_return WebSocket(std::move(s));
}

Want WebSocket::RecvAwaiter::run() noexcept {
  return steps::ws_recv(static_cast<State&>(*transport), result);
}

Want WebSocket::SendAwaiter::run() noexcept {
  return steps::ws_send(static_cast<State&>(*transport), kind, payload, framed, result);
}

Want WebSocket::CloseAwaiter::run() noexcept {
  return steps::ws_close(static_cast<State&>(*transport), code, reason, started, result);
}

WebSocket::RecvAwaiter WebSocket::recv() noexcept { return RecvAwaiter(*s_); }

Task<absl::StatusOr<WebSocket::OwnedMessage>> WebSocket::recv_owned() {
  absl::StatusOr<ws::Message> m = co_await recv();
  if (!m.ok()) co_return m.status();
  co_return to_owned(*m);
}

namespace {
std::span<const std::uint8_t> bytes_of(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

WebSocket::SendAwaiter WebSocket::send_text(std::string_view payload) noexcept {
  return SendAwaiter(*s_, steps::WsSend::Text, bytes_of(payload));
}
WebSocket::SendAwaiter WebSocket::send_binary(std::span<const std::uint8_t> payload) noexcept {
  return SendAwaiter(*s_, steps::WsSend::Binary, payload);
}
WebSocket::SendAwaiter WebSocket::send_ping(std::span<const std::uint8_t> payload) noexcept {
  return SendAwaiter(*s_, steps::WsSend::Ping, payload);
}
WebSocket::SendAwaiter WebSocket::send_pong(std::span<const std::uint8_t> payload) noexcept {
  return SendAwaiter(*s_, steps::WsSend::Pong, payload);
}
WebSocket::SendAwaiter WebSocket::flush() noexcept {
  return SendAwaiter(*s_, steps::WsSend::Flush, {});
}

absl::Status WebSocket::queue_text(std::string_view payload) noexcept {
  return steps::ws_queued_status(*s_, s_->endpoint().send_text(payload));
}
absl::Status WebSocket::queue_binary(std::span<const std::uint8_t> payload) noexcept {
  return steps::ws_queued_status(*s_, s_->endpoint().send_binary(payload));
}
absl::Status WebSocket::queue_ping(std::span<const std::uint8_t> payload) noexcept {
  return steps::ws_queued_status(*s_, s_->endpoint().send_ping(payload));
}
absl::Status WebSocket::queue_pong(std::span<const std::uint8_t> payload) noexcept {
  return steps::ws_queued_status(*s_, s_->endpoint().send_pong(payload));
}

Task<absl::Status> WebSocket::close(ws::CloseCode code, std::string reason) {
  co_return co_await CloseAwaiter(*s_, code, reason);
}

bool WebSocket::is_open() const noexcept { return s_ && s_->endpoint().is_open(); }
ws::Role WebSocket::role() const noexcept { return s_->endpoint().role(); }
std::string_view WebSocket::subprotocol() const noexcept { return s_->endpoint().subprotocol(); }
std::optional<ws::Error> WebSocket::protocol_error() const noexcept {
  const ws::Failure& f = s_->endpoint().failure();
  return f.cause == ws::FailureCause::Protocol ? std::optional<ws::Error>(f.frame_error) : std::nullopt;
}
const ws::Connection& WebSocket::connection() const noexcept { return s_->endpoint(); }
std::uint64_t WebSocket::read_calls() const noexcept { return s_->read_calls(); }
std::uint64_t WebSocket::write_calls() const noexcept { return s_->write_calls(); }

}  // namespace tern::epoll
