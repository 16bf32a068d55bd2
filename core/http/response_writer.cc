#include "core/http/response_writer.h"

#include <cstring>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/http/tokens.h"

namespace tern::http {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
  }
  return {};
}

absl::StatusOr<ResponseWriter> ResponseWriter::create(Options options) {
  ResponseWriter w;
  for (const auto& [name, value] : options.default_headers) {
    const Error e = detail::check_field(name, value, /*host_reserved=*/false);
    if (e != Error::None) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ResponseWriter: ", name, ": ",
          absl::string_view(tern::http::name(e).data(), tern::http::name(e).size())));
    }
    absl::StrAppend(&w.fixed_, name, ": ", value, "\r\n");
  }
  return w;
}

ResponseBuilder ResponseWriter::start(WriteBuf& out, int status,
                                      std::string_view reason) const noexcept {
  const bool no_content = status < 200 || status == 204 || status == 304;
  ResponseBuilder b(out, !no_content, status >= 200 && status != 204);
  if (ABSL_PREDICT_FALSE(status < 100 || status > 599)) {
    b.fail(Error::InvalidStatus);
    return b;
  }
  if (reason.empty()) reason = reason_phrase(status);
  // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
  for (char ch : reason) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (ABSL_PREDICT_FALSE((c < 0x20 && c != '\t') || c == 0x7F)) {
      b.fail(c == '\r' || c == '\n' || c == 0 ? Error::CrlfInjection
                                              : Error::InvalidHeaderValue);
      return b;
    }
  }
  const std::size_t need = 13 + reason.size() + 2 + fixed_.size();
  if (ABSL_PREDICT_FALSE(b.room() < need)) {
    b.fail(Error::BufferFull);
    return b;
  }
  std::uint8_t* p = b.next_;
  std::memcpy(p, "HTTP/1.1 ", 9);
  p[9] = static_cast<std::uint8_t>('0' + status / 100);
  p[10] = static_cast<std::uint8_t>('0' + status / 10 % 10);
  p[11] = static_cast<std::uint8_t>('0' + status % 10);
  p[12] = ' ';
  p += 13;
  if (!reason.empty()) std::memcpy(p, reason.data(), reason.size());
  p += reason.size();
  p[0] = '\r';
  p[1] = '\n';
  p += 2;
  if (!fixed_.empty()) std::memcpy(p, fixed_.data(), fixed_.size());
  b.next_ = p + fixed_.size();
  return b;
}

WriteResult ResponseBuilder::head_only(std::size_t content_length) noexcept {
  // RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in
  // any response with a status code of 1xx (Informational) or 204 (No
  // Content)."
  if (ABSL_PREDICT_FALSE(!length_allowed_)) fail(Error::InvalidStatus);
  if (!end_head_with_length(content_length)) return fail_result();
  return done();
}

}  // namespace tern::http
