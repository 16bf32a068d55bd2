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
  absl::Status check_usable() const {
    if (!finished.ok()) return http_not_reusable_status(finished);
    if (!endpoint().reusable()) return http_not_reusable_status(http_end_status(endpoint()));
    return absl::OkStatus();
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

// Queues request_buffer()'s request (or a copy) and writes it.
Want write_step(State& s, std::span<const std::uint8_t> copy, bool& queued_request, absl::Status& result) noexcept {
  http::ClientConnection& c = s.endpoint();
  if (!queued_request) {
    if (absl::Status st = s.check_usable(); !st.ok()) {
      c.request_buffer().truncate(c.pending_output().size());  // drop the unsent request
      result = st;
      return Want::Done;
    }
    const http::QueueError e = copy.empty() ? c.queue_request() : c.queue_request(copy);
    if (e != http::QueueError::None) {
      result = http_queue_status(e);
      return Want::Done;
    }
    queued_request = true;
  }
  if (const Want w = s.flush(); w != Want::Done) return w;
  result = s.failed() ? s.finish(s.error()) : absl::OkStatus();
  return Want::Done;
}

}  // namespace

Want RequestOp::run(Op* op) noexcept {
  auto* self = static_cast<RequestOp*>(op);
  State& s = state_of(op);
  http::ClientConnection& c = s.endpoint();
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
    if (const Want w = write_step(s, self->copy, self->queued_request, written); w != Want::Done) return w;
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
  if (!s.finished.ok()) {
    self->result = http_not_reusable_status(s.finished);
    return Want::Done;
  }
  if (c.in_flight() == 0) {
    self->result = absl::FailedPreconditionError("http: no request awaits a response");
    return Want::Done;
  }
  for (;;) {
    const http::Progress p = c.next(*self->reader);
    if (p == http::Progress::Complete) {
      if (!c.reusable()) {
        (void)s.finish(http_end_status(c));
        s.close_write();
      }
      self->result = response_of(*self->reader);
      return Want::Done;
    }
    if (p == http::Progress::Failed) {
      self->result = s.finish(s.failed() ? s.error() : http_end_status(c));
      return Want::Done;
    }
    if (const Want w = s.fill(); w != Want::Done) return w;
    if (s.failed()) {
      self->result = s.finish(s.error());
      return Want::Done;
    }
  }
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
  return write_step(s, {}, self->queued_request, self->result);
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
