#include "backends/posix/stream.h"

#include "absl/strings/str_cat.h"
#include "backends/status.h"

namespace tern::posix {
namespace {

// The bytes of one write() call, as a Channel source.
struct SpanSource {
  std::span<const std::uint8_t> bytes;
  std::span<const std::uint8_t> pending_output() const noexcept { return bytes; }
  void consume_output(std::size_t n) noexcept { bytes = bytes.subspan(n); }
};

}  // namespace

absl::Status Stream::poison(absl::Status s) {
  if (poison_.ok()) poison_ = s;
  return s;
}

absl::Status Stream::tls_failure() {
  // The codec may hold an alert telling the peer why; send it if we can.
  (void)flush_channel();
  return poison(tls_status(*channel_.codec()));
}

absl::Status Stream::flush_channel() {
  SpanSource nothing;
  for (;;) {
    std::span<const std::uint8_t> out = channel_.output(nothing);
    if (out.empty()) return absl::OkStatus();
    if (absl::Status st = socket_.write_all(out); !st.ok()) return poison(st);
    channel_.written(nothing, out.size());
  }
}

absl::Status Stream::handshake() {
  for (;;) {
    const tls::Progress p = channel_.handshake();
    if (absl::Status st = flush_channel(); !st.ok()) return st;
    if (p == tls::Progress::Done) return absl::OkStatus();
    if (p == tls::Progress::Failed) return tls_failure();
    if (p == tls::Progress::NeedsWrite) continue;
    // Ciphertext goes to the codec's ring: no plaintext buffer is involved.
    std::span<std::uint8_t> space = channel_.codec()->ciphertext_space();
    absl::StatusOr<std::size_t> n = socket_.read_some(space);
    if (!n.ok()) return poison(n.status());
    if (*n == 0) {
      return poison(absl::UnavailableError("tls handshake: peer closed the connection"));
    }
    channel_.codec()->commit_ciphertext(*n);
  }
}

absl::StatusOr<Stream> Stream::tls_client(Socket socket, const tls::TlsConfig& config,
                                          std::string_view host) {
  absl::StatusOr<tls::Channel> channel = tls::Channel::client(config, host);
  if (!channel.ok()) return channel.status();
  Stream s(std::move(socket), *std::move(channel));
  if (absl::Status st = s.handshake(); !st.ok()) return st;
  return s;
}

absl::StatusOr<Stream> Stream::connect(const Url& url, const tls::TlsConfig* tls,
                                       const SocketOptions& options) {
  absl::StatusOr<tls::Channel> channel = tls::Channel::for_url(url, tls);
  if (!channel.ok()) return channel.status();
  absl::StatusOr<Socket> socket = Socket::connect(url.host, url.port, options);
  if (!socket.ok()) return socket.status();
  Stream s(*std::move(socket), *std::move(channel));
  if (absl::Status st = s.handshake(); !st.ok()) return st;
  return s;
}

absl::StatusOr<Stream> Stream::tls_server(Socket socket, const tls::TlsConfig& config) {
  absl::StatusOr<tls::Channel> channel = tls::Channel::server(config);
  if (!channel.ok()) return channel.status();
  Stream s(std::move(socket), *std::move(channel));
  if (absl::Status st = s.handshake(); !st.ok()) return st;
  return s;
}

absl::StatusOr<std::size_t> Stream::read(ReadBuf& buf) {
  if (!poisoned().ok()) return poisoned();
  if (!channel_.secure()) {
    // Plain: the channel would pass the bytes straight through; skip it.
    if (buf.spare().empty()) buf.compact();
    const std::span<std::uint8_t> space = buf.spare();
    if (space.empty()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("read buffer full (", buf.capacity(), " bytes): message too large for it"));
    }
    absl::StatusOr<std::size_t> n = socket_.read_some(space);
    if (n.ok()) (void)buf.commit(*n);
    return n;
  }
  const std::size_t before = buf.size();
  for (;;) {
    switch (channel_.pull(buf)) {
      case tls::Pull::Data:
        return buf.size() - before;
      case tls::Pull::Closed:
        return std::size_t{0};
      case tls::Pull::Failed:
        return tls_failure();
      case tls::Pull::Full:
        return absl::ResourceExhaustedError("read buffer full");
      case tls::Pull::Flush:
        if (absl::Status st = flush_channel(); !st.ok()) return st;
        continue;
      case tls::Pull::Input:
        break;
    }
    std::span<std::uint8_t> space = channel_.read_space(buf);
    if (space.empty()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("read buffer full (", buf.capacity(), " bytes): message too large for it"));
    }
    absl::StatusOr<std::size_t> n = socket_.read_some(space);
    if (!n.ok()) return poison(n.status());
    if (*n == 0) {
      channel_.received_eof();
    } else {
      channel_.received(*n, buf);
    }
  }
}

absl::Status Stream::write(std::span<const std::uint8_t> bytes) {
  if (!poisoned().ok()) return poisoned();
  if (!channel_.secure()) return socket_.write_all(bytes);  // plain: nothing to encrypt
  SpanSource source{bytes};
  for (;;) {
    std::span<const std::uint8_t> out = channel_.output(source);
    if (out.empty()) {
      if (source.bytes.empty()) return absl::OkStatus();
      if (channel_.failed()) return tls_failure();
      // Nothing accepted with nothing to flush: the codec will never take it.
      return poison(absl::FailedPreconditionError("tls: write after shutdown"));
    }
    if (absl::Status st = socket_.write_all(out); !st.ok()) return poison(st);
    channel_.written(source, out.size());
  }
}

void Stream::close_write() noexcept {
  if (channel_.secure() && !channel_.failed()) {
    while (channel_.close_notify() == tls::Progress::NeedsWrite) {
      if (!flush_channel().ok()) break;
    }
    (void)flush_channel();
  }
  socket_.shutdown_write();
}

}  // namespace tern::posix
