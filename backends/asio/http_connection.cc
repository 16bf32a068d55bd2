#include "backends/asio/http_connection.h"

#include <utility>

#include "asio/this_coro.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/asio/socket.h"
#include "backends/status.h"
#include "backends/urls.h"
#include "core/url/url.h"

namespace tern::asio {

using detail::Want;

struct HttpConnection::State : detail::HttpTransport {
  State(::asio::ip::tcp::socket socket, const HttpOptions& o, tls::Channel channel, std::string authority)
      : detail::HttpTransport(std::move(socket), o.socket, std::move(channel), http::ClientConnection(connection_options(o))),
        authority(std::move(authority)) {}
  absl::Status finish(absl::Status why) noexcept {
    if (finished.ok()) finished = why;
    return why;
  }

  std::string authority;
  absl::Status finished;
};

namespace detail {
namespace {

using State = HttpConnection::State;

State& state_of(Op* op) {
  return static_cast<State&>(static_cast<OpOn<http::ClientConnection>*>(op)->transport());
}

// A cancelled request may still be answered: the connection is done.
absl::Status poison_cancelled(State& s) {
  const absl::Status why = absl::CancelledError("http request cancelled");
  s.set_error(why);
  s.endpoint().abort();
  s.close_write();
  return s.finish(why);
}

}  // namespace

Want RequestOp::run(Op* op) noexcept {
  auto* self = static_cast<RequestOp*>(op);
  State& s = state_of(op);
  if (ABSL_PREDICT_FALSE(s.closed())) {
    self->result = absl::CancelledError("connection destroyed");
    return Want::Done;
  }
  if (ABSL_PREDICT_FALSE(self->cancelled != ::asio::cancellation_type::none)) {
    self->result = poison_cancelled(s);
    return Want::Done;
  }
  if (self->write) {
    absl::Status written;
    if (const Want w = steps::http_write(s, self->copy, self->queued_request, written); w != Want::Done) return w;
    if (!written.ok()) {
      self->result = written;
      return Want::Done;
    }
    self->write = false;
  }
  if (self->reader == nullptr) {
    self->result = HttpResponse{};
    return Want::Done;
  }
  return steps::http_read(s, *self->reader, self->result);
}

Want WriteRequestOp::run(Op* op) noexcept {
  auto* self = static_cast<WriteRequestOp*>(op);
  State& s = state_of(op);
  if (ABSL_PREDICT_FALSE(s.closed())) {
    self->result = absl::CancelledError("connection destroyed");
    return Want::Done;
  }
  if (ABSL_PREDICT_FALSE(self->cancelled != ::asio::cancellation_type::none)) {
    self->result = poison_cancelled(s);
    return Want::Done;
  }
  return steps::http_write(s, {}, self->queued_request, self->result);
}

Want TlsHandshakeOp::run(Op* op) noexcept {
  auto* self = static_cast<TlsHandshakeOp*>(op);
  State& s = state_of(op);
  if (ABSL_PREDICT_FALSE(s.closed())) {
    self->result = absl::CancelledError("connection destroyed");
    return Want::Done;
  }
  if (ABSL_PREDICT_FALSE(self->cancelled != ::asio::cancellation_type::none)) {
    self->result = absl::CancelledError("tls handshake cancelled");
    return Want::Done;
  }
  const Want w = s.tls_handshake();
  if (w == Want::Done) self->result = s.error();
  return w;
}

}  // namespace detail

::asio::awaitable<absl::StatusOr<HttpConnection>> HttpConnection::connect_impl(executor_type ex,
                                                                               std::string url_text,
                                                                               HttpOptions o) {
  co_await ::asio::this_coro::throw_if_cancelled(false);
  absl::StatusOr<Url> parsed = http_url(url_text);
  if (!parsed.ok()) co_return parsed.status();
  const Url& url = *parsed;
  absl::StatusOr<tls::Channel> channel = tls::Channel::for_url(url, o.tls);
  if (!channel.ok()) co_return channel.status();
  absl::StatusOr<::asio::ip::tcp::socket> socket =
      co_await connect_socket(ex, std::string(url.host), url.port, o.socket);
  if (!socket.ok()) co_return socket.status();
  HttpConnection conn(new State(*std::move(socket), o, *std::move(channel), ::tern::authority(url)));
  if (conn.secure()) {
    // TLS first, so that certificate failures are reported by connect.
    absl::Status st = co_await ::asio::async_initiate<decltype(::asio::use_awaitable), void(absl::Status)>(
        [](auto handler, detail::HttpTransport* t) { t->start<detail::TlsHandshakeOp>(std::move(handler)); },
        ::asio::use_awaitable, &conn.transport());
    if (!st.ok()) co_return st;
  }
  co_return std::move(conn);
}

HttpConnection& HttpConnection::operator=(HttpConnection&& o) noexcept {
  if (this != &o) {
    if (s_ != nullptr) s_->owner_gone();
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

HttpConnection::~HttpConnection() {
  if (s_ != nullptr) s_->owner_gone();
}

detail::HttpTransport& HttpConnection::transport() const noexcept { return *s_; }
WriteBuf& HttpConnection::request_buffer() noexcept { return s_->endpoint().request_buffer(); }

::asio::awaitable<absl::StatusOr<HttpResponse>> HttpConnection::send(http::ResponseReader& reader) {
  return async_send(reader, ::asio::use_awaitable);
}

bool HttpConnection::reusable() const noexcept {
  return s_ != nullptr && s_->finished.ok() && s_->endpoint().reusable();
}
const absl::Status& HttpConnection::finished() const noexcept { return s_->finished; }
std::string_view HttpConnection::authority() const noexcept { return s_->authority; }
bool HttpConnection::secure() const noexcept { return s_->channel().secure(); }
HttpConnection::executor_type HttpConnection::get_executor() const noexcept { return s_->executor(); }
const http::ClientConnection& HttpConnection::connection() const noexcept { return s_->endpoint(); }
std::size_t HttpConnection::overflows() const noexcept { return s_->overflows(); }

}  // namespace tern::asio
