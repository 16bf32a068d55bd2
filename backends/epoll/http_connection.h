// File: http_connection.h
//
// HttpConnection is one persistent HTTP/1.1 connection (http:// or https://)
// on the epoll backend, as coroutines. Build each request with the core's
// RequestWriter in request_buffer(), then `co_await conn.send(reader)`:
// one write, and the reply parsed by the caller's ResponseReader (whose
// Limits apply). The HttpResponse is a set of views into the connection's
// read buffer, valid until the next request or until the connection is
// destroyed. Nothing is allocated per request.
//
// Reuse is the core's http::ClientConnection's decision (keep-alive,
// "Connection: close", close-delimited bodies, EOF); any I/O or parse error
// poisons the connection; there is no retry. Statuses are those of every
// tern backend (backends/status.h).
//
//   auto conn = co_await tern::epoll::HttpConnection::connect(loop, "https://api.example", {});
//   writer.start(conn->request_buffer(), tern::http::Method::Get, "/v3/time").finish();
//   absl::StatusOr<tern::HttpResponse> r = co_await conn->send(reader);
#ifndef TERN_BACKENDS_EPOLL_HTTP_CONNECTION_H_
#define TERN_BACKENDS_EPOLL_HTTP_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/epoll/event_loop.h"
#include "backends/epoll/task.h"
#include "backends/epoll/transport.h"
#include "backends/http_response.h"
#include "backends/options.h"
#include "core/buf/write_buf.h"
#include "core/http/client_connection.h"
#include "core/http/response_reader.h"

namespace tern::epoll {

using HttpOptions = ::tern::HttpOptions;
using HttpResponse = ::tern::HttpResponse;

class HttpConnection {
 public:
  // Connects to the URL's host and port (its path is not used).
  static Task<absl::StatusOr<HttpConnection>> connect(EventLoop& loop, std::string url, HttpOptions options = {});

  HttpConnection(HttpConnection&&) noexcept = default;
  HttpConnection& operator=(HttpConnection&&) noexcept = default;
  ~HttpConnection();

  struct State;
  struct RequestAwaiter;

  // Where the next request is written.
  WriteBuf& request_buffer() noexcept;

  // co_await: writes request_buffer()'s request (or a copy of `request`),
  // then reads its response.
  RequestAwaiter send(http::ResponseReader& reader) noexcept;
  RequestAwaiter send(std::span<const std::uint8_t> request, http::ResponseReader& reader) noexcept;
  // The two halves, for pipelining: write requests now, read their
  // responses later, in order (the connection knows each one's method).
  RequestAwaiter write_request() noexcept;
  RequestAwaiter read_response(http::ResponseReader& reader) noexcept;

  bool reusable() const noexcept;
  // Why it is not reusable (OK while it is).
  const absl::Status& finished() const noexcept;
  std::string_view authority() const noexcept;
  bool secure() const noexcept;
  const http::ClientConnection& connection() const noexcept;

 private:
  explicit HttpConnection(std::unique_ptr<State> s) noexcept : s_(std::move(s)) {}
  std::unique_ptr<State> s_;
};

struct HttpConnection::State : detail::Transport<http::ClientConnection> {
  State(EventLoop& loop, int fd, const HttpOptions& o, tls::Channel channel, std::string authority) noexcept;
  absl::Status finish(absl::Status why) noexcept;

  std::string authority;
  absl::Status finished;
};

struct HttpConnection::RequestAwaiter
    : detail::TransportOp<RequestAwaiter, absl::StatusOr<HttpResponse>> {
  RequestAwaiter(State& s, http::ResponseReader* reader, bool write, std::span<const std::uint8_t> copy) noexcept
      : TransportOp(s), reader(reader), write(write), copy(copy) {}
  detail::Want run() noexcept;

  http::ResponseReader* reader;  // null: write only
  bool write;                    // queue and write a request first
  std::span<const std::uint8_t> copy;
  bool queued_request = false;
};

}  // namespace tern::epoll

#endif  // TERN_BACKENDS_EPOLL_HTTP_CONNECTION_H_
