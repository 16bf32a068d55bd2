#include "backends/status.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tern {
namespace {

constexpr absl::string_view kHttpStatusPayload = "tern.dev/http-status";

absl::string_view av(std::string_view s) { return {s.data(), s.size()}; }

absl::Status handshake_status(const ws::Failure& f, ws::Role role) {
  if (f.handshake_error == ws::HandshakeError::Http) {
    if (role == ws::Role::Server && f.http_error == http::Error::UnexpectedEof) {
      return absl::UnavailableError("websocket handshake: client closed before its request ended");
    }
    return absl::InvalidArgumentError(
        absl::StrCat("websocket handshake: malformed HTTP (", av(http::name(f.http_error)), ")"));
  }
  if (f.handshake_error == ws::HandshakeError::NotSwitchingProtocols) {
    absl::Status st = absl::FailedPreconditionError(
        absl::StrCat("websocket handshake: server answered ", f.http_status, " instead of 101"));
    st.SetPayload(kHttpStatusPayload, absl::Cord(absl::StrCat(f.http_status)));
    return st;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("websocket handshake: ", av(ws::name(f.handshake_error))));
}

}  // namespace

absl::Status errno_status(int err, std::string_view what) {
  const std::string msg = absl::StrCat(av(what), ": ", std::strerror(err));
  switch (err) {
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case ENOTCONN:
      return absl::UnavailableError(msg);
    case ETIMEDOUT:
    case EAGAIN:
      return absl::DeadlineExceededError(msg);
    case EBADF:
    case EINVAL:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::UnknownError(msg);
  }
}

absl::Status url_status(std::string_view url, UrlError error) {
  return absl::InvalidArgumentError(absl::StrCat("bad URL \"", av(url), "\": ", av(name(error))));
}

absl::Status tls_status(const tls::TlsCodec& codec) {
  std::string msg = absl::StrCat("tls ", av(tls::name(codec.error())));
  if (!codec.reason().empty()) absl::StrAppend(&msg, ": ", av(codec.reason()));
  switch (codec.error()) {
    case tls::Error::TruncatedStream:
      return absl::UnavailableError(msg);
    case tls::Error::InternalError:
      return absl::InternalError(msg);
    default:
      // Certificate and protocol failures: retrying the same peer will not help.
      return absl::PermissionDeniedError(msg);
  }
}

absl::Status websocket_failure_status(const ws::Connection& c) {
  const ws::Failure& f = c.failure();
  switch (f.cause) {
    case ws::FailureCause::Protocol: {
      const ws::CloseCode code = ws::close_code(f.frame_error);
      const std::string msg = absl::StrCat("websocket protocol error: ", av(ws::name(f.frame_error)),
                                           " (sent close ", static_cast<int>(code), ")");
      return code == ws::CloseCode::MessageTooBig ? absl::ResourceExhaustedError(msg)
                                                  : absl::InvalidArgumentError(msg);
    }
    case ws::FailureCause::Handshake:
      return handshake_status(f, c.role());
    case ws::FailureCause::ConnectionLost:
      return absl::UnavailableError("connection closed without a close frame (1006)");
    case ws::FailureCause::HandshakeTimeout:
      return absl::DeadlineExceededError(absl::StrCat(
          "websocket handshake timed out after ", absl::FormatDuration(c.timeout())));
    case ws::FailureCause::CloseTimeout:
      return absl::DeadlineExceededError(absl::StrCat(
          "websocket close: no Close from the peer within ", absl::FormatDuration(c.timeout())));
    case ws::FailureCause::Aborted:
      return absl::UnavailableError("websocket connection aborted");
    case ws::FailureCause::None:
      break;
  }
  return absl::OkStatus();
}

std::optional<int> handshake_http_status(const absl::Status& status) {
  const absl::optional<absl::Cord> p = status.GetPayload(kHttpStatusPayload);
  int code = 0;
  if (!p || !absl::SimpleAtoi(std::string(*p), &code)) return std::nullopt;
  return code;
}

absl::Status websocket_send_status(const ws::EncodeResult& r) {
  const std::string msg = absl::StrCat("websocket send: ", av(ws::name(r.error)));
  return r.error == ws::Error::DestinationTooSmall ? absl::ResourceExhaustedError(msg)
                                                   : absl::InvalidArgumentError(msg);
}

absl::Status websocket_peer_closed_status(ws::CloseCode code) {
  return absl::FailedPreconditionError(
      absl::StrCat("websocket closed by peer with ", static_cast<int>(code)));
}

absl::Status http_response_status(http::Error e) {
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

absl::Status http_end_status(const http::ClientConnection& c) {
  switch (c.end_reason()) {
    case http::EndReason::ConnectionClose:
      return absl::UnavailableError("server asked to close the connection (Connection: close)");
    case http::EndReason::CloseDelimited:
    case http::EndReason::PeerClosed:
      return absl::UnavailableError("server closed the connection");
    case http::EndReason::Upgraded:
      return absl::FailedPreconditionError("server switched protocols (101): no longer HTTP");
    case http::EndReason::BadResponse:
      return http_response_status(c.response_error());
    case http::EndReason::UnsolicitedResponse:
      return absl::InvalidArgumentError("http: bad response: bytes with no request in flight");
    case http::EndReason::Aborted:
      return absl::UnavailableError("http connection aborted");
    case http::EndReason::None:
      break;
  }
  return absl::OkStatus();
}

absl::Status http_queue_status(http::QueueError e) {
  const std::string msg = absl::StrCat("http request: ", av(http::name(e)));
  return e == http::QueueError::BufferFull || e == http::QueueError::TooManyInFlight
             ? absl::ResourceExhaustedError(msg)
             : absl::InvalidArgumentError(msg);
}

absl::Status http_not_reusable_status(const absl::Status& why) {
  return absl::FailedPreconditionError(absl::StrCat("connection not reusable: ", why.message()));
}

}  // namespace tern
