// File: http_connection.h
//
// HttpConnection is one persistent HTTP/1.1 connection (http:// or https://)
// for the POSIX backend. The caller builds a request with the core's
// RequestWriter straight into request_buffer(), then send(reader) writes it
// with one write and parses the reply with the caller's ResponseReader
// (whose Limits, e.g. max_body_size, apply). The returned HttpResponse is a
// set of views into the connection's read buffer, valid until the next
// send() or until the connection is destroyed. Nothing is allocated per
// request.
//
// Reuse is the core's http::ClientConnection's decision: after a response
// that allows keep-alive the connection takes the next request; after
// "Connection: close", a close-delimited body, or EOF it is finished
// (reusable() is false and send() says why). Any I/O or parse error poisons
// it: the caller reconnects. There is no retry: the caller owns idempotency.
//
//   auto conn = tern::posix::HttpConnection::connect("https://api.example", {.tls = &cfg});
//   auto req = writer.start(conn->request_buffer(), tern::http::Method::Get, "/v3/time").finish();
//   tern::http::ResponseReader reader;
//   auto resp = conn->send(reader);   // resp->status, resp->body ...
#ifndef TERN_BACKENDS_POSIX_HTTP_CONNECTION_H_
#define TERN_BACKENDS_POSIX_HTTP_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/posix/socket.h"
#include "backends/posix/stream.h"
#include "backends/http_response.h"
#include "backends/options.h"
#include "core/buf/write_buf.h"
#include "core/http/client_connection.h"
#include "core/http/headers.h"
#include "core/http/method.h"
#include "core/http/response_reader.h"
#include "core/tls/tls_config.h"

namespace tern::posix {

// TLS, socket options and buffer sizes: the options every backend shares
// (backends/options.h).
using HttpOptions = ::tern::HttpOptions;

// Views into the connection's read buffer; valid until the next send()
// (backends/http_response.h).
using HttpResponse = ::tern::HttpResponse;

class HttpConnection {
 public:
  // Connects to the URL's host and port (its path is not used).
  static absl::StatusOr<HttpConnection> connect(std::string_view url, const HttpOptions& options = {});

  HttpConnection(HttpConnection&&) noexcept = default;
  HttpConnection& operator=(HttpConnection&&) noexcept = default;

  // Where the next request is written (taken by send()).
  WriteBuf& request_buffer() noexcept { return conn_.request_buffer(); }

  // Sends request_buffer() and reads the reply. The request's method (from
  // its request line) tells the reader whether a body follows (HEAD).
  absl::StatusOr<HttpResponse> send(http::ResponseReader& reader);
  // Sends `request` (e.g. bytes a RequestWriter put in another WriteBuf).
  absl::StatusOr<HttpResponse> send(std::span<const std::uint8_t> request, http::ResponseReader& reader);

  // The two halves of send(), for callers that interleave other work or
  // pipeline: write a request now, read its response later (responses come
  // back in request order; the connection knows each request's method).
  absl::Status write_request();
  absl::Status write_request(std::span<const std::uint8_t> request);
  absl::StatusOr<HttpResponse> read_response(http::ResponseReader& reader);
  // The same; `request_method` is ignored (kept for source compatibility:
  // the method is read from each request line).
  absl::StatusOr<HttpResponse> read_response(http::ResponseReader& reader,
                                             http::Method request_method);

  // True while another request may be sent on this connection.
  bool reusable() const noexcept { return finished_.ok() && conn_.reusable(); }
  // Why it is not reusable (OK while it is).
  const absl::Status& finished() const noexcept { return finished_; }
  // "host:port" as connected, for callers deciding whether to reuse it.
  std::string_view authority() const noexcept { return authority_; }
  bool secure() const noexcept { return stream_.secure(); }

 // The core connection this class drives.
  const http::ClientConnection& connection() const noexcept { return conn_; }

 private:
  HttpConnection(Stream stream, const HttpOptions& o, std::string authority)
      : stream_(std::move(stream)), conn_(connection_options(o)), authority_(std::move(authority)) {}
  absl::Status flush();
  // Records the end of the connection (the first reason wins).
  absl::Status finish(absl::Status why);
  absl::Status check_usable() const;

  Stream stream_;
  http::ClientConnection conn_;
  std::string authority_;
  absl::Status finished_;
};

}  // namespace tern::posix

#endif  // TERN_BACKENDS_POSIX_HTTP_CONNECTION_H_
