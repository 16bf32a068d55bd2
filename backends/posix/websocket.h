// File: websocket.h
//
// WebSocket is one blocking WebSocket connection for the POSIX backend,
// client or server side: connect() from a ws:// or wss:// URL, or accept()
// an already-connected socket. It owns its Stream, a fixed ReadBuf and
// WriteBuf, and the core's FrameReader/FrameWriter; all protocol decisions
// are the core's, this class only moves bytes and applies policy.
//
// recv() returns the core's zero-copy ws::Message: its payload borrows the
// connection's read buffer and stays valid until the next recv() (sending in
// between is fine). recv_owned() copies, for code that prefers ownership.
// Neither allocates per message on the zero-copy path.
//
// Policy: a Ping is answered with a Pong before recv() returns it (unless
// auto_pong is off); a Close is answered with a Close echoing its code, then
// the connection is closed and later calls fail. A protocol error from the
// reader sends the matching close code (1002, 1007, 1009) before the
// connection is dropped, and the error names the cause. close() sends a
// Close, waits up to close_timeout for the peer's, then shuts the socket.
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

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/posix/socket.h"
#include "backends/posix/stream.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/limits.h"
#include "core/tls/tls_config.h"
#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"
#include "core/ws/handshake.h"

namespace tern::posix {

struct WebSocketOptions {
  // wss:// clients: the trust settings (nullptr: the system trust store).
  // Servers: the certificate and key; nullptr serves plain ws.
  const tls::TlsConfig* tls = nullptr;
  // Largest frame and message accepted (the reader checks headers first).
  ws::Limits limits{1u << 20, 1u << 20};
  // 0: limits.max_message_size plus room for headers and interleaved
  // control frames. A message must fit the read buffer whole.
  std::size_t read_buffer_size = 0;
  // Largest frame this side can send, plus its header.
  std::size_t write_buffer_size = (1u << 20) + 64;
  SocketOptions socket;
  // Client: offered in order of preference. Server: the ones it speaks; it
  // picks the first of these that the client offered.
  std::vector<std::string> subprotocols;
  // Client: sent with the upgrade request. Server: sent with the 101.
  ws::HeaderPairs extra_headers;
  http::Limits handshake_limits;
  // Answer pings automatically.
  bool auto_pong = true;
  // How long close() waits for the peer's Close.
  absl::Duration close_timeout = absl::Seconds(5);
};

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

  struct OwnedMessage {
    ws::Opcode opcode = ws::Opcode::Binary;
    std::string payload;  // Close: the reason only
    ws::CloseCode close_code = ws::CloseCode::NoStatus;
  };
  absl::StatusOr<OwnedMessage> recv_owned();

  absl::Status send_text(std::string_view payload);
  absl::Status send_binary(std::span<const std::uint8_t> payload);
  absl::Status send_ping(std::span<const std::uint8_t> payload = {});
  absl::Status send_pong(std::span<const std::uint8_t> payload = {});

  // Close handshake (RFC 6455 §7): send Close, wait (bounded) for the peer's
  // Close, discarding data, then shut the socket. OK if the peer answered.
  absl::Status close(ws::CloseCode code = ws::CloseCode::Normal, std::string_view reason = {});

  bool is_open() const noexcept { return !closed_; }
  ws::Role role() const noexcept { return reader_.role(); }
  // The subprotocol agreed in the handshake, or empty.
  std::string_view subprotocol() const noexcept { return subprotocol_; }
  // The reader's error after a protocol violation.
  std::optional<ws::Error> protocol_error() const noexcept {
    return reader_.failed() ? std::optional<ws::Error>(reader_.error()) : std::nullopt;
  }
  Stream& stream() noexcept { return stream_; }

 private:
  WebSocket(Stream stream, ws::Role role, const WebSocketOptions& o);
  absl::Status flush();
  absl::Status fail_protocol();
  absl::Status closed_error() const;

  Stream stream_;
  ReadBuf in_;
  WriteBuf out_;
  ws::FrameReader reader_;
  ws::FrameWriter writer_;
  std::string subprotocol_;
  bool auto_pong_;
  absl::Duration close_timeout_;
  bool close_sent_ = false;
  bool closed_ = false;
  absl::Status close_reason_;
};

}  // namespace tern::posix

#endif  // TERN_BACKENDS_POSIX_WEBSOCKET_H_
