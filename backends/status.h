// File: status.h
//
// The one table that turns the core's precise causes (ws::Failure,
// ws::Error, http::Error, http::EndReason, tls::Error, UrlError) and errno
// into absl::Status, for every backend. A caller branches on the code and
// logs the message, which names the cause:
//
//   kUnavailable        the peer or network went away (refused, reset, EOF
//                       mid-message, a TLS stream cut, a Close never sent)
//   kDeadlineExceeded   a connect, read, write, handshake or close timeout
//   kPermissionDenied   TLS certificate or protocol failure
//   kInvalidArgument    bad URL; the peer broke HTTP or WebSocket
//   kResourceExhausted  a limit (body, head, message, frame, buffer)
//   kFailedPrecondition misuse, a finished connection, a refused upgrade
//   kNotFound           name resolution failed
//   kInternal/kUnknown  OpenSSL internal failure; an errno not in the table
//
// Statuses are built on failure paths only; the hot path never builds one.
#ifndef TERN_BACKENDS_STATUS_H_
#define TERN_BACKENDS_STATUS_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "core/http/client_connection.h"
#include "core/http/error.h"
#include "core/tls/tls_codec.h"
#include "core/url/url.h"
#include "core/ws/connection.h"
#include "core/ws/frame_writer.h"

namespace tern {

// errno -> status: refused, reset, unreachable -> kUnavailable; ETIMEDOUT
// and EAGAIN -> kDeadlineExceeded; EBADF/EINVAL -> kFailedPrecondition.
absl::Status errno_status(int err, std::string_view what);

// InvalidArgument: bad URL "<url>": <UrlError>.
absl::Status url_status(std::string_view url, UrlError error);

// Why a TLS codec failed, with OpenSSL's reason.
absl::Status tls_status(const tls::TlsCodec& codec);

// Why a WebSocket connection is Failed (not for FailureCause::Aborted,
// whose status is the transport's own). A server that answered the upgrade
// with another status (429, 503, ...) has it attached as a payload:
// handshake_http_status() reads it back.
absl::Status websocket_failure_status(const ws::Connection& connection);
// The HTTP status a server refused the WebSocket upgrade with, if `status`
// says so (a session backs off harder on 429/418/503).
std::optional<int> handshake_http_status(const absl::Status& status);
// Why a send was refused (not for Error::NotOpen: the caller knows why).
absl::Status websocket_send_status(const ws::EncodeResult& result);
// Later calls after the peer's Close.
absl::Status websocket_peer_closed_status(ws::CloseCode code);

// A response the reader refused.
absl::Status http_response_status(http::Error error);
// Why an HTTP connection takes no more requests (not for Aborted).
absl::Status http_end_status(const http::ClientConnection& connection);
// A request on a connection that has ended for `why`.
absl::Status http_not_reusable_status(const absl::Status& why);
// Why ClientConnection::queue_request() refused a request.
absl::Status http_queue_status(http::QueueError error);

}  // namespace tern

#endif  // TERN_BACKENDS_STATUS_H_
