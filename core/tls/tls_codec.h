// File: tls_codec.h
//
// TlsCodec is one TLS connection (client or server) as a sans-IO state
// machine: ciphertext in and out as byte spans, plaintext in from a span and
// out into a ReadBuf. It never touches a socket, so the same code runs under
// blocking sockets, epoll, Asio or a user's own transport.
//
// Ownership: the codec owns one SSL object and a BIO pair (BIO_s_bio(3)) with
// two fixed ring buffers of `buffer_size` bytes each, allocated at
// construction and never grown. It keeps its TlsConfig alive.
//
// The four byte paths:
//   network -> codec   ciphertext_space() + commit_ciphertext(n) (zero-copy:
//                      read(2) straight into the ring), or feed_ciphertext().
//   codec -> network   pending_ciphertext() + consume_ciphertext(n).
//   codec -> app       read_plaintext(ReadBuf&) decrypts into buf.spare().
//   app -> codec       write_plaintext(span) -> bytes accepted.
// After every call, drain pending_ciphertext(): handshake messages, alerts,
// key-update replies and close_notify all appear there.
//
// Views: ciphertext_space() and pending_ciphertext() stay valid until the
// next call on the codec. Both may be shorter than the data or space
// available when the ring wraps; loop until empty.
//
// Progress: handshake() reports NeedsWrite (drain pending_ciphertext()),
// NeedsRead (feed more ciphertext) or Done. read_plaintext() reports
// NeedsRead (everything fed so far is decrypted), OutputFull (the ReadBuf has
// no spare room), or PeerClosed (close_notify received, RFC 8446 §6.1).
// Failure: Progress::Failed, sticky; error() gives the cause and reason()
// OpenSSL's text. Flush pending_ciphertext() once more after a failure: it
// may hold the alert telling the peer why.
//
// Allocation: none in tern's code after construction. OpenSSL allocates its
// record buffers during the handshake and, for a TLS 1.3 client, a session
// per NewSessionTicket; see docs/perf-tls.md for what it does per record.
//
//   absl::StatusOr<TlsCodec> c = TlsCodec::client(config, "example.com");
//   while (c->handshake() != Progress::Done) { /* flush / feed */ }
//   c->write_plaintext(request);  send(c->pending_ciphertext()) ...
#ifndef TERN_CORE_TLS_TLS_CODEC_H_
#define TERN_CORE_TLS_TLS_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/status/statusor.h"
#include "core/buf/read_buf.h"
#include "core/tls/error.h"
#include "core/tls/tls_config.h"

typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace tern::tls {

enum class Progress : std::uint8_t {
  NeedsRead,   // Feed more ciphertext from the network.
  NeedsWrite,  // Send pending_ciphertext() first.
  Done,        // Handshake complete.
  OutputFull,  // The ReadBuf has no spare room: consume or compact it.
  PeerClosed,  // The peer sent close_notify; no more plaintext will come.
  Failed,      // error() and reason() say why; sticky.
};

std::string_view name(Progress progress) noexcept;

class TlsCodec {
 public:
  // Two full 16 KiB records plus overhead fit in each ring.
  static constexpr std::size_t kDefaultBufferSize = 34 * 1024;
  // Largest plaintext per record (RFC 8446 §5.1).
  static constexpr std::size_t kMaxRecordPlaintext = 16384;
  // Room kept free in the outbound ring beyond a record's plaintext: header,
  // tag, explicit nonce, CBC padding and MAC all fit.
  static constexpr std::size_t kRecordOverhead = 256;

  // A client for `host`: a DNS name (sent as SNI, RFC 6066 §3, and matched
  // against the certificate) or an IP literal ("127.0.0.1", "::1" or
  // "[::1]"; matched against iPAddress SANs, never sent as SNI). An empty host
  // is allowed only when the config does not verify certificates.
  static absl::StatusOr<TlsCodec> client(
      const TlsConfig& config, std::string_view host,
      std::size_t buffer_size = kDefaultBufferSize);
  static absl::StatusOr<TlsCodec> server(
      const TlsConfig& config, std::size_t buffer_size = kDefaultBufferSize);

  TlsCodec(TlsCodec&& other) noexcept;
  TlsCodec& operator=(TlsCodec&& other) noexcept;
  TlsCodec(const TlsCodec&) = delete;
  TlsCodec& operator=(const TlsCodec&) = delete;
  ~TlsCodec();

  // Advances the handshake with whatever ciphertext has been fed.
  Progress handshake() noexcept;
  bool handshake_done() const noexcept { return done_; }

  // --- network side ------------------------------------------------------
  // Writable space in the inbound ring; fill it, then commit_ciphertext(n).
  std::span<std::uint8_t> ciphertext_space() noexcept;
  // Marks n bytes of ciphertext_space() as received (clamped to its size).
  void commit_ciphertext(std::size_t n) noexcept;
  // Copies as much of `bytes` as fits; returns the count accepted. Offer the
  // rest again after read_plaintext()/handshake() made room.
  std::size_t feed_ciphertext(std::span<const std::uint8_t> bytes) noexcept;
  // The transport hit EOF. A later read_plaintext() reports PeerClosed if a
  // close_notify came first, else fails with TruncatedStream.
  void feed_eof() noexcept;
  // Ciphertext waiting to be sent, oldest first.
  std::span<const std::uint8_t> pending_ciphertext() noexcept;
  void consume_ciphertext(std::size_t n) noexcept;

  // --- application side --------------------------------------------------
  // Decrypts into out.spare() and commits, until no complete record is left,
  // the buffer is full, or close_notify arrives. Drives the handshake if it
  // is not done yet.
  Progress read_plaintext(ReadBuf& out) noexcept;
  // Encrypts a prefix of `bytes` into records (at most kMaxRecordPlaintext
  // each) while the outbound ring has room; returns the count accepted, 0
  // before the handshake is done, after shutdown() or failure. Bytes not
  // accepted must be offered again, like send(2): OpenSSL may already hold
  // them in a half-flushed record.
  std::size_t write_plaintext(std::span<const std::uint8_t> bytes) noexcept;
  // Bytes the outbound ring can take now (records plus their overhead).
  std::size_t outbound_room() const noexcept;
  // Queues close_notify (RFC 8446 §6.1); NeedsWrite until it is in the
  // outbound ring (then drain it), Done if nothing was sent (handshake not
  // finished), Failed after a failure. Reading may continue afterwards.
  Progress shutdown() noexcept;

  // --- state ----------------------------------------------------------------
  Role role() const noexcept { return role_; }
  bool failed() const noexcept { return error_ != Error::None; }
  Error error() const noexcept { return error_; }
  // OpenSSL's reason text for the failure (empty when none); lives as long as
  // the codec.
  std::string_view reason() const noexcept { return {reason_, reason_len_}; }
  bool peer_closed() const noexcept { return peer_closed_; }
  // Negotiated ALPN protocol, empty if none. Valid while the codec lives.
  std::string_view alpn() const noexcept;
  // Server: the SNI name the client sent, empty if none. Client: the name
  // it sent.
  std::string_view server_name() const noexcept;
  // Negotiated version; meaningful once handshake_done().
  Version version() const noexcept;
  SSL* native_handle() const noexcept { return ssl_; }

 private:
  TlsCodec(std::shared_ptr<const TlsConfig::Shared> config, Role role) noexcept
      : config_(std::move(config)), role_(role) {}
  ABSL_ATTRIBUTE_COLD absl::Status init(std::string_view host,
                                        std::size_t buffer_size);
  ABSL_ATTRIBUTE_COLD void fail(int ssl_error) noexcept;
  ABSL_ATTRIBUTE_COLD void fail_with(Error error, std::string_view why) noexcept;
  void release() noexcept;

  std::shared_ptr<const TlsConfig::Shared> config_;
  SSL* ssl_ = nullptr;
  BIO* network_ = nullptr;   // Our end of the pair; SSL owns the other end.
  BIO* internal_ = nullptr;  // SSL's end (borrowed, for pending counts).
  std::size_t retry_len_ = 0;  // Length OpenSSL must see again (partial write).
  Role role_;
  bool done_ = false;
  bool peer_closed_ = false;
  bool close_queued_ = false;  // close_notify written to the ring
  bool eof_ = false;
  Error error_ = Error::None;
  std::size_t reason_len_ = 0;
  char reason_[256] = {};
};

}  // namespace tern::tls

#endif  // TERN_CORE_TLS_TLS_CODEC_H_
