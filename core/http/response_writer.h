// File: response_writer.h
//
// ResponseWriter encodes HTTP/1.1 responses (status line, fields, body) into
// a WriteBuf for the server side: test servers and the WebSocket accept path
// (its 101 reply). Optional default fields (e.g. Server) are validated and
// pre-rendered once by create(); each response then allocates nothing.
//
//   auto w = tern::http::ResponseWriter::create({});
//   tern::http::WriteResult r = w->start(out, 200)
//       .header("Content-Type", "application/json")
//       .body(R"({"ok":true})");
//
// body() writes Content-Length; finish() ends the head, adding
// "Content-Length: 0" except for 1xx, 204 and 304, which have no content
// (RFC 9110 §8.6, RFC 9112 §6.3); head_only(n) writes "Content-Length: n"
// and no content (the reply to HEAD, or a 304). Connection: close and similar are the
// caller's fields. Failure rules as for RequestWriter: the first error is
// returned by the terminal call, the WriteBuf is left as it was.
#ifndef TERN_CORE_HTTP_RESPONSE_WRITER_H_
#define TERN_CORE_HTTP_RESPONSE_WRITER_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/buf/write_buf.h"
#include "core/http/error.h"
#include "core/http/message_builder.h"

namespace tern::http {

class ResponseWriter;

// HeaderBuilder plus the response-only terminal call head_only(). header()
// is repeated here so that it returns a ResponseBuilder and head_only() stays
// reachable after fields (a RequestBuilder has no such call).
class [[nodiscard]] ResponseBuilder : public HeaderBuilder {
 public:
  ResponseBuilder& header(std::string_view name, std::string_view value) noexcept {
    HeaderBuilder::header(name, value);
    return *this;
  }

  // Terminal: "Content-Length: content_length", then the end of the head and
  // no content. For the reply to HEAD (RFC 9110 §9.3.2: the fields the GET
  // would get, Content-Length included, without the content) and for 304
  // (RFC 9110 §8.6: if sent, the length a 200 would have). The reader on the
  // other end knows there is no content from its request method or the
  // status. 1xx and 204 must not carry Content-Length (RFC 9110 §8.6):
  // Error::InvalidStatus.
  WriteResult head_only(std::size_t content_length) noexcept;

 private:
  friend class ResponseWriter;
  // start() writes the status line and default fields whole: no line end due.
  ResponseBuilder(WriteBuf& out, bool zero_length, bool length_allowed) noexcept
      : HeaderBuilder(out, {}, zero_length),
        length_allowed_(length_allowed) {}

  bool length_allowed_;
};

class ResponseWriter {
 public:
  struct Options {
    std::vector<std::pair<std::string, std::string>> default_headers;
  };

  // InvalidArgument (message naming the tern::http::Error) for a bad field.
  static absl::StatusOr<ResponseWriter> create(Options options);

  // Writes "HTTP/1.1 <status> <reason>\r\n" and the default fields at the
  // end of `out`. An empty reason uses the RFC 9110 §15 phrase for known
  // codes. Status outside 100..599: Error::InvalidStatus; a reason with CR,
  // LF or NUL: Error::CrlfInjection.
  ResponseBuilder start(WriteBuf& out, int status,
                        std::string_view reason = {}) const noexcept;

 private:
  ResponseWriter() = default;
  std::string fixed_;
};

// "OK", "Not Found", ... for the codes RFC 9110 §15 defines; else "".
std::string_view reason_phrase(int status) noexcept;

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_RESPONSE_WRITER_H_
