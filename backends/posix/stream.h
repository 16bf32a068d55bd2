// File: stream.h
//
// Stream is one connected byte stream for the POSIX backend: a Socket and a
// tls::Channel (plain, or TLS for wss:// and https://). Everything above it
// (WebSocket, HTTP) reads plaintext into a ReadBuf and writes plaintext
// spans, the same code with or without TLS; the TLS loop itself is the
// core's Channel, shared with every backend. What is left here is blocking.
//
// Ownership: the Stream owns the socket and the channel (and its codec). It
// holds no application bytes: read() appends to the caller's ReadBuf.
//
// Failure: the first I/O or TLS error poisons the stream; every later call
// returns that error. TLS failures carry the tls::Error name and OpenSSL's
// reason text (e.g. "tls HostnameMismatch: certificate verify failed").
#ifndef TERN_BACKENDS_POSIX_STREAM_H_
#define TERN_BACKENDS_POSIX_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/posix/socket.h"
#include "core/buf/read_buf.h"
#include "core/tls/channel.h"
#include "core/tls/tls_codec.h"
#include "core/tls/tls_config.h"
#include "core/url/url.h"

namespace tern::posix {

class Stream {
 public:
  // Plain TCP.
  explicit Stream(Socket socket) noexcept
      : socket_(std::move(socket)), channel_(tls::Channel::plain()) {}

  // Connects to url's host and port, with TLS when the scheme is wss or
  // https (`tls`, or the system trust store when null: the core's
  // Channel::for_url decides), handshake completed before returning.
  static absl::StatusOr<Stream> connect(const Url& url, const tls::TlsConfig* tls,
                                        const SocketOptions& options);

  // TLS client over a connected socket: SNI and hostname (or IP) checks for
  // `host`, handshake completed before returning.
  static absl::StatusOr<Stream> tls_client(Socket socket, const tls::TlsConfig& config,
                                           std::string_view host);
  // TLS server over an accepted socket, handshake completed before returning.
  static absl::StatusOr<Stream> tls_server(Socket socket, const tls::TlsConfig& config);

  // Appends at least one byte of plaintext to `buf` (compacting it first if
  // its tail is full), blocking up to the socket's read timeout. Returns the
  // count added; 0 means the peer closed cleanly (EOF, or TLS close_notify).
  // ResourceExhausted if `buf` is full even after compaction.
  absl::StatusOr<std::size_t> read(ReadBuf& buf);

  // Sends all of `bytes` (encrypting first under TLS).
  absl::Status write(std::span<const std::uint8_t> bytes);

  // Ends our direction: TLS close_notify (flushed), then shutdown(SHUT_WR).
  void close_write() noexcept;

  bool secure() const noexcept { return channel_.secure(); }
  tls::TlsCodec* tls() noexcept { return channel_.codec(); }
  Socket& socket() noexcept { return socket_; }
  // The error that poisoned the stream, or OK.
  const absl::Status& poisoned() const noexcept {
    return poison_.ok() ? socket_.poisoned() : poison_;
  }

 private:
  Stream(Socket socket, tls::Channel channel) noexcept
      : socket_(std::move(socket)), channel_(std::move(channel)) {}
  absl::Status handshake();
  // Writes whatever the channel has for the network (TLS records).
  absl::Status flush_channel();
  absl::Status tls_failure();
  absl::Status poison(absl::Status s);

  Socket socket_;
  tls::Channel channel_;
  absl::Status poison_;
};

}  // namespace tern::posix

#endif  // TERN_BACKENDS_POSIX_STREAM_H_
