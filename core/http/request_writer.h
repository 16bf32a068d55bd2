// File: request_writer.h
//
// RequestWriter encodes HTTP/1.1 requests for a REST client into a WriteBuf.
// It is configured once (Host, a base path such as "/api/v3", and default
// fields such as an API key, User-Agent, Accept), validated and pre-rendered
// by create(); each request then costs a few memcpy calls and no allocation.
//
// A request is built by one chained expression whose types only offer the
// calls that are valid at that point (query parameters, then fields, then
// exactly one body call):
//
//   auto w = tern::http::RequestWriter::create(
//       {.host = "api.exchange.com", .base_path = "/api/v3",
//        .default_headers = {{"X-API-KEY", key}}});
//   tern::WriteBuf out(4096);
//   tern::http::WriteResult r =
//       w->start(out, tern::http::Method::Post, "/order")
//           .query("symbol", "BTC-USD")   // RequestBuilder
//           .header("Content-Type", "application/json")   // HeaderBuilder
//           .body(R"({"side":"buy","qty":"0.01"})");
//   if (r.ok()) send(r.bytes);
//
// Query keys and values are percent-encoded (RFC 3986 §2.3 unreserved bytes
// pass, the rest become %XX). The path is sent as given after the base path,
// so it must already be a valid origin-form path. CR, LF or NUL anywhere is
// Error::CrlfInjection; the failed request leaves the WriteBuf as it was and
// the writer ready for the next one. The returned bytes are one contiguous
// span of the WriteBuf, valid until the buffer is modified.
#ifndef TERN_CORE_HTTP_REQUEST_WRITER_H_
#define TERN_CORE_HTTP_REQUEST_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/buf/write_buf.h"
#include "core/http/error.h"
#include "core/http/message_builder.h"
#include "core/http/method.h"

namespace tern::http {

class RequestWriter;

// The request line is still open: query parameters may be added. Any field
// or body call closes it (and returns a HeaderBuilder, which has no query()).
class [[nodiscard]] RequestBuilder : public HeaderBuilder {
 public:
  // Appends "?key=value" (or "&key=value"), both percent-encoded.
  RequestBuilder& query(std::string_view key, std::string_view value) noexcept;
  RequestBuilder& query(std::string_view key, std::int64_t value) noexcept;

 private:
  friend class RequestWriter;
  RequestBuilder(WriteBuf& out, std::string_view line_end, bool zero_length) noexcept
      : HeaderBuilder(out, line_end, zero_length) {}
  void put_encoded(std::string_view s) noexcept;
};

class RequestWriter {
 public:
  struct Options {
    std::string host;       // Host field value, e.g. "api.example.com:8443"
    std::string base_path;  // prefix of every path, "" or starting with '/'
    std::vector<std::pair<std::string, std::string>> default_headers;
  };

  // Validates and pre-renders the options. InvalidArgument (message naming
  // the tern::http::Error) for a bad host, base path or default field.
  static absl::StatusOr<RequestWriter> create(Options options);

  // Starts "METHOD base_path+path" at the end of `out`. `path` must start
  // with '/' and contain only visible ASCII (no '#'); it may carry its own
  // "?query", which query() then extends with '&'.
  RequestBuilder start(WriteBuf& out, Method method,
                       std::string_view path) const noexcept;

 private:
  RequestWriter() = default;
  std::string base_path_;
  // " HTTP/1.1\r\nHost: ...\r\n" + default field lines: all that follows
  // the request target, ready to copy when the request line closes.
  std::string line_end_;
};

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_REQUEST_WRITER_H_
