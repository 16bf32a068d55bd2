#include "core/tls/channel.h"

#include <algorithm>

namespace tern::tls {

std::string_view name(Pull pull) noexcept {
  switch (pull) {
    case Pull::Data: return "Data";
    case Pull::Input: return "Input";
    case Pull::Flush: return "Flush";
    case Pull::Closed: return "Closed";
    case Pull::Full: return "Full";
    case Pull::Failed: return "Failed";
  }
  return "Unknown";
}

absl::StatusOr<Channel> Channel::client(const TlsConfig& config, std::string_view host) {
  absl::StatusOr<TlsCodec> codec = TlsCodec::client(config, host);
  if (!codec.ok()) return codec.status();
  return Channel(*std::move(codec));
}

absl::StatusOr<Channel> Channel::server(const TlsConfig& config) {
  absl::StatusOr<TlsCodec> codec = TlsCodec::server(config);
  if (!codec.ok()) return codec.status();
  return Channel(*std::move(codec));
}

absl::StatusOr<Channel> Channel::for_url(const Url& url, const TlsConfig* config) {
  if (!url.secure()) return plain();
  if (config != nullptr) return client(*config, url.host);
  // A TlsConfig is an immutable shared handle: the system trust store is
  // parsed once per process, not once per connection.
  static const absl::StatusOr<TlsConfig> system = TlsConfig::client().build();
  if (!system.ok()) return system.status();
  return client(*system, url.host);
}

Progress Channel::handshake() noexcept {
  if (!codec_) return Progress::Done;
  return codec_->handshake();
}

Pull Channel::pull(ReadBuf& plaintext) noexcept {
  if (codec_) return pull_tls(plaintext);
  if (fresh_ != 0) {
    fresh_ = 0;
    return Pull::Data;
  }
  if (eof_) return Pull::Closed;
  if (plaintext.spare().empty()) {
    plaintext.compact();
    if (plaintext.spare().empty()) return Pull::Full;
  }
  return Pull::Input;
}

Pull Channel::pull_tls(ReadBuf& plaintext) noexcept {
  if (plaintext.spare().empty()) plaintext.compact();
  const std::size_t before = plaintext.size();
  const Progress p = codec_->read_plaintext(plaintext);
  if (plaintext.size() > before) return Pull::Data;
  switch (p) {
    case Progress::PeerClosed: return Pull::Closed;
    case Progress::Failed: return Pull::Failed;
    case Progress::OutputFull: return Pull::Full;
    case Progress::NeedsWrite: return Pull::Flush;
    default: break;
  }
  // The handshake may have produced its next flight while reading.
  return codec_->pending_ciphertext().empty() ? Pull::Input : Pull::Flush;
}

std::span<std::uint8_t> Channel::read_space(ReadBuf& plaintext) noexcept {
  if (codec_) return codec_->ciphertext_space();
  if (plaintext.spare().empty()) plaintext.compact();
  return plaintext.spare();
}

void Channel::received(std::size_t n, ReadBuf& plaintext) noexcept {
  if (codec_) {
    codec_->commit_ciphertext(n);
    return;
  }
  if (n > plaintext.spare().size()) n = plaintext.spare().size();
  (void)plaintext.commit(n);
  fresh_ += n;
}

void Channel::received_eof() noexcept {
  eof_ = true;
  if (codec_) codec_->feed_eof();
}

std::size_t Channel::encrypt(std::span<const std::uint8_t> plaintext) noexcept {
  if (!codec_->handshake_done()) {
    if (codec_->handshake() != Progress::Done && !codec_->handshake_done()) return 0;
  }
  if (plaintext.empty()) return 0;
  // While ciphertext waits for a slow transport, encrypt only when a whole
  // record (or all that is pending) fits: records sized by whatever the
  // transport just drained would multiply the overhead (11x at 1-byte
  // writes).
  const std::size_t want = std::min(plaintext.size(), TlsCodec::kMaxRecordPlaintext) + TlsCodec::kRecordOverhead;
  if (!codec_->pending_ciphertext().empty() && codec_->outbound_room() < want) return 0;
  return codec_->write_plaintext(plaintext);
}

Progress Channel::close_notify() noexcept {
  if (!codec_) return Progress::Done;
  return codec_->shutdown();
}

}  // namespace tern::tls
