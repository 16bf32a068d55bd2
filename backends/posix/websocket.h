// File: websocket.h
//
// WebSocket is one blocking WebSocket connection for the POSIX backend,
// client or server side: connect() from a ws:// or wss:// URL, or accept()
// an already-connected socket. It owns its Stream and the core's
// ws::Connection, which owns the buffers and makes every protocol decision
// (handshake, Pong replies, the Close echo, close codes for failures); this
// class only moves bytes between them, blocking, and keeps time.
//
// recv() returns the core's zero-copy ws::Message: its payload borrows the
// connection's read buffer and stays valid until the next recv() (sending in
// between is fine). recv_owned() copies, for code that prefers ownership.
// Neither allocates per message on the zero-copy path.
//
// Behaviour (the core's): a Ping is answered with a Pong before recv()
// returns it (unless auto_pong is off); a Close is answered with a Close
// echoing its code, then the connection is closed and later calls fail. A
// protocol error from the reader sends the matching close code (1002, 1007,
// 1009) before the connection is dropped, and the error names the cause.
// close() sends a Close, waits up to close_timeout for the peer's, then
// shuts the socket.
//
//   auto ws = tern::posix::WebSocket::connect("wss://feed.example/v1", {.tls = &cfg});
//   ws->send_text(R"({"op":"subscribe","channel":"trades"})");
//   for (;;) { auto m = ws->recv(); if (!m.ok()) break; handle(m->payload); }
#ifndef TERN_BACKENDS_POSIX_WEBSOCKET_H_
#define TERN_BACKENDS_POSIX_WEBSOCKET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/posix/socket.h"
#include "backends/posix/stream.h"
#include "backends/options.h"
#include "backends/owned_message.h"
#include "core/ws/connection.h"
#include "core/ws/frame_reader.h"

namespace tern::posix {

// TLS, limits, buffer sizes, socket options, subprotocols, extra headers,
// auto_pong and the handshake and close timeouts: the options every backend
// shares (backends/options.h).
using WebSocketOptions = ::tern::WebSocketOptions;

class WebSocket {
 public:
  static absl::StatusOr<WebSocket> connect(std::string_view url, const WebSocketOptions& options = {});
  static absl::StatusOr<WebSocket> accept(Socket socket, const WebSocketOptions& options = {});

  WebSocket(WebSocket&&) noexcept = default;
  WebSocket& operator=(WebSocket&&) noexcept = default;

  // The next message: Text, Binary, Ping, Pong or Close. Errors: the peer
  // vanished (kUnavailable), a read timeout (kDeadlineExceeded), a protocol
  // violation (kInvalidArgument, or kResourceExhausted for size limits),
  // use after close (kFailedPrecondition).
  absl::StatusOr<ws::Message> recv();

  // A message copied out of the read buffer (backends/owned_message.h).
  using OwnedMessage = ::tern::OwnedMessage;
  absl::StatusOr<OwnedMessage> recv_owned();

  absl::Status send_text(std::string_view payload);
  absl::Status send_binary(std::span<const std::uint8_t> payload);
  absl::Status send_ping(std::span<const std::uint8_t> payload = {});
  absl::Status send_pong(std::span<const std::uint8_t> payload = {});

  // Batched writes: queue frames without writing (a full buffer is written
  // out first), then flush() sends everything queued with one send(2).
  absl::Status queue_text(std::string_view payload);
  absl::Status queue_binary(std::span<const std::uint8_t> payload);
  absl::Status flush();

  // Close handshake (RFC 6455 §7): send Close, wait (bounded) for the peer's
  // Close, discarding data, then shut the socket. OK if the peer answered.
  absl::Status close(ws::CloseCode code = ws::CloseCode::Normal, std::string_view reason = {});

  // Waiting without a read timeout, for a loop that has deadlines of its
  // own (the resilient session's): true when the next recv() will not block
  // for its first byte, because a whole event (message, Close, failure) is
  // already buffered, the connection has ended, or poll(2) says the socket
  // is readable within `timeout` (zero: only look); false when `timeout`
  // passes first. Unlike a read that times out, it never poisons the
  // connection. It ends the previous message's view, as recv() does: a
  // buffered event is taken from the core now and returned by the next
  // recv(). (Bytes poll(2) reports may be part of a frame; recv() then
  // waits, up to the read timeout, for the rest.)
  absl::StatusOr<bool> wait_readable(absl::Duration timeout) {
    if (event_ready()) return true;  // inline: the per-message case of a reading loop
    return wait_socket(timeout);
  }
  // The same over several connections at once (a session reads both of a
  // rotation's), and `wake_fd` if it is not -1 (an eventfd or pipe another
  // thread writes to; the caller reads it): sets ready[i] for each
  // connection that is ready, without a syscall if one already has an event
  // buffered, and ready[connections.size()], if `ready` has that entry,
  // when wake_fd is readable. True unless `timeout` passed with nothing
  // ready. At most kMaxWaited connections.
  static constexpr std::size_t kMaxWaited = 15;
  static absl::StatusOr<bool> wait_readable(std::span<WebSocket* const> connections, std::span<bool> ready,
                                            absl::Duration timeout, int wake_fd = -1);

  bool is_open() const noexcept { return conn_.is_open(); }
  ws::Role role() const noexcept { return conn_.role(); }
  // The subprotocol agreed in the handshake, or empty.
  std::string_view subprotocol() const noexcept { return conn_.subprotocol(); }
  // The reader's error after a protocol violation.
  std::optional<ws::Error> protocol_error() const noexcept {
    return conn_.failure().cause == ws::FailureCause::Protocol
               ? std::optional<ws::Error>(conn_.failure().frame_error)
               : std::nullopt;
  }
  Stream& stream() noexcept { return stream_; }
  // The core connection this class drives.
  const ws::Connection& connection() const noexcept { return conn_; }

 private:
  WebSocket(Stream stream, ws::Connection conn) : stream_(std::move(stream)), conn_(std::move(conn)) {}
  // Runs the opening handshake to Open or failure by `deadline`, then sets
  // the socket's read timeout to `read_timeout`.
  absl::Status open(absl::Time deadline, absl::Duration read_timeout);
  absl::Status send(const ws::EncodeResult& queued);
  template <typename Encode>
  absl::Status queue(Encode encode);
  // One blocking read into the connection; EOF is reported to it.
  absl::Status read_more();
  // Ends the connection with `why`: what the core queued goes out, then
  // our side of the stream closes. Returns why.
  absl::Status finish(absl::Status why);
  absl::Status closed_error() const;
  // wait_readable() without the poll: an event is buffered (then taken into
  // peeked_), or the connection has ended.
  bool event_ready() noexcept {
    if (peeked_.has_value()) return true;
    const ws::State state = conn_.state();
    if (ABSL_PREDICT_FALSE(state != ws::State::Open && state != ws::State::Closing)) return true;
    if (conn_.read_buffer().empty()) return false;
    // Bytes are buffered: a whole event, or part of a frame (then wait).
    const ws::Event e = conn_.next();
    if (e.type == ws::EventType::None) return false;
    peeked_ = e;
    return true;
  }
  // poll(2) on the socket alone.
  absl::StatusOr<bool> wait_socket(absl::Duration timeout);

  Stream stream_;
  ws::Connection conn_;
  absl::Status close_reason_;
  // An event wait_readable() took from the core; recv() returns it first.
  std::optional<ws::Event> peeked_;
};

}  // namespace tern::posix

#endif  // TERN_BACKENDS_POSIX_WEBSOCKET_H_
