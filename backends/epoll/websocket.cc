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

absl::Status WebSocket::State::closed_error() const {
  if (!close_reason.ok()) return close_reason;
  if (failed()) return error();
  return absl::FailedPreconditionError("websocket is closed");
}

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
  Want run() noexcept {
    ws::Connection& c = state->endpoint();
    for (;;) {
      if (const Want w = state->flush(); w != Want::Done) return w;
      const ws::Event e = c.next();
      if (e.type == ws::EventType::Open) {
        if (const Want w = state->flush(); w != Want::Done) return w;  // the server's 101
        result = state->failed() ? state->error() : absl::OkStatus();
        return Want::Done;
      }
      if (e.type == ws::EventType::Failed || c.state() == ws::State::Failed || state->failed()) {
        result = state->end(state->failed() ? state->error() : websocket_failure_status(c));
        return Want::Done;
      }
      if (const Want w = state->fill(); w != Want::Done) return w;
    }
  }
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
  State& s = static_cast<State&>(*transport);
  ws::Connection& c = s.endpoint();
  for (;;) {
    const ws::Event e = c.next();
    switch (e.type) {
      case ws::EventType::Message:
        // An automatic Pong waits in the write buffer.
        if (ABSL_PREDICT_FALSE(!c.pending_output().empty())) s.flush_in_background();
        result = e.message;
        return Want::Done;
      case ws::EventType::Closed:
        (void)s.end(websocket_peer_closed_status(e.message.close_code));
        result = e.message;
        return Want::Done;
      case ws::EventType::Failed:
        result = s.end(websocket_failure_status(c));
        return Want::Done;
      case ws::EventType::Open:
      case ws::EventType::None:
        break;
    }
    const ws::State state = c.state();
    if (ABSL_PREDICT_FALSE(state != ws::State::Open && state != ws::State::Closing)) {
      result = s.closed_error();
      return Want::Done;
    }
    if (const Want w = s.fill(); w != Want::Done) return w;
    if (ABSL_PREDICT_FALSE(s.failed())) {
      result = s.end(s.error());
      return Want::Done;
    }
  }
}

Want WebSocket::SendAwaiter::run() noexcept {
  State& s = static_cast<State&>(*transport);
  ws::Connection& c = s.endpoint();
  while (!framed) {
    ws::EncodeResult r{1, ws::Error::NotOpen};
    switch (kind) {
      case Kind::Text:
        r = c.send_text({reinterpret_cast<const char*>(payload.data()), payload.size()});
        break;
      case Kind::Binary: r = c.send_binary(payload); break;
      case Kind::Ping: r = c.send_ping(payload); break;
      case Kind::Pong: r = c.send_pong(payload); break;
      case Kind::Flush: break;
    }
    if (ABSL_PREDICT_TRUE(r.ok())) {
      framed = true;
      break;
    }
    if (r.error == ws::Error::NotOpen) {
      result = s.closed_error();
      return Want::Done;
    }
    // No room now, but room once the queued frames leave: write them first.
    if (r.error == ws::Error::DestinationTooSmall && !c.pending_output().empty() &&
        ws::header_size(payload.size(), c.role() == ws::Role::Client) + payload.size() <= c.write_capacity()) {
      if (const Want w = s.flush(); w != Want::Done) return w;
      if (!s.failed()) continue;
    }
    result = s.failed() ? s.closed_error() : websocket_send_status(r);
    return Want::Done;
  }
  if (const Want w = s.flush(); w != Want::Done) return w;
  if (ABSL_PREDICT_FALSE(s.failed())) {
    result = s.end(s.error());
    return Want::Done;
  }
  result = absl::OkStatus();
  return Want::Done;
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
  return SendAwaiter(*s_, SendAwaiter::Kind::Text, bytes_of(payload));
}
WebSocket::SendAwaiter WebSocket::send_binary(std::span<const std::uint8_t> payload) noexcept {
  return SendAwaiter(*s_, SendAwaiter::Kind::Binary, payload);
}
WebSocket::SendAwaiter WebSocket::send_ping(std::span<const std::uint8_t> payload) noexcept {
  return SendAwaiter(*s_, SendAwaiter::Kind::Ping, payload);
}
WebSocket::SendAwaiter WebSocket::send_pong(std::span<const std::uint8_t> payload) noexcept {
  return SendAwaiter(*s_, SendAwaiter::Kind::Pong, payload);
}
WebSocket::SendAwaiter WebSocket::flush() noexcept {
  return SendAwaiter(*s_, SendAwaiter::Kind::Flush, {});
}

namespace {
absl::Status queued_status(const WebSocket::State& s, const ws::EncodeResult& r) {
  if (r.ok()) return absl::OkStatus();
  if (r.error == ws::Error::NotOpen) return s.closed_error();
  return websocket_send_status(r);
}
}  // namespace

absl::Status WebSocket::queue_text(std::string_view payload) noexcept {
  return queued_status(*s_, s_->endpoint().send_text(payload));
}
absl::Status WebSocket::queue_binary(std::span<const std::uint8_t> payload) noexcept {
  return queued_status(*s_, s_->endpoint().send_binary(payload));
}
absl::Status WebSocket::queue_ping(std::span<const std::uint8_t> payload) noexcept {
  return queued_status(*s_, s_->endpoint().send_ping(payload));
}
absl::Status WebSocket::queue_pong(std::span<const std::uint8_t> payload) noexcept {
  return queued_status(*s_, s_->endpoint().send_pong(payload));
}

Task<absl::Status> WebSocket::close(ws::CloseCode code, std::string reason) {
  State& s = *s_;
  ws::Connection& c = s.endpoint();
  if (c.state() == ws::State::Closed || c.state() == ws::State::Failed) {
    const absl::Status why = s.closed_error();
    co_return why.ok() || absl::IsFailedPrecondition(why) ? absl::OkStatus() : why;
  }
  if (c.state() == ws::State::Open) {
    const ws::EncodeResult r = c.close(code, reason);
    if (!r.ok()) co_return websocket_send_status(r);
    s.arm_state_timer();  // close_timeout
    if (absl::Status st = co_await flush(); !st.ok()) co_return st;
  }
  // Wait for the peer's Close; data still in flight is discarded.
  absl::Status result = absl::OkStatus();
  for (;;) {
    absl::StatusOr<ws::Message> m = co_await recv();
    if (!m.ok()) {
      result = absl::IsFailedPrecondition(m.status()) ? absl::OkStatus() : m.status();
      break;
    }
    if (m->opcode == ws::Opcode::Close) break;
  }
  co_return result;
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
