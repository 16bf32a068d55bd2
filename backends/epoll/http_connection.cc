#include "backends/epoll/http_connection.h"

#include "absl/strings/str_cat.h"
#include "backends/epoll/socket.h"
#include "backends/status.h"
#include "backends/urls.h"
#include "core/url/url.h"

namespace tern::epoll {

using detail::Want;

HttpConnection::State::State(EventLoop& loop, int fd, const HttpOptions& o, tls::Channel channel,
                             std::string authority) noexcept
    : Transport(loop, fd, o.socket, std::move(channel), http::ClientConnection(connection_options(o))),
      authority(std::move(authority)) {}

absl::Status HttpConnection::State::finish(absl::Status why) noexcept {
  if (finished.ok()) finished = why;
  return why;
}

HttpConnection::~HttpConnection() = default;

Task<absl::StatusOr<HttpConnection>> HttpConnection::connect(EventLoop& loop, std::string url_text,
                                                             HttpOptions o) {
  absl::StatusOr<Url> parsed = http_url(url_text);
  if (!parsed.ok()) co_return parsed.status();
  const Url& url = *parsed;
  absl::StatusOr<tls::Channel> channel = tls::Channel::for_url(url, o.tls);
  if (!channel.ok()) co_return channel.status();
  absl::StatusOr<Socket> socket = co_await connect_tcp(loop, std::string(url.host), url.port, o.socket);
  if (!socket.ok()) co_return socket.status();
  auto state = std::make_unique<State>(loop, socket->release(), o, *std::move(channel), ::tern::authority(url));
  if (absl::Status st = state->start(); !st.ok()) co_return st;
  if (state->channel().secure()) {
    // TLS first, so that certificate failures are reported by connect().
    struct Handshake : detail::TransportOp<Handshake, absl::Status> {
      explicit Handshake(State& s) noexcept : TransportOp(s) {}
      Want run() noexcept {
        const Want w = static_cast<State*>(transport)->tls_handshake();
        if (w == Want::Done) result = transport->error();
        return w;
      }
    };
    if (absl::Status st = co_await Handshake(*state); !st.ok()) co_return st;
  }
  co_return HttpConnection(std::move(state));
}

Want HttpConnection::RequestAwaiter::run() noexcept {
  State& s = static_cast<State&>(*transport);
  if (write) {
    absl::Status written;
    if (const Want w = steps::http_write(s, copy, queued_request, written); w != Want::Done) return w;
    if (!written.ok()) {
      result = written;
      return Want::Done;
    }
    write = false;
  }
  if (reader == nullptr) {
    result = HttpResponse{};
    return Want::Done;
  }
  return steps::http_read(s, *reader, result);
}

WriteBuf& HttpConnection::request_buffer() noexcept { return s_->endpoint().request_buffer(); }

HttpConnection::RequestAwaiter HttpConnection::send(http::ResponseReader& reader) noexcept {
  return RequestAwaiter(*s_, &reader, true, {});
}
HttpConnection::RequestAwaiter HttpConnection::send(std::span<const std::uint8_t> request,
                                                    http::ResponseReader& reader) noexcept {
  return RequestAwaiter(*s_, &reader, true, request);
}
HttpConnection::RequestAwaiter HttpConnection::write_request() noexcept {
  return RequestAwaiter(*s_, nullptr, true, {});
}
HttpConnection::RequestAwaiter HttpConnection::read_response(http::ResponseReader& reader) noexcept {
  return RequestAwaiter(*s_, &reader, false, {});
}

bool HttpConnection::reusable() const noexcept { return s_->finished.ok() && s_->endpoint().reusable(); }
const absl::Status& HttpConnection::finished() const noexcept { return s_->finished; }
std::string_view HttpConnection::authority() const noexcept { return s_->authority; }
bool HttpConnection::secure() const noexcept { return s_->channel().secure(); }
const http::ClientConnection& HttpConnection::connection() const noexcept { return s_->endpoint(); }

}  // namespace tern::epoll
