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

absl::Status HttpConnection::State::check_usable() const {
  if (!finished.ok()) return http_not_reusable_status(finished);
  if (!endpoint().reusable()) return http_not_reusable_status(http_end_status(endpoint()));
  return absl::OkStatus();
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
  http::ClientConnection& c = s.endpoint();
  if (write && !queued_request) {
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
  if (write) {
    if (const Want w = s.flush(); w != Want::Done) return w;
    if (s.failed()) {
      result = s.finish(s.error());
      return Want::Done;
    }
    if (reader == nullptr) {
      result = HttpResponse{};
      return Want::Done;
    }
  }
  if (!s.finished.ok()) {
    result = http_not_reusable_status(s.finished);
    return Want::Done;
  }
  if (c.in_flight() == 0) {
    result = absl::FailedPreconditionError("http: no request awaits a response");
    return Want::Done;
  }
  for (;;) {
    const http::Progress p = c.next(*reader);
    if (p == http::Progress::Complete) {
      if (!c.reusable()) {
        (void)s.finish(http_end_status(c));
        s.close_write();
      }
      result = response_of(*reader);
      return Want::Done;
    }
    if (p == http::Progress::Failed) {
      result = s.finish(s.failed() ? s.error() : http_end_status(c));
      return Want::Done;
    }
    if (const Want w = s.fill(); w != Want::Done) return w;
    if (s.failed()) {
      result = s.finish(s.error());
      return Want::Done;
    }
  }
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
