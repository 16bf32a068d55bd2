// File: channel.h
//
// Channel is the byte path between a transport and a plaintext endpoint (a
// ws::Connection, an http::ClientConnection, or any object with a ReadBuf
// and a queue of bytes to send): plain, where bytes pass straight through
// with no copy, or TLS, where a TlsCodec sits between them. It is written
// once, sans-IO, so that no backend has its own TLS loop and a plain
// connection pays nothing for the abstraction.
//
// Inbound, a backend loops:
//   pull(plaintext)          Data: plaintext grew, parse it. Input: read the
//                            network. Flush: send output() first. Closed:
//                            the peer ended the stream (EOF or TLS
//                            close_notify). Full: plaintext has no room.
//                            Failed: codec()->error() says why.
//   read_space(plaintext)    where to read the network's bytes;
//   received(n, plaintext)   n bytes arrived there; received_eof() at EOF.
// Outbound, for a Source with pending_output() and consume_output(n):
//   output(source)           the bytes to write to the network now (plain:
//                            the source's own bytes; TLS: ciphertext, after
//                            encrypting what the ring takes from the source);
//   written(source, n)       the transport took n of them.
// After every pull() that is not Data, and after queuing bytes, write
// output() until it is empty: TLS handshake messages, alerts and key-update
// replies appear there too. The TLS handshake runs inside this loop; a
// caller that wants it done first loops on handshake().
//
// Ownership: a plain Channel owns nothing; a TLS one owns its TlsCodec.
// read_space() and output() stay valid until the next call on the channel
// or on the source. pull() and read_space() may compact the plaintext
// buffer: call them only when no view into it is live (after the endpoint's
// next() reported nothing new).
//
//   auto ch = tern::tls::Channel::for_url(url, &config);       // plain or TLS
//   for (auto out = ch->output(conn); !out.empty(); out = ch->output(conn))
//     ch->written(conn, send(fd, out));
#ifndef TERN_CORE_TLS_CHANNEL_H_
#define TERN_CORE_TLS_CHANNEL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/buf/read_buf.h"
#include "core/tls/tls_codec.h"
#include "core/tls/tls_config.h"
#include "core/url/url.h"

namespace tern::tls {

enum class Pull : std::uint8_t {
  Data,    // plaintext grew
  Input,   // nothing buffered: read the network
  Flush,   // the codec must send before it can go on: write output(), pull again
  Closed,  // the peer ended the stream; no more plaintext
  Full,    // the plaintext buffer has no room, even compacted
  Failed,  // TLS failed: codec()->error(), codec()->reason()
};
std::string_view name(Pull pull) noexcept;

class Channel {
 public:
  // Bytes pass through untouched.
  static Channel plain() noexcept { return Channel(); }
  // TLS client for `host` (SNI and certificate name), server over `config`.
  static absl::StatusOr<Channel> client(const TlsConfig& config, std::string_view host);
  static absl::StatusOr<Channel> server(const TlsConfig& config);
  // The one place a client decides between plain and TLS: TLS for wss://
  // and https:// with `config`, or the system trust store (loaded once per
  // process) when it is null.
  static absl::StatusOr<Channel> for_url(const Url& url, const TlsConfig* config);

  Channel(Channel&&) noexcept = default;
  Channel& operator=(Channel&&) noexcept = default;

  bool secure() const noexcept { return codec_.has_value(); }
  TlsCodec* codec() noexcept { return codec_ ? &*codec_ : nullptr; }
  const TlsCodec* codec() const noexcept { return codec_ ? &*codec_ : nullptr; }
  bool failed() const noexcept { return codec_ && codec_->failed(); }

  // Advances the TLS handshake (Done at once when plain): NeedsWrite (write
  // output()), NeedsRead (read the network, received()), Done or Failed.
  Progress handshake() noexcept;

  // --- inbound ----------------------------------------------------------
  Pull pull(ReadBuf& plaintext) noexcept;
  std::span<std::uint8_t> read_space(ReadBuf& plaintext) noexcept;
  void received(std::size_t n, ReadBuf& plaintext) noexcept;
  void received_eof() noexcept;

  // --- outbound ---------------------------------------------------------
  template <typename Source>
  std::span<const std::uint8_t> output(Source& source) noexcept;
  template <typename Source>
  void written(Source& source, std::size_t n) noexcept;
  // TLS: queues close_notify (RFC 8446 §6.1) for output(): NeedsWrite
  // until it is queued and written (write output(), call again), then
  // Done. Plain: Done.
  Progress close_notify() noexcept;

 private:
  Channel() = default;
  explicit Channel(TlsCodec codec) noexcept : codec_(std::move(codec)) {}
  Pull pull_tls(ReadBuf& plaintext) noexcept;
  // Drives the handshake until it is done, then hands the codec as much of
  // `plaintext` as its ring takes; returns the count taken.
  std::size_t encrypt(std::span<const std::uint8_t> plaintext) noexcept;

  std::optional<TlsCodec> codec_;
  std::size_t fresh_ = 0;  // plain: bytes received since the last pull()
  bool eof_ = false;
};

template <typename Source>
std::span<const std::uint8_t> Channel::output(Source& source) noexcept {
  if (!codec_) return source.pending_output();
  const std::span<const std::uint8_t> pending = source.pending_output();
  const std::size_t taken = encrypt(pending);
  if (taken != 0) source.consume_output(taken);
  return codec_->pending_ciphertext();
}

template <typename Source>
void Channel::written(Source& source, std::size_t n) noexcept {
  if (!codec_) {
    source.consume_output(n);
  } else {
    codec_->consume_ciphertext(n);
  }
}

}  // namespace tern::tls

#endif  // TERN_CORE_TLS_CHANNEL_H_
