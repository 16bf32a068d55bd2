#include "backends/posix/stream.h"

#include "absl/strings/str_cat.h"

namespace tern::posix {
namespace {
absl::string_view av(std::string_view s) { return {s.data(), s.size()}; }
}  // namespace

absl::Status Stream::poison(absl::Status s) {
  if (poison_.ok()) poison_ = s;
  return s;
}

absl::Status Stream::tls_failure() {
  // The codec may hold an alert telling the peer why; send it if we can.
  (void)flush_tls();
  const tls::TlsCodec& c = *tls_;
  const absl::string_view cause = av(tls::name(c.error()));
  std::string msg = absl::StrCat("tls ", cause);
  if (!c.reason().empty()) absl::StrAppend(&msg, ": ", av(c.reason()));
  switch (c.error()) {
    case tls::Error::TruncatedStream:
      return poison(absl::UnavailableError(msg));
    case tls::Error::InternalError:
      return poison(absl::InternalError(msg));
    default:
      // Certificate and protocol failures: retrying the same peer will not help.
      return poison(absl::PermissionDeniedError(msg));
  }
}

absl::Status Stream::flush_tls() {
  for (;;) {
    std::span<const std::uint8_t> out = tls_->pending_ciphertext();
    if (out.empty()) return absl::OkStatus();
    if (absl::Status st = socket_.write_all(out); !st.ok()) return poison(st);
    tls_->consume_ciphertext(out.size());
  }
}

absl::Status Stream::handshake() {
  for (;;) {
    const tls::Progress p = tls_->handshake();
    if (absl::Status st = flush_tls(); !st.ok()) return st;
    if (p == tls::Progress::Done) return absl::OkStatus();
    if (p == tls::Progress::Failed) return tls_failure();
    if (p == tls::Progress::NeedsWrite) continue;
    std::span<std::uint8_t> space = tls_->ciphertext_space();
    absl::StatusOr<std::size_t> n = socket_.read_some(space);
    if (!n.ok()) return poison(n.status());
    if (*n == 0) {
      return poison(absl::UnavailableError("tls handshake: peer closed the connection"));
    }
    tls_->commit_ciphertext(*n);
  }
}

absl::StatusOr<Stream> Stream::tls_client(Socket socket, const tls::TlsConfig& config,
                                          std::string_view host) {
  absl::StatusOr<tls::TlsCodec> codec = tls::TlsCodec::client(config, host);
  if (!codec.ok()) return codec.status();
  Stream s(std::move(socket), *std::move(codec));
  if (absl::Status st = s.handshake(); !st.ok()) return st;
  return s;
}

absl::StatusOr<Stream> Stream::connect(const Url& url, const tls::TlsConfig* tls,
                                       const SocketOptions& options) {
  absl::StatusOr<Socket> socket = Socket::connect(url.host, url.port, options);
  if (!socket.ok()) return socket.status();
  if (!url.secure()) return Stream(*std::move(socket));
  if (tls != nullptr) return tls_client(*std::move(socket), *tls, url.host);
  // The system trust store is loaded once per process, not per connection:
  // a TlsConfig is an immutable shared handle.
  static const absl::StatusOr<tls::TlsConfig> system = tls::TlsConfig::client().build();
  if (!system.ok()) return system.status();
  return tls_client(*std::move(socket), *system, url.host);
}

absl::StatusOr<Stream> Stream::tls_server(Socket socket, const tls::TlsConfig& config) {
  absl::StatusOr<tls::TlsCodec> codec = tls::TlsCodec::server(config);
  if (!codec.ok()) return codec.status();
  Stream s(std::move(socket), *std::move(codec));
  if (absl::Status st = s.handshake(); !st.ok()) return st;
  return s;
}

absl::StatusOr<std::size_t> Stream::read(ReadBuf& buf) {
  if (!poisoned().ok()) return poisoned();
  if (buf.spare().empty()) buf.compact();
  if (buf.spare().empty()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("read buffer full (", buf.capacity(), " bytes): message too large for it"));
  }
  if (!tls_) {
    absl::StatusOr<std::size_t> n = socket_.read_some(buf.spare());
    if (n.ok() && *n > 0) (void)buf.commit(*n);
    return n;
  }
  const std::size_t before = buf.size();
  for (;;) {
    const tls::Progress p = tls_->read_plaintext(buf);
    // Key updates and post-handshake messages may need an answer.
    if (absl::Status st = flush_tls(); !st.ok()) return st;
    if (buf.size() > before) return buf.size() - before;
    switch (p) {
      case tls::Progress::PeerClosed:
        return std::size_t{0};
      case tls::Progress::Failed:
        return tls_failure();
      case tls::Progress::OutputFull:
        return absl::ResourceExhaustedError("read buffer full");
      default:
        break;
    }
    std::span<std::uint8_t> space = tls_->ciphertext_space();
    absl::StatusOr<std::size_t> n = socket_.read_some(space);
    if (!n.ok()) return poison(n.status());
    if (*n == 0) {
      tls_->feed_eof();
    } else {
      tls_->commit_ciphertext(*n);
    }
  }
}

absl::Status Stream::write(std::span<const std::uint8_t> bytes) {
  if (!poisoned().ok()) return poisoned();
  if (!tls_) return socket_.write_all(bytes);
  while (!bytes.empty()) {
    const std::size_t n = tls_->write_plaintext(bytes);
    if (n == 0) {
      if (tls_->failed()) return tls_failure();
      // Nothing accepted with nothing to flush: the codec will never take it.
      if (tls_->pending_ciphertext().empty()) {
        return poison(absl::FailedPreconditionError("tls: write after shutdown"));
      }
    }
    // The ring holds a few records at most: flush so the rest fits.
    if (absl::Status st = flush_tls(); !st.ok()) return st;
    bytes = bytes.subspan(n);
  }
  return absl::OkStatus();
}

void Stream::close_write() noexcept {
  if (tls_ && !tls_->failed()) {
    while (tls_->shutdown() == tls::Progress::NeedsWrite) {
      if (!flush_tls().ok()) break;
    }
    (void)flush_tls();
  }
  socket_.shutdown_write();
}

}  // namespace tern::posix
