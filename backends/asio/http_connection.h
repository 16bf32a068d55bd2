// File: http_connection.h
//
// HttpConnection is one persistent HTTP/1.1 connection (http:// or https://)
// as an Asio I/O object. Build each request with the core's RequestWriter in
// request_buffer(), then async_send(reader, token): one write, and the reply
// parsed by the caller's ResponseReader (whose Limits apply). Completion:
// void(absl::StatusOr<HttpResponse>); the response is a set of views into
// the connection's read buffer, valid until the next request or until the
// connection is destroyed. Nothing is allocated per request.
//
// Reuse is the core's http::ClientConnection's decision (keep-alive,
// "Connection: close", close-delimited bodies, EOF); any I/O or parse error
// poisons the connection; there is no retry. TLS is the core's codec; the
// handshake runs inside async_connect(), so certificate failures are its
// errors. Statuses are those of every tern backend (backends/status.h).
//
// Cancellation: a cancelled request poisons the connection (kCancelled;
// reusable() is false): its response may still arrive, so the connection
// cannot carry another request. Threads and executors as for WebSocket.
//
//   auto conn = co_await tern::asio::HttpConnection::async_connect(ex, "https://api.example", {},
//                                                                  asio::use_awaitable);
//   writer.start(conn->request_buffer(), tern::http::Method::Get, "/v3/time").finish();
//   absl::StatusOr<tern::HttpResponse> r = co_await conn->async_send(reader, asio::use_awaitable);
#ifndef TERN_BACKENDS_ASIO_HTTP_CONNECTION_H_
#define TERN_BACKENDS_ASIO_HTTP_CONNECTION_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asio/any_io_executor.hpp"
#include "asio/async_result.hpp"
#include "asio/awaitable.hpp"
#include "backends/asio/op.h"
#include "backends/asio/spawn.h"
#include "backends/asio/transport.h"
#include "backends/http_response.h"
#include "backends/options.h"
#include "core/buf/write_buf.h"
#include "core/http/client_connection.h"
#include "core/http/response_reader.h"

namespace tern::asio {

using HttpOptions = ::tern::HttpOptions;
using HttpResponse = ::tern::HttpResponse;

namespace detail {

using HttpTransport = Transport<http::ClientConnection>;

// Writes a request (unless write is false), then reads its response (unless
// reader is null).
struct RequestOp : OpOn<http::ClientConnection> {
  static constexpr Side kSide = Side::Reader;
  using Result = absl::StatusOr<HttpResponse>;
  RequestOp(HttpTransport& t, http::ResponseReader* reader, bool write, std::span<const std::uint8_t> copy) noexcept
      : OpOn(t, kSide), reader(reader), write(write), copy(copy) {}
  static Want run(Op* op) noexcept;
  Result result;
  http::ResponseReader* reader;
  bool write;
  bool queued_request = false;
  std::span<const std::uint8_t> copy;
};

// Writes a request alone, for pipelining (on the writer side, so a
// read_response may be pending meanwhile).
struct WriteRequestOp : OpOn<http::ClientConnection> {
  static constexpr Side kSide = Side::Writer;
  using Result = absl::Status;
  explicit WriteRequestOp(HttpTransport& t) noexcept : OpOn(t, kSide) {}
  static Want run(Op* op) noexcept;
  Result result;
  bool queued_request = false;
};

struct TlsHandshakeOp : OpOn<http::ClientConnection> {
  static constexpr Side kSide = Side::Reader;
  using Result = absl::Status;
  explicit TlsHandshakeOp(HttpTransport& t) noexcept : OpOn(t, kSide) {}
  static Want run(Op* op) noexcept;
  Result result;
};

}  // namespace detail

class HttpConnection {
 public:
  using executor_type = ::asio::any_io_executor;
  struct State;

  // Connects to the URL's host and port (its path is not used), TLS
  // included for https://. Completion: void(absl::StatusOr<HttpConnection>).
  template <typename Token>
  static auto async_connect(executor_type executor, std::string url, HttpOptions options, Token&& token);

  HttpConnection(HttpConnection&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  HttpConnection& operator=(HttpConnection&& o) noexcept;
  ~HttpConnection();

  // Where the next request is written.
  WriteBuf& request_buffer() noexcept;

  // Writes request_buffer()'s request (or a copy of `request`), then reads
  // its response. Completion: void(absl::StatusOr<HttpResponse>).
  template <typename Token>
  auto async_send(http::ResponseReader& reader, Token&& token);
  template <typename Token>
  auto async_send(std::span<const std::uint8_t> request, http::ResponseReader& reader, Token&& token);
  // async_send(reader, use_awaitable), for the Backend traits.
  ::asio::awaitable<absl::StatusOr<HttpResponse>> send(http::ResponseReader& reader);
  // The two halves, for pipelining: write requests now, read their
  // responses later, in order. Completions: void(absl::Status) and
  // void(absl::StatusOr<HttpResponse>).
  template <typename Token>
  auto async_write_request(Token&& token);
  template <typename Token>
  auto async_read_response(http::ResponseReader& reader, Token&& token);

  bool reusable() const noexcept;
  // Why it is not reusable (OK while it is).
  const absl::Status& finished() const noexcept;
  std::string_view authority() const noexcept;
  bool secure() const noexcept;
  executor_type get_executor() const noexcept;
  const http::ClientConnection& connection() const noexcept;
  std::size_t overflows() const noexcept;

 private:
  explicit HttpConnection(State* s) noexcept : s_(s) {}
  detail::HttpTransport& transport() const noexcept;
  static ::asio::awaitable<absl::StatusOr<HttpConnection>> connect_impl(executor_type executor, std::string url,
                                                                         HttpOptions options);
  template <typename Token>
  auto async_request(http::ResponseReader* reader, bool write, std::span<const std::uint8_t> copy, Token&& token);

  State* s_;
};

template <typename Token>
auto HttpConnection::async_connect(executor_type executor, std::string url, HttpOptions options, Token&& token) {
  return ::asio::async_initiate<Token, void(absl::StatusOr<HttpConnection>)>(
      [](auto handler, executor_type ex, std::string url, HttpOptions o) {
        detail::spawn(ex, connect_impl(ex, std::move(url), std::move(o)), std::move(handler));
      },
      token, std::move(executor), std::move(url), std::move(options));
}

template <typename Token>
auto HttpConnection::async_request(http::ResponseReader* reader, bool write, std::span<const std::uint8_t> copy,
                                   Token&& token) {
  return ::asio::async_initiate<Token, void(absl::StatusOr<HttpResponse>)>(
      [](auto handler, detail::HttpTransport* t, http::ResponseReader* reader, bool write,
         std::span<const std::uint8_t> copy) {
        t->start<detail::RequestOp>(std::move(handler), reader, write, copy);
      },
      token, &transport(), reader, write, copy);
}

template <typename Token>
auto HttpConnection::async_send(http::ResponseReader& reader, Token&& token) {
  return async_request(&reader, true, {}, std::forward<Token>(token));
}
template <typename Token>
auto HttpConnection::async_send(std::span<const std::uint8_t> request, http::ResponseReader& reader, Token&& token) {
  return async_request(&reader, true, request, std::forward<Token>(token));
}
template <typename Token>
auto HttpConnection::async_read_response(http::ResponseReader& reader, Token&& token) {
  return async_request(&reader, false, {}, std::forward<Token>(token));
}
template <typename Token>
auto HttpConnection::async_write_request(Token&& token) {
  return ::asio::async_initiate<Token, void(absl::Status)>(
      [](auto handler, detail::HttpTransport* t) { t->start<detail::WriteRequestOp>(std::move(handler)); }, token,
      &transport());
}

}  // namespace tern::asio

#endif  // TERN_BACKENDS_ASIO_HTTP_CONNECTION_H_
