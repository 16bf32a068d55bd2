#include "backends/posix/http_connection.h"

#include "absl/strings/str_cat.h"
#include "core/http/method.h"
#include "core/url/url.h"

namespace tern::posix {
namespace {

absl::string_view av(std::string_view s) { return {s.data(), s.size()}; }

http::Method request_method(std::span<const std::uint8_t> request) {
  const std::string_view text(reinterpret_cast<const char*>(request.data()), request.size());
  return http::parse_method(text.substr(0, text.find(' ')));
}

absl::Status response_error(http::Error e) {
  const std::string msg = absl::StrCat("http: bad response: ", av(http::name(e)));
  switch (e) {
    case http::Error::BodyTooLarge:
    case http::Error::HeaderTooLarge:
    case http::Error::TooManyHeaders:
    case http::Error::BufferFull:
      return absl::ResourceExhaustedError(msg);
    case http::Error::UnexpectedEof:
      return absl::UnavailableError(absl::StrCat(msg, " (server closed mid-response)"));
    default:
      return absl::InvalidArgumentError(msg);
  }
}

}  // namespace

absl::StatusOr<HttpConnection> HttpConnection::connect(std::string_view url_text, const HttpOptions& o) {
  Url url;
  if (const UrlError e = parse_url(url_text, url); e != UrlError::kNone) {
    return absl::InvalidArgumentError(absl::StrCat("bad URL \"", av(url_text), "\": ", av(name(e))));
  }
  if (url.websocket()) return absl::InvalidArgumentError("HTTP URL must be http:// or https://");
  absl::StatusOr<Stream> stream = Stream::connect(url, o.tls, o.socket);
  if (!stream.ok()) return stream.status();
  return HttpConnection(*std::move(stream), o, absl::StrCat(av(url.host), ":", url.port));
}

absl::Status HttpConnection::finish(absl::Status why) {
  if (finished_.ok()) finished_ = why;
  return why;
}

absl::StatusOr<HttpResponse> HttpConnection::send(http::ResponseReader& reader) {
  absl::StatusOr<HttpResponse> r = send(out_.data(), reader);
  out_.clear();
  return r;
}

absl::StatusOr<HttpResponse> HttpConnection::send(std::span<const std::uint8_t> request,
                                                  http::ResponseReader& reader) {
  if (absl::Status st = write_request(request); !st.ok()) return st;
  return read_response(reader, request_method(request));
}

absl::Status HttpConnection::write_request() {
  absl::Status st = write_request(out_.data());
  out_.clear();
  return st;
}

absl::Status HttpConnection::write_request(std::span<const std::uint8_t> request) {
  if (!finished_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("connection not reusable: ", finished_.message()));
  }
  if (absl::Status st = stream_.write(request); !st.ok()) return finish(st);
  return absl::OkStatus();
}

absl::StatusOr<HttpResponse> HttpConnection::read_response(http::ResponseReader& reader,
                                                           http::Method method) {
  if (!finished_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("connection not reusable: ", finished_.message()));
  }
  // The previous reply's bytes go now, so its views lived until this call.
  // reset() makes whichever reader the caller passes forget them too.
  in_.consume(previous_size_);
  previous_size_ = 0;
  reader.reset();
  reader.set_request_method(method);
  http::Progress p = reader.next(in_);
  bool eof = false;
  while (p == http::Progress::NeedMore) {
    absl::StatusOr<std::size_t> n = stream_.read(in_);
    if (!n.ok()) return finish(n.status());
    if (*n == 0) {
      eof = true;
      p = reader.finish(in_);
    } else {
      p = reader.next(in_);
    }
  }
  if (p == http::Progress::Failed) return finish(response_error(reader.error()));
  previous_size_ = reader.message_size();
  if (eof || !reader.keep_alive()) {
    finish(absl::UnavailableError(eof ? "server closed the connection"
                                      : "server asked to close the connection (Connection: close)"));
    stream_.close_write();
  }
  return HttpResponse{reader.status(), reader.reason(), reader.headers(), reader.body(), reader.keep_alive()};
}

}  // namespace tern::posix
