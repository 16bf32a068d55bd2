#include "backends/asio/websocket.h"

#include <utility>

#include "absl/base/optimization.h"
#include "asio/this_coro.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/asio/socket.h"
#include "backends/status.h"
#include "backends/urls.h"
#include "core/url/url.h"

namespace tern::asio {

using detail::Side;
using detail::Want;

struct WebSocket::State : detail::WsTransport {
  State(::asio::ip::tcp::socket socket, const WebSocketOptions& o, tls::Channel channel, ws::Connection conn)
      : detail::WsTransport(std::move(socket), o.socket, std::move(channel), std::move(conn)) {
    on_state_timeout = [](detail::WsTransport* t) noexcept {
      auto* self = static_cast<State*>(t);
      // The core decides what running out means (handshake or close timeout).
      self->endpoint().expire();
      if (self->endpoint().state() == ws::State::Failed) {
        (void)self->end(websocket_failure_status(self->endpoint()));
      }
    };
  }
  // Arms the core's timeout for the current state (handshake, close).
  void arm_state_timer() noexcept { set_state_timeout(endpoint().timeout()); }
  // The status later calls return once the connection has ended.
  absl::Status closed_error() const { return steps::ws_closed_error(*this); }
  // Records how the connection ended (first wins) and lets the core's
  // queued Close or rejection leave before our side closes.
  absl::Status end(absl::Status why) noexcept {
    if (close_reason.ok()) close_reason = why;
    set_state_timeout(absl::InfiniteDuration());
    flush_then_close();
    return why;
  }

  absl::Status close_reason;
};

namespace detail {
namespace {

using State = WebSocket::State;

absl::Status destroyed() { return absl::CancelledError("connection destroyed"); }

State& state_of(Op* op) { return static_cast<State&>(static_cast<OpOn<ws::Connection>*>(op)->transport()); }

}  // namespace

Want RecvOp::run(Op* op) noexcept {
  auto* self = static_cast<RecvOp*>(op);
  State& s = state_of(op);
  if (ABSL_PREDICT_FALSE(s.closed())) {
    self->result = destroyed();
    return Want::Done;
  }
  if (ABSL_PREDICT_FALSE(self->cancelled != ::asio::cancellation_type::none)) {
    // Whatever arrived stays buffered for the next receive.
    self->result = absl::CancelledError("websocket receive cancelled");
    return Want::Done;
  }
  return steps::ws_recv(s, self->result);
}

Want SendOp::run(Op* op) noexcept {
  auto* self = static_cast<SendOp*>(op);
  State& s = state_of(op);
  if (ABSL_PREDICT_FALSE(s.closed())) {
    self->result = destroyed();
    return Want::Done;
  }
  if (ABSL_PREDICT_FALSE(self->cancelled != ::asio::cancellation_type::none)) {
    using ::asio::cancellation_type;
    const bool terminal = (self->cancelled & cancellation_type::terminal) != cancellation_type::none;
    const bool partial = (self->cancelled & cancellation_type::partial) != cancellation_type::none;
    if (self->framed && s.channel().output(s.endpoint()).empty()) {
      self->result = absl::OkStatus();  // it all left before the cancellation took effect
      return Want::Done;
    }
    if (!self->framed) {
      // Still waiting for room: nothing of this send was queued.
      self->result = absl::CancelledError("websocket send cancelled");
      return Want::Done;
    }
    if (s.nothing_half_sent() && (terminal || partial)) {
      // Every queued frame is whole: they stay queued for the next flush.
      self->result = absl::CancelledError("websocket send cancelled");
      return Want::Done;
    }
    if (!s.nothing_half_sent() && terminal) {
      const absl::Status why = absl::CancelledError("websocket send cancelled with a frame half-sent");
      s.set_error(why);
      s.endpoint().abort();
      self->result = s.end(why);
      return Want::Done;
    }
    self->cancelled = cancellation_type::none;  // refused: the write goes on
  }
  return steps::ws_send(s, self->kind, self->payload, self->framed, self->result);
}

Want CloseOp::run(Op* op) noexcept {
  auto* self = static_cast<CloseOp*>(op);
  State& s = state_of(op);
  ws::Connection& c = s.endpoint();
  if (ABSL_PREDICT_FALSE(s.closed())) {
    self->result = destroyed();
    return Want::Done;
  }
  if (ABSL_PREDICT_FALSE(self->cancelled != ::asio::cancellation_type::none)) {
    c.abort();
    self->result = s.end(absl::CancelledError("websocket close cancelled"));
    return Want::Done;
  }
  return steps::ws_close(s, self->code, self->reason, self->started, self->result);
}

Want OpenOp::run(Op* op) noexcept {
  auto* self = static_cast<OpenOp*>(op);
  State& s = state_of(op);
  ws::Connection& c = s.endpoint();
  if (ABSL_PREDICT_FALSE(s.closed())) {
    self->result = destroyed();
    return Want::Done;
  }
  if (ABSL_PREDICT_FALSE(self->cancelled != ::asio::cancellation_type::none)) {
    c.abort();
    self->result = s.end(absl::CancelledError("websocket handshake cancelled"));
    return Want::Done;
  }
  return steps::ws_open(s, self->result);
}

}  // namespace detail

// --- opening ----------------------------------------------------------------

::asio::awaitable<absl::StatusOr<WebSocket>> WebSocket::connect_impl(executor_type ex, std::string url_text,
                                                                     WebSocketOptions o) {
  co_await ::asio::this_coro::throw_if_cancelled(false);
  absl::StatusOr<Url> parsed = websocket_url(url_text);
  if (!parsed.ok()) co_return parsed.status();
  const Url& url = *parsed;
  absl::StatusOr<ws::Connection> conn = ws::Connection::client(url, connection_options(o));
  if (!conn.ok()) co_return conn.status();
  absl::StatusOr<tls::Channel> channel = tls::Channel::for_url(url, o.tls);
  if (!channel.ok()) co_return channel.status();
  absl::StatusOr<::asio::ip::tcp::socket> socket =
      co_await connect_socket(ex, std::string(url.host), url.port, o.socket);
  if (!socket.ok()) co_return socket.status();
  co_return co_await open(new State(*std::move(socket), o, *std::move(channel), *std::move(conn)));
}

::asio::awaitable<absl::StatusOr<WebSocket>> WebSocket::accept_impl(::asio::ip::tcp::socket socket,
                                                                    WebSocketOptions o) {
  co_await ::asio::this_coro::throw_if_cancelled(false);
  absl::StatusOr<ws::Connection> conn = ws::Connection::server(connection_options(o));
  if (!conn.ok()) co_return conn.status();
  absl::StatusOr<tls::Channel> channel =
      o.tls != nullptr ? tls::Channel::server(*o.tls) : absl::StatusOr<tls::Channel>(tls::Channel::plain());
  if (!channel.ok()) co_return channel.status();
  co_return co_await open(new State(std::move(socket), o, *std::move(channel), *std::move(conn)));
}

::asio::awaitable<absl::StatusOr<WebSocket>> WebSocket::open(State* state) {
  WebSocket ws(state);
  state->arm_state_timer();  // handshake_timeout, from the TCP connect
  absl::Status st = co_await ws.async_open(::asio::use_awaitable);
  if (!st.ok()) co_return st;
  state->arm_state_timer();  // none while Open
  co_return std::move(ws);
}

WebSocket& WebSocket::operator=(WebSocket&& o) noexcept {
  if (this != &o) {
    if (s_ != nullptr) s_->owner_gone();
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

WebSocket::~WebSocket() {
  if (s_ != nullptr) s_->owner_gone();
}

detail::WsTransport& WebSocket::transport() const noexcept { return *s_; }

// --- receiving ----------------------------------------------------------------

namespace {
absl::Status receive_pending() {
  return absl::FailedPreconditionError("another receive is pending on this connection");
}
}  // namespace

std::optional<absl::StatusOr<ws::Message>> WebSocket::try_recv() noexcept {
  State& s = *s_;
  if (s.busy(Side::Reader)) return absl::StatusOr<ws::Message>(receive_pending());
  absl::StatusOr<ws::Message> m(ws::Message{});
  if (steps::ws_recv(s, m) != Want::Done) return std::nullopt;
  return m;
}

::asio::awaitable<absl::StatusOr<ws::Message>> WebSocket::recv() {
  State& s = *s_;
  if (s.busy(Side::Reader)) co_return receive_pending();
  absl::StatusOr<ws::Message> m(ws::Message{});
  const Want w = steps::ws_recv(s, m);
  if (w == Want::Done) co_return std::move(m);
  co_return co_await async_recv_waiting(w, ::asio::use_awaitable);
}

::asio::awaitable<absl::StatusOr<WebSocket::OwnedMessage>> WebSocket::recv_owned() {
  absl::StatusOr<ws::Message> m = co_await recv();
  if (!m.ok()) co_return m.status();
  co_return to_owned(*m);
}

// --- sending ------------------------------------------------------------------

::asio::awaitable<absl::Status> WebSocket::send(detail::SendKind kind, std::span<const std::uint8_t> payload) {
  State& s = *s_;
  if (!s.busy(Side::Writer)) {
    bool framed = false;
    absl::Status result;
    if (steps::ws_send(s, kind, payload, framed, result) == Want::Done) co_return std::move(result);
    // Queued, and the kernel took part: the rest is leaving; wait for it.
    if (framed) co_return co_await async_flush(::asio::use_awaitable);
  }
  co_return co_await async_send(kind, payload, ::asio::use_awaitable);
}

namespace {
std::span<const std::uint8_t> bytes_of(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

::asio::awaitable<absl::Status> WebSocket::send_text(std::string_view payload) {
  return send(detail::SendKind::Text, bytes_of(payload));
}
::asio::awaitable<absl::Status> WebSocket::send_binary(std::span<const std::uint8_t> payload) {
  return send(detail::SendKind::Binary, payload);
}
::asio::awaitable<absl::Status> WebSocket::send_ping(std::span<const std::uint8_t> payload) {
  return send(detail::SendKind::Ping, payload);
}
::asio::awaitable<absl::Status> WebSocket::send_pong(std::span<const std::uint8_t> payload) {
  return send(detail::SendKind::Pong, payload);
}
::asio::awaitable<absl::Status> WebSocket::flush() { return send(detail::SendKind::Flush, {}); }

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

::asio::awaitable<absl::Status> WebSocket::close(ws::CloseCode code, std::string reason) {
  return async_close(code, std::move(reason), ::asio::use_awaitable);
}

// --- state --------------------------------------------------------------------

WebSocket::executor_type WebSocket::get_executor() const noexcept { return s_->executor(); }
bool WebSocket::is_open() const noexcept { return s_ != nullptr && s_->endpoint().is_open(); }
ws::Role WebSocket::role() const noexcept { return s_->endpoint().role(); }
std::string_view WebSocket::subprotocol() const noexcept { return s_->endpoint().subprotocol(); }
std::optional<ws::Error> WebSocket::protocol_error() const noexcept {
  const ws::Failure& f = s_->endpoint().failure();
  return f.cause == ws::FailureCause::Protocol ? std::optional<ws::Error>(f.frame_error) : std::nullopt;
}
const ws::Connection& WebSocket::connection() const noexcept { return s_->endpoint(); }
std::uint64_t WebSocket::read_calls() const noexcept { return s_->read_calls(); }
std::uint64_t WebSocket::write_calls() const noexcept { return s_->write_calls(); }
std::size_t WebSocket::overflows() const noexcept { return s_->overflows(); }
std::uint64_t WebSocket::memory_releases() const noexcept { return s_->memory_releases(); }

}  // namespace tern::asio
