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
// Reuse: after a response that allows keep-alive the connection takes the
// next request; after "Connection: close", a close-delimited body, or EOF it
// is finished (reusable() is false and send() says why). Any I/O or parse
// error poisons it: the caller reconnects. There is no retry: the caller
// owns idempotency.
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
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/headers.h"
#include "core/http/method.h"
#include "core/http/response_reader.h"
#include "core/tls/tls_config.h"

namespace tern::posix {

struct HttpOptions {
  // https:// trust settings; nullptr uses the system trust store.
  const tls::TlsConfig* tls = nullptr;
  SocketOptions socket;
  // A whole response (head and body) must fit: size it above the reader's
  // max_body_size.
  std::size_t read_buffer_size = (1u << 20) + (64u << 10);
  std::size_t write_buffer_size = 64u << 10;
};

// Views into the connection's read buffer; valid until the next send().
struct HttpResponse {
  int status = 0;
  std::string_view reason;
  http::HeaderList headers;
  std::string_view body;
  bool keep_alive = false;
};

class HttpConnection {
 public:
  // Connects to the URL's host and port (its path is not used).
  static absl::StatusOr<HttpConnection> connect(std::string_view url, const HttpOptions& options = {});

  HttpConnection(HttpConnection&&) noexcept = default;
  HttpConnection& operator=(HttpConnection&&) noexcept = default;

  // Where the next request is written (cleared by send()).
  WriteBuf& request_buffer() noexcept { return out_; }

  // Sends request_buffer() and reads the reply. The request's method (from
  // its request line) tells the reader whether a body follows (HEAD).
  absl::StatusOr<HttpResponse> send(http::ResponseReader& reader);
  // Sends `request` (e.g. bytes a RequestWriter put in another WriteBuf).
  absl::StatusOr<HttpResponse> send(std::span<const std::uint8_t> request, http::ResponseReader& reader);

  // The two halves of send(), for callers that interleave other work or
  // pipeline: write a request now, read its response later (responses come
  // back in request order; tell each read the method it answers).
  absl::Status write_request();
  absl::Status write_request(std::span<const std::uint8_t> request);
  absl::StatusOr<HttpResponse> read_response(http::ResponseReader& reader,
                                             http::Method request_method);

  // True while another request may be sent on this connection.
  bool reusable() const noexcept { return finished_.ok(); }
  // Why it is not reusable (OK while it is).
  const absl::Status& finished() const noexcept { return finished_; }
  // "host:port" as connected, for callers deciding whether to reuse it.
  std::string_view authority() const noexcept { return authority_; }
  bool secure() const noexcept { return stream_.secure(); }

 private:
  HttpConnection(Stream stream, const HttpOptions& o, std::string authority)
      : stream_(std::move(stream)), in_(o.read_buffer_size), out_(o.write_buffer_size),
        authority_(std::move(authority)) {}
  absl::Status finish(absl::Status why);

  Stream stream_;
  ReadBuf in_;
  WriteBuf out_;
  std::string authority_;
  std::size_t previous_size_ = 0;  // bytes of the last response still in in_
  absl::Status finished_;
};

}  // namespace tern::posix

#endif  // TERN_BACKENDS_POSIX_HTTP_CONNECTION_H_
