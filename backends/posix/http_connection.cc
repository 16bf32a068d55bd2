#include "backends/posix/http_connection.h"

#include "absl/strings/str_cat.h"
#include "backends/status.h"
#include "backends/urls.h"
#include "core/url/url.h"

namespace tern::posix {

absl::StatusOr<HttpConnection> HttpConnection::connect(std::string_view url_text, const HttpOptions& o) {
  absl::StatusOr<Url> url = http_url(url_text);
  if (!url.ok()) return url.status();
  absl::StatusOr<Stream> stream = Stream::connect(*url, o.tls, o.socket);
  if (!stream.ok()) return stream.status();
  return HttpConnection(*std::move(stream), o, ::tern::authority(*url));
}

absl::Status HttpConnection::finish(absl::Status why) {
  if (finished_.ok()) finished_ = why;
  return why;
}

absl::Status HttpConnection::check_usable() const {
  if (!finished_.ok()) return http_not_reusable_status(finished_);
  if (!conn_.reusable()) return http_not_reusable_status(http_end_status(conn_));
  return absl::OkStatus();
}

absl::Status HttpConnection::flush() {
  const std::span<const std::uint8_t> out = conn_.pending_output();
  if (out.empty()) return absl::OkStatus();
  if (absl::Status st = stream_.write(out); !st.ok()) {
    conn_.abort();
    return finish(st);
  }
  conn_.consume_output(out.size());
  return absl::OkStatus();
}

absl::StatusOr<HttpResponse> HttpConnection::send(http::ResponseReader& reader) {
  if (absl::Status st = write_request(); !st.ok()) return st;
  return read_response(reader);
}

absl::StatusOr<HttpResponse> HttpConnection::send(std::span<const std::uint8_t> request,
                                                  http::ResponseReader& reader) {
  if (absl::Status st = write_request(request); !st.ok()) return st;
  return read_response(reader);
}

absl::Status HttpConnection::write_request() {
  if (absl::Status st = check_usable(); !st.ok()) {
    conn_.request_buffer().truncate(conn_.pending_output().size());  // drop the unsent request
    return st;
  }
  if (const http::QueueError e = conn_.queue_request(); e != http::QueueError::None) return http_queue_status(e);
  return flush();
}

absl::Status HttpConnection::write_request(std::span<const std::uint8_t> request) {
  if (absl::Status st = check_usable(); !st.ok()) return st;
  if (const http::QueueError e = conn_.queue_request(request); e != http::QueueError::None) return http_queue_status(e);
  return flush();
}

absl::StatusOr<HttpResponse> HttpConnection::read_response(http::ResponseReader& reader, http::Method) {
  return read_response(reader);
}

absl::StatusOr<HttpResponse> HttpConnection::read_response(http::ResponseReader& reader) {
  if (!finished_.ok()) return http_not_reusable_status(finished_);
  if (conn_.in_flight() == 0) {
    return absl::FailedPreconditionError("http: no request awaits a response");
  }
  http::Progress p = conn_.next(reader);
  while (p == http::Progress::NeedMore) {
    absl::StatusOr<std::size_t> n = stream_.read(conn_.read_buffer());
    if (!n.ok()) {
      conn_.abort();
      return finish(n.status());
    }
    if (*n == 0) conn_.receive_eof();
    p = conn_.next(reader);
  }
  if (p == http::Progress::Failed) return finish(http_end_status(conn_));
  if (!conn_.reusable()) {
    (void)finish(http_end_status(conn_));
    stream_.close_write();
  }
  return response_of(reader);
}

}  // namespace tern::posix
